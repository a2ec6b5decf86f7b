"""Default ignores: the quick combined test agrees with the patterns one by one."""

from __future__ import annotations

import pathspec
import pytest

from reviewer.repo.ignore import DEFAULT_IGNORES, DefaultIgnores, GlobFilter, _any_of

PATHS = [
    "a.py", "src/pkg/mod.py", "dist", "dist/x.py", "a/dist/x.py", "distx/a.py", "build/", "a/build/b/c.txt",
    "node_modules/a/b.js", "web/node_modules/x/index.js", "x.min.js", "x.min.jsx", "app.js.map",
    "Cargo.lock", "a/b/yarn.lock", "foo.lockx", "x/venv/y", "myvenv/x", "env", "env/a", "environment.py",
    "a.PNG", "a.png", "img/logo.svg", ".git/config", "q/.tox/a", "pkg.egg-info/PKG-INFO", "README.md",
    "weights/model.safetensors", "data/x.parquet", "src/__pycache__/m.cpython-311.pyc", "lib/vendor/x.go",
    "third_party/zlib/zlib.h", "deep/er/still/Podfile.lock", "go.sum", "go.mod", "a.tar.gz", "a.gzip",
]


def one_by_one(path: str) -> str | None:
    for reason, patterns in DEFAULT_IGNORES.items():
        if pathspec.GitIgnoreSpec.from_lines(patterns).match_file(path):
            return reason
    return None


@pytest.mark.parametrize("path", PATHS)
def test_quick_test_agrees_with_each_pattern(path: str) -> None:
    assert DefaultIgnores().reason(path) == one_by_one(path)


def test_some_paths_are_ignored_and_some_kept() -> None:
    d = DefaultIgnores()
    assert d.reason("a/dist/x.py") == "build-output"
    assert d.reason("Cargo.lock") == "lock-file"
    assert d.reason("distx/a.py") is None
    assert d.reason("environment.py") is None


def test_a_negated_pattern_is_not_folded() -> None:
    assert _any_of([pathspec.GitIgnoreSpec.from_lines(["*.log", "!keep.log"])]) is None


def test_glob_filter() -> None:
    g = GlobFilter(["src/**"], ["*_test.py"])
    assert g.reason("src/a.py") is None
    assert g.reason("src/a_test.py") == "excluded"
    assert g.reason("docs/a.md") == "not-included"
