"""Secrets in repository context, with the per-file pre-scan of a long-running server: a piece of
context from a file scanned clean goes out as it is, any piece touching a secret line is
redacted, and a file whose content changed after its scan is never trusted on the old verdict."""

from __future__ import annotations

import os
import time
from pathlib import Path

from reviewer.config import load_settings
from reviewer.fim.engine import FimOptions, Prepared, Query
from reviewer.fim.providers import make_provider
from reviewer.fim.repoindex import make_record
from reviewer.fim.secretmap import secret_lines
from reviewer.fim.service import Service, start
from reviewer.fim.watch import Watcher
from reviewer.index import index_text
from tests.conftest import MakeRepo

GH_TOKEN = "ghp_aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5"
KEY_BLOCK = ("-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7bq98nY2kOnNqGGHl4Oa1J3tL0m3QeJkH0Yb8UjGq\n"
             "Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0Z2FycGx5d2FsZG9mcmVkCg==\n-----END RSA PRIVATE KEY-----\n")

FILES = {
    "pkg/__init__.py": "",
    "pkg/clean.py": "def send(url):\n    \"\"\"Send it.\"\"\"\n    return url\n",
    "pkg/secret.py": f"def auth():\n    key = \"{GH_TOKEN}\"\n    return key\n",
    "app.py": "from pkg.clean import send\nfrom pkg.secret import auth\n\n\ndef run():\n    x = send(1)\n    y = auth()\n    MARK\n",
}


def test_secret_lines_of_a_file() -> None:
    text = f"a = 1\ntoken = \"{GH_TOKEN}\"\nb = 2\n" + KEY_BLOCK + "c = 3\n"
    assert secret_lines("x.py", text) == (2, 4, 5, 6, 7)  # the token line and every line of the key
    assert secret_lines("x.py", "a = 1\nb = 2\n") == ()


def _service(root: Path, tmp_path: Path) -> Service:
    settings = load_settings(root, {"cache_dir": str(tmp_path / "cache")})
    provider = make_provider("infill", "http://127.0.0.1:9", model="m")
    service = start(root, settings, provider, FimOptions(redact=True), background=True)
    assert service.wait_ready(60)
    end = time.monotonic() + 60
    while not service.index.secrets.done:  # the pre-scan runs on the builder thread after the index
        assert time.monotonic() < end, "secret pre-scan did not finish"
        service.builder.join(0.05)  # type: ignore[union-attr]
    return service


def _prepare(service: Service, root: Path) -> Prepared:
    text = (root / "app.py").read_text()
    at = text.index("MARK")
    return service.engine.prepare(Query(prefix=text[:at], suffix=text[at + 4:], path="app.py"))


def _sent(p: Prepared) -> str:
    return p.request.prefix + p.request.suffix + "".join(t for _, t in p.request.context)


def test_clean_pieces_go_as_they_are_and_secret_ones_are_redacted(make_repo: MakeRepo, tmp_path: Path) -> None:
    root = make_repo(FILES)
    service = _service(root, tmp_path)
    index = service.index
    assert index.secrets.get("pkg/secret.py", index.files["pkg/secret.py"].sha) == frozenset({2})
    assert index.secrets.get("pkg/clean.py", index.files["pkg/clean.py"].sha) == frozenset()
    p = _prepare(service, root)
    sent = dict(p.request.context)
    items = {i.filename: i for i in p.context.items}
    assert set(sent) >= {"pkg/clean.py", "pkg/secret.py"}
    assert index.secrets.is_clean("pkg/clean.py", items["pkg/clean.py"].sha, items["pkg/clean.py"].lines)
    assert sent["pkg/clean.py"] == items["pkg/clean.py"].text and "def send(url):" in sent["pkg/clean.py"]
    assert GH_TOKEN not in _sent(p) and "[REDACTED:" in sent["pkg/secret.py"] and p.redactions >= 1


def test_a_file_changed_after_its_scan_is_redacted_again(make_repo: MakeRepo, tmp_path: Path) -> None:
    root = make_repo(FILES)
    service = _service(root, tmp_path)
    index = service.index
    changed = f"def send(url):\n    \"\"\"Send it.\"\"\"\n    auth = \"{GH_TOKEN}\"\n    return url\n"
    # swapped in without a scan (as between the watcher's swap and its scan): the old verdict
    # belongs to the old content and is not used
    index.update(make_record("pkg/clean.py", changed, "new-sha", 0, index_text("pkg/clean.py", changed)))
    assert index.secrets.get("pkg/clean.py", "new-sha") is None
    p = _prepare(service, root)
    assert GH_TOKEN not in _sent(p) and "pkg/clean.py" in dict(p.request.context)
    # the watcher's path: the file written on disk is swapped in and scanned
    (root / "pkg" / "clean.py").write_text(changed + "\n")
    watcher = Watcher(index, load_settings(root, {"cache_dir": str(tmp_path / "cache")}))
    assert watcher.refresh("pkg/clean.py", os.stat(root / "pkg" / "clean.py").st_mtime_ns) == 1
    rec = index.files["pkg/clean.py"]
    assert index.secrets.get("pkg/clean.py", rec.sha) == frozenset({3})
    assert GH_TOKEN not in _sent(_prepare(service, root))


def test_the_editors_text_is_scanned_where_it_differs_from_the_clean_file(make_repo: MakeRepo, tmp_path: Path) -> None:
    """Lines of the file on disk known clean go as they are; the line being typed is scanned on
    its own; a secret pasted over several lines (a private key) is found because then the whole
    text is scanned."""
    root = make_repo(FILES)
    service = _service(root, tmp_path)
    text = (root / "app.py").read_text()
    at = text.index("MARK")

    def prepare(prefix: str, suffix: str) -> Prepared:
        return service.engine.prepare(Query(prefix=prefix, suffix=suffix, path="app.py"))

    p = prepare(text[:at], text[at + 4:])
    assert p.request.prefix.endswith("    y = auth()\n    ") and p.redactions >= 1  # pkg/secret.py's only
    typed = prepare(text[:at] + f"tok = \"{GH_TOKEN}", text[at + 4:])  # the cursor line: one unknown line
    assert GH_TOKEN not in typed.request.prefix and "[REDACTED:" in typed.request.prefix
    assert typed.request.prefix.startswith("from pkg.clean import send\n")
    pasted = prepare(text[:at] + KEY_BLOCK.replace("\n", "\n    "), text[at + 4:])
    assert "MIIEowIBAAKCAQEA" not in pasted.request.prefix and "[REDACTED:private-key]" in pasted.request.prefix
    # a clean file's own lines, typed again elsewhere, are not scanned or changed
    again = prepare(text[:at] + "x = send(1)\n", text[at + 4:])
    assert again.request.prefix == text[:at] + "x = send(1)\n" and again.redactions == p.redactions
