#!/usr/bin/env python3
"""Whole processes timed in turn, run after run:

    interleave.py RUNS NAME=COMMAND [NAME=COMMAND...]

Each run starts every command once, in turn (the order reversed every other
run), so that a machine whose speed drifts over minutes weighs on each
command alike, where hyperfine times one command's runs before the next's.
A command is split as a shell would split it, without a shell: no process
stands between the timer and the program. Its standard output and error go
to /dev/null, and its exit code is not looked at (`build --check` against an
absent folder exits 2).

Prints each command's medians: wall time, CPU time (user and system, from
the kernel's accounting of the process and the threads it waited for),
system time alone, and peak RSS.
"""
import os
import shlex
import shutil
import statistics
import sys
import time


def run(argv):
    """Wall ms, CPU ms, system ms and peak RSS (MiB) of one run of `argv`."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    actions = [(os.POSIX_SPAWN_DUP2, devnull, 1), (os.POSIX_SPAWN_DUP2, devnull, 2)]
    start = time.perf_counter()
    pid = os.posix_spawnp(argv[0], argv, os.environ, file_actions=actions)
    _, _, usage = os.wait4(pid, 0)
    wall = (time.perf_counter() - start) * 1e3
    os.close(devnull)
    return wall, (usage.ru_utime + usage.ru_stime) * 1e3, usage.ru_stime * 1e3, usage.ru_maxrss / 1024


def main(runs, commands):
    named = [command.split("=", 1) for command in commands]
    for name, command in named:
        program = shlex.split(command)[:1]
        if not program or not shutil.which(program[0]):
            sys.exit(f"interleave.py: {name}: no program `{' '.join(program)}` to run")
    results = {name: [] for name, _ in named}
    for i in range(runs):
        for name, command in named if i % 2 == 0 else reversed(named):
            results[name].append(run(shlex.split(command)))
    width = max(len(name) for name, _ in named)
    for name, _ in named:
        wall, cpu, system, rss = (statistics.median(column) for column in zip(*results[name]))
        print(f"{name:<{width}}  wall {wall:8.1f} ms  cpu {cpu:8.1f} ms  system {system:7.1f} ms  rss {rss:7.1f} MiB")


if __name__ == "__main__":
    if len(sys.argv) < 3 or not all("=" in command for command in sys.argv[2:]):
        sys.exit(__doc__)
    main(int(sys.argv[1]), sys.argv[2:])
