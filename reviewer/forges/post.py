"""From a review to what the pull request shows, through the ``Forge`` interface only.

1. Findings already posted (their fingerprint is in one of our comments or in the summary's
   state) are not posted again.
2. Each new finding is anchored on the parsed diff; those on changed lines become inline
   comments, worst first, at most ``max_comments``; the rest go to the summary.
3. Every anchor is validated against the diff before anything is sent; a forge that refuses one
   anyway (GitHub 422, GitLab 400) has those findings moved to the summary, not lost.
4. Findings open from earlier runs that were not reported again stay open while their code is
   still there, and are listed as resolved once it is gone.
5. One summary comment, found by its hidden marker, is edited in place (created the first time).
6. The model's words in every body are untrusted text (``reviewer.report.untrusted``): links only to
   this pull request's repository's files (from the pull request's own web address).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from reviewer.findings import Finding, sort_findings
from reviewer.forges.anchors import DiffMap, anchor
from reviewer.forges.base import Existing, Forge, InlineComment, PullRequest
from reviewer.forges.bodies import fit, inline_body
from reviewer.forges.bundle import Bundle
from reviewer.forges.markers import OpenItem, State, evidence_hash, fp_marker, read_state
from reviewer.forges.scrub import Scrubber
from reviewer.forges.summary import SummaryInput, render_summary
from reviewer.report.untrusted import NO_LINKS, Links

MAX_COMMENTS = 30


@dataclass
class Plan:
    inline: list[InlineComment] = field(default_factory=list)
    outside: list[tuple[Finding, str]] = field(default_factory=list)
    over_limit: list[Finding] = field(default_factory=list)
    already: list[Finding] = field(default_factory=list)
    carried: list[OpenItem] = field(default_factory=list)
    resolved: list[OpenItem] = field(default_factory=list)
    invalid_anchors: int = 0  # anchors our own validation refused (should stay 0)


@dataclass
class PostReport:
    inline_posted: int = 0
    inline_refused: int = 0
    in_summary: int = 0
    already_posted: int = 0
    resolved: int = 0
    still_open: int = 0
    summary: str = ""  # created | updated
    review_posted: bool = False


def make_plan(bundle: Bundle, diff: DiffMap, existing: Existing, state: State, forge: Forge, scrub: Scrubber,
              max_comments: int = MAX_COMMENTS, links: Links = NO_LINKS) -> Plan:
    plan = Plan()
    known = set(existing.fingerprints) | {i.fp for i in state.items}
    current = {f.fingerprint for f in bundle.findings}
    candidates: list[InlineComment] = []
    for f in sort_findings(bundle.findings):
        if f.fingerprint in known:
            plan.already.append(f)
            continue
        a, reason = anchor(f, diff)
        if a is None:
            plan.outside.append((f, reason))
            continue
        problem = diff.validate(a)
        if problem is not None:  # cannot happen with anchors made from the same map; never send it
            plan.invalid_anchors += 1
            plan.outside.append((f, problem))
            continue
        candidates.append(InlineComment(f, a, scrub(inline_body(f, a, forge.suggestion_style, links))))
    plan.inline = candidates[:max_comments]
    plan.over_limit = [c.finding for c in candidates[max_comments:]]
    for item in state.items:
        if item.fp in current:
            continue
        if bundle.present.get(item.fp, True):
            plan.carried.append(item)
        else:
            plan.resolved.append(item)
    return plan


def _item(f: Finding, inline: bool) -> OpenItem:
    return OpenItem(
        fp=f.fingerprint, path=f.path, line=f.start_line, title=" ".join(f.title.split())[:120],
        severity=f.severity.value, category=f.category.value, ev=evidence_hash(f.evidence),
        n=max(1, f.evidence.count("\n") + 1), inline=inline,
    )


def next_state(bundle: Bundle, plan: Plan, posted: set[str], existing: Existing, previous: State) -> State:
    prev = previous.by_fp()
    items: list[OpenItem] = []
    for f in sort_findings(bundle.findings):
        was_inline = f.fingerprint in posted or f.fingerprint in existing.fingerprints or (
            f.fingerprint in prev and prev[f.fingerprint].inline)
        items.append(_item(f, was_inline))
    items += plan.carried
    return State(head=bundle.head_sha, items=items)


def review_body(n: int, head: str, forge_label: str) -> str:
    return (f"reviewer: {n} new finding{'s' if n != 1 else ''} on changed lines of `{head[:12]}`. "
            f"The summary comment lists the rest, what is still open, what was resolved, and the cost.")


def publish(forge: Forge, pr: PullRequest, bundle: Bundle, diff: DiffMap, existing: Existing, scrub: Scrubber,
            *, max_comments: int = MAX_COMMENTS) -> tuple[PostReport, Plan]:
    """Post the inline comments and the summary. A ``Forbidden`` from the first write propagates
    (the caller falls back to files); nothing has been written at that point."""
    state = read_state(existing.summary_body or "") or State()
    links = Links.to_files_of(pr.url)  # the model's text may link to this repository's files, nowhere else
    plan = make_plan(bundle, diff, existing, state, forge, scrub, max_comments, links)
    report = PostReport()
    outcome = forge.post_inline(pr, plan.inline, scrub(review_body(len(plan.inline), bundle.head_sha, forge.label)), diff)
    report.review_posted = bool(outcome.posted)
    posted = {c.finding.fingerprint for c in outcome.posted}
    refused = [(c.finding, scrub(reason)) for c, reason in outcome.rejected]
    summary_in = SummaryInput(
        bundle=bundle, forge_label=forge.label, inline=[c.finding for c in outcome.posted], outside=plan.outside,
        over_limit=plan.over_limit, refused=refused, already=plan.already, carried=plan.carried,
        resolved=plan.resolved, max_comments=max_comments,
        state=next_state(bundle, plan, posted, existing, state), links=links,
    )
    body = scrub(render_summary(summary_in))
    report.summary = forge.upsert_summary(body, existing)
    report.inline_posted = len(outcome.posted)
    report.inline_refused = len(refused)
    report.in_summary = len(plan.outside) + len(plan.over_limit) + len(refused)
    report.already_posted = len(plan.already)
    report.resolved = len(plan.resolved)
    report.still_open = len(plan.already) + len(plan.carried)
    return report, plan


__all__ = ["MAX_COMMENTS", "Plan", "PostReport", "fit", "fp_marker", "make_plan", "publish"]
