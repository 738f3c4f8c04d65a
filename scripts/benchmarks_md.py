"""Builds BENCHMARKS.md from bench/results/*.json (written by each bench/<name>/run).
Each result: {"benchmark", "input", "rows": [{"task", "unit", "ctprep", "peers": {name: value}, "ratio"}]}."""
import datetime, glob, json, os, platform, subprocess

def cpu_model():
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"

def fmt(v, unit):
    if isinstance(v, (int, float)):
        if unit == "s":
            return f"{v:.3f} s" if v >= 0.1 else f"{v * 1000:.1f} ms"
        if unit == "KiB":
            return f"{v / 1024:.0f} MB"
        return f"{v:g} {unit}"
    return str(v)

out = ["# Benchmarks", "",
       "Made by `make bench` (`scripts/bench`), every peer run in the same run on the same machine.",
       f"Machine: {os.cpu_count()} cores, {cpu_model()}. Date: "
       f"{datetime.datetime.fromtimestamp(int(os.environ.get('SOURCE_DATE_EPOCH', '0')) or datetime.datetime.now().timestamp(), datetime.timezone.utc).date()}.",
       "Ratios are peer time / ctprep time (or peer / ctprep for memory): above 1 means ctprep is better.", ""]
for path in sorted(glob.glob("bench/results/*.json")):
    r = json.load(open(path))
    out += [f"## {r['benchmark']}", "", f"Input: {r.get('input', '')}", "",
            "| task | ctprep | peers | ratio |", "|---|---|---|---|"]
    for row in r["rows"]:
        peers = "; ".join(f"{k}: {fmt(v, row.get('unit', ''))}" for k, v in row.get("peers", {}).items())
        out.append(f"| {row['task']} | {fmt(row['ctprep'], row.get('unit', ''))} | {peers} | {row.get('ratio', '')}x |")
    out.append("")
print("\n".join(out))
