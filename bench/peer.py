"""repomix, the peer the packing benchmarks measure beside ``reviewer pack`` in the same run.

Found as ``REPOMIX`` (a path to its binary), ``repomix`` on PATH, or ``npx -y repomix``. Since
1.17 repomix keeps token counts between runs in a file under the temporary directory
(``$TMPDIR/repomix/cache``), so its second run on a tree is a warm one: a cold run here points that
cache at a new empty directory (``REPOMIX_TOKEN_CACHE_PATH``), a warm run at one filled before.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path


def repomix_command(explicit: str | None = None) -> list[str] | None:
    binary = explicit or os.environ.get("REPOMIX") or shutil.which("repomix")
    if binary and Path(binary).exists():
        return [binary]
    if shutil.which("npx"):
        return ["npx", "-y", "repomix"]
    return None


def repomix_version(cmd: list[str]) -> str:
    try:
        out = subprocess.run([*cmd, "--version"], capture_output=True, text=True, timeout=120, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return out.stdout.strip().splitlines()[-1] if out.stdout.strip() else "unknown"


def repomix_env(cache_dir: Path) -> dict[str, str]:
    """The environment for a repomix run whose token-count cache lives in ``cache_dir`` (a new
    empty directory: a cold run; one an earlier run filled: a warm one)."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    return {**os.environ, "REPOMIX_TOKEN_CACHE_PATH": str(cache_dir / "token-counts.json")}
