"""Search spaces: NAS-Bench-101, NAS-Bench-201 and DARTS behind one interface (see :mod:`.base`)."""

from __future__ import annotations

from typing import Any

from .base import PAD, DecodedCell, GraphEncoding, SearchSpace
from .darts import DARTSCell, DARTSSpace
from .nb101 import NB101Cell, NB101Space
from .nb201 import NB201Cell, NB201Space

SPACE_NAMES: tuple[str, ...] = ("nb101", "nb201", "darts")


def get_space(name: str, **kwargs) -> SearchSpace:
    """The search space called ``name`` (``nb101``, ``nb201`` or ``darts``); kwargs go to its constructor."""
    spaces = {"nb101": NB101Space, "nb201": NB201Space, "darts": DARTSSpace}
    try:
        cls = spaces[name]
    except KeyError:
        raise ValueError(f"unknown search space {name!r}; choose one of {', '.join(SPACE_NAMES)}") from None
    return cls(**kwargs)


def space_of(config: Any) -> SearchSpace:
    """The search space a model config (or a prior's description) names in its ``space`` and ``space_kwargs``."""
    return get_space(config.space, **dict(getattr(config, "space_kwargs", None) or {}))


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
    "space_of",
]
