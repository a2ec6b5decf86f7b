"""Stack traces of five languages: frames, innermost first, matched to repository files."""

from __future__ import annotations

from reviewer.pack.trace import Frame, PathMatcher, parse_trace

PY = """Traceback (most recent call last):
  File "/home/u/proj/app/main.py", line 10, in <module>
    run()
  File "/home/u/proj/app/core.py", line 42, in run
    helper.compute(x)
  File "/usr/lib/python3.11/json/__init__.py", line 5, in loads
ValueError: bad
"""
JS = """TypeError: Cannot read properties of undefined
    at Object.parse (/srv/app/src/parser.js:12:5)
    at async Server.handle (/srv/app/src/server.js:88:13)
    at /srv/app/src/index.js:3:1
"""
JAVA = """Exception in thread "main" java.lang.NullPointerException
\tat com.example.app.Service.process(Service.java:42)
\tat com.example.app.Main.main(Main.java:10)
"""
GO = """panic: runtime error: index out of range [3] with length 3

goroutine 1 [running]:
main.(*Server).handle(0xc000010000)
\t/home/u/go/src/example.com/app/server.go:25 +0x1d
main.main()
\t/home/u/go/src/example.com/app/main.go:9 +0x25
exit status 2
"""
RUST = """thread 'main' panicked at src/parser.rs:31:9:
index out of bounds: the len is 3 but the index is 3
stack backtrace:
   0: rust_begin_unwind
   1: app::parser::Parser::parse
             at ./src/parser.rs:31:9
   2: app::main
             at ./src/main.rs:5:5
"""


def test_python_frames_innermost_first() -> None:
    frames = parse_trace(PY)
    assert frames[0] == Frame("/usr/lib/python3.11/json/__init__.py", 5, "loads")
    assert frames[1] == Frame("/home/u/proj/app/core.py", 42, "run")
    assert frames[2].function == ""  # <module> names no function


def test_node_java_go_rust_frames() -> None:
    js = parse_trace(JS)
    assert [(f.path, f.line, f.function) for f in js] == [
        ("/srv/app/src/parser.js", 12, "parse"), ("/srv/app/src/server.js", 88, "handle"), ("/srv/app/src/index.js", 3, "")]
    java = parse_trace(JAVA)
    assert java[0] == Frame("com/example/app/Service.java", 42, "process", "Service")
    go = parse_trace(GO)
    assert go[0] == Frame("/home/u/go/src/example.com/app/server.go", 25, "handle", "Server")
    rust = parse_trace(RUST)
    assert rust[0] == Frame("src/parser.rs", 31, "parse", "Parser")
    assert rust[1].path == "src/main.rs"


def test_generic_path_line_fallback_and_garbage() -> None:
    assert parse_trace("error at lib/util.ts:17 while loading")[0] == Frame("lib/util.ts", 17, "")
    assert parse_trace("") == []
    assert parse_trace("\x00" * 1000 + "at (" * 500) == []


def test_paths_match_by_longest_suffix() -> None:
    m = PathMatcher(["app/main.py", "app/core.py", "src/main/java/com/example/app/Service.java", "a/util.py", "b/util.py"])
    assert m.match("/home/u/proj/app/core.py") == "app/core.py"
    assert m.match("C:\\\\work\\\\app\\\\main.py".replace("\\\\\\\\", "\\\\")) == "app/main.py"
    assert m.match("com/example/app/Service.java") == "src/main/java/com/example/app/Service.java"
    assert m.match("/x/b/util.py") == "b/util.py"
    assert m.match("util.py") is None  # ambiguous
    assert m.match("/usr/lib/python3.11/json/__init__.py") is None
