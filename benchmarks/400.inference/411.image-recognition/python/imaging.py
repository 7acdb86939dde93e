"""Image preprocessing of the benchmark, the same steps as SeBS's torchvision
pipeline: Resize(256), CenterCrop(224), ToTensor, Normalize(ImageNet mean/std).
Written with Pillow and numpy so that it needs no torchvision and so that the
Node.js version (function.js) can reproduce it step by step."""

import numpy as np
from PIL import Image

RESIZE = 256
CROP = 224
MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)


def resized_size(width, height, short=RESIZE):
    """torchvision's Resize(int): the short side becomes `short`, the long side is truncated."""
    if width <= height:
        return short, int(short * height / width)
    return int(short * width / height), short


def preprocess(path):
    """A float32 array (3, 224, 224) ready for the network."""
    with Image.open(path) as img:
        img = img.convert("RGB")
    w, h = resized_size(*img.size)
    # Pillow's bilinear resize with its built-in antialiasing, as torchvision uses for PIL images.
    img = img.resize((w, h), Image.BILINEAR)
    # torchvision's CenterCrop rounds the offset with Python's round (half to even).
    left = int(round((w - CROP) / 2.0))
    top = int(round((h - CROP) / 2.0))
    img = img.crop((left, top, left + CROP, top + CROP))
    x = np.asarray(img, dtype=np.uint8).astype(np.float32) / np.float32(255.0)
    x = (x - MEAN) / STD
    return np.ascontiguousarray(x.transpose(2, 0, 1))
