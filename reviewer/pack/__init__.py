"""The packer: fit a repository into an exact token budget."""

from reviewer.pack.model import Excluded, Pack, PackedFile, SecretHit
from reviewer.pack.packer import build_pack, default_budget

__all__ = ["Excluded", "Pack", "PackedFile", "SecretHit", "build_pack", "default_budget"]
