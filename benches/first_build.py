#!/usr/bin/env python3
"""First builds of one description by several binaries, interleaved:

    first_build.py RUNS BIN[,BIN...] DESCRIPTION FOLDER

Each run builds DESCRIPTION (`-q build`, memos off) into a fresh folder below
FOLDER, the binaries taking turns, and prints each binary's median, mean and
fastest wall time. The folders are left for the caller to remove after the
measurement (removing many files right before creating others slows a disk).
"""
import os
import statistics
import subprocess
import sys
import time
import uuid

runs, bins, description, folder = int(sys.argv[1]), sys.argv[2].split(","), sys.argv[3], sys.argv[4]
env = dict(os.environ, HOMELABC_CACHE_DIR="")
walls = {b: [] for b in bins}
for _ in range(runs):
    for b in bins:
        out = os.path.join(folder, uuid.uuid4().hex)
        start = time.perf_counter()
        subprocess.run([b, "-q", "build", description, "-o", out], env=env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        walls[b].append((time.perf_counter() - start) * 1e3)
for b in bins:
    w = walls[b]
    print(f"first build wall med {statistics.median(w):6.2f} mean {statistics.mean(w):6.2f} "
          f"min {min(w):6.2f} ms | {b}")
