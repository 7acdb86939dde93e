"""220.video-processing: run an ffmpeg operation on a video in object storage.

Operations (as in SeBS):
  watermark    overlay the watermark image at the centre of the first
               `duration` seconds (re-encoded with ffmpeg's defaults);
  extract-gif  the first `duration` seconds as a looping 320 px wide GIF
               at 10 fps, with a generated palette.
The result is uploaded as processed-<name> to the output prefix. Times are
microseconds, sizes bytes.

ffmpeg is not a Python package: the function runs a static binary at
function/ffmpeg/ffmpeg when a packaging step put one there (SeBS's layout),
otherwise the ffmpeg found on PATH.
"""
import os
import shutil
import subprocess
import tempfile
import time

from . import storage

client = storage.storage.get_instance()

SCRIPT_DIR = os.path.dirname(os.path.realpath(__file__))
FFMPEG_MISSING = (
    "ffmpeg not found: install Debian's ffmpeg (apt-get install ffmpeg), "
    "or put an ffmpeg binary on PATH or at function/ffmpeg/ffmpeg"
)


def find_ffmpeg():
    bundled = os.path.join(SCRIPT_DIR, "ffmpeg", "ffmpeg")
    if os.path.isfile(bundled):
        # Zip packaging may drop the executable bit.
        if not os.access(bundled, os.X_OK):
            os.chmod(bundled, 0o755)
        return bundled
    found = shutil.which("ffmpeg")
    if found is None:
        raise RuntimeError(FFMPEG_MISSING)
    return found


def call_ffmpeg(args):
    try:
        ret = subprocess.run(
            [find_ffmpeg(), "-nostdin", "-hide_banner", "-y"] + args,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
    except FileNotFoundError as err:
        raise RuntimeError(FFMPEG_MISSING) from err
    if ret.returncode != 0:
        out = ret.stdout.decode("utf-8", "replace")
        raise RuntimeError("ffmpeg failed with exit code {}: {}".format(ret.returncode, out[-4000:]))


def watermark(video, duration, workdir, resources):
    output = os.path.join(workdir, "processed-{}".format(os.path.basename(video)))
    call_ffmpeg(
        [
            "-i", video,
            "-i", resources["watermark"],
            "-t", str(duration),
            "-filter_complex", "overlay=main_w/2-overlay_w/2:main_h/2-overlay_h/2",
            output,
        ]
    )
    return output


def to_gif(video, duration, workdir, resources):
    output = os.path.join(workdir, "processed-{}.gif".format(os.path.basename(video)))
    call_ffmpeg(
        [
            "-i", video,
            "-t", str(duration),
            "-vf", "fps=10,scale=320:-1:flags=lanczos,split[s0][s1];[s0]palettegen[p];[s1][p]paletteuse",
            "-loop", "0",
            output,
        ]
    )
    return output


operations = {"watermark": watermark, "extract-gif": to_gif}


def _us(seconds):
    return int(round(seconds * 1_000_000))


def handler(event):
    bucket = event["bucket"]["bucket"]
    input_prefix = event["bucket"]["input"]
    output_prefix = event["bucket"]["output"]
    obj = event["object"]
    key = obj["key"]
    duration = obj["duration"]
    op = obj["op"]
    if op not in operations:
        raise ValueError("unknown operation '{}': choose one of {}".format(op, ", ".join(sorted(operations))))
    # Fail before downloading anything when ffmpeg is missing.
    find_ffmpeg()

    workdir = tempfile.mkdtemp(prefix="sebs-220-")
    try:
        download_path = os.path.join(workdir, os.path.basename(key))
        resources = {}
        download_begin = time.perf_counter()
        client.download(bucket, input_prefix + "/" + key, download_path)
        if op == "watermark":
            # The watermark image is an input object (SeBS ships it in the code package).
            os.makedirs(os.path.join(workdir, "resources"))
            resources["watermark"] = os.path.join(workdir, "resources", os.path.basename(obj["watermark"]))
            client.download(bucket, input_prefix + "/" + obj["watermark"], resources["watermark"])
        download_end = time.perf_counter()
        download_size = os.path.getsize(download_path)

        process_begin = time.perf_counter()
        upload_path = operations[op](download_path, duration, workdir, resources)
        process_end = time.perf_counter()

        upload_begin = time.perf_counter()
        filename = os.path.basename(upload_path)
        upload_size = os.path.getsize(upload_path)
        upload_key = client.upload(bucket, output_prefix + "/" + filename, upload_path)
        upload_end = time.perf_counter()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    return {
        "result": {"bucket": bucket, "key": upload_key},
        "measurement": {
            "download_time": _us(download_end - download_begin),
            "download_size": download_size,
            "compute_time": _us(process_end - process_begin),
            "upload_time": _us(upload_end - upload_begin),
            "upload_size": upload_size,
        },
    }
