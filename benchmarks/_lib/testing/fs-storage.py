"""TEST STAND-IN, not a storage backend: a filesystem-backed replacement for
the Python storage module (providers/storage/wrappers/s3/python/storage.py)
with the same API and the same semantics, so that a benchmark's function.py
runs unchanged in tests without an S3 server. runFunction() copies it into
the package as function/storage.py.

Objects are files: <SEBS_TEST_STORAGE_DIR>/<bucket>/<key> (the layout of
createFsStorage() on the test side). Uploads get SeBS's unique keys
(dir/name.<8 hex>.ext); download_directory keeps the whole key below the
target path, as SeBS (and the real module) do.
"""
import os
import shutil
import uuid


class storage:
    instance = None

    def __init__(self):
        root = os.environ.get('SEBS_TEST_STORAGE_DIR')
        if not root:
            raise RuntimeError('storage stand-in: set SEBS_TEST_STORAGE_DIR to the directory that holds the buckets')
        self.root = os.path.realpath(root)

    @staticmethod
    def unique_name(name):
        """SeBS's key naming: dir/name.<8 hex>.ext (the path is kept)."""
        name, extension = os.path.splitext(name)
        return '{name}.{random}{extension}'.format(name=name, extension=extension, random=str(uuid.uuid4()).split('-')[0])

    def _path(self, bucket, key):
        bucket_dir = os.path.realpath(os.path.join(self.root, bucket))
        path = os.path.realpath(os.path.join(bucket_dir, *key.split('/')))
        # Keys are paths inside the bucket; refuse anything that escapes it.
        if not path.startswith(bucket_dir + os.sep):
            raise ValueError("storage stand-in: invalid key '{}'".format(key))
        return path

    def _existing(self, bucket, key):
        path = self._path(bucket, key)
        if not os.path.isfile(path):
            # What boto3 raises for a missing object is a ClientError; the message is what matters in tests.
            raise FileNotFoundError('NoSuchKey: {}/{} does not exist'.format(bucket, key))
        return path

    def upload(self, bucket, file, filepath, unique_name=True):
        """Uploads a local file; returns the key it was stored under."""
        key = storage.unique_name(file) if unique_name else file
        dest = self._path(bucket, key)
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        shutil.copyfile(filepath, dest)
        return key

    def download(self, bucket, file, filepath):
        src = self._existing(bucket, file)
        parent = os.path.dirname(filepath)
        if parent:
            os.makedirs(parent, exist_ok=True)
        shutil.copyfile(src, filepath)

    def list_directory(self, bucket, prefix):
        """Yields the keys that start with prefix (a string prefix, as in S3), sorted."""
        bucket_dir = os.path.realpath(os.path.join(self.root, bucket))
        keys = []
        for current, _dirs, files in os.walk(bucket_dir):
            for name in files:
                key = os.path.relpath(os.path.join(current, name), bucket_dir).replace(os.sep, '/')
                if key.startswith(prefix):
                    keys.append(key)
        return iter(sorted(keys))

    def download_directory(self, bucket, prefix, path):
        """Downloads every object below prefix to path/<key> (SeBS: the whole key is kept)."""
        root = os.path.realpath(path)
        for key in self.list_directory(bucket, prefix):
            dest = os.path.realpath(os.path.join(path, key))
            if dest != root and not dest.startswith(root + os.sep):
                raise ValueError("storage.download_directory: key '{}' would be written outside {}".format(key, root))
            self.download(bucket, key, dest)

    def upload_stream(self, bucket, file, data):
        """Stores bytes (or a binary file-like object); returns the key it was stored under."""
        if not isinstance(data, (bytes, bytearray, memoryview)):
            data.seek(0)
            data = data.read()
        key = storage.unique_name(file)
        dest = self._path(bucket, key)
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        with open(dest, 'wb') as f:
            f.write(data)
        return key

    def download_stream(self, bucket, file):
        """Returns the object's data as bytes."""
        with open(self._existing(bucket, file), 'rb') as f:
            return f.read()

    @staticmethod
    def get_instance():
        if storage.instance is None:
            storage.instance = storage()
        return storage.instance
