#!/usr/bin/python3
"""Peer (a) of bench/convert: the seed's approach. One process; pydicom reads each file,
the slice-thickness filter keeps 5.0/5.5 mm (+-0.1), numpy applies slope/intercept and
the header window (first value, else 40/80) in float64, and Pillow writes an RGB PNG
(zlib level 6, Pillow's default), as the original download script did.
Usage: convert_seed.py OUT_DIR FILE..."""
import os
import sys

import numpy as np
import pydicom
from PIL import Image


def first(v, default):
    if v is None:
        return default
    if isinstance(v, pydicom.multival.MultiValue):
        v = v[0]
    return float(v)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    converted = skipped = failed = 0
    for path in sys.argv[2:]:
        try:
            ds = pydicom.dcmread(path)
            thickness = float(ds.get("SliceThickness", 0) or 0)
            if not any(abs(thickness - t) <= 0.1 for t in (5.0, 5.5)):
                skipped += 1
                continue
            pixels = ds.pixel_array.astype(np.float64)
            hu = pixels * float(ds.get("RescaleSlope", 1)) + float(ds.get("RescaleIntercept", 0))
            center = first(ds.get("WindowCenter"), 40.0)
            width = first(ds.get("WindowWidth"), 80.0)
            low = center - width / 2
            image = np.clip((hu - low) / width * 255.0, 0, 255).astype(np.uint8)
            name = f"{ds.PatientID}_{ds.InstanceNumber}.png"
            Image.fromarray(image).convert("RGB").save(os.path.join(out, name))
            converted += 1
        except Exception as e:  # the seed counted and went on
            print(f"failed {path}: {e}", file=sys.stderr)
            failed += 1
    print(f"converted {converted} skipped {skipped} failed {failed}")


if __name__ == "__main__":
    main()
