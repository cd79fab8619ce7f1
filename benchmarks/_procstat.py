"""Tiny /proc helpers for http_load.sh (Linux only).

    python _procstat.py cpu PID          CPU seconds (user+sys) of PID and all its descendants
    python _procstat.py snap PID         the same, then the voluntary context switches of their threads
    python _procstat.py run CMD ...      run CMD; print its CPU seconds (user+sys) on stderr's last line
    python _procstat.py quiet [--idle 0.75] [--max 20]
                                          wait (at most --max s) until the machine was at least
                                          --idle idle over one second; prints the idle fraction seen
    python _procstat.py busy SECONDS      print the machine's busy fraction over SECONDS

The machine these benchmarks run on is shared, so http_load.sh waits for a quiet second before
each run and reports the app's CPU time per request next to wall-clock throughput.
"""

from __future__ import annotations

import argparse
import os
import time

_TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> tuple[int, float] | None:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return None
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / _TICK  # ppid, utime+stime


def tree_cpu(root: int) -> float:
    stats = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            st = _stat(int(name))
            if st is not None:
                stats[int(name)] = st
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in stats.items():
        children.setdefault(ppid, []).append(pid)
    total, todo = 0.0, [root]
    while todo:
        pid = todo.pop()
        if pid in stats:
            total += stats[pid][1]
        todo.extend(children.get(pid, []))
    return total


def _tree(root: int) -> list[int]:
    parents = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            st = _stat(int(name))
            if st is not None:
                parents[int(name)] = st[0]
    pids, todo = [], [root]
    while todo:
        pid = todo.pop()
        pids.append(pid)
        todo.extend(child for child, parent in parents.items() if parent == pid)
    return pids


def context_switches(root: int) -> int:
    """Voluntary context switches (a thread blocked: lock, condition, socket wait) of every thread
    of `root` and its descendants. Involuntary ones (preemption) are left out: they mostly measure
    other load on the machine."""
    total = 0
    for pid in _tree(root):
        try:
            tids = os.listdir(f"/proc/{pid}/task")
        except FileNotFoundError:
            continue
        for tid in tids:
            try:
                with open(f"/proc/{pid}/task/{tid}/status") as fh:
                    for line in fh:
                        if line.startswith("voluntary_ctxt_switches"):
                            total += int(line.split()[1])
            except (FileNotFoundError, ProcessLookupError):
                continue
    return total


def _cpu_times() -> tuple[int, int]:
    with open("/proc/stat") as fh:
        values = [int(v) for v in fh.readline().split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values[:8]), idle


def idle_fraction(seconds: float) -> float:
    total0, idle0 = _cpu_times()
    time.sleep(seconds)
    total1, idle1 = _cpu_times()
    return (idle1 - idle0) / max(1, total1 - total0)


def main() -> None:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="cmd", required=True)
    cpu = sub.add_parser("cpu")
    cpu.add_argument("pid", type=int)
    snap = sub.add_parser("snap")
    snap.add_argument("pid", type=int)
    run = sub.add_parser("run")
    run.add_argument("argv", nargs=argparse.REMAINDER)
    quiet = sub.add_parser("quiet")
    quiet.add_argument("--idle", type=float, default=0.75)
    quiet.add_argument("--max", type=float, default=20.0)
    busy = sub.add_parser("busy")
    busy.add_argument("seconds", type=float)
    args = parser.parse_args()
    if args.cmd == "cpu":
        print(f"{tree_cpu(args.pid):.2f}")
    elif args.cmd == "snap":
        print(f"{tree_cpu(args.pid):.2f} {context_switches(args.pid)}")
    elif args.cmd == "run":
        import resource
        import subprocess
        import sys

        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        code = subprocess.call(args.argv)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        used = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        print(f"{used:.2f}", file=sys.stderr)
        raise SystemExit(code)
    elif args.cmd == "busy":
        print(f"{1 - idle_fraction(args.seconds):.3f}")
    else:
        deadline = time.monotonic() + args.max
        idle = idle_fraction(1.0)
        while idle < args.idle and time.monotonic() < deadline:
            idle = idle_fraction(1.0)
        print(f"{idle:.3f}")


if __name__ == "__main__":
    main()
