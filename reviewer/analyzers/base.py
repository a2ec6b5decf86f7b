"""What every analyzer adapter shares: the hit it reports, finding its tool, running it safely.

An adapter runs one maintained tool as a subprocess on repository-relative paths and turns the
tool's native JSON into ``Hit`` objects. The tools only read files; nothing in the repository is
executed, and the repository's own configuration for a tool is never read (each adapter passes
flags that make the tool ignore it).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import sysconfig
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol


@dataclass
class Hit:
    """One result of one rule, already classified (see tables.toml)."""

    path: str  # repository-relative POSIX path
    start_line: int  # 1-based
    end_line: int
    rule: str  # the tool's rule id: "S608", "B105", "js-innerhtml", "password-or-key"
    title: str
    message: str  # the tool's own words, one line
    category: str
    severity: str
    confidence: float
    cwe: str | None = None
    url: str | None = None
    related_cwe: tuple[str, ...] = ()  # further CWE ids the explanation names


class ToolMissing(Exception):
    """The analyzer's tool is not installed in this Python environment."""


class ToolFailed(Exception):
    """The tool ran but gave no usable answer."""


class ToolTimeout(Exception):
    """The tool did not finish before its deadline."""


@dataclass
class Context:
    """What an adapter gets for one run: the root, a deadline and the shared file reader."""

    root: Path
    deadline: float  # time.monotonic() value
    read: Callable[[str], object]  # path -> evidence.SourceFile | None (shared, thread-safe)
    notes: list[str] = field(default_factory=list)  # partial problems worth one line each

    def remaining(self) -> float:
        return self.deadline - time.monotonic()


class Analyzer(Protocol):
    name: str
    install_hint: str

    def wants(self, path: str) -> bool:
        """True for the files this analyzer reads."""
        ...

    def run(self, ctx: Context, paths: list[str]) -> list[Hit]:
        """Analyze ``paths``; raise ToolMissing, ToolFailed or ToolTimeout."""
        ...


_SCRIPT_DIRS: list[Path] = []
_SCRIPT_DIRS_LOCK = threading.Lock()


def script_dirs() -> list[Path]:
    """Where this Python environment installs executables: the tools are looked up here only,
    never on PATH, so the versions run are the ones installed beside reviewer. Worked out once,
    under a lock: the analyzers look their tools up from several threads, and sysconfig's first
    use is not thread-safe (a concurrent first call fails with 'userbase')."""
    with _SCRIPT_DIRS_LOCK:
        if not _SCRIPT_DIRS:
            _SCRIPT_DIRS.extend(_find_script_dirs())
        return list(_SCRIPT_DIRS)


def _find_script_dirs() -> list[Path]:
    dirs: list[Path] = []
    for candidate in (
        sysconfig.get_path("scripts"),
        str(Path(sys.executable).parent),
        _user_scripts(),
    ):
        if candidate and Path(candidate) not in dirs:
            dirs.append(Path(candidate))
    return dirs


def _user_scripts() -> str | None:
    scheme = f"{os.name}_user"
    if scheme not in sysconfig.get_scheme_names():
        return None
    try:
        return sysconfig.get_path("scripts", scheme)
    except KeyError:
        return None


def find_tool(name: str) -> Path:
    """The executable ``name`` from this environment's script directories, or ToolMissing."""
    suffixes = ("", ".exe") if os.name == "nt" else ("",)
    for directory in script_dirs():
        for suffix in suffixes:
            candidate = directory / f"{name}{suffix}"
            if candidate.is_file() and os.access(candidate, os.X_OK):
                return candidate
    raise ToolMissing(name)


def tool_env() -> dict[str, str]:
    """The environment for a tool: ours without Python's search-path variables (a PYTHONPATH that
    names the repository would let it shadow the tool's own modules), no colour."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env["NO_COLOR"] = "1"
    return env


def run_tool(ctx: Context, argv: list[str], *, ok_codes: tuple[int, ...] = (0,)) -> str:
    """Run ``argv`` in the repository root and return its stdout; ToolTimeout after the deadline,
    ToolFailed on an unexpected exit code (with the first line of its stderr)."""
    timeout = ctx.remaining()
    if timeout <= 0:
        raise ToolTimeout
    try:
        proc = subprocess.Popen(
            argv,
            cwd=ctx.root,
            env=tool_env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            # its own process group, so a timeout ends whatever the tool started too
            start_new_session=os.name != "nt",
        )
    except OSError as exc:  # not executable, vanished between lookup and start
        raise ToolFailed(f"could not start: {exc.strerror or exc}") from exc
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        _kill(proc)
        proc.communicate()
        raise ToolTimeout from exc
    except BaseException:  # interrupted: leave no tool running behind us
        _kill(proc)
        proc.wait()
        raise
    if proc.returncode not in ok_codes:
        raise ToolFailed(f"exit {proc.returncode}: {first_line(err)}")
    return out.decode("utf-8", "replace")


def _kill(proc: subprocess.Popen[bytes]) -> None:
    if os.name != "nt":
        try:
            os.killpg(proc.pid, signal.SIGKILL)
            return
        except OSError:
            pass
    proc.kill()


def first_line(data: bytes | str) -> str:
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    for line in text.splitlines():
        if line.strip():
            return line.strip()[:200]
    return "no message"


# A command line stays well under every platform's limit (Windows: 32,767 characters).
_MAX_ARGS_CHARS = 24_000


def chunked(paths: list[str], limit: int = _MAX_ARGS_CHARS) -> Iterator[list[str]]:
    """``paths`` in groups whose joined length stays under ``limit`` characters."""
    chunk: list[str] = []
    size = 0
    for path in paths:
        if chunk and size + len(path) + 1 > limit:
            yield chunk
            chunk, size = [], 0
        chunk.append(path)
        size += len(path) + 1
    if chunk:
        yield chunk


def relative_to_root(root: Path, reported: str) -> str | None:
    """A path a tool printed (absolute, ``./x`` or relative to the root) as a repository-relative
    POSIX path, or None when it points outside the root."""
    p = Path(reported)
    if not p.is_absolute():
        p = Path(os.path.abspath(root)) / p
    p = Path(os.path.normpath(p))
    for base in (os.path.abspath(root), os.path.realpath(root)):
        try:
            posix = p.relative_to(base).as_posix()
        except ValueError:
            continue
        return None if posix in ("", ".") or posix.startswith("../") else posix
    return None


def one_line(text: str, limit: int = 300) -> str:
    """Whitespace collapsed, control characters dropped, at most ``limit`` characters."""
    cleaned = " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1].rstrip() + "…"


def balanced(root: Path, paths: list[str], bins: int) -> list[list[str]]:
    """``paths`` split into at most ``bins`` groups of about equal total size (largest first into
    the lightest group), each group then cut to fit a command line; input order kept inside."""
    sizes: dict[str, int] = {}
    for path in paths:
        try:
            sizes[path] = (root / path).stat().st_size
        except OSError:
            sizes[path] = 0
    groups: list[list[str]] = [[] for _ in range(max(1, min(bins, len(paths))))]
    loads = [0] * len(groups)
    for path in sorted(paths, key=lambda p: -sizes[p]):
        lightest = loads.index(min(loads))
        groups[lightest].append(path)
        loads[lightest] += sizes[path]
    order = {p: i for i, p in enumerate(paths)}
    return [chunk for g in groups if g for chunk in chunked(sorted(g, key=order.__getitem__))]


def run_many(
    ctx: Context, argvs: list[list[str]], *, workers: int, ok_codes: tuple[int, ...] = (0,)
) -> list[str]:
    """``run_tool`` for each command, ``workers`` at a time; outputs in the order given. The
    first failure is raised once every started command has ended."""
    if len(argvs) <= 1 or workers <= 1:
        return [run_tool(ctx, argv, ok_codes=ok_codes) for argv in argvs]
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="tool") as pool:
        futures = [pool.submit(run_tool, ctx, argv, ok_codes=ok_codes) for argv in argvs]
        return [f.result() for f in futures]


def cpu_workers(limit: int = 4) -> int:
    """How many processes of one tool to run side by side."""
    try:
        available = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        available = os.cpu_count() or 1
    return max(1, min(limit, available))
