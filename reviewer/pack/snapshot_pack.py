"""The snapshot layout (``--snapshot-every N``): a pack whose bulk stays byte-identical from one
commit to the next, so the provider's prefix cache keeps serving it.

    header |
    [two layers: the steadiest half of the files as of an older snapshot commit (every 8N) |
     their diffs from it to the newer one] |
    the other files as of the snapshot commit (every N), packed as usual with the same query or trace |
    the commits since, oldest first, as diffs |
    the current text of the task's files (``--diff``) and of files with uncommitted changes |
    the directory tree as it is now | footer

A new commit only appends a diff, until the snapshot moves on (every N commits); then the older
layer and its diffs stay, and only every eighth move rewrites the whole pack
(``reviewer.pack.snapshot`` picks the commits). The cost is that the model reads older text plus
diffs, and that the snapshot is ranked without the diff's focus (the diff's files come whole after
it). The snapshot gets ``SNAPSHOT_SHARE`` of the budget; when the rest cannot hold what follows it,
a one-layer snapshot at a later commit is tried (N, N/2, N/4, ...), and when none fits, the
repository is packed as usual and a note says so. The total is exact."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from reviewer.config import Settings
from reviewer.errors import InputError
from reviewer.index.languages import language_for
from reviewer.pack.focus import changed_files
from reviewer.pack.model import Pack, PackedFile, SecretHit
from reviewer.pack.order import read_history
from reviewer.pack.render import TREE_COLLAPSE, Block, Renderer, body, get_renderer, number_lines, render_tree
from reviewer.pack.snapshot import Anchor, Changes, NoSnapshot, Plan, plans, read_changes, snapshot_tree
from reviewer.pack.tokens import Tokenizer, get_tokenizer
from reviewer.repo import git
from reviewer.repo.scan import ScanResult, resolve_root, scan
from reviewer.security.secrets import redact

Progress = Callable[[str, int, int], None]

SNAPSHOT_SHARE = 0.875
# of a two-layer snapshot's block tokens, the share from the older commit. Measured on flask when
# the snapshot moves on: 0.5 keeps 46 % of the pack, which is 18 % bigger than the usual layout's;
# 0.75 keeps 66 % for 52 % bigger; only the files unchanged for a year, 16 % for 7 % bigger
# (the older layer's diffs are what grows)
BASE_SHARE = 0.5


def build_snapshot_pack(
    root: Path, settings: Settings, *, diff_base: str | None, query: str | None, trace: str | None,
    progress: Progress | None, notes: list[str],
) -> Pack | None:
    """The pack in the snapshot layout, or None (with a note) when it does not apply."""
    from reviewer.pack.packer import default_budget

    root = resolve_root(root)
    if not git.is_work_tree(root):
        notes.append("--snapshot-every needs a git repository: packed as usual")
        return None
    try:
        candidates = plans(root, settings.snapshot_every)
    except NoSnapshot as exc:
        notes.append(f"--snapshot-every: {exc}: packed as usual")
        return None
    budget = default_budget(settings)
    current = scan(root, settings, progress)
    if not current.files:
        return None  # the usual path says why
    renderer = get_renderer(settings.style)
    tok = get_tokenizer(settings.tokenizer)
    now = _Current(current, renderer, tok, settings.redact_secrets)
    task = set(changed_files(root, diff_base, True)) if diff_base else set()
    now.add(sorted((task | _uncommitted(root)) & set(now.files)))
    header, footer = renderer.header(root.name or "repository", {}), renderer.footer()
    fixed = tok.count(header) + tok.count(footer) + now.tokens
    plain = settings.model_copy(update={"snapshot_every": 0, "budget": max(1, int(budget * SNAPSHOT_SHARE))})
    why = "the snapshot and the commits since it do not fit the budget"
    for plan in candidates:
        if progress is not None:
            progress("snapshot", 0, 1)
        try:
            layers = _Layers(root, plan, plain, query, trace, now, renderer)
        except NoSnapshot as exc:  # a diff since the commit too large to hold
            why = str(exc)
            continue
        except InputError:
            continue  # e.g. no text files at that commit, or a budget too small for its tree
        if progress is not None:
            progress("snapshot", 1, 1)
        room = budget - fixed - layers.tokens(tok)
        tree = _tree_within(renderer, tok, sorted(now.files), room)
        if tree is None:
            continue
        text = header + layers.text + now.text + tree[0] + footer
        return Pack(
            root=root.name or "repository",
            text=text,
            total_tokens=budget - room + tree[1],
            budget=budget,
            tokenizer=tok.name,
            style=renderer.style,
            files=_files(now, layers.before, layers.touched),
            excluded=list(current.excluded),
            secrets=_unique([*layers.secrets, *now.secrets]),
            blocks=(len(header), len(header) + len(layers.text)),
            notes=[*notes, layers.note()],
        )
    notes.append(f"--snapshot-every: {why}: packed as usual")
    return None


def _snapshot(root: Path, anchor: Anchor, settings: Settings, query: str | None, trace: str | None) -> Pack:
    from reviewer.pack.packer import build_pack

    with snapshot_tree(root, anchor.commit, settings) as tree_dir:
        return build_pack(tree_dir, settings, query=query, trace=trace,
                          history=read_history(root, True, rev=anchor.commit))


def _split(pack: Pack, share: float) -> tuple[list[str], str]:
    """The leading blocks of ``pack`` (in the order of ``reviewer.pack.order``, the steadiest
    files first) that hold up to ``share`` of its block tokens, and their text."""
    tokens = {f.path: f.tokens for f in pack.files}
    limit = share * sum(tokens.values())
    taken, used, end = [], 0, 0
    for path, stop in pack.block_order:
        if used + tokens[path] > limit:
            break
        taken.append(path)
        used += tokens[path]
        end = stop
    return taken, pack.text[pack.blocks[0]:pack.blocks[0] + end]


class _Layers:
    """The snapshot's file blocks and the diffs after them, for one plan: with two layers, the
    base's leading blocks (``BASE_SHARE`` of its tokens: the steadiest files) and their diffs up to
    the top commit, then the top's blocks of every other file; then the diffs from the top commit
    to HEAD."""

    def __init__(self, root: Path, plan: Plan, settings: Settings, query: str | None, trace: str | None,
                 now: _Current, renderer: Renderer) -> None:
        self.plan = plan
        parts: list[str] = []
        self.before: dict[str, PackedFile] = {}
        self.secrets: list[SecretHit] = []
        self.counted: list[int] = []  # block tokens already known
        self.logs: list[str] = []
        self.touched: set[str] = set()
        kept: set[str] = set()
        if plan.base is not None:
            base = _snapshot(root, plan.base, settings, query, trace)
            first, text = _split(base, BASE_SHARE)
            kept = set(first)
            parts.append(text)
            self._take(base, kept)
            older = read_changes(root, plan.base.commit, kept.__contains__, settings.redact_secrets,
                                 until=plan.top.commit, max_bytes=settings.max_file_bytes)
            parts.append(self._log(renderer, plan.base.commit, older))
        top = _snapshot(root, plan.top, settings, query, trace)
        start = 0
        for path, stop in top.block_order:
            if path not in kept:
                parts.append(top.text[top.blocks[0] + start:top.blocks[0] + stop])
            start = stop
        self._take(top, {f.path for f in top.files} - kept)
        allowed = set(now.files) | set(self.before)
        since = read_changes(root, plan.top.commit, allowed.__contains__, settings.redact_secrets,
                             max_bytes=settings.max_file_bytes)
        parts.append(self._log(renderer, plan.top.commit, since))
        self.text = "".join(parts)

    def _take(self, pack: Pack, paths: set[str]) -> None:
        for f in pack.files:
            if f.path in paths:
                self.before[f.path] = f
                self.counted.append(f.tokens)
        self.secrets += [h for h in pack.secrets if h.path in paths]

    def _log(self, renderer: Renderer, since: str, changes: Changes) -> str:
        self.touched |= changes.paths
        self.secrets += changes.secrets
        log = renderer.changes(since, [(c.commit, c.subject, c.diff) for c in changes.commits]) if changes.commits else ""
        self.logs.append(log)
        return log

    def tokens(self, tok: Tokenizer) -> int:
        return sum(self.counted) + sum(tok.count(log) for log in self.logs if log)

    def note(self) -> str:
        top = self.plan.top
        where = "HEAD" if not top.behind else f"{top.commit[:12]}, {top.behind} commit(s) before HEAD"
        if self.plan.base is not None:
            base = self.plan.base
            where = (f"{base.commit[:12]} ({base.behind} commit(s) before HEAD) for the steadiest files, "
                     f"{where} for the rest")
        changed = f"; {len(self.touched)} file(s) changed since, shown as diffs" if self.touched else ""
        return f"snapshot at {where}{changed}"


class _Current:
    """The tree as it is now, and the blocks of the files shown with their current text."""

    def __init__(self, scanned: ScanResult, renderer: Renderer, tok: Tokenizer, redact_secrets: bool) -> None:
        self.files = {f.path: f for f in scanned.files}
        self.renderer, self.tok, self.redact = renderer, tok, redact_secrets
        self.shown: dict[str, tuple[str, int]] = {}  # path -> (redacted text, block tokens)
        self.secrets: list[SecretHit] = []
        self.text = ""
        self.tokens = 0

    def add(self, paths: list[str]) -> None:
        for path in paths:
            source = self.files[path]
            text = source.text
            if self.redact:
                clean = redact(path, text)
                text = clean.text
                self.secrets += clean.hits
            block = Block(path, "full", source.lines, number_lines(text), language_for(path))
            numbered = body(block)
            n = self.tok.count(numbered)
            head, tail = self.renderer.head(block, n, numbered), self.renderer.tail(block, numbered)
            rendered = head + numbered + tail
            tokens = n + self.tok.count(head) + self.tok.count(tail)  # parts add up (reviewer.pack.render)
            self.shown[path] = (text, tokens)
            self.text += rendered
            self.tokens += tokens

    def redacted(self, path: str) -> str:
        text = self.files[path].text
        return redact(path, text).text if self.redact else text


def _uncommitted(root: Path) -> set[str]:
    """Files with uncommitted changes, and untracked ones (relative to ``root``)."""
    prefix = git.run_git(root, "rev-parse", "--show-prefix", check=False).stdout.decode().strip()
    return {path[len(prefix):] for path in git.uncommitted(root) if path.startswith(prefix)}


def _tree_within(renderer: Renderer, tok: Tokenizer, paths: list[str], room: int) -> tuple[str, int] | None:
    """The directory tree, collapsed as far as needed to fit ``room`` tokens; None if even the
    most collapsed one does not."""
    for depth in (None, *TREE_COLLAPSE):
        tree = renderer.tree(render_tree(paths, collapse_below=depth))
        n = tok.count(tree)
        if n <= room:
            return tree, n
    return None


def _files(now: _Current, before: dict[str, PackedFile], touched: set[str]) -> list[PackedFile]:
    """What the model was shown of each file as it is now: a file untouched since the snapshot as
    the snapshot shows it; a changed one whole when shown whole now or in the snapshot (the diffs
    bring it up to date) or added since (its diffs hold all of it), else as the snapshot shows it."""
    out = []
    for path, source in sorted(now.files.items()):
        old = before.get(path)
        if path in now.shown:
            text, tokens = now.shown[path]
            out.append(PackedFile(path, "full", text, tokens, source.lines, language_for(path),
                                  "current text after the changes", old.rank if old else 0.0))
        elif old is not None and path not in touched:
            out.append(old)
        elif path in touched and (old is None or old.tier == "full"):
            why = "added after the snapshot: whole in its diffs" if old is None else \
                f"{old.reason}; changed after the snapshot (diffs follow it)"
            out.append(PackedFile(path, "full", now.redacted(path), old.tokens if old else 0, source.lines,
                                  language_for(path), why, old.rank if old else 0.0))
        elif old is not None:
            out.append(PackedFile(path, old.tier, old.text, old.tokens, source.lines, old.language,
                                  f"{old.reason}; changed after the snapshot (diffs follow it)", old.rank))
        else:
            out.append(PackedFile(path, "listed", "", 0, source.lines, language_for(path), "not in the snapshot"))
    return out


def _unique(hits: list[SecretHit]) -> list[SecretHit]:
    seen: set[tuple[str, int, str]] = set()
    out = []
    for h in hits:
        if (h.path, h.line, h.kind) not in seen:
            seen.add((h.path, h.line, h.kind))
            out.append(h)
    return out


