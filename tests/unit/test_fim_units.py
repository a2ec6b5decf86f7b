"""FIM building blocks that need no server: prompts per provider and family, the cut around the
cursor, llama.cpp's stop rules, request parsing, response_fields, cursors in files."""

from __future__ import annotations

from pathlib import Path

import pytest

from reviewer.errors import ConfigError
from reviewer.fim import protocol
from reviewer.fim.cursor import RequestError, read_source, split_at
from reviewer.fim.engine import Query, _Rules
from reviewer.fim.providers import DEEPSEEK_MAX_TOKENS, FimRequest, make_provider, templates
from reviewer.fim.window import cut_prefix, cut_suffix
from reviewer.pack.tokens import get_tokenizer

BOS = "<｜begin▁of▁sentence｜>"
CTX = [("pkg/models.py", "class Request:\n    def send(self): ..."), ("pkg/util.py", "def quote(s): ...")]


def req(**kw: object) -> FimRequest:
    base: dict[str, object] = {"prefix": "def f(x):\n    return ", "suffix": "\n\nprint(f(1))\n", "context": CTX,
                               "language": "python", "path": "pkg/app.py", "repo": "demo"}
    base.update(kw)
    return FimRequest(**base)  # type: ignore[arg-type]


def test_vllm_raw_deepseek_template_bos_first_and_no_suffix_field() -> None:
    p = make_provider("raw", "http://gpu:8000/v1", model="deepseek-ai/DeepSeek-V4-Flash", family="deepseek")
    body = p.build(req(), stream=True)
    assert p.url() == "http://gpu:8000/v1/completions"
    assert "suffix" not in body
    prompt = body["prompt"]
    assert prompt.startswith(BOS + "<｜fim▁begin｜>")
    assert prompt.count(BOS) == 1
    assert prompt.endswith("<｜fim▁hole｜>\n\nprint(f(1))\n<｜fim▁end｜>")
    # context first, as comments naming each file, then the edited file's own name, then its prefix
    hole = prompt.index("<｜fim▁hole｜>")
    head = prompt[len(BOS + "<｜fim▁begin｜>") : hole]
    assert head == ("# pkg/models.py\nclass Request:\n    def send(self): ...\n"
                    "# pkg/util.py\ndef quote(s): ...\n# pkg/app.py\ndef f(x):\n    return ")
    assert "<｜fim▁end｜>" in body["stop"] and body["stream"] is True


def test_qwen_family_uses_file_separators() -> None:
    p = make_provider("raw", "http://gpu:8000/v1", model="q", family="qwen")
    prompt = p.build(req(), stream=False)["prompt"]
    assert prompt.startswith("<|repo_name|>demo\n<|file_sep|>pkg/models.py\nclass Request:")
    assert "<|file_sep|>pkg/app.py\n<|fim_prefix|>def f(x):\n    return <|fim_suffix|>\n\nprint(f(1))\n<|fim_middle|>" in prompt
    no_ctx = p.build(req(context=[]), stream=False)["prompt"]
    assert no_ctx == "<|fim_prefix|>def f(x):\n    return <|fim_suffix|>\n\nprint(f(1))\n<|fim_middle|>"


def test_template_text_is_never_substituted_twice() -> None:
    p = make_provider("raw", "http://h/v1", model="m", family="qwen")
    prompt = p.build(req(prefix="s = '{suffix}'\n", suffix="{prefix}", context=[]), stream=False)["prompt"]
    assert prompt == "<|fim_prefix|>s = '{suffix}'\n<|fim_suffix|>{prefix}<|fim_middle|>"


def test_every_family_has_a_complete_template() -> None:
    fams = templates()
    assert {"deepseek", "qwen", "starcoder", "codellama"} <= set(fams)
    for name, fam in fams.items():
        for key in ("{prefix}", "{suffix}", "{context}"):
            assert key in fam["template"], (name, key)
        assert fam["stop"], name


def test_unknown_family_or_provider_is_a_config_error() -> None:
    with pytest.raises(ConfigError):
        make_provider("raw", "http://h/v1", model="m", family="nope")
    with pytest.raises(ConfigError):
        make_provider("magic", "http://h/v1", model="m")


def test_deepseek_beta_body() -> None:
    p = make_provider("deepseek-beta", "https://api.deepseek.com", model="deepseek-v4-flash", api_key="k")
    body = p.build(req(max_tokens=100_000, stop=["\n\n"]), stream=False)
    assert p.url() == "https://api.deepseek.com/beta/completions"
    assert body["suffix"] == "\n\nprint(f(1))\n"
    assert body["prompt"].endswith("# pkg/app.py\ndef f(x):\n    return ")
    assert body["max_tokens"] == DEEPSEEK_MAX_TOKENS
    assert body["stop"] == ["\n\n"]
    assert "thinking" not in body  # FIM completions are non-thinking
    # a /v1 base URL still reaches /beta
    assert make_provider("deepseek-beta", "https://api.deepseek.com/v1", model="m").url() == "https://api.deepseek.com/beta/completions"


def test_infill_body_splits_the_cursor_line_into_prompt() -> None:
    p = make_provider("infill", "http://127.0.0.1:8080", model="local")
    body = p.build(req(options={"top_k": 40, "n_indent": 4, "samplers": ["top_k"], "evil": 1}), stream=True)
    assert p.url() == "http://127.0.0.1:8080/infill"
    assert body["input_prefix"] == "def f(x):\n"
    assert body["prompt"] == "    return "
    assert body["input_suffix"] == "\n\nprint(f(1))\n"
    assert body["input_extra"] == [{"filename": n, "text": t} for n, t in CTX]
    assert body["top_k"] == 40 and body["n_indent"] == 4 and "evil" not in body


def test_cut_prefix_and_suffix_keep_whole_lines_nearest_the_cursor() -> None:
    tok = get_tokenizer()
    prefix = "".join(f"line number {i}\n" for i in range(200)) + "    partial"
    cut, n = cut_prefix(prefix, tok, 50)
    assert cut.endswith("line number 199\n    partial") and n <= 50
    assert cut.startswith("line number ") and prefix.endswith(cut)
    assert n == tok.count(cut) or abs(n - tok.count(cut)) <= 2  # counted line by line
    suffix = "rest of line\n" + "".join(f"after {i}\n" for i in range(200))
    cut, n = cut_suffix(suffix, tok, 30)
    assert cut.startswith("rest of line\nafter 0\n") and suffix.startswith(cut) and cut.endswith("\n")
    assert n <= 30
    assert cut_prefix("only the cursor line", tok, 1)[0] == "only the cursor line"


def test_stop_rules_stop_strings_across_pieces() -> None:
    rules = _Rules(Query(prefix="", suffix="", stop=["END"]))
    assert rules.feed("", "abc E", 0.0)[:2] == ("abc E", False)
    accepted, done, why, word = rules.feed("abc E", "ND more", 0.0)
    assert done and why == "word" and word == "END" and accepted == ""


def test_stop_rules_n_indent_like_llama_cpp() -> None:
    rules = _Rules(Query(prefix="", suffix="", n_indent=4))
    accepted, done, why, _ = rules.feed("", "x = 1\n    y = 2\n\nz = 3\n", 0.0)
    assert done and why == "stop"
    assert accepted == "x = 1\n    y = 2\n\n"


def test_parse_infill_llama_vim_shape() -> None:
    body = {
        "input_prefix": "def f():\n", "input_suffix": "\n", "prompt": "    ret",
        "input_extra": [{"text": "x = 1\n", "time": [1, 2], "filename": "a.py"}],
        "n_predict": 128, "stop": [], "n_indent": 4, "top_k": 40, "top_p": 0.9, "stream": False,
        "samplers": ["top_k", "top_p", "infill"], "cache_prompt": True, "t_max_prompt_ms": 500,
        "t_max_predict_ms": 250, "response_fields": ["content", "timings/prompt_n"],
    }
    q, wire = protocol.parse_infill(body, Path("/nonexistent"), 1000, 64)
    assert q.prefix == "def f():\n    ret" and q.suffix == "\n"
    assert q.client_context == [("a.py", "x = 1\n")]
    assert q.max_tokens == 128 and q.n_indent == 4 and q.t_max_predict_ms == 250
    assert q.options["samplers"] == ["top_k", "top_p", "infill"]
    assert wire.response_fields == ["content", "timings/prompt_n"] and not wire.stream and not wire.warmup
    q, wire = protocol.parse_infill({**body, "n_predict": 0}, Path("/x"), 1000, 64)
    assert wire.warmup


@pytest.mark.parametrize("body, message", [
    ([], "JSON object"),
    ({"input_prefix": 3}, '"input_prefix" must be a string'),
    ({"input_extra": {"text": "x"}}, '"input_extra" must be an array'),
    ({"input_extra": [{"filename": "a"}]}, '"text" string'),
    ({"n_predict": "many"}, '"n_predict" must be an integer'),
    ({"stream": "yes"}, '"stream" must be true or false'),
    ({"stop": [1]}, '"stop" must be a string or a list of strings'),
    ({"response_fields": "content"}, '"response_fields" must be a list'),
])
def test_parse_infill_rejects_bad_fields(body: object, message: str) -> None:
    with pytest.raises(RequestError) as err:
        protocol.parse_infill(body, Path("/x"), 1000, 64)
    assert message in err.value.message and err.value.status == 400


def test_parse_openai_continue_shape() -> None:
    body = {"model": "m", "prompt": "def f():\n    ", "suffix": "\n", "max_tokens": 256, "temperature": 0.01,
            "top_p": 0.9, "frequency_penalty": 0, "presence_penalty": 0, "stop": ["\n\n"], "stream": True}
    q, wire = protocol.parse_openai(body, Path("/x"), 1000, 64)
    assert q.prefix == "def f():\n    " and q.suffix == "\n" and q.max_tokens == 256 and q.stop == ["\n\n"]
    assert wire.stream and q.options == {"top_p": 0.9, "frequency_penalty": 0, "presence_penalty": 0}
    with pytest.raises(RequestError):
        protocol.parse_openai({"prompt": ["a", "b"]}, Path("/x"), 1000, 64)
    with pytest.raises(RequestError):
        protocol.parse_openai({"prompt": "a", "n": 2}, Path("/x"), 1000, 64)


def test_response_fields_like_llama_cpp() -> None:
    res = {"content": "x", "timings": {"prompt_n": 3, "predicted_ms": 1.5}, "truncated": False}
    assert protocol.select_fields(res, ["content", "timings/prompt_n", "timings/nope", "missing", ""]) == {
        "content": "x", "timings/prompt_n": 3}


def test_split_at_and_bad_cursors() -> None:
    text = "ab\ncd\n"
    assert split_at(text, 1, 1) == ("", text)
    assert split_at(text, 2, 2) == ("ab\nc", "d\n")
    assert split_at(text, 2, 3) == ("ab\ncd", "\n")
    for line, col, what in [(3, 1, "past the end of the file"), (2, 4, "past the end of line 2"), (0, 1, "start at 1")]:
        with pytest.raises(RequestError) as err:
            split_at(text, line, col)
        assert what in err.value.message and err.value.status == 400


def test_read_source_refuses_outside_binary_huge(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    (root / "ok.py").write_text("x = 1\n")
    (root / "blob.bin").write_bytes(b"\x00\x01\x02" * 100)
    (root / "big.py").write_text("x = 1\n" * 1000)
    (tmp_path / "secret.py").write_text("KEY = 1\n")
    (root / "link.py").symlink_to(tmp_path / "secret.py")
    assert read_source(root, "ok.py", 1000) == ("ok.py", "x = 1\n")
    cases = [("../secret.py", 403), ("link.py", 403), (str(tmp_path / "secret.py"), 403), ("blob.bin", 415),
             ("big.py", 413), ("missing.py", 404), ("", 400)]
    for name, status in cases:
        with pytest.raises(RequestError) as err:
            read_source(root, name, 1000)
        assert err.value.status == status, name
