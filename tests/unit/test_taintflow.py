"""taintflow: which call of a reported taint flow nobody looked into, read from the syntax tree.

Each case gives the code, the source, the variables of the flow and the sink by their text (the
n-th occurrence), as semgrep's trace gives them by byte offsets."""

from __future__ import annotations

import pytest

from reviewer.analyzers.taintflow import Opaque, Step, first_opaque, parse


def place(code: str, text: str, nth: int = 0) -> Step:
    data = code.encode()
    start = -1
    for _ in range(nth + 1):
        start = data.index(text.encode(), start + 1)
    return Step(start, start + len(text.encode()), text)


def judge(code: str, source: tuple[str, int], through: list[tuple[str, int]], sink: tuple[str, int]) -> Opaque | None:
    module = parse(code.encode())
    assert module is not None
    return first_opaque(module, place(code, *source), [place(code, *v) for v in through], place(code, *sink))


EXPORT = """\
def export_csv():
    table = request.args.get("table")
    output = dump_csv(name=table)
    return send_file(output, download_name=table + ".csv")
"""

BUILT = """\
def report():
    name = request.form["name"]
    sql = "SELECT * FROM t WHERE name = '%s'" % name.strip()
    return db.execute(sql)
"""


def test_a_helper_of_another_module_is_opaque() -> None:
    got = judge(EXPORT, ("request.args", 0), [("table", 0), ("output", 0)], ("output", 1))
    assert got == Opaque("dump_csv()", 3)


def test_strings_operators_and_methods_of_the_data_carry_it() -> None:
    assert judge(BUILT, ("request.form", 0), [("name", 0), ("sql", 0)], ("sql", 1)) is None


@pytest.mark.parametrize(
    ("helper", "opaque"),
    [
        # builds its result from its parameter, directly or through a local
        ("def where(n):\n    return 'WHERE name = ' + n\n", False),
        ("def where(n):\n    clause = f\"name = '{n}'\"\n    return 'WHERE ' + clause\n", False),
        # returns something else: a lookup by the value, a constant, the result of another call
        ("def where(n):\n    return CLAUSES.get(n, '')\n", True),
        ("def where(n):\n    if n not in ALLOWED:\n        return ''\n    return 'WHERE 1=1'\n", True),
        ("def where(n):\n    return lookup(n)\n", True),
    ],
)
def test_a_helper_of_the_same_module_is_read(helper: str, opaque: bool) -> None:
    code = helper + "\n\ndef view():\n    name = request.args['n']\n    sql = 'SELECT * FROM t ' + where(name)\n    db.execute(sql)\n"
    got = judge(code, ("request.args", 0), [("name", 1), ("sql", 0)], ("sql", 1))
    assert (got is not None) == opaque, got
    if opaque:
        assert got == Opaque("where()", helper.count("\n") + 5)


def test_a_class_picked_by_the_data_and_what_it_builds() -> None:
    code = (
        "def share(type):\n"
        "    social = get_social_share(type)\n"
        "    s = social()\n"
        "    return s.content\n"
    )
    got = judge(code, ("type", 0), [("type", 0), ("social", 0), ("s", 2)], ("s.content", 0))
    assert got == Opaque("get_social_share()", 2)


def test_a_lookup_by_the_data_is_opaque_a_method_of_it_is_not() -> None:
    code = (
        "def view():\n"
        "    data = request.get_json()\n"
        "    kind = data.get('kind').lower()\n"
        "    handler = HANDLERS_BY_KIND[kind]\n"
        "    return make(handler)\n"
    )
    got = judge(code, ("request.get_json()", 0), [("data", 0), ("kind", 0), ("handler", 0)], ("handler", 1))
    assert got == Opaque("HANDLERS_BY_KIND[...]", 4)
    # the same flow without the lookup: every step carries the data
    assert judge(code, ("request.get_json()", 0), [("data", 0), ("kind", 0)], ("kind", 1)) is None


def test_loops_augmented_assignments_and_tuples() -> None:
    code = (
        "def debug():\n"
        "    headers = dict(request.headers)\n"
        "    resp = ''\n"
        "    for k, v in headers.items():\n"
        "        resp += f'{k}: {v}'\n"
        "    first, rest = resp.split(':', 1)\n"
        "    return first\n"
    )
    through = [("headers", 0), ("k", 0), ("resp", 1), ("first", 0)]
    assert judge(code, ("request.headers", 0), through, ("first", 1)) is None


def test_the_sink_expression_itself_may_hide_the_data_in_a_call() -> None:
    code = "def v():\n    token = request.args['code']\n    session['t'] = exchange_code(token)\n"
    got = judge(code, ("request.args", 0), [("token", 0)], ("exchange_code(token)", 0))
    assert got == Opaque("exchange_code()", 3)
    code = "def v():\n    key = request.args['k']\n    session['k'] = str(key).strip()\n"
    assert judge(code, ("request.args", 0), [("key", 0)], ("str(key).strip()", 0)) is None


def test_offsets_are_bytes_past_non_ascii_text() -> None:
    code = "def v():\n    titre = 'déjà vu'; name = request.args['n']\n    out = render_row(name)\n    return out\n"
    got = judge(code, ("request.args", 0), [("name", 0), ("out", 0)], ("out", 1))
    assert got == Opaque("render_row()", 3)


def test_what_cannot_be_judged_keeps_the_flow() -> None:
    assert parse(b"def broken(:\n    pass\n") is None
    code = "def v():\n    items = []\n    items.append(request.args['x'])\n    return items\n"
    # a flow through a side effect (append) has no binding to read: not called opaque
    assert judge(code, ("request.args", 0), [("items", 0)], ("items", 2)) is None
