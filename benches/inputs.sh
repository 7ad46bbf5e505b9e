# The inputs of the whole-process benchmarks, shared by benches/whole.sh and
# benches/compare.sh (sourced, from the repository's root, with $disk set):
# the homelab of benches/build.rs for N apps in $disk/in-N (3 nodes up to 100
# apps, 10 up to 1,000, 20 up to 10,000, 100 above: 20 nodes' CPUs cannot hold
# the requests of 100,000 apps, E0701) and the peers' input for it in
# $disk/peer-N (benches/peers/generate.py).

generate() { # N
  local n=$1 nodes=3
  [ "$n" -gt 100 ] && nodes=10
  [ "$n" -gt 1000 ] && nodes=20
  [ "$n" -gt 10000 ] && nodes=100
  if [ ! -f "$disk/in-$n/homelab.kdl" ]; then
    cargo bench --quiet --bench build -- --write "$disk/in-$n" "${nodes}x$n" >/dev/null
  fi
  # The peers' inputs (benches/peers/generate.py), again whenever benches/peers/ changed.
  local stamp=$disk/peer-$n/.generated
  if [ ! -f "$stamp" ] || [ -n "$(find benches/peers -newer "$stamp" -print -quit)" ]; then
    python3 benches/peers/generate.py "$n" "$disk/peer-$n"
    touch "$stamp"
  fi
}
