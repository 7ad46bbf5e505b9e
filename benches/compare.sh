#!/usr/bin/env bash
# Two builds of homelabc side by side, each figure interleaved or in one
# hyperfine (BENCHMARKS.md, runs L to N):
#
#   bash benches/compare.sh BEFORE AFTER
#
# BEFORE and AFTER are binaries (say the `dist` builds of two commits, copied
# out of target/). Measured, with memos off (`HOMELABC_CACHE_DIR=`):
#   - the compute (`build --check` against an absent folder: everything
#     rendered, nothing read or written; it exits 2) at 1,000 and 10,000 apps,
#     beside jrsonnet rendering the same objects when JSONNET names it, and at
#     1,000 apps again in 40 interleaved runs (`benches/interleave.py`: wall,
#     CPU, system time and peak RSS);
#   - the `--timings` phases at 1,000 apps, medians of 15 interleaved runs;
#   - when valgrind is installed, the instructions of the compute at 1,000
#     apps (cachegrind), the one figure a noisy machine leaves alone;
#   - a first build of 10,000 apps on tmpfs (SHM), 5 interleaved runs, with
#     its peak RSS, and with BIG=1 one of 100,000 apps, 3 runs (its input
#     takes 70 MiB, the build about 2 GiB of memory);
#   - `check` of microservices-argocd, 300 runs each;
#   - a first build of every example on the real disk (DISK), 20 interleaved
#     runs each, and of 10,000 apps, 3 runs each, each into a fresh folder.
# Inputs as benches/whole.sh makes them (benches/inputs.sh). Results and the
# hyperfine JSON in $OUT (default target/compare-bench), summary.txt there.
set -euo pipefail

[ $# -eq 2 ] || { echo "usage: bash benches/compare.sh BEFORE AFTER" >&2; exit 64; }
before=$(realpath "$1") after=$(realpath "$2")
here=$(cd "$(dirname "$0")/.." && pwd)
disk=${DISK:-/work/perf-bench}
shm=${SHM:-/dev/shm/homelabc-bench}
out=${OUT:-$here/target/compare-bench}
jsonnet=${JSONNET:-}
cd "$here"
# shellcheck source=benches/inputs.sh
source benches/inputs.sh
mkdir -p "$disk" "$shm" "$out"
export HOMELABC_CACHE_DIR=
summary=$out/summary.txt
: >"$summary"
say() { echo "== $*" | tee -a "$summary"; }
sizes=(1000 10000)
[ -z "${BIG:-}" ] || sizes+=(100000)
for n in "${sizes[@]}"; do generate "$n"; done
absent=$shm/absent

for n in 1000 10000; do
  say "compute, $n apps"
  runs=40 warmup=5
  [ "$n" -gt 1000 ] && runs=10 warmup=1
  peer=()
  [ -z "$jsonnet" ] || peer=(-n jrsonnet "$jsonnet -S -o /dev/null $disk/peer-$n/stream.jsonnet")
  hyperfine -N -i -w "$warmup" -r "$runs" --export-json "$out/compute-$n.json" \
    -n before "$before -q build --check $disk/in-$n -o $absent" \
    -n after "$after -q build --check $disk/in-$n -o $absent" "${peer[@]}" 2>&1 | tee -a "$summary"
done

# The same compute with the commands taking turns run after run: hyperfine
# times one command's runs before the next's, and a machine whose speed
# drifts over minutes then moves one command's median more than another's.
say "compute, 1,000 apps, 40 interleaved runs (medians)"
peer=()
[ -z "$jsonnet" ] || peer=("jrsonnet=$jsonnet -S -o /dev/null $disk/peer-1000/stream.jsonnet")
python3 benches/interleave.py 40 "before=$before -q build --check $disk/in-1000 -o $absent" \
  "after=$after -q build --check $disk/in-1000 -o $absent" "${peer[@]}" | tee -a "$summary"

say "--timings at 1,000 apps, medians of 15 interleaved runs"
for _ in $(seq 1 15); do
  for b in "$before" "$after"; do
    # `build --check` exits 2: the tree is not there.
    { "$b" -q build --check --timings "$disk/in-1000" -o "$absent" 2>&1 || true; } |
      awk -v b="$b" '/^[a-z]+ +[0-9]/ && $1 != "phase" {printf "%s %s ", $1, $2} END {print b}'
  done
done >"$out/phases-1000.txt"
python3 - "$out/phases-1000.txt" <<'PY' | tee -a "$summary"
import collections, statistics, sys
phases = collections.defaultdict(lambda: collections.defaultdict(list))
for line in open(sys.argv[1]):
    words = line.split()
    for i in range(0, len(words) - 1, 2):
        phases[words[-1]][words[i]].append(float(words[i + 1].replace(",", "")))
for binary, times in phases.items():
    print(binary, " ".join(f"{phase} {statistics.median(t):.1f}" for phase, t in times.items()))
PY

if command -v valgrind >/dev/null; then
  # The instructions of each compute at 1,000 apps, which a busy or slow
  # machine does not change as it changes the time (valgrind's Debian
  # package; under it sha2 takes its portable path, not SHA-NI, so hashing
  # weighs about 40% of the count instead of about 5% of the time). Its
  # threads take turns fairly (`--fair-sched=yes`): the count then repeats
  # to about ±2M, where the default scheduling spread it by ±6M (run P).
  say "instructions of the compute at 1,000 apps (cachegrind, 3 runs each, medians)"
  for b in "$before" "$after"; do
    for _ in 1 2 3; do
      # `build --check` exits 2 (the tree is not there), and valgrind with it.
      { valgrind --tool=cachegrind --cache-sim=no --fair-sched=yes --cachegrind-out-file=/dev/null \
        "$b" -q build --check "$disk/in-1000" -o "$absent" 2>&1 || true; } | sed -n 's/.*I *refs: *//p' | tr -d ,
    done | sort -n | sed -n 2p | sed "s|^|$b |" | tee -a "$summary"
  done
fi

first_tmpfs() { # N RUNS
  say "first build, $1 apps, tmpfs, $2 interleaved runs each (wall, peak RSS)"
  for _ in $(seq 1 "$2"); do
    for b in "$before" "$after"; do
      rm -rf "$shm/tree"
      /usr/bin/time -f "$b $1 apps %e s %M KiB" "$b" -q build "$disk/in-$1" -o "$shm/tree" 2>&1 | tail -1 | tee -a "$summary"
    done
  done
  rm -rf "$shm/tree"
}
first_tmpfs 10000 5
[ -z "${BIG:-}" ] || first_tmpfs 100000 3

say "check of microservices-argocd, 300 runs each"
hyperfine -N -w 20 -r 300 --export-json "$out/check.json" \
  -n before "$before -q check examples/microservices-argocd" \
  -n after "$after -q check examples/microservices-argocd" 2>&1 | tee -a "$summary"

say "first build of each example on the disk, 20 interleaved runs each, a fresh folder each"
runs_dir=$disk/compare-runs
mkdir -p "$runs_dir"
for example in examples/*/; do
  python3 benches/first_build.py 20 "$before,$after" "$example" "$runs_dir" |
    sed "s|\$| $(basename "$example")|" | tee -a "$summary"
done
say "first build of 10,000 apps on the disk, 3 interleaved runs each, a fresh folder each"
for i in 1 2 3; do
  for b in "$before" "$after"; do
    sync
    sleep 1
    /usr/bin/time -f "$b 10000 apps on the disk %e s %M KiB" "$b" -q build "$disk/in-10000" -o "$runs_dir/10000-$i-$(basename "$b")" 2>&1 |
      tail -1 | tee -a "$summary"
  done
done
# Removed after the measurement, never between runs.
rm -rf "$runs_dir"
echo "summary: $summary"
