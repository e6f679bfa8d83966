"""The search space of this repo, darts (written by ``archllm release``): importing its module registers it
with ``base``, whose ``get_space`` and ``space_of`` the pipeline uses; the package's ``archllm_hf.spaces`` imports
all three spaces the same way."""

from .base import get_space, space_of
from .darts import DARTSSpace

__all__ = ["DARTSSpace", "get_space", "space_of"]
