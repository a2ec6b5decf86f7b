"""The second pass: modules the best candidates import rise, but never above the first pass's best."""

from __future__ import annotations

from reviewer.pack.expand import KEEP, follow_imports, module_map, python_imports
from reviewer.pack.rank import Ranking

PATHS = ["src/pkg/__init__.py", "src/pkg/core.py", "src/pkg/util/__init__.py", "src/pkg/util/text.py",
         "src/pkg/api.py", "src/pkg/deep/mod.py", "tests/test_api.py", "setup.py"]


def test_module_map_knows_src_layouts_and_packages() -> None:
    mm = module_map(PATHS)
    assert mm["pkg.core"] == "src/pkg/core.py" and mm["src.pkg.core"] == "src/pkg/core.py"
    assert mm["pkg.util"] == "src/pkg/util/__init__.py" and mm["pkg"] == "src/pkg/__init__.py"
    assert "setup" in mm and "README" not in mm


def test_python_imports_absolute_relative_and_grouped() -> None:
    mm = module_map(PATHS)
    text = (
        "import os, pkg.core\n"
        "from pkg.util import text as t, missing\n"
        "from . import core\n"
        "from .util.text import shout\n"
        "from ..pkg import api  # not a module of this tree\n"
        "from pkg import (\n    api,\n    core,\n)\n"
        "    from pkg.deep.mod import thing  # inside a function\n"
        "x = 'from pkg.util import nothing'\n"
    )
    # relative imports that name no module of the tree (``from . import core`` inside pkg/deep)
    # and the file itself are left out; a name imported from a package is its module when it is one
    assert python_imports("src/pkg/deep/mod.py", text, mm) == ["src/pkg/util/text.py", "src/pkg/api.py",
                                                                "src/pkg/core.py"]
    rel = python_imports("src/pkg/api.py", "from . import core\nfrom .util.text import shout\n", mm)
    assert rel == ["src/pkg/core.py", "src/pkg/util/text.py"]


def test_imports_of_the_best_rise_below_the_best() -> None:
    names = [f"pkg/m{i:02d}.py" for i in range(30)]
    scores = {p: 1.0 - i / 30 for i, p in enumerate(names)}
    ranking = Ranking(scores, sorted(scores, key=lambda p: (-scores[p], p)), [], {}, dict.fromkeys(names, "code"))
    texts = {"pkg/m00.py": "from pkg.m29 import x\n", "pkg/m01.py": "import pkg.m20, pkg.m21, pkg.m22, pkg.m23\n"}
    out = follow_imports(ranking, names, lambda p: texts.get(p, ""))
    assert out.order[:KEEP] == ranking.order[:KEEP]
    assert out.rank_of("pkg/m29.py") == KEEP + 1  # raised as far as it may go
    assert all(out.rank_of(f"pkg/m2{k}.py") < ranking.rank_of(f"pkg/m2{k}.py") for k in range(4))
    assert out.scores["pkg/m20.py"] < out.scores["pkg/m29.py"]  # an importer of four lends each less
    assert "imported by pkg/m00.py" in out.reasons["pkg/m29.py"]
    # nothing imported: the same ranking
    same = follow_imports(ranking, names, lambda p: "")
    assert same.order == ranking.order and same.scores == ranking.scores


def test_a_file_holding_the_quoted_message_is_focused_early() -> None:
    from reviewer.pack.defrank import messages
    from reviewer.pack.expand import MESSAGE_AFTER, follow_messages

    names = [f"pkg/m{i:02d}.py" for i in range(30)]
    scores = {p: 1.0 - i / 30 for i, p in enumerate(names)}
    focused = ["pkg/m03.py", "pkg/m07.py", "pkg/m01.py"]
    ranking = Ranking(scores, sorted(scores, key=lambda p: (-scores[p], p)), focused, {}, dict.fromkeys(names, "code"))
    texts = {"pkg/m12.py": "def check(n):\n    raise ValueError('No number is assigned for %s: %s' % (n, n))\n",
             "pkg/m13.py": "# no number here\n"}
    query = "Since 3.3 the build prints:\n\nWARNING: no number is assigned for table: my-table\n"
    out = follow_messages(ranking, messages(query), lambda p: texts.get(p, ""))
    assert out.focused == [*focused[:MESSAGE_AFTER], "pkg/m12.py", *focused[MESSAGE_AFTER:]]
    assert "holds a message the question quotes" in out.reasons["pkg/m12.py"]
    assert follow_messages(ranking, messages("nothing quoted here"), lambda p: texts.get(p, "")) is ranking
