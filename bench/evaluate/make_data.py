#!/usr/bin/python3
"""Writes the evaluate benchmark's inputs: a 6-class test split of N images (1-3 boxes
on 60% of them) and a COCO results file with P detections per image (about a quarter
near a ground-truth box, the rest anywhere), seeded. Usage: make_data.py OUT_DIR [N P]."""
import json
import os
import random
import sys

out = sys.argv[1]
n = int(sys.argv[2]) if len(sys.argv) > 2 else 5000
per_image = int(sys.argv[3]) if len(sys.argv) > 3 else 100
rng = random.Random(42)
names = ["EDH", "HC", "IPH", "IVH", "SAH", "SDH"]
images, annotations, results = [], [], []
for i in range(n):
    images.append({"id": i + 1, "file_name": "%d_%d.png" % (100000 + i // 30, i % 30),
                   "width": 512, "height": 512})
    boxes = []
    if rng.random() < 0.6:
        for _ in range(rng.randint(1, 3)):
            b = [rng.uniform(0, 400), rng.uniform(0, 400), rng.uniform(8, 110), rng.uniform(8, 110)]
            c = rng.randrange(6)
            boxes.append((c, b))
            annotations.append({"id": len(annotations) + 1, "image_id": i + 1, "category_id": c,
                                "bbox": b, "area": b[2] * b[3], "iscrowd": 0})
    for k in range(per_image):
        if boxes and k < per_image // 4:
            c, b = boxes[k % len(boxes)]
            d = [b[0] + rng.uniform(-6, 6), b[1] + rng.uniform(-6, 6), b[2] * rng.uniform(0.8, 1.2),
                 b[3] * rng.uniform(0.8, 1.2)]
            c = c if rng.random() < 0.8 else rng.randrange(6)
        else:
            d = [rng.uniform(0, 450), rng.uniform(0, 450), rng.uniform(4, 100), rng.uniform(4, 100)]
            c = rng.randrange(6)
        results.append({"image_id": i + 1, "category_id": c, "bbox": [round(v, 2) for v in d],
                        "score": round(rng.random(), 5)})
os.makedirs(os.path.join(out, "dataset", "test"), exist_ok=True)
with open(os.path.join(out, "dataset", "test", "_annotations.coco.json"), "w") as f:
    json.dump({"images": images, "annotations": annotations,
               "categories": [{"id": k, "name": v, "supercategory": "hemorrhage"}
                              for k, v in enumerate(names)]}, f)
with open(os.path.join(out, "predictions.json"), "w") as f:
    json.dump(results, f)
print("%d images, %d boxes, %d detections" % (len(images), len(annotations), len(results)))
