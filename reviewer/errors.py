"""Errors that reach the user as one clear line and a documented exit code.

Exit codes, everywhere: 0 ok, 1 findings at or above ``--fail-on``, 2 usage or input error,
3 backend error, 4 internal error (a bug in reviewer). Nothing but findings exits 1.
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2
EXIT_BACKEND = 3
EXIT_INTERNAL = 4


class ReviewerError(Exception):
    """An expected failure: shown as one line on stderr, never as a traceback."""

    exit_code = EXIT_USAGE

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


class InputError(ReviewerError):
    """The path, options or repository cannot be used as given."""

    exit_code = EXIT_USAGE


class ConfigError(ReviewerError):
    """A configuration file or setting is invalid."""

    exit_code = EXIT_USAGE


class BackendError(ReviewerError):
    """The model backend failed (HTTP error, deadline, unusable answer)."""

    exit_code = EXIT_BACKEND
