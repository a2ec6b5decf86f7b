"""A real HTTP server on 127.0.0.1 playing GitHub's REST API for a pull-request bot.

It holds pull requests whose base and head are branches of real git repositories on disk, and
answers the operations in ``tests/fixtures/github/rest-api-subset.json`` as GitHub does:

- every request body is validated against the operation's own ``requestBody`` JSON schema from
  GitHub's OpenAPI description (``jsonschema``); an invalid one is answered 422 and counted;
- a review comment must sit on the pull request's diff as GitHub computes it (merge base to head,
  three lines of context): ``line``/``side`` on a commentable line, ``start_line`` in the same
  hunk and before ``line``; anything else is answered 422 with GitHub's messages and counted;
- bodies longer than 65,536 characters are refused (422), like GitHub;
- ``Authorization`` must carry the token, ``User-Agent`` must be present;
- ``read_only=True`` answers 403 "Resource not accessible by integration" to every write, as
  GitHub does for the read-only token of a pull request from a fork;
- faults can be injected (a 403 secondary rate limit with ``Retry-After``, a 500, ...);
- list endpoints paginate with ``per_page``/``page`` and ``Link`` headers.

The diff is computed here with git and parsed by this module's own small parser, independent of
the code under test. Every request is recorded.

    with FakeGitHub(token="ghs_x") as gh:
        gh.add_pull("octo/app", 7, repo_dir, base="main", head="feature")
        ...  # point GITHUB_API_URL at gh.url
        assert gh.schema_invalid == [] and gh.unprocessable == []
"""

from __future__ import annotations

import copy
import json
import re
import subprocess
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jsonschema

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "github"
MAX_BODY = 65_536
READ_ONLY_MESSAGE = "Resource not accessible by integration"
SECONDARY_MESSAGE = ("You have exceeded a secondary rate limit. Please wait a few minutes before you try again. "
                     "If you reach out to GitHub Support for help, please include the request ID.")


@dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: Any
    raw: bytes
    status: int = 0
    operation: str | None = None
    at: float = 0.0


@dataclass
class Fault:
    method: str
    path: re.Pattern[str]
    status: int
    headers: dict[str, str]
    body: dict[str, Any]
    times: int = 1


@dataclass
class Pull:
    repo: str
    number: int
    git_dir: Path
    base: str  # branch names in git_dir
    head: str
    head_repo: str
    title: str = "A pull request"
    state: str = "open"


@dataclass
class Hunk:
    right: set[int] = field(default_factory=set)
    left: set[int] = field(default_factory=set)


@dataclass
class FileDiff:
    path: str
    old_path: str
    status: str
    patch: str
    additions: int = 0
    deletions: int = 0
    hunks: list[Hunk] = field(default_factory=list)

    def hunk_of(self, side: str, line: int) -> int | None:
        for i, h in enumerate(self.hunks):
            if line in (h.right if side == "RIGHT" else h.left):
                return i
        return None


def _git(git_dir: Path, *args: str) -> str:
    out = subprocess.run(["git", "-C", str(git_dir), "-c", "core.quotepath=off", *args], capture_output=True,
                         check=True)
    return out.stdout.decode("utf-8", "replace")


_HUNK = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")


def pull_diff(git_dir: Path, base: str, head: str) -> dict[str, FileDiff]:
    """The diff GitHub shows for a pull request: merge base to head, 3 lines of context."""
    mb = _git(git_dir, "merge-base", base, head).strip()
    text = _git(git_dir, "diff", "--no-color", "--no-ext-diff", "-M", "-U3", "--src-prefix=a/", "--dst-prefix=b/",
                mb, head, "--")
    files: dict[str, FileDiff] = {}
    cur: FileDiff | None = None
    old_no = new_no = 0
    for line in text.split("\n"):
        if line.startswith("diff --git "):
            m = re.match(r"diff --git a/(.*) b/(.*)$", line)
            assert m, line
            cur = FileDiff(m.group(2), m.group(1), "modified", "")
            files[cur.path] = cur
            continue
        if cur is None:
            continue
        if not cur.hunks and not line.startswith("@@"):
            if line.startswith("new file mode"):
                cur.status = "added"
            elif line.startswith("deleted file mode"):
                cur.status = "removed"
            elif line.startswith("rename from"):
                cur.status = "renamed"
            elif line.startswith("+++ ") and line != "+++ /dev/null":
                pass
            continue
        m = _HUNK.match(line)
        if m:
            old_no, new_no = int(m.group(1)), int(m.group(3))
            cur.hunks.append(Hunk())
            cur.patch += line + "\n"
            continue
        if not cur.hunks:
            continue
        h = cur.hunks[-1]
        if line.startswith("+"):
            h.right.add(new_no)
            new_no += 1
            cur.additions += 1
        elif line.startswith("-"):
            h.left.add(old_no)
            old_no += 1
            cur.deletions += 1
        elif line.startswith(" "):
            h.right.add(new_no)
            h.left.add(old_no)
            new_no += 1
            old_no += 1
        elif line.startswith("\\"):
            pass
        else:
            continue
        cur.patch += line + "\n"
    return files


def _load_spec() -> dict[str, Any]:
    return json.loads((FIXTURES / "rest-api-subset.json").read_text(encoding="utf-8"))


def _template(name: str) -> dict[str, Any]:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


class FakeGitHub:
    def __init__(self, token: str, *, bot_login: str = "github-actions[bot]", read_only: bool = False) -> None:
        self.token = token
        self.bot_login = bot_login
        self.read_only = read_only
        self.pulls: dict[tuple[str, int], Pull] = {}
        self.reviews: list[dict[str, Any]] = []
        self.review_comments: list[dict[str, Any]] = []
        self.issue_comments: list[dict[str, Any]] = []
        self.requests: list[Recorded] = []
        self.schema_invalid: list[str] = []
        self.unprocessable: list[str] = []
        self.unknown: list[str] = []
        self.validated_bodies = 0
        self.faults: deque[Fault] = deque()
        self.fault_log: list[tuple[float, Recorded]] = []
        self._ids = 1000
        self._lock = threading.Lock()
        self._ops = self._operations(_load_spec())
        self._pull_template = _template("webhook-pull_request-opened.json")["pull_request"]
        self._server: ThreadingHTTPServer | None = None

    # -- set-up ----------------------------------------------------------------------------
    def add_pull(self, repo: str, number: int, git_dir: Path, *, base: str, head: str, head_repo: str | None = None,
                 title: str = "A pull request") -> Pull:
        pull = Pull(repo, number, git_dir, base, head, head_repo or repo, title)
        self.pulls[(repo, number)] = pull
        return pull

    def add_issue_comment(self, repo: str, number: int, body: str, login: str) -> dict[str, Any]:
        c = self._issue_comment(repo, number, body, login)
        self.issue_comments.append(c)
        return c

    def inject(self, method: str, path: str, status: int, *, headers: dict[str, str] | None = None,
               body: dict[str, Any] | None = None, times: int = 1) -> None:
        """The next ``times`` requests matching ``method`` and the regex ``path`` get this answer."""
        self.faults.append(Fault(method, re.compile(path), status, headers or {}, body or {"message": "fault"}, times))

    def secondary_rate_limit(self, method: str, path: str, retry_after: int = 1) -> None:
        self.inject(method, path, 403, headers={"retry-after": str(retry_after)},
                    body={"message": SECONDARY_MESSAGE,
                          "documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"})

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def stats(self) -> dict[str, int]:
        return {
            "requests": len(self.requests),
            "bodies_validated": self.validated_bodies,
            "schema_invalid": len(self.schema_invalid),
            "unprocessable": len(self.unprocessable),
            "unknown_operations": len(self.unknown),
        }

    def writes(self) -> list[Recorded]:
        return [r for r in self.requests if r.method in ("POST", "PATCH", "PUT", "DELETE")]

    def comments_for(self, repo: str, number: int) -> list[dict[str, Any]]:
        return [c for c in self.review_comments if c["_pull"] == (repo, number)]

    def summaries(self, repo: str, number: int) -> list[dict[str, Any]]:
        return [c for c in self.issue_comments if c["_pull"] == (repo, number)
                and c["body"].lstrip().startswith("<!-- reviewer:summary -->")]

    # -- server ----------------------------------------------------------------------------
    def start(self) -> FakeGitHub:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _handle(self) -> None:
                fake._dispatch(self)

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _handle

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> FakeGitHub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- dispatch --------------------------------------------------------------------------
    @staticmethod
    def _operations(spec: dict[str, Any]) -> list[tuple[re.Pattern[str], str, str, dict[str, Any]]]:
        ops = []
        for path, item in spec["paths"].items():
            regex = re.compile("^" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", path) + "$")
            for method, op in item.items():
                if method in ("get", "post", "patch", "put", "delete"):
                    ops.append((regex, method.upper(), op["operationId"], op))
        return ops

    def _match(self, rec: Recorded) -> tuple[re.Match[str], str, dict[str, Any]] | None:
        for regex, method, op_id, op in self._ops:
            m = regex.match(rec.path)
            if m and method == rec.method:
                return m, op_id, op
        return None

    def _send(self, h: BaseHTTPRequestHandler, rec: Recorded, status: int, obj: Any,
              headers: dict[str, str] | None = None) -> None:
        data = b"" if obj is None else json.dumps(obj).encode()
        rec.status = status
        h.send_response(status)
        h.send_header("Content-Type", "application/json; charset=utf-8")
        h.send_header("Content-Length", str(len(data)))
        h.send_header("X-GitHub-Api-Version-Selected", "2022-11-28")
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(data)

    def _dispatch(self, h: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(h.path)
        length = int(h.headers.get("Content-Length") or 0)
        raw = h.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        rec = Recorded(h.command, parts.path, parse_qs(parts.query), {k.lower(): v for k, v in h.headers.items()},
                       body, raw, at=time.monotonic())
        with self._lock:
            self.requests.append(rec)
        auth = rec.headers.get("authorization", "")
        if auth not in (f"Bearer {self.token}", f"token {self.token}"):
            return self._send(h, rec, 401, {"message": "Bad credentials", "status": "401"})
        if not rec.headers.get("user-agent"):
            return self._send(h, rec, 403, {"message": "Request forbidden by administrative rules. "
                                                       "Please make sure your request has a User-Agent header"})
        version = rec.headers.get("x-github-api-version")
        if version is not None and version != "2022-11-28":
            return self._send(h, rec, 400, {"message": f"API version {version} is not supported."})
        with self._lock:
            for fault in list(self.faults):
                if fault.method == rec.method and fault.path.search(rec.path):
                    fault.times -= 1
                    if fault.times <= 0:
                        self.faults.remove(fault)
                    self.fault_log.append((rec.at, rec))
                    return self._send(h, rec, fault.status, fault.body, fault.headers)
        found = self._match(rec)
        if found is None:
            self.unknown.append(f"{rec.method} {rec.path}")
            return self._send(h, rec, 404, {"message": "Not Found"})
        m, op_id, op = found
        rec.operation = op_id
        if "requestBody" in op:
            schema = op["requestBody"]["content"]["application/json"]["schema"]
            required = op["requestBody"].get("required", False)
            if body is None and not required:
                body = {}
            errors = sorted(jsonschema.Draft202012Validator(schema).iter_errors(body), key=lambda e: list(e.path))
            self.validated_bodies += 1
            if errors:
                msg = f"{op_id}: " + "; ".join(f"{'/'.join(map(str, e.path))}: {e.message}" for e in errors[:5])
                self.schema_invalid.append(msg)
                return self._send(h, rec, 422, {"message": "Invalid request.", "errors": [msg],
                                                "documentation_url": op.get("externalDocs", {}).get("url", "")})
        if self.read_only and rec.method != "GET":
            return self._send(h, rec, 403, {"message": READ_ONLY_MESSAGE, "status": "403",
                                            "documentation_url": op.get("externalDocs", {}).get("url", "")})
        handler = getattr(self, "_op_" + op_id.replace("/", "_").replace("-", "_"), None)
        if handler is None:
            self.unknown.append(f"{op_id} (not implemented by the fake)")
            return self._send(h, rec, 501, {"message": "not implemented by the fake"})
        params = {k: v for k, v in m.groupdict().items()}
        status, obj, headers = handler(rec, params, h)
        if status == 422:
            self.unprocessable.append(f"{op_id}: {obj.get('errors') or obj.get('message')}")
        return self._send(h, rec, status, obj, headers)

    # -- helpers ---------------------------------------------------------------------------
    def _next_id(self) -> int:
        with self._lock:
            self._ids += 1
            return self._ids

    def _pull(self, params: dict[str, str]) -> Pull | None:
        return self.pulls.get((f"{params['owner']}/{params['repo']}", int(params.get("pull_number")
                                                                          or params.get("issue_number") or 0)))

    def _sha(self, pull: Pull, ref: str) -> str:
        return _git(pull.git_dir, "rev-parse", f"{ref}^{{commit}}").strip()

    def _user(self, login: str) -> dict[str, Any]:
        return {"login": login, "id": 41898282 if login.endswith("[bot]") else 583231, "node_id": "MDQ6VXNlcjQxODk4Mjgy",
                "type": "Bot" if login.endswith("[bot]") else "User", "site_admin": False,
                "url": f"https://api.github.com/users/{login}", "html_url": f"https://github.com/{login}"}

    def _page(self, rec: Recorded, h: BaseHTTPRequestHandler, items: list[Any]) -> tuple[int, Any, dict[str, str]]:
        per_page = min(100, int((rec.query.get("per_page") or ["30"])[0]))
        page = max(1, int((rec.query.get("page") or ["1"])[0]))
        chunk = items[(page - 1) * per_page : page * per_page]
        headers = {}
        last = max(1, -(-len(items) // per_page))
        host = rec.headers.get("host", "127.0.0.1")
        if page < last:
            base = f"http://{host}{rec.path}?per_page={per_page}"
            headers["Link"] = f'<{base}&page={page + 1}>; rel="next", <{base}&page={last}>; rel="last"'
        return 200, [_public(c) for c in chunk], headers

    @staticmethod
    def _unprocessable(*errors: str) -> tuple[int, dict[str, Any], dict[str, str]]:
        return 422, {"message": "Unprocessable Entity", "errors": list(errors),
                     "documentation_url": "https://docs.github.com/rest/pulls/reviews#create-a-review-for-a-pull-request",
                     "status": "422"}, {}

    def _issue_comment(self, repo: str, number: int, body: str, login: str) -> dict[str, Any]:
        cid = self._next_id()
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        return {"id": cid, "node_id": f"IC_{cid}", "url": f"https://api.github.com/repos/{repo}/issues/comments/{cid}",
                "html_url": f"https://github.com/{repo}/pull/{number}#issuecomment-{cid}", "body": body,
                "user": self._user(login), "created_at": now, "updated_at": now,
                "issue_url": f"https://api.github.com/repos/{repo}/issues/{number}",
                "author_association": "NONE", "_pull": (repo, number)}

    # -- operations ------------------------------------------------------------------------
    def _op_pulls_get(self, rec: Recorded, params: dict[str, str], h: Any) -> tuple[int, Any, dict[str, str]]:
        pull = self._pull(params)
        if pull is None:
            return 404, {"message": "Not Found"}, {}
        data = copy.deepcopy(self._pull_template)
        base_sha, head_sha = self._sha(pull, pull.base), self._sha(pull, pull.head)
        owner = pull.repo.split("/")[0]
        data.update({"number": pull.number, "state": pull.state, "title": pull.title, "draft": False,
                     "url": f"https://api.github.com/repos/{pull.repo}/pulls/{pull.number}",
                     "html_url": f"https://github.com/{pull.repo}/pull/{pull.number}"})
        data["base"]["ref"], data["base"]["sha"] = pull.base, base_sha
        data["base"]["repo"]["full_name"] = pull.repo
        data["base"]["label"] = f"{owner}:{pull.base}"
        data["head"]["ref"], data["head"]["sha"] = pull.head, head_sha
        data["head"]["repo"]["full_name"] = pull.head_repo
        data["head"]["label"] = f"{pull.head_repo.split('/')[0]}:{pull.head}"
        return 200, data, {}

    def _op_pulls_list_files(self, rec: Recorded, params: dict[str, str], h: Any) -> tuple[int, Any, dict[str, str]]:
        pull = self._pull(params)
        if pull is None:
            return 404, {"message": "Not Found"}, {}
        files = []
        for f in pull_diff(pull.git_dir, pull.base, pull.head).values():
            item: dict[str, Any] = {"sha": "0" * 40, "filename": f.path, "status": f.status, "additions": f.additions,
                                    "deletions": f.deletions, "changes": f.additions + f.deletions,
                                    "blob_url": "", "raw_url": "", "contents_url": ""}
            if f.patch:
                item["patch"] = f.patch.rstrip("\n")
            if f.status == "renamed":
                item["previous_filename"] = f.old_path
            files.append(item)
        return self._page(rec, h, files)

    def _op_pulls_list_review_comments(self, rec: Recorded, params: dict[str, str], h: Any) -> tuple[int, Any, dict[str, str]]:
        pull = self._pull(params)
        if pull is None:
            return 404, {"message": "Not Found"}, {}
        return self._page(rec, h, self.comments_for(pull.repo, pull.number))

    def _op_pulls_create_review(self, rec: Recorded, params: dict[str, str], h: Any) -> tuple[int, Any, dict[str, str]]:
        pull = self._pull(params)
        if pull is None:
            return 404, {"message": "Not Found"}, {}
        body = rec.body or {}
        event = body.get("event")
        text = body.get("body") or ""
        if len(text) > MAX_BODY:
            return self._unprocessable(f"Body is too long (maximum is {MAX_BODY} characters)")
        if event in ("COMMENT", "REQUEST_CHANGES") and not text.strip():
            return self._unprocessable("Review body can't be blank when the event is " + event)
        head_sha = self._sha(pull, pull.head)
        commit = body.get("commit_id") or head_sha
        in_pull = subprocess.run(["git", "-C", str(pull.git_dir), "merge-base", "--is-ancestor", commit, head_sha],
                                 capture_output=True).returncode == 0
        if not in_pull:
            return self._unprocessable("commit_id is not part of the pull request")
        diff = pull_diff(pull.git_dir, pull.base, commit)
        errors = []
        for i, c in enumerate(body.get("comments") or []):
            problem = self._check_anchor(diff, c)
            if problem:
                errors.append(f"comments[{i}] ({c.get('path')}:{c.get('line')}): {problem}")
        if errors:
            return self._unprocessable(*errors)
        rid = self._next_id()
        review = {"id": rid, "node_id": f"PRR_{rid}", "user": self._user(self.bot_login), "body": text,
                  "state": "COMMENTED" if event == "COMMENT" else ("PENDING" if event is None else event),
                  "html_url": f"https://github.com/{pull.repo}/pull/{pull.number}#pullrequestreview-{rid}",
                  "pull_request_url": f"https://api.github.com/repos/{pull.repo}/pulls/{pull.number}",
                  "commit_id": commit, "author_association": "NONE",
                  "_links": {"html": {"href": ""}, "pull_request": {"href": ""}}}
        self.reviews.append({**review, "_pull": (pull.repo, pull.number), "_event": event})
        for c in body.get("comments") or []:
            cid = self._next_id()
            self.review_comments.append({
                "id": cid, "node_id": f"PRRC_{cid}", "pull_request_review_id": rid, "path": c["path"],
                "body": c["body"], "line": c.get("line"), "side": c.get("side", "RIGHT"),
                "start_line": c.get("start_line"), "start_side": c.get("start_side"), "commit_id": commit,
                "original_commit_id": commit, "user": self._user(self.bot_login), "diff_hunk": "",
                "html_url": f"https://github.com/{pull.repo}/pull/{pull.number}#discussion_r{cid}",
                "_pull": (pull.repo, pull.number),
            })
        return 200, review, {}

    @staticmethod
    def _check_anchor(diff: dict[str, FileDiff], c: dict[str, Any]) -> str | None:
        if len(c.get("body") or "") > MAX_BODY:
            return f"Body is too long (maximum is {MAX_BODY} characters)"
        f = diff.get(c.get("path", ""))
        if f is None:
            return "Path could not be resolved"
        if "position" in c and "line" not in c:
            return "the fake does not accept position-based comments"  # our client never sends them
        side = c.get("side", "RIGHT")
        if side not in ("LEFT", "RIGHT"):
            return f"side must be LEFT or RIGHT, not {side!r}"
        line = c.get("line")
        if not isinstance(line, int):
            return "line is required"
        hunk = f.hunk_of(side, line)
        if hunk is None:
            return "Pull request review thread line must be part of the diff"
        if "start_line" in c:
            start_side = c.get("start_side", side)
            if start_side not in ("LEFT", "RIGHT"):
                return f"start_side must be LEFT or RIGHT, not {start_side!r}"
            start = c["start_line"]
            if not isinstance(start, int) or (start_side == side and start >= line):
                return "start_line must precede the end line"
            start_hunk = f.hunk_of(start_side, start)
            if start_hunk is None:
                return "Pull request review thread start line must be part of the diff"
            if start_hunk != hunk:
                return "Pull request review thread start line must be part of the same hunk as the line."
        elif "start_side" in c:
            return "start_side requires start_line"
        return None

    def _op_issues_list_comments(self, rec: Recorded, params: dict[str, str], h: Any) -> tuple[int, Any, dict[str, str]]:
        repo = f"{params['owner']}/{params['repo']}"
        number = int(params["issue_number"])
        return self._page(rec, h, [c for c in self.issue_comments if c["_pull"] == (repo, number)])

    def _op_issues_create_comment(self, rec: Recorded, params: dict[str, str], h: Any) -> tuple[int, Any, dict[str, str]]:
        pull = self._pull(params)
        if pull is None:
            return 404, {"message": "Not Found"}, {}
        text = (rec.body or {}).get("body", "")
        if len(text) > MAX_BODY:
            return 422, {"message": "Validation Failed", "errors": [
                {"resource": "IssueComment", "code": "custom", "field": "body",
                 "message": f"body is too long (maximum is {MAX_BODY} characters)"}]}, {}
        c = self._issue_comment(pull.repo, pull.number, text, self.bot_login)
        self.issue_comments.append(c)
        return 201, _public(c), {}

    def _find_comment(self, params: dict[str, str]) -> dict[str, Any] | None:
        cid = int(params["comment_id"])
        repo = f"{params['owner']}/{params['repo']}"
        return next((c for c in self.issue_comments if c["id"] == cid and c["_pull"][0] == repo), None)

    def _op_issues_get_comment(self, rec: Recorded, params: dict[str, str], h: Any) -> tuple[int, Any, dict[str, str]]:
        c = self._find_comment(params)
        return (200, _public(c), {}) if c else (404, {"message": "Not Found"}, {})

    def _op_issues_update_comment(self, rec: Recorded, params: dict[str, str], h: Any) -> tuple[int, Any, dict[str, str]]:
        c = self._find_comment(params)
        if c is None:
            return 404, {"message": "Not Found"}, {}
        if c["user"]["login"] != self.bot_login:
            return 403, {"message": READ_ONLY_MESSAGE}, {}
        text = (rec.body or {}).get("body", "")
        if len(text) > MAX_BODY:
            return 422, {"message": "Validation Failed", "errors": [
                {"resource": "IssueComment", "code": "custom", "field": "body",
                 "message": f"body is too long (maximum is {MAX_BODY} characters)"}]}, {}
        c["body"] = text
        c["updated_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        return 200, _public(c), {}


def _public(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if not k.startswith("_")}
