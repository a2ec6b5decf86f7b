"""Fixtures of the hostile-repository tests: those of the pull-request tests they share."""

from tests.integration.pr.conftest import clean_env  # noqa: F401  (no CI, forge or reviewer variable leaks in)
