"""TEST DOUBLE of the Python storage wrapper (the real ones live with the
providers and talk to S3/Blob). It keeps SeBS's API and key naming but stores
objects as files: <SEBS_TEST_STORAGE_DIR>/<bucket>/<key>. Tests copy it next
to a benchmark's function.py so that the function runs unchanged."""
import os
import shutil
import uuid


class storage:
    instance = None

    def __init__(self):
        root = os.environ.get("SEBS_TEST_STORAGE_DIR")
        if not root:
            raise RuntimeError("storage test double: set SEBS_TEST_STORAGE_DIR to the directory that holds the buckets")
        self.root = root

    @staticmethod
    def unique_name(name):
        """SeBS's naming: dir/name.ext -> dir/name.<uuid8>.ext"""
        stem, ext = os.path.splitext(name)
        return "{}.{}{}".format(stem, str(uuid.uuid4())[0:8], ext)

    def _path(self, bucket, key):
        bucket_dir = os.path.realpath(os.path.join(self.root, bucket))
        path = os.path.realpath(os.path.join(bucket_dir, key))
        # Keys are paths inside the bucket; refuse anything that escapes it.
        if not path.startswith(bucket_dir + os.sep):
            raise ValueError("storage test double: invalid key '{}'".format(key))
        return path

    def upload(self, bucket, key, filepath):
        unique_key = storage.unique_name(key)
        dest = self._path(bucket, unique_key)
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        shutil.copyfile(filepath, dest)
        return unique_key

    def download(self, bucket, key, filepath):
        src = self._path(bucket, key)
        parent = os.path.dirname(filepath)
        if parent:
            os.makedirs(parent, exist_ok=True)
        shutil.copyfile(src, filepath)

    def download_directory(self, bucket, prefix, path):
        bucket_dir = os.path.realpath(os.path.join(self.root, bucket))
        for current, _dirs, files in os.walk(self._path(bucket, prefix)):
            for name in files:
                # Like SeBS: the local path keeps the whole object key.
                key = os.path.relpath(os.path.join(current, name), bucket_dir).replace(os.sep, "/")
                self.download(bucket, key, os.path.join(path, key))

    def upload_stream(self, bucket, key, data):
        unique_key = storage.unique_name(key)
        dest = self._path(bucket, unique_key)
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        # SeBS's callers pass bytes or a BytesIO; accept both.
        payload = data.getvalue() if hasattr(data, "getvalue") else data
        with open(dest, "wb") as f:
            f.write(payload)
        return unique_key

    def download_stream(self, bucket, key):
        with open(self._path(bucket, key), "rb") as f:
            return f.read()

    @staticmethod
    def get_instance():
        if storage.instance is None:
            storage.instance = storage()
        return storage.instance
