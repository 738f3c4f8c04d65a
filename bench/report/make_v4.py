"""A v4-scale dataset for the report benchmark: train 11,480 originals x 3 versions,
valid 2,150, test 720 images, about 31,000 boxes in the six classes.
Every image file is a symlink to one of 8 real 512x512 CT-like PNGs (the report reads
only the slices it shows, so this measures the page, not the disk).
usage: make_v4.py OUT_DIR [FRACTION]  (FRACTION < 1 scales every split down, for QUICK=1)"""
import json, os, random, sys

import cv2
import numpy as np

root = sys.argv[1]
fraction = float(sys.argv[2]) if len(sys.argv) > 2 else 1.0
rng = random.Random(42)
os.makedirs(os.path.join(root, "_pool"), exist_ok=True)
pool = []
for i in range(8):
    img = np.zeros((512, 512), np.uint8)
    cv2.ellipse(img, (256, 256), (200, 235), 0, 0, 360, 235, 14)
    cv2.ellipse(img, (256, 256), (185, 220), 0, 0, 360, 70 + 4 * i, -1)
    noise = np.random.default_rng(i).normal(0, 9, (512, 512))
    img = np.clip(img.astype(np.float64) + noise * (img > 0), 0, 255).astype(np.uint8)
    path = os.path.join(root, "_pool", f"slice{i}.png")
    cv2.imwrite(path, img)
    pool.append(os.path.abspath(path))

cats = [{"id": i, "name": n, "supercategory": "hemorrhage"}
        for i, n in enumerate(["EDH", "HC", "IPH", "IVH", "SAH", "SDH"])]
patient = 500000000
def make_split(name, originals, versions):
    global patient
    images, anns = [], []
    made = 0
    while made < originals:
        patient += rng.randint(1, 97)
        slices = rng.randint(1, 8)
        for inst in range(1, slices + 1):
            if made == originals:
                break
            made += 1
            negative = rng.random() < 0.49
            prefix = "" if negative else rng.choice(["v3_thick_", "v3_thin_", "roboflow_"])
            boxes = [] if negative else [
                (rng.randrange(6), rng.uniform(60, 380), rng.uniform(60, 380),
                 rng.uniform(12, 110), rng.uniform(12, 110)) for _ in range(rng.choice([1, 1, 1, 2, 3]))]
            for k in range(versions):
                stem = f"{prefix}{patient}_{inst}"
                fname = f"{stem}_aug{k}.png" if versions > 1 else f"{stem}.png"
                iid = len(images)
                images.append({"id": iid, "file_name": fname, "width": 512, "height": 512})
                for c, x, y, w, h in boxes:
                    anns.append({"id": len(anns), "image_id": iid, "category_id": c,
                                 "bbox": [round(x, 1), round(y, 1), round(w, 1), round(h, 1)],
                                 "area": round(w * h, 1), "iscrowd": 0})
    d = os.path.join(root, name)
    os.makedirs(d, exist_ok=True)
    for im in images:
        os.symlink(pool[hash(im["file_name"]) % 8], os.path.join(d, im["file_name"]))
    with open(os.path.join(d, "_annotations.coco.json"), "w") as f:
        json.dump({"categories": cats, "images": images, "annotations": anns}, f)
    return len(images), len(anns)

t = make_split("train", round(11480 * fraction), 3)
v = make_split("valid", round(2150 * fraction), 1)
s = make_split("test", round(720 * fraction), 1)
print(f"{t[0] + v[0] + s[0]} images, {t[1] + v[1] + s[1]} boxes")
