"""SeBS's function-side storage API for S3-compatible endpoints (s3rver, MinIO, AWS S3).

Runs inside function instances as function/storage.py; benchmark code uses it
as ``from . import storage; client = storage.storage.get_instance()``.

Configuration, from the environment:
  SEBS_STORAGE_ENDPOINT     e.g. http://127.0.0.1:9000; unset = AWS S3 in AWS_REGION
  SEBS_STORAGE_ACCESS_KEY / SEBS_STORAGE_SECRET_KEY
                            fallback: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN
  SEBS_STORAGE_REGION       default us-east-1 (AWS_REGION when no endpoint is set)
"""
import io
import os
import uuid

import boto3
from botocore.config import Config


def _client_config(endpoint):
    options = {
        'retries': {'max_attempts': 5, 'mode': 'standard'},
    }
    if endpoint:
        options['s3'] = {'addressing_style': 'path'}
        # botocore >= 1.36 adds CRC checksums (aws-chunked trailers) to every
        # upload. s3rver 3.7.1 happens to tolerate them, but not every
        # S3-compatible server does; send checksums only where S3 requires them.
        options['request_checksum_calculation'] = 'when_required'
        options['response_checksum_validation'] = 'when_required'
    try:
        return Config(**options)
    except TypeError:
        # botocore < 1.36 has neither option and sends no such checksums.
        options.pop('request_checksum_calculation', None)
        options.pop('response_checksum_validation', None)
        return Config(**options)


class storage:
    instance = None
    client = None

    def __init__(self):
        env = os.environ
        endpoint = env.get('SEBS_STORAGE_ENDPOINT') or None
        if endpoint and '://' not in endpoint:
            endpoint = 'http://' + endpoint
        if endpoint:
            region = env.get('SEBS_STORAGE_REGION') or 'us-east-1'
        else:
            region = env.get('SEBS_STORAGE_REGION') or env.get('AWS_REGION') or 'us-east-1'
        kwargs = {}
        if env.get('SEBS_STORAGE_ACCESS_KEY'):
            kwargs['aws_access_key_id'] = env['SEBS_STORAGE_ACCESS_KEY']
            kwargs['aws_secret_access_key'] = env.get('SEBS_STORAGE_SECRET_KEY')
        elif env.get('AWS_ACCESS_KEY_ID'):
            kwargs['aws_access_key_id'] = env['AWS_ACCESS_KEY_ID']
            kwargs['aws_secret_access_key'] = env.get('AWS_SECRET_ACCESS_KEY')
            if env.get('AWS_SESSION_TOKEN'):
                kwargs['aws_session_token'] = env['AWS_SESSION_TOKEN']
        # Otherwise boto3's own chain (instance role, profile) decides.
        self.client = boto3.client(
            's3', endpoint_url=endpoint, region_name=region, config=_client_config(endpoint), **kwargs
        )

    @staticmethod
    def unique_name(name):
        """SeBS's key naming: dir/name.<8 hex>.ext (the path is kept)."""
        name, extension = os.path.splitext(name)
        return '{name}.{random}{extension}'.format(
            name=name, extension=extension, random=str(uuid.uuid4()).split('-')[0]
        )

    def upload(self, bucket, file, filepath, unique_name=True):
        """Uploads a local file; returns the key it was stored under."""
        key_name = storage.unique_name(file) if unique_name else file
        self.client.upload_file(filepath, bucket, key_name)
        return key_name

    def download(self, bucket, file, filepath):
        parent = os.path.dirname(filepath)
        if parent:
            os.makedirs(parent, exist_ok=True)
        self.client.download_file(bucket, file, filepath)

    def download_directory(self, bucket, prefix, path):
        """Downloads every object below prefix to path/<key> (SeBS: the whole key is kept)."""
        root = os.path.realpath(path)
        for key in self.list_directory(bucket, prefix):
            if key.endswith('/'):
                continue
            dest = os.path.realpath(os.path.join(path, key))
            # A key with '..' segments must not write outside the target directory.
            if dest != root and not dest.startswith(root + os.sep):
                raise ValueError("storage.download_directory: key '{}' would be written outside {}".format(key, root))
            self.download(bucket, key, dest)

    def upload_stream(self, bucket, file, data):
        """Uploads bytes (or a binary file-like object); returns the key it was stored under."""
        if isinstance(data, (bytes, bytearray, memoryview)):
            data = io.BytesIO(data)
        else:
            data.seek(0)
        key_name = storage.unique_name(file)
        self.client.upload_fileobj(data, bucket, key_name)
        return key_name

    def download_stream(self, bucket, file):
        """Returns the object's data as bytes."""
        response = self.client.get_object(Bucket=bucket, Key=file)
        return response['Body'].read()

    def list_directory(self, bucket, prefix):
        """Yields the keys below prefix (all pages)."""
        paginator = self.client.get_paginator('list_objects_v2')
        for page in paginator.paginate(Bucket=bucket, Prefix=prefix):
            for obj in page.get('Contents', []):
                yield obj['Key']

    @staticmethod
    def get_instance():
        if storage.instance is None:
            storage.instance = storage()
        return storage.instance
