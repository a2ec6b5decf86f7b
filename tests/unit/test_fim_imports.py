"""Imports read lexically and resolved to repository files."""

from __future__ import annotations

from reviewer.fim.imports import Import, ModuleMap, read_imports


def test_python_imports_every_form() -> None:
    text = (
        "import os\n"
        "import a.b.c as abc\n"
        "from . import utils\n"
        "from ..core.models import (\n    Request,\n    Response as Resp,  # comment\n)\n"
        "from pkg.mod import name, other as alias\n"
        "from star import *\n"
        "    from inner import late  # inside a function\n"
    )
    got = read_imports("python", text)
    assert Import(".", (("utils", "utils"),)) in got
    assert Import("..core.models", (("Request", "Request"), ("Response", "Resp"))) in got
    assert Import("pkg.mod", (("name", "name"), ("other", "alias"))) in got
    assert Import("star", (("*", "*"),)) in got
    assert Import("inner", (("late", "late"),)) in got
    assert Import("os", (), "os") in got
    assert Import("a.b.c", (), "abc") in got


def test_javascript_and_typescript_imports() -> None:
    text = (
        "import React, { useState, useEffect as ue } from 'react'\n"
        "import * as api from './api'\n"
        "import type { User } from \"../types\"\n"
        "import './side-effect.css'\n"
        "const { join } = require('path')\n"
        "const lib = require('./lib')\n"
        "export { helper } from './helpers'\n"
    )
    got = read_imports("typescript", text)
    assert Import("react", (("useState", "useState"), ("useEffect", "ue"), ("default", "React"))) in got
    assert Import("./api", (), "api") in got
    assert Import("../types", (("User", "User"),)) in got
    assert Import("./side-effect.css") in got
    assert Import("path", (("join", "join"),)) in got
    assert Import("./lib", (), "lib") in got
    assert Import("./helpers", (("helper", "helper"),)) in got


def test_go_java_c_rust_imports() -> None:
    go = 'package x\n\nimport (\n\t"fmt"\n\tstore "example.com/app/internal/store"\n)\nimport "net/http"\n'
    assert {(i.module, i.alias) for i in read_imports("go", go)} == {
        ("fmt", "fmt"), ("example.com/app/internal/store", "store"), ("net/http", "http")}
    java = "import com.acme.util.Strings;\nimport static com.acme.Consts.MAX;\nimport com.acme.model.*;\n"
    got = read_imports("java", java)
    assert Import("com.acme.util", (("Strings", "Strings"),)) in got
    assert Import("com.acme.model", (("*", "*"),)) in got
    assert read_imports("c", '#include "util/strings.h"\n#include <stdio.h>\n') == [Import("util/strings.h", (("*", "*"),))]
    rust = "use crate::store::{Db, Row as R};\nmod config;\n"
    got = read_imports("rust", rust)
    assert Import("crate::store", (("Db", "Db"), ("Row", "R"))) in got
    assert Import("config", (), "config") in got


def test_unknown_language_has_no_imports() -> None:
    assert read_imports(None, "import x") == []
    assert read_imports("markdown", "import x") == []


def _map(*paths: str) -> ModuleMap:
    m = ModuleMap()
    for p in paths:
        m.add(p)
    return m


def test_python_resolution_relative_absolute_and_src_layout() -> None:
    m = _map("src/pkg/__init__.py", "src/pkg/models.py", "src/pkg/sub/util.py", "tests/test_models.py",
             "tests/apps/inner/pkg.py")
    assert m.resolve("python", "src/pkg/sub/util.py", "..models") == ["src/pkg/models.py"]
    assert m.resolve("python", "src/pkg/models.py", ".") == ["src/pkg/__init__.py"]
    assert m.resolve("python", "src/pkg/models.py", ".sub.util") == ["src/pkg/sub/util.py"]
    # an absolute import names a module from a root on sys.path: the shallow package wins over a
    # same-named file deep in the tests
    assert m.resolve("python", "tests/test_models.py", "pkg")[0] == "src/pkg/__init__.py"
    assert m.resolve("python", "tests/test_models.py", "pkg.models") == ["src/pkg/models.py"]
    assert m.resolve("python", "tests/test_models.py", "requests") == []


def test_js_go_java_resolution() -> None:
    m = _map("web/src/api/index.ts", "web/src/lib.js", "web/src/app.tsx", "internal/store/db.go",
             "internal/store/db_test.go", "src/main/java/com/acme/util/Strings.java")
    assert m.resolve("typescript", "web/src/app.tsx", "./api") == ["web/src/api/index.ts"]
    assert m.resolve("javascript", "web/src/app.tsx", "./lib.js") == ["web/src/lib.js"]
    assert m.resolve("typescript", "web/src/app.tsx", "react") == []
    assert m.resolve("go", "cmd/main.go", "example.com/app/internal/store") == ["internal/store/db.go"]
    assert m.resolve("java", "src/main/java/com/acme/App.java", "com.acme.util.Strings") == [
        "src/main/java/com/acme/util/Strings.java"]


def test_module_map_forgets_a_removed_file() -> None:
    m = _map("pkg/a.py", "pkg/b.py")
    m.remove("pkg/a.py")
    assert m.resolve("python", "pkg/b.py", ".a") == []
    assert m.resolve("python", "pkg/a.py", ".b") == ["pkg/b.py"]
