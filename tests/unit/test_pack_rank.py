"""Ranking: the file graph, personalized PageRank, focus from questions and traces, roles."""

from __future__ import annotations

import random
from pathlib import Path

import networkx as nx
import numpy as np
from networkx.algorithms.link_analysis.pagerank_alg import _pagerank_python

from reviewer.index.tags import Tags, lexical_tags
from reviewer.pack.focus import build_focus
from reviewer.pack.lexical import BM25, query_terms, subwords
from reviewer.pack.rank import build_edges, pagerank, rank_files

REPO = {
    "app/models.py": "class Request:\n    def register_hook(self, event, hook):\n        pass\n\ndef parse_header(v):\n    return v\n",
    "app/sessions.py": "from app.models import Request, parse_header\n\ndef send(r: Request):\n    return parse_header(r)\n",
    "app/api.py": "from app.sessions import send\n\ndef get(url):\n    return send(url)\n",
    "app/hooks.py": "def dispatch_hook(key, hooks):\n    return hooks\n",
    "tests/test_models.py": "from app.models import Request, parse_header\n\ndef test_request():\n    Request()\n",
    "docs/guide.md": "# Guide\n\nCall register_hook on a Request.\n",
    "README.md": "# app\n",
}


def tags_of(files: dict[str, str]) -> dict[str, Tags]:
    return {p: lexical_tags(p, t) for p, t in files.items()}


def test_edges_point_to_the_definer() -> None:
    tags = tags_of(REPO)
    paths = sorted(REPO)
    src, dst, w = build_edges(paths, tags)
    edges = {(paths[a], paths[b]) for a, b in zip(src.tolist(), dst.tolist(), strict=True)}
    assert ("app/sessions.py", "app/models.py") in edges
    assert ("app/api.py", "app/sessions.py") in edges
    assert not any(a == b for a, b in edges)
    assert (w > 0).all()


def test_pagerank_matches_networkx() -> None:
    rng = random.Random(7)
    n = 30
    g = nx.DiGraph()
    g.add_nodes_from(range(n))
    for _ in range(90):
        a, b = rng.randrange(n), rng.randrange(n)
        if a != b:
            g.add_edge(a, b, weight=rng.random())
    personal = {i: rng.random() for i in range(n)}
    total = sum(personal.values())
    ref = _pagerank_python(g, alpha=0.85, personalization=personal, dangling=personal, tol=1e-12, max_iter=500)
    src = np.array([a for a, b in g.edges()], dtype=np.int64)
    dst = np.array([b for a, b in g.edges()], dtype=np.int64)
    w = np.array([g[a][b]["weight"] for a, b in g.edges()])
    ours = pagerank(n, src, dst, w, np.array([personal[i] / total for i in range(n)]))
    assert np.allclose(ours, [ref[i] for i in range(n)], atol=1e-8)


def test_without_focus_central_code_first_and_tests_docs_lowered() -> None:
    r = rank_files(sorted(REPO), tags_of(REPO))
    assert r.order[0] == "app/models.py"
    assert r.scores["tests/test_models.py"] < r.scores["app/sessions.py"]
    assert r.roles["docs/guide.md"] == "docs" and "lowered" in r.reasons["docs/guide.md"]
    assert r.focused == []
    assert rank_files(sorted(REPO), tags_of(REPO)).scores == r.scores  # deterministic


def test_query_focus_symbols_paths_and_bm25() -> None:
    tags = tags_of(REPO)
    focus = build_focus(Path("."), sorted(REPO), tags, query="Allow lists in hooks: `register_hook()` wraps them")
    assert focus.focused[0] == "app/models.py"
    assert "defines register_hook" in focus.reasons["app/models.py"]
    r = rank_files(sorted(REPO), tags, focus)
    assert r.order[0] == "app/models.py"
    assert "app/hooks.py" in focus.files  # BM25 on the path word "hooks"
    named = build_focus(Path("."), sorted(REPO), tags, query="the bug is in app/api.py, see sessions")
    assert named.focused[0] == "app/api.py"


def test_trace_focus_weighs_the_crash_site_most() -> None:
    tags = tags_of(REPO)
    trace = (
        'Traceback (most recent call last):\n  File "/srv/x/app/api.py", line 4, in get\n'
        '  File "/srv/x/app/sessions.py", line 4, in send\n  File "/srv/x/app/models.py", line 6, in parse_header\n'
        "KeyError: 'x'\n"
    )
    focus = build_focus(Path("."), sorted(REPO), tags, trace=trace)
    assert focus.focused[:3] == ["app/models.py", "app/sessions.py", "app/api.py"]
    assert "trace frame (line 6, in parse_header)" in focus.reasons["app/models.py"]
    r = rank_files(sorted(REPO), tags, focus)
    assert r.order[0] == "app/models.py"
    # a focused test file is not lowered
    f2 = build_focus(Path("."), sorted(REPO), tags, trace='  File "/x/tests/test_models.py", line 4, in test_request\n')
    assert rank_files(sorted(REPO), tags, f2).order[0] == "tests/test_models.py"


def test_words_and_bm25() -> None:
    assert subwords("register_hook") == ("registerhook", "register", "hook")
    # snake case, camel case and an option's hyphens are one term
    assert subwords("ImportMode")[0] == subwords("import_mode")[0] == "importmode"
    assert "importmode" in query_terms("run with --import-mode=importlib")
    assert subwords("parseURLQuery")[:1] == ("parseurlquery",) and "url" in subwords("parseURLQuery")
    assert query_terms("The Request is not a list of hooks") == ["request", "list", "hooks"]
    index = BM25({"a": [("hook", 1.0)], "b": [("hook", 3.0), ("x", 1.0)], "c": [("y", 1.0)]})
    s = index.scores(["hook"])
    assert s["b"] > s["a"] > 0 and "c" not in s


def test_empty_and_unlinked_repositories() -> None:
    assert rank_files([], {}).order == []
    files = {"a.txt": "hello\n", "b.txt": "world\n"}
    r = rank_files(sorted(files), tags_of(files))
    assert r.order == ["a.txt", "b.txt"] and r.scores["a.txt"] == r.scores["b.txt"]


# ``Mul`` the class, and ``Mul`` the handler method of two other modules (as in sympy's assumptions)
SHADOWED = {
    "core/mul.py": "class Mul:\n    def flatten(self, seq):\n        return seq\n",
    "handlers/order.py": "class AskPositive:\n    def Mul(self, expr):\n        return expr\n",
    "handlers/sets.py": "class AskReal:\n    def Mul(self, expr):\n        return expr\n    def flatten(self):\n        pass\n",
    "simplify.py": "from core.mul import Mul\n\ndef simplify(e):\n    return Mul(e, e).flatten(e)\n",
}


def test_a_name_used_elsewhere_means_the_module_level_definition() -> None:
    tags = tags_of(SHADOWED)
    assert tags["core/mul.py"].top == ["Mul"] and tags["handlers/order.py"].top == ["AskPositive"]
    paths = sorted(SHADOWED)
    src, dst, _ = build_edges(paths, tags)
    edges = {(paths[a], paths[b]) for a, b in zip(src.tolist(), dst.tolist(), strict=True)}
    # Mul -> only the class; flatten, a method everywhere, -> every definer
    assert ("simplify.py", "core/mul.py") in edges and ("simplify.py", "handlers/sets.py") in edges
    assert ("simplify.py", "handlers/order.py") not in edges
    focus = build_focus(Path("."), paths, tags, query="`Mul(x, x)` gives the wrong answer", is_git=False)
    assert focus.focused[0] == "core/mul.py" and "defines Mul" in focus.reasons["core/mul.py"]
    assert not any(r.startswith("defines Mul") for p in paths[1:] for r in focus.reasons.get(p, []))
    # a stack frame's function is often a method: there every definer counts
    trace = 'Traceback (most recent call last):\n  File "simplify.py", line 4, in simplify\n    Mul(e, e)\n'
    trace += '  File "handlers/order.py", line 3, in Mul\n    return expr\nValueError: no\n'
    traced = build_focus(Path("."), paths, tags, trace=trace, is_git=False)
    assert {"handlers/order.py", "handlers/sets.py", "core/mul.py"} <= set(traced.files)


def test_a_plain_lowercase_word_links_less_than_a_compound_name() -> None:
    files = {
        "poly.py": "class Poly:\n    def terms(self):\n        return []\n",
        "hooks.py": "def term_list(x):\n    return [x]\n",
        "user.py": "def f(p):\n    return p.terms(), term_list(p)\n",
    }
    paths = sorted(files)
    src, dst, w = build_edges(paths, tags_of(files))
    weight = {(paths[a], paths[b]): x for a, b, x in zip(src.tolist(), dst.tolist(), w.tolist(), strict=True)}
    # both names are used by one file and defined by one: only how they are written differs
    assert weight[("user.py", "poly.py")] < 0.5 * weight[("user.py", "hooks.py")]


def test_a_test_named_in_the_question_points_at_the_module_it_tests() -> None:
    from pathlib import Path

    from reviewer.index.tags import lexical_tags
    from reviewer.pack.focus import build_focus

    files = {
        "pkg/solvers/polysys.py": "def solve_poly_system(seq):\n    return seq\n",
        "pkg/other/polysys.py": "def other():\n    return 1\n",
        "pkg/solvers/tests/test_polysys.py": "def test_solve_poly_system():\n    assert True\n",
        "pkg/solvers/solveset.py": "def solveset(f):\n    return f\n",
        "pkg/solvers/tests/test_solveset.py": "def test_solveset_real():\n    assert True\n",
    }
    tags = {p: lexical_tags(p, t) for p, t in files.items()}
    paths = sorted(files)
    focus = build_focus(Path("."), paths, tags, query="a/pkg/solvers/tests/test_polysys.py fails on Python 3.12")
    assert "pkg/solvers/polysys.py" in focus.focused
    assert any("tested by" in r for r in focus.reasons["pkg/solvers/polysys.py"])
    # the other module of that name is not the one the test is beside
    assert not any("tested by" in r for r in focus.reasons.get("pkg/other/polysys.py", []))
    focus = build_focus(Path("."), paths, tags, query="Since the last release test_solveset_real is failing.")
    assert "pkg/solvers/solveset.py" in focus.focused
