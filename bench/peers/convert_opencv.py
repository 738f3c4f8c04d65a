#!/usr/bin/python3
"""Peer (b) of bench/convert: the best plain-Python approach we know. pydicom reads,
numpy applies slope/intercept and the header window (PS3.3 LINEAR, first value, else
40/80) in float32, OpenCV writes a gray PNG with its fast defaults (level 1, Z_RLE, SUB
filter); a multiprocessing pool of N workers (default 2, the machine's cores).
Usage: convert_opencv.py OUT_DIR JOBS FILE..."""
import os
import sys
from multiprocessing import Pool

import cv2
import numpy as np
import pydicom

OUT = None


def first(v, default):
    if v is None:
        return default
    if isinstance(v, pydicom.multival.MultiValue):
        v = v[0]
    return float(v)


def convert(path):
    try:
        ds = pydicom.dcmread(path)
        thickness = float(ds.get("SliceThickness", 0) or 0)
        if not any(abs(thickness - t) <= 0.1 for t in (5.0, 5.5)):
            return "skipped"
        hu = ds.pixel_array.astype(np.float32) * np.float32(ds.get("RescaleSlope", 1)) + np.float32(
            ds.get("RescaleIntercept", 0))
        c = first(ds.get("WindowCenter"), 40.0)
        w = first(ds.get("WindowWidth"), 80.0)
        y = ((hu - (c - 0.5)) / (w - 1) + 0.5) * 255.0
        image = np.clip(np.floor(y + 0.5), 0, 255).astype(np.uint8)
        if "PixelPaddingValue" in ds:
            image[ds.pixel_array == ds.PixelPaddingValue] = 0
        cv2.imwrite(os.path.join(OUT, f"{ds.PatientID}_{ds.InstanceNumber}.png"), image)
        return "converted"
    except Exception as e:
        print(f"failed {path}: {e}", file=sys.stderr)
        return "failed"


def init(out):
    global OUT
    OUT = out


def main():
    out, jobs, files = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    os.makedirs(out, exist_ok=True)
    with Pool(jobs, initializer=init, initargs=(out,)) as pool:
        results = pool.map(convert, files, chunksize=8)
    print(" ".join(f"{k} {results.count(k)}" for k in ("converted", "skipped", "failed")))


if __name__ == "__main__":
    main()
