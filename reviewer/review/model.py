"""Results of a review run, as the engine returns them to the CLI, the reporters and the forges."""

from __future__ import annotations

from dataclasses import dataclass, field

from reviewer.findings import Finding


@dataclass
class Usage:
    """What one or more model calls consumed and cost (USD, from the price table)."""

    model: str = ""  # the model id the server reported
    calls: int = 0
    prompt_tokens: int = 0
    cache_hit_tokens: int = 0
    cache_miss_tokens: int = 0
    completion_tokens: int = 0
    reasoning_tokens: int = 0
    cost_usd: float = 0.0
    retries: int = 0

    def add(self, other: Usage) -> None:
        self.model = other.model or self.model
        self.calls += other.calls
        self.prompt_tokens += other.prompt_tokens
        self.cache_hit_tokens += other.cache_hit_tokens
        self.cache_miss_tokens += other.cache_miss_tokens
        self.completion_tokens += other.completion_tokens
        self.reasoning_tokens += other.reasoning_tokens
        self.cost_usd += other.cost_usd
        self.retries += other.retries


@dataclass
class Dropped:
    """A finding the model gave that did not survive grounding, and why."""

    title: str
    path: str
    start_line: int
    # unknown-path | unreadable | line-out-of-range | evidence-too-short | evidence-not-found |
    # evidence-far-from-lines | invalid-schema[: field] | unparseable | duplicate
    reason: str


@dataclass
class ReviewResult:
    findings: list[Finding] = field(default_factory=list)  # grounded, merged, sorted
    rejected: list[Finding] = field(default_factory=list)  # analyzer hints the model rejected
    dropped: list[Dropped] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # skipped analyzers, truncation, retries, no model used...
    usage: Usage = field(default_factory=Usage)
    answer: str | None = None  # `ask`: the explanation
    model_used: bool = False
    files_full: list[str] = field(default_factory=list)
    files_outline: list[str] = field(default_factory=list)
    files_listed: list[str] = field(default_factory=list)
    truncated: bool = False
    estimate: dict[str, object] | None = None  # --dry-run: tokens, model, window, cost at miss and hit prices
    backend: str | None = None  # the backend profile used, if any
    chunks: int = 0  # packs reviewed (more than one when the repository exceeds a window)
