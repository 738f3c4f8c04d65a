"""Builds BENCHMARKS.md from <results>/*.json (written by each bench/<name>/run; default
folder bench/results) and <results>/_run.json (written by scripts/bench: start time,
load averages, wall time of the whole run).
Each result: {"benchmark", "input", "quick", "date", "load_average",
"rows": [{"task", "unit", "ctprep", "peers": {name: value}, "ratio" | "ratio_<x>"}]}.
usage: benchmarks_md.py [RESULTS_DIR] > BENCHMARKS.md"""
import glob, json, os, platform, sys

folder = sys.argv[1] if len(sys.argv) > 1 else "bench/results"


def cpu_model():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def fmt(v, unit):
    if v is None:
        return "-"
    if isinstance(v, (int, float)):
        if unit == "s":
            return f"{v:.3f} s" if v >= 0.1 else f"{v * 1000:.1f} ms"
        if unit == "KiB":
            return f"{v / 1024:.0f} MB"
        if unit == "bytes":
            return f"{v / 1048576:.2f} MB"
        return f"{v:g} {unit}"
    return str(v)


def ratios(row):
    out = []
    for k, v in row.items():
        if not k.startswith("ratio") or k == "ratio_to" or v in (None, ""):
            continue
        label = "" if k == "ratio" else k[len("ratio_"):] + ": "
        out.append(f"{label}**{v:g}x**" if isinstance(v, (int, float)) else f"{label}{v}")
    if out and row.get("ratio_to"):
        out[0] += f" (vs {row['ratio_to']})"
    return "; ".join(out) or "-"


run = {}
if os.path.exists(os.path.join(folder, "_run.json")):
    run = json.load(open(os.path.join(folder, "_run.json")))

out = ["# Benchmarks", "",
       "Made by `make bench` (`scripts/bench`): every peer runs in the same run, on the same "
       "machine, as ctprep. `make bench QUICK=1` runs smaller inputs into "
       "`bench/results/quick/` (git-ignored) and leaves this file alone.", "",
       f"Machine: {os.cpu_count()} cores, {cpu_model()}."]
if run:
    la, le = run.get("load_average_start", []), run.get("load_average_end", [])
    out.append(f"Run: started {run.get('started', '?')}, {run.get('wall_seconds', '?')} s wall "
               f"for {run.get('benchmarks', 'all')} benchmarks"
               f"{' (QUICK)' if run.get('quick') else ''}; load average (1, 5, 15 min) "
               f"{', '.join(map(str, la))} at the start and {', '.join(map(str, le))} at the end.")
    out.append("The machine is shared (2 cores, other engineers building): a load average above "
               "2 means every figure, ctprep's and the peers', is slower than on an idle "
               "machine; the ratios, taken in the same run, are the steadier figures.")
out += ["Ratios are peer / ctprep for times and memory, ctprep / peer for rates "
        "(objects/s, outputs/s), budget / ctprep for budgets: above 1 means ctprep is better.", ""]
if run.get("seconds"):
    out += ["| benchmark | wall time of its run script |", "|---|---|"]
    out += [f"| {k} | {v} s |" for k, v in run["seconds"].items()]
    out.append("")

for path in sorted(glob.glob(os.path.join(folder, "*.json"))):
    if os.path.basename(path).startswith("_"):
        continue
    r = json.load(open(path))
    meta = []
    if r.get("date"):
        meta.append(f"date {r['date']}")
    if r.get("load_average") is not None:
        meta.append(f"load average {r['load_average']} at its start")
    if r.get("quick"):
        meta.append("QUICK (smaller input)")
    out += [f"## {r['benchmark']}", "", f"Input: {r.get('input', '')}"
            + (f" ({'; '.join(meta)})" if meta else ""), "",
            "| task | ctprep | peers | ratio |", "|---|---|---|---|"]
    for row in r.get("rows", []):
        unit = row.get("unit", "")
        peers = "; ".join(f"{k}: {fmt(v, unit)}" for k, v in (row.get("peers") or {}).items())
        out.append(f"| {row['task']} | {fmt(row.get('ctprep'), unit)} | {peers or '-'} "
                   f"| {ratios(row)} |")
    out.append("")
print("\n".join(out))
