"""Rank files for a task: personalized PageRank over a graph of files.

The graph: an edge A -> B when A uses a name B defines, weighted by how specific the name is
(a name several files define counts for less in each; private names and plain lowercase words
count for little). A name some files define at module level and others only as a method means
the module-level ones. With a focus (a diff, a question, a stack trace) the walk restarts at the
focused files and also follows edges backwards at a lower weight, so both what the focus uses
and what uses it rise. Without one it restarts anywhere, entry points more often, which ranks
central files first. Tests, docs, examples and data are then lowered unless the task points at
them.

PageRank is computed with numpy (power iteration on the edge list; the same fixed point as
networkx's ``pagerank`` with ``personalization`` and ``dangling`` set to the restart vector)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from reviewer.index.tags import Tags
from reviewer.index.tags import definers as tag_definers
from reviewer.pack.focus import Focus
from reviewer.pack.roles import ROLE_WEIGHT, is_entry_name, role_of

if TYPE_CHECKING:
    import numpy as np

DAMPING = 0.85
_MAX_DEFINERS = 25  # names defined in more files than this are too common to link files
_WORD_WEIGHT = 0.3  # of a name that is one lowercase word (see _name_weight)
_BACKWARD = 0.3  # weight of reversed edges when there is a focus
_FOCUS_SHARE = 0.9  # of the restart mass, on the focus


@dataclass
class Ranking:
    scores: dict[str, float]  # the value of each file to the task, 0..1
    order: list[str]  # paths, most valuable first
    focused: list[str]  # files to pack whole first, most important first
    reasons: dict[str, str] = field(default_factory=dict)
    roles: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"scores": self.scores, "focused": self.focused, "reasons": self.reasons}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Ranking:
        scores = {str(p): float(s) for p, s in data["scores"].items()}
        order = sorted(scores, key=lambda p: (-scores[p], p))
        return cls(scores, order, [str(p) for p in data["focused"]], {str(k): str(v) for k, v in data["reasons"].items()},
                   {p: role_of(p) for p in scores})

    def rank_of(self, path: str) -> int:
        """1-based position in ``order``."""
        if not hasattr(self, "_pos"):
            self._pos = {p: i for i, p in enumerate(self.order, 1)}
        return self._pos.get(path, len(self.order) + 1)


def _name_weight(name: str) -> float:
    if len(name) < 3 or (name.startswith("__") and name.endswith("__")):
        return 0.0
    if name.startswith("_"):
        return 0.2
    if name.isalpha() and name.islower():
        # one lowercase word (args, terms, order) is as often an attribute of something else or
        # a word of a comment as a use of this definition; register_hook or Request say more
        return _WORD_WEIGHT
    return 1.0


def build_edges(paths: Sequence[str], tags: Mapping[str, Tags]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(sources, targets, weights) of the file graph, merged per pair, in a deterministic order."""
    import numpy as np

    n = len(paths)
    definers = tag_definers([(i, tags[p]) for i, p in enumerate(paths)])
    linking = {name: owners for name, owners in definers.items() if len(owners) <= _MAX_DEFINERS and _name_weight(name) > 0}
    name_id = {name: k for k, name in enumerate(sorted(linking))}
    # which file uses which linking name: (file, name id) pairs
    use_file: list[int] = []
    use_name: list[int] = []
    for i, p in enumerate(paths):
        ids = [k for k in map(name_id.get, tags[p].references) if k is not None]
        use_file.extend([i] * len(ids))
        use_name.extend(ids)
    if not use_file:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0)
    files = np.asarray(use_file, dtype=np.int64)
    names = np.asarray(use_name, dtype=np.int64)
    ordered = sorted(linking)
    used_by = np.bincount(names, minlength=len(ordered))
    owners_count = np.array([len(linking[m]) for m in ordered], dtype=np.int64)
    base = np.array([_name_weight(m) for m in ordered])
    # rarer names say more: inverse document frequency over the files that use them
    weight = base * np.log1p(n / np.maximum(used_by, 1)) / owners_count
    ptr = np.concatenate([[0], np.cumsum(owners_count)])
    owner_idx = np.fromiter((o for m in ordered for o in linking[m]), dtype=np.int64, count=int(ptr[-1]))
    # expand each use into one edge per file defining the name
    counts = owners_count[names]
    src = np.repeat(files, counts)
    starts = np.repeat(ptr[names], counts)
    offsets = np.arange(len(src)) - np.repeat(np.cumsum(counts) - counts, counts)
    dst = owner_idx[starts + offsets]
    val = np.repeat(weight[names], counts)
    keep = src != dst
    src, dst, val = src[keep], dst[keep], val[keep]
    key = src * n + dst
    uniq, inverse = np.unique(key, return_inverse=True)
    merged = np.bincount(inverse, weights=val, minlength=len(uniq))
    return uniq // n, uniq % n, merged


def pagerank(
    n: int, src: np.ndarray, dst: np.ndarray, w: np.ndarray, restart: np.ndarray,
    damping: float = DAMPING, tol: float = 1e-12, max_iter: int = 200,
) -> np.ndarray:
    """Personalized PageRank; dangling nodes jump by ``restart`` (which must sum to 1)."""
    import numpy as np

    if n == 0:
        return np.zeros(0)
    out_w = np.bincount(src, weights=w, minlength=n) if len(src) else np.zeros(n)
    dangling = out_w == 0
    share = np.divide(w, out_w[src], out=np.zeros_like(w), where=out_w[src] > 0) if len(src) else w
    r = restart.copy()
    for _ in range(max_iter):
        flow = np.bincount(dst, weights=r[src] * share, minlength=n) if len(src) else np.zeros(n)
        new = damping * (flow + r[dangling].sum() * restart) + (1 - damping) * restart
        if np.abs(new - r).sum() < tol:
            r = new
            break
        r = new
    return r


def rank_files(paths: Sequence[str], tags: Mapping[str, Tags], focus: Focus | None = None) -> Ranking:
    import numpy as np

    paths = sorted(paths)
    n = len(paths)
    roles = {p: role_of(p) for p in paths}
    if n == 0:
        return Ranking({}, [], [], {}, roles)
    src, dst, w = build_edges(paths, tags)
    index = {p: i for i, p in enumerate(paths)}
    restart = np.zeros(n)
    entry = [is_entry_name(p) or tags[p].has_main or roles[p] == "meta" for p in paths]
    if focus:
        # backward edges too: what uses the focus matters as much as what it uses
        src, dst, w = (np.concatenate([src, dst]), np.concatenate([dst, src]), np.concatenate([w, _BACKWARD * w]))
        for p, weight in focus.files.items():
            if p in index:
                restart[index[p]] += weight
        restart *= _FOCUS_SHARE / restart.sum()
        base = np.array([ROLE_WEIGHT[roles[p]] for p in paths])
        restart += (1 - _FOCUS_SHARE) * base / base.sum()
    else:
        base = np.array([ROLE_WEIGHT[roles[p]] * (3.0 if entry[i] else 1.0) for i, p in enumerate(paths)])
        restart = base / base.sum()
    pr = pagerank(n, src, dst, w, restart)
    in_degree = np.bincount(dst, minlength=n) if len(dst) else np.zeros(n, dtype=np.int64)
    focused_set = set(focus.files) if focus else set()
    top_pr = float(pr.max()) if n else 0.0
    top_focus = max(focus.files.values()) if focus else 1.0
    scores: dict[str, float] = {}
    for i, p in enumerate(paths):
        s = float(pr[i])
        if p in focused_set:
            # what the task names comes before what it leads to
            s += top_pr * focus.files[p] / top_focus  # type: ignore[union-attr]
        else:
            s *= ROLE_WEIGHT[roles[p]]
        scores[p] = s
    top = max(scores.values()) or 1.0
    scores = {p: round(s / top, 12) for p, s in scores.items()}
    order = sorted(paths, key=lambda p: (-scores[p], p))
    reasons: dict[str, str] = {}
    for i, p in enumerate(paths):
        if focus and p in focus.reasons:
            reasons[p] = "; ".join(focus.reasons[p][:3])
            continue
        bits = []
        if entry[i] and not focus:
            bits.append("entry point" if roles[p] != "meta" else "project file")
        if in_degree[i]:
            bits.append(f"used by {int(in_degree[i])} file{'s' if in_degree[i] != 1 else ''}")
        if roles[p] not in ("code", "meta"):
            bits.append(f"{roles[p]} (lowered)")
        reasons[p] = ", ".join(bits) or "no links"
    focused = [p for p in (focus.focused if focus else []) if p in index]
    return Ranking(scores, order, focused, reasons, roles)
