"""Python peer of `ctprep validate` for bench/validate: what the seed's validator does,
written fairly — json.load per split, the cheap checks in Python (categories by name,
class coverage, patient leakage by the identity rule, boxes inside the image), and every
image fully decoded with Pillow's Image.load() in a pool of 2 processes.

usage: validate_peer.py [--jobs N] [--dedupe] DATASET_DIR...
--dedupe decodes each distinct file (by device and inode) once, as ctprep does; without
it every image entry of every dataset is decoded, as a per-dataset script would.
Prints one JSON line: {"images", "decoded", "bad", "leaks", "box_errors", "seconds"}."""
import json, os, re, sys, time
from multiprocessing import Pool
from PIL import Image

PREFIXES = ("v3_", "v4_", "v5_", "roboflow_", "thin_", "thick_", "no_hem_")

def identity(name):
    stem = name.rsplit(".", 1)[0]
    stem = stem.split(".rf.", 1)[0]
    stem = re.sub(r"_aug\d+$", "", stem)
    if stem.endswith("_png"):
        stem = stem[:-4]
    changed = True
    while changed:
        changed = False
        for p in PREFIXES:
            if stem.startswith(p):
                stem, changed = stem[len(p):], True
    m = re.match(r"^(\d+)_(\d+)", stem)
    return (m.group(1), m.group(2)) if m else None

def check(item):
    path, w, h = item
    try:
        with Image.open(path) as im:
            im.load()
            return im.size == (w, h)
    except Exception:
        return False

def main(argv):
    jobs, dedupe, dirs = 2, False, []
    i = 0
    while i < len(argv):
        if argv[i] == "--jobs":
            jobs = int(argv[i + 1]); i += 2; continue
        if argv[i] == "--dedupe":
            dedupe = True; i += 1; continue
        dirs.append(argv[i]); i += 1
    start = time.perf_counter()
    items, seen, images, leaks, box_errors = [], set(), 0, 0, 0
    for d in dirs:
        patients = {}
        for split in ("train", "valid", "test"):
            path = os.path.join(d, split, "_annotations.coco.json")
            if not os.path.exists(path):
                continue
            coco = json.load(open(path))
            cats = {c["id"]: c["name"] for c in coco["categories"]}
            size = {im["id"]: (im["width"], im["height"]) for im in coco["images"]}
            present = set()
            for a in coco["annotations"]:
                x, y, bw, bh = a["bbox"]
                W, H = size[a["image_id"]]
                present.add(cats[a["category_id"]])
                if bw <= 0 or bh <= 0 or x < -0.5 or y < -0.5 or x + bw > W + 0.5 or y + bh > H + 0.5:
                    box_errors += 1
            patients[split] = {identity(im["file_name"])[0] for im in coco["images"] if identity(im["file_name"])}
            for im in coco["images"]:
                images += 1
                p = os.path.join(d, split, im["file_name"])
                if dedupe:
                    st = os.stat(p)
                    key = (st.st_dev, st.st_ino)
                    if key in seen:
                        continue
                    seen.add(key)
                items.append((p, im["width"], im["height"]))
        names = list(patients)
        for a in range(len(names)):
            for b in range(a + 1, len(names)):
                leaks += len(patients[names[a]] & patients[names[b]])
    with Pool(jobs) as pool:
        results = pool.map(check, items, chunksize=64)
    bad = results.count(False)
    print(json.dumps({"images": images, "decoded": len(items), "bad": bad, "leaks": leaks,
                      "box_errors": box_errors, "seconds": time.perf_counter() - start}))

if __name__ == "__main__":
    main(sys.argv[1:])
