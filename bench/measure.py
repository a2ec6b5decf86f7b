"""Run a command and report its wall time, CPU time and peak memory (of it and its children).

Used by the benchmarks to measure ``reviewer`` and its peers the same way in the same run.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import time
from dataclasses import dataclass

_CHILD = r"""
import json, resource, subprocess, sys, time
t = time.perf_counter()
p = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
wall = time.perf_counter() - t
ru = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"rc": p.returncode, "wall": wall, "rss_kb": ru.ru_maxrss, "cpu": ru.ru_utime + ru.ru_stime,
                  "stderr": p.stderr.decode("utf-8", "replace")[-2000:]}))
"""


@dataclass
class Measurement:
    rc: int
    wall: float  # seconds
    peak_rss_mb: float
    stderr: str
    cpu: float = 0.0  # user + system seconds, children included (less sensitive to other load than wall)


def measure(argv: list[str], cwd: str | None = None) -> Measurement:
    """Run ``argv`` in a fresh wrapper process, so the peak RSS is this command's own."""
    out = subprocess.run([sys.executable, "-c", _CHILD, *argv], capture_output=True, text=True, cwd=cwd, check=False)
    data = json.loads(out.stdout.strip().splitlines()[-1])
    return Measurement(data["rc"], data["wall"], data["rss_kb"] / 1024, data["stderr"], data.get("cpu", 0.0))


def rss_now_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    t = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - t
