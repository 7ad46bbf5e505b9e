#!/usr/bin/env python3
"""Markdown tables from the hyperfine JSON files of benches/whole.sh.

    python3 benches/summarize.py target/whole-bench

Prints the small homelabs (check, first build, no-op rebuild), the scaling
table (first build and write floor on disk and tmpfs, their ratio, no-op
rebuilds, the peers writing one file per object) and the compute against
each peer that ran (jrsonnet, helm template, kubectl kustomize) with the
peer's time divided by homelabc's from the same run, each figure the median
of the runs (hyperfine's mean ± σ is in the JSON).
"""
import glob
import json
import os
import re
import sys


# The peers of benches/whole.sh, as its hyperfine commands name them.
PEERS = ["jrsonnet", "helm template", "kubectl kustomize"]
WRITERS = ["jrsonnet -m", "kustomize -o"]


def medians(path):
    """The medians of a hyperfine JSON file and of its companions (`whole.sh` times kustomize apart: NAME-kustomize.json)."""
    result = {}
    for p in [path] + sorted(glob.glob(path[:-len(".json")] + "-*.json")):
        with open(p) as f:
            result.update({r["command"]: r["median"] for r in json.load(f)["results"]})
    return result


def ms(seconds):
    v = seconds * 1000
    return f"{v:,.1f} ms" if v < 100 else f"{v:,.0f} ms"


def main(out):
    small = {}
    for path in sorted(glob.glob(os.path.join(out, "small-*.json"))):
        for command, median in medians(path).items():
            what, name, how = re.match(r"(check|no-op rebuild|build) (\S+)(?: \((?:disk, )?(\w+)\))?", command).groups()
            # `check` runs with memos off unless recalled; a no-op rebuild recalls unless compiled.
            how = how if how in ("recalled", "compiled") else ""
            small.setdefault(name, {})[f"{what} {how}".strip()] = median
    if small:
        print("| homelab | check | check, recalled | first build (disk) | no-op rebuild (disk) "
              "| no-op rebuild, compiled (disk) |")
        print("|---|---:|---:|---:|---:|---:|")
        get = lambda f, key: ms(f[key]) if key in f else "—"
        for name, f in small.items():
            print(f"| {name} | {get(f, 'check')} | {get(f, 'check recalled')} | {get(f, 'build')} "
                  f"| {get(f, 'no-op rebuild')} | {get(f, 'no-op rebuild compiled')} |")
        print()
    sizes = sorted({int(m) for m in re.findall(r"whole-tmpfs-(\d+)\.json", " ".join(os.listdir(out)))})
    # Files, output size and peak RSS from the summary that whole.sh writes.
    facts, n = {}, None
    for line in open(os.path.join(out, "summary.txt")):
        m = re.match(r"== (\d+) apps: (\d+) files, (\d+) MiB", line)
        if m:
            n = int(m.group(1))
            facts[n] = {"files": int(m.group(2)), "mib": int(m.group(3))}
        m = re.match(r"rss \((\w+), (first build|no-op rebuild|no-op rebuild, compiled)\): (\d+) KiB", line)
        if m and n is not None:
            facts[n][(m.group(1), m.group(2))] = int(m.group(3)) / 1024
    if facts:
        print("| apps | files | output | peak RSS, first build (disk / tmpfs) | peak RSS, no-op rebuild (disk / tmpfs) "
              "| compiled |")
        print("|---:|---:|---:|---:|---:|---:|")
        for n, f in sorted(facts.items()):
            rss = lambda what: " / ".join(f"{f[(w, what)]:,.0f} MiB" for w in ("disk", "tmpfs") if (w, what) in f)
            print(f"| {n:,} | {f['files']:,} | {f['mib']:,} MiB | {rss('first build')} | {rss('no-op rebuild')} "
                  f"| {rss('no-op rebuild, compiled')} |")
        print()
    if sizes:
        whole = {}
        for n in sizes:
            disk = os.path.join(out, f"whole-disk-{n}.json")
            whole[n] = (medians(disk) if os.path.exists(disk) else {},
                        medians(os.path.join(out, f"whole-tmpfs-{n}.json")))
        # The peers writing one file per object, those that ran.
        writers = [w for w in WRITERS if any(f"{w} ({p})" in f for d, t in whole.values() for p, f in
                                             (("disk", d), ("tmpfs", t)))]
        print("| apps | build (disk) | floor (disk) | ratio | build (tmpfs) | floor (tmpfs) | ratio "
              "| no-op (disk) | no-op (tmpfs) | no-op, compiled (disk) | no-op, compiled (tmpfs) |"
              + "".join(f" {w} (disk) | {w} (tmpfs) |" for w in writers))
        print("|---:" * (11 + 2 * len(writers)) + "|")
        for n in sizes:
            d, t = whole[n]
            get = lambda f, key: ms(f[key]) if key in f else "—"
            ratio = lambda f, w: (f"{f[f'build ({w})'] / f[f'write floor ({w})']:.2f}×"
                                  if f"build ({w})" in f else "—")
            row = [f"{n:,}",
                   get(d, "build (disk)"), get(d, "write floor (disk)"), ratio(d, "disk"),
                   get(t, "build (tmpfs)"), get(t, "write floor (tmpfs)"), ratio(t, "tmpfs"),
                   get(d, "no-op rebuild (disk)"), get(t, "no-op rebuild (tmpfs)"),
                   get(d, "no-op rebuild (disk, compiled)"), get(t, "no-op rebuild (tmpfs, compiled)")]
            for w in writers:
                row += [get(d, f"{w} (disk)"), get(t, f"{w} (tmpfs)")]
            print("| " + " | ".join(row) + " |")
        print()
        # The compute against each peer that ran: its time, and how many times homelabc's.
        compute = {n: medians(os.path.join(out, f"compute-{n}.json")) for n in sizes
                   if os.path.exists(os.path.join(out, f"compute-{n}.json"))}
        peers = [p for p in PEERS if any(f"{p} (compute)" in c for c in compute.values())]
        print("| apps | homelabc (compute) |" + "".join(f" {p} (compute) | {p} ÷ homelabc |" for p in peers))
        print("|---:" * (2 + 2 * len(peers)) + "|")
        for n, c in compute.items():
            h = c["homelabc (compute)"]
            row = [f"{n:,}", ms(h)]
            for p in peers:
                t = c.get(f"{p} (compute)")
                row += [ms(t), f"{t / h:.1f}×"] if t else ["—", "—"]
            print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "target/whole-bench")
