"""arch2vec's own (lenient) validity rules and uniqueness key for decoded graphs, per search space.

arch2vec (Yan et al., 2020) reports the validity of the graphs its VGAE decodes with its own checks, which are
laxer than the spaces' strict decoding (:meth:`~archllm_hf.spaces.SearchSpace.decode_graph`). To compare with
its published numbers, :func:`arch2vec_valid` applies those checks to our graph encodings:

* ``nb101``: nasbench's ``is_valid(ModelSpec(adjacency, labels))``: every slot is a vertex (``<pad>`` slots
  too), the spec is pruned, then the limits are checked.
* ``nb201``: ``is_valid_nasbench201``: labels only.
* ``darts``: ``is_valid_darts``, applied to the normal and to the reduce block of our 22-node graph
  (:func:`arch2vec_valid_cells` gives the two separately).

Its uniqueness key is :func:`arch2vec_graph_hash`: the NAS-Bench-101 graph hash of the *unpruned* decoded graph.
:func:`archllm_hf.scoring.score_graphs` (``rule="arch2vec"``) counts with both.

Every function raises ``ValueError`` unless the arrays are ``[num_nodes, num_nodes]`` and ``[num_nodes]``
label ids, and ``TypeError`` for a space without such a rule.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..errors import InvalidCellError
from .base import PAD, SearchSpace
from .darts import BLOCK as DARTS_BLOCK
from .darts import OP_SETS
from .nb101 import NB101Cell, nb101_hash
from .nb201 import OPS as NB201_OPS

_DARTS_OPS = frozenset(OP_SETS["arch2vec"])
"""arch2vec's 8 DARTS ops (``none`` included), allowed on op-nodes whatever the space's op set."""
_DARTS_PAIRS = 4
"""Pairs of op-nodes per DARTS block (one per intermediate node)."""


def arch2vec_valid(space: SearchSpace, adjacency: Any, ops: Any) -> bool:
    """Whether one decoded graph of ``space`` is valid by arch2vec's rule for the space (module docstring)."""
    rule = _RULES.get(space.name)
    if rule is None:
        raise TypeError(f"no arch2vec validity rule for space {space.name!r}; known: {', '.join(_RULES)}")
    return rule(space, *_checked_arrays(space, adjacency, ops))


def arch2vec_valid_cells(space: SearchSpace, adjacency: Any, ops: Any) -> tuple[bool, bool]:
    """:func:`arch2vec_valid` of the normal block and of the reduce block of a DARTS graph separately.

    arch2vec models the normal cell only, so the first is the rate to compare with its published DARTS
    validity. Raises ``TypeError`` for a space other than DARTS (its graphs have no two cells).
    """
    if space.name != "darts":
        raise TypeError(f"arch2vec_valid_cells needs the DARTS space (two cells per graph), got {space!r}")
    return _darts_blocks_valid(space, *_checked_arrays(space, adjacency, ops))


def _checked_arrays(space: SearchSpace, adjacency: Any, ops: Any) -> tuple[np.ndarray, np.ndarray]:
    """``adjacency`` and ``ops`` as arrays of the space's shapes, ops in its vocabulary, or ``ValueError``."""
    adjacency, ops = np.asarray(adjacency), np.asarray(ops)
    n = space.num_nodes
    if adjacency.shape != (n, n) or ops.shape != (n,):
        raise ValueError(
            f"expected adjacency ({n}, {n}) and ops ({n},), got {adjacency.shape} and {ops.shape}"
        )
    if not np.isin(ops, np.arange(space.num_ops)).all():
        raise ValueError(f"op ids must be in [0, {space.num_ops}), got {ops.tolist()}")
    return adjacency, ops


def _nb101_valid(space: SearchSpace, adjacency: np.ndarray, ops: np.ndarray) -> bool:
    """nasbench's ``is_valid(ModelSpec(adjacency, labels))`` with every slot a vertex.

    A ``<pad>`` slot or a dangling vertex is harmless unless it lies on an input-to-output path. A matrix that
    is not strictly upper triangular (``ModelSpec`` rejects it; arch2vec's ``triu(1)`` decoding never produces
    one) is invalid.
    """
    if not np.isin(adjacency, (0, 1)).all():
        raise ValueError("adjacency entries must be 0 or 1")
    if np.tril(adjacency).any():
        return False
    kept = space.path_vertices(adjacency.astype(np.int64))  # type: ignore[attr-defined]
    labels = [space.node_vocab[i] for i in ops[kept].tolist()]
    if not kept or PAD in labels:  # no input-output path, or a <pad> slot (not an op) on one
        return False
    try:  # check, not validate: no canonical id (hash) needed
        space.check(NB101Cell(adjacency[np.ix_(kept, kept)].astype(np.int64), labels))
    except InvalidCellError:
        return False
    return True


def _nb201_valid(space: SearchSpace, adjacency: np.ndarray, ops: np.ndarray) -> bool:
    """``is_valid_nasbench201``: node 0 is ``input``, the last node ``output`` and nodes 2..6 carry one of the
    5 ops. Node 1 is **not** checked and the adjacency is ignored, so this is laxer than ``decode_graph``."""
    labels = [space.node_vocab[i] for i in ops.tolist()]
    return labels[0] == "input" and labels[-1] == "output" and all(op in NB201_OPS for op in labels[2:-1])


def _darts_valid(space: SearchSpace, adjacency: np.ndarray, ops: np.ndarray) -> bool:
    return all(_darts_blocks_valid(space, adjacency, ops))


def _darts_blocks_valid(space: SearchSpace, adjacency: np.ndarray, ops: np.ndarray) -> tuple[bool, bool]:
    """Both blocks of our 22-node graph; an 11-node graph (arch2vec's, ``cells="normal"``) is the normal cell,
    and the reduce cell equals it."""
    if space.num_nodes == DARTS_BLOCK:
        valid = _darts_block_valid(space, adjacency, ops, 0)
        return valid, valid
    return _darts_block_valid(space, adjacency, ops, 0), _darts_block_valid(
        space, adjacency, ops, DARTS_BLOCK
    )


def _darts_block_valid(space: SearchSpace, adjacency: np.ndarray, ops: np.ndarray, off: int) -> bool:
    """``is_valid_darts`` on the 11-node block at slot ``off``.

    Node 0 is ``c_k-2``, node 1 ``c_k-1``, node 10 ``output``, and op-nodes 2..9 carry one of arch2vec's 8
    ops (``none`` allowed). Each op-node of pair ``(2k+2, 2k+3)`` needs an edge from some node before the pair
    and, except in the last pair, none from nodes after it (pair 0: from {0, 1}, none from >= 4; pair 1: from
    < 4, none from >= 6; pair 2: from < 6, none from >= 8; pair 3: from < 8). Edges into the output, edges
    between the two op-nodes of a pair and edges between the normal and the reduce block are not checked
    (arch2vec's graph has only one block).
    """
    size = DARTS_BLOCK
    labels = [space.node_vocab[i] for i in ops[off : off + size].tolist()]
    block = adjacency[off : off + size, off : off + size] != 0
    if labels[0] != "c_k-2" or labels[1] != "c_k-1" or labels[-1] != "output":
        return False
    if any(op not in _DARTS_OPS for op in labels[2:-1]):
        return False
    for pair in range(_DARTS_PAIRS):
        first = 2 + 2 * pair  # the pair's op-nodes are first and first + 1
        for node in (first, first + 1):
            if not block[:first, node].any():
                return False
            if pair < _DARTS_PAIRS - 1 and block[first + 2 :, node].any():
                return False
    return True


_RULES: dict[str, Callable[[SearchSpace, np.ndarray, np.ndarray], bool]] = {
    "nb101": _nb101_valid,
    "nb201": _nb201_valid,
    "darts": _darts_valid,
}


def arch2vec_layout(space: SearchSpace) -> SearchSpace:
    """The space with arch2vec's graph layout: NB101 padded after the output vertex (``padding="after_output"``),
    DARTS as the normal cell's 11-node graph (``cells="normal"``; our 22-node two-cell graph is an extension);
    NB201's 8-node graph is arch2vec's already."""
    if space.name == "nb101" and getattr(space, "padding", None) != "after_output":
        return type(space)(cache_dir=space.cache_dir, workers=space.workers, padding="after_output")  # type: ignore[call-arg, attr-defined]
    if space.name == "darts" and getattr(space, "graph_cells", None) != "normal":
        return type(space)(ops=space.variant, cells="normal")  # type: ignore[call-arg, attr-defined]
    return space


def arch2vec_graph_hash(adjacency: Any, ops: Any) -> str:
    """arch2vec's uniqueness key: the NB101 graph hash of the *unpruned* decoded graph with its label ids (arch2vec
    hashes one-hot rows, which partitions graphs identically). Two graphs that prune to one cell but differ in
    dangling vertices get different keys, as in arch2vec."""
    return nb101_hash(np.asarray(adjacency), [int(op) for op in np.asarray(ops).tolist()])


__all__ = ["arch2vec_graph_hash", "arch2vec_layout", "arch2vec_valid", "arch2vec_valid_cells"]
