"""semantics-gate.py SEMANTICS_PY TREE EXAMPLE KNOWN_FILE

Runs ../shared/validate/semantics.py on one example's tree and fails on any violation
that KNOWN_FILE does not list for that example. KNOWN_FILE lists violations a later issue
removes (one `example: violation` per line); a listed violation that is no longer reported
fails too, so the list only shrinks.
"""
import subprocess
import sys


def main():
    semantics, tree, example, known_file = sys.argv[1:5]
    run = subprocess.run([sys.executable, semantics, tree], capture_output=True, text=True)
    lines = run.stdout.splitlines()
    if not lines or "objects," not in lines[-1]:
        print(run.stdout + run.stderr)
        print(f"{example}: semantics.py did not finish")
        return 1
    reported = [l for l in lines[:-1] if l.strip()]
    known = []
    with open(known_file) as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith(f"{example}: "):
                known.append(line[len(example) + 2:])
    unexpected = [v for v in reported if v not in known]
    stale = [k for k in known if k not in reported]
    for v in unexpected:
        print(f"{example}: {v}")
    for k in stale:
        print(f"{example}: no longer reported, remove it from {known_file}: {k}")
    print(f"{example}: {lines[-1]} ({len(known)} known)")
    return 1 if unexpected or stale else 0


if __name__ == "__main__":
    sys.exit(main())
