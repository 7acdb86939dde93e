"""504.dna-visualisation: the "squiggle" DNA visualisation of a FASTA file.

Downloads the FASTA file, turns its whole text (header and newlines
included, as SeBS does) into the squiggle curve and uploads it as JSON
[x, y]. The transform is the one of the squiggle package (method
"squiggle"), implemented here so that no third-party package is needed.
"""
import json
import os
import shutil
import tempfile
import time

from . import storage

client = storage.storage.get_instance()


def transform(sequence):
    """x = linspace(0, n, 2n+1); y starts at 0 and each character adds two
    points around a running value r: A (r+0.5, r), C (r-0.5, r),
    T (r-0.5, r-1) then r -= 1, G (r+0.5, r+1) then r += 1, anything else
    (header, newline, N) (r, r)."""
    n = len(sequence)
    # k * 0.5 is exact, and equal to numpy.linspace(0, n, 2n+1)[k].
    x = [k * 0.5 for k in range(2 * n + 1)]
    y = [0]
    extend = y.extend
    r = 0
    for c in sequence:
        if c == "A":
            extend((r + 0.5, r))
        elif c == "C":
            extend((r - 0.5, r))
        elif c == "T":
            extend((r - 0.5, r - 1))
            r -= 1
        elif c == "G":
            extend((r + 0.5, r + 1))
            r += 1
        else:
            extend((r, r))
    return x, y


def _us(seconds):
    return int(round(seconds * 1_000_000))


def handler(event):
    bucket = event["bucket"]["bucket"]
    input_prefix = event["bucket"]["input"]
    output_prefix = event["bucket"]["output"]
    key = event["object"]["key"]

    workdir = tempfile.mkdtemp(prefix="sebs-504-")
    try:
        download_path = os.path.join(workdir, os.path.basename(key))
        download_begin = time.perf_counter()
        client.download(bucket, input_prefix + "/" + key, download_path)
        download_end = time.perf_counter()
        download_size = os.path.getsize(download_path)

        with open(download_path, "r") as f:
            data = f.read()

        process_begin = time.perf_counter()
        result = transform(data)
        process_end = time.perf_counter()

        # Serialising is part of the upload, as in SeBS.
        upload_begin = time.perf_counter()
        payload = json.dumps(result).encode("utf-8")
        out_key = output_prefix + "/" + os.path.splitext(key)[0] + ".json"
        key_name = client.upload_stream(bucket, out_key, payload)
        upload_end = time.perf_counter()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    return {
        "result": {"bucket": bucket, "key": key_name},
        "measurement": {
            "download_time": _us(download_end - download_begin),
            "download_size": download_size,
            "compute_time": _us(process_end - process_begin),
            "upload_time": _us(upload_end - upload_begin),
            "upload_size": len(payload),
        },
    }
