"""What is left out of a pack by default, and the glob rules users add with --include/--exclude."""

from __future__ import annotations

import re
from collections.abc import Iterable

import pathspec

# gitwildmatch patterns. Each group's name is the reason shown to the user.
DEFAULT_IGNORES: dict[str, tuple[str, ...]] = {
    "lock-file": (
        "package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml", "bun.lockb",
        "poetry.lock", "Pipfile.lock", "uv.lock", "pdm.lock", "Cargo.lock", "Gemfile.lock",
        "composer.lock", "go.sum", "flake.lock", "packages.lock.json", "mix.lock", "pubspec.lock",
        "Podfile.lock", "*.lock",
    ),
    "minified": ("*.min.js", "*.min.css", "*.min.mjs", "*.js.map", "*.css.map", "*.map"),
    "build-output": (
        "dist/", "build/", "out/", "target/", ".next/", ".nuxt/", ".svelte-kit/", "coverage/",
        "htmlcov/", "__pycache__/", "*.pyc", "*.pyo", "*.class", "*.o", "*.obj", "*.a", "*.so",
        "*.dylib", "*.dll", "*.exe", "*.egg-info/", ".tox/", ".nox/", ".mypy_cache/", ".ruff_cache/",
        ".pytest_cache/", ".gradle/", ".venv/", "venv/", "env/",
    ),
    "vendored": ("vendor/", "third_party/", "third-party/", "node_modules/", "bower_components/", "Pods/"),
    "vcs": (".git/", ".hg/", ".svn/"),
    "image": (
        "*.png", "*.jpg", "*.jpeg", "*.gif", "*.bmp", "*.ico", "*.icns", "*.webp", "*.tif", "*.tiff",
        "*.psd", "*.svg", "*.avif", "*.heic",
    ),
    "media": ("*.mp3", "*.mp4", "*.wav", "*.ogg", "*.flac", "*.mov", "*.avi", "*.mkv", "*.webm"),
    "font": ("*.ttf", "*.otf", "*.woff", "*.woff2", "*.eot"),
    "archive": (
        "*.zip", "*.tar", "*.gz", "*.tgz", "*.bz2", "*.xz", "*.zst", "*.7z", "*.rar", "*.jar",
        "*.war", "*.whl", "*.egg", "*.deb", "*.rpm", "*.dmg", "*.iso",
    ),
    "model-weights": (
        "*.bin", "*.safetensors", "*.gguf", "*.ggml", "*.pt", "*.pth", "*.onnx", "*.h5", "*.ckpt",
        "*.pkl", "*.pickle", "*.npy", "*.npz", "*.tflite", "*.mlmodel",
    ),
    "data": ("*.parquet", "*.sqlite", "*.sqlite3", "*.db", "*.pdf", "*.xlsx", "*.docx", "*.pptx"),
}


_NAMED_GROUP = re.compile(r"\(\?P<\w+>")
_ANY_DIR = "^(?:.+/)?"  # how a pattern without a slash begins: at any depth


def _any_of(specs: Iterable[pathspec.PathSpec]) -> re.Pattern[str] | None:
    """One regular expression that matches whenever a pattern of ``specs`` does (all of them
    include patterns): a quick first test, so most paths cost one match instead of one per pattern.
    None when a pattern cannot be folded in (a negation), and every path then takes the long way."""
    parts = []
    for spec in specs:
        for pattern in spec.patterns:
            regex = getattr(pattern, "regex", None)
            if pattern.include is None:
                continue
            if not pattern.include or regex is None:
                return None
            parts.append(_NAMED_GROUP.sub("(?:", regex.pattern))
    if not parts:
        return None
    if all(p.startswith(_ANY_DIR) for p in parts):  # factored out, the alternatives are tried once
        return re.compile(_ANY_DIR + "(?:" + "|".join(p[len(_ANY_DIR):] for p in parts) + ")")
    return re.compile("|".join(f"(?:{p})" for p in parts))


class DefaultIgnores:
    def __init__(self) -> None:
        self._specs = [
            (reason, pathspec.GitIgnoreSpec.from_lines(patterns)) for reason, patterns in DEFAULT_IGNORES.items()
        ]
        self._quick = _any_of(spec for _, spec in self._specs)

    def reason(self, path: str) -> str | None:
        """The default-ignore group ``path`` falls in, or None."""
        if self._quick is not None and self._quick.match(path) is None:
            return None
        for reason, spec in self._specs:
            if spec.match_file(path):
                return reason
        return None


class GlobFilter:
    """--include / --exclude: gitwildmatch globs; a pattern without a slash matches at any depth."""

    def __init__(self, include: Iterable[str], exclude: Iterable[str]) -> None:
        include = [p for p in include if p]
        exclude = [p for p in exclude if p]
        self._include = pathspec.GitIgnoreSpec.from_lines(include) if include else None
        self._exclude = pathspec.GitIgnoreSpec.from_lines(exclude) if exclude else None

    def reason(self, path: str) -> str | None:
        if self._exclude is not None and self._exclude.match_file(path):
            return "excluded"
        if self._include is not None and not self._include.match_file(path):
            return "not-included"
        return None
