"""What a user sees when something fails that no stage expected: one line on stderr, the
traceback only on request, and an exit code that says whose failure it was (never 1, which
means findings)."""

from __future__ import annotations

import subprocess
import sys

import click
import httpx
import openai
import pytest

from reviewer.cli.common import exit_code_for, run_cli


def group_raising(exc: BaseException) -> click.Group:
    @click.group()
    def g() -> None:
        pass

    @g.command()
    def boom() -> None:
        raise exc

    return g


@pytest.mark.parametrize(("exc", "code", "words"), [
    (RuntimeError("unexpected state"), 4, "internal error (a bug in reviewer): RuntimeError: unexpected state"),
    (KeyError("x"), 4, "internal error"),
    (openai.APIConnectionError(request=httpx.Request("POST", "http://h/v1")), 3, "the model server or the network failed"),
    (httpx.ConnectError("connection refused"), 3, "the model server or the network failed: ConnectError"),
    (ConnectionResetError(104, "reset"), 3, "the model server or the network failed"),
    (TimeoutError("timed out"), 3, "the model server or the network failed"),
    (PermissionError(13, "Permission denied"), 2, "a file or directory could not be used: PermissionError"),
])
def test_unexpected_errors_are_one_line_with_their_exit_code(exc: BaseException, code: int, words: str,
                                                             capsys: pytest.CaptureFixture[str],
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REVIEWER_DEBUG", raising=False)
    assert run_cli(group_raising(exc), ["boom"]) == code
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err
    assert "--debug" in err
    assert code != 1


def test_debug_shows_the_traceback(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REVIEWER_DEBUG", "1")
    assert run_cli(group_raising(RuntimeError("deep")), ["boom"]) == 4
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err and 'raise exc' in err


def test_the_debug_flag_of_the_real_cli() -> None:
    proc = subprocess.run([sys.executable, "-m", "reviewer", "--debug", "--help"], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0 and "--debug" in proc.stdout and "4 internal error" in proc.stdout


def test_exit_code_for_a_subclass_defined_outside() -> None:
    class Mine(openai.APITimeoutError):
        pass

    assert exit_code_for(Mine(request=httpx.Request("GET", "http://h"))) == 3
