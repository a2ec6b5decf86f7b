"""The fast counter (``reviewer.pack.fastcount``) must give exactly the full tokenizer's counts."""

from __future__ import annotations

import itertools
import json
import random
from pathlib import Path

import pytest

from reviewer.pack.render import number_lines
from reviewer.pack.tokens import HFTokenizer, deepseek_v4_path, get_tokenizer

REPO = Path(__file__).resolve().parents[2]

# one case for each alternative of V4's pre-tokenizer and each boundary between them
TRICKY = [
    "", " ", "\n", "\r\n", "\n\n\n", "  \n  ", "\t\tx", "x  5", "x \t 5", "a  \n5", "  12345  ", "1234567",
    "foo_bar.baz(qux)", "_x", "__init__", "a:b", "x=-1", "!!!abc", " !!!\n\n", "::\r\n\r\nx", "'''doc'''",
    "\x00abc", "\x01\x02abc", "\x01\x02 3", "\x7f\x7f", "\x1c\x1d\x1e\x1f", "\x0b\x0c x", "a\x0b\x0c\n", " \x00",
    "<think>x</think>", "a<|EOT|>b", "x </dsml:y", "<|place_holder_mm_span_0021|>9",
    "naïve café\n", "日本語のテキスト\nabc\n", "x\u00a0y\n", "a\u2028b\n", "e\u0301\n", "⋮\n", "    ⋮\n  x\n",
    "x = 1\n\u3000y\n", "\x85\n", "😀 emoji\nok\n",
    "a" * 3000, " " * 3000 + "x", "ab\n" * 2000, "    pass\n" * 5_000,
]


@pytest.fixture(scope="module")
def tok() -> HFTokenizer:
    t = get_tokenizer()
    assert isinstance(t, HFTokenizer) and t.fast_counting
    return t


def full(tok: HFTokenizer, texts: list[str]) -> list[int]:
    return [len(tok.encode(t)) for t in texts]


def test_tricky_texts(tok: HFTokenizer) -> None:
    texts = [*TRICKY, "\n".join(TRICKY), "".join(TRICKY)]
    assert tok.count_batch(texts) == full(tok, texts)


def test_random_texts(tok: HFTokenizer) -> None:
    rng = random.Random(18)
    alphabet = [chr(i) for i in range(128)] + [
        "  ", "\n", " \n", "\r\n", "ab", "12", "<think>", "<|EOT|>", "é", "中文", "\u00a0", "\u2028", "\u0301", "⋮",
    ]
    texts = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 50))) for _ in range(6000)]
    assert tok.count_batch(texts) == full(tok, texts)


def test_every_short_string_over_one_character_of_each_class(tok: HFTokenizer) -> None:
    """Every string of up to four characters, one character standing for each class the
    pre-tokenizer tells apart (a control character, a letter, space, tab, CR, LF, a digit, punctuation,
    a separator Python calls whitespace and V4 does not, non-ASCII, a space V4 knows)."""
    alphabet = ["\x01", "a", " ", "\t", "\r", "\n", "5", "!", "\x1c", "é", "\u3000"]
    texts = ["".join(p) for n in range(1, 5) for p in itertools.product(alphabet, repeat=n)]
    assert tok.count_batch(texts) == full(tok, texts)


def test_source_files_raw_and_numbered(tok: HFTokenizer) -> None:
    texts = []
    for path in sorted((REPO / "reviewer").rglob("*.py"))[:120]:
        text = path.read_text(encoding="utf-8")
        texts.append(text)
        texts.append("".join(f"{n}| {line}\n" if line else f"{n}|\n" for n, line in number_lines(text)))
    assert len(texts) > 100
    assert tok.count_batch(texts) == full(tok, texts)


def test_a_text_over_the_slice_size(tok: HFTokenizer) -> None:
    text = (REPO / "reviewer" / "pack" / "fit.py").read_text(encoding="utf-8") * 150  # over 1 MB
    assert len(text) > 1 << 20
    assert tok.count_batch([text]) == full(tok, [text])


def test_another_pre_tokenizer_is_counted_by_the_full_pipeline(tmp_path: Path) -> None:
    spec = json.loads(deepseek_v4_path().read_text(encoding="utf-8"))
    split = spec["pre_tokenizer"]["pretokenizers"][2]["pattern"]
    split["Regex"] = split["Regex"].replace("\\s+(?!\\S)|", "")  # no longer V4's pre-tokenizer
    path = tmp_path / "tokenizer.json"
    path.write_text(json.dumps(spec), encoding="utf-8")
    other = HFTokenizer(path, "hf:" + str(path))
    assert not other.fast_counting
    text = "x  \n  y   z\n"
    assert other.count(text) == len(other.encode(text))
