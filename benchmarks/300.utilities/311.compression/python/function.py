"""311.compression: downloads a directory tree from storage, zips it
(deflate, zlib's default level) and uploads <name>.zip."""
import os
import posixpath
import shutil
import tempfile
import time
import uuid

from . import storage

client = storage.storage.get_instance()


def _elapsed_us(begin, end):
    return int(round((end - begin) * 1_000_000))


def _tree_size(directory):
    total = 0
    for root, _dirs, files in os.walk(directory):
        for name in files:
            total += os.path.getsize(os.path.join(root, name))
    return total


def handler(event):
    bucket = event["bucket"]["bucket"]
    input_prefix = event["bucket"]["input"]
    output_prefix = event["bucket"]["output"]
    key = event["object"]["key"]

    work_dir = os.path.join(tempfile.gettempdir(), "{}-{}".format(key, uuid.uuid4()))
    download_dir = os.path.join(work_dir, "download")
    os.makedirs(download_dir)
    try:
        download_begin = time.perf_counter()
        # The storage wrapper recreates each object's full key below download_dir.
        client.download_directory(bucket, posixpath.join(input_prefix, key) + "/", download_dir)
        download_end = time.perf_counter()
        parent = os.path.join(download_dir, *input_prefix.split("/"))
        if not os.path.isdir(os.path.join(parent, key)):
            raise RuntimeError(
                "nothing was downloaded from {}/{}/{}/: are the inputs uploaded?".format(bucket, input_prefix, key)
            )
        download_size = _tree_size(os.path.join(parent, key))

        compress_begin = time.perf_counter()
        # Entries are named <key>/<path>; the archive is written outside the tree it zips.
        archive = shutil.make_archive(os.path.join(work_dir, key), "zip", root_dir=parent, base_dir=key)
        compress_end = time.perf_counter()
        archive_size = os.path.getsize(archive)

        upload_begin = time.perf_counter()
        key_name = client.upload(bucket, posixpath.join(output_prefix, key + ".zip"), archive)
        upload_end = time.perf_counter()
    finally:
        # A warm container keeps /tmp: leave nothing behind.
        shutil.rmtree(work_dir, ignore_errors=True)

    return {
        "result": {"bucket": bucket, "key": key_name},
        "measurement": {
            "download_time": _elapsed_us(download_begin, download_end),
            "download_size": download_size,
            "upload_time": _elapsed_us(upload_begin, upload_end),
            "upload_size": archive_size,
            "compute_time": _elapsed_us(compress_begin, compress_end),
        },
    }
