"""Serving profiles: every shipped profile validates, broken ones are refused with a message that
names the field, and each profile's command is exactly the one its recipe calls for."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from reviewer.errors import ConfigError, InputError
from reviewer.serve.command import Placement, build, local_url, placement_for, review_command
from reviewer.serve.profiles import get_profile, load_profiles, parse_profile

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
SHIPPED = ["tiny-cpu", "v4-flash-4xb200", "v4-flash-4xh200", "v4-flash-8xh100-sglang", "v4-pro-2x8xh200",
           "v4-pro-8xb200"]

# vLLM's DeepSeek-V4 recipe flags shared by every vLLM profile
V4_PARSERS = ["--tokenizer-mode", "deepseek_v4", "--tool-call-parser", "deepseek_v4", "--enable-auto-tool-choice",
              "--reasoning-parser", "deepseek_v4"]
BASE = ["--trust-remote-code", "--kv-cache-dtype", "fp8", "--block-size", "256", "--enable-expert-parallel"]
BLACKWELL = ["--compilation-config", '{"cudagraph_mode":"FULL_AND_PIECEWISE","custom_ops":["all"]}',
             "--attention-config", '{"use_fp4_indexer_cache":true}', "--moe-backend", "deep_gemm_mega_moe"]
MTP = ["--speculative-config", '{"method":"mtp","num_speculative_tokens":%d}']
WHERE = ["--host", "0.0.0.0", "--port", "8000"]


def mtp(n: int) -> list[str]:
    return [MTP[0], MTP[1] % n]


EXPECTED: dict[str, list[str]] = {
    "v4-flash-4xh200": ["vllm", "serve", "deepseek-ai/DeepSeek-V4-Flash", *BASE, "--data-parallel-size", "4",
                        "--max-model-len", "1048576", "--compilation-config",
                        '{"cudagraph_mode":"FULL_AND_PIECEWISE","custom_ops":["all"]}', *V4_PARSERS, *mtp(1), *WHERE],
    "v4-flash-4xb200": ["vllm", "serve", "deepseek-ai/DeepSeek-V4-Flash", *BASE, "--data-parallel-size", "4",
                        "--max-model-len", "1048576", *BLACKWELL, *V4_PARSERS, *mtp(2), *WHERE],
    "v4-pro-8xb200": ["vllm", "serve", "deepseek-ai/DeepSeek-V4-Pro", *BASE, "--data-parallel-size", "8",
                      "--max-model-len", "1048576", *BLACKWELL, *V4_PARSERS, *mtp(2), *WHERE],
    "v4-flash-8xh100-sglang": ["python3", "-m", "sglang.launch_server", "--model-path", "deepseek-ai/DeepSeek-V4-Flash",
                               "--trust-remote-code", "--tp", "8", "--moe-runner-backend", "marlin",
                               "--speculative-algorithm", "EAGLE", "--speculative-num-steps", "3",
                               "--speculative-eagle-topk", "1", "--speculative-num-draft-tokens", "4",
                               "--reasoning-parser", "deepseek-v4", "--tool-call-parser", "deepseekv4",
                               "--host", "0.0.0.0", "--port", "30000"],
    "tiny-cpu": ["python3", "-m", "llama_cpp.server", "--model", "/models/smollm2.gguf", "--n_ctx", "8192",
                 "--model_alias", "smollm2", "--host", "127.0.0.1", "--port", "8080"],
}
PRO_H200 = ["vllm", "serve", "deepseek-ai/DeepSeek-V4-Pro", *BASE, "--data-parallel-size", "16", "--max-model-len",
            "800000", "--gpu-memory-utilization", "0.95", "--max-num-seqs", "16", "--no-enable-flashinfer-autotune",
            "--compilation-config", '{"mode":0,"cudagraph_mode":"FULL_DECODE_ONLY"}', *V4_PARSERS, *mtp(1),
            "--data-parallel-size-local", "8", "--data-parallel-address", "10.0.0.1", "--data-parallel-rpc-port", "13345"]


def test_every_shipped_profile_validates() -> None:
    profiles = load_profiles()
    assert sorted(profiles) == SHIPPED
    for p in profiles.values():
        assert p.description and p.min_engine_version
        if p.engine == "vllm":
            for flag in ("--trust-remote-code", "--kv-cache-dtype", "--block-size", "--enable-expert-parallel",
                         "--data-parallel-size", "--tokenizer-mode", "--tool-call-parser", "--enable-auto-tool-choice",
                         "--reasoning-parser", "--max-model-len", "--speculative-config"):
                assert flag in p.argv_flags, (p.name, flag)


@pytest.mark.parametrize("name", [n for n in EXPECTED])
def test_single_node_argv_is_exactly_the_recipe(name: str) -> None:
    p = get_profile(name)
    placement = placement_for(p)
    plan = build(p, placement, weights_path="/models/smollm2.gguf", python="python3")
    assert plan.argv == EXPECTED[name]
    assert plan.serves_http


def test_multi_node_head_and_follower_argv() -> None:
    p = get_profile("v4-pro-2x8xh200")
    head = build(p, placement_for(p, node_rank=0, head="10.0.0.1"), python="python3")
    follower = build(p, placement_for(p, node_rank=1, head="10.0.0.1"), python="python3")
    assert head.argv == [*PRO_H200, *WHERE]
    assert head.serves_http
    assert follower.argv == [*PRO_H200, "--data-parallel-start-rank", "8", "--headless"]
    assert not follower.serves_http
    assert head.env == follower.env == {"VLLM_ENGINE_READY_TIMEOUT_S": "5400"}
    assert head.shell().startswith("VLLM_ENGINE_READY_TIMEOUT_S=5400 vllm serve deepseek-ai/DeepSeek-V4-Pro ")


@pytest.mark.parametrize(("kw", "message"), [
    ({}, "pass --head ADDR"),
    ({"node_rank": 2, "head": "h"}, "--node-rank must be 0..1"),
])
def test_multi_node_placement_errors(kw: dict[str, object], message: str) -> None:
    with pytest.raises(InputError, match=message):
        placement_for(get_profile("v4-pro-2x8xh200"), **kw)  # type: ignore[arg-type]


def test_single_node_profile_refuses_node_options() -> None:
    with pytest.raises(InputError, match="runs on one node"):
        placement_for(get_profile("v4-flash-4xh200"), node_rank=1, head="h")


def test_port_and_host_override_and_review_line() -> None:
    p = get_profile("tiny-cpu")
    placement = placement_for(p, port=9001)
    assert build(p, placement, weights_path="/m.gguf", python="py").argv[-4:] == ["--host", "127.0.0.1", "--port", "9001"]
    assert local_url(placement) == "http://127.0.0.1:9001/v1"
    assert local_url(Placement("0.0.0.0", 8000)) == "http://127.0.0.1:8000/v1"
    assert local_url(Placement("::1", 8000)) == "http://[::1]:8000/v1"
    assert review_command(p, "http://127.0.0.1:9001/v1") == (
        "reviewer review . --backend openai --base-url http://127.0.0.1:9001/v1 --model smollm2 --json-schema --budget 4000")
    assert review_command(get_profile("v4-pro-2x8xh200"), "http://h:8000/v1").endswith(
        "--backend vllm --base-url http://h:8000/v1 --model deepseek-ai/DeepSeek-V4-Pro --budget 750000")


def test_unknown_profile_names_the_choices() -> None:
    with pytest.raises(InputError) as exc:
        get_profile("v5-ultra")
    assert "tiny-cpu" in (exc.value.hint or "")


GOOD = """
name: ok
description: x
engine: vllm
min_engine_version: "0.25.0"
model: org/model
weights: {size_gb: 10}
hardware: {gpu: [H200], count: 4, memory_gb: 141}
flags: [--trust-remote-code, [--data-parallel-size, "4"]]
"""


def test_the_minimal_profile_is_valid() -> None:
    p = parse_profile(GOOD, "ok.yaml")
    assert p.argv_flags == ["--trust-remote-code", "--data-parallel-size", "4"]
    assert p.flag_value("--data-parallel-size") == "4"


@pytest.mark.parametrize(("change", "message"), [
    (("name: ok", "name: Bad_Name"), "name: .*lower-case"),
    (("engine: vllm", "engine: tgi"), "engine"),
    (('"0.25.0"', '"latest"'), "min_engine_version"),
    (("memory_gb: 141", "memory_gb: 0"), "memory_gb is required"),
    (("count: 4", "count: 0"), "count > 0"),
    (("flags: [--trust-remote-code,", "flags: [--port, --trust-remote-code,"), "set by `reviewer serve` itself"),
    (("flags: [--trust-remote-code,", "flags: [trust-remote-code,"), "starts with an option"),
    (("weights: {size_gb: 10}", "weights: {size_gb: 10}\ncolour: red"), "colour"),
    (("weights: {size_gb: 10}", "weights: {size_gb: 10}\nnodes: 2"), "multinode"),
    (("weights: {size_gb: 10}", "weights: {size_gb: 10, package: x}"), "package and weights.glob"),
    (("engine: vllm", "engine: llama-cpp"), "names the package"),
    (("hardware: {gpu: [H200], count: 4, memory_gb: 141}", "hardware: {}"), "need GPUs"),
    (("name: ok", "name: [ok"), "not valid YAML"),
])
def test_a_broken_profile_is_refused_with_the_field_named(change: tuple[str, str], message: str) -> None:
    text = GOOD.replace(*change)
    assert text != GOOD
    with pytest.raises(ConfigError, match=message):
        parse_profile(text, "broken.yaml")


def test_multinode_sizes_must_agree() -> None:
    text = GOOD.replace("weights: {size_gb: 10}", "weights: {size_gb: 10}\nnodes: 2\nmultinode: {data_parallel_size_local: 4}")
    with pytest.raises(ConfigError, match="nodes × data_parallel_size_local = 8"):
        parse_profile(text, "x.yaml")
    assert parse_profile(text.replace('"4"]]', '"8"]]'), "x.yaml").nodes == 2


def test_file_name_must_match_profile_name(tmp_path: Path) -> None:
    (tmp_path / "other.yaml").write_text(GOOD)
    with pytest.raises(ConfigError, match=r"must be named ok\.yaml"):
        load_profiles(tmp_path)


# ---------------------------------------------------------------- vLLM's own option list

VLLM_FLAGS = json.loads((FIXTURES / "vllm-0.25.0-serve-flags.json").read_text())


def _options(argv: list[str]) -> list[tuple[str, str | None]]:
    """(option, its value or None) from an argv after ``vllm serve MODEL``."""
    out: list[tuple[str, str | None]] = []
    for i, tok in enumerate(argv):
        if tok.startswith("--"):
            nxt = argv[i + 1] if i + 1 < len(argv) and not argv[i + 1].startswith("--") else None
            out.append((tok, nxt))
    return out


def vllm_argvs() -> list[tuple[str, list[str]]]:
    out = []
    for p in load_profiles().values():
        if p.engine != "vllm":
            continue
        for rank in range(p.nodes):
            head = "10.0.0.1" if p.nodes > 1 else None
            argv = build(p, Placement("0.0.0.0", p.port, rank, head), python="python3").argv
            assert argv[:3] == ["vllm", "serve", p.model]
            out.append((f"{p.name}@{rank}", argv[3:]))
    return out


def test_fixture_is_vllm_0_25_0() -> None:
    assert VLLM_FLAGS["engine"] == "vllm" and VLLM_FLAGS["version"] == "0.25.0"
    assert len(VLLM_FLAGS["options"]) > 200
    assert "deepseek_v4" in VLLM_FLAGS["registries"]["--reasoning-parser"]


@pytest.mark.parametrize(("label", "argv"), vllm_argvs())
def test_every_vllm_flag_exists_in_vllm_0_25_0(label: str, argv: list[str]) -> None:
    options = set(VLLM_FLAGS["options"])
    for flag, value in _options(argv):
        assert flag in options, f"{label}: {flag} is not an option of vllm serve 0.25.0"
        if flag in VLLM_FLAGS["choices"] and value is not None:
            assert value in VLLM_FLAGS["choices"][flag], f"{label}: {flag} {value}"
        if flag in VLLM_FLAGS["registries"]:
            assert value in VLLM_FLAGS["registries"][flag], f"{label}: {flag} {value} is not registered in vLLM"


def test_an_invented_flag_would_be_caught() -> None:
    options = set(VLLM_FLAGS["options"])
    assert "--enable-warp-drive" not in options
    assert "--data-parallel-start-rank" in options and "--headless" in options
