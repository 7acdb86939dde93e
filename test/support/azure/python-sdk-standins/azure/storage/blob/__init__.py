"""Stand-in for azure.storage.blob (BlobServiceClient API subset), backed by
the directory in the connection string's BlobEndpoint=file://<dir>."""
import io
import os


class ResourceNotFoundError(Exception):
    pass


class _Downloader:
    def __init__(self, data):
        self._data = data

    def readall(self):
        return self._data

    def readinto(self, stream):
        stream.write(self._data)
        return len(self._data)


class _BlobProperties:
    def __init__(self, name, size):
        self.name = name
        self.size = size


class BlobClient:
    def __init__(self, root, container, blob):
        self._path = os.path.join(root, container, *blob.split("/"))
        self._container_dir = os.path.join(root, container)

    def upload_blob(self, data, overwrite=False, **kwargs):
        if not os.path.isdir(self._container_dir):
            raise ResourceNotFoundError("ContainerNotFound")
        if os.path.exists(self._path) and not overwrite:
            raise Exception("BlobAlreadyExists")
        if isinstance(data, (bytes, bytearray)):
            payload = bytes(data)
        elif isinstance(data, str):
            payload = data.encode("utf-8")
        else:
            payload = data.read()
        os.makedirs(os.path.dirname(self._path), exist_ok=True)
        with open(self._path, "wb") as f:
            f.write(payload)
        return {"etag": "x"}

    def download_blob(self, **kwargs):
        if not os.path.exists(self._path):
            raise ResourceNotFoundError("BlobNotFound")
        with open(self._path, "rb") as f:
            return _Downloader(f.read())


class ContainerClient:
    def __init__(self, root, container):
        self._root = root
        self._container = container

    def list_blobs(self, name_starts_with=None, **kwargs):
        base = os.path.join(self._root, self._container)
        names = []
        for dirpath, _, files in os.walk(base):
            for name in files:
                rel = os.path.relpath(os.path.join(dirpath, name), base).replace(os.sep, "/")
                if name_starts_with is None or rel.startswith(name_starts_with):
                    names.append(rel)
        return [_BlobProperties(n, os.path.getsize(os.path.join(base, n))) for n in sorted(names)]


class BlobServiceClient:
    def __init__(self, root):
        self._root = root

    @classmethod
    def from_connection_string(cls, conn_str, **kwargs):
        parts = dict(p.split("=", 1) for p in conn_str.split(";") if "=" in p)
        endpoint = parts["BlobEndpoint"]
        assert endpoint.startswith("file://"), endpoint
        return cls(endpoint[len("file://"):])

    def get_blob_client(self, container, blob, **kwargs):
        return BlobClient(self._root, container, blob)

    def get_container_client(self, container):
        return ContainerClient(self._root, container)
