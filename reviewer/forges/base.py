"""The one seam between the review and a forge. The posting logic (``reviewer.forges.post``)
talks only to this interface; ``github.py`` and ``gitlab.py`` implement it."""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field

from reviewer.findings import Finding
from reviewer.forges.anchors import Anchor, DiffMap
from reviewer.forges.bodies import GITHUB_SUGGESTION, SuggestionStyle


@dataclass
class PullRequest:
    number: int
    base_sha: str  # the target branch's commit the forge diffs against (tip or merge base)
    head_sha: str
    base_ref: str = ""
    head_ref: str = ""
    head_repo: str | None = None  # "owner/name" the head branch lives in
    is_fork: bool = False
    draft: bool = False
    state: str = "open"
    title: str = ""
    start_sha: str | None = None  # GitLab: the target branch tip when this version was made
    url: str = ""


@dataclass
class Existing:
    """What earlier runs left on the pull request."""

    fingerprints: set[str] = field(default_factory=set)  # in our inline comments
    summary_id: int | None = None
    summary_body: str | None = None
    inline_comments: int = 0


@dataclass
class InlineComment:
    finding: Finding
    anchor: Anchor
    body: str


@dataclass
class InlineOutcome:
    posted: list[InlineComment] = field(default_factory=list)
    rejected: list[tuple[InlineComment, str]] = field(default_factory=list)  # the forge refused the anchor


class Forge(ABC):
    name: str = ""  # github | gitlab
    label: str = ""  # for people: "GitHub", "GitLab"
    suggestion_style: SuggestionStyle = GITHUB_SUGGESTION
    summary_noun: str = "comment"

    @abstractmethod
    def pull_request(self) -> PullRequest:
        """The pull (merge) request as the forge sees it now."""

    @abstractmethod
    def existing(self) -> Existing:
        """Our earlier inline comments (their fingerprints) and our summary comment, if any."""

    @abstractmethod
    def api_diff(self, pr: PullRequest) -> DiffMap:
        """The pull request's diff from the API, for posting without a checkout."""

    @abstractmethod
    def post_inline(self, pr: PullRequest, comments: list[InlineComment], review_body: str,
                    diff: DiffMap) -> InlineOutcome:
        """Post the inline comments (GitHub: one review; GitLab: one discussion each). ``diff`` is
        the map the anchors were made on."""

    @abstractmethod
    def upsert_summary(self, body: str, existing: Existing) -> str:
        """Edit our summary comment in place, or create it. Returns "updated" or "created"."""

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release connections."""
