from __future__ import annotations

import base64

import pytest

from reviewer.security.secrets import redact
from tests.integration.hostile.secrets_corpus import (
    ENV_SECRET_KEY,
    JWT,
    NEAR_MISSES,
    PEM,
    PLANTED,
    STRIPE,
    STRIPE_TAIL,
    Planted,
    leaks,
)

# Well-known documentation values (AWS's own examples) and obviously fake tokens.
AWS_ID = "AKIAIOSFODNN7EXAMPLE"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
GH_TOKEN = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
KEY_BLOCK = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAfakefakefake\nZmFrZWtleWRhdGE=\n-----END RSA PRIVATE KEY-----"


def test_aws_pair_github_token_and_key_block_are_redacted_in_place() -> None:
    text = (
        f'AWS_ACCESS_KEY_ID = "{AWS_ID}"\n'
        f'aws_secret_access_key = "{AWS_SECRET}"\n'
        f'TOKEN = "{GH_TOKEN}"\n'
        f"{KEY_BLOCK}\n"
        "x = 1\n"
    )
    out = redact("settings.py", text)
    for value in (AWS_ID, AWS_SECRET, GH_TOKEN, "MIIEowIBAAKCAQEAfakefakefake", "ZmFrZWtleWRhdGE="):
        assert value not in out.text
    assert out.text.count("\n") == text.count("\n"), "line numbers must not move"
    assert out.text.splitlines()[-1] == "x = 1"
    kinds = {(h.line, h.kind) for h in out.hits}
    assert (1, "aws-access-key") in kinds
    assert (2, "aws-access-key") in kinds
    assert (3, "github-token") in kinds
    assert (4, "private-key") in kinds
    assert all(AWS_SECRET not in repr(h) for h in out.hits)


def test_password_in_env_file() -> None:
    out = redact(".env", "DB_PASSWORD=hunter2hunter2\nPORT=8080\n")
    assert "hunter2hunter2" not in out.text
    assert out.text.startswith("DB_PASSWORD=[REDACTED:")
    assert [(h.line, h.kind) for h in out.hits] == [(1, "password-or-key")]


def test_clean_code_and_env_var_names_are_untouched() -> None:
    text = 'api_key_env = "DEEPSEEK_API_KEY"\npassword = os.environ["PASSWORD"]\nkey = "${API_KEY}"\n'
    out = redact("config.py", text)
    assert out.text == text
    assert out.hits == []
    text = '"detect-secrets": "secrets",\n'
    out = redact("names.py", text)
    assert out.text == text
    assert out.hits == []


def test_every_secret_word_is_found_by_a_trigger() -> None:
    from reviewer.security.assignments import _KEY_QUALIFIERS, _SECRET_WORDS, _TRIGGERS

    assert all(any(t in word for t in _TRIGGERS) for word in _SECRET_WORDS)
    assert all(any(t in f"{q}_key" for t in _TRIGGERS) for q in _KEY_QUALIFIERS)


# -- the planted corpus: every kind, whole, in every form that reaches a model ---------------------

def _as_diff(path: str, text: str) -> str:
    lines = text.splitlines()
    body = "".join(f"+{line}\n" for line in lines)
    return (f"diff --git a/{path} b/{path}\nnew file mode 100644\nindex 0000000..1111111\n--- /dev/null\n"
            f"+++ b/{path}\n@@ -0,0 +1,{len(lines)} @@\n{body}")


@pytest.mark.parametrize("planted", PLANTED, ids=[p.kind for p in PLANTED])
def test_planted_secret_is_redacted_whole_in_a_file_a_diff_and_a_bare_hunk(planted: Planted) -> None:
    forms = {
        "file": (planted.path, planted.text),
        "diff": ("change.diff", _as_diff(planted.path, planted.text)),
        "hunk": ("question.txt", "".join(f"+{line}\n" for line in planted.text.splitlines())),
    }
    for form, (path, text) in forms.items():
        out = redact(path, text)
        assert leaks(out.text, planted.values) == [], form
        assert out.text.count("\n") == text.count("\n"), f"{form}: line numbers must not move"
        assert out.hits and "[REDACTED:" in out.text, form
        assert all(v not in repr(out.hits) for v in planted.values)


@pytest.mark.parametrize("path", sorted(NEAR_MISSES))
def test_near_misses_are_left_alone(path: str) -> None:
    text = NEAR_MISSES[path]
    out = redact(path, text)
    assert out.text == text
    assert out.hits == []
    assert redact("change.diff", _as_diff(path, text)).hits == []


def test_the_reported_cases() -> None:
    """The leaks measured on the wire before: a .env line in a diff hunk, a Stripe key's tail, a
    JWT's signature, a key split by concatenation, a base64-encoded key."""
    hunk = "@@ -1,2 +1,3 @@\n PORT=8080\n+DB_PASSWORD=Xq7!pL2vR9zK4mW8\n DEBUG=0\n"
    out = redact("change.diff", "diff --git a/.env b/.env\n--- a/.env\n+++ b/.env\n" + hunk)
    assert "Xq7!pL2vR9zK4mW8" not in out.text and "+DB_PASSWORD=[REDACTED:password-or-key]" in out.text

    assert redact("pay.py", f'KEY = "{STRIPE}"\n').text == 'KEY = "[REDACTED:stripe-access-key]"\n'
    assert redact("auth.js", f"const t = '{JWT}';\n").text == "const t = '[REDACTED:json-web-token]';\n"
    split = redact("split.py", f'KEY = "sk_live_" + "{STRIPE_TAIL}"\n').text
    assert STRIPE_TAIL not in split and split.count("[REDACTED:stripe-access-key]") == 2
    blob = base64.b64encode(f"token={STRIPE}".encode()).decode()
    assert redact("b.py", f'B = "{blob}"\n').text == 'B = "[REDACTED:base64-stripe-access-key]"\n'


def test_a_private_key_block_is_one_hit_and_keeps_the_code_around_it() -> None:
    text = f'KEY = """{PEM}"""\nx = 1\n'
    out = redact("k.py", text)
    assert [(h.line, h.kind) for h in out.hits] == [(1, "private-key")]
    assert out.text.startswith('KEY = """[REDACTED:private-key]\n')
    assert out.text.endswith('[REDACTED:private-key]"""\nx = 1\n')
    assert not leaks(out.text, PEM.splitlines()[1:-1])


def test_redaction_is_stable_and_names_no_value() -> None:
    for p in PLANTED:
        once = redact(p.path, p.text)
        assert redact(p.path, once.text).text == once.text, p.kind  # markers are never redacted again
        assert {h.path for h in once.hits} == {p.path}


def test_a_diff_keeps_its_markers_and_line_numbers() -> None:
    diff = _as_diff("deploy/.env", f"A=1\nSECRET_KEY={ENV_SECRET_KEY}\nB=2\n")
    out = redact("change.diff", diff)
    lines = out.text.splitlines()
    assert lines[-2] == "+SECRET_KEY=[REDACTED:password-or-key]" and lines[-1] == "+B=2"
    assert [h.line for h in out.hits] == [diff.splitlines().index(f"+SECRET_KEY={ENV_SECRET_KEY}") + 1]


@pytest.mark.parametrize("shape", [
    "x = 'sk-aaaaaaaaaaaaaaaaaaaa1' ", "key=", "key", '"ghp_' + "a1" * 20 + '" ', '"a"+', "http://a:b", "Bearer ",
    "-----BEGIN PRIVATE KEY-----\n",
])
def test_a_hostile_megabyte_line_is_read_in_linear_time(shape: str) -> None:
    """Each of these once took 20-40 s on one core (quadratic); linear, each is well under one."""
    import time

    text = (shape * (1_000_000 // len(shape) + 1))[:1_000_000]
    started = time.process_time()
    out = redact("x.py", text)
    assert time.process_time() - started < 15
    assert out.text.count("\n") == text.count("\n")
