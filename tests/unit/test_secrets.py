from __future__ import annotations

from reviewer.security.secrets import redact

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


def test_keyword_triggers_cover_every_denylist_word() -> None:
    from detect_secrets.plugins.keyword import DENYLIST

    from reviewer.security.secrets import _KEYWORD_TRIGGERS

    assert all(any(t in word for t in _KEYWORD_TRIGGERS) for word in DENYLIST)
