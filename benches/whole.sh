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
#   - a no-op rebuild (the tree is already there): recalled from the memo of
#     the build before, and compiled (memos off, `HOMELABC_CACHE_DIR=`),
# and, on tmpfs only, the compute alone: `homelabc build --check` against an
# absent folder (it renders everything, reads and writes nothing, exits 2)
# beside the peers rendering the same objects to stdout (benches/peers/, each
# when its variable names its binary: JSONNET for jrsonnet, HELM for
# `helm template`, KUBECTL for `kubectl kustomize`; `bash
# benches/peers/install.sh` installs helm and kubectl and prints their
# folder). On disk and tmpfs jrsonnet (`-m`) and kustomize (`-o DIR`) also
# write them, one file per object (helm writes one file per template, so it
# is not timed writing). Before timing, each peer's output is counted: it
# must hold the objects expected for N apps. The peers make one shared
# dashboard for all apps; PER_APP_DASHBOARDS=1 makes them one per app
# (homelabc's default dashboards before issue 19). kustomize's time grows with
# the square of the objects (about 5 minutes at 1,000 apps), so it is timed
# in a hyperfine of its own, with fewer runs and no warmup (the count was
# one), and only up to KUSTOMIZE_MAX_APPS (default 1000). Peak RSS comes from
# /usr/bin/time -v. Each timed run writes to a folder of its own; the folders
# are removed after each measurement, never between runs (on ext4 without a
# journal, creating files right after a large `rm -rf` is 10-50x slower).
# Memos go to a folder of the run's own ($SHM/memos), removed at the end;
# the compute is timed with memos off, as a build that must compile.
# HOMELABC_BIN times that binary instead of building target/dist/homelabc.
# PLACES=tmpfs (or disk) measures one place only; SKIP_SMALL=1 skips the small
# homelabs. Results: $OUT (default target/whole-bench), hyperfine JSON and a summary.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
disk=${DISK:-/work/perf-bench}
shm=${SHM:-/dev/shm/homelabc-bench}
out=${OUT:-$here/target/whole-bench}
jsonnet=${JSONNET:-}
helm=${HELM:-}
kubectl=${KUBECTL:-}
kustomize_max=${KUSTOMIZE_MAX_APPS:-1000}
places=${PLACES:-disk tmpfs}
# The peers' switch between one shared dashboard and one per app.
if [ -n "${PER_APP_DASHBOARDS:-}" ]; then
  jsonnet_args="--tla-code perAppDashboards=true" helm_args="--set perAppDashboards=true" kustomize_root=per-app
else
  jsonnet_args="" helm_args="" kustomize_root=shared
fi
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(100 1000 5000 10000 20000)

cd "$here"
# The release profile without debug information, stripped (`[profile.dist]`),
# linked as this machine links (glibc, position-independent); HOMELABC_BIN
# names another binary, such as the static musl one the Dockerfile and
# release.yml ship (`.ci/run` builds it: target/x86_64-unknown-linux-musl/dist).
if [ -n "${HOMELABC_BIN:-}" ]; then
  homelabc=$HOMELABC_BIN
else
  cargo build --profile dist --quiet
  homelabc=$here/target/dist/homelabc
fi
mkdir -p "$disk" "$shm" "$out"
export HOMELABC_CACHE_DIR=$shm/memos
rm -rf "$HOMELABC_CACHE_DIR"

# generate N: the description and the peers' input for N apps (benches/inputs.sh).
# shellcheck source=benches/inputs.sh
source benches/inputs.sh

# Each peer's output must hold the objects expected for N apps: per app 8
# (Deployment, Service, Ingress, NetworkPolicy, PodDisruptionBudget,
# ServiceAccount, ServiceMonitor, ExternalSecret; jrsonnet also writes a
# Kustomization per app), per namespace 2 (Namespace, pull secret), and the
# dashboards (one, or one per app).
count_objects() { # NAME EXPECTED COMMAND...
  local name=$1 expected=$2 got
  shift 2
  got=$("$@" | grep -c '^kind:' || true)
  echo "$name: $got objects (expected $expected)" | tee -a "$summary"
  [ "$got" -eq "$expected" ] || { echo "$name: wrong number of objects" >&2; exit 1; }
}
check_peers() {
  local n=$1
  local peer=$disk/peer-$n namespaces=$(((n + 49) / 50)) dashboards=1
  [ -n "${PER_APP_DASHBOARDS:-}" ] && dashboards=$n
  local objects=$((8 * n + 2 * namespaces + dashboards))
  # shellcheck disable=SC2086 # the peers' arguments are words
  {
    [ -z "$jsonnet" ] || count_objects jrsonnet $((objects + n)) sh -c "cd $peer && $jsonnet -S $jsonnet_args stream.jsonnet"
    [ -z "$helm" ] || count_objects helm "$objects" "$helm" template bench "$peer/chart" -f "$peer/values.yaml" $helm_args
    ! kustomize_at "$n" || count_objects kustomize "$objects" "$kubectl" kustomize "$peer/kustomize/$kustomize_root"
  }
}

# Runs for a size: fewer for the big ones.
runs() {
  local n=$1
  if [ "$n" -ge 20000 ]; then echo 2; elif [ "$n" -ge 10000 ]; then echo 3; elif [ "$n" -ge 1000 ]; then echo 5; else echo 10; fi
}
# Runs of kustomize for a size: 1 from 1,000 apps; and whether it runs at all.
kustomize_runs() { if [ "$1" -ge 1000 ]; then echo 1; else echo 3; fi; }
kustomize_at() { [ -n "$kubectl" ] && [ "$1" -le "$kustomize_max" ]; }

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
    # Memos off for a whole hyperfine (an `env` per run would add its own exec to the time).
    HOMELABC_CACHE_DIR='' hyperfine --style basic -N --runs 30 --warmup 3 \
      --export-json "$out/small-compiled-$name.json" \
      -n "check $name" "$homelabc -q check $input" \
      -n "no-op rebuild $name (disk, compiled)" "$homelabc -q build $input -o $disk/noop-small" | tee -a "$summary"
    hyperfine --style basic -N --runs 30 --warmup 3 --export-json "$out/small-check-$name.json" \
      -n "check $name (recalled)" "$homelabc -q check $input" \
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
  peer=$disk/peer-$n
  r=$(runs "$n")
  rm -f "$out"/*-"$n"-kustomize.json # an earlier run's, which summarize.py would take for this one's
  # The reference tree, its size, and its tar for the write floor.
  rm -rf "$shm/ref-$n"
  "$homelabc" -q build "$input" -o "$shm/ref-$n"
  files=$(find "$shm/ref-$n" -type f | wc -l)
  bytes=$(find "$shm/ref-$n" -type f -printf '%s\n' | awk '{s+=$1} END {print s}')
  tar -cf "$shm/tree-$n.tar" -C "$shm/ref-$n" .
  rm -rf "$shm/ref-$n"
  echo "== $n apps: $files files, $((bytes / 1024 / 1024)) MiB" | tee -a "$summary"
  check_peers "$n"
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
        "d=\$(mktemp -d -p $runs_dir) && cd $peer && $jsonnet -S $jsonnet_args -c -m \$d homelab.jsonnet >/dev/null && sync -f \$d")
    fi
    hyperfine --style basic --runs "$r" --warmup 1 --export-json "$out/whole-$where-$n.json" "${commands[@]}" |
      tee -a "$summary"
    HOMELABC_CACHE_DIR='' hyperfine --style basic --runs "$r" --warmup 1 --export-json "$out/whole-$where-$n-compiled.json" \
      -n "no-op rebuild ($where, compiled)" "$homelabc -q build $input -o $place/noop-$n" | tee -a "$summary"
    if kustomize_at "$n"; then
      hyperfine --style basic --runs "$(kustomize_runs "$n")" --export-json "$out/whole-$where-$n-kustomize.json" \
        -n "kustomize -o ($where)" \
        "d=\$(mktemp -d -p $runs_dir) && $kubectl kustomize $peer/kustomize/$kustomize_root -o \$d && sync -f \$d" |
        tee -a "$summary"
    fi
    rm -rf "$runs_dir"
    # Peak RSS of a first build and of a no-op rebuild.
    /usr/bin/time -f "rss ($where, first build): %M KiB" "$homelabc" -q build "$input" -o "$place/rss-$n" 2>&1 | tail -1 | tee -a "$summary"
    /usr/bin/time -f "rss ($where, no-op rebuild): %M KiB" "$homelabc" -q build "$input" -o "$place/noop-$n" 2>&1 | tail -1 | tee -a "$summary"
    HOMELABC_CACHE_DIR='' /usr/bin/time -f "rss ($where, no-op rebuild, compiled): %M KiB" "$homelabc" -q build "$input" -o "$place/noop-$n" 2>&1 | tail -1 | tee -a "$summary"
    rm -rf "$place/rss-$n" "$place/noop-$n"
  done
  # Compute: render everything in memory, write nothing.
  peers=(-n "homelabc (compute)" "$homelabc -q build --check $input -o $shm/absent-$n")
  if [ -n "$jsonnet" ]; then
    peers+=(-n "jrsonnet (compute)" "cd $peer && $jsonnet -S $jsonnet_args stream.jsonnet >/dev/null")
  fi
  if [ -n "$helm" ]; then
    peers+=(-n "helm template (compute)" "$helm template bench $peer/chart -f $peer/values.yaml $helm_args >/dev/null")
  fi
  HOMELABC_CACHE_DIR='' hyperfine --style basic --runs "$r" --warmup 1 -i --export-json "$out/compute-$n.json" \
    "${peers[@]}" | tee -a "$summary"
  if kustomize_at "$n"; then
    hyperfine --style basic --runs "$(kustomize_runs "$n")" --export-json "$out/compute-$n-kustomize.json" \
      -n "kubectl kustomize (compute)" "$kubectl kustomize $peer/kustomize/$kustomize_root >/dev/null" | tee -a "$summary"
  fi
  rm -f "$shm/tree-$n.tar"
done
rm -rf "$HOMELABC_CACHE_DIR"
echo "summary: $summary"
