"""The machine check, fed by stand-ins on PATH: an `nvidia-smi` that prints recorded output, a
`vllm` console script whose interpreter sees a given vLLM version. Machines too small are refused
with the missing part named; machines that fit are accepted."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from reviewer.serve.machine import (
    NVIDIA_SMI_QUERY,
    check_engine,
    check_gpus,
    check_machine,
    check_port,
    check_weights,
    parse_nvidia_smi,
    profiles_that_fit,
    query_gpus,
    version_at_least,
)
from reviewer.serve.profiles import get_profile, load_profiles

# Recorded `nvidia-smi --query-gpu=name,memory.total --format=csv,noheader,nounits` output
H200x4 = "NVIDIA H200, 143771\n" * 4
H200x8 = "NVIDIA H200, 143771\n" * 8
B200x8 = "NVIDIA B200, 183359\n" * 8
H100x8 = "NVIDIA H100 80GB HBM3, 81559\n" * 8
H20x4 = "NVIDIA H20, 97871\n" * 4
MIXED = "NVIDIA H200, 143771\nNVIDIA H200, 143771\nNVIDIA A100-SXM4-40GB, 40960\nNVIDIA H200, 143771\n"
L40x4 = "NVIDIA L40S, 46068\n" * 4


def stand_in(bin_dir: Path, name: str, script: str) -> Path:
    bin_dir.mkdir(parents=True, exist_ok=True)
    path = bin_dir / name
    path.write_text(script)
    path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    return path


@pytest.fixture
def smi(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    """Install an nvidia-smi that prints ``output`` (and records its arguments)."""
    bin_dir = tmp_path / "bin"

    def install(output: str, exit_code: int = 0) -> Path:
        (tmp_path / "smi-out.txt").write_text(output)
        args = tmp_path / "smi-args.txt"
        stand_in(bin_dir, "nvidia-smi",
                 f"#!/bin/sh\necho \"$@\" > '{args}'\ncat '{tmp_path / 'smi-out.txt'}'\nexit {exit_code}\n")
        monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
        return args

    return install


def test_query_uses_the_csv_query_and_parses_it(smi) -> None:  # type: ignore[no-untyped-def]
    args = smi(H100x8)
    gpus, why = query_gpus()
    assert why is None
    assert args.read_text().split() == NVIDIA_SMI_QUERY
    assert len(gpus) == 8 and gpus[0].name == "NVIDIA H100 80GB HBM3" and gpus[0].memory_mib == 81559
    assert round(gpus[0].memory_gb) == 86


@pytest.mark.parametrize(("profile", "output", "ok", "said"), [
    ("v4-flash-4xh200", H200x4, True, "4×NVIDIA H200 (151 GB)"),
    ("v4-flash-4xh200", H200x8, True, "needs 4×H200"),
    ("v4-flash-4xh200", "NVIDIA H200, 143771\n" * 3, False, "3 fit"),
    ("v4-flash-4xh200", H20x4, False, "4 of another type"),  # H20 is not H200
    ("v4-flash-4xh200", MIXED, False, "1 of another type"),
    ("v4-flash-4xh200", L40x4, False, "0 fit"),
    ("v4-flash-4xb200", B200x8, True, "8×NVIDIA B200"),
    ("v4-pro-8xb200", "NVIDIA B200, 183359\n" * 7, False, "needs 8×B200 with ≥ 180 GB each"),
    ("v4-flash-8xh100-sglang", H100x8, True, "8×NVIDIA H100 80GB HBM3 (86 GB)"),
    ("v4-flash-8xh100-sglang", "NVIDIA H100 PCIe, 40000\n" * 8, False, "8 with less memory (42 GB)"),
    ("v4-pro-2x8xh200", H200x8, True, "on this node"),
    ("v4-pro-2x8xh200", H200x4, False, "on this node"),
])
def test_gpu_check_against_recorded_machines(smi, profile: str, output: str, ok: bool, said: str) -> None:  # type: ignore[no-untyped-def]
    smi(output)
    gpus, why = query_gpus()
    check = check_gpus(get_profile(profile), gpus, why)
    assert check.ok is ok, check.detail
    assert said in check.detail


def test_no_nvidia_smi_says_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    gpus, why = query_gpus()
    assert gpus == [] and why is not None and "nvidia-smi not found" in why
    check = check_gpus(get_profile("v4-pro-8xb200"), gpus, why)
    assert not check.ok and check.detail.startswith("needs 8×B200 with ≥ 180 GB each; nvidia-smi not found")


def test_a_failing_nvidia_smi_is_reported(smi) -> None:  # type: ignore[no-untyped-def]
    smi("NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver.\n", exit_code=9)
    gpus, why = query_gpus()
    assert gpus == [] and why == ("nvidia-smi failed: NVIDIA-SMI has failed because it couldn't communicate "
                                  "with the NVIDIA driver.")


def test_odd_lines_are_skipped() -> None:
    assert parse_nvidia_smi("garbage\n\nNVIDIA H200, 143771\nNVIDIA X, [N/A]\n") == parse_nvidia_smi(
        "NVIDIA H200, 143771\n")


def test_which_profiles_fit_a_machine(smi) -> None:  # type: ignore[no-untyped-def]
    smi(H200x8)
    gpus, _ = query_gpus()
    assert profiles_that_fit(load_profiles(), gpus) == ["v4-flash-4xh200", "v4-pro-2x8xh200"]
    smi(B200x8)
    gpus, _ = query_gpus()
    assert profiles_that_fit(load_profiles(), gpus) == ["v4-flash-4xb200", "v4-pro-8xb200"]


# ---------------------------------------------------------------- the engine


def fake_vllm(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, version: str) -> None:
    """A `vllm` console script on PATH whose interpreter sees vLLM ``version`` installed (only
    its metadata: the check reads the version and never imports or runs the engine)."""
    site = tmp_path / "site"
    dist = site / f"vllm-{version}.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: vllm\nVersion: {version}\n")
    stand_in(tmp_path / "bin", "vllm", f"#!{sys.executable}\nraise SystemExit('not for running')\n")
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("PYTHONPATH", str(site))


def test_engine_missing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty") + os.pathsep + os.path.dirname(sys.executable))
    check, _ = check_engine(get_profile("v4-flash-4xh200"))
    assert not check.ok
    assert check.detail == ("vLLM is not installed: pip install 'vllm>=0.25.0,<1' (Linux x86-64 with NVIDIA GPUs; "
                            "the [serve] extra of reviewer), or run serving/compose.yaml")
    assert "reviewer[" not in check.detail  # 'pip install reviewer' installs another project


def test_engine_too_old(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_vllm(tmp_path, monkeypatch, "0.24.1")
    check, python = check_engine(get_profile("v4-flash-4xh200"))
    assert not check.ok
    assert check.detail == "vLLM 0.24.1 is older than the 0.25.0 this profile needs: pip install -U 'vllm>=0.25.0'"
    assert python == sys.executable


def test_engine_recent_enough(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake_vllm(tmp_path, monkeypatch, "0.25.2rc1+cu130")
    check, _ = check_engine(get_profile("v4-flash-4xh200"))
    assert check.ok and check.detail.startswith("vLLM 0.25.2rc1+cu130 (")


@pytest.mark.parametrize(("found", "minimum", "ok"), [
    ("0.25.0", "0.25.0", True), ("0.25", "0.25.0", True), ("0.24.9", "0.25.0", False),
    ("1.0.0rc1", "0.25.0", True), ("v0.5.17", "0.5.15", True), ("0.5.9", "0.5.15", False),
])
def test_version_comparison(found: str, minimum: str, ok: bool) -> None:
    assert version_at_least(found, minimum) is ok


# ---------------------------------------------------------------- disk, weights, port


def cached(tmp_path: Path, *repos: str) -> dict[str, str]:
    """An HF cache that already holds ``repos`` (so the disk check passes on any disk)."""
    hub = tmp_path / "hub"
    for repo in repos:
        (hub / ("models--" + repo.replace("/", "--")) / "snapshots" / "abc").mkdir(parents=True, exist_ok=True)
    return {"HF_HUB_CACHE": str(hub)}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_weights_already_cached(tmp_path: Path) -> None:
    cache = tmp_path / "hub"
    (cache / "models--deepseek-ai--DeepSeek-V4-Flash" / "snapshots" / "abc").mkdir(parents=True)
    check, _ = check_weights(get_profile("v4-flash-4xh200"), {"HF_HUB_CACHE": str(cache)})
    assert check.ok and "already in" in check.detail


def test_not_enough_disk_for_the_weights(tmp_path: Path) -> None:
    huge = get_profile("v4-pro-8xb200").model_copy(deep=True)
    huge.weights.size_gb = 10**9  # an exabyte: no disk here has it
    check, _ = check_weights(huge, {"HF_HOME": str(tmp_path / "hf")})
    assert not check.ok
    assert check.detail.startswith(f"deepseek-ai/DeepSeek-V4-Pro needs 1000000000 GB in {tmp_path / 'hf' / 'hub'}; only ")
    assert "set HF_HUB_CACHE to a bigger disk" in check.detail


def test_port_in_use_and_free() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        taken = check_port("127.0.0.1", port)
    assert not taken.ok and taken.detail == f"port {port} on 127.0.0.1 is in use: stop what holds it or pass --port"
    assert check_port("127.0.0.1", port).ok


def test_whole_machine_report_names_every_missing_part(smi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    smi(H100x8)
    fake_vllm(tmp_path, monkeypatch, "0.23.0")
    report = check_machine(get_profile("v4-flash-4xh200"), "127.0.0.1", free_port(),
                           environ=cached(tmp_path, "deepseek-ai/DeepSeek-V4-Flash"))
    assert [c.name for c in report.problems] == ["GPUs", "engine"]
    assert len(report.gpus) == 8


def test_follower_needs_no_port(smi, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    smi(H200x8)
    fake_vllm(tmp_path, monkeypatch, "0.25.0")
    report = check_machine(get_profile("v4-pro-2x8xh200"), "0.0.0.0", 8000, serves_http=False,
                           environ=cached(tmp_path, "deepseek-ai/DeepSeek-V4-Pro"))
    assert [c.name for c in report.checks] == ["GPUs", "engine", "disk"]


# ---------------------------------------------------------------- through the command


def run_serve(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "reviewer", "serve", *args], capture_output=True, text=True,
                          env={**env, "NO_COLOR": "1", "COLUMNS": "200"}, timeout=120)


def test_cli_refuses_a_machine_too_small_and_suggests_what_fits(smi, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    smi(H100x8)
    fake_vllm(tmp_path, monkeypatch, "0.25.0")
    env = {**os.environ, **cached(tmp_path, "deepseek-ai/DeepSeek-V4-Flash")}
    proc = run_serve("--profile", "v4-flash-4xh200", "--host", "127.0.0.1", "--port", str(free_port()), env=env)
    assert proc.returncode == 2, proc.stderr
    assert "MISSING GPUs    needs 4×H200 with ≥ 141 GB each; found 8×NVIDIA H100 80GB HBM3 (86 GB): 0 fit" in proc.stderr
    assert "profiles this machine's GPUs fit: v4-flash-8xh100-sglang" in proc.stderr
    assert "this machine cannot run profile v4-flash-4xh200" in proc.stderr
    assert "Traceback" not in proc.stderr

    dry = run_serve("--profile", "v4-flash-4xh200", "--dry-run", env=env)
    assert dry.returncode == 2, dry.stderr  # something is missing: the dry run says so in its exit code
    assert "this machine cannot run v4-flash-4xh200 as it is: 1 check(s) above are MISSING" in dry.stderr
    assert dry.stdout.startswith("VLLM_ENGINE_READY_TIMEOUT_S=3600 vllm serve deepseek-ai/DeepSeek-V4-Flash ")
    assert "then: reviewer review . --backend vllm --base-url http://127.0.0.1:8000/v1" in dry.stderr
    assert "MISSING GPUs" in dry.stderr  # the check is shown, the command printed all the same


def test_cli_dry_run_of_the_two_node_profile_prints_both_nodes(smi, tmp_path: Path,  # type: ignore[no-untyped-def]
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    smi(H200x8)
    fake_vllm(tmp_path, monkeypatch, "0.25.0")
    proc = run_serve("--profile", "v4-pro-2x8xh200", "--dry-run", env={**os.environ, "HF_HOME": str(tmp_path)})
    assert proc.returncode == 2, proc.stderr  # no room for the weights in the test's cache: MISSING disk
    assert "MISSING disk" in proc.stderr
    ready = run_serve("--profile", "v4-pro-2x8xh200", "--dry-run",
                      env={**os.environ, **cached(tmp_path, "deepseek-ai/DeepSeek-V4-Pro")})
    assert ready.returncode == 0, ready.stderr  # every check passes: exit 0
    assert ready.stdout == proc.stdout
    lines = proc.stdout.splitlines()
    assert lines[0] == "# node 0 of 2 (head); replace HEAD_ADDR with the head node's address"
    assert lines[1].endswith("--data-parallel-address HEAD_ADDR --data-parallel-rpc-port 13345 --host 0.0.0.0 --port 8000")
    assert lines[2] == "# node 1 of 2; replace HEAD_ADDR with the head node's address"
    assert lines[3].endswith("--data-parallel-start-rank 8 --headless")


def test_cli_list_shows_every_profile_with_its_hardware() -> None:
    proc = run_serve("--list", env=dict(os.environ))
    assert proc.returncode == 0
    for name in ("tiny-cpu", "v4-flash-4xh200", "v4-pro-2x8xh200", "2 nodes × 8×H200 (141 GB each)", "CPU only"):
        assert name in proc.stdout
