"""NAS-Bench-101 cells: the spec (a 0/1 matrix and one op per vertex), the ops and limits, and nasbench's pruning.

A cell is a DAG of 2..7 vertices given by an upper-triangular 0/1 matrix and one op per vertex: ``input``
first, ``output`` last, and ``conv3x3-bn-relu`` / ``conv1x1-bn-relu`` / ``maxpool3x3`` in between. As in the
nasbench API, a cell is first *pruned* (vertices off every input-to-output path are dropped) and then checked
against the limits of at most 7 vertices and 9 edges. The space (:mod:`.nb101`) gives cells their id
(:mod:`.nb101_hash`) and enumerates them (:mod:`.nb101_enumeration`).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import compress

import numpy as np

from .errors import InvalidCellError
from .base import as_int_matrix

INPUT = "input"
OUTPUT = "output"
HASH_OPS: tuple[str, ...] = ("conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3")
"""Interior ops in nasbench's ``available_ops`` order; an op's index is its hash label."""
KNOWN_OPS = frozenset((INPUT, OUTPUT, *HASH_OPS))
MAX_VERTICES = 7
MAX_EDGES = 9
_LABELS = {INPUT: -1, OUTPUT: -2, **{op: i for i, op in enumerate(HASH_OPS)}}
"""The hash label of each op (see :meth:`NB101Cell.labeling`)."""
_POWERS = tuple(1 << j for j in range(64))


@dataclass(frozen=True)
class NB101Cell:
    """A NAS-Bench-101 spec: a strictly upper-triangular 0/1 ``matrix`` and one op name per vertex.

    ``NB101Cell(matrix, ops)`` accepts nested sequences or numpy arrays and stores tuples. The matrix must
    hold integers or bools (floats are rejected, even ``1.0``). Any size of at least 2 vertices is well
    formed; :meth:`NB101Space.validate` applies the space's limits. Malformed input raises
    :class:`InvalidCellError`.
    """

    matrix: tuple[tuple[int, ...], ...]
    ops: tuple[str, ...]

    def __post_init__(self) -> None:
        arr = as_int_matrix(self.matrix, "matrix")
        n = arr.shape[0]
        if n < 2:
            raise InvalidCellError(f"a cell needs at least 2 vertices (input and output), got {n}")
        if np.tril(arr).any():
            raise InvalidCellError("matrix must be strictly upper triangular (edges only from i to j > i)")
        if isinstance(self.ops, str) or not isinstance(self.ops, (Sequence, np.ndarray)):
            raise InvalidCellError(f"ops must be a sequence of op names, got {type(self.ops).__name__}")
        ops = list(self.ops)
        if len(ops) != n:
            raise InvalidCellError(f"ops has {len(ops)} entries but the matrix has {n} vertices")
        for i, op in enumerate(ops):
            if not isinstance(op, str):
                raise InvalidCellError(f"ops[{i}] must be a string, got {type(op).__name__}")
            if op not in KNOWN_OPS:
                known = ", ".join(sorted(KNOWN_OPS))
                raise InvalidCellError(f"unknown op {op!r} at position {i}; known ops: {known}")
        object.__setattr__(self, "matrix", tuple(tuple(row) for row in arr.tolist()))
        object.__setattr__(self, "ops", tuple(str(op) for op in ops))

    @classmethod
    def _trusted(cls, matrix: tuple[tuple[int, ...], ...], ops: tuple[str, ...]) -> NB101Cell:
        """Build without checks, for tuples this module produced itself."""
        cell = object.__new__(cls)
        object.__setattr__(cell, "matrix", matrix)
        object.__setattr__(cell, "ops", ops)
        return cell

    @property
    def num_vertices(self) -> int:
        return len(self.ops)

    @property
    def num_edges(self) -> int:
        return sum(map(sum, self.matrix))

    def labeling(self) -> list[int]:
        """Hash labels of the ops (input -1, output -2, conv3x3 0, conv1x1 1, maxpool3x3 2)."""
        return [_LABELS[op] for op in self.ops]


_ROW_BITS: dict[tuple[int, ...], int] = {
    row: sum(1 << j for j, x in enumerate(row) if x)
    for n in range(2, MAX_VERTICES + 1)
    for row in itertools.product((0, 1), repeat=n)
}
"""Bitmasks of every 0/1 row tuple of up to 7 entries (the rows of cells decoded from graphs)."""


def _row_bits(row: Sequence[int]) -> int:
    """Bitmask of a 0/1 matrix row (bit ``j`` set when ``row[j]``)."""
    bits = _ROW_BITS.get(row) if type(row) is tuple else None
    if bits is None:
        powers = _POWERS if len(row) <= len(_POWERS) else [1 << j for j in range(len(row))]
        bits = sum(compress(powers, row))
    return bits


def _path_mask(successors: Sequence[int]) -> int:
    """Bitmask of the vertices on a path from vertex 0 to the last one, given each vertex's successor bitmask
    (edges ``i -> j`` with ``i < j`` only); 0 when the last vertex is unreachable."""
    forward = 1
    for v, succ in enumerate(successors):  # upper triangular: one pass in index order is a full search
        if forward >> v & 1:
            forward |= succ
    last = 1 << (len(successors) - 1)
    if not forward & last:
        return 0
    backward = last
    for v in range(len(successors) - 2, -1, -1):
        if successors[v] & backward:
            backward |= 1 << v
    return forward & backward


def path_vertices(matrix: Sequence[Sequence[int]] | np.ndarray) -> list[int]:
    """Vertices on some path from vertex 0 to the last vertex of a strictly upper-triangular 0/1 matrix, in
    order; empty when there is no such path. These are the vertices nasbench's pruning keeps."""
    rows = matrix.tolist() if isinstance(matrix, np.ndarray) else matrix
    if len(rows) == 0:
        return []
    keep = _path_mask([_row_bits(row) for row in rows])
    return [v for v in range(len(rows)) if keep >> v & 1]


def _pruned(cell: NB101Cell) -> tuple[NB101Cell | None, list[int]]:
    """:func:`prune` of ``cell`` and the row bitmasks of the pruned matrix."""
    bits = [_row_bits(row) for row in cell.matrix]
    keep = _path_mask(bits)
    n = cell.num_vertices
    if keep == (1 << n) - 1:
        return cell, bits
    if not keep:
        return None, []
    kept = [v for v in range(n) if keep >> v & 1]
    matrix = tuple(tuple(cell.matrix[i][j] for j in kept) for i in kept)
    return NB101Cell._trusted(matrix, tuple(cell.ops[i] for i in kept)), [_row_bits(row) for row in matrix]


def prune(cell: NB101Cell) -> NB101Cell | None:
    """Keep the vertices on some input-to-output path; None if the input cannot reach the output.

    This is nasbench's ``ModelSpec`` pruning: a vertex survives if it is reachable from vertex 0 and can reach
    vertex ``V-1``. Returns ``cell`` itself when nothing is removed.
    """
    return _pruned(cell)[0]


def _pruned_problem(pruned: NB101Cell | None) -> str | None:
    """Why a pruned cell (None: the input cannot reach the output) is not a valid cell, or None."""
    if pruned is None:
        return "the input cannot reach the output"
    if pruned.num_vertices > MAX_VERTICES:
        return f"{pruned.num_vertices} vertices after pruning, at most {MAX_VERTICES} allowed"
    if pruned.num_edges > MAX_EDGES:
        return f"{pruned.num_edges} edges after pruning, at most {MAX_EDGES} allowed"
    if pruned.ops[0] != INPUT:
        return f"the first vertex must be {INPUT!r}, got {pruned.ops[0]!r}"
    if pruned.ops[-1] != OUTPUT:
        return f"the last vertex must be {OUTPUT!r}, got {pruned.ops[-1]!r}"
    for i, op in enumerate(pruned.ops[1:-1], start=1):
        if op not in HASH_OPS:
            return (
                f"interior vertex {i} (after pruning) has op {op!r}; "
                f"interior ops must be one of {', '.join(HASH_OPS)}"
            )
    return None


__all__ = [
    "HASH_OPS",
    "INPUT",
    "KNOWN_OPS",
    "MAX_EDGES",
    "MAX_VERTICES",
    "OUTPUT",
    "NB101Cell",
    "path_vertices",
    "prune",
]
