"""serving/compose.yaml and serving/k8s/: generated from the profiles, parse as YAML, and run
exactly the profile's flags on its GPU count and port, as read back from the committed files."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from reviewer.serve.deploy import generated_files
from reviewer.serve.profiles import Profile, load_profiles

SERVING = Path(__file__).resolve().parents[2] / "serving"
PROFILES = load_profiles()
GPU = [p for p in PROFILES.values() if not p.hardware.cpu_only]


def contains_in_order(haystack: list[str], needle: list[str]) -> bool:
    """``needle`` appears in ``haystack`` as one contiguous run."""
    n = len(needle)
    return any(haystack[i : i + n] == needle for i in range(len(haystack) - n + 1))


def test_committed_files_are_what_the_profiles_generate() -> None:
    for rel, text in generated_files().items():
        path = SERVING / rel
        assert path.is_file(), f"serving/{rel} is missing: run python -m reviewer.serve.deploy"
        assert path.read_text(encoding="utf-8") == text, f"serving/{rel} is stale: run python -m reviewer.serve.deploy"
    listed = {f"k8s/{p.name}" for p in (SERVING / "k8s").glob("*.yaml")}
    assert listed == {rel for rel in generated_files() if rel.startswith("k8s/")}


def compose() -> dict[str, Any]:
    return yaml.safe_load((SERVING / "compose.yaml").read_text())


@pytest.mark.parametrize("profile", [p for p in GPU if p.nodes == 1], ids=lambda p: p.name)
def test_compose_service_runs_the_profile(profile: Profile) -> None:
    svc = compose()["services"][profile.name]
    assert svc["profiles"] == [profile.name]
    assert svc["image"] == profile.deploy.image  # type: ignore[union-attr]
    argv = [*svc["entrypoint"], *svc["command"]]
    unescaped = [a.replace("$$", "$") for a in argv]
    assert contains_in_order(unescaped, profile.argv_flags)
    assert unescaped[unescaped.index("--port") + 1] == str(profile.port)
    assert svc["ports"] == [f"{profile.port}:{profile.port}"]
    (device,) = svc["deploy"]["resources"]["reservations"]["devices"]
    assert device["count"] == profile.hardware.count and device["capabilities"] == ["gpu"]
    assert f":{profile.port}/health" in " ".join(svc["healthcheck"]["test"])
    for key, value in profile.env.items():
        assert svc["environment"][key] == value


def test_compose_leaves_out_the_multi_node_and_cpu_profiles() -> None:
    services = set(compose()["services"])
    assert services == {p.name for p in GPU if p.nodes == 1}
    assert "hf-cache" in compose()["volumes"]


def k8s(profile: Profile) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all((SERVING / "k8s" / f"{profile.name}.yaml").read_text()) if d]


def engine_container(pod_spec: dict[str, Any]) -> dict[str, Any]:
    (c,) = pod_spec["containers"]
    return c


@pytest.mark.parametrize("profile", [p for p in GPU if p.nodes == 1], ids=lambda p: p.name)
def test_single_node_k8s_runs_the_profile(profile: Profile) -> None:
    kinds = [d["kind"] for d in k8s(profile)]
    assert kinds == ["PersistentVolumeClaim", "Deployment", "Service"]
    deployment = k8s(profile)[1]
    c = engine_container(deployment["spec"]["template"]["spec"])
    argv = [*c["command"], *c["args"]]
    assert contains_in_order(argv, profile.argv_flags)
    assert c["image"] == profile.deploy.image  # type: ignore[union-attr]
    assert c["resources"]["limits"]["nvidia.com/gpu"] == str(profile.hardware.count)
    assert c["ports"] == [{"name": "http", "containerPort": profile.port}]
    assert c["readinessProbe"]["httpGet"]["path"] == "/health"
    service = k8s(profile)[2]
    assert service["spec"]["ports"][0]["port"] == profile.port
    assert service["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]


@pytest.mark.parametrize("profile", [p for p in GPU if p.nodes > 1], ids=lambda p: p.name)
def test_multi_node_k8s_is_a_leader_worker_set(profile: Profile) -> None:
    lws, service = k8s(profile)
    assert lws["kind"] == "LeaderWorkerSet" and service["kind"] == "Service"
    tmpl = lws["spec"]["leaderWorkerTemplate"]
    assert tmpl["size"] == profile.nodes
    leader = engine_container(tmpl["leaderTemplate"]["spec"])
    leader_argv = [*leader["command"], *leader["args"]]
    assert contains_in_order(leader_argv, profile.argv_flags)
    assert leader_argv[leader_argv.index("--data-parallel-address") + 1] == "$(LWS_LEADER_ADDRESS)"
    assert "--headless" not in leader_argv
    worker = engine_container(tmpl["workerTemplate"]["spec"])
    assert worker["command"][:2] == ["/bin/sh", "-c"]
    script = worker["command"][2].replace("$$", "$")  # the kubelet's escape
    words = shlex.split(script)
    assert words[0] == "exec"
    assert contains_in_order(words, profile.argv_flags)
    assert words[-1] == "--headless"
    assert words[words.index("--data-parallel-start-rank") + 1] == \
        f"$((LWS_WORKER_INDEX * {profile.multinode.data_parallel_size_local}))"  # type: ignore[union-attr]
    assert "ports" not in worker
    for c in (leader, worker):
        assert c["resources"]["limits"]["nvidia.com/gpu"] == str(profile.hardware.count)
    assert service["spec"]["selector"]["role"] == "leader"
