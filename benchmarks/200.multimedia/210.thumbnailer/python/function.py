"""210.thumbnailer: make a thumbnail of an image in object storage.

Downloads the image into memory, shrinks it with Pillow's Image.thumbnail
(which keeps the aspect ratio: the result fits inside width x height),
encodes it as JPEG and uploads it to the output prefix under the input's
name. Times are microseconds, sizes bytes.
"""
import io
import time
from urllib.parse import unquote_plus

from PIL import Image

from . import storage

client = storage.storage.get_instance()


def resize_image(image_bytes, width, height):
    with Image.open(io.BytesIO(image_bytes)) as image:
        image.thumbnail((width, height))
        out = io.BytesIO()
        image.save(out, format="jpeg")
        return out.getvalue()


def _us(seconds):
    return int(round(seconds * 1_000_000))


def handler(event):
    bucket = event["bucket"]["bucket"]
    input_prefix = event["bucket"]["input"]
    output_prefix = event["bucket"]["output"]
    # Keys arrive URL-encoded from storage triggers; SeBS decodes them the same way.
    key = unquote_plus(event["object"]["key"])
    width = int(event["object"]["width"])
    height = int(event["object"]["height"])

    download_begin = time.perf_counter()
    img = client.download_stream(bucket, input_prefix + "/" + key)
    download_end = time.perf_counter()

    process_begin = time.perf_counter()
    resized = resize_image(img, width, height)
    process_end = time.perf_counter()

    upload_begin = time.perf_counter()
    key_name = client.upload_stream(bucket, output_prefix + "/" + key, resized)
    upload_end = time.perf_counter()

    return {
        "result": {"bucket": bucket, "key": key_name},
        "measurement": {
            "download_time": _us(download_end - download_begin),
            "download_size": len(img),
            "compute_time": _us(process_end - process_begin),
            "upload_time": _us(upload_end - upload_begin),
            "upload_size": len(resized),
        },
    }
