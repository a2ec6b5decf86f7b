"""Which language a file is written in, from its name alone (the index is pure: no content sniffing).

``language_for`` names the languages the outline understands with tree-sitter (see
``specs/``) and, for other common text files, a name the renderer can use as a fence label;
anything else is ``None`` and gets a plain outline."""

from __future__ import annotations

from pathlib import PurePosixPath

# languages with a tree-sitter spec in specs/<name>.toml
TREE_SITTER = frozenset(
    {"python", "javascript", "typescript", "tsx", "go", "rust", "java", "c", "cpp", "csharp",
     "ruby", "php", "kotlin", "swift", "scala", "lua"}
)

_EXTENSIONS: dict[str, str] = {
    ".py": "python", ".pyi": "python", ".pyw": "python",
    ".js": "javascript", ".mjs": "javascript", ".cjs": "javascript", ".jsx": "javascript",
    ".ts": "typescript", ".mts": "typescript", ".cts": "typescript",
    ".tsx": "tsx",
    ".go": "go",
    ".rs": "rust",
    ".java": "java",
    ".c": "c",
    # headers are read as C++: its grammar parses C headers too, the C grammar fails on classes
    ".h": "cpp", ".hh": "cpp", ".hpp": "cpp", ".hxx": "cpp", ".h++": "cpp",
    ".cc": "cpp", ".cpp": "cpp", ".cxx": "cpp", ".c++": "cpp", ".ipp": "cpp", ".tpp": "cpp",
    ".cs": "csharp",
    ".rb": "ruby", ".rake": "ruby", ".gemspec": "ruby", ".ru": "ruby",
    ".php": "php", ".phtml": "php",
    ".kt": "kotlin", ".kts": "kotlin",
    ".swift": "swift",
    ".scala": "scala", ".sc": "scala",
    ".lua": "lua",
    # plain outline, named for fences
    ".md": "markdown", ".markdown": "markdown", ".mdx": "markdown",
    ".rst": "rst", ".txt": "text", ".adoc": "asciidoc",
    ".json": "json", ".jsonc": "json", ".yaml": "yaml", ".yml": "yaml", ".toml": "toml",
    ".ini": "ini", ".cfg": "ini", ".conf": "ini", ".xml": "xml", ".html": "html", ".htm": "html",
    ".css": "css", ".scss": "scss", ".sql": "sql", ".sh": "bash", ".bash": "bash", ".zsh": "bash",
    ".ps1": "powershell", ".bat": "batch", ".cmd": "batch", ".proto": "proto", ".graphql": "graphql",
    ".gql": "graphql", ".tf": "hcl", ".hcl": "hcl", ".vue": "vue", ".svelte": "svelte",
    ".dart": "dart", ".ex": "elixir", ".exs": "elixir", ".erl": "erlang", ".hs": "haskell",
    ".ml": "ocaml", ".clj": "clojure", ".r": "r", ".R": "r", ".jl": "julia", ".pl": "perl",
    ".pm": "perl", ".m": "objc", ".mm": "objc", ".zig": "zig", ".nim": "nim", ".cmake": "cmake",
    ".tex": "latex", ".dockerfile": "dockerfile", ".mk": "make",
}

_FILENAMES: dict[str, str] = {
    "Dockerfile": "dockerfile", "Containerfile": "dockerfile", "Makefile": "make", "GNUmakefile": "make",
    "makefile": "make", "CMakeLists.txt": "cmake", "Rakefile": "ruby", "Gemfile": "ruby",
    "Vagrantfile": "ruby", "BUILD": "starlark", "BUILD.bazel": "starlark", "WORKSPACE": "starlark",
    "Jenkinsfile": "groovy", "SConstruct": "python", "SConscript": "python",
}


def language_for(path: str) -> str | None:
    """The language of the file at ``path`` (repository-relative, ``/``-separated), or None."""
    name = PurePosixPath(path).name
    if name in _FILENAMES:
        return _FILENAMES[name]
    dot = name.rfind(".")
    if dot <= 0:
        return None
    ext = name[dot:]
    return _EXTENSIONS.get(ext) or _EXTENSIONS.get(ext.lower())


def has_tree_sitter(language: str | None) -> bool:
    return language in TREE_SITTER
