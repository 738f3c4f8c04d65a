#!/usr/bin/python3
"""Peer for bench/evaluate: the seconds Python needs only to json.load a file (the
floor under any Python evaluator, pycocotools included). Prints the median of R runs."""
import json
import statistics
import sys
import time

path, runs = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 3
times = []
for _ in range(runs):
    t = time.perf_counter()
    with open(path) as f:
        data = json.load(f)
    times.append(time.perf_counter() - t)
    del data
print("%.6f" % statistics.median(times))
