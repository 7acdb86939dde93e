"""SeBS's function-side storage API on Azure Blob Storage (Azure, Azurite).

Runs inside function instances as function/storage.py; benchmark code uses it
as ``from . import storage; client = storage.storage.get_instance()``. A
"bucket" is a blob container; key prefixes are virtual directories.

Configuration: the app setting STORAGE_CONNECTION_STRING (SeBS's name), or a
connection string passed to ``get_instance``.
"""
import io
import os
import uuid

from azure.storage.blob import BlobServiceClient


class storage:
    instance = None
    client = None

    def __init__(self, connection_string=None):
        connection_string = connection_string or os.environ.get("STORAGE_CONNECTION_STRING")
        if not connection_string:
            raise RuntimeError(
                "storage: STORAGE_CONNECTION_STRING is not set "
                "(the harness sets it when the benchmark declares the storage module)"
            )
        self.client = BlobServiceClient.from_connection_string(connection_string)

    @staticmethod
    def unique_name(name):
        """SeBS's key naming: dir/name.<8 hex>.ext (the path is kept)."""
        name, extension = os.path.splitext(name)
        return "{name}.{random}{extension}".format(name=name, extension=extension, random=str(uuid.uuid4()).split("-")[0])

    def _blob(self, container, key):
        return self.client.get_blob_client(container=container, blob=key)

    def upload(self, container, file, filepath, unique_name=True):
        """Uploads a local file; returns the key it was stored under."""
        key_name = storage.unique_name(file) if unique_name else file
        with open(filepath, "rb") as data:
            self._blob(container, key_name).upload_blob(data, overwrite=True)
        return key_name

    def download(self, container, file, filepath):
        parent = os.path.dirname(filepath)
        if parent:
            os.makedirs(parent, exist_ok=True)
        with open(filepath, "wb") as f:
            self._blob(container, file).download_blob().readinto(f)

    def download_directory(self, container, prefix, path):
        """Downloads every blob below prefix to path/<key> (SeBS: the whole key is kept)."""
        root = os.path.realpath(path)
        for key in self.list_directory(container, prefix):
            if key.endswith("/"):
                continue
            dest = os.path.realpath(os.path.join(path, key))
            # A key with '..' segments must not write outside the target directory.
            if dest != root and not dest.startswith(root + os.sep):
                raise ValueError("storage.download_directory: key '{}' would be written outside {}".format(key, root))
            self.download(container, key, dest)

    def upload_stream(self, container, file, data):
        """Uploads bytes (or a binary file-like object); returns the key it was stored under."""
        if isinstance(data, (bytes, bytearray, memoryview)):
            data = io.BytesIO(bytes(data))
        else:
            data.seek(0)
        key_name = storage.unique_name(file)
        self._blob(container, key_name).upload_blob(data, overwrite=True)
        return key_name

    def download_stream(self, container, file):
        """Returns the blob's data as bytes."""
        return self._blob(container, file).download_blob().readall()

    def list_directory(self, container, prefix):
        """Yields the keys below prefix (all pages)."""
        container_client = self.client.get_container_client(container)
        for blob in container_client.list_blobs(name_starts_with=prefix):
            yield blob.name

    @staticmethod
    def get_instance(connection_string=None):
        if storage.instance is None:
            storage.instance = storage(connection_string)
        return storage.instance
