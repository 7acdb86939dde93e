"""TEST DOUBLE, not a storage backend: a filesystem-backed stand-in for the
storage wrapper (SeBS's Python storage API), so 311.compression's function
can run in tests without an S3 server. Buckets are directories under
$SEBS_TEST_STORAGE_DIR; object keys are paths below them. Uploads get the
unique `name.<8 hex>.ext` keys the real wrappers give."""
import os
import shutil
import uuid


class storage:
    instance = None

    def __init__(self):
        root = os.environ.get("SEBS_TEST_STORAGE_DIR")
        if not root:
            raise RuntimeError("SEBS_TEST_STORAGE_DIR is not set: the test storage double needs a directory")
        self.root = root

    @staticmethod
    def unique_name(name):
        base, ext = os.path.splitext(name)
        return "{}.{}{}".format(base, uuid.uuid4().hex[:8], ext)

    def _path(self, bucket, key):
        return os.path.join(self.root, bucket, *key.split("/"))

    def upload(self, bucket, file, filepath):
        key = self.unique_name(file)
        target = self._path(bucket, key)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        shutil.copyfile(filepath, target)
        return key

    def download(self, bucket, file, filepath):
        os.makedirs(os.path.dirname(filepath) or ".", exist_ok=True)
        shutil.copyfile(self._path(bucket, file), filepath)

    def download_directory(self, bucket, prefix, path):
        base = os.path.join(self.root, bucket)
        for dirpath, _dirs, files in os.walk(base):
            for name in files:
                key = os.path.relpath(os.path.join(dirpath, name), base).replace(os.sep, "/")
                if key.startswith(prefix):
                    self.download(bucket, key, os.path.join(path, *key.split("/")))

    def upload_stream(self, bucket, file, data):
        key = self.unique_name(file)
        target = self._path(bucket, key)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "wb") as out:
            out.write(data)
        return key

    def download_stream(self, bucket, file):
        with open(self._path(bucket, file), "rb") as source:
            return source.read()

    @staticmethod
    def get_instance():
        if storage.instance is None:
            storage.instance = storage()
        return storage.instance
