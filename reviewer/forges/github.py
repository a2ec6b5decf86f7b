"""GitHub (github.com and Enterprise Server) behind the ``Forge`` interface.

Operations used, all in GitHub's REST API: get a pull request, list its files, list review
comments, create one review (event ``COMMENT``) holding the inline comments, list / create /
update issue comments (the summary).
"""

from __future__ import annotations

from typing import Any

from reviewer.forges.anchors import DiffMap
from reviewer.forges.base import Existing, Forge, InlineComment, InlineOutcome, PullRequest
from reviewer.forges.bodies import GITHUB_SUGGESTION
from reviewer.forges.http import ApiClient, ForgeError, Rejected
from reviewer.forges.markers import fingerprints_in, is_summary
from reviewer.forges.scrub import Scrubber

DEFAULT_API = "https://api.github.com"
API_VERSION = "2022-11-28"
ACTIONS_BOT = "github-actions[bot]"


class GitHubForge(Forge):
    name = "github"
    label = "GitHub"
    suggestion_style = GITHUB_SUGGESTION

    def __init__(self, repo: str, number: int, token: str, *, api_url: str = DEFAULT_API, scrub: Scrubber,
                 max_wait: float = 120.0, bot_login: str | None = None, client: ApiClient | None = None) -> None:
        owner, _, name = repo.partition("/")
        if not owner or not name or "/" in name:
            raise ForgeError(f"--repo must be OWNER/NAME, not {repo!r}")
        self.repo = repo
        self.number = number
        self.bot_login = bot_login
        self.api = client or ApiClient(
            api_url,
            {"Authorization": f"Bearer {token}"},
            scrub=scrub,
            max_wait=max_wait,
            extra_headers={"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": API_VERSION},
        )
        self._r = f"/repos/{owner}/{name}"

    def close(self) -> None:
        self.api.close()

    # -- reads -----------------------------------------------------------------------------
    def pull_request(self) -> PullRequest:
        data = self.api.get(f"{self._r}/pulls/{self.number}")
        if not isinstance(data, dict):
            raise ForgeError(f"GitHub returned no pull request #{self.number}")
        return pull_from_json(data, self.repo)

    def _ours(self, item: dict[str, Any]) -> bool:
        if self.bot_login is None:
            return True
        user = item.get("user") or {}
        return isinstance(user, dict) and user.get("login") == self.bot_login

    def existing(self) -> Existing:
        out = Existing()
        for c in self.api.paginate(f"{self._r}/pulls/{self.number}/comments"):
            if isinstance(c, dict) and self._ours(c):
                fps = fingerprints_in(str(c.get("body") or ""))
                if fps:
                    out.inline_comments += 1
                    out.fingerprints.update(fps)
        for c in self.api.paginate(f"{self._r}/issues/{self.number}/comments"):
            if (out.summary_id is None and isinstance(c, dict) and self._ours(c)
                    and is_summary(str(c.get("body") or ""))):
                out.summary_id = int(c["id"])
                out.summary_body = str(c.get("body") or "")
        return out

    def api_diff(self, pr: PullRequest) -> DiffMap:
        parts: list[str] = []
        for f in self.api.paginate(f"{self._r}/pulls/{self.number}/files", limit=3000):
            if not isinstance(f, dict) or not isinstance(f.get("filename"), str):
                continue
            parts.append(_file_patch(f))
        return DiffMap.parse("".join(parts))

    # -- writes ----------------------------------------------------------------------------
    def post_inline(self, pr: PullRequest, comments: list[InlineComment], review_body: str,
                    diff: DiffMap) -> InlineOutcome:
        out = InlineOutcome()
        if not comments:
            return out
        payload = {
            "commit_id": pr.head_sha,
            "body": review_body,
            "event": "COMMENT",
            "comments": [review_comment(c) for c in comments],
        }
        try:
            self.api.request("POST", f"{self._r}/pulls/{self.number}/reviews", json_body=payload)
        except Rejected as exc:
            # one review carries every comment: GitHub does not say which anchor it refused
            out.rejected = [(c, exc.message) for c in comments]
            return out
        out.posted = list(comments)
        return out

    def upsert_summary(self, body: str, existing: Existing) -> str:
        if existing.summary_id is not None:
            try:
                self.api.request("PATCH", f"{self._r}/issues/comments/{existing.summary_id}", json_body={"body": body})
                return "updated"
            except ForgeError as exc:
                # gone (404), or not ours to edit (403: someone else's comment carries the marker)
                if exc.status not in (403, 404):
                    raise
        self.api.request("POST", f"{self._r}/issues/{self.number}/comments", json_body={"body": body})
        return "created"


def review_comment(c: InlineComment) -> dict[str, Any]:
    a = c.anchor
    out: dict[str, Any] = {"path": a.path, "body": c.body, "line": a.line, "side": a.side}
    if a.start_line is not None:
        out["start_line"] = a.start_line
        out["start_side"] = a.side
    return out


def pull_from_json(data: dict[str, Any], repo: str) -> PullRequest:
    try:
        base, head = data["base"], data["head"]
        head_repo = (head.get("repo") or {}).get("full_name")
        base_repo = (base.get("repo") or {}).get("full_name") or repo
        return PullRequest(
            number=int(data["number"]),
            base_sha=str(base["sha"]),
            head_sha=str(head["sha"]),
            base_ref=str(base.get("ref") or ""),
            head_ref=str(head.get("ref") or ""),
            head_repo=head_repo,
            is_fork=head_repo is None or head_repo.lower() != str(base_repo).lower(),
            draft=bool(data.get("draft")),
            state=str(data.get("state") or "open"),
            title=str(data.get("title") or ""),
            url=str(data.get("html_url") or ""),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ForgeError(f"unexpected pull request data from GitHub: missing {exc}") from None


def _file_patch(f: dict[str, Any]) -> str:
    """One file of ``GET /pulls/{n}/files`` as a unified diff unidiff can read."""
    name = f["filename"]
    old = f.get("previous_filename") or name
    status = f.get("status")
    patch = f.get("patch")
    src = "/dev/null" if status == "added" else f"a/{old}"
    dst = "/dev/null" if status == "removed" else f"b/{name}"
    head = f"diff --git a/{old} b/{name}\n"
    if not isinstance(patch, str) or not patch:
        # binary, or too large for the API to include: nothing to anchor on
        return head + f"Binary files {src} and {dst} differ\n"
    body = patch if patch.endswith("\n") else patch + "\n"
    return f"{head}--- {src}\n+++ {dst}\n{body}"
