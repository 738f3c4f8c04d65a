#!/usr/bin/python3
"""bench/shards: one `ctprep download` process against the same plan run as 4 shards
(`--shard K/4`, one after another, into one folder) plus `ctprep download-merge`.
Objects: 400 synthetic DICOM slices (512x512 int16, about 525 KB each) in s3rver on
loopback. Reports per-shard objects/s, MB/s and CPU seconds per object (user + sys of
the process), the merge time, and checks that the merged pool equals the single run
byte for byte. Prints a table and writes bench/results/shards.json.

usage: bench.py BUILD_DIR ROOT
"""
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

build, root = sys.argv[1], sys.argv[2]
ctprep = os.path.join(build, "ctprep")
series, slices, shards = 10, 40, 4
access, secret = "S3RVER", "S3RVER"
env = dict(os.environ, AWS_ACCESS_KEY_ID=access, AWS_SECRET_ACCESS_KEY=secret,
           AWS_DEFAULT_REGION="us-east-1")

work = tempfile.mkdtemp(prefix="ctprep-bench-shards-")
server = None


def run(cmd):
    """Wall seconds and CPU seconds (user + sys) of one child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    p = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode != 0:
        raise SystemExit(f"{cmd[1]} failed ({p.returncode}): {p.stderr.decode()[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, p.stdout.decode()


def pool(d):
    return {n: open(os.path.join(d, n), "rb").read() for n in sorted(os.listdir(d))
            if not n.startswith(".") and os.path.isfile(os.path.join(d, n))}


try:
    synth = os.path.join(work, "synth")
    subprocess.run([ctprep, "synth", "dicom", "--out", synth, "--series", str(series),
                    "--slices", str(slices), "--wrong-thickness", "0", "--quiet"], check=True,
                   stdout=subprocess.DEVNULL)
    objects = os.path.join(work, "objects", "bench")
    keys = []
    for pid in sorted(os.listdir(synth)):
        d = os.path.join(synth, pid)
        if not os.path.isdir(d):
            continue
        for name in sorted(os.listdir(d), key=lambda n: int(n.split(".")[0])):
            os.makedirs(os.path.join(objects, pid), exist_ok=True)
            shutil.move(os.path.join(d, name), os.path.join(objects, pid, name))
            keys.append(f"{pid}/{name}")
    total_bytes = sum(os.path.getsize(os.path.join(objects, k)) for k in keys)
    n = len(keys)
    csv = os.path.join(work, "feedback.csv")
    with open(csv, "w") as f:
        f.write("patient_id,instance_no,classification_result,image_url\n")
        for i, k in enumerate(keys):
            pid, inst = k[:-4].split("/")
            cls = "False Positive (FP)" if i % 20 == 0 else "True Negative (TN)"
            f.write(f"{pid},{inst},{cls},s3://bench/{k}\n")
    server = subprocess.Popen(
        ["node", os.path.join(root, "tests", "servers", "s3_test_server.js"),
         "--data", os.path.join(work, "s3data"), "--objects", os.path.join(work, "objects"),
         "--control", os.path.join(work, "control"), "--access-key", access,
         "--secret-key", secret], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    ready = json.loads(server.stdout.readline())
    endpoint = f"http://127.0.0.1:{ready['s3rver_port']}"
    base = [ctprep, "download", "--csv-path", csv, "--data-root", os.path.join(work, "nodata"),
            "--endpoint-url", endpoint, "--env-file", "/dev/null", "--quiet"]

    single = os.path.join(work, "single")
    wall1, cpu1, _ = run(base + ["--output-dir", single, "--annotate"])
    sharded = os.path.join(work, "sharded")
    rows = []
    for k in range(shards):
        wall, cpu, out = run(base + ["--output-dir", sharded, "--shard", f"{k}/{shards}"])
        got = sum(1 for line in open(os.path.join(sharded, ".ctprep-shards",
                                                   f"{k}-of-{shards}.log.jsonl")))
        rows.append({"shard": k, "objects": got, "seconds": wall, "cpu_seconds": cpu})
    wall_m, cpu_m, _ = run([ctprep, "download-merge", "--output-dir", sharded, "--shards",
                            str(shards)])
    same = pool(single) == pool(sharded)

    mb = total_bytes / 1e6
    per_obj_mb = mb / n
    print(f"shards: {n} synthetic DICOM slices, {mb:.0f} MB ({per_obj_mb * 1000:.0f} KB each), "
          f"s3rver on loopback, {os.cpu_count()} cores")
    print(f"{'run':28s} {'objects':>8s} {'seconds':>8s} {'objects/s':>10s} {'MB/s':>7s} "
          f"{'CPU ms/object':>14s}")
    print(f"{'one process (unsharded)':28s} {n:8d} {wall1:8.2f} {n / wall1:10.1f} "
          f"{mb / wall1:7.1f} {cpu1 / n * 1000:14.1f}")
    for r in rows:
        o = r["objects"]
        print(f"{'shard %d/%d' % (r['shard'], shards):28s} {o:8d} {r['seconds']:8.2f} "
              f"{o / r['seconds']:10.1f} {o * per_obj_mb / r['seconds']:7.1f} "
              f"{r['cpu_seconds'] / o * 1000:14.1f}")
    shard_rate = sum(r["objects"] for r in rows) / sum(r["seconds"] for r in rows)
    print(f"{'download-merge (4 shards)':28s} {n:8d} {wall_m:8.2f} {n / wall_m:10.1f} "
          f"{'':7s} {cpu_m / n * 1000:14.1f}")
    print(f"ratio: per-shard objects/s / one process objects/s = {shard_rate / (n / wall1):.2f}x")
    print(f"merged pool == single run, byte for byte: {same}")
    os.makedirs(os.path.join(root, "bench", "results"), exist_ok=True)
    with open(os.path.join(root, "bench", "results", "shards.json"), "w") as f:
        json.dump({"benchmark": "shards",
                   "input": f"{n} synthetic DICOM slices, {mb:.0f} MB, s3rver on loopback",
                   "cores": os.cpu_count(),
                   "single": {"objects": n, "seconds": wall1, "cpu_seconds": cpu1},
                   "shards": rows, "merge_seconds": wall_m, "merge_cpu_seconds": cpu_m,
                   "per_shard_objects_per_s": shard_rate,
                   "merged_equals_single": same}, f, indent=1)
        f.write("\n")
    if not same:
        raise SystemExit("bench/shards: the merged pool differs from the single run")
finally:
    if server is not None:
        server.stdin.close()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
    shutil.rmtree(work, ignore_errors=True)
