"""What part a file plays in a repository, from its path: code, test, docs, example, data or meta.
Ranking lowers tests, docs, examples and data unless the task points at them."""

from __future__ import annotations

import re
from pathlib import PurePosixPath

_TEST_DIRS = re.compile(r"(?:^|/)(?:tests?|testing|__tests__|spec|specs|test_?data|fixtures|e2e)/", re.I)
_TEST_FILE = re.compile(
    r"(?:^test_.*|.*_tests?\.\w+|.*\.(?:test|spec)\.\w+|.*Tests?\.(?:java|cs|kt|scala|swift)|conftest\.py|.*_spec\.rb)$"
)
_DOC_DIRS = re.compile(r"(?:^|/)(?:docs?|documentation|man|site)/", re.I)
_DOC_EXT = frozenset({".md", ".markdown", ".rst", ".txt", ".adoc", ".tex", ".mdx", ".ipynb"})
_EXAMPLE_DIRS = re.compile(r"(?:^|/)(?:examples?|samples?|demos?|benchmarks?|bench|tutorials?|scripts)/", re.I)
_DATA_EXT = frozenset({".json", ".csv", ".tsv", ".svg", ".xml", ".yaml", ".yml", ".dat", ".lock", ".po", ".pot"})
_META_NAMES = frozenset(
    {"readme", "readme.md", "readme.rst", "readme.txt", "pyproject.toml", "setup.py", "setup.cfg",
     "package.json", "cargo.toml", "go.mod", "pom.xml", "build.gradle", "build.gradle.kts", "gemfile",
     "composer.json", "cmakelists.txt", "makefile", "dockerfile"}
)
_ENTRY_NAMES = frozenset(
    {"__main__.py", "main.py", "cli.py", "app.py", "manage.py", "wsgi.py", "asgi.py", "main.go", "main.rs",
     "lib.rs", "index.js", "index.ts", "main.js", "main.ts", "app.js", "app.ts", "server.js", "server.ts",
     "main.c", "main.cpp", "program.cs", "main.kt", "main.swift", "__init__.py"}
)

# CI jobs and development environments, and files to copy and fill in (settings.py.example)
_CI = re.compile(
    r"(?:^|/)(?:\.ci|\.github|\.circleci|\.gitlab|\.buildkite|\.devcontainer)/"
    r"|(?:^|/)(?:\.gitlab-ci\.ya?ml|\.travis\.ya?ml|Vagrantfile|(?:docker-)?compose[\w.-]*\.ya?ml)$",
    re.IGNORECASE,
)
_TEMPLATE_SUFFIX = re.compile(r"\.(?:example|sample|dist|template|tmpl|tpl)$", re.IGNORECASE)
# what reports call the files whose findings are shown apart (and at low at most)
APART = {
    "test": "tests",
    "docs": "documentation",
    "example": "examples",
    "ci": "CI or local-development configuration",
}

# score multipliers applied when a file is not focused
ROLE_WEIGHT = {"code": 1.0, "meta": 1.0, "test": 0.25, "docs": 0.3, "example": 0.4, "data": 0.3}


def role_of(path: str) -> str:
    name = path.rpartition("/")[2]
    lower = name.lower()
    if lower in _META_NAMES and "/" not in path:
        return "meta"
    if _TEST_DIRS.search(path) or _TEST_FILE.match(name):
        return "test"
    suffix = _suffix(lower)
    if suffix in _DOC_EXT or _DOC_DIRS.search(path) or lower.startswith(("changelog", "changes", "history", "license", "authors", "contributing")):
        return "docs"
    if _EXAMPLE_DIRS.search(path):
        return "example"
    if suffix in _DATA_EXT:
        return "data"
    return "code"


def apart_role(path: str) -> str | None:
    """For reports: the role of a file that is not shipped code (a key of ``APART``: tests, docs,
    examples, and two more than ``role_of`` knows: CI and development-environment files, and
    files to copy and fill in, taken as examples), or None for the code itself."""
    if _TEMPLATE_SUFFIX.search(path):
        return "example"
    if _CI.search(path):
        return "ci"
    role = role_of(path)
    return role if role in APART else None


def _suffix(name: str) -> str:
    """What ``PurePosixPath(name).suffix`` gives, without building a path."""
    dot = name.rfind(".")
    return name[dot:] if 0 < dot < len(name) - 1 else ""


def is_entry_name(path: str) -> bool:
    """A file name that usually holds a program's or package's entry point."""
    name = PurePosixPath(path).name.lower()
    if name == "__init__.py":
        return path.count("/") <= 1  # the top package's __init__ only
    return name in _ENTRY_NAMES
