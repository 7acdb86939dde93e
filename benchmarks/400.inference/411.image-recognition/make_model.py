"""Generates the inputs of 411.image-recognition (run by input.ts, not by the function).

The ResNet-50 weights SeBS uses cannot be downloaded here, so the model is a
deterministic seeded one: torchvision's architecture and initialisation
(python/resnet.py) under torch.manual_seed, then calibrated on seeded
calibration images so that its answer depends on the image (an untrained
network gives every image the same class, which would make validation blind):
batch-norm statistics are measured on those images and the classifier is
centred and scaled on their features. With --weights the given state_dict
(e.g. torchvision's resnet50-19c8e357.pth) is used as is.

Writes into --out:
  model.pth      the state_dict (what the Python function loads)
  model.onnx     the same network for ONNX Runtime (the Node.js function), opset 17
  img-NN.jpg     seeded test images (patterns and noise, JPEG 4:4:4)
  expected.json  torch's prediction per image: top-1 and top-2 classes and logits

Each image is kept only when torch's top-1 logit leads the top-2 by at least
--min-margin (otherwise the next sub-seed is tried), so that small numeric
differences between JPEG decoders, CPUs and ONNX Runtime cannot flip the class.
"""

import argparse
import hashlib
import json
import os
import sys
import warnings

import numpy as np
import torch
from PIL import Image

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "python"))
import imaging  # noqa: E402
import resnet  # noqa: E402

CALIBRATION_IMAGES = 32
MAX_TRIES_PER_IMAGE = 50


def pattern_image(seed, path):
    """A seeded image: sine gradients per channel, filled discs and Gaussian noise."""
    rng = np.random.default_rng(seed)
    w, h = int(rng.integers(320, 641)), int(rng.integers(240, 481))
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    img = np.zeros((h, w, 3), np.float32)
    for c in range(3):
        a, b, f = rng.uniform(-1, 1, 3)
        img[..., c] = 127 + 100 * np.sin((a * xx + b * yy) / (10 + 60 * abs(f)))
    for _ in range(int(rng.integers(3, 9))):
        cx, cy, r = rng.uniform(0, w), rng.uniform(0, h), rng.uniform(10, min(w, h) / 2)
        img[(xx - cx) ** 2 + (yy - cy) ** 2 < r * r] = rng.uniform(0, 255, 3)
    img += rng.normal(0, 12, img.shape)
    # 4:4:4 chroma: decoders differ most in chroma upsampling, so avoid it.
    Image.fromarray(np.clip(img, 0, 255).astype(np.uint8)).save(path, quality=90, subsampling=0)


@torch.no_grad()
def calibrate(model, images):
    """Batch-norm statistics from the images, then a centred, scaled classifier."""
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.reset_running_stats()
            m.momentum = None  # cumulative average over all calibration batches
    model.train()
    for b in range(0, len(images), 8):
        model(images[b : b + 8])
    model.eval()
    feats = []
    hook = model.fc.register_forward_hook(lambda mod, inp, out: feats.append(inp[0]))
    for b in range(0, len(images), 8):
        model(images[b : b + 8])
    hook.remove()
    f = torch.cat(feats)
    mean, std = f.mean(0), f.std(0) + 1e-6
    model.fc.weight.div_(std)
    model.fc.bias.sub_(model.fc.weight @ mean)


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--arch", required=True, choices=sorted(resnet.ARCHITECTURES))
    ap.add_argument("--seed", type=int, default=411)
    ap.add_argument("--images", type=int, required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--weights", help="a state_dict to use instead of seeded weights")
    ap.add_argument("--min-margin", type=float, default=0.05)
    args = ap.parse_args()

    torch.set_num_threads(max(1, os.cpu_count() or 1))
    torch.manual_seed(args.seed)
    os.makedirs(args.out, exist_ok=True)
    model = resnet.build(args.arch)
    if args.weights:
        model.load_state_dict(torch.load(args.weights, map_location="cpu", weights_only=True))
        model.eval()
        weights = {"kind": "file", "file": os.path.basename(args.weights), "sha256": sha256(args.weights)}
    else:
        cal_dir = os.path.join(args.out, ".calibration")
        os.makedirs(cal_dir, exist_ok=True)
        cal = []
        for i in range(CALIBRATION_IMAGES):
            p = os.path.join(cal_dir, f"cal-{i:02d}.jpg")
            pattern_image(args.seed * 100_003 + 50_000 + i, p)
            cal.append(torch.from_numpy(imaging.preprocess(p)))
        calibrate(model, torch.stack(cal))
        for p in os.listdir(cal_dir):
            os.remove(os.path.join(cal_dir, p))
        os.rmdir(cal_dir)
        weights = {"kind": "seeded", "seed": args.seed, "calibrationImages": CALIBRATION_IMAGES}
    model.eval()

    images = []
    with torch.no_grad():
        for i in range(args.images):
            name = f"img-{i:02d}.jpg"
            path = os.path.join(args.out, name)
            for attempt in range(MAX_TRIES_PER_IMAGE):
                pattern_image(args.seed * 100_003 + i * 1_000 + attempt, path)
                logits = model(torch.from_numpy(imaging.preprocess(path)).unsqueeze(0))[0]
                top = torch.topk(logits, 2)
                margin = float(top.values[0] - top.values[1])
                if margin >= args.min_margin:
                    break
            else:
                raise SystemExit(f"no image with a top-2 margin >= {args.min_margin} after {MAX_TRIES_PER_IMAGE} tries for {name}")
            images.append(
                {
                    "name": name,
                    "idx": int(top.indices[0]),
                    "second": int(top.indices[1]),
                    "logit": float(top.values[0]),
                    "margin": margin,
                }
            )

    torch.save(model.state_dict(), os.path.join(args.out, "model.pth"))
    with warnings.catch_warnings():
        # torch >= 2.9 prefers its dynamo exporter (needs onnxscript); the TorchScript one is enough for a ResNet.
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model,
            (torch.zeros(1, 3, imaging.CROP, imaging.CROP),),
            os.path.join(args.out, "model.onnx"),
            opset_version=17,
            dynamo=False,
            input_names=["input"],
            output_names=["logits"],
            dynamic_axes={"input": {0: "batch"}, "logits": {0: "batch"}},
        )
    expected = {
        "arch": args.arch,
        "weights": weights,
        "torch": torch.__version__,
        "minMargin": args.min_margin,
        "images": images,
    }
    with open(os.path.join(args.out, "expected.json"), "w") as f:
        json.dump(expected, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
