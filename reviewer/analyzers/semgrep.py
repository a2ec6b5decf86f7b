"""semgrep: taint analysis for Python web code, with rules written for reviewer.

The rules (``rules/semgrep/python-taint.yml``) follow request data of Flask, Django and
FastAPI/Starlette (and WSGI/CGI environ, ``input()``) to the sinks of SQL, shell, code, template,
path, redirect, XPath, LDAP, XSS, deserialization, session and SSRF weaknesses, and stop at the
sanitizers of each. A finding names its source and sink with their lines.

semgrep is not a dependency of reviewer: it pins some 30 packages (click, jsonschema,
opentelemetry, mcp, ...) that would constrain ours, so it lives in its own environment, found in
this order:

1. ``REVIEWER_SEMGREP``: its ``semgrep`` or ``semgrep-core`` executable, or the environment's
   directory;
2. beside reviewer (``semgrep-core`` or ``semgrep`` in this environment's script directories);
3. the environment reviewer's README suggests, ``<user data dir>/reviewer/semgrep`` (a venv);
4. ``semgrep-core`` or ``semgrep`` on PATH (``pipx install semgrep`` puts it there).

reviewer runs ``semgrep-core``, the engine inside the semgrep package, not the ``semgrep``
command: the command keeps the dataflow traces (and matched values) out of its JSON unless one is
logged in to semgrep's service, and it is the part that has network code (metrics, version check,
registry, login). semgrep-core reads only the rule and target files it is given: no repository
configuration (.semgrepignore, .semgrep.yml), no git, no settings file, and opens no connection.
It is given files the scanner selected, relative to the root: those that hold web code (see
``WEB_CODE``), not tests, at most 1 MB each.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tempfile
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from reviewer.analyzers.base import (
    Context,
    Hit,
    ToolFailed,
    ToolMissing,
    balanced,
    cpu_workers,
    first_line,
    one_line,
    relative_to_root,
    run_many,
    script_dirs,
    tool_env,
)
from reviewer.analyzers.tables import classify

ENV_VAR = "REVIEWER_SEMGREP"
RULES = ("rules", "semgrep", "python-taint.yml")
SUFFIXES = (".py",)
MAX_FILE_BYTES = 1_000_000  # semgrep's own default limit
PER_FILE_SECONDS = 5  # semgrep's defaults: a rule gives up on a file after 5 s ...
PER_FILE_TIMEOUTS = 3  # ... and a file is skipped after 3 rules gave up
MAX_MEMORY_MIB = 4000
_LIST_KEYS = ("pattern-sources", "pattern-sanitizers", "pattern-sinks", "pattern-propagators")


class Semgrep:
    name = "semgrep"
    install_hint = (
        "taint analysis for Python web code: pipx install semgrep, or set "
        f"{ENV_VAR} to a semgrep executable"
    )

    def wants(self, path: str) -> bool:
        return path.endswith(SUFFIXES)

    def run(self, ctx: Context, paths: list[str]) -> list[Hit]:
        core = find_semgrep_core()
        targets, too_big = _targets(ctx.root, paths)
        if too_big:
            ctx.notes.append(f"semgrep: {too_big} file(s) over 1 MB not analysed")
        if not targets:
            return []
        # one process per core, each on a share of the files of about equal size (semgrep-core's
        # own -j 2 spent 3.5x the CPU time for the same work on flask's sources)
        groups = balanced(ctx.root, targets, cpu_workers())
        with tempfile.TemporaryDirectory(prefix="reviewer-semgrep-") as tmp:
            rules_file = Path(tmp, "rules.json")
            rules_file.write_text(rules_json(), encoding="utf-8")
            argvs = []
            for n, group in enumerate(groups):
                targets_file = Path(tmp, f"targets-{n}.json")
                targets_file.write_text(targets_json(group), encoding="utf-8")
                argvs.append([
                    str(core), "-json", "-rules", str(rules_file), "-targets", str(targets_file),
                    "-timeout", str(PER_FILE_SECONDS), "-timeout_threshold", str(PER_FILE_TIMEOUTS),
                    "-max_memory", str(MAX_MEMORY_MIB), "-j", "1", "-fast",
                ])  # fmt: skip
            try:
                outs = run_many(ctx, argvs, workers=len(argvs))
            except ToolFailed as exc:
                raise ToolFailed(f"semgrep-core {core_version(core)}: {exc}") from exc
        return parse(ctx, outs)


def find_semgrep_core() -> Path:
    """The semgrep-core executable to run; ToolMissing when there is none, ToolFailed when
    REVIEWER_SEMGREP names something that is not semgrep."""
    override = os.environ.get(ENV_VAR, "").strip()
    if override:
        found = core_of(Path(override).expanduser())
        if found is None:
            raise ToolFailed(f"{ENV_VAR}={override} is not a semgrep installation")
        return found
    candidates: list[Path] = []
    for directory in script_dirs():
        candidates += [directory / "semgrep-core", directory / "semgrep"]
    candidates.append(default_env())
    for name in ("semgrep-core", "semgrep"):
        on_path = shutil.which(name)
        if on_path:
            candidates.append(Path(on_path))
    for candidate in candidates:
        found = core_of(candidate)
        if found is not None:
            return found
    raise ToolMissing("semgrep")


def default_env() -> Path:
    """Where the README suggests a venv for semgrep: ``~/.local/share/reviewer/semgrep`` on Linux."""
    import platformdirs

    return Path(platformdirs.user_data_dir("reviewer", appauthor=False)) / "semgrep"


def core_of(path: Path) -> Path | None:
    """semgrep-core for ``path``: semgrep-core itself, a ``semgrep`` executable (the engine lives
    in its environment's semgrep package), or an environment's directory."""
    exe = ".exe" if os.name == "nt" else ""
    try:
        path = path.resolve()
    except OSError:
        return None
    if path.is_dir():
        for bin_dir in ("bin", "Scripts"):
            found = core_of(path / bin_dir / f"semgrep{exe}")
            if found is not None:
                return found
        return None
    if not path.is_file():
        return None
    if path.name == f"semgrep-core{exe}":
        return path if os.access(path, os.X_OK) else None
    if path.name != f"semgrep{exe}":
        return None
    beside = path.with_name(f"semgrep-core{exe}")  # Homebrew installs both side by side
    candidates = [beside] if beside.is_file() else []
    env = path.parent.parent
    patterns = ("lib/python3*/site-packages/semgrep/bin/semgrep-core", "Lib/site-packages/semgrep/bin/semgrep-core.exe")
    for pattern in patterns:
        candidates += sorted(env.glob(pattern), reverse=True)
    return next((c for c in candidates if os.access(c, os.X_OK)), None)


def core_version(core: Path) -> str:
    """semgrep-core's version for an error message ("1.187.0"), or "?"."""
    try:
        proc = subprocess.run(
            [str(core), "-version"], capture_output=True, text=True, timeout=10, env=tool_env(), check=False
        )
    except (OSError, subprocess.SubprocessError):
        return "?"
    words = proc.stdout.split()
    return words[2] if len(words) > 2 and words[:2] == ["semgrep-core", "version:"] else "?"


@cache
def rules_json() -> str:
    """The shipped rules as semgrep-core reads them: YAML anchors resolved, and a list that
    holds a list (a shared list named with an alias) flattened one level."""
    text = resources.files("reviewer.analyzers").joinpath(*RULES).read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    for rule in data["rules"]:
        for key in _LIST_KEYS:
            if key in rule:
                rule[key] = _flatten(rule[key])
    return json.dumps(data)


def rules_by_id() -> dict[str, dict[str, Any]]:
    return {r["id"]: r for r in json.loads(rules_json())["rules"]}


def _flatten(items: list[Any]) -> list[Any]:
    out: list[Any] = []
    for item in items:
        out.extend(item if isinstance(item, list) else [item])
    return out


def targets_json(paths: list[str]) -> str:
    """The target list in semgrep-core's input format (semgrep_output_v1 ``targets``)."""
    return json.dumps(
        [
            "Targets",
            [
                ["CodeTarget", {"path": {"fpath": p, "ppath": f"/{p}"}, "analyzer": "python", "products": ["sast"]}]
                for p in paths
            ],
        ]
    )


# A file can hold a source only if it imports a web framework, reads a request's WSGI/CGI variables
# or calls input(): the others are not given to semgrep at all (most files of a library or a tool), nor are
# tests.
WEB_CODE = re.compile(
    rb"^[ \t]*(?:import|from)[ \t]+(?:flask|django|fastapi|starlette|werkzeug|rest_framework|quart)\b"
    rb"|\binput[ \t]*\(|\b(?:QUERY_STRING|PATH_INFO|REQUEST_URI|HTTP_[A-Z]+)\b|\bcgi\.",
    re.MULTILINE,
)


def _is_test(path: str) -> bool:
    """Test code, left out as semgrep's own default ignore list does: test apps echo their input
    on purpose, and their findings would be noise."""
    parts = path.split("/")
    name = parts[-1]
    return (
        any(p in ("test", "tests", "testing") for p in parts[:-1])
        or name.startswith("test_")
        or name.endswith("_test.py")
        or name == "conftest.py"
    )


def _targets(root: Path, paths: list[str]) -> tuple[list[str], int]:
    """The files worth analysing (web code, at most 1 MB) and how many were too big."""
    kept: list[str] = []
    too_big = 0
    for path in paths:
        try:
            with (root / path).open("rb") as fh:
                data = fh.read(MAX_FILE_BYTES + 1)
        except OSError:
            continue
        if len(data) > MAX_FILE_BYTES:
            too_big += 1
        elif WEB_CODE.search(data) and not _is_test(path):
            kept.append(path)
    return kept, too_big


def parse(ctx: Context, outs: list[str]) -> list[Hit]:
    """The hits of semgrep-core's outputs (one per process), one per line and CWE."""
    results: list[Any] = []
    errors: list[Any] = []
    for out in outs:
        data = _json_object(out)
        results += data.get("results") or []
        errors += data.get("errors") or []
    rules = rules_by_id()
    hits: list[Hit] = []
    seen: set[tuple[str, int, str | None]] = set()
    for item in results:
        hit = _hit(ctx, item, rules)
        if hit is None:
            continue
        key = (hit.path, hit.start_line, hit.cwe)  # two sinks of one rule on one line: one finding
        if key not in seen:
            seen.add(key)
            hits.append(hit)
    _error_notes(ctx, errors)
    return hits


def _json_object(out: str) -> dict[str, Any]:
    # semgrep-core prints a progress dot per file before the JSON document
    start = out.find("{")
    try:
        data = json.loads(out[start:]) if start >= 0 else None
    except json.JSONDecodeError as exc:
        raise ToolFailed(f"unreadable JSON output ({exc.msg})") from exc
    if not isinstance(data, dict):
        raise ToolFailed("unexpected JSON output")
    return data


def _hit(ctx: Context, item: Any, rules: dict[str, dict[str, Any]]) -> Hit | None:
    if not isinstance(item, dict):
        return None
    extra = item.get("extra") or {}
    if extra.get("is_ignored"):  # a `# nosemgrep` comment on the line: the code's own word
        return None
    path = relative_to_root(ctx.root, str(item.get("path", "")))
    start = (item.get("start") or {}).get("line")
    end = (item.get("end") or {}).get("line", start)
    if path is None or not isinstance(start, int):
        return None
    rule_id = str(item.get("check_id") or "semgrep")
    meta = extra.get("metadata") or {}
    rule = classify(
        "semgrep",
        rule_id,
        native={k: meta.get(k) for k in ("category", "severity", "confidence", "cwe", "title")},
    )
    flow = Flow.of(extra.get("dataflow_trace"))
    column = (item.get("start") or {}).get("col")
    sink = _sink_name(ctx, path, start, column) or (flow.sink.text if flow.sink else "")
    title = rule.title or rule_id
    if flow.source and sink:
        title = f"{title}: {flow.source.text} (line {flow.source.line}) reaches {sink} (line {start})"
    message = one_line(str(extra.get("message") or rules.get(rule_id, {}).get("message", "")), 600)
    related = [str(c) for c in meta.get("related_cwe") or []]
    explanation = " ".join(
        part
        for part in (
            flow.sentence(),
            message,
            f"Related: {', '.join(related)}." if related else "",
        )
        if part
    )
    return Hit(
        path=path,
        start_line=start,
        end_line=end if isinstance(end, int) else start,
        rule=rule_id,
        title=one_line(title, 200),
        message=explanation,
        category=rule.category,
        severity=rule.severity,
        confidence=rule.confidence,
        cwe=rule.cwe,
    )


def _sink_name(ctx: Context, path: str, line: int, column: Any) -> str:
    """What receives the data on the sink's line: the call whose argument it is (``cur.execute()``),
    ``session[...]`` for a store, ``return`` for a view's return value; "" when unclear."""
    file = ctx.read(path)
    lines = getattr(file, "lines", None)
    if not lines or not 1 <= line <= len(lines) or not isinstance(column, int):
        return ""
    before = lines[line - 1][: max(0, column - 1)]
    depth = 0
    for i in range(len(before) - 1, -1, -1):
        ch = before[i]
        if ch in ")]}":
            depth += 1
        elif ch in "([{":
            if depth == 0:
                if ch != "(":
                    continue
                match = _CALLEE.search(before[:i])
                if match:
                    return f"{match.group(1)}()"
                continue
            depth -= 1
    stripped = before.strip()
    if stripped.startswith("return"):
        return "return"
    store = _STORE.match(stripped)
    return f"{store.group(1)}[...]" if store else ""


_CALLEE = re.compile(r"([A-Za-z_][\w.]*)\s*$")
_STORE = re.compile(r"([A-Za-z_][\w.]*)\[.*\]\s*=$")


class Place:
    def __init__(self, text: str, line: int) -> None:
        self.text = text
        self.line = line


class Flow:
    """A result's dataflow trace: where the data comes from, the variables it passes, the sink."""

    def __init__(self, source: Place | None, through: list[Place], sink: Place | None) -> None:
        self.source = source
        self.through = through
        self.sink = sink

    @classmethod
    def of(cls, trace: Any) -> Flow:
        if not isinstance(trace, dict):
            return cls(None, [], None)
        through = []
        for var in trace.get("intermediate_vars") or []:
            place = _place(var.get("location"), var.get("content")) if isinstance(var, dict) else None
            if place is not None:
                through.append(place)
        return cls(_trace_place(trace.get("taint_source")), through, _trace_place(trace.get("taint_sink")))

    def sentence(self) -> str:
        if self.source is None or self.sink is None:
            return ""
        steps: list[str] = []
        for place in (self.source, *self.through, self.sink):
            step = f"`{place.text}` (line {place.line})"
            if place.text != "await" and step not in steps:
                steps.append(step)
        return f"Data flows {' → '.join(steps)}."


def _trace_place(node: Any) -> Place | None:
    """A CliLoc (``["CliLoc", [location, text]]``) or, for data that comes out of a call, the
    first location of a CliCall (``["CliCall", [[location, text], ...]]``)."""
    if not (isinstance(node, list) and len(node) == 2):
        return None
    kind, value = node
    if kind == "CliLoc" and isinstance(value, list) and len(value) == 2:
        return _place(value[0], value[1])
    if kind == "CliCall" and isinstance(value, list) and value:
        head = value[0]
        if isinstance(head, list) and len(head) == 2:
            return _place(head[0], head[1])
    return None


def _place(location: Any, text: Any) -> Place | None:
    if not isinstance(location, dict):
        return None
    line = (location.get("start") or {}).get("line")
    if not isinstance(line, int):
        return None
    return Place(one_line(str(text or ""), 80), line)


def _error_notes(ctx: Context, errors: list[Any]) -> None:
    """One note per kind of problem semgrep-core reports on files; a broken rule is a bug."""
    unparsed: set[str] = set()
    slow: set[str] = set()
    for error in errors:
        if not isinstance(error, dict):
            continue
        kind = str(error.get("error_type") or error.get("type") or "")
        where = str((error.get("location") or {}).get("path") or error.get("path") or "")
        if "rule" in kind.lower():
            raise ToolFailed(f"rule {error.get('rule_id')}: {first_line(str(error.get('message', '')))}")
        if "timeout" in kind.lower() or "memory" in kind.lower():
            slow.add(where)
        else:
            unparsed.add(where)
    if unparsed:
        ctx.notes.append(f"semgrep: {len(unparsed)} file(s) could not be parsed and were not fully checked")
    if slow:
        ctx.notes.append(f"semgrep: {len(slow)} file(s) took too long for some rules and were not fully checked")

