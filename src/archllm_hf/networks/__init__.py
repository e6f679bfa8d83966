"""Cells as trainable networks: the network each benchmark trained, built from a cell of its space.

``space.to_module(cell, num_classes=10, **config)`` builds it (importing this package registers the builders with
the spaces): NAS-Bench-101's network (:mod:`.nb101`), NAS-Bench-201's (:mod:`.nb201`) and DARTS' evaluation network
(:mod:`.darts`). :mod:`.proxies` measures a built network without data: parameters, FLOPs, synflow.
"""

from __future__ import annotations

from ..spaces.base import NETWORK_BUILDERS
from .darts import DARTS_EVAL, NB301_TRAIN, build_darts_network
from .nb101 import build_nb101_network
from .nb201 import build_nb201_network

NETWORK_BUILDERS["nb101"] = build_nb101_network
NETWORK_BUILDERS["nb201"] = build_nb201_network
NETWORK_BUILDERS["darts"] = build_darts_network

__all__ = ["DARTS_EVAL", "NB301_TRAIN", "build_darts_network", "build_nb101_network", "build_nb201_network"]
