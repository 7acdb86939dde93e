"""411.image-recognition, Python: ResNet classification with PyTorch (CPU).

The model's state_dict is downloaded and loaded once per instance (the cold
path); each invocation downloads its images, preprocesses them like SeBS
(Resize 256, CenterCrop 224, ToTensor, Normalize) and returns the argmax class
of each image.
"""

import os
import time
import uuid

import numpy as np
import torch

from . import imaging, resnet, storage

client = storage.storage.get_instance()

_model = None
_model_key = None


def _us(seconds):
    return int(seconds * 1_000_000)


def handler(event):
    global _model, _model_key
    bucket = event["bucket"]["bucket"]
    model_prefix = event["bucket"]["model"]
    input_prefix = event["bucket"]["input"]
    obj = event["object"]
    images = obj["images"]
    batch_size = max(1, int(obj.get("batch_size") or len(images)))

    model_download_time = 0
    model_time = 0
    if _model is None or _model_key != obj["model"]:
        path = os.path.join("/tmp", f"411-{uuid.uuid4().hex}.pth")
        t0 = time.perf_counter()
        client.download(bucket, f"{model_prefix}/{obj['model']}", path)
        t1 = time.perf_counter()
        try:
            model = resnet.build(obj["arch"])
            model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
            model.eval()
        finally:
            os.remove(path)
        t2 = time.perf_counter()
        _model, _model_key = model, obj["model"]
        model_download_time, model_time = _us(t1 - t0), _us(t2 - t1)

    workdir = os.path.join("/tmp", f"411-{uuid.uuid4().hex}")
    os.makedirs(workdir)
    try:
        t0 = time.perf_counter()
        paths = []
        for i, key in enumerate(images):
            path = os.path.join(workdir, f"{i}-{os.path.basename(key)}")
            client.download(bucket, f"{input_prefix}/{key}", path)
            paths.append(path)
        t1 = time.perf_counter()

        predictions = []
        with torch.inference_mode():
            for start in range(0, len(paths), batch_size):
                batch = np.stack([imaging.preprocess(p) for p in paths[start : start + batch_size]])
                logits = _model(torch.from_numpy(batch))
                for j, idx in enumerate(torch.argmax(logits, dim=1).tolist()):
                    predictions.append({"image": images[start + j], "idx": int(idx)})
        t2 = time.perf_counter()
    finally:
        for name in os.listdir(workdir):
            os.remove(os.path.join(workdir, name))
        os.rmdir(workdir)

    return {
        "result": {"predictions": predictions},
        "measurement": {
            "download_time": _us(t1 - t0),
            "model_download_time": model_download_time,
            "model_time": model_time,
            "compute_time": _us(t2 - t1),
        },
    }
