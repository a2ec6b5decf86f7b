"""Issue texts from SWE-bench Lite as ``--query``: the file the real fix changed is packed whole
at a budget far below the repository's size, and the recall benchmark's scoring agrees."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from reviewer.config import Settings
from reviewer.pack import build_pack
from tests.conftest import MakeRepo

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "eval" / "swebench_lite_subset.json"
BENCH = Path(__file__).resolve().parents[2] / "bench" / "recall_bench.py"


def filler(name: str, n: int) -> str:
    return "".join(f"def {name}_{k}(value):\n    '''Helper {k}.'''\n    return value * {k}\n\n\n" for k in range(n))


# small stand-ins for the two projects: the gold files hold the gold definitions, among
# neighbours of similar size that share the project's vocabulary
REPOS = {
    "psf__requests-863": {
        "requests/models.py": "from .hooks import dispatch_hook\n\n\nclass Request:\n    def __init__(self, hooks=None):\n"
        "        self.hooks = {}\n        for (k, v) in list(hooks.items()):\n            self.register_hook(event=k, hook=v)\n\n"
        "    def register_hook(self, event, hook):\n        '''Properly register a hook.'''\n"
        "        self.hooks[event].append(hook)\n\n\n" + filler("model", 30),
        "requests/hooks.py": "HOOKS = ('args', 'pre_request', 'response')\n\n\ndef dispatch_hook(key, hooks, hook_data):\n"
        "    return hook_data\n\n\n" + filler("hook", 30),
        "requests/sessions.py": "from .models import Request\n\n\nclass Session:\n    def request(self, method, url, hooks=None):\n"
        "        return Request(hooks=hooks)\n\n\n" + filler("session", 30),
        **{f"requests/mod{i}.py": "from .models import Request\n\n\n" + filler(f"util{i}", 30) for i in range(8)},
    },
    "pallets__flask-4045": {
        "src/flask/blueprints.py": "from .scaffold import Scaffold\n\n\nclass Blueprint(Scaffold):\n"
        "    def __init__(self, name, import_name):\n        self.name = name\n\n"
        "    def add_url_rule(self, rule, endpoint=None, view_func=None):\n        if endpoint:\n"
        "            assert '.' not in endpoint, 'Blueprint endpoints should not contain dots'\n\n\n" + filler("bp", 30),
        "src/flask/scaffold.py": "class Scaffold:\n    def route(self, rule):\n        return rule\n\n\n" + filler("scaffold", 30),
        "src/flask/app.py": "from .scaffold import Scaffold\n\n\nclass Flask(Scaffold):\n    def register_blueprint(self, blueprint):\n"
        "        return blueprint\n\n\n" + filler("app", 30),
        **{f"src/flask/mod{i}.py": "from .app import Flask\n\n\n" + filler(f"part{i}", 30) for i in range(8)},
    },
}


def load_bench():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("recall_bench", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("instance", json.loads(FIXTURE.read_text(encoding="utf-8")), ids=lambda x: x["instance_id"])
def test_issue_text_finds_the_gold_file(make_repo: MakeRepo, tmp_path: Path, instance: dict) -> None:
    root = make_repo(REPOS[instance["instance_id"]])
    budget = 4_000  # the stand-in repository is about 20,000 tokens
    pack = build_pack(root, Settings(budget=budget, cache_dir=str(tmp_path / "c")), query=instance["problem_statement"])
    assert pack.total_tokens <= budget
    assert any(f.tier == "listed" for f in pack.files)
    bench = load_bench()
    ordered = sorted(pack.files, key=lambda f: (-f.rank, f.path))
    score = bench.score_instance(pack, root, instance["expected_spans"], {f.path: i for i, f in enumerate(ordered, 1)})
    assert score["file"], score["causes"]
    assert score["spans"] == score["n_spans"] == len(next(iter(instance["expected_spans"].values())))


def test_scoring_counts_a_missing_body(make_repo: MakeRepo, tmp_path: Path) -> None:
    root = make_repo(REPOS["psf__requests-863"])
    pack = build_pack(root, Settings(budget=2_500, cache_dir=str(tmp_path / "c")), query="unrelated words")
    bench = load_bench()
    score = bench.score_instance(pack, root, {"requests/models.py": ["Request.register_hook"]}, {})
    f = pack.file("requests/models.py")
    assert f is not None
    assert score["file"] == (f.tier == "full")
    if f.tier != "full":
        assert score["spans"] == 0 and score["causes"]
