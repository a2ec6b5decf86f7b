"""A real HTTP server on 127.0.0.1 playing GitLab's REST API (v4) for a merge-request bot.

It holds merge requests whose target and source are branches of real git repositories on disk
and answers the calls ``reviewer pr --forge gitlab`` makes, as GitLab does:

- ``GET /projects/:id/merge_requests/:iid`` (with ``diff_refs``), ``.../versions``, ``.../diffs``,
  ``.../discussions``, ``.../notes``; ``POST .../discussions`` (a thread on the diff),
  ``POST .../notes`` and ``PUT .../notes/:note_id``. ``:id`` is the numeric id or the URL-encoded
  path, as in GitLab.
- every request body is validated (``jsonschema``) against a schema written from GitLab's API
  documentation for that endpoint (types, required attributes, ``position_type`` values, no
  unknown attributes); an invalid body is answered 400 and counted in ``schema_invalid``;
- a diff position must be one GitLab would accept: its ``base_sha``/``start_sha``/``head_sha``
  are those of a version of the merge request; ``old_path``/``new_path`` name a file of that
  version's diff; an added line carries only ``new_line``, a removed line only ``old_line``, an
  unchanged line both, and they must be lines of a hunk; a ``line_range`` has GitLab line codes
  (``sha1(path)_oldpos_newpos``) of lines of that diff, in order, ending at the position's line.
  Anything else is answered 400 like GitLab ("Note {:line_code=>[...]}") and counted in
  ``rejected``;
- ``PRIVATE-TOKEN`` (or ``Authorization: Bearer``) must carry the token; ``read_only=True``
  answers 403 to every write (a job token, or a token without the api scope);
- faults can be injected (a 429 with ``Retry-After``, a 500, ...);
- lists paginate with ``per_page``/``page`` and GitLab's ``X-Next-Page`` headers.

The diff is computed here with git (merge base to head, three lines of context) and parsed by
this module's own small parser, independent of the code under test. Every request is recorded.

    with FakeGitLab(token="glpat-...") as gl:
        gl.add_mr(42, "group/app", 7, repo_dir, target="main", source="feature")
        ...  # CI_API_V4_URL = gl.url
        assert gl.schema_invalid == [] and gl.rejected == []
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar
from urllib.parse import parse_qs, unquote, urlsplit

import jsonschema

NOTE_MAX = 1_000_000  # GitLab's limit on a note's body
_SHA = {"type": "string", "pattern": "^[0-9a-f]{40}$"}
_LINE = {"type": "integer", "minimum": 1}
_RANGE_END = {
    "type": "object",
    "properties": {
        "line_code": {"type": "string", "pattern": "^[0-9a-f]{40}_\\d+_\\d+$"},
        "type": {"enum": ["new", "old"]},
        "old_line": _LINE,
        "new_line": _LINE,
    },
    "required": ["line_code", "type"],
    "additionalProperties": False,
}
# From GitLab's documentation: "Create a new thread in the merge request diff" (Discussions API)
DISCUSSION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "body": {"type": "string", "minLength": 1, "maxLength": NOTE_MAX},
        "commit_id": {"type": "string"},
        "created_at": {"type": "string"},
        "position": {
            "type": "object",
            "properties": {
                "base_sha": _SHA,
                "start_sha": _SHA,
                "head_sha": _SHA,
                "position_type": {"enum": ["text", "image", "file"]},
                "new_path": {"type": "string", "minLength": 1},
                "old_path": {"type": "string", "minLength": 1},
                "new_line": _LINE,
                "old_line": _LINE,
                "line_range": {
                    "type": "object",
                    "properties": {"start": _RANGE_END, "end": _RANGE_END},
                    "required": ["start", "end"],
                    "additionalProperties": False,
                },
                "width": {"type": "integer"},
                "height": {"type": "integer"},
                "x": {"type": "integer"},
                "y": {"type": "integer"},
            },
            "required": ["base_sha", "start_sha", "head_sha", "position_type"],
            "additionalProperties": False,
        },
    },
    "required": ["body"],
    "additionalProperties": False,
}
# "Create new merge request note" / "Modify existing merge request note" (Notes API)
NOTE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "body": {"type": "string", "minLength": 1, "maxLength": NOTE_MAX},
        "internal": {"type": "boolean"},
        "merge_request_diff_head_sha": {"type": "string"},
        "created_at": {"type": "string"},
    },
    "required": ["body"],
    "additionalProperties": False,
}
NOTE_UPDATE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"body": {"type": "string", "minLength": 1, "maxLength": NOTE_MAX},
                   "confidential": {"type": "boolean"}},
    "required": ["body"],
    "additionalProperties": False,
}


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any
    status: int = 0


@dataclass
class Fault:
    method: str
    path: re.Pattern[str]
    status: int
    headers: dict[str, str]
    body: dict[str, Any]
    times: int = 1


@dataclass
class Line:
    kind: str  # "+", "-", " "
    old: int | None
    new: int | None
    old_pos: int
    new_pos: int


@dataclass
class FileDiff:
    old_path: str
    new_path: str
    new_file: bool = False
    deleted_file: bool = False
    renamed_file: bool = False
    diff: str = ""
    hunks: list[list[Line]] = field(default_factory=list)

    def code(self, line: Line) -> str:
        return f"{hashlib.sha1(self.new_path.encode()).hexdigest()}_{line.old_pos}_{line.new_pos}"

    def find(self, old_line: int | None, new_line: int | None) -> tuple[int, int, Line] | None:
        for hi, hunk in enumerate(self.hunks):
            for li, ln in enumerate(hunk):
                if ln.old == old_line and ln.new == new_line:
                    return hi, li, ln
        return None

    def by_code(self, code: str) -> tuple[int, int, Line] | None:
        for hi, hunk in enumerate(self.hunks):
            for li, ln in enumerate(hunk):
                if self.code(ln) == code:
                    return hi, li, ln
        return None


@dataclass
class Version:
    id: int
    base: str
    start: str
    head: str


@dataclass
class MergeRequest:
    project_id: int
    project_path: str
    iid: int
    git_dir: Any
    target: str
    source: str
    source_project_id: int
    title: str = "A merge request"
    versions: list[Version] = field(default_factory=list)  # newest first


def _git(git_dir: Any, *args: str) -> str:
    out = subprocess.run(["git", "-C", str(git_dir), "-c", "core.quotepath=off", *args], capture_output=True, check=True)
    return out.stdout.decode("utf-8", "replace")


_HUNK = re.compile(r"^@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@")


def mr_diff(git_dir: Any, base: str, head: str) -> dict[str, FileDiff]:
    """The merge request diff GitLab shows for a version: ``base`` (the merge base) to ``head``.
    Keys are new paths (old paths for deleted files)."""
    text = _git(git_dir, "diff", "--no-color", "--no-ext-diff", "-M", "-U3", "--src-prefix=a/", "--dst-prefix=b/",
                base, head, "--")
    files: list[FileDiff] = []
    cur: FileDiff | None = None
    old = new = 0
    for raw in text.split("\n"):
        if raw.startswith("diff --git "):
            m = re.match(r"diff --git a/(.*) b/(.*)$", raw)
            assert m, raw
            cur = FileDiff(m.group(1), m.group(2))
            files.append(cur)
            continue
        if cur is None:
            continue
        if not cur.hunks and not raw.startswith("@@"):
            if raw.startswith("new file mode"):
                cur.new_file = True
            elif raw.startswith("deleted file mode"):
                cur.deleted_file = True
            elif raw.startswith("rename from"):
                cur.renamed_file = True
            continue
        m = _HUNK.match(raw)
        if m:
            old, new = int(m.group(1)), int(m.group(2))
            cur.hunks.append([])
            cur.diff += raw + "\n"
            continue
        hunk = cur.hunks[-1]
        if raw.startswith("+"):
            hunk.append(Line("+", None, new, old, new))
            new += 1
        elif raw.startswith("-"):
            hunk.append(Line("-", old, None, old, new))
            old += 1
        elif raw.startswith(" "):
            hunk.append(Line(" ", old, new, old, new))
            old += 1
            new += 1
        elif not raw.startswith("\\"):
            continue
        cur.diff += raw + "\n"
    return {(f.old_path if f.deleted_file else f.new_path): f for f in files}


class FakeGitLab:
    def __init__(self, token: str, *, bot_username: str = "reviewer-bot", read_only: bool = False) -> None:
        self.token = token
        self.bot_username = bot_username
        self.read_only = read_only
        self.mrs: dict[tuple[int, int], MergeRequest] = {}
        self.discussions: list[dict[str, Any]] = []
        self.notes: list[dict[str, Any]] = []  # individual notes (not diff threads)
        self.requests: list[Recorded] = []
        self.schema_invalid: list[str] = []
        self.rejected: list[str] = []
        self.unknown: list[str] = []
        self.validated_bodies = 0
        self.faults: deque[Fault] = deque()
        self._ids = 5000
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    # -- set-up ----------------------------------------------------------------------------
    def add_mr(self, project_id: int, project_path: str, iid: int, git_dir: Any, *, target: str, source: str,
               source_project_id: int | None = None, title: str = "A merge request") -> MergeRequest:
        mr = MergeRequest(project_id, project_path, iid, git_dir, target, source, source_project_id or project_id, title)
        self.mrs[(project_id, iid)] = mr
        self.refresh(mr)
        return mr

    def refresh(self, mr: MergeRequest) -> Version:
        """A new version after a push (GitLab makes one per push to the source branch)."""
        head = _git(mr.git_dir, "rev-parse", f"{mr.source}^{{commit}}").strip()
        start = _git(mr.git_dir, "rev-parse", f"{mr.target}^{{commit}}").strip()
        base = _git(mr.git_dir, "merge-base", start, head).strip()
        if mr.versions and mr.versions[0].head == head and mr.versions[0].start == start:
            return mr.versions[0]
        v = Version(self._next_id(), base, start, head)
        mr.versions.insert(0, v)
        return v

    def inject(self, method: str, path: str, status: int, *, headers: dict[str, str] | None = None,
               body: dict[str, Any] | None = None, times: int = 1) -> None:
        self.faults.append(Fault(method, re.compile(path), status, headers or {}, body or {"message": "fault"}, times))

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/api/v4"

    def stats(self) -> dict[str, int]:
        return {"requests": len(self.requests), "bodies_validated": self.validated_bodies,
                "schema_invalid": len(self.schema_invalid), "rejected": len(self.rejected),
                "unknown_operations": len(self.unknown)}

    def diff_notes(self, iid: int) -> list[dict[str, Any]]:
        return [n for d in self.discussions if d["_iid"] == iid for n in d["notes"] if n["type"] == "DiffNote"]

    def summaries(self, iid: int) -> list[dict[str, Any]]:
        return [n for n in self.notes if n["_iid"] == iid and n["body"].lstrip().startswith("<!-- reviewer:summary -->")]

    # -- server ----------------------------------------------------------------------------
    def start(self) -> FakeGitLab:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                fake._dispatch(self)

            do_GET = do_POST = do_PUT = do_DELETE = _handle

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> FakeGitLab:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- dispatch --------------------------------------------------------------------------
    _ROUTES: ClassVar[list[tuple[str, re.Pattern[str], str]]] = [
        ("GET", re.compile(r"^/api/v4/projects/([^/]+)/merge_requests/(\d+)$"), "get_mr"),
        ("GET", re.compile(r"^/api/v4/projects/([^/]+)/merge_requests/(\d+)/versions$"), "versions"),
        ("GET", re.compile(r"^/api/v4/projects/([^/]+)/merge_requests/(\d+)/diffs$"), "diffs"),
        ("GET", re.compile(r"^/api/v4/projects/([^/]+)/merge_requests/(\d+)/discussions$"), "list_discussions"),
        ("POST", re.compile(r"^/api/v4/projects/([^/]+)/merge_requests/(\d+)/discussions$"), "create_discussion"),
        ("GET", re.compile(r"^/api/v4/projects/([^/]+)/merge_requests/(\d+)/notes$"), "list_notes"),
        ("POST", re.compile(r"^/api/v4/projects/([^/]+)/merge_requests/(\d+)/notes$"), "create_note"),
        ("PUT", re.compile(r"^/api/v4/projects/([^/]+)/merge_requests/(\d+)/notes/(\d+)$"), "update_note"),
    ]
    _SCHEMAS: ClassVar[dict[str, dict[str, Any]]] = {"create_discussion": DISCUSSION_SCHEMA, "create_note": NOTE_SCHEMA, "update_note": NOTE_UPDATE_SCHEMA}

    def _send(self, h: BaseHTTPRequestHandler, rec: Recorded, status: int, obj: Any,
              headers: dict[str, str] | None = None) -> None:
        data = json.dumps(obj).encode()
        rec.status = status
        h.send_response(status)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(data)

    def _dispatch(self, h: BaseHTTPRequestHandler) -> None:
        # the raw path keeps %2F in an encoded project path as one segment
        parts = urlsplit(h.path)
        length = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        rec = Recorded(h.command, parts.path, parse_qs(parts.query), {k.lower(): v for k, v in h.headers.items()}, body)
        with self._lock:
            self.requests.append(rec)
        given = rec.headers.get("private-token") or rec.headers.get("authorization", "").removeprefix("Bearer ")
        if given != self.token:
            return self._send(h, rec, 401, {"message": "401 Unauthorized"})
        with self._lock:
            for fault in list(self.faults):
                if fault.method == rec.method and fault.path.search(rec.path):
                    fault.times -= 1
                    if fault.times <= 0:
                        self.faults.remove(fault)
                    return self._send(h, rec, fault.status, fault.body, fault.headers)
        route = next(((name, m) for method, regex, name in self._ROUTES
                      if method == rec.method and (m := regex.match(rec.path))), None)
        if route is None:
            self.unknown.append(f"{rec.method} {rec.path}")
            return self._send(h, rec, 404, {"message": "404 Not Found"})
        name, m = route
        if name in self._SCHEMAS:
            self.validated_bodies += 1
            errors = list(jsonschema.Draft202012Validator(self._SCHEMAS[name]).iter_errors(body))
            if errors:
                msg = f"{name}: " + "; ".join(f"{'/'.join(map(str, e.path))}: {e.message}" for e in errors[:5])
                self.schema_invalid.append(msg)
                return self._send(h, rec, 400, {"error": msg})
            if self.read_only:
                return self._send(h, rec, 403, {"message": "403 Forbidden"})
        mr = self._mr(m.group(1), int(m.group(2)))
        if mr is None:
            return self._send(h, rec, 404, {"message": "404 Merge Request Not Found"})
        status, obj, headers = getattr(self, "_op_" + name)(rec, mr, m)
        if status == 400:
            self.rejected.append(f"{name}: {obj.get('message')}")
        return self._send(h, rec, status, obj, headers)

    def _mr(self, project: str, iid: int) -> MergeRequest | None:
        project = unquote(project)
        for (pid, i), mr in self.mrs.items():
            if i == iid and (project == str(pid) or project == mr.project_path):
                return mr
        return None

    def _next_id(self) -> int:
        with self._lock:
            self._ids += 1
            return self._ids

    def _user(self) -> dict[str, Any]:
        return {"id": 77, "username": self.bot_username, "name": "reviewer", "state": "active",
                "web_url": f"https://gitlab.example.com/{self.bot_username}"}

    def _page(self, rec: Recorded, items: list[Any]) -> tuple[int, Any, dict[str, str]]:
        per_page = min(100, int((rec.query.get("per_page") or ["20"])[0]))
        page = max(1, int((rec.query.get("page") or ["1"])[0]))
        chunk = items[(page - 1) * per_page : page * per_page]
        pages = max(1, -(-len(items) // per_page))
        headers = {"X-Page": str(page), "X-Per-Page": str(per_page), "X-Total": str(len(items)),
                   "X-Total-Pages": str(pages), "X-Next-Page": str(page + 1) if page < pages else ""}
        return 200, [_public(i) for i in chunk], headers

    @staticmethod
    def _now() -> str:
        return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())

    def _note(self, mr: MergeRequest, body: str, *, position: dict[str, Any] | None = None,
              discussion: str | None = None) -> dict[str, Any]:
        nid = self._next_id()
        return {"id": nid, "type": "DiffNote" if position else None, "body": body, "author": self._user(),
                "created_at": self._now(), "updated_at": self._now(), "system": False, "noteable_id": mr.iid + 9000,
                "noteable_type": "MergeRequest", "noteable_iid": mr.iid, "resolvable": bool(position),
                "resolved": False, "confidential": False, "internal": False, "position": position,
                "discussion_id": discussion, "_iid": mr.iid}

    # -- operations ------------------------------------------------------------------------
    def _op_get_mr(self, rec: Recorded, mr: MergeRequest, m: re.Match[str]) -> tuple[int, Any, dict[str, str]]:
        v = mr.versions[0]
        return 200, {
            "id": mr.iid + 9000, "iid": mr.iid, "project_id": mr.project_id, "title": mr.title, "state": "opened",
            "draft": False, "work_in_progress": False, "target_branch": mr.target, "source_branch": mr.source,
            "source_project_id": mr.source_project_id, "target_project_id": mr.project_id, "sha": v.head,
            "diff_refs": {"base_sha": v.base, "head_sha": v.head, "start_sha": v.start},
            "web_url": f"https://gitlab.example.com/{mr.project_path}/-/merge_requests/{mr.iid}",
        }, {}

    def _op_versions(self, rec: Recorded, mr: MergeRequest, m: re.Match[str]) -> tuple[int, Any, dict[str, str]]:
        return 200, [{"id": v.id, "head_commit_sha": v.head, "base_commit_sha": v.base, "start_commit_sha": v.start,
                      "created_at": self._now(), "merge_request_id": mr.iid + 9000, "state": "collected",
                      "real_size": "1"} for v in mr.versions], {}

    def _op_diffs(self, rec: Recorded, mr: MergeRequest, m: re.Match[str]) -> tuple[int, Any, dict[str, str]]:
        v = mr.versions[0]
        items = [{"old_path": f.old_path, "new_path": f.new_path, "a_mode": "100644", "b_mode": "100644",
                  "new_file": f.new_file, "renamed_file": f.renamed_file, "deleted_file": f.deleted_file,
                  "diff": f.diff, "generated_file": False} for f in mr_diff(mr.git_dir, v.base, v.head).values()]
        return self._page(rec, items)

    def _op_list_discussions(self, rec: Recorded, mr: MergeRequest, m: re.Match[str]) -> tuple[int, Any, dict[str, str]]:
        items = [d for d in self.discussions if d["_iid"] == mr.iid]
        items += [{"id": n["discussion_id"], "individual_note": True, "notes": [n], "_iid": mr.iid}
                  for n in self.notes if n["_iid"] == mr.iid]
        status, page, headers = self._page(rec, items)
        return status, [{**d, "notes": [_public(n) for n in d["notes"]]} for d in page], headers

    def _op_list_notes(self, rec: Recorded, mr: MergeRequest, m: re.Match[str]) -> tuple[int, Any, dict[str, str]]:
        items = [n for d in self.discussions if d["_iid"] == mr.iid for n in d["notes"]]
        items += [n for n in self.notes if n["_iid"] == mr.iid]
        items.sort(key=lambda n: n["id"], reverse=(rec.query.get("sort") or ["desc"])[0] != "asc")
        return self._page(rec, items)

    def _op_create_note(self, rec: Recorded, mr: MergeRequest, m: re.Match[str]) -> tuple[int, Any, dict[str, str]]:
        note = self._note(mr, rec.body["body"], discussion=hashlib.sha1(str(self._ids).encode()).hexdigest())
        self.notes.append(note)
        return 201, _public(note), {}

    def _op_update_note(self, rec: Recorded, mr: MergeRequest, m: re.Match[str]) -> tuple[int, Any, dict[str, str]]:
        nid = int(m.group(3))
        for n in [*self.notes, *(n for d in self.discussions for n in d["notes"])]:
            if n["id"] == nid and n["_iid"] == mr.iid:
                if n["author"]["username"] != self.bot_username:
                    return 403, {"message": "403 Forbidden"}, {}
                n["body"] = rec.body["body"]
                n["updated_at"] = self._now()
                return 200, _public(n), {}
        return 404, {"message": "404 Not found"}, {}

    def _op_create_discussion(self, rec: Recorded, mr: MergeRequest, m: re.Match[str]) -> tuple[int, Any, dict[str, str]]:
        body = rec.body
        pos = body.get("position")
        if pos is not None:
            problem = self.check_position(mr, pos)
            if problem:
                return 400, {"message": f"400 Bad request - Note {{:line_code=>[\"{problem}\"]}}"}, {}
        did = hashlib.sha1(f"d{self._next_id()}".encode()).hexdigest()
        note = self._note(mr, body["body"], position=pos, discussion=did)
        d = {"id": did, "individual_note": False, "notes": [note], "_iid": mr.iid}
        self.discussions.append(d)
        return 201, {**_public(d), "notes": [_public(note)]}, {}

    def check_position(self, mr: MergeRequest, pos: dict[str, Any]) -> str | None:
        """Why GitLab would refuse this text position, or None."""
        if pos.get("position_type") != "text":
            return "only text positions are expected from a code review"
        version = next((v for v in mr.versions if (v.base, v.start, v.head) ==
                        (pos.get("base_sha"), pos.get("start_sha"), pos.get("head_sha"))), None)
        if version is None:
            return "base_sha, start_sha and head_sha are not a version of this merge request"
        if not pos.get("new_path") or not pos.get("old_path"):
            return "old_path and new_path are required"
        diff = mr_diff(mr.git_dir, version.base, version.head)
        f = diff.get(pos["new_path"]) or diff.get(pos["old_path"])
        if f is None or (f.new_path, f.old_path) != (pos["new_path"], pos["old_path"]):
            return "the paths are not a file of the merge request's diff"
        hit = f.find(pos.get("old_line"), pos.get("new_line"))
        if hit is None:
            return "can't be blank (no such line in the diff: an added line takes new_line, a removed line " \
                   "old_line, an unchanged line both)"
        lr = pos.get("line_range")
        if lr is not None:
            start, end = f.by_code(lr["start"]["line_code"]), f.by_code(lr["end"]["line_code"])
            if start is None or end is None:
                return "line_range line codes must be lines of the diff"
            if end[:2] != hit[:2]:
                return "line_range must end at the position's line"
            if (start[0], start[1]) > (end[0], end[1]):
                return "line_range must start before it ends"
            for part, found in (("start", start), ("end", end)):
                want = "new" if found[2].kind == "+" else "old"
                if lr[part]["type"] != want:
                    return f"line_range {part} type must be {want!r}"
        return None


def _public(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if not k.startswith("_")}
