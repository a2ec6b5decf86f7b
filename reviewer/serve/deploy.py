"""serving/compose.yaml and serving/k8s/*.yaml, generated from the profiles so they cannot drift.

    python -m reviewer.serve.deploy            # rewrite the files under serving/
    python -m reviewer.serve.deploy --check    # exit 1 when a committed file differs

Every GPU profile with a ``deploy.image`` gets a Kubernetes file: a Deployment and a Service for
one node, a LeaderWorkerSet and a Service for several. Single-node profiles also get a service in
compose.yaml, each behind a compose profile of the same name.
"""

from __future__ import annotations

import math
import shlex
import sys
from pathlib import Path
from typing import Any

import yaml

from reviewer.serve.command import Placement, build
from reviewer.serve.profiles import Profile, load_profiles

GENERATED = "# Generated from serving/profiles/{src} by `python -m reviewer.serve.deploy`; do not edit by hand.\n"
CACHE_MOUNT = "/root/.cache/huggingface"
CONTAINER_PYTHON = "python3"
LEADER_ADDRESS_K8S = "$(LWS_LEADER_ADDRESS)"  # expanded by the kubelet (LWS sets the variable)
LEADER_ADDRESS_SH = "${LWS_LEADER_ADDRESS}"  # expanded by the shell in the worker's script
HEALTH_PATH = "/health"


def deployable(profiles: dict[str, Profile]) -> list[Profile]:
    return [p for p in profiles.values() if p.deploy is not None and not p.hardware.cpu_only]


def container_argv(profile: Profile, node_rank: int = 0, head: str | None = None) -> list[str]:
    """The argv inside the engine's image: bind 0.0.0.0 on the profile's port."""
    placement = Placement(host="0.0.0.0", port=profile.port, node_rank=node_rank, head=head)
    return build(profile, placement, python=CONTAINER_PYTHON).argv


def split_launcher(profile: Profile, argv: list[str]) -> tuple[list[str], list[str]]:
    """(entrypoint, arguments): ``vllm serve`` or ``python3 -m sglang.launch_server``."""
    n = 2 if profile.engine == "vllm" else 3
    return argv[:n], argv[n:]


class _Dumper(yaml.SafeDumper):
    """Plain YAML: no anchors and aliases for repeated blocks."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _dump(docs: list[dict[str, Any]]) -> str:
    return "---\n".join(yaml.dump(d, Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=1000)
                         for d in docs)


def _compose_escape(value: str) -> str:
    return value.replace("$", "$$")  # compose interpolates ${...} in every value


# ---------------------------------------------------------------- compose

def compose_service(profile: Profile) -> dict[str, Any]:
    assert profile.deploy is not None
    entrypoint, args = split_launcher(profile, container_argv(profile))
    env = {"HF_TOKEN": "${HF_TOKEN:-}", **{k: _compose_escape(v) for k, v in sorted(profile.env.items())}}
    probe = f"import urllib.request; urllib.request.urlopen('http://127.0.0.1:{profile.port}{HEALTH_PATH}', timeout=5)"
    return {
        "profiles": [profile.name],
        "image": profile.deploy.image,
        "entrypoint": entrypoint,
        "command": [_compose_escape(a) for a in args],
        "environment": env,
        "ports": [f"{profile.port}:{profile.port}"],
        "ipc": "host",
        "volumes": [f"hf-cache:{CACHE_MOUNT}"],
        "deploy": {"resources": {"reservations": {"devices": [
            {"driver": "nvidia", "count": profile.hardware.count, "capabilities": ["gpu"]}]}}},
        "healthcheck": {
            "test": ["CMD", CONTAINER_PYTHON, "-c", probe],
            "interval": "30s",
            "timeout": "10s",
            "retries": 3,
            "start_period": f"{profile.startup_timeout_s}s",
        },
    }


def render_compose(profiles: dict[str, Profile]) -> str:
    single = [p for p in deployable(profiles) if p.nodes == 1]
    head = GENERATED.format(src="*.yaml") + (
        "# One service per single-node profile (multi-node profiles: serving/k8s/). Start one with\n"
        "#   HF_TOKEN=... docker compose -f serving/compose.yaml --profile v4-flash-4xh200 up\n"
        "# Needs the NVIDIA Container Toolkit. Weights are cached in the hf-cache volume.\n"
    )
    doc = {
        "name": "reviewer-serving",
        "services": {p.name: compose_service(p) for p in single},
        "volumes": {"hf-cache": {}},
    }
    return head + _dump([doc])


# ---------------------------------------------------------------- Kubernetes

def _labels(profile: Profile) -> dict[str, str]:
    return {"app.kubernetes.io/name": "reviewer-serve", "app.kubernetes.io/instance": profile.name}


def _env(profile: Profile) -> list[dict[str, Any]]:
    env: list[dict[str, Any]] = [{"name": "HF_TOKEN", "valueFrom": {"secretKeyRef": {
        "name": "hf-token", "key": "HF_TOKEN", "optional": True}}}]
    env += [{"name": k, "value": v} for k, v in sorted(profile.env.items())]
    return env


def _probes(profile: Profile) -> dict[str, Any]:
    get = {"path": HEALTH_PATH, "port": "http"}
    return {
        "startupProbe": {"httpGet": get, "periodSeconds": 30,
                         "failureThreshold": max(1, math.ceil(profile.startup_timeout_s / 30))},
        "readinessProbe": {"httpGet": get, "periodSeconds": 10},
        "livenessProbe": {"httpGet": get, "periodSeconds": 30, "failureThreshold": 5},
    }


def _container(profile: Profile, command: list[str], args: list[str], *, serves_http: bool) -> dict[str, Any]:
    assert profile.deploy is not None
    c: dict[str, Any] = {"name": "engine", "image": profile.deploy.image, "command": command}
    if args:
        c["args"] = args
    c["env"] = _env(profile)
    if serves_http:
        c["ports"] = [{"name": "http", "containerPort": profile.port}]
        c.update(_probes(profile))
    c["resources"] = {"limits": {"nvidia.com/gpu": str(profile.hardware.count)}}
    c["volumeMounts"] = [{"name": "hf-cache", "mountPath": CACHE_MOUNT}, {"name": "shm", "mountPath": "/dev/shm"}]
    return c


def _volumes(cache: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"name": "hf-cache", **cache}, {"name": "shm", "emptyDir": {"medium": "Memory", "sizeLimit": "64Gi"}}]


def _service(profile: Profile, name: str, selector: dict[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": name, "labels": _labels(profile)},
        "spec": {"selector": selector, "ports": [{"name": "http", "port": profile.port, "targetPort": "http"}]},
    }


def k8s_single_node(profile: Profile) -> list[dict[str, Any]]:
    name = f"reviewer-{profile.name}"
    command, args = split_launcher(profile, container_argv(profile))
    cache_gb = math.ceil(profile.weights.size_gb * 1.2)
    pvc = {
        "apiVersion": "v1", "kind": "PersistentVolumeClaim",
        "metadata": {"name": f"{name}-hf-cache", "labels": _labels(profile)},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": f"{cache_gb}Gi"}}},
    }
    deployment = {
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": name, "labels": _labels(profile)},
        "spec": {
            "replicas": 1,
            "strategy": {"type": "Recreate"},
            "selector": {"matchLabels": _labels(profile)},
            "template": {
                "metadata": {"labels": _labels(profile)},
                "spec": {
                    "containers": [_container(profile, command, args, serves_http=True)],
                    "volumes": _volumes({"persistentVolumeClaim": {"claimName": f"{name}-hf-cache"}}),
                },
            },
        },
    }
    return [pvc, deployment, _service(profile, name, _labels(profile))]


def worker_script(profile: Profile) -> str:
    """The follower's command for a LeaderWorkerSet worker: its data-parallel start rank is its
    worker index times the ranks per node, computed by the shell (``$$`` escapes the kubelet)."""
    assert profile.multinode is not None
    argv = container_argv(profile, node_rank=1, head=LEADER_ADDRESS_SH)
    i = argv.index("--data-parallel-start-rank")
    local = profile.multinode.data_parallel_size_local
    words = [shlex.quote(a) for a in argv]
    words[argv.index(LEADER_ADDRESS_SH)] = f'"{LEADER_ADDRESS_SH}"'
    words[i + 1] = f'"$$((LWS_WORKER_INDEX * {local}))"'
    return "exec " + " ".join(words)


def k8s_multi_node(profile: Profile) -> list[dict[str, Any]]:
    name = f"reviewer-{profile.name}"
    command, args = split_launcher(profile, container_argv(profile, node_rank=0, head=LEADER_ADDRESS_K8S))
    cache = {"hostPath": {"path": "/var/lib/reviewer/hf-cache", "type": "DirectoryOrCreate"}}
    leader = {"containers": [_container(profile, command, args, serves_http=True)], "volumes": _volumes(cache)}
    worker = {"containers": [_container(profile, ["/bin/sh", "-c", worker_script(profile)], [], serves_http=False)],
              "volumes": _volumes(cache)}
    lws = {
        "apiVersion": "leaderworkerset.x-k8s.io/v1", "kind": "LeaderWorkerSet",
        "metadata": {"name": name, "labels": _labels(profile)},
        "spec": {
            "replicas": 1,
            "leaderWorkerTemplate": {
                "size": profile.nodes,
                "restartPolicy": "RecreateGroupOnPodRestart",
                "leaderTemplate": {"metadata": {"labels": {**_labels(profile), "role": "leader"}}, "spec": leader},
                "workerTemplate": {"metadata": {"labels": {**_labels(profile), "role": "worker"}}, "spec": worker},
            },
        },
    }
    selector = {"leaderworkerset.sigs.k8s.io/name": name, "role": "leader"}
    return [lws, _service(profile, name, selector)]


def render_k8s(profile: Profile) -> str:
    if profile.nodes == 1:
        note = "# A PersistentVolumeClaim for the weights, a Deployment and a Service. kubectl apply -f this file.\n"
        docs = k8s_single_node(profile)
    else:
        note = ("# A LeaderWorkerSet (install LWS first: kubernetes-sigs/lws) and a Service for the leader, which\n"
                "# serves HTTP; workers run --headless. Weights are cached on each node's disk (hostPath).\n")
        docs = k8s_multi_node(profile)
    head = GENERATED.format(src=f"{profile.name}.yaml") + f"# {profile.description}\n" + note
    head += "# Optional: kubectl create secret generic hf-token --from-literal=HF_TOKEN=...\n"
    return head + _dump(docs)


def generated_files(profiles: dict[str, Profile] | None = None) -> dict[str, str]:
    """Path under serving/ -> content, for every generated file."""
    profiles = load_profiles() if profiles is None else profiles
    files = {"compose.yaml": render_compose(profiles)}
    for p in deployable(profiles):
        files[f"k8s/{p.name}.yaml"] = render_k8s(p)
    return files


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    serving = Path(__file__).resolve().parents[2] / "serving"
    files = generated_files()
    stale = [rel for rel, text in files.items()
             if not (serving / rel).is_file() or (serving / rel).read_text(encoding="utf-8") != text]
    extra = sorted(p.name for p in (serving / "k8s").glob("*.yaml") if f"k8s/{p.name}" not in files)
    if "--check" in args:
        for rel in stale:
            print(f"serving/{rel} differs from what the profiles generate")
        for name in extra:
            print(f"serving/k8s/{name} has no profile")
        return 1 if stale or extra else 0
    for rel in stale:
        (serving / rel).parent.mkdir(parents=True, exist_ok=True)
        (serving / rel).write_text(files[rel], encoding="utf-8")
        print(f"wrote serving/{rel}")
    for name in extra:
        (serving / "k8s" / name).unlink()
        print(f"removed serving/k8s/{name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
