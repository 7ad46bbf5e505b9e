#!/usr/bin/env bash
# Whole-process benchmarks of the binary (BENCHMARKS.md, "The whole process"):
#
#   bash benches/whole.sh [APPS...]        default: 100 1000 5000 10000 20000
#
# For each size it generates the homelab of benches/build.rs (`--write`), then
# times with hyperfine, on a real disk (DISK, default /work/perf-bench) and on
# tmpfs (SHM, default /dev/shm/homelabc-bench):
#   - `homelabc build` into a fresh folder (a first build),
#   - the write floor: `tar -x` of the same tree (held on tmpfs) into a fresh
#     folder, then `sync -f`, as homelabc flushes once (`syncfs`),
#   - a no-op rebuild (the tree is already there),
# and, on tmpfs only, the compute alone: `homelabc build --check` against an
# absent folder (it renders everything, reads and writes nothing, exits 2)
# beside the peers rendering the same objects to stdout (jrsonnet, when
# JSONNET names its binary: benches/peers/; on disk and tmpfs it also writes
# them, one file per object, with `-m`). Peak RSS comes from
# /usr/bin/time -v. Each timed run writes to a folder of its own; the folders
# are removed after each measurement, never between runs (on ext4 without a
# journal, creating files right after a large `rm -rf` is 10-50x slower).
# PLACES=tmpfs (or disk) measures one place only; SKIP_SMALL=1 skips the small
# homelabs. Results: $OUT (default target/whole-bench), hyperfine JSON and a summary.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
disk=${DISK:-/work/perf-bench}
shm=${SHM:-/dev/shm/homelabc-bench}
out=${OUT:-$here/target/whole-bench}
jsonnet=${JSONNET:-}
places=${PLACES:-disk tmpfs}
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(100 1000 5000 10000 20000)

cd "$here"
cargo build --release --quiet
homelabc=$here/target/release/homelabc
mkdir -p "$disk" "$shm" "$out"

# The generated description and the peers' input for N apps, in $disk/in-N.
generate() {
  local n=$1 nodes=3
  [ "$n" -gt 100 ] && nodes=10
  [ "$n" -gt 1000 ] && nodes=20
  if [ ! -f "$disk/in-$n/homelab.kdl" ]; then
    cargo bench --quiet --bench build -- --write "$disk/in-$n" "${nodes}x$n" >/dev/null
  fi
  if [ ! -f "$disk/peer-$n/apps.json" ]; then
    mkdir -p "$disk/peer-$n"
    cp benches/peers/*.jsonnet "$disk/peer-$n/"
    python3 - "$n" >"$disk/peer-$n/apps.json" <<'PY'
import json, sys
n = int(sys.argv[1])
def app(a):
    last = a % 50 == 49 or a + 1 == n
    return {"name": f"app-{a}", "ns": f"ns-{a // 50}", "index": a,
            "depends": f"app-{a - 1}" if a % 50 else None,
            "dependent": None if last else f"app-{a + 1}"}
json.dump([app(a) for a in range(n)], sys.stdout)
PY
  fi
}

# Runs for a size: fewer for the big ones.
runs() {
  local n=$1
  if [ "$n" -ge 20000 ]; then echo 2; elif [ "$n" -ge 10000 ]; then echo 3; elif [ "$n" -ge 1000 ]; then echo 5; else echo 10; fi
}

summary=$out/summary.txt
: >"$summary"

# Small homelabs: each example (seed-sized) and a 64-app homelab (3 nodes,
# 12 namespaces, ingress with TLS, probes, a volume and metrics each): `check`,
# a first build on the real disk, and a no-op rebuild.
[ -f "$disk/in-64/homelab.kdl" ] || cargo bench --quiet --bench build -- --write "$disk/in-64" 3x64x12 >/dev/null
if [ -z "${SKIP_SMALL:-}" ]; then
  for input in examples/*/ "$disk/in-64"; do
    name=$(basename "$input")
    runs_dir=$disk/runs-small
    rm -rf "$runs_dir" "$disk/noop-small"
    mkdir -p "$runs_dir"
    "$homelabc" -q build "$input" -o "$disk/noop-small"
    hyperfine --style basic -N --runs 30 --warmup 3 --export-json "$out/small-check-$name.json" \
      -n "check $name" "$homelabc -q check $input" \
      -n "no-op rebuild $name (disk)" "$homelabc -q build $input -o $disk/noop-small" | tee -a "$summary"
    # A first build each run: the last run's tree is moved aside (a rename), never deleted between runs.
    hyperfine --style basic -N --runs 30 --warmup 3 --export-json "$out/small-build-$name.json" \
      --prepare "sh -c 'mv $runs_dir/out $runs_dir/old-\$\$-\$(date +%s%N) 2>/dev/null; true'" \
      -n "build $name (disk)" "$homelabc -q build $input -o $runs_dir/out" | tee -a "$summary"
    rm -rf "$runs_dir" "$disk/noop-small"
  done
fi

for n in "${sizes[@]}"; do
  generate "$n"
  input=$disk/in-$n
  r=$(runs "$n")
  # The reference tree, its size, and its tar for the write floor.
  rm -rf "$shm/ref-$n"
  "$homelabc" -q build "$input" -o "$shm/ref-$n"
  files=$(find "$shm/ref-$n" -type f | wc -l)
  bytes=$(find "$shm/ref-$n" -type f -printf '%s\n' | awk '{s+=$1} END {print s}')
  tar -cf "$shm/tree-$n.tar" -C "$shm/ref-$n" .
  rm -rf "$shm/ref-$n"
  echo "== $n apps: $files files, $((bytes / 1024 / 1024)) MiB" | tee -a "$summary"
  for where in $places; do
    place=$disk; [ "$where" = tmpfs ] && place=$shm
    runs_dir=$place/runs-$n
    rm -rf "$runs_dir" "$place/noop-$n"
    mkdir -p "$runs_dir"
    "$homelabc" -q build "$input" -o "$place/noop-$n"
    sync
    commands=(
      -n "build ($where)" "$homelabc -q build $input -o \$(mktemp -u -d -p $runs_dir)"
      -n "write floor ($where)" "d=\$(mktemp -d -p $runs_dir) && tar -xf $shm/tree-$n.tar -C \$d && sync -f \$d"
      -n "no-op rebuild ($where)" "$homelabc -q build $input -o $place/noop-$n"
    )
    if [ -n "$jsonnet" ]; then
      commands+=(-n "jrsonnet -m ($where)"
        "d=\$(mktemp -d -p $runs_dir) && cd $disk/peer-$n && $jsonnet -S -c -m \$d homelab.jsonnet >/dev/null && sync -f \$d")
    fi
    hyperfine --style basic --runs "$r" --warmup 1 --export-json "$out/whole-$where-$n.json" "${commands[@]}" |
      tee -a "$summary"
    rm -rf "$runs_dir"
    # Peak RSS of a first build and of a no-op rebuild.
    /usr/bin/time -f "rss ($where, first build): %M KiB" "$homelabc" -q build "$input" -o "$place/rss-$n" 2>&1 | tail -1 | tee -a "$summary"
    /usr/bin/time -f "rss ($where, no-op rebuild): %M KiB" "$homelabc" -q build "$input" -o "$place/noop-$n" 2>&1 | tail -1 | tee -a "$summary"
    rm -rf "$place/rss-$n" "$place/noop-$n"
  done
  # Compute: render everything in memory, write nothing.
  peers=(-n "homelabc (compute)" "$homelabc -q build --check $input -o $shm/absent-$n")
  if [ -n "$jsonnet" ]; then
    peers+=(-n "jrsonnet (compute)" "cd $disk/peer-$n && $jsonnet -S stream.jsonnet >/dev/null")
  fi
  hyperfine --style basic --runs "$r" --warmup 1 -i --export-json "$out/compute-$n.json" "${peers[@]}" | tee -a "$summary"
  rm -f "$shm/tree-$n.tar"
done
echo "summary: $summary"
