"""Python peers for bench/coco_io: json.load / json.dump timings (in-process medians),
and the seed-style export-csv (json.load + identity parse + csv.writer)."""
import csv, json, re, statistics, sys, time

def median_seconds(n, f):
    times = []
    for _ in range(n):
        t = time.perf_counter(); f(); times.append(time.perf_counter() - t)
    return statistics.median(times)

PREFIXES = ("v3_", "v4_", "v5_", "roboflow_", "thin_", "thick_", "no_hem_")

def identity(name):
    stem = name.rsplit(".", 1)[0]
    stem = stem.split(".rf.", 1)[0]
    stem = re.sub(r"_aug\d+$", "", stem)
    if stem.endswith("_png"): stem = stem[:-4]
    changed = True
    while changed:
        changed = False
        for p in PREFIXES:
            if stem.startswith(p): stem = stem[len(p):]; changed = True
    m = re.match(r"^(\d+)_(\d+)(?:_|$)", stem)
    return (m.group(1), m.group(2))

def export_csv(dataset_dir, out):
    cols = {"IPH": 5, "IVH": 6, "SAH": 7, "EDH": 8, "SDH": 9, "HC": 10}
    with open(out, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["patient_id", "instance_no", "filename", "split", "source",
                    "has_intraparenchymal_hemorrhage", "has_intraventricular_hemorrhage",
                    "has_subarachnoid_hemorrhage", "has_epidural_hemorrhage", "has_subdural_hemorrhage",
                    "has_hemorrhage_contusion", "has_no_hemorrhage", "total_hemorrhages_on_image",
                    "modelVersion"])
        for split in ("train",):
            d = json.load(open(f"{dataset_dir}/{split}/_annotations.coco.json"))
            names = {c["id"]: c["name"] for c in d["categories"]}
            per = {}
            for a in d["annotations"]:
                per.setdefault(a["image_id"], []).append(names[a["category_id"]])
            for im in sorted(d["images"], key=lambda i: i["file_name"]):
                pid, inst = identity(im["file_name"])
                cl = per.get(im["id"], [])
                src = "v3" if im["file_name"].startswith("v3_") else "roboflow" if im["file_name"].startswith("roboflow_") else "no_hem"
                row = [pid, inst, im["file_name"], split, src] + [0] * 6 + [int(not cl), len(cl), "v4"]
                for c in cl:
                    if c in cols: row[cols[c]] = 1
                w.writerow(row)

if __name__ == "__main__":
    mode, path = sys.argv[1], sys.argv[2]
    if mode == "load":
        print("%.6f" % median_seconds(int(sys.argv[3]) if len(sys.argv) > 3 else 5, lambda: json.load(open(path))))
    elif mode == "dump":
        d = json.load(open(path))
        def dump():
            with open(sys.argv[3], "w") as f: json.dump(d, f)
        print("%.6f" % median_seconds(int(sys.argv[4]) if len(sys.argv) > 4 else 5, dump))
    elif mode == "load-once":
        json.load(open(path))
    elif mode == "export":
        export_csv(path, sys.argv[3])
