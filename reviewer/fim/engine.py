"""One completion, from the text around a cursor to the text that fills it.

``FimEngine.prepare`` cuts the prefix and suffix to their budgets (whole lines, nearest the
cursor), gathers repository context, redacts secrets when the upstream is not on this machine,
and builds the provider's request. ``FimEngine.run`` sends it, streams the answer through the
stop rules an editor asks for (stop strings, ``n_indent``, ``t_max_predict_ms``, as llama.cpp
applies them), and ends early when the request is superseded by a newer one from the same
client or its deadline passes. Finished completions are kept in an LRU cache keyed by
everything that decides them.
"""

from __future__ import annotations

import contextlib
import hashlib
import heapq
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import httpx

from reviewer.errors import BackendError
from reviewer.fim.context import Context, ContextItem, gather
from reviewer.fim.counting import CachedCounter
from reviewer.fim.cursor import FileGate
from reviewer.fim.providers import FimRequest, Provider
from reviewer.fim.redaction import redact_text
from reviewer.fim.repoindex import RepoIndex
from reviewer.fim.window import cut_prefix, cut_suffix
from reviewer.index import language_for


@dataclass
class FimOptions:
    context_tokens: int = 2048  # repository context
    client_context_tokens: int = 2048  # context the editor sends (llama.vim's ring buffer)
    prefix_tokens: int = 1536
    suffix_tokens: int = 512
    max_tokens: int = 128  # when the request does not say
    deadline: float = 5.0  # seconds per request, context and upstream together
    cache_entries: int = 512
    redact: bool | None = None  # None: redact when the upstream is not on this machine


@dataclass
class Query:
    """A completion request, whatever protocol it came in."""

    prefix: str
    suffix: str
    path: str | None = None  # repository-relative, when the client named the file
    client_context: list[tuple[str, str]] = field(default_factory=list)
    max_tokens: int | None = None
    temperature: float = 0.0
    stop: list[str] = field(default_factory=list)
    n_indent: int = 0
    t_max_predict_ms: int = 0
    options: dict[str, Any] = field(default_factory=dict)
    client: str | None = None  # who is asking: a newer request with the same key supersedes


@dataclass
class Prepared:
    query: Query
    request: FimRequest
    context: Context
    key: str
    prompt_tokens: int
    redactions: int
    ms: float
    raw_key: str = ""


@dataclass
class Outcome:
    text: str
    finish: str  # "stop" | "length" | "word" | "superseded" | "deadline"
    stopping_word: str = ""
    cached: bool = False
    truncated: bool = False
    first_ms: float = 0.0  # until the first piece of the answer
    upstream_ms: float = 0.0  # waiting on the upstream
    total_ms: float = 0.0
    usage: dict[str, Any] | None = None
    capped: bool = False  # the upstream went on past MAX_COMPLETION_CHARS: cut there


MAX_COMPLETION_CHARS = 32_000  # what is kept of one completion (an editor wants a few lines)


class _Flight:
    """One request talking to the upstream: how to stop it from another thread (a newer request
    from the same client, or the deadline), and why it was stopped."""

    def __init__(self) -> None:
        self.stop = threading.Event()
        self.why = ""
        self.opened: list[httpx.Response] = []
        self._lock = threading.Lock()

    def cancel(self, why: str) -> None:
        with self._lock:
            if self.stop.is_set():
                return
            self.why = why
            self.stop.set()
            opened = list(self.opened)
        for resp in opened:  # wakes a read blocked on a silent upstream, and closes the connection
            with contextlib.suppress(Exception):
                resp.close()


class Supersession:
    """The request in flight per client; starting a new one stops the old one."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._live: dict[str, _Flight] = {}
        self.count = 0

    def begin(self, client: str | None, flight: _Flight) -> None:
        if not client:
            return
        with self._lock:
            old = self._live.get(client)
            self._live[client] = flight
        if old is not None and not old.stop.is_set():
            self.count += 1
            old.cancel("superseded")

    def end(self, client: str | None, flight: _Flight) -> None:
        if not client:
            return
        with self._lock:
            if self._live.get(client) is flight:
                del self._live[client]


class _Reaper:
    """One thread that cancels flights whose deadline has passed."""

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, _Flight]] = []
        self._cond = threading.Condition()
        self._n = 0
        threading.Thread(target=self._run, name="fim-deadline", daemon=True).start()

    def watch(self, deadline: float, flight: _Flight) -> None:
        with self._cond:
            self._n += 1
            heapq.heappush(self._heap, (deadline, self._n, flight))
            self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._heap:
                    self._cond.wait()
                when, _, flight = self._heap[0]
                wait = when - time.perf_counter()
                if wait > 0 and not flight.stop.is_set():
                    self._cond.wait(wait)
                    continue
                heapq.heappop(self._heap)
            if not flight.stop.is_set():
                flight.cancel("deadline")


class CompletionCache:
    def __init__(self, entries: int) -> None:
        self.entries = entries
        self._data: OrderedDict[str, Outcome] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: str, *, count: bool = True) -> Outcome | None:
        with self._lock:
            hit = self._data.get(key)
            if hit is None:
                self.misses += count
                return None
            self._data.move_to_end(key)
            self.hits += 1
            return hit

    def put(self, key: str, outcome: Outcome) -> None:
        if self.entries <= 0:
            return
        with self._lock:
            self._data[key] = outcome
            self._data.move_to_end(key)
            while len(self._data) > self.entries:
                self._data.popitem(last=False)


def _digest(*parts: object) -> str:
    """A cache key: SHA-256 over the parts, each length-prefixed (texts as they are, the rest
    by ``repr``), without the cost of encoding them as JSON."""
    h = hashlib.sha256()
    _feed(h, parts)
    return h.hexdigest()


def _feed(h: hashlib._Hash, part: object) -> None:
    if isinstance(part, (list, tuple)):  # walked, so big texts inside are not copied by repr
        h.update(b"L" + len(part).to_bytes(8, "little"))
        for item in part:
            _feed(h, item)
        return
    if isinstance(part, str):
        data = b"S" + part.encode("utf-8", "surrogatepass")
    else:
        data = b"R" + repr(part).encode("utf-8", "backslashreplace")
    h.update(len(data).to_bytes(8, "little"))
    h.update(data)


def _redact_editor_text(name: str, text: str, clean: frozenset[str] | None) -> tuple[str, int]:
    """The editor's text as it may be sent. Lines that are lines of the file on disk known to
    hold no secret need no scan; when a single line is not one of them (the line being typed),
    that line alone is scanned; otherwise the whole text is (a secret pasted over several lines,
    such as a private key, is only found whole)."""
    if clean is not None:
        lines = text.split("\n")
        unknown = [i for i, line in enumerate(lines) if line not in clean]
        if not unknown:
            return text, 0
        if len(unknown) == 1 and "-----BEGIN" not in lines[unknown[0]]:
            i = unknown[0]
            lines[i], hits = redact_text(name, lines[i])
            return "\n".join(lines), hits
    return redact_text(name, text)


def is_local(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    return host in ("localhost", "::1") or host.startswith("127.")


class FimEngine:
    def __init__(self, index: RepoIndex, provider: Provider, counter: CachedCounter, options: FimOptions,
                 client: httpx.Client | None = None) -> None:
        self.index = index
        self.provider = provider
        self.counter = counter
        self.options = options
        self.http = client or httpx.Client(limits=httpx.Limits(max_connections=64, max_keepalive_connections=32))
        self.cache = CompletionCache(options.cache_entries)
        self.supersession = Supersession()
        self.reaper = _Reaper()
        self.redact = options.redact if options.redact is not None else not is_local(provider.url())
        self.gate: FileGate | None = None  # which files a request may have read (set by the service)

    def close(self) -> None:
        self.http.close()

    # ------------------------------------------------------------------ preparing

    def raw_key(self, q: Query) -> str:
        """What decides a completion before any work: the request itself and the index's state
        (a cache hit on it skips context, counting and the upstream)."""
        st = self.index.stats
        return _digest(q.prefix, q.suffix, q.path, q.client_context, q.max_tokens, q.temperature, q.stop,
                       q.n_indent, sorted(q.options.items(), key=lambda kv: kv[0]), st.updates, st.files, st.ready)

    def cached(self, q: Query) -> Outcome | None:
        hit = self.cache.get("raw:" + self.raw_key(q), count=False)
        if hit is None:
            return None
        return Outcome(hit.text, hit.finish, hit.stopping_word, cached=True, usage=hit.usage)

    def prepare(self, q: Query) -> Prepared:
        start = time.perf_counter()
        opts = self.options
        prefix, n_prefix = cut_prefix(q.prefix, self.counter, opts.prefix_tokens)
        suffix, n_suffix = cut_suffix(q.suffix, self.counter, opts.suffix_tokens)
        ctx = gather(self.index, self.counter, q.prefix[-60000:], q.suffix[:20000], path=q.path,
                     budget=opts.context_tokens, client=q.client_context, client_budget=opts.client_context_tokens)
        pairs = ctx.pairs()
        redactions = 0
        path = ctx.path or q.path
        if self.redact:
            name = path or "buffer"
            rec = self.index.files.get(path) if path else None
            clean = self.index.secrets.clean_texts(rec.path, rec.sha, rec.lines) if rec is not None else None
            prefix, a = _redact_editor_text(name, prefix, clean)
            suffix, b = _redact_editor_text(name, suffix, clean)
            red = [self._redact_item(item) for item in ctx.items]
            pairs = [(f, t) for (f, _), (t, _) in zip(pairs, red, strict=True)]
            redactions = a + b + sum(n for _, n in red)
        req = FimRequest(
            prefix=prefix,
            suffix=suffix,
            context=pairs,
            max_tokens=q.max_tokens if q.max_tokens is not None else opts.max_tokens,
            temperature=q.temperature,
            stop=q.stop,
            language=language_for(path) if path else None,
            path=path,
            repo=self.index.root.name,
            options=q.options,
        )
        key = _digest(self.provider.name, self.provider.model, self.provider.family, req.prefix, req.suffix,
                      req.context, req.max_tokens, req.temperature, req.stop, q.n_indent,
                      sorted(q.options.items(), key=lambda kv: kv[0]))
        return Prepared(q, req, ctx, key, n_prefix + n_suffix + ctx.tokens, redactions,
                        (time.perf_counter() - start) * 1000, self.raw_key(q))

    def _redact_item(self, item: ContextItem) -> tuple[str, int]:
        """A piece of context as it may be sent: as it is when its lines are known to hold no
        secret (the file was scanned whole at that content), redacted here otherwise."""
        if item.sha and self.index.secrets.is_clean(item.filename, item.sha, item.lines):
            return item.text, 0
        return redact_text(item.filename, item.text)

    # ------------------------------------------------------------------ running

    def run(self, p: Prepared, emit: Callable[[str], None] | None = None, *, started: float | None = None) -> Outcome:
        """The completion for ``p``; ``emit`` receives each piece as it is accepted (streaming).
        The upstream is read on the calling thread; a newer request from the same client or the
        deadline stops it from another thread by closing the connection."""
        t0 = started if started is not None else time.perf_counter()
        deadline = t0 + self.options.deadline
        hit = self.cache.get(p.key)
        if hit is not None:
            out = Outcome(hit.text, hit.finish, hit.stopping_word, cached=True, usage=hit.usage)
            if emit is not None and out.text:
                emit(out.text)
            out.total_ms = (time.perf_counter() - t0) * 1000
            return out
        flight = _Flight()
        self.supersession.begin(p.query.client, flight)
        self.reaper.watch(deadline, flight)
        up_start = time.perf_counter()
        text = ""
        finish = "stop"
        word = ""
        first = 0.0
        usage = None
        rules = _Rules(p.query)
        capped = False
        decided = False  # the answer ended by itself (the upstream's finish, or a stop rule)
        gen = self.provider.stream(self.http, p.request, max(0.05, deadline - up_start), cancel=flight.stop,
                                   on_open=flight.opened.append)
        try:
            for delta in gen:
                if delta.usage:
                    usage = delta.usage
                if not delta.text and delta.finish is None:
                    continue
                if not first and delta.text:
                    first = time.perf_counter()
                accepted, done, why, word = rules.feed(text, delta.text, first)
                if len(text) + len(accepted) > MAX_COMPLETION_CHARS:
                    accepted, done, why, capped = accepted[:MAX_COMPLETION_CHARS - len(text)], True, "length", True
                if accepted:
                    text += accepted
                    if emit is not None:
                        emit(accepted)
                if done:
                    finish, decided = why, True
                    break
                if delta.finish is not None:
                    finish, decided = delta.finish, True
                    break
            else:
                decided = not flight.stop.is_set()
        except BackendError:
            if not flight.stop.is_set() and time.perf_counter() < deadline:
                raise
            flight.why = flight.why or "deadline"  # a read that timed out at the deadline
        finally:
            gen.close()
            if flight.why and not decided:
                finish = flight.why
            flight.cancel(flight.why or "done")  # closes the connection when the answer was cut short
            self.supersession.end(p.query.client, flight)
        now = time.perf_counter()
        out = Outcome(text, finish, word, first_ms=(first - t0) * 1000 if first else 0.0,
                      upstream_ms=(now - up_start) * 1000, total_ms=(now - t0) * 1000, usage=usage, capped=capped)
        if finish in ("stop", "length", "word", "eos"):
            self.cache.put(p.key, out)
            if p.raw_key:
                self.cache.put("raw:" + p.raw_key, out)
        return out


class _Rules:
    """llama.cpp's stopping rules, applied to any upstream: stop strings, a minimum indentation
    for new lines (``n_indent``), and a time limit that applies once a line is complete
    (``t_max_predict_ms``)."""

    def __init__(self, q: Query) -> None:
        self.stop = [s for s in q.stop if s]
        self.n_indent = max(0, q.n_indent)
        self.t_max = q.t_max_predict_ms / 1000.0 if q.t_max_predict_ms > 0 else 0.0

    def feed(self, text: str, piece: str, first: float) -> tuple[str, bool, str, str]:
        """(accepted part of ``piece``, done, finish reason, stopping word)."""
        new = text + piece
        for s in self.stop:
            at = new.find(s, max(0, len(text) - len(s) + 1))
            if at != -1:
                return new[len(text) : at] if at >= len(text) else "", True, "word", s
        if self.n_indent and "\n" in new:
            pos = 0
            for line in new.split("\n")[1:]:
                pos = new.index("\n", pos) + 1
                stripped = line.lstrip(" \t")
                if stripped and len(line) - len(stripped) < self.n_indent:
                    cut = pos
                    return (new[len(text) : cut] if cut > len(text) else ""), True, "stop", ""
        if self.t_max and first and "\n" in new and time.perf_counter() - first > self.t_max:
            return piece, True, "length", ""
        return piece, False, "", ""
