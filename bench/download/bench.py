#!/usr/bin/python3
"""bench/download: ctprep download against boto3 (sequential, 16 threads), `aws s3 cp
--recursive` and one `curl --parallel` process, all GETting the same 400 synthetic DICOM
slices (about 210 MB) from s3rver on loopback. Whole-process wall times, median of 5
runs (rounds that run every tool once in turn), fresh output folders each run. Prints a
table with ratios, the S3 server's CPU per run and the ceiling curl sets, and writes
bench/results/download.json.

usage: bench.py BUILD_DIR ROOT
"""
import json
import re
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

build, root = sys.argv[1], sys.argv[2]
ctprep = os.path.join(build, "ctprep")
quick = os.environ.get("QUICK") == "1"
reps = 1 if quick else 5
series, slices = (5, 20) if quick else (10, 40)
results_dir = os.environ.get("BENCH_RESULTS") or os.path.join(
    root, "bench", "results", "quick" if quick else "")
# s3rver accepts only its own access key (it does not check the signature).
access, secret = "S3RVER", "S3RVER"
env = dict(os.environ, AWS_ACCESS_KEY_ID=access, AWS_SECRET_ACCESS_KEY=secret,
           AWS_DEFAULT_REGION="us-east-1")

work = tempfile.mkdtemp(prefix="ctprep-bench-download-")
server = None
try:
    # 1. The objects: synthetic slices (uncompressed 512x512 int16, about 525 KB each).
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
    keys_file = os.path.join(work, "keys.txt")
    open(keys_file, "w").write("\n".join(keys) + "\n")
    csv = os.path.join(work, "feedback.csv")
    with open(csv, "w") as f:
        f.write("patient_id,instance_no,classification_result,image_url\n")
        for i, k in enumerate(keys):
            pid, inst = k[:-4].split("/")
            cls = "False Positive (FP)" if i % 20 == 0 else "True Negative (TN)"
            f.write(f"{pid},{inst},{cls},s3://bench/{k}\n")

    # 2. s3rver on loopback (the peers and ctprep talk to it directly, not via the proxy).
    server = subprocess.Popen(
        ["node", os.path.join(root, "tests", "servers", "s3_test_server.js"),
         "--data", os.path.join(work, "s3data"), "--objects", os.path.join(work, "objects"),
         "--control", os.path.join(work, "control"), "--access-key", access,
         "--secret-key", secret], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    ready = json.loads(server.stdout.readline())
    endpoint = f"http://127.0.0.1:{ready['s3rver_port']}"

    stage_rates = {}  # ctprep's own "Throughput: X objects/s" (fetch stage, no process start)
    server_cpu = {}  # CPU seconds the S3 server (node: s3rver and our proxy, every thread) spent per run
    ticks = os.sysconf("SC_CLK_TCK")

    def server_cpu_seconds():
        with open(f"/proc/{server.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / ticks  # utime + stime, all threads

    def run_once(make_cmd, label, r, check_files):
        out = os.path.join(work, "out", f"{label}-{r}")
        os.makedirs(out)
        cmd, cwd = make_cmd(out)
        c0 = server_cpu_seconds()
        t0 = time.perf_counter()
        p = subprocess.run(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE)
        dt = time.perf_counter() - t0
        cpu = server_cpu_seconds() - c0
        if p.returncode != 0:
            raise SystemExit(f"{label} failed ({p.returncode}): {p.stderr.decode()[-2000:]}")
        got = check_files(out)
        if got != n:
            raise SystemExit(f"{label}: {got} files, expected {n}")
        shutil.rmtree(out)
        m = re.search(rb"Throughput: ([0-9.]+) objects/s", p.stdout)
        return dt, cpu, float(m.group(1)) if m else None

    def count(ext):
        def f(out):
            c = 0
            for base, _, files in os.walk(out):
                c += sum(1 for x in files if x.endswith(ext))
            return c
        return f

    py = "/usr/bin/python3"
    peer = os.path.join(root, "bench", "peers", "s3_get_peer.py")
    # (name, label, make_cmd, check_files)
    tools = [
        ("boto3 sequential", "boto3-seq",
         lambda out: ([py, peer, endpoint, "bench", keys_file, out, "1"], None), count(".dcm")),
        ("boto3 16 threads", "boto3-16",
         lambda out: ([py, peer, endpoint, "bench", keys_file, out, "16"], None), count(".dcm")),
    ]
    aws = shutil.which("aws")
    aws_note = None
    if aws:
        tools.append(("aws s3 cp --recursive", "aws",
                      lambda out: ([aws, "s3", "cp", "s3://bench/", out, "--recursive", "--quiet",
                                    "--endpoint-url", endpoint], None), count(".dcm")))
    else:
        aws_note = "aws CLI not installed: skipped"

    def curl_cmd(out):
        cfg = os.path.join(out, "..", os.path.basename(out) + ".curl")
        with open(cfg, "w") as f:
            for k in keys:
                f.write(f'url = "{endpoint}/bench/{k}"\noutput = "{out}/{k.replace("/", "_")}"\n')
        return (["curl", "--silent", "--fail", "--parallel", "--parallel-max", "16",
                 "--aws-sigv4", "aws:amz:us-east-1:s3", "--user", f"{access}:{secret}",
                 "-H", "x-amz-content-sha256: e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                 "--config", cfg], None)
    tools.append(("curl --parallel (16)", "curl", curl_cmd, count(".dcm")))

    base = [ctprep, "download", "--csv-path", csv, "--data-root", os.path.join(work, "nodata"),
            "--endpoint-url", endpoint, "--env-file", "/dev/null", "--quiet", "--no-log"]
    tools.append(("ctprep download --keep-dicom --no-convert", "ctprep-dicom",
                  lambda out: (base + ["--output-dir", out, "--keep-dicom", out, "--no-convert"],
                               work), count(".dcm")))
    tools.append(("ctprep download (DICOM -> PNG)", "ctprep-png",
                  lambda out: (base + ["--output-dir", out], work), count(".png")))

    # Rounds, each running every tool once in turn: a change of load on this shared
    # machine during the bench then weighs on every tool alike (running all the reps of
    # one tool before the next one's let the last tools, ctprep's, take the busy spells).
    times = {name: [] for name, *_ in tools}
    cpus = {label: [] for _, label, *_ in tools}
    rates = {label: [] for _, label, *_ in tools}
    for r in range(reps):
        for name, label, make_cmd, check_files in tools:
            dt, cpu, stage = run_once(make_cmd, label, r, check_files)
            times[name].append(dt)
            cpus[label].append(cpu)
            if stage is not None:
                rates[label].append(stage)
    results = {name: statistics.median(v) for name, v in times.items()}
    for label, v in cpus.items():
        server_cpu[label] = statistics.median(v)
    for label, v in rates.items():
        if v:
            stage_rates[label] = statistics.median(v)

    # 3. Report.
    rate = {k: n / v for k, v in results.items()}
    print(f"download: {n} synthetic DICOM slices, {total_bytes / 1e6:.0f} MB, s3rver on loopback, "
          f"median of {reps} whole-process runs")
    print(f"{'tool':44s} {'seconds':>8s} {'objects/s':>10s} {'MB/s':>8s}")
    for k, v in results.items():
        print(f"{k:44s} {v:8.2f} {rate[k]:10.1f} {total_bytes / 1e6 / v:8.1f}")
    if aws_note:
        print(aws_note)
    for label, r in stage_rates.items():
        print(f"  {label}: fetch stage alone (inside the process, no start-up) {r:.1f} objects/s")
    print("S3 server (node: s3rver + proxy) CPU per run, s:  " +
          ", ".join(f"{k} {v:.2f}" for k, v in server_cpu.items()))
    # The ceiling: curl --parallel does the least client work of all (no checks, no
    # conversion); the rate it reaches, over boto3 with 16 threads, bounds what any
    # client, ctprep with conversion included, can reach on this machine and server.
    ceiling = rate["curl --parallel (16)"] / rate["boto3 16 threads"]
    print(f"ceiling on this machine: curl --parallel / boto3 16 threads = {ceiling:.2f}x "
          f"(download only, no checks); s3rver alone spends "
          f"{1000 * server_cpu['curl'] / n:.2f} ms of CPU per object for curl")
    png = rate["ctprep download (DICOM -> PNG)"]
    dcm = rate["ctprep download --keep-dicom --no-convert"]
    ratios = {
        "ctprep (with PNG conversion) / boto3 16 threads (download only)": png / rate["boto3 16 threads"],
        "ctprep (with PNG conversion) / boto3 sequential": png / rate["boto3 sequential"],
        "ctprep --no-convert / curl --parallel": dcm / rate["curl --parallel (16)"],
        "ctprep --no-convert / boto3 16 threads": dcm / rate["boto3 16 threads"],
    }
    if "aws s3 cp --recursive" in rate:
        ratios["ctprep (with PNG conversion) / aws s3 cp"] = png / rate["aws s3 cp --recursive"]
    # The same ratios taken within each round (the two runs minutes apart at most, under
    # the same load), then the median over the rounds.
    def paired(a, b):
        return statistics.median(tb / ta for ta, tb in zip(times[a], times[b]))
    paired_ratios = {
        "ctprep (with PNG conversion) / boto3 16 threads (download only)":
            paired("ctprep download (DICOM -> PNG)", "boto3 16 threads"),
        "ctprep --no-convert / curl --parallel":
            paired("ctprep download --keep-dicom --no-convert", "curl --parallel (16)"),
    }
    print("ratios (objects/s, higher is better for ctprep):")
    for k, v in ratios.items():
        extra = f"   (per round, median: {paired_ratios[k]:.2f}x)" if k in paired_ratios else ""
        print(f"  {k:66s} {v:6.2f}x{extra}")
    os.makedirs(results_dir, exist_ok=True)
    peers_rate = {k: round(v, 1) for k, v in rate.items() if not k.startswith("ctprep")}
    with open(os.path.join(results_dir, "download.json"), "w") as f:
        json.dump({"benchmark": "download", "quick": quick,
                   "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                   "load_average": float(os.environ.get("BENCH_LOAD_START") or os.getloadavg()[0]),
                   "load_average_end": os.getloadavg()[0],
                   "input": f"{n} synthetic DICOM slices, {total_bytes / 1e6:.0f} MB, s3rver on "
                            f"loopback; median of {reps} whole-process runs",
                   "reps": reps,
                   "rows": [
                       {"task": "ctprep download with DICOM -> PNG (peers: download only)",
                        "unit": "objects/s", "ctprep": round(png, 1), "peers": peers_rate,
                        "ratio": round(png / rate["boto3 16 threads"], 2),
                        "ratio_to": "boto3 16 threads",
                        "ratio_per round (median)": round(paired_ratios[
                            "ctprep (with PNG conversion) / boto3 16 threads (download only)"], 2),
                        "ratio_ceiling, curl --parallel / boto3 16 threads": round(ceiling, 2)},
                       {"task": "ctprep download --keep-dicom --no-convert",
                        "unit": "objects/s", "ctprep": round(dcm, 1), "peers": peers_rate,
                        "ratio": round(dcm / rate["curl --parallel (16)"], 2),
                        "ratio_to": "curl --parallel (16)",
                        "ratio_per round (median)": round(paired_ratios[
                            "ctprep --no-convert / curl --parallel"], 2)}],
                   "seconds": results,
                   "ratios": ratios, "ctprep_fetch_stage_objects_per_s": stage_rates,
                   "ratios_per_round_median": paired_ratios,
                   "seconds_per_round": times,
                   "server_cpu_seconds_per_run": server_cpu,
                   "ceiling_curl_over_boto3_16": ceiling, "notes": [aws_note] if aws_note else []}, f, indent=1)
        f.write("\n")
finally:
    if server is not None:
        server.stdin.close()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
    shutil.rmtree(work, ignore_errors=True)
