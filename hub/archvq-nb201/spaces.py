"""The search space of this repo, nb201 (written by ``archllm release``): importing its module registers it
with ``base``, whose ``get_space`` and ``space_of`` the pipeline uses; the package's ``archllm_hf.spaces`` imports
all three spaces the same way."""

from .base import get_space, space_of
from .nb201 import NB201Space

__all__ = ["NB201Space", "get_space", "space_of"]
