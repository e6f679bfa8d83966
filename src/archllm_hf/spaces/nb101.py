"""The NAS-Bench-101 space: its cells (:mod:`.nb101_cell`) with the official hash as their id (:mod:`.nb101_hash`),
validation, the graph encoding, the text form, sampling and the enumeration of all 423,624 unique cells
(:mod:`.nb101_enumeration`).

A space object memoizes the ids it computed, keyed by the pruned labelled graph. Every public name of the three
modules it is built from is importable from here too.
"""

from __future__ import annotations

import json
import os
import random
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from ..errors import InvalidCellError
from .base import PAD, DecodedCell, GraphEncoding, SearchSpace, _remember
from .nb101_cell import (
    _LABELS,
    HASH_OPS,
    INPUT,
    KNOWN_OPS,
    MAX_EDGES,
    MAX_VERTICES,
    OUTPUT,
    NB101Cell,
    _pruned,
    _pruned_problem,
    path_vertices,
    prune,
)
from .nb101_enumeration import (
    NUM_UNIQUE_CELLS,
    NB101Enumeration,
    _full_dag_masks,
    _sample_rows,
    default_cache_dir,
    edge_matrix,
    enumerate_nb101,
    enumeration_cache_path,
)
from .nb101_hash import _hash_pruned, _hash_pruned_cells, hash_cell, nb101_hash, nb101_hashes

_KEY_CODES = {op: label + 2 for op, label in _LABELS.items()}
"""Op codes of :func:`_graph_key`."""
_ID_CACHE = 1 << 17
"""Most canonical ids (hashes of pruned cells) a space object memoizes."""
_VECTORIZE_FROM = 8
"""Number of graphs from which hashes are computed with numpy rather than one by one."""


def _graph_key(cell: NB101Cell, bits: Sequence[int]) -> bytes:
    """Bytes that identify a labelled graph of at most 8 vertices (``bits``: its row bitmasks)."""
    return bytes(bits) + bytes(map(_KEY_CODES.__getitem__, cell.ops))


PADDINGS: tuple[str, ...] = ("before_output", "after_output")
"""Where the graph encoding puts the ``<pad>`` slots of a cell with fewer than 7 vertices (ours; arch2vec's)."""


class NB101Space(SearchSpace[NB101Cell]):
    """The NAS-Bench-101 space: at most 7 vertices and 9 edges after pruning, 3 interior ops.

    Graph encoding: the pruned cell in 7 slots; a cell with ``V < 7`` vertices gets ``7 - V`` isolated
    ``<pad>`` slots inserted before the output vertex, so the output is always slot 6 (``padding="before_output"``,
    the default). ``padding="after_output"`` is arch2vec's layout instead: the ``V`` vertices in slots ``0..V-1``
    (the output last among them) and the ``<pad>`` slots after it. Decoding reads both (``<pad>`` slots are
    dropped wherever they are).
    """

    name = "nb101"
    text_column = None
    num_nodes = MAX_VERTICES
    node_vocab = (PAD, INPUT, "conv1x1-bn-relu", "conv3x3-bn-relu", "maxpool3x3", OUTPUT)

    def __init__(
        self,
        cache_dir: str | os.PathLike[str] | None = None,
        workers: int | None = None,
        padding: str = "before_output",
    ) -> None:
        if padding not in PADDINGS:
            raise ValueError(f"unknown NB101 padding {padding!r}; choose one of {', '.join(PADDINGS)}")
        self.cache_dir = cache_dir
        self.workers = workers
        self.padding = padding
        self._op_ids = {op: i for i, op in enumerate(self.node_vocab)}

    @property
    def space_kwargs(self) -> dict[str, Any]:
        return {} if self.padding == PADDINGS[0] else {"padding": self.padding}

    # --- text form -------------------------------------------------------------------------------
    def parse(self, text: str) -> NB101Cell:
        """Parse ``{"matrix": [[...]], "ops": [...]}``."""
        try:
            obj = json.loads(text)
        except (json.JSONDecodeError, TypeError) as err:
            raise InvalidCellError(f"not valid JSON: {err}") from None
        if not isinstance(obj, dict):
            raise InvalidCellError(
                f"expected a JSON object with 'matrix' and 'ops', got {type(obj).__name__}"
            )
        missing = [key for key in ("matrix", "ops") if key not in obj]
        if missing:
            raise InvalidCellError(f"JSON object lacks key(s) {', '.join(map(repr, missing))}")
        extra = sorted(set(obj) - {"matrix", "ops"})
        if extra:
            raise InvalidCellError(f"unexpected JSON key(s) {', '.join(map(repr, extra))}")
        if not isinstance(obj["ops"], list):
            raise InvalidCellError(f"'ops' must be a list of op names, got {type(obj['ops']).__name__}")
        return NB101Cell(obj["matrix"], obj["ops"])

    def format(self, cell: NB101Cell) -> str:
        """Compact one-line JSON, keys ``matrix`` then ``ops``."""
        return json.dumps(
            {"matrix": [list(row) for row in cell.matrix], "ops": list(cell.ops)}, separators=(",", ":")
        )

    # --- semantics -------------------------------------------------------------------------------
    def prune(self, cell: NB101Cell) -> NB101Cell | None:
        """See :func:`prune`."""
        return prune(cell)

    def path_vertices(self, matrix: Sequence[Sequence[int]] | np.ndarray) -> list[int]:
        """The vertices pruning keeps; empty if the input cannot reach the output (:func:`path_vertices`)."""
        return path_vertices(matrix)

    def _problem(self, cell: NB101Cell) -> str | None:
        """Pruned, the cell must have at most 7 vertices and 9 edges, ``input`` first, ``output`` last and
        one of the 3 ops on every vertex in between."""
        if not isinstance(cell, NB101Cell):
            return f"not an NB101Cell: {type(cell).__name__}"
        return _pruned_problem(prune(cell))

    def _valid_id(self, cell: NB101Cell) -> str:
        """Official NAS-Bench-101 hash of the pruned cell, memoized by the pruned labelled graph."""
        pruned, bits = _pruned(cell)
        memo = self._cache("ids")
        key = _graph_key(pruned, bits)
        known = memo.get(key)
        return known if known is not None else _remember(memo, key, _hash_pruned(pruned), _ID_CACHE)

    def _validate_all(self, cells: Sequence[NB101Cell]) -> list[DecodedCell[NB101Cell]]:
        """:meth:`validate` of each cell, pruning each once; hashes not memoized yet are computed together."""
        memo = self._cache("ids")
        pruned = [_pruned(cell) for cell in cells]
        problems = [_pruned_problem(p) for p, _ in pruned]
        keys = [None if problem else _graph_key(p, bits) for (p, bits), problem in zip(pruned, problems)]
        ids = {key: memo[key] for key in keys if key in memo}
        todo = {key: entry for key, entry in zip(keys, pruned) if key is not None and key not in ids}
        if len(todo) >= _VECTORIZE_FROM:
            cells_todo, bits_todo = zip(*todo.values())
            ids.update(zip(todo, _hash_pruned_cells(cells_todo, bits_todo)))
        else:
            ids.update((key, _hash_pruned(p)) for key, (p, _) in todo.items())
        for key in todo:
            _remember(memo, key, ids[key], _ID_CACHE)
        return [
            DecodedCell(cell, True, None, ids[key]) if problem is None else self.invalid(problem, cell)
            for cell, problem, key in zip(cells, problems, keys)
        ]

    # --- graph encoding --------------------------------------------------------------------------
    def adjacency_mask(self) -> np.ndarray:
        return np.triu(np.ones((self.num_nodes, self.num_nodes), dtype=bool), 1)

    def to_graph(self, cell: NB101Cell) -> GraphEncoding:
        """Encode the pruned cell (see the class docstring); raises if it does not prune to 2..7 vertices."""
        pruned = prune(cell)
        if pruned is None:
            raise InvalidCellError("cannot encode: the input cannot reach the output")
        n = pruned.num_vertices
        if n > self.num_nodes:
            raise InvalidCellError(f"cannot encode {n} vertices (after pruning) in {self.num_nodes} slots")
        slots = [*range(n - 1), self.num_nodes - 1] if self.padding == PADDINGS[0] else list(range(n))
        adjacency = np.zeros((self.num_nodes, self.num_nodes), dtype=np.int8)
        adjacency[np.ix_(slots, slots)] = pruned.matrix
        ops = np.zeros(self.num_nodes, dtype=np.int64)
        ops[slots] = [self._op_ids[op] for op in pruned.ops]
        return GraphEncoding(adjacency=adjacency, ops=ops, mask=ops != 0)

    def _cells_from_graphs(
        self, adjacency: np.ndarray, ops: np.ndarray
    ) -> list[NB101Cell | DecodedCell[NB101Cell]]:
        """Drop the ``<pad>`` slots (which must have no edges) and build the cells; they are not pruned."""
        out = self._pad_problems(adjacency, ops == 0)
        todo = [row for row, problem in enumerate(out) if problem is None]
        for row, cell in zip(todo, self._compact_cells(adjacency[todo], ops[todo])):
            out[row] = cell
        return out  # type: ignore[return-value]

    def _pad_problems(self, adjacency: np.ndarray, pads: np.ndarray) -> list[DecodedCell[NB101Cell] | None]:
        """Per graph: an invalid result if a ``<pad>`` slot has edges or under 2 slots are used, else None."""
        bad = pads & (adjacency.any(axis=1) | adjacency.any(axis=2))
        sizes = (~pads).sum(axis=1)
        out: list[DecodedCell[NB101Cell] | None] = [None] * len(pads)
        for row in np.flatnonzero(bad.any(axis=1) | (sizes < 2)).tolist():
            slots = np.flatnonzero(bad[row]).tolist()
            if slots:
                out[row] = self.invalid(f"<pad> slot(s) {slots} have edges; pad slots must be isolated")
            else:
                problem = f"a cell needs at least 2 vertices (input and output), got {sizes[row]}"
                out[row] = self.invalid(problem)
        return out

    def _compact_cells(self, adjacency: np.ndarray, ops: np.ndarray) -> list[NB101Cell]:
        """Cells of graphs with isolated ``<pad>`` slots: the used slots are moved to the front (in order),
        then the cells of each size are built together."""
        order = np.argsort(ops == 0, axis=1, kind="stable")
        adjacency = np.take_along_axis(adjacency, order[:, :, None], axis=1)
        adjacency = np.take_along_axis(adjacency, order[:, None, :], axis=2)
        ops = np.take_along_axis(ops, order, axis=1)
        sizes = (ops != 0).sum(axis=1)
        vocab = self.node_vocab.__getitem__
        cells: list[NB101Cell] = [None] * len(ops)  # type: ignore[list-item]
        for size in np.unique(sizes).tolist():
            rows = np.flatnonzero(sizes == size)
            matrices, labels = adjacency[rows, :size, :size].tolist(), ops[rows, :size].tolist()
            for row, matrix, label in zip(rows.tolist(), matrices, labels):
                cells[row] = NB101Cell._trusted(tuple(map(tuple, matrix)), tuple(map(vocab, label)))
        return cells

    # --- enumeration and sampling ----------------------------------------------------------------
    def enumeration(self, progress: bool = False) -> NB101Enumeration:
        """The cached compact enumeration (computed on first use, about a minute on 2 cores)."""
        return enumerate_nb101(workers=self.workers, progress=progress, cache_dir=self.cache_dir)

    def enumerate(self, progress: bool = False) -> Iterator[NB101Cell]:
        """All 423,624 unique cells in nasbench generation order (pruned; see :func:`enumerate_nb101`)."""
        return self.enumeration(progress=progress).cells()

    def to_native(self, cell: NB101Cell) -> dict[str, list]:
        """``{"matrix": [[...]], "ops": [...]}``, the nasbench ``ModelSpec`` arguments."""
        return {"matrix": [list(row) for row in cell.matrix], "ops": list(cell.ops)}

    def from_native(self, native: Any) -> NB101Cell:
        """Cell of ``{"matrix": [[...]], "ops": [...]}`` (:meth:`to_native`)."""
        if not isinstance(native, dict) or set(native) != {"matrix", "ops"}:
            raise InvalidCellError(f"NB101 native cell form is {{'matrix': ..., 'ops': ...}}, got {native!r}")
        return NB101Cell(native["matrix"], native["ops"])

    def from_record(self, record: dict[str, Any]) -> NB101Cell:
        """Cell of a dataset row: its ``adjacency`` and ``operations`` are the (pruned) nasbench spec."""
        return NB101Cell(record["adjacency"], record["operations"])

    def random_cell(self, rng: random.Random) -> NB101Cell:
        """A cell drawn uniformly from the labeled graphs nasbench's generator visits.

        That is: ``V`` with weight (number of full DAGs with ``V`` vertices and ≤ 9 edges) × 3^(V-2), then
        one such DAG and one interior labeling uniformly. The cell is valid and pruned by construction. It is
        *not* uniform over the 423,624 unique cells: a cell is drawn in proportion to its number of distinct
        labeled layouts (1,293,208 in all). Use :meth:`sample_uniform` for the uniform distribution.
        """
        sizes = range(2, MAX_VERTICES + 1)
        weights = [len(_full_dag_masks(n, MAX_EDGES)) * 3 ** (n - 2) for n in sizes]
        n = rng.choices(sizes, weights)[0]
        bits = rng.choice(_full_dag_masks(n, MAX_EDGES))
        matrix = edge_matrix(bits, n)
        interior = tuple(rng.choice(HASH_OPS) for _ in range(n - 2))
        return NB101Cell._trusted(matrix, (INPUT, *interior, OUTPUT))

    def sample_uniform(self, n: int, seed: int = 0, compute: bool = False) -> list[NB101Cell]:
        """``n`` distinct cells drawn uniformly from the 423,624 unique cells.

        Needs the cached enumeration; without it this raises :class:`FileNotFoundError` unless ``compute``
        (then the enumeration is built first, about a minute on 2 cores).
        """
        path = enumeration_cache_path(cache_dir=self.cache_dir)
        if not compute and not path.exists():
            raise FileNotFoundError(
                f"no cached NAS-Bench-101 enumeration at {path}; call enumerate() once or pass compute=True"
            )
        return _sample_rows(self.enumeration(), n, seed)

    @property
    def num_cells(self) -> int:
        """423,624: the unique cells of NAS-Bench-101 (see :func:`enumerate_nb101`)."""
        return NUM_UNIQUE_CELLS

    # --- local search ----------------------------------------------------------------------------
    def neighbours(self, cell: NB101Cell) -> list[NB101Cell]:
        """The valid cells one move from ``cell`` as given (unpruned vertices included), pruned.

        Moves: each interior vertex's op changed to each other op (vertices in order, ops in
        :data:`HASH_OPS` order), then each edge ``i -> j`` of the matrix flipped (row-major).
        """
        matrix, ops = self.check(cell).matrix, cell.ops
        n = len(ops)
        candidates = [
            NB101Cell._trusted(matrix, (*ops[:v], op, *ops[v + 1 :]))
            for v in range(1, n - 1)
            for op in HASH_OPS
            if op != ops[v]
        ]
        for i in range(n - 1):
            row = matrix[i]
            for j in range(i + 1, n):
                flipped = (*row[:j], 1 - row[j], *row[j + 1 :])
                candidates.append(NB101Cell._trusted((*matrix[:i], flipped, *matrix[i + 1 :]), ops))
        pruned = [p for p in map(prune, candidates) if p is not None]
        return self._distinct_valid(cell, pruned)


__all__ = [
    "NB101Space",
    # the cell (.nb101_cell)
    "NB101Cell",
    "INPUT",
    "OUTPUT",
    "HASH_OPS",
    "KNOWN_OPS",
    "MAX_VERTICES",
    "MAX_EDGES",
    "path_vertices",
    "prune",
    # its id (.nb101_hash)
    "hash_cell",
    "nb101_hash",
    "nb101_hashes",
    # the enumeration (.nb101_enumeration)
    "NB101Enumeration",
    "NUM_UNIQUE_CELLS",
    "default_cache_dir",
    "edge_matrix",
    "enumerate_nb101",
    "enumeration_cache_path",
]
