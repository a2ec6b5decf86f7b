"""Check the serving profiles against an engine's own argument parser, or dump its options.

Run it with a Python that has the engine installed (no GPU needed) from the repository root:

    python serving/tools/engine_flags.py vllm --verify
    python serving/tools/engine_flags.py vllm --dump tests/fixtures/vllm-0.25.0-serve-flags.json
    python serving/tools/engine_flags.py sglang --verify
    python serving/tools/engine_flags.py sglang --dump tests/fixtures/sglang-0.5.17-server-flags.json

--verify parses the argv that `reviewer serve` generates for every profile of that engine (every
node rank of multi-node profiles) with the engine's parser, runs the engine's own post-parse
checks, and checks the parser names (tokenizer mode, reasoning and tool-call parsers) against the
engine's registries. --dump writes every option string the parser accepts, the fixed choices of
each option and the registry names, so the unit tests can check the profiles without the engine.

vLLM infers the device type while it builds its parser and fails on a machine without a GPU;
the tool sets the platform's device type to "cuda" first (only defaults depend on it).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from reviewer.serve.command import Placement, build  # noqa: E402
from reviewer.serve.profiles import load_profiles  # noqa: E402


def vllm_parser() -> tuple[argparse.ArgumentParser, Any, dict[str, list[str]], str]:
    """The `vllm` command's parser built as `vllm` builds it (serve subcommand only)."""
    import importlib.metadata

    from vllm.platforms import current_platform

    if not current_platform.device_type:
        current_platform.device_type = "cuda"
    from vllm.config.model import TokenizerMode
    from vllm.entrypoints.cli.serve import ServeSubcommand
    from vllm.reasoning import ReasoningParserManager
    from vllm.tool_parsers import ToolParserManager
    from vllm.utils.argparse_utils import FlexibleArgumentParser

    top = FlexibleArgumentParser(prog="vllm")
    subparsers = top.add_subparsers(required=False, dest="subparser")
    cmd = ServeSubcommand()
    serve = cmd.subparser_init(subparsers)
    registries = {
        "--tokenizer-mode": sorted(TokenizerMode.__args__),  # type: ignore[attr-defined]
        "--reasoning-parser": ReasoningParserManager.list_registered(),
        "--tool-call-parser": sorted(set(ToolParserManager.tool_parsers) | set(ToolParserManager.lazy_parsers)),
    }
    return top, (cmd, serve), registries, importlib.metadata.version("vllm")


def sglang_parser() -> tuple[argparse.ArgumentParser, Any, dict[str, list[str]], str]:
    import importlib.metadata

    from sglang.srt.server_args import ServerArgs

    parser = argparse.ArgumentParser(prog="sglang.launch_server")
    ServerArgs.add_cli_args(parser)
    return parser, None, {}, importlib.metadata.version("sglang")


def options_of(parser: argparse.ArgumentParser) -> tuple[list[str], dict[str, list[str]]]:
    opts: set[str] = set()
    choices: dict[str, list[str]] = {}
    for action in parser._actions:
        opts.update(s for s in action.option_strings if s.startswith("--"))
        if action.option_strings and action.choices is not None and not isinstance(action.choices, dict):
            for s in action.option_strings:
                if s.startswith("--"):
                    choices[s] = sorted(str(c) for c in action.choices)
    return sorted(opts), dict(sorted(choices.items()))


def profile_argvs(engine: str) -> list[tuple[str, list[str]]]:
    """(label, argv after the launcher) for every profile of ``engine`` at every node rank."""
    out = []
    for p in load_profiles().values():
        if p.engine != engine:
            continue
        for rank in range(p.nodes):
            head = "10.0.0.1" if p.nodes > 1 else None
            argv = build(p, Placement("0.0.0.0", p.port, rank, head), python="python3").argv
            skip = 2 if engine == "vllm" else 3  # "vllm serve" | "python3 -m sglang.launch_server"
            out.append((f"{p.name} (node {rank})" if p.nodes > 1 else p.name, argv[skip:]))
    return out


def verify(engine: str) -> int:
    failures = 0
    if engine == "vllm":
        top, (cmd, _serve), registries, version = vllm_parser()
        for label, args in profile_argvs("vllm"):
            try:
                ns = top.parse_args(["serve", *args])
                cmd.validate(ns)
                from vllm.engine.arg_utils import AsyncEngineArgs

                AsyncEngineArgs.from_cli_args(ns)
                for flag, names in registries.items():
                    value = getattr(ns, flag[2:].replace("-", "_"), None)
                    if value is not None and value not in names:
                        raise ValueError(f"{flag} {value!r} is not one of vLLM's: {names}")
            except (SystemExit, Exception) as exc:  # argparse exits on an unknown flag
                failures += 1
                print(f"FAIL {label}: {exc!r}")
            else:
                print(f"ok   {label}: {len(args)} arguments parsed by vLLM {version}")
    else:
        parser, _, _, version = sglang_parser()
        for label, args in profile_argvs("sglang"):
            try:
                from sglang.srt.server_args import ServerArgs

                ns = parser.parse_args(args)
                ServerArgs.from_cli_args(ns)
            except (SystemExit, Exception) as exc:
                failures += 1
                print(f"FAIL {label}: {exc!r}")
            else:
                print(f"ok   {label}: {len(args)} arguments parsed by SGLang {version}")
    return 1 if failures else 0


def dump(engine: str, target: Path) -> int:
    if engine == "vllm":
        _top, (_cmd, serve), registries, version = vllm_parser()
        parser = serve
        how = ("options of `vllm serve`: the serve subcommand's parser built as the `vllm` command builds it "
               "(vllm.entrypoints.cli.serve.ServeSubcommand with vllm.entrypoints.openai.cli_args.make_arg_parser), "
               "on a CPU-only machine with the platform's device type set to cuda; registries from "
               "vllm.config.model.TokenizerMode, vllm.reasoning.ReasoningParserManager and "
               "vllm.tool_parsers.ToolParserManager. Produced by serving/tools/engine_flags.py vllm --dump.")
    else:
        parser, _, registries, version = sglang_parser()
        how = ("options of `python -m sglang.launch_server`: sglang.srt.server_args.ServerArgs.add_cli_args on an "
               "argparse parser. Produced by serving/tools/engine_flags.py sglang --dump.")
    options, choices = options_of(parser)
    data = {"engine": engine, "version": version, "produced_by": how, "options": options, "choices": choices,
            "registries": registries}
    target.write_text(json.dumps(data, indent=1, sort_keys=False) + "\n", encoding="utf-8")
    print(f"wrote {len(options)} options of {engine} {version} to {target}")
    return 0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("engine", choices=["vllm", "sglang"])
    group = ap.add_mutually_exclusive_group(required=True)
    group.add_argument("--verify", action="store_true")
    group.add_argument("--dump", type=Path, metavar="FILE")
    args = ap.parse_args()
    return verify(args.engine) if args.verify else dump(args.engine, args.dump)


if __name__ == "__main__":
    sys.exit(main())
