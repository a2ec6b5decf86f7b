"""GitLab (gitlab.com and self-managed) behind the ``Forge`` interface.

Inline comments are merge-request discussions with a text ``position``: the base, start and head
commit ids of the merge request version that was reviewed (from the versions API), old and new
path, and ``new_line`` for an added line, ``old_line`` for a removed one, both for an unchanged
one; a multi-line comment adds ``line_range`` with GitLab line codes (``sha1(path)_old_new``).
GitLab answers 400 to a position that is not in the diff; that comment goes to the summary. The
summary is a merge-request note found by its hidden marker and edited in place.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from reviewer.forges.anchors import Anchor, DiffLine, DiffMap, FileDiff
from reviewer.forges.base import Existing, Forge, InlineComment, InlineOutcome, PullRequest
from reviewer.forges.bodies import GITLAB_SUGGESTION
from reviewer.forges.http import ApiClient, Forbidden, ForgeError, Rejected
from reviewer.forges.markers import fingerprints_in, is_summary
from reviewer.forges.scrub import Scrubber


@dataclass(frozen=True)
class Version:
    base: str
    start: str
    head: str


class GitLabForge(Forge):
    name = "gitlab"
    label = "GitLab"
    suggestion_style = GITLAB_SUGGESTION
    summary_noun = "note"

    def __init__(self, project: str, iid: int, token: str, *, api_url: str, scrub: Scrubber, max_wait: float = 120.0,
                 bot_username: str | None = None, client: ApiClient | None = None) -> None:
        self.project = project
        self.iid = iid
        self.bot_username = bot_username
        self.api = client or ApiClient(api_url, {"PRIVATE-TOKEN": token}, scrub=scrub, max_wait=max_wait)
        self._p = f"/projects/{quote(str(project), safe='')}"
        self._mr = f"{self._p}/merge_requests/{iid}"
        self._versions: list[Version] = []

    def close(self) -> None:
        self.api.close()

    # -- reads -----------------------------------------------------------------------------
    def pull_request(self) -> PullRequest:
        mr = self.api.get(self._mr)
        if not isinstance(mr, dict):
            raise ForgeError(f"GitLab returned no merge request !{self.iid}")
        versions = self.api.get(f"{self._mr}/versions")
        self._versions = [
            Version(str(v["base_commit_sha"]), str(v["start_commit_sha"]), str(v["head_commit_sha"]))
            for v in (versions if isinstance(versions, list) else [])
            if isinstance(v, dict) and v.get("head_commit_sha") and v.get("base_commit_sha") and v.get("start_commit_sha")
        ]
        refs = mr.get("diff_refs") or {}
        latest = self._versions[0] if self._versions else None
        head = latest.head if latest else str(refs.get("head_sha") or mr.get("sha") or "")
        start = latest.start if latest else str(refs.get("start_sha") or "")
        if not head or not start:
            raise ForgeError(f"merge request !{self.iid} has no diff yet (GitLab is still preparing it?)",
                             hint="run again in a minute")
        return PullRequest(
            number=int(mr.get("iid") or self.iid), base_sha=start, head_sha=head, start_sha=start,
            base_ref=str(mr.get("target_branch") or ""), head_ref=str(mr.get("source_branch") or ""),
            head_repo=str(mr.get("source_project_id") or ""),
            is_fork=mr.get("source_project_id") != mr.get("target_project_id"),
            draft=bool(mr.get("draft") or mr.get("work_in_progress")), state=str(mr.get("state") or "opened"),
            title=str(mr.get("title") or ""), url=str(mr.get("web_url") or ""),
        )

    def _ours(self, note: dict[str, Any]) -> bool:
        if note.get("system"):
            return False
        if self.bot_username is None:
            return True
        author = note.get("author") or {}
        return isinstance(author, dict) and author.get("username") == self.bot_username

    def existing(self) -> Existing:
        out = Existing()
        for d in self.api.paginate(f"{self._mr}/discussions"):
            for n in (d.get("notes") or []) if isinstance(d, dict) else []:
                if isinstance(n, dict) and self._ours(n):
                    fps = fingerprints_in(str(n.get("body") or ""))
                    if fps:
                        out.inline_comments += 1
                        out.fingerprints.update(fps)
        for n in self.api.paginate(f"{self._mr}/notes", {"sort": "asc", "order_by": "created_at"}):
            if isinstance(n, dict) and self._ours(n) and is_summary(str(n.get("body") or "")) and out.summary_id is None:
                out.summary_id = int(n["id"])
                out.summary_body = str(n.get("body") or "")
        return out

    def api_diff(self, pr: PullRequest) -> DiffMap:
        parts = []
        for d in self.api.paginate(f"{self._mr}/diffs", limit=3000):
            if not isinstance(d, dict) or not isinstance(d.get("new_path"), str):
                continue
            new, old = d["new_path"], d.get("old_path") or d["new_path"]
            src = "/dev/null" if d.get("new_file") else f"a/{old}"
            dst = "/dev/null" if d.get("deleted_file") else f"b/{new}"
            head = f"diff --git a/{old} b/{new}\n"
            body = d.get("diff")
            if not isinstance(body, str) or not body.strip():
                parts.append(head + f"Binary files {src} and {dst} differ\n")
                continue
            parts.append(f"{head}--- {src}\n+++ {dst}\n{body if body.endswith(chr(10)) else body + chr(10)}")
        return DiffMap.parse("".join(parts))

    # -- writes ----------------------------------------------------------------------------
    def _version_for(self, head: str) -> Version:
        for v in self._versions:
            if v.head.lower() == head.lower():
                return v
        raise ForgeError(f"merge request !{self.iid} has no version for {head[:12]}",
                         hint="the branch moved on while this job ran; the newer pipeline will review it")

    def post_inline(self, pr: PullRequest, comments: list[InlineComment], review_body: str,
                    diff: DiffMap) -> InlineOutcome:
        out = InlineOutcome()
        if not comments:
            return out
        version = self._version_for(pr.head_sha)
        for c in comments:
            fd = diff.file(c.anchor.path)
            if fd is None:
                out.rejected.append((c, "the file is not in the reviewed diff"))
                continue
            payload = {"body": c.body, "position": position(c.anchor, fd, version)}
            try:
                self.api.request("POST", f"{self._mr}/discussions", json_body=payload)
            except Rejected as exc:
                out.rejected.append((c, exc.message))
                continue
            except Forbidden:
                if not out.posted:
                    raise
                out.rejected.append((c, "forbidden"))
                continue
            out.posted.append(c)
        return out

    def upsert_summary(self, body: str, existing: Existing) -> str:
        if existing.summary_id is not None:
            try:
                self.api.request("PUT", f"{self._mr}/notes/{existing.summary_id}", json_body={"body": body})
                return "updated"
            except ForgeError as exc:
                # gone (404), or not ours to edit (403: someone else's comment carries the marker)
                if exc.status not in (403, 404):
                    raise
        self.api.request("POST", f"{self._mr}/notes", json_body={"body": body})
        return "created"


def line_code(path: str, line: DiffLine) -> str:
    return f"{hashlib.sha1(path.encode('utf-8')).hexdigest()}_{line.old_pos}_{line.new_pos}"


def _line_fields(line: DiffLine) -> dict[str, int]:
    if line.kind == "+":
        return {"new_line": line.new or 0}
    if line.kind == "-":
        return {"old_line": line.old or 0}
    return {"old_line": line.old or 0, "new_line": line.new or 0}


def position(a: Anchor, fd: FileDiff, v: Version) -> dict[str, Any]:
    end = fd.at(a.side, a.line)
    if end is None:
        raise ForgeError(f"{a.path}:{a.line} is not in the diff")
    code_path = fd.path
    pos: dict[str, Any] = {
        "position_type": "text", "base_sha": v.base, "start_sha": v.start, "head_sha": v.head,
        "old_path": fd.old_path, "new_path": fd.path, **_line_fields(end[1]),
    }
    if a.start_line is not None:
        start = fd.at(a.side, a.start_line)
        if start is None:
            raise ForgeError(f"{a.path}:{a.start_line} is not in the diff")
        pos["line_range"] = {
            "start": {"line_code": line_code(code_path, start[1]), "type": "new" if start[1].kind == "+" else "old"},
            "end": {"line_code": line_code(code_path, end[1]), "type": "new" if end[1].kind == "+" else "old"},
        }
    return pos
