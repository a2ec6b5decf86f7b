"""Run a command and report its wall time, CPU time and peak memory, the same way for every tool.

Peak memory is that of the whole process tree (the command and every process it starts, summed),
sampled from /proc every 20 ms: a tool that works in worker processes is charged for all of them.
CPU time is user + system of the command and of every descendant it waited for (``wait4``).
Used by the benchmarks to measure ``reviewer`` and its peers in the same run.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from dataclasses import dataclass

_PAGE_KB = os.sysconf("SC_PAGE_SIZE") // 1024


@dataclass
class Measurement:
    rc: int
    wall: float  # seconds
    peak_rss_mb: float  # the process tree's, summed
    cpu: float  # user + system seconds of the tree
    stdout: str
    stderr: str
    load: float  # one-minute load average when the command started


def tree_rss_kb(root_pid: int) -> int:
    """Sum of the resident memory of ``root_pid`` and all its descendants (one read per process)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                fields = fh.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        pid = int(entry)
        children.setdefault(int(fields[1]), []).append(pid)
        rss[pid] = int(fields[21]) * _PAGE_KB  # field 24 of stat: resident pages
    total, stack = 0, [root_pid]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack.extend(children.get(pid, []))
    return total


def measure(argv: list[str], env: dict[str, str] | None = None, cwd: str | None = None) -> Measurement:
    load = os.getloadavg()[0]
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=cwd)
    out: dict[str, bytes] = {}

    def drain(name: str, stream: object) -> None:
        out[name] = stream.read()  # type: ignore[attr-defined]

    readers = [threading.Thread(target=drain, args=(n, s), daemon=True)
               for n, s in (("out", proc.stdout), ("err", proc.stderr))]
    for r in readers:
        r.start()
    peak = 0
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        peak = max(peak, tree_rss_kb(proc.pid))
        time.sleep(0.02)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    for r in readers:
        r.join()
    return Measurement(proc.returncode, wall, peak / 1024, usage.ru_utime + usage.ru_stime,
                       out.get("out", b"").decode("utf-8", "replace"), out.get("err", b"").decode("utf-8", "replace"),
                       load)
