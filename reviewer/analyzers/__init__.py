"""Offline analyzers: maintained linters and scanners run next to (or instead of) the model.

``run_analyzers(root, paths, names)`` runs ruff, bandit, ast-grep and the secret scanner on the
given repository-relative paths, in parallel, and returns their results as ``Finding`` objects
(``source`` = the analyzer's name) plus one note per analyzer that could not run.
"""

from reviewer.analyzers.run import ANALYZERS, AnalyzerRun, resolve_names, run_analyzers

__all__ = ["ANALYZERS", "AnalyzerRun", "resolve_names", "run_analyzers"]
