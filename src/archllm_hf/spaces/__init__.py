"""Search spaces: NAS-Bench-101, NAS-Bench-201 and DARTS behind one interface (see :mod:`.base`)."""

from __future__ import annotations

from .base import PAD, DecodedCell, GraphEncoding, SearchSpace, get_space, resolve_space, space_of
from .darts import DARTSCell, DARTSSpace
from .nb101 import NB101Cell, NB101Space
from .nb201 import NB201Cell, NB201Space

SPACE_NAMES: tuple[str, ...] = ("nb101", "nb201", "darts")


__all__ = [
    "PAD",
    "SPACE_NAMES",
    "DARTSCell",
    "DARTSSpace",
    "DecodedCell",
    "GraphEncoding",
    "NB101Cell",
    "NB101Space",
    "NB201Cell",
    "NB201Space",
    "SearchSpace",
    "get_space",
    "resolve_space",
    "space_of",
]
