"""The search space of this repo, nb101 (written by ``archllm release``): importing its module registers it
with ``base``, whose ``get_space`` and ``space_of`` the pipeline uses; the package's ``archllm_hf.spaces`` imports
all three spaces the same way."""

from .base import get_space, space_of
from .nb101 import NB101Space

__all__ = ["NB101Space", "get_space", "space_of"]
