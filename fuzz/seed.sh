#!/usr/bin/env bash
# Writes the seed corpus of the fuzz target: one input per example and per UI
# case, in the target's format (the root file, then `%%% PATH` and each other
# file of the folder). The corpus is generated, not committed: it follows the
# examples and cases as they change.
set -euo pipefail
cd "$(dirname "$0")/.."
out=fuzz/corpus/compile
mkdir -p "$out"
seed() { # NAME FOLDER-OR-FILE
    local name=$1 source=$2
    {
        if [ -d "$source" ]; then
            cat "$source/homelab.kdl"
            (cd "$source" && find . -type f ! -name homelab.kdl | sort) | while read -r f; do
                printf '\n%%%%%% %s\n' "${f#./}"
                cat "$source/$f"
            done
        else
            cat "$source"
        fi
    } > "$out/$name"
}
for example in examples/*/; do seed "example-$(basename "$example")" "${example%/}"; done
for case in tests/ui/*; do seed "ui-$(basename "$case" .kdl)" "$case"; done
echo "$(ls "$out" | wc -l) seeds in $out"
