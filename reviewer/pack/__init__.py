"""The packer: fit a repository into an exact token budget.

``build_pack`` is imported lazily so the data types in ``reviewer.pack.model`` can be used by
the stages the packer itself imports without a cycle.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from reviewer.pack.model import Excluded, Pack, PackedFile, SecretHit

if TYPE_CHECKING:
    from reviewer.pack.packer import build_pack, default_budget

__all__ = ["Excluded", "Pack", "PackedFile", "SecretHit", "build_pack", "default_budget"]


def __getattr__(name: str) -> Any:
    if name in ("build_pack", "default_budget"):
        from reviewer.pack import packer

        return getattr(packer, name)
    raise AttributeError(name)
