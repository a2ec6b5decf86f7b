"""A repository whose own git configuration names programs: every one of them writes a marker file
when it runs. ``reviewer pack``, ``review --diff``, ``review --snapshot-every``, ``pr`` (with a
shallow checkout that must be deepened) and fim's index must never leave a marker, whatever git
does on the way (re-hashing a tracked file whose stat data changed runs the clean filter).

First the traps are shown to be armed: plain git, run the way the tool used to run it, sets them
off. Then the ownership check: a repository that belongs to another user is refused with one line
that says how to allow it."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from reviewer.cli import cli
from reviewer.cli.common import run_cli
from reviewer.config import load_settings
from reviewer.fim.engine import FimOptions
from reviewer.fim.providers import make_provider
from reviewer.fim.service import start
from reviewer.fim.watch import Watcher
from tests.conftest import git, write_files
from tests.integration.pr.conftest import clean_env, gh, model  # noqa: F401 - fixtures
from tests.integration.pr.world import REPO, PrWorld, answer
from tests.servers.github_fake import FakeGitHub
from tests.servers.openai_fake import FakeOpenAI, Reply

HOOKS = ("pre-commit", "post-checkout", "post-commit", "post-index-change", "reference-transaction",
         "pre-auto-gc", "post-merge", "post-rewrite", "fsmonitor-watchman", "post-update", "push-to-checkout")
APP = "def total(items):\n    return sum(items)\n"
NOTES = "the release notes\n"
DOC = "# docs\n"


def arm(repo: Path, marks: Path) -> None:
    """Every program a repository's configuration can name, each writing ``marks/<what>``."""
    marks.mkdir(exist_ok=True)

    def touch(what: str, then: str = "true") -> str:
        return f"touch '{marks}/{what}'; {then}"

    hooks = repo.parent / f"{repo.name}-hooks"
    for where in (hooks, repo / ".git" / "hooks"):
        where.mkdir(parents=True, exist_ok=True)
        for name in HOOKS:
            path = where / name
            path.write_text(f"#!/bin/sh\ntouch '{marks}/hook-{name}'\n")
            path.chmod(path.stat().st_mode | stat.S_IXUSR)
    askpass = repo.parent / f"{repo.name}-askpass"
    askpass.write_text(f"#!/bin/sh\ntouch '{marks}/askpass'\necho secret\n")
    askpass.chmod(0o755)
    included = repo.parent / f"{repo.name}-included.config"
    included.write_text(f'[filter "trap2"]\n\tclean = "{touch("filter-clean-included", "cat")}"\n'
                        f'\tsmudge = "{touch("filter-smudge-included", "cat")}"\n\trequired = true\n'
                        f'[diff "trap2"]\n\ttextconv = "{touch("textconv-included", "cat")}"\n')
    settings = {
        "filter.trap.clean": touch("filter-clean", "cat"),
        "filter.trap.smudge": touch("filter-smudge", "cat"),
        "filter.trap.required": "true",
        "filter.proc.process": touch("filter-process", "exit 1"),
        "filter.proc.required": "true",
        "diff.trap.textconv": touch("textconv", "cat"),
        "diff.trap.command": touch("diff-driver-command"),
        "diff.external": touch("diff-external"),
        "core.fsmonitor": touch("fsmonitor"),
        "core.hooksPath": str(hooks),
        "core.pager": touch("pager", "cat"),
        "pager.log": touch("pager-log", "cat"),
        "pager.diff": touch("pager-diff", "cat"),
        "core.sshCommand": touch("ssh-command", "false"),
        "core.askPass": str(askpass),
        "credential.helper": "!" + touch("credential-helper"),
        "core.alternateRefsCommand": touch("alternate-refs-command"),
        "remote.origin.uploadpack": touch("uploadpack", 'exec git-upload-pack "$@"'),
        "log.showSignature": "true",
        "gpg.program": touch("gpg", "false"),
        "core.editor": touch("editor"),
        "include.path": str(included),
    }
    for key, value in settings.items():
        git(repo, "config", key, value)
    (repo / ".gitattributes").write_text("*.py filter=trap diff=trap\n*.txt filter=trap2 diff=trap2\n"
                                         "*.md filter=proc\n")


def make_stat_dirty(repo: Path) -> None:
    """Tracked files whose content is unchanged but whose stat data is not: git re-hashes them
    (through the clean filter) to know whether they changed."""
    for rel in ("app.py", "notes.txt", "docs.md"):
        p = repo / rel
        if p.exists():
            st = p.stat()
            os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns + 7_000_000_000))


def markers(marks: Path) -> list[str]:
    return sorted(p.name for p in marks.iterdir())


def trapped_repo(tmp_path: Path, *, commits: int = 1) -> tuple[Path, Path]:
    """A repository on branch ``feature`` (``main`` one commit behind) with every trap armed, its
    tracked files stat-dirty, and one uncommitted change."""
    repo = tmp_path / "repo"
    repo.mkdir()
    write_files(repo, {"app.py": APP, "notes.txt": NOTES, "docs.md": DOC})
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "initial")
    git(repo, "checkout", "-q", "-b", "feature")
    for i in range(commits):
        write_files(repo, {"app.py": APP + f"\n\ndef f{i}():\n    return {i}\n", "notes.txt": NOTES + f"{i}\n"})
        git(repo, "commit", "-q", "-am", f"change {i}")
    marks = tmp_path / "marks"
    arm(repo, marks)
    write_files(repo, {"docs.md": DOC + "more\n"})  # uncommitted
    make_stat_dirty(repo)
    return repo, marks


def reviewer(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if k != "DEEPSEEK_API_KEY" and not k.startswith("REVIEWER_")}
    base.update({"NO_COLOR": "1", "COLUMNS": "150", "REVIEWER_CACHE_DIR": os.environ["REVIEWER_CACHE_DIR"]})
    base.update(env or {})
    return subprocess.run([sys.executable, "-m", "reviewer", *args], capture_output=True, text=True, env=base,
                          cwd=cwd, timeout=300)


def model_args(server: FakeOpenAI) -> list[str]:
    return ["--backend", "openai", "--base-url", server.base_url, "--model", "fake-model", "--analyzers", "none"]


# -- the traps are armed --------------------------------------------------------------------


def test_the_traps_are_armed(tmp_path: Path) -> None:
    """Plain git, with the repository's configuration as it is, runs them: so a test below that
    finds no marker shows the tool kept them from running, not that they could never run."""
    repo, marks = trapped_repo(tmp_path)
    env = {**os.environ, "HOME": str(tmp_path), "GIT_CONFIG_NOSYSTEM": "1"}

    def plain(*args: str) -> None:
        subprocess.run(["git", "-c", "safe.directory=*", "-C", str(repo), *args], capture_output=True, env=env,
                       check=False)

    plain("status", "--porcelain")
    plain("log", "-p", "-1")
    plain("diff", "main", "HEAD")
    plain("checkout", "-q", "main", "--", "notes.txt")
    plain("add", "docs.md")
    seen = set(markers(marks))
    assert {"filter-clean", "filter-smudge", "filter-process", "fsmonitor", "textconv", "filter-clean-included",
            "textconv-included", "diff-driver-command"} <= seen, seen
    assert any(name.startswith("hook-") for name in seen), seen


# -- the tool never sets them off ---------------------------------------------------------


def test_pack_runs_nothing(tmp_path: Path) -> None:
    repo, marks = trapped_repo(tmp_path)
    proc = reviewer("pack", str(repo), "-o", str(tmp_path / "pack.xml"))
    assert proc.returncode == 0, proc.stderr
    assert markers(marks) == []
    # the files came as they are on disk (no filter), the uncommitted change included
    assert "more" in (tmp_path / "pack.xml").read_text()


def test_review_diff_runs_nothing(tmp_path: Path) -> None:
    repo, marks = trapped_repo(tmp_path)
    with FakeOpenAI(default=Reply(content='{"findings": []}')) as server:
        proc = reviewer("review", str(repo), "--diff", "main", *model_args(server))
        assert proc.returncode == 0, proc.stderr
        sent = server.chat_requests()[0].body["messages"][-1]["content"]
    assert markers(marks) == []
    assert "+def f0():" in sent and "+more" in sent  # the committed and the uncommitted change


def test_review_snapshot_every_runs_nothing(tmp_path: Path) -> None:
    repo, marks = trapped_repo(tmp_path, commits=5)
    with FakeOpenAI(default=Reply(content='{"findings": []}')) as server:
        proc = reviewer("review", str(repo), "--snapshot-every", "2", *model_args(server))
        assert proc.returncode == 0, proc.stderr
        sent = server.chat_requests()[0].body["messages"][-1]["content"]
    assert markers(marks) == []
    assert "+def f4():" in sent  # a commit since the snapshot, as a diff


def test_fim_index_and_watcher_run_nothing(tmp_path: Path) -> None:
    repo, marks = trapped_repo(tmp_path)
    settings = load_settings(repo, {"cache_dir": str(tmp_path / "cache")})
    service = start(repo, settings, make_provider("infill", "http://127.0.0.1:9", model="m"), FimOptions())
    try:
        assert service.wait_ready(60) and "app.py" in service.index.files
        write_files(repo, {"new.py": "def g():\n    return 1\n"})
        Watcher(service.index, settings, relist_every=1).tick()
        assert "new.py" in service.index.files
    finally:
        service.engine.close()
    proc = reviewer("fim", str(repo / "app.py"), "--line", "2", "--col", "5", "--dry-run")
    assert proc.returncode == 0, proc.stderr
    assert markers(marks) == []


def test_pr_with_a_shallow_checkout_runs_nothing(tmp_path: Path, clean_env: pytest.MonkeyPatch,  # noqa: F811
                                                 gh: FakeGitHub, model: FakeOpenAI) -> None:  # noqa: F811
    w = PrWorld(tmp_path, {"app.py": APP, "notes.txt": NOTES, "docs.md": DOC},
                {"app.py": APP + "\n\ndef more():\n    return 2\n"})
    for i in range(3):
        w.commit_on_main({f"n{i}.txt": f"{i}\n"}, f"main {i}")
    git(w.dir, "rebase", "-q", "main")
    gh.add_pull(REPO, w.number, w.dir, base="main", head="feature")
    clone = tmp_path / "checkout"
    git(tmp_path, "clone", "-q", "--depth", "1", "--branch", "feature", f"file://{w.dir}", str(clone))
    marks = tmp_path / "marks"
    arm(clone, marks)
    # an alternate object store: fetch asks core.alternateRefsCommand for its refs
    alternate = tmp_path / "alternate.git"
    git(tmp_path, "clone", "-q", "--bare", f"file://{w.dir}", str(alternate))
    (clone / ".git" / "objects" / "info" / "alternates").write_text(f"{alternate / 'objects'}\n")
    make_stat_dirty(clone)
    model.script(Reply(content=answer()))
    env = w.actions_env(gh.url, w.pull_request_event("opened"), "pull_request")
    for k, v in env.items():
        clean_env.setenv(k, v)
    code = run_cli(cli, ["pr", str(clone), "--backend", "openai", "--base-url", model.base_url, "--model",
                         "fake-model", "--analyzers", "none", "--timeout", "60"])
    assert code == 0
    assert markers(marks) == []
    assert model.chat_requests(), "the review ran"
    assert git(clone, "cat-file", "-t", w.sha("main")).strip() == "commit", "the checkout was deepened"


def test_a_submodule_s_own_filters_do_not_run(tmp_path: Path) -> None:
    """git status recurses into submodules, whose configuration lives in .git/modules/NAME/config."""
    lib = tmp_path / "lib"
    lib.mkdir()
    write_files(lib, {"lib.py": APP})
    git(lib, "init", "-q", "-b", "main")
    git(lib, "add", "-A")
    git(lib, "commit", "-q", "-m", "lib")
    repo = tmp_path / "repo"
    repo.mkdir()
    write_files(repo, {"app.py": APP})
    git(repo, "init", "-q", "-b", "main")
    git(repo, "-c", "protocol.file.allow=always", "submodule", "add", "-q", str(lib), "sub")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "with a submodule")
    marks = tmp_path / "marks"
    marks.mkdir()
    module = repo / "sub"
    git(module, "config", "filter.subtrap.clean", f"touch '{marks}/submodule-filter'; cat")
    git(module, "config", "core.fsmonitor", f"touch '{marks}/submodule-fsmonitor'; true")
    (module / ".gitattributes").write_text("*.py filter=subtrap\n")
    st = (module / "lib.py").stat()
    os.utime(module / "lib.py", ns=(st.st_atime_ns, st.st_mtime_ns + 7_000_000_000))
    env = {**os.environ, "HOME": str(tmp_path), "GIT_CONFIG_NOSYSTEM": "1"}
    subprocess.run(["git", "-C", str(repo), "status"], capture_output=True, env=env, check=False)
    assert markers(marks), "armed: plain git status runs the submodule's programs"
    for p in marks.iterdir():
        p.unlink()
    os.utime(module / "lib.py", ns=(st.st_atime_ns, st.st_mtime_ns + 9_000_000_000))
    proc = reviewer("pack", str(repo), "-o", str(tmp_path / "pack.xml"))
    assert proc.returncode == 0, proc.stderr
    assert markers(marks) == []


# -- ownership ------------------------------------------------------------------------------


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0,
                    reason="giving a repository to another user needs root")
def test_a_repository_of_another_user_is_refused_until_allowed(tmp_path: Path) -> None:
    repo, marks = trapped_repo(tmp_path)
    marks.chmod(0o777)
    nobody = 65534
    for dirpath, dirnames, filenames in os.walk(repo):
        for name in [*dirnames, *filenames]:
            os.lchown(os.path.join(dirpath, name), nobody, nobody)
    os.lchown(repo, nobody, nobody)
    proc = reviewer("pack", str(repo), "-o", str(tmp_path / "pack.xml"))
    assert proc.returncode == 2, proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "belongs to another user" in errors[0] and "--safe-directory" in errors[0], proc.stderr
    assert "Traceback" not in proc.stderr
    assert markers(marks) == []
    # allowed by the user: read, and still nothing of the repository's runs
    for allow in (["--safe-directory", str(repo)], ["--safe-directory", str(tmp_path)]):
        proc = reviewer(*allow, "pack", str(repo), "-o", str(tmp_path / "pack.xml"))
        assert proc.returncode == 0, proc.stderr
    proc = reviewer("pack", str(repo), "-o", str(tmp_path / "pack.xml"),
                    env={"REVIEWER_SAFE_DIRECTORIES": str(repo)})
    assert proc.returncode == 0, proc.stderr
    config = tmp_path / "user-config.toml"
    config.write_text(f'safe_directories = ["{repo}"]\n')
    proc = reviewer("pack", str(repo), "-o", str(tmp_path / "pack.xml"), env={"REVIEWER_CONFIG": str(config)})
    assert proc.returncode == 0, proc.stderr
    assert markers(marks) == []
    shutil.rmtree(repo, ignore_errors=True)
