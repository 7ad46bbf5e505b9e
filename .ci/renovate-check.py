#!/usr/bin/env python3
"""Renovate itself reads the shipped preset (issue 20, README "Renovate").

Usage: renovate-check.py NODE RENOVATE_DIST EXPECTED

1. `renovate-config-validator` accepts renovate/homelabc.json5 as a repository config.
2. An offline extraction dry run (`--platform=local --dry-run=extract`) over a Git copy of
   examples/ finds exactly the dependencies EXPECTED lists (one `file depName value datasource`
   line each, sorted): every image tag, step image, chart, cluster release and stdlib pin.
   Set HOMELABC_BLESS=1 to rewrite EXPECTED from the run (then review its diff).
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

node, dist, expected_path = sys.argv[1:4]
root = os.getcwd()
env = dict(os.environ, LOG_LEVEL="debug", LOG_FORMAT="json", RENOVATE_ONBOARDING="false",
           RENOVATE_REQUIRE_CONFIG="optional", RENOVATE_BASE_DIR=tempfile.mkdtemp())
with tempfile.TemporaryDirectory() as repo:
    shutil.copytree(os.path.join(root, "examples"), os.path.join(repo, "examples"))
    shutil.copy(os.path.join(root, "renovate", "homelabc.json5"), os.path.join(repo, "renovate.json5"))
    git = ["git", "-c", "user.name=ci", "-c", "user.email=ci@localhost"]
    subprocess.run(["git", "init", "-q", repo], check=True)
    subprocess.run(git + ["-C", repo, "add", "-A"], check=True)
    subprocess.run(git + ["-C", repo, "commit", "-qm", "examples"], check=True)
    subprocess.run([node, os.path.join(dist, "config-validator.js"), "--strict"], cwd=repo, env=env, check=True)
    run = subprocess.run([node, os.path.join(dist, "renovate.js"), "--platform=local", "--dry-run=extract"],
                         cwd=repo, env=env, capture_output=True, text=True, timeout=600)
found = []
for line in run.stdout.splitlines() + run.stderr.splitlines():
    try:
        record = json.loads(line)
    except ValueError:
        continue
    if record.get("level", 0) >= 50:
        print(line, file=sys.stderr)
    if record.get("msg") != "Extracted dependencies":
        continue
    for files in record["packageFiles"].values():
        for package_file in files:
            for dep in package_file["deps"]:
                name = dep.get("packageName") or dep.get("depName")
                value = dep.get("currentValue") or ""
                found.append(f'{package_file["packageFile"]} {name} {value} {dep.get("datasource")}')
found.sort()
if run.returncode != 0:
    sys.exit(f"renovate exited with {run.returncode}")
if os.environ.get("HOMELABC_BLESS"):
    with open(expected_path, "w") as out:
        out.write("".join(f"{line}\n" for line in found))
with open(expected_path) as f:
    expected = [line.rstrip("\n") for line in f if line.strip()]
missing = sorted(set(expected) - set(found))
extra = sorted(set(found) - set(expected))
for line in missing:
    print(f"not extracted: {line}", file=sys.stderr)
for line in extra:
    print(f"extracted, not expected: {line}", file=sys.stderr)
if missing or extra or len(found) != len(expected):
    sys.exit("Renovate's extraction differs from .ci/renovate-expected.txt")
print(f"Renovate extracted the {len(found)} expected dependencies")
