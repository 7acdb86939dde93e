"""120.uploader: download a file over HTTP(S) and store it in object storage.

The file is streamed to a temporary file (the large input is about 100 MB),
uploaded to the output prefix under its own name (the storage wrapper makes
the key unique) and removed. Times are microseconds, sizes bytes.
"""
import os
import shutil
import tempfile
import time
import urllib.parse
import urllib.request

from . import storage

client = storage.storage.get_instance()

# Some servers (Wikimedia among them) refuse requests without a descriptive User-Agent.
SEBS_USER_AGENT = "SeBS/1.2 (serverless-benchmarks)"


def _us(seconds):
    return int(round(seconds * 1_000_000))


def handler(event):
    bucket = event["bucket"]["bucket"]
    output_prefix = event["bucket"]["output"]
    url = event["object"]["url"]
    name = os.path.basename(urllib.parse.unquote(urllib.parse.urlparse(url).path)) or "download"

    workdir = tempfile.mkdtemp(prefix="sebs-120-")
    try:
        download_path = os.path.join(workdir, name)
        download_begin = time.perf_counter()
        request = urllib.request.Request(url, headers={"User-Agent": SEBS_USER_AGENT})
        with urllib.request.urlopen(request, timeout=60) as response, open(download_path, "wb") as f:
            shutil.copyfileobj(response, f, 1 << 20)
        download_end = time.perf_counter()
        size = os.path.getsize(download_path)

        upload_begin = time.perf_counter()
        key_name = client.upload(bucket, output_prefix + "/" + name, download_path)
        upload_end = time.perf_counter()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    return {
        "result": {"bucket": bucket, "url": url, "key": key_name},
        "measurement": {
            "download_time": _us(download_end - download_begin),
            "download_size": size,
            "upload_time": _us(upload_end - upload_begin),
            "upload_size": size,
        },
    }
