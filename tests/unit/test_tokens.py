from __future__ import annotations

import pytest

from reviewer.errors import ConfigError
from reviewer.pack.tokens import _split, get_tokenizer

SAMPLES = [
    "def f(x):\n    return x\n",
    "\n\n\n    indented\n\t\ttabs\n  \n",
    "naïve café 日本語のテキスト 1234567 ;;;\n" * 50,
    "a" * 5000 + "\n" + "    b\n" * 300 + "}}}\n\n\n" + "x = [1, 2, 3]  # comment\n" * 400,
]


def test_known_counts() -> None:
    tok = get_tokenizer()
    assert tok.name == "deepseek-v4"
    assert tok.encode("hello world") == [33310, 2058]
    assert tok.count("") == 0


@pytest.mark.parametrize("size", [7, 64, 1000])
@pytest.mark.parametrize("text", SAMPLES)
def test_split_is_exact(text: str, size: int) -> None:
    """Counting in pieces must equal counting the whole: cuts only where the pre-tokenizer cuts."""
    tok = get_tokenizer()
    pieces = _split(text, size)
    assert "".join(pieces) == text
    assert sum(len(tok.encode(p)) for p in pieces) == len(tok.encode(text))


def test_count_batch_matches_encode() -> None:
    tok = get_tokenizer()
    assert tok.count_batch(SAMPLES) == [len(tok.encode(s)) for s in SAMPLES]


def test_unknown_tokenizer_is_a_clear_error() -> None:
    with pytest.raises(ConfigError, match="unknown tokenizer"):
        get_tokenizer("gpt-17")
