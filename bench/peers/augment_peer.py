#!/usr/bin/python3
"""Python peer of ctprep's augmentation: OpenCV + numpy doing the same six operations
(flip, shift-scale-rotate, bbox-safe crop resized back, brightness/contrast, CLAHE 4.0
8x8, coarse dropout) with boxes following the pixels, on the same images, in N worker
processes. Writes the versions and prints one JSON line: {"outputs": n, "seconds": s}.

usage: augment_peer.py SPLIT_DIR OUT_DIR [--limit N] [--versions 2] [--procs 2]
"""
import argparse, json, math, os, sys, time, zlib
from multiprocessing import Pool

import cv2
import numpy as np


def move(boxes, m, w, h):
    out = []
    for cat, (x, y, bw, bh), vis in boxes:
        pts = np.array([[x, y, 1], [x + bw, y, 1], [x, y + bh, 1], [x + bw, y + bh, 1]], np.float64)
        t = pts @ np.asarray(m, np.float64).reshape(2, 3).T
        x0, y0 = t.min(0)
        x1, y1 = t.max(0)
        full = (x1 - x0) * (y1 - y0)
        cx0, cx1 = np.clip([x0, x1], 0, w)
        cy0, cy1 = np.clip([y0, y1], 0, h)
        kept = (cx1 - cx0) * (cy1 - cy0)
        vis = vis * kept / full if full > 0 and kept > 0 else 0.0
        out.append((cat, (cx0, cy0, cx1 - cx0, cy1 - cy0), vis))
    return out


def augment(img, boxes, rng):
    h, w = img.shape[:2]
    boxes = [(c, b, 1.0) for c, b in boxes]
    if rng.random() < 0.5:
        img = cv2.flip(img, 1)
        boxes = move(boxes, [-1, 0, w, 0, 1, 0], w, h)
    if rng.random() < 0.8:
        angle = rng.uniform(-20, 20)
        scale = 1 + rng.uniform(-0.2, 0.2)
        dx, dy = rng.uniform(-0.1, 0.1), rng.uniform(-0.1, 0.1)
        m = cv2.getRotationMatrix2D((w / 2, h / 2), angle, scale)
        m[0, 2] += dx * w
        m[1, 2] += dy * h
        img = cv2.warpAffine(img, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        boxes = move(boxes, m.ravel().tolist(), w, h)
    if rng.random() < 0.6:
        live = [b for _, b, v in boxes if v > 0]
        if live:
            ux0 = min(b[0] for b in live); uy0 = min(b[1] for b in live)
            ux1 = max(b[0] + b[2] for b in live); uy1 = max(b[1] + b[3] for b in live)
        else:
            ux0, ux1, uy0, uy1 = w * 0.25, w * 0.75, h * 0.25, h * 0.75
        x0 = int(math.floor(rng.uniform(0, max(0, ux0)))); y0 = int(math.floor(rng.uniform(0, max(0, uy0))))
        x1 = min(w, int(math.ceil(ux1 + rng.uniform(0, max(0, w - ux1)))))
        y1 = min(h, int(math.ceil(uy1 + rng.uniform(0, max(0, h - uy1)))))
        if x1 - x0 >= 2 and y1 - y0 >= 2:
            img = cv2.resize(img[y0:y1, x0:x1], (w, h), interpolation=cv2.INTER_LINEAR)
            sx, sy = w / (x1 - x0), h / (y1 - y0)
            boxes = move(boxes, [sx, 0, -x0 * sx, 0, sy, -y0 * sy], w, h)
    if rng.random() < 0.6:
        alpha = 1 + rng.uniform(-0.2, 0.2)
        beta = rng.uniform(-0.2, 0.2) * 255
        lut = np.clip(np.arange(256) * alpha + beta, 0, 255).astype(np.uint8)
        img = cv2.LUT(img, lut)
    if rng.random() < 0.3:
        clahe = cv2.createCLAHE(clipLimit=4.0, tileGridSize=(8, 8))
        if img.ndim == 2:
            img = clahe.apply(img)
        else:
            lab = cv2.cvtColor(img, cv2.COLOR_BGR2LAB)
            lab[:, :, 0] = clahe.apply(lab[:, :, 0])
            img = cv2.cvtColor(lab, cv2.COLOR_LAB2BGR)
    if rng.random() < 0.4:
        img = img.copy()
        for _ in range(rng.integers(4, 13)):
            hh, hw = rng.integers(8, 25), rng.integers(8, 25)
            y = rng.integers(0, max(1, h - hh + 1)); x = rng.integers(0, max(1, w - hw + 1))
            img[y:y + hh, x:x + hw] = 0
    kept = [(c, b) for c, b, v in boxes if v >= 0.3 and b[2] >= 1 and b[3] >= 1 and b[2] * b[3] >= 400]
    return img, kept


def work(args):
    path, boxes, out_dir, versions = args
    cv2.setNumThreads(1)
    img = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    name = os.path.basename(path)
    stem, ext = os.path.splitext(name)
    params = [cv2.IMWRITE_PNG_COMPRESSION, 1, cv2.IMWRITE_PNG_STRATEGY, cv2.IMWRITE_PNG_STRATEGY_RLE] if ext.lower() == ".png" else [cv2.IMWRITE_JPEG_QUALITY, 95]
    written = 0
    for v in range(1, versions + 1):
        rng = np.random.default_rng([42, zlib.crc32(name.encode()), v])
        out, kept = augment(img, boxes, rng)
        if boxes and not kept:
            continue
        ok, buf = cv2.imencode(ext, out, params)
        with open(os.path.join(out_dir, f"{stem}_aug{v}{ext}"), "wb") as f:
            f.write(buf.tobytes())
        written += 1
    return written


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("split_dir"); ap.add_argument("out_dir")
    ap.add_argument("--limit", type=int, default=0); ap.add_argument("--versions", type=int, default=2)
    ap.add_argument("--procs", type=int, default=2)
    a = ap.parse_args()
    coco = json.load(open(os.path.join(a.split_dir, "_annotations.coco.json")))
    by_image = {}
    for ann in coco["annotations"]:
        by_image.setdefault(ann["image_id"], []).append((ann["category_id"], tuple(ann["bbox"])))
    images = sorted(coco["images"], key=lambda im: im["file_name"])
    if a.limit and len(images) > a.limit:  # an evenly spaced sample, as the C++ side takes
        images = [images[i * len(images) // a.limit] for i in range(a.limit)]
    os.makedirs(a.out_dir, exist_ok=True)
    jobs = [(os.path.join(a.split_dir, im["file_name"]), by_image.get(im["id"], []), a.out_dir, a.versions) for im in images]
    start = time.perf_counter()
    with Pool(a.procs) as pool:
        outputs = sum(pool.imap_unordered(work, jobs, chunksize=16))
    seconds = time.perf_counter() - start
    print(json.dumps({"outputs": outputs, "seconds": seconds, "images": len(images)}))


if __name__ == "__main__":
    main()
