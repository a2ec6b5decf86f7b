"""Every git command the tool runs goes through here, run so that nothing in the repository can
make git start a program.

A repository's own configuration (``.git/config``, ``config.worktree`` and whatever they
include) is written by whoever made the repository, and git runs programs named there: filter
drivers (``filter.X.clean``/``smudge``/``process``, applied to the paths ``.gitattributes`` names,
even by ``git status`` when it re-hashes a file whose stat data changed), diff drivers
(``diff.X.textconv``/``command``), ``diff.external``, ``core.fsmonitor``, hooks, pagers, and for a
fetch ``core.sshCommand``, credential helpers, ``core.askPass``, ``remote.X.uploadpack``,
``core.alternateRefsCommand`` and transports such as ``ext::``. So every command gets, as
command-scope configuration (``GIT_CONFIG_COUNT``, which outranks every file and reaches git's own
child processes):

- fixed values: no fsmonitor, hooks from an empty path, ``cat`` as the pager, no external diff,
  no signature checks, implicit bare repositories refused (``safe.bareRepository=explicit``: a
  repository buried in the tree is not picked up), no recursion into submodules, no automatic gc;
- for every filter driver and diff driver defined in any configuration file: empty commands,
  and ``required = false`` (an empty command is no filter; an empty textconv makes git fail
  rather than run anything, and the diff commands pass ``--no-textconv --no-ext-diff`` anyway);
- for the fetch programs: when the repository's own files set one, the value from the user's
  own (system or global) configuration again, or git's default; credential helpers from the
  repository's files are dropped and the user's kept; ``remote.X.uploadpack`` is the one git
  takes first, not last, so a fetch names ``--upload-pack`` itself;
- ``GIT_ALLOW_PROTOCOL=https:http:ssh:file`` (no ``ext::``, no ``git://`` proxy command);
- the user's ``GIT_*`` environment is not passed on (no ``GIT_DIR`` or ``GIT_EXTERNAL_DIFF``
  from outside), there is no terminal prompt, and optional locks are off.

Git's own ownership check stays on: a repository that belongs to another user is refused
(``UnsafeRepository``, exit 2) unless the user allows its directory (``safe_directories`` in
the user configuration, ``REVIEWER_SAFE_DIRECTORIES``, ``--safe-directory``, or git's own
``safe.directory`` in the global configuration).
"""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

from reviewer.errors import InputError

FIXED_CONFIG: tuple[tuple[str, str], ...] = (
    ("core.fsmonitor", "false"),
    ("core.hooksPath", os.devnull),
    ("core.pager", "cat"),
    ("diff.external", ""),
    ("core.quotepath", "off"),
    ("log.showSignature", "false"),
    ("safe.bareRepository", "explicit"),
    ("submodule.recurse", "false"),
    ("status.submoduleSummary", "false"),
    ("diff.submodule", "short"),
    ("fetch.recurseSubmodules", "false"),
    ("gc.auto", "0"),
    ("maintenance.auto", "false"),
)
ALLOWED_PROTOCOLS = "https:http:ssh:file"
REPOSITORY_SCOPES = ("local", "worktree")
_DRIVER = re.compile(r"(filter|diff)\.(.+)\.([a-z]+)")
_FILTER_KEYS = ("clean", "smudge", "process")
# single-valued fetch programs: the value used when only the repository's files set one
_FETCH_DEFAULTS = {"core.sshcommand": "ssh", "core.askpass": "", "core.alternaterefscommand": ""}
# commands that start git-upload-pack (remote.X.uploadpack: git uses the first value it reads)
_UPLOAD_PACK_USERS = ("fetch", "ls-remote", "pull", "clone")
_CREDENTIAL_HELPER = re.compile(r"credential\.(?:.+\.)?helper")
_DUBIOUS = re.compile(r"dubious ownership in repository at '([^'\n]*)'")

# directories allowed with --safe-directory for this process (the user's flag)
_flag_safe_directories: list[str] = []


class UnsafeRepository(InputError):
    """Git refuses the repository: it belongs to another user and the user has not allowed it."""


def allow_directories(paths: Iterable[str]) -> None:
    """Directories the user allowed on the command line (``--safe-directory``), for this run."""
    _flag_safe_directories[:] = [str(p) for p in paths]


def safe_directories(environ: dict[str, str] | None = None) -> list[str]:
    """Every directory the user allowed: the flag, ``REVIEWER_SAFE_DIRECTORIES`` (comma-separated)
    and ``safe_directories`` in the user configuration file. Never the repository's own files."""
    from reviewer.config import user_safe_directories

    env = os.environ if environ is None else environ
    out = list(_flag_safe_directories)
    out += [p.strip() for p in env.get("REVIEWER_SAFE_DIRECTORIES", "").split(",") if p.strip()]
    out += user_safe_directories(env)
    return out


def _safe_directory_values(root: Path, allowed: list[str]) -> list[str]:
    """``safe.directory`` values for ``root``: each allowed directory, and ``root`` with its
    parents up to an allowed directory it lies in (git compares the top of the work tree
    exactly, and that may be any of them)."""
    if not allowed:
        return []
    values: list[str] = []
    here = Path(os.path.abspath(root))
    for entry in allowed:
        if entry == "*":
            values.append("*")
            continue
        base = Path(os.path.abspath(os.path.expanduser(entry)))
        values.append(str(base))
        for candidate in {here, Path(os.path.realpath(here))}:
            if candidate == base or base in candidate.parents:
                values += [str(p) for p in (candidate, *candidate.parents) if p == base or base in p.parents]
    return list(dict.fromkeys(values))


def _base_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update({"GIT_TERMINAL_PROMPT": "0", "GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C",
                "GIT_ALLOW_PROTOCOL": ALLOWED_PROTOCOLS, "GIT_PAGER": "cat"})
    return env


def _with_config(env: dict[str, str], pairs: list[tuple[str, str]]) -> dict[str, str]:
    out = dict(env)
    out["GIT_CONFIG_COUNT"] = str(len(pairs))
    for i, (key, value) in enumerate(pairs):
        out[f"GIT_CONFIG_KEY_{i}"] = key
        out[f"GIT_CONFIG_VALUE_{i}"] = value
    return out


def config_entries(root: Path, extra: list[tuple[str, str]] | None = None) -> list[tuple[str, str, str | None]]:
    """``(scope, key, value)`` of every configuration entry git would read in ``root``, in order
    (includes followed; a repository that git refuses contributes nothing). ``extra``: the
    command-scope entries the real command will have (``safe.directory`` among them: with it,
    git reads a repository it would otherwise ignore, so the listing must see it the same way)."""
    try:
        proc = subprocess.run(
            ["git", "--no-pager", "-C", str(root), "config", "--list", "-z", "--show-scope"],
            capture_output=True, env=_with_config(_base_env(), [*FIXED_CONFIG, *(extra or [])]), timeout=30,
            check=False,
        )
    except FileNotFoundError as exc:
        raise InputError("git is not installed") from exc
    except subprocess.TimeoutExpired as exc:
        raise InputError("git config timed out after 30s") from exc
    if proc.returncode != 0:
        msg = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise InputError(f"git cannot read the configuration of {root}: {msg[-1] if msg else proc.returncode}")
    fields = proc.stdout.decode("utf-8", "surrogateescape").split("\0")
    out: list[tuple[str, str, str | None]] = []
    for scope, entry in zip(fields[0::2], fields[1::2], strict=False):
        key, sep, value = entry.partition("\n")
        out.append((scope, key, value if sep else None))
    return out


def neutralising_config(entries: list[tuple[str, str, str | None]]) -> list[tuple[str, str]]:
    """The command-scope entries that take every program in ``entries`` away (see the module's
    description), after the fixed ones."""
    pairs = list(FIXED_CONFIG)
    filters: dict[str, None] = {}
    diffs: dict[str, None] = {}
    for _, key, _ in entries:
        m = _DRIVER.fullmatch(key)
        if m:
            (filters if m.group(1) == "filter" else diffs)[m.group(2)] = None
    for name in filters:
        pairs += [(f"filter.{name}.{k}", "") for k in _FILTER_KEYS] + [(f"filter.{name}.required", "false")]
    for name in diffs:
        pairs += [(f"diff.{name}.textconv", ""), (f"diff.{name}.command", "")]
    # single-valued fetch programs: the last entry wins; when it is the repository's, put the
    # user's own value (or git's default) after it
    last: dict[str, tuple[str, str | None]] = {}
    protected: dict[str, str | None] = {}
    for scope, key, value in entries:
        if key in _FETCH_DEFAULTS:
            last[key] = (scope, value)
            if scope not in REPOSITORY_SCOPES:
                protected[key] = value
    for key, (scope, _) in last.items():
        if scope in REPOSITORY_SCOPES:
            pairs.append((key, protected.get(key) or _FETCH_DEFAULTS[key]))
    # credential helpers form a list: when the repository adds one, empty the list and add the
    # user's own again, in their order
    helpers = [(scope, key, value) for scope, key, value in entries if _CREDENTIAL_HELPER.fullmatch(key)]
    if any(scope in REPOSITORY_SCOPES for scope, _, _ in helpers):
        pairs.append(("credential.helper", ""))
        pairs += [(key, value or "") for scope, key, value in helpers if scope not in REPOSITORY_SCOPES]
    return pairs


def git_env(root: Path) -> dict[str, str]:
    """The environment every git command in ``root`` runs with (see the module's description)."""
    allowed = [("safe.directory", d) for d in _safe_directory_values(root, safe_directories())]
    pairs = neutralising_config(config_entries(root, allowed)) + allowed
    return _with_config(_base_env(), pairs)


def git_command(root: Path, *args: str) -> list[str]:
    """The argument vector of a git command run in ``root``."""
    if args and args[0] in _UPLOAD_PACK_USERS:
        args = (args[0], "--upload-pack=git-upload-pack", *args[1:])
    return ["git", "--no-pager", "-C", str(root), *args]


def _check_owner(root: Path, stderr: bytes) -> None:
    text = stderr.decode("utf-8", "replace")
    m = _DUBIOUS.search(text)
    if m is None:
        return
    where = m.group(1) or str(root)
    try:
        owner = f" (uid {os.stat(where).st_uid})"
    except OSError:
        owner = ""
    raise UnsafeRepository(
        f"git refuses {where}: it belongs to another user{owner}, and its configuration could run programs as "
        f"you; if you trust it, allow it: reviewer --safe-directory {where} ... (or REVIEWER_SAFE_DIRECTORIES, "
        "or safe_directories in your user configuration file)"
    )


def run_git(root: Path, *args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess[bytes]:
    try:
        proc = subprocess.run(
            git_command(root, *args),
            capture_output=True,
            env=git_env(root),
            timeout=timeout,
            check=False,
        )
    except FileNotFoundError as exc:
        raise InputError("git is not installed") from exc
    except subprocess.TimeoutExpired as exc:
        raise InputError(f"git {args[0]} timed out after {timeout:.0f}s") from exc
    if proc.returncode != 0:
        _check_owner(root, proc.stderr)
    if check and proc.returncode != 0:
        msg = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise InputError(f"git {args[0]} failed: {msg[-1] if msg else proc.returncode}")
    return proc


class GitStream:
    """A git command whose output is read as it comes (``stdout``), for output too large to hold:
    ``with GitStream(root, "diff", ...) as out: ...``. Its errors go to a temporary file, read
    when it ends (``close`` raises for a failed command unless ``check`` is False)."""

    def __init__(self, root: Path, *args: str, stdin: int | None = None, check: bool = True) -> None:
        self.root = root
        self.args = args
        self.check = check
        self._err: IO[bytes] = tempfile.TemporaryFile()  # noqa: SIM115 - closed in close()
        try:
            self.proc = subprocess.Popen(git_command(root, *args), stdin=stdin, stdout=subprocess.PIPE,
                                         stderr=self._err, env=git_env(root))
        except FileNotFoundError as exc:
            self._err.close()
            raise InputError("git is not installed") from exc
        assert self.proc.stdout is not None
        self.stdout: IO[bytes] = self.proc.stdout
        self.stdin: IO[bytes] | None = self.proc.stdin
        self._feeder: threading.Thread | None = None

    def feed(self, lines: list[str]) -> None:
        """Write ``lines`` to git's input from a thread, then close it: git stops reading while
        its output is unread, so writing them all before reading could wait forever."""
        stdin = self.stdin
        assert stdin is not None

        def write() -> None:
            try:
                for i in range(0, len(lines), 256):
                    stdin.write("".join(f"{line}\n" for line in lines[i:i + 256]).encode("utf-8", "surrogateescape"))
                stdin.close()
            except OSError:  # git ended early (the reader stopped on an error): nothing more to send
                pass

        self._feeder = threading.Thread(target=write, daemon=True)
        self._feeder.start()

    def __enter__(self) -> GitStream:
        return self

    def __exit__(self, exc_type: Any, *rest: Any) -> None:
        self.close(failed=exc_type is not None)

    def close(self, *, failed: bool = False, timeout: float = 60) -> int:
        """Stop reading and wait for git; raises for a failed command (unless ``failed``: an
        error is already on its way, or the reader stopped early on purpose)."""
        self.stdout.close()
        if self._feeder is not None:
            self._feeder.join(timeout=timeout)
        try:
            code = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        self._err.seek(0)
        err = self._err.read(1 << 16)
        self._err.close()
        if code != 0 and not failed:
            _check_owner(self.root, err)
            if self.check:
                msg = err.decode("utf-8", "replace").strip().splitlines()
                raise InputError(f"git {self.args[0]} failed: {msg[-1] if msg else code}")
        return code


def uncommitted(root: Path) -> list[str]:
    """Files with uncommitted changes, and untracked ones not ignored, relative to the top of the
    work tree (``git status``; empty when git fails)."""
    proc = run_git(root, "status", "--porcelain=v1", "-z", "--untracked-files=all", "--no-renames",
                   "--ignore-submodules=all", check=False)
    return [entry[3:] for entry in proc.stdout.decode("utf-8", "surrogateescape").split("\0") if len(entry) > 3]


def is_work_tree(root: Path) -> bool:
    """True when ``root`` is inside a git work tree (not inside .git itself). A repository that
    belongs to another user raises ``UnsafeRepository`` rather than passing for a plain directory."""
    try:
        proc = run_git(root, "rev-parse", "--is-inside-work-tree", check=False, timeout=30)
    except UnsafeRepository:
        raise
    except InputError:
        return False
    return proc.returncode == 0 and proc.stdout.strip() == b"true"


def ls_files(root: Path) -> list[str]:
    """Tracked and untracked-but-not-ignored files below ``root``, relative to it, exactly as git
    sees them (.gitignore, .git/info/exclude and the global excludes file all apply)."""
    proc = run_git(root, "ls-files", "-co", "--exclude-standard", "-z")
    out = proc.stdout.decode("utf-8", "surrogateescape").split("\0")
    # a path that is both tracked and deleted-then-recreated can be listed twice: keep one
    return sorted({p for p in out if p})


def is_ignored(root: Path, rel: str) -> bool:
    """True when git ignores ``rel`` (an untracked path that .gitignore and the other exclude
    files leave out; a tracked file never is)."""
    proc = run_git(root, "check-ignore", "-q", "--", rel, check=False, timeout=30)
    return proc.returncode == 0
