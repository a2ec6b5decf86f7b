"""Which pull request to review and why: from the CI environment, the event payload, or flags.

GitHub Actions: ``GITHUB_EVENT_NAME``, ``GITHUB_EVENT_PATH`` (the webhook payload),
``GITHUB_REPOSITORY``, ``GITHUB_API_URL`` (Enterprise Server) and ``GITHUB_TOKEN``.
- ``pull_request`` (opened, reopened, synchronize, ready_for_review): review the pull request;
- ``issue_comment`` (created) whose first line is ``/review``, on a pull request, by someone
  whose ``author_association`` is OWNER, MEMBER or COLLABORATOR: a full review;
- ``workflow_run``: the second stage of the fork workflow (post a saved result).

GitLab CI: ``CI_API_V4_URL``, ``CI_PROJECT_ID``, ``CI_MERGE_REQUEST_IID``, and a token with API
scope in ``REVIEWER_GITLAB_TOKEN`` or ``GITLAB_TOKEN`` (``CI_JOB_TOKEN`` cannot write notes).

Locally: ``--repo OWNER/NAME --pr N`` (GitHub) or ``--repo GROUP/PROJECT --pr IID`` (GitLab).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from reviewer.errors import InputError

ALLOWED_ASSOCIATIONS = ("OWNER", "MEMBER", "COLLABORATOR")
REVIEW_ACTIONS = ("opened", "reopened", "synchronize", "ready_for_review")
GITHUB_API = "https://api.github.com"


@dataclass
class Trigger:
    forge: str  # github | gitlab
    repo: str  # GitHub OWNER/NAME; GitLab numeric id or GROUP/PROJECT path
    number: int
    api_url: str
    event: str  # pull_request | issue_comment | workflow_run | merge_request | local
    token: str = field(default="", repr=False)
    action: str | None = None
    head_sha: str | None = None  # the head the event is about (checked against the checkout)
    full: bool = False  # a full review was asked for (/review)
    skip: str | None = None  # why nothing should be done (not an error)
    run_head_repo: str | None = None  # workflow_run: the repository the run's head came from
    requested_by: str | None = None


def _load_event(path: str | None) -> dict[str, Any]:
    if not path:
        return {}
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"cannot read the event payload {p.name}: {exc.strerror}") from exc
    except ValueError as exc:
        raise InputError(f"the event payload {p.name} is not JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise InputError(f"the event payload {p.name} is not a JSON object")
    return data


def github_trigger(env: dict[str, str], *, repo: str | None = None, number: int | None = None,
                   api_url: str | None = None, event_path: str | None = None) -> Trigger:
    token = env.get("GITHUB_TOKEN") or env.get("GH_TOKEN") or ""
    api = (api_url or env.get("GITHUB_API_URL") or GITHUB_API).rstrip("/")
    repo = repo or env.get("GITHUB_REPOSITORY") or ""
    path = event_path or (env.get("GITHUB_EVENT_PATH") if number is None else None)
    payload = _load_event(path)
    name = env.get("GITHUB_EVENT_NAME") or _guess_event(payload)
    if not repo:
        repo = str(((payload.get("repository") or {}).get("full_name")) or "")
    if not repo:
        raise InputError("which repository? pass --repo OWNER/NAME (or run inside GitHub Actions)")
    t = Trigger("github", repo, number or 0, api, "local" if number is not None and not payload else name, token)
    if number is not None:
        t.number = number
        return t
    if name in ("pull_request", "pull_request_target"):
        pr = payload.get("pull_request") or {}
        t.number = int(payload.get("number") or pr.get("number") or 0)
        t.action = payload.get("action")
        t.head_sha = (pr.get("head") or {}).get("sha")
        if t.action not in REVIEW_ACTIONS:
            t.skip = f"nothing to review for a pull_request '{t.action}' event"
        elif pr.get("draft") and t.action != "ready_for_review":
            t.skip = "the pull request is a draft (it is reviewed when marked ready)"
    elif name == "issue_comment":
        issue = payload.get("issue") or {}
        comment = payload.get("comment") or {}
        t.number = int(issue.get("number") or 0)
        t.action = payload.get("action")
        t.full = True
        t.requested_by = str((comment.get("user") or {}).get("login") or "")
        first = str(comment.get("body") or "").strip().splitlines()[:1]
        assoc = str(comment.get("author_association") or "")
        if t.action != "created":
            t.skip = f"comment {t.action}: only new comments ask for a review"
        elif not issue.get("pull_request"):
            t.skip = "the comment is on an issue, not a pull request"
        elif not first or first[0].split()[:1] != ["/review"]:
            t.skip = "the comment does not start with /review"
        elif assoc not in ALLOWED_ASSOCIATIONS:
            t.skip = (f"/review from {t.requested_by or 'someone'} ({assoc or 'no association'}) ignored: "
                      f"only {', '.join(ALLOWED_ASSOCIATIONS)} may ask for a review")
    elif name == "workflow_run":
        run = payload.get("workflow_run") or {}
        t.head_sha = run.get("head_sha")
        t.run_head_repo = (run.get("head_repository") or {}).get("full_name")
        prs = run.get("pull_requests") or []
        if prs and isinstance(prs[0], dict):
            t.number = int(prs[0].get("number") or 0)
        if run.get("event") not in ("pull_request", None):
            t.skip = f"the workflow run was for a '{run.get('event')}' event, not a pull request"
    elif not payload:
        raise InputError("no pull request given", hint="pass --repo OWNER/NAME --pr N, or run in GitHub Actions on a pull_request event")
    else:
        raise InputError(f"reviewer pr does not handle '{name}' events",
                         hint="use pull_request, issue_comment (/review) or workflow_run")
    if not t.number and not t.skip and name != "workflow_run":
        raise InputError("the event payload names no pull request number")
    return t


def _guess_event(payload: dict[str, Any]) -> str:
    if "pull_request" in payload:
        return "pull_request"
    if "comment" in payload and "issue" in payload:
        return "issue_comment"
    if "workflow_run" in payload:
        return "workflow_run"
    return "local"


def gitlab_trigger(env: dict[str, str], *, repo: str | None = None, number: int | None = None,
                   api_url: str | None = None) -> Trigger:
    token = env.get("REVIEWER_GITLAB_TOKEN") or env.get("GITLAB_TOKEN") or ""
    api = (api_url or env.get("CI_API_V4_URL") or "https://gitlab.com/api/v4").rstrip("/")
    project = repo or env.get("CI_MERGE_REQUEST_PROJECT_ID") or env.get("CI_PROJECT_ID") or ""
    if not project:
        raise InputError("which project? pass --repo GROUP/PROJECT (or run in a GitLab merge request pipeline)")
    iid = number if number is not None else int(env.get("CI_MERGE_REQUEST_IID") or 0)
    event = "local" if number is not None else "merge_request"
    t = Trigger("gitlab", project, iid, api, event, token)
    if number is None:
        t.head_sha = env.get("CI_COMMIT_SHA") or None
        if not iid:
            t.skip = "not a merge request pipeline (CI_MERGE_REQUEST_IID is not set)"
    return t


def detect_forge(env: dict[str, str] | None = None) -> str:
    env = dict(os.environ if env is None else env)
    if env.get("GITLAB_CI") == "true" and not env.get("GITHUB_ACTIONS"):
        return "gitlab"
    return "github"
