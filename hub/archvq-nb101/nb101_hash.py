"""The official NAS-Bench-101 graph hash, the id of a cell.

The canonical id of a cell is the hash of the pruned cell, byte-identical with
``nasbench.lib.graph_util.hash_module`` with labels ``conv3x3=0, conv1x1=1, maxpool3x3=2, input=-1,
output=-2``. It is computed here by our own list-based implementation of that algorithm, or, for many graphs
at once, by :func:`nb101_hashes`, which lays out all messages with numpy.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from .errors import InvalidCellError
from .base import as_int_matrix
from .nb101_cell import _LABELS, NB101Cell, prune

try:  # CPython's built-in MD5 is faster than OpenSSL's for short inputs; the digests are identical.
    from _md5 import md5 as _md5
except ImportError:  # pragma: no cover
    from hashlib import md5 as _md5


@lru_cache(maxsize=None)
def _initial_hash(out_degree: int, in_degree: int, label: int) -> str:
    return _md5(str((out_degree, in_degree, label)).encode()).hexdigest()


def _hash_adjacency(
    preds: Sequence[Sequence[int]], succs: Sequence[Sequence[int]], labels: Sequence[int]
) -> str:
    """``hash_module`` on a graph given by in-neighbour and out-neighbour lists (see :func:`nb101_hash`)."""
    vertices = range(len(labels))
    hashes = [_initial_hash(len(succs[v]), len(preds[v]), labels[v]) for v in vertices]
    neighbours = list(zip(preds, succs, vertices))
    for _ in vertices:
        hashes = [
            _md5(
                f"{''.join(sorted([hashes[w] for w in p]))}|"
                f"{''.join(sorted([hashes[w] for w in s]))}|{hashes[v]}".encode()
            ).hexdigest()
            for p, s, v in neighbours
        ]
    return _md5(str(sorted(hashes)).encode()).hexdigest()


def nb101_hash(matrix: Sequence[Sequence[int]] | np.ndarray, labeling: Sequence[int]) -> str:
    """The NAS-Bench-101 graph hash of ``matrix`` (square, 0/1) with integer vertex ``labeling``.

    Byte-identical with ``graph_util.hash_module(np.array(matrix), labeling)`` for Python-int labels:
    each vertex starts as the MD5 of ``str((out_degree, in_degree, label))``; ``V`` times, every vertex
    becomes the MD5 of its sorted in-neighbour hashes, ``|``, its sorted out-neighbour hashes, ``|``, its own
    hash; the result is the MD5 of ``str(sorted(hashes))``. The matrix is hashed as given, not pruned. Labels
    are converted with ``operator.index`` (so ``True`` hashes like ``1``).
    """
    arr = as_int_matrix(matrix, "matrix")
    n = arr.shape[0]
    try:
        labels = [operator.index(label) for label in labeling]
    except TypeError:
        raise InvalidCellError(f"labeling must hold integers, got {list(labeling)!r}") from None
    if len(labels) != n:
        raise InvalidCellError(f"labeling has {len(labels)} entries but the matrix has {n} vertices")
    rows = arr.tolist()
    preds = [[u for u in range(n) if rows[u][v]] for v in range(n)]
    succs = [[w for w in range(n) if rows[v][w]] for v in range(n)]
    return _hash_adjacency(preds, succs, labels)


def hash_cell(cell: NB101Cell) -> str:
    """Official NAS-Bench-101 hash of ``cell`` after pruning (the dataset lookup key).

    Raises :class:`InvalidCellError` when the input cannot reach the output. Other limits are not checked;
    :meth:`NB101Space.canonical_id` checks validity first.
    """
    pruned = prune(cell)
    if pruned is None:
        raise InvalidCellError("cannot hash: the input cannot reach the output")
    return _hash_pruned(pruned)


def _hash_pruned(pruned: NB101Cell) -> str:
    """Hash of a cell as it is (callers prune first)."""
    m = pruned.matrix
    n = len(m)
    preds = [[u for u in range(v) if m[u][v]] for v in range(n)]
    succs = [[w for w in range(v + 1, n) if m[v][w]] for v in range(n)]
    return _hash_adjacency(preds, succs, pruned.labeling())


_HEX_PAIRS = np.frombuffer("".join(f"{byte:02x}" for byte in range(256)).encode(), dtype=np.uint16)
"""The two hex digits of each byte value, as one ``uint16`` in memory order."""


class _Edges:
    """The edges ``(g, v, u)`` of ``adjacency [G, V, V]`` (``u`` a neighbour of ``v`` in graph ``g``), with
    the neighbour row of ``v`` for each, to place ``u`` in ``v``'s neighbour list sorted by rank."""

    def __init__(self, adjacency: np.ndarray) -> None:
        self.graph, self.vertex, self.other = np.nonzero(adjacency)
        self.rows = adjacency[self.graph, self.vertex]  # [E, V]

    def places(self, rank: np.ndarray) -> np.ndarray:
        """``u``'s index among ``v``'s neighbours ordered by ``rank [G, V]`` (a permutation per graph)."""
        ranks = rank[self.graph]
        return (self.rows & (ranks < rank[self.graph, self.other][:, None])).sum(axis=1)


def nb101_hashes(matrices: np.ndarray, labelings: np.ndarray) -> list[str]:
    """:func:`nb101_hash` of each graph of a batch of same-size graphs, computed together with numpy.

    ``matrices`` is ``[G, V, V]`` 0/1, ``labelings`` ``[G, V]`` integers. Only the MD5 calls run one by one;
    laying out every message (sorted neighbour hashes, ``|``, ...) and hex-encoding the digests is vectorized.
    """
    matrices, labelings = np.asarray(matrices).astype(bool), np.asarray(labelings)
    if labelings.ndim != 2 or matrices.shape != (*labelings.shape, labelings.shape[1]):
        raise InvalidCellError(
            f"expected matrices [G, V, V] and labelings [G, V], "
            f"got shapes {matrices.shape} and {labelings.shape}"
        )
    if not (np.issubdtype(labelings.dtype, np.integer) or labelings.dtype == np.bool_):
        raise InvalidCellError(f"labelings must hold integers, got dtype {labelings.dtype}")
    graphs, n = labelings.shape
    if graphs == 0:
        return []
    preds_of = matrices.transpose(0, 2, 1)  # preds_of[g, v, u]: edge u -> v
    in_degree, out_degree = matrices.sum(axis=1), matrices.sum(axis=2)
    labels = labelings.astype(np.int64).ravel().tolist()
    initial = "".join(map(_initial_hash, out_degree.ravel().tolist(), in_degree.ravel().tolist(), labels))
    hashes = np.frombuffer(initial.encode(), dtype="S32").reshape(graphs, n)
    messages = _message_buffer(in_degree, out_degree)
    # the message of v is: its preds' hashes sorted, "|", its succs' hashes sorted, "|", its own hash; three
    # views of the buffer, shifted by 0, 1 and 2 bytes, hold these parts as whole 32-byte tokens
    slots = messages.shape[2] // 32 - 1
    parts = [messages[..., shift : shift + 32 * slots].view("S32") for shift in range(3)]
    own = (*np.indices((graphs, n)), in_degree + out_degree)
    starts = messages.shape[2] * np.arange(graphs * n)
    spans = list(zip(starts.tolist(), (starts + 32 * (in_degree + out_degree + 1).ravel() + 2).tolist()))
    blob = memoryview(messages.reshape(-1))
    preds, succs = _Edges(preds_of), _Edges(matrices)
    succ_offset = in_degree[succs.graph, succs.vertex]  # the succs' tokens follow the preds' ones
    for _ in range(n):
        rank = np.argsort(np.argsort(hashes, axis=1), axis=1)
        parts[0][preds.graph, preds.vertex, preds.places(rank)] = hashes[preds.graph, preds.other]
        succ_slots = succ_offset + succs.places(rank)
        parts[1][succs.graph, succs.vertex, succ_slots] = hashes[succs.graph, succs.other]
        parts[2][own] = hashes
        digests = b"".join([_md5(blob[start:end]).digest() for start, end in spans])
        hashes = _hex(np.frombuffer(digests, dtype=np.uint8)).view("S32").reshape(graphs, n)
    ordered = np.sort(hashes, axis=1).tolist()
    return [_md5(b"['" + b"', '".join(row) + b"']").hexdigest() for row in ordered]


def _message_buffer(in_degree: np.ndarray, out_degree: np.ndarray) -> np.ndarray:
    """``uint8 [G, V, width]`` zeros for the messages of :func:`nb101_hashes`, with the two ``|`` in place."""
    first_bar = 32 * in_degree
    second_bar = first_bar + 32 * out_degree + 1
    width = 32 * (int((in_degree + out_degree).max()) + 2)  # room for 3 views shifted by up to 2 bytes
    messages = np.zeros((*in_degree.shape, width), dtype=np.uint8)
    graph, vertex = np.indices(in_degree.shape)
    messages[graph, vertex, first_bar] = messages[graph, vertex, second_bar] = ord("|")
    return messages


def _hex(digests: np.ndarray) -> np.ndarray:
    """``uint8`` digest bytes as lowercase hex text (twice as many ``uint8``), like ``hexdigest``."""
    return _HEX_PAIRS[digests].view(np.uint8)


def _hash_pruned_cells(cells: Sequence[NB101Cell], bits: Sequence[Sequence[int]]) -> list[str]:
    """Hashes of pruned cells (as :func:`hash_cell`) given with their row bitmasks, computed with
    :func:`nb101_hashes` per cell size."""
    by_size: dict[int, list[int]] = {}
    for i, cell in enumerate(cells):
        by_size.setdefault(cell.num_vertices, []).append(i)
    out = [""] * len(cells)
    for n, rows in by_size.items():
        masks = np.array([bits[i] for i in rows], dtype=np.int64)
        matrices = (masks[:, :, None] >> np.arange(n)) & 1
        labelings = np.array([[_LABELS[op] for op in cells[i].ops] for i in rows], dtype=np.int64)
        for i, key in zip(rows, nb101_hashes(matrices, labelings)):
            out[i] = key
    return out


__all__ = ["hash_cell", "nb101_hash", "nb101_hashes"]
