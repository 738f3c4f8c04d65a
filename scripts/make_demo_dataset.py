"""A small 6-class COCO dataset and a no-hemorrhage pool for `make demo`, until
`ctprep synth world` replaces it. Deterministic (seeded)."""
import json, os, random, sys
import numpy as np
import cv2

root = sys.argv[1]
rng = random.Random(42)
classes = ["EDH", "HC", "IPH", "IVH", "SAH", "SDH"]

def slice_image(seed):
    r = np.random.default_rng(seed)
    img = np.zeros((128, 128), np.uint8)
    cv2.ellipse(img, (64, 64), (50, 58), 0, 0, 360, 220, 4)
    cv2.ellipse(img, (64, 64), (46, 54), 0, 0, 360, 90, -1)
    return np.clip(img.astype(np.int16) + r.integers(-6, 7, img.shape), 0, 255).astype(np.uint8)

patients = [str(500000000 + i * 7919) for i in range(30)]
split_of = {p: ("train" if i < 22 else "valid" if i < 27 else "test") for i, p in enumerate(patients)}
datasets = {s: {"info": {"description": "ctprep demo"}, "categories": [
    {"id": i, "name": c, "supercategory": "hemorrhage"} for i, c in enumerate(classes)],
    "images": [], "annotations": []} for s in ("train", "valid", "test")}
for p in patients:
    for inst in range(10, 14):
        s = split_of[p]
        d = datasets[s]
        source = rng.choice(["v3_thick_", "v3_thin_", "roboflow_"])
        name = f"{source}{p}_{inst}" + ("_png.rf.%08x.jpg" % rng.getrandbits(32) if source == "roboflow_" else ".jpg")
        os.makedirs(f"{root}/6class_coco/{s}", exist_ok=True)
        cv2.imwrite(f"{root}/6class_coco/{s}/{name}", slice_image(int(p) + inst))
        iid = len(d["images"])
        d["images"].append({"id": iid, "file_name": name, "width": 128, "height": 128})
        for _ in range(rng.choice([0, 1, 1, 2])):
            x, y = rng.randint(20, 80), rng.randint(20, 80)
            w, h = rng.randint(8, 30), rng.randint(8, 30)
            d["annotations"].append({"id": len(d["annotations"]), "image_id": iid,
                                     "category_id": rng.randrange(6), "bbox": [x, y, w, h],
                                     "area": w * h, "iscrowd": 0})
for s, d in datasets.items():
    with open(f"{root}/6class_coco/{s}/_annotations.coco.json", "w") as f:
        json.dump(d, f)
os.makedirs(f"{root}/no_hemorrhage_downloads", exist_ok=True)
for i in range(12):
    cv2.imwrite(f"{root}/no_hemorrhage_downloads/{600000000 + i}_{i + 1}.png", slice_image(i))
