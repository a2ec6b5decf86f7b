"""A profile plus where to run it (host, port, node rank, head address) becomes one argv.

Pure: no I/O except that a llama-cpp profile's weights path is passed in (see
``reviewer.serve.machine.package_weights``), so the generated argv can be compared exactly.
"""

from __future__ import annotations

import shlex
import sys
from dataclasses import dataclass, field

from reviewer.errors import InputError
from reviewer.serve.profiles import Profile


@dataclass(frozen=True)
class Placement:
    """Where this process runs: bind address and port, and for multi-node profiles this node's
    rank and the head's address (reachable from every node)."""

    host: str
    port: int
    node_rank: int = 0
    head: str | None = None


@dataclass(frozen=True)
class LaunchPlan:
    argv: list[str]
    env: dict[str, str] = field(default_factory=dict)
    serves_http: bool = True  # False on a headless follower

    def shell(self) -> str:
        """The command as one line to paste into a shell (environment first)."""
        env = " ".join(f"{k}={shlex.quote(v)}" for k, v in sorted(self.env.items()))
        cmd = shlex.join(self.argv)
        return f"{env} {cmd}" if env else cmd


def placement_for(profile: Profile, *, host: str | None = None, port: int | None = None,
                  node_rank: int | None = None, head: str | None = None) -> Placement:
    """Check the multi-node options against the profile and fill in the defaults."""
    rank = 0 if node_rank is None else node_rank
    if profile.nodes == 1:
        if node_rank not in (None, 0) or head is not None:
            raise InputError(f"profile {profile.name} runs on one node; --node-rank and --head are for multi-node profiles")
    else:
        if not 0 <= rank < profile.nodes:
            raise InputError(f"--node-rank must be 0..{profile.nodes - 1} for profile {profile.name}")
        if not head:
            raise InputError(
                f"profile {profile.name} spans {profile.nodes} nodes: pass --head ADDR (the head node's address, "
                "reachable from every node) on every node, and --node-rank R (0 on the head)")
    return Placement(host=host or profile.host, port=port or profile.port, node_rank=rank, head=head)


def build(profile: Profile, placement: Placement, *, weights_path: str | None = None,
          python: str | None = None) -> LaunchPlan:
    """The argv that starts ``profile`` at ``placement``. ``weights_path``: the GGUF file of a
    llama-cpp profile; ``python``: the interpreter for ``-m`` launchers (default: this one)."""
    py = python or sys.executable
    flags = profile.argv_flags
    where = ["--host", placement.host, "--port", str(placement.port)]
    env = dict(profile.env)
    if profile.engine == "vllm":
        argv = ["vllm", "serve", profile.model, *flags]
        if profile.served_model_name:
            argv += ["--served-model-name", profile.served_model_name]
        if profile.nodes > 1:
            assert profile.multinode is not None and placement.head is not None
            local = profile.multinode.data_parallel_size_local
            argv += ["--data-parallel-size-local", str(local), "--data-parallel-address", placement.head,
                     "--data-parallel-rpc-port", str(profile.multinode.rpc_port)]
            if placement.node_rank > 0:
                argv += ["--data-parallel-start-rank", str(placement.node_rank * local), "--headless"]
                return LaunchPlan(argv, env, serves_http=False)
        return LaunchPlan(argv + where, env)
    if profile.engine == "sglang":
        argv = [py, "-m", "sglang.launch_server", "--model-path", profile.model, *flags]
        if profile.served_model_name:
            argv += ["--served-model-name", profile.served_model_name]
        return LaunchPlan(argv + where, env)
    if weights_path is None:
        raise InputError(f"profile {profile.name}: the model file from package {profile.weights.package} was not found")
    argv = [py, "-m", "llama_cpp.server", "--model", weights_path, *flags]
    if profile.served_model_name:
        argv += ["--model_alias", profile.served_model_name]
    return LaunchPlan(argv + where, env)


def local_url(placement: Placement) -> str:
    """The base URL a client on this machine uses (a wildcard bind is reached on loopback)."""
    host = placement.host
    if host in ("0.0.0.0", "", "::"):
        host = "127.0.0.1"
    if ":" in host:
        host = f"[{host}]"
    return f"http://{host}:{placement.port}/v1"


def review_command(profile: Profile, base_url: str) -> str:
    """The exact ``reviewer review`` line for a server of this profile at ``base_url``."""
    argv = ["reviewer", "review", ".", "--backend", profile.review.backend, "--base-url", base_url,
            "--model", profile.model_name, *profile.review.args]
    return shlex.join(argv)
