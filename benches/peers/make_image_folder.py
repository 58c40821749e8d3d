"""Writes a folder of synthetic RGB PNGs, one subfolder per class, for memory and speed runs.

    python benches/peers/make_image_folder.py FOLDER [--n 10000] [--size 64] [--classes 10]

Image k is of class k mod classes: a disc of the class's colour at a random place and radius
on a random dark background, with uniform noise; seed 0, so every run writes the same files.
Needs numpy and Pillow.
"""
import argparse, os

import numpy as np
from PIL import Image


def main():
    p = argparse.ArgumentParser()
    p.add_argument("folder")
    p.add_argument("--n", type=int, default=10000)
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--classes", type=int, default=10)
    args = p.parse_args()
    s = args.size
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:s, 0:s]
    for k in range(args.n):
        c = k % args.classes
        folder = os.path.join(args.folder, f"class{c}")
        os.makedirs(folder, exist_ok=True)
        cx, cy = rng.integers(s // 4, 3 * s // 4, 2)
        r = rng.integers(s // 10, s // 3)
        img = np.empty((s, s, 3), np.uint8)
        img[...] = rng.integers(0, 80, 3)
        img[(xx - cx) ** 2 + (yy - cy) ** 2 < r * r] = ((c * 25) % 256, 255 - c * 20 % 256, 128)
        noisy = img.astype(int) + rng.integers(-10, 10, img.shape)
        Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8)).save(os.path.join(folder, f"{k:05d}.png"))


if __name__ == "__main__":
    main()
