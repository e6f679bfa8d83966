"""NAS-Bench-201 (NATS-Bench topology space): 4-node cells with one of 5 ops on each of their 6 edges.

Cell and text form
    A cell is the tuple of its 6 edge ops in arch-string order: edges 0→1, 0→2, 1→2, 0→3, 1→3, 2→3, written
    ``|op~0|+|op~0|op~1|+|op~0|op~1|op~2|`` (node ``i``'s incoming edges ``op~j`` from nodes ``j < i``).
    There are 5**6 = 15,625 cells and every one of them is in the benchmark.

Validity and connectivity
    :meth:`NB201Space.validate` accepts every well-formed cell, since all 15,625 are benchmark architectures.
    341 of them have no input→output path through non-``none`` edges; they are still valid (the benchmark
    trained them, to chance accuracy) and :meth:`NB201Space.is_connected` flags them, so callers that want
    only networks with signal can filter on it.

Ids
    ``canonical_id`` is the arch string (15,625 ids). ``isomorphism_id`` is NAS-Bench-201's "unique string"
    (``Structure.to_unique_str(consider_zero=True)`` semantics; 6,466 classes), see :func:`unique_string`.

Graph encoding (arch2vec's node-based form)
    8 nodes: node 0 is ``input``, nodes 1..6 are the 6 edge ops in arch-string order, node 7 is ``output``.
    The adjacency is the same **fixed** template for every cell: op-node ``k`` for edge ``s→d`` takes input
    from the op-nodes of the edges ending at ``s`` (or from node 0 when ``s`` is the cell input) and feeds
    those of the edges leaving ``d`` (or node 7 when ``d`` is the cell output), which gives
    0→{1,2,4}, 1→{3,5}, 2→6, 3→6, {4,5,6}→7. ``none`` edges stay as nodes, so only the node labels vary.
    ``from_graph`` accepts exactly that template with ``input``/``output`` at the ends and one of the 5
    ops on nodes 1..6; anything else raises :class:`InvalidCellError` saying what differs.

Enumeration order
    :meth:`NB201Space.enumerate` yields the cells in NB201 index order, i.e. the order of the benchmark's
    API and its tables: the product of the 5 ops over the 6 edges (op list ``none, skip_connect,
    nor_conv_1x1, nor_conv_3x3, avg_pool_3x3``; last edge varying fastest), shuffled once with Python's
    ``random`` seeded with 88, as the NAS-Bench-201 meta-file generator does.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import cache

import numpy as np

from ..errors import InvalidCellError
from .base import PAD, DecodedCell, GraphEncoding, SearchSpace

OPS: tuple[str, ...] = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
"""The 5 edge ops, in NAS-Bench-201's own order (which fixes the enumeration order)."""

EDGES: tuple[tuple[int, int], ...] = ((0, 1), (0, 2), (1, 2), (0, 3), (1, 3), (2, 3))
"""``(source, target)`` cell nodes of the 6 edges, in arch-string order."""

NODE_VOCAB: tuple[str, ...] = (PAD, "input", *OPS, "output")
"""Node labels of the 8-node graph encoding."""

NUM_CELL_NODES = 4
_OUTPUT_CELL_NODE = NUM_CELL_NODES - 1
_ENUMERATION_SEED = 88


@dataclass(frozen=True)
class NB201Cell:
    """The 6 edge ops of an NB201 cell in arch-string order (edges 0→1, 0→2, 1→2, 0→3, 1→3, 2→3)."""

    ops: tuple[str, ...]

    def __post_init__(self) -> None:
        ops = self.ops
        if isinstance(ops, (str, bytes)) or not isinstance(ops, Sequence):
            raise InvalidCellError(f"NB201 cell ops must be a sequence of {len(EDGES)} op names, got {ops!r}")
        if len(ops) != len(EDGES):
            raise InvalidCellError(f"NB201 cell needs exactly {len(EDGES)} edge ops, got {len(ops)}: {ops!r}")
        for (src, dst), op in zip(EDGES, ops):
            if not isinstance(op, str) or op not in OPS:
                raise InvalidCellError(
                    f"unknown NB201 op {op!r} on edge {src}->{dst}; expected one of {', '.join(OPS)}"
                )
        object.__setattr__(self, "ops", tuple(ops))


def _parse_error(text: str, problem: str) -> InvalidCellError:
    """The error for a malformed arch string; a long string (and a long part of it) is shortened."""
    return InvalidCellError(f"invalid NB201 arch string {_clip(repr(text))}: {_clip(problem, 200)}")


def _clip(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text):,} chars)"


def parse_arch_str(text: str) -> NB201Cell:
    """Strictly parse ``|op~0|+|op~0|op~1|+|op~0|op~1|op~2|``; :class:`InvalidCellError` names any problem."""
    if not isinstance(text, str):
        raise InvalidCellError(f"NB201 arch string must be a str, got {type(text).__name__}")
    if not text:
        raise _parse_error(text, "empty string")
    if any(ch.isspace() for ch in text):
        raise _parse_error(text, "contains whitespace")
    parts = text.split("+")
    if len(parts) != NUM_CELL_NODES - 1:
        raise _parse_error(text, f"expected {NUM_CELL_NODES - 1} nodes separated by '+', got {len(parts)}")
    ops: list[str] = []
    for node, part in enumerate(parts, start=1):
        if len(part) < 2 or not part.startswith("|") or not part.endswith("|"):
            raise _parse_error(text, f"node {node} ({part!r}) must start and end with '|'")
        edges = part[1:-1].split("|")
        if len(edges) != node:
            raise _parse_error(text, f"node {node} must have {node} incoming edge(s), got {len(edges)}")
        for src, edge in enumerate(edges):
            if edge.count("~") != 1:
                raise _parse_error(text, f"edge {edge!r} into node {node} must look like 'op~{src}'")
            op, index = edge.split("~")
            if index != str(src):
                raise _parse_error(
                    text, f"edge {edge!r} is edge {src} into node {node}, so it must end in '~{src}'"
                )
            if op not in OPS:
                raise _parse_error(
                    text, f"unknown op {op!r} on edge {src}->{node}; expected one of {', '.join(OPS)}"
                )
            ops.append(op)
    return NB201Cell(tuple(ops))


def format_arch_str(cell: NB201Cell) -> str:
    """The arch string of ``cell``."""
    nodes = []
    for dst in range(1, NUM_CELL_NODES):
        edges = (f"{op}~{src}" for (src, d), op in zip(EDGES, cell.ops) if d == dst)
        nodes.append("|" + "|".join(edges) + "|")
    return "+".join(nodes)


def _incoming(cell: NB201Cell, dst: int) -> Iterator[tuple[str, int]]:
    return ((op, src) for (src, d), op in zip(EDGES, cell.ops) if d == dst)


def unique_string(cell: NB201Cell) -> str:
    """NAS-Bench-201's unique string of ``cell`` (``to_unique_str(consider_zero=True)`` semantics).

    Node 0 is ``"0"``. Each later node joins, sorted and with ``+``, one term per incoming edge from node
    ``j``: ``"#"`` (zero) if the op is ``none`` or node ``j``'s string is exactly ``"#"``; node ``j``'s
    string if the op is ``skip_connect``; else ``"(" + node_j + ")@" + op``. The output node's string is
    the key. It is a heuristic canonical form: ``#`` terms stay in sums.
    """
    strings = ["0"]
    for dst in range(1, NUM_CELL_NODES):
        terms = []
        for op, src in _incoming(cell, dst):
            if op == "none" or strings[src] == "#":
                terms.append("#")
            elif op == "skip_connect":
                terms.append(strings[src])
            else:
                terms.append(f"({strings[src]})@{op}")
        strings.append("+".join(sorted(terms)))
    return strings[_OUTPUT_CELL_NODE]


def is_connected(cell: NB201Cell) -> bool:
    """Whether the cell output is reachable from its input through non-``none`` edges."""
    reached = [True] + [False] * (NUM_CELL_NODES - 1)
    for dst in range(1, NUM_CELL_NODES):
        reached[dst] = any(op != "none" and reached[src] for op, src in _incoming(cell, dst))
    return reached[_OUTPUT_CELL_NODE]


def dead_nodes(cell: NB201Cell) -> tuple[int, ...]:
    """Cell nodes (0..3, ascending) off every input→output path through non-``none`` edges: those the input
    cannot reach or that cannot reach the output. A disconnected cell has all four (nothing reaches the output)."""
    reached = [True] + [False] * (NUM_CELL_NODES - 1)
    for dst in range(1, NUM_CELL_NODES):
        reached[dst] = any(op != "none" and reached[src] for op, src in _incoming(cell, dst))
    reaches = [False] * (NUM_CELL_NODES - 1) + [True]
    for src in range(NUM_CELL_NODES - 2, -1, -1):
        reaches[src] = any(op != "none" and reaches[d] for (s, d), op in zip(EDGES, cell.ops) if s == src)
    return tuple(node for node in range(NUM_CELL_NODES) if not (reached[node] and reaches[node]))


def _graph_template() -> np.ndarray:
    """The fixed 8-node adjacency derived from :data:`EDGES` (see the module docstring)."""
    n = len(EDGES) + 2
    output_node = n - 1
    adjacency = np.zeros((n, n), dtype=np.int8)
    for k, (src, dst) in enumerate(EDGES, start=1):
        if src == 0:
            adjacency[0, k] = 1
        if dst == _OUTPUT_CELL_NODE:
            adjacency[k, output_node] = 1
        for m, (next_src, _) in enumerate(EDGES, start=1):
            if next_src == dst:
                adjacency[k, m] = 1
    adjacency.flags.writeable = False
    return adjacency


@cache
def _cells_in_index_order() -> tuple[NB201Cell, ...]:
    cells = [NB201Cell(ops) for ops in itertools.product(OPS, repeat=len(EDGES))]
    random.Random(_ENUMERATION_SEED).shuffle(cells)
    return tuple(cells)


@cache
def _index_of_cell() -> dict[NB201Cell, int]:
    return {cell: i for i, cell in enumerate(_cells_in_index_order())}


@cache
def _cell_of(vocab_ids: tuple[int, ...]) -> NB201Cell:
    """The cell whose 6 edge ops have these graph-encoding label ids (memoized: 15,625 at most)."""
    return NB201Cell(tuple(NODE_VOCAB[i] for i in vocab_ids))


@cache
def _arch_str_of(cell: NB201Cell) -> str:
    return format_arch_str(cell)


class NB201Space(SearchSpace[NB201Cell]):
    """The NAS-Bench-201 topology search space (see the module docstring for every convention)."""

    name = "nb201"
    text_column = "arch_str"
    has_isomorphism_classes = True
    isomorphism_column = "unique_str"
    num_nodes = len(EDGES) + 2
    node_vocab = NODE_VOCAB
    zero_ops = ("none",)

    _TEMPLATE = _graph_template()
    _INPUT_ID = NODE_VOCAB.index("input")
    _OUTPUT_ID = NODE_VOCAB.index("output")
    _OP_IDS = tuple(NODE_VOCAB.index(op) for op in OPS)
    _IS_OP = np.isin(np.arange(len(NODE_VOCAB)), _OP_IDS)
    _TEMPLATE_EDGES = tuple(ids.tolist() for ids in np.nonzero(_TEMPLATE))
    """Sources and targets of the template's edges, row-major."""

    # --- text form -------------------------------------------------------------------------------
    def parse(self, text: str) -> NB201Cell:
        return parse_arch_str(text)

    def format(self, cell: NB201Cell) -> str:
        return format_arch_str(self._require_cell(cell))

    # --- semantics -------------------------------------------------------------------------------
    def _problem(self, cell: NB201Cell) -> str | None:
        """Every constructed :class:`NB201Cell` is valid: all 15,625 are benchmark architectures.

        Disconnected cells are valid too; see :meth:`is_connected`.
        """
        if not isinstance(cell, NB201Cell):
            return f"not an NB201Cell: {type(cell).__name__}"
        return None

    def _valid_id(self, cell: NB201Cell) -> str:
        """The arch string (memoized: there are only 15,625)."""
        return _arch_str_of(cell)

    def isomorphism_id(self, cell: NB201Cell) -> str:
        """NAS-Bench-201's unique string (6,466 classes); see :func:`unique_string`."""
        return unique_string(self._require_cell(cell))

    def extra_columns(self) -> dict[str, str]:
        return {"unique_str": "string", "connected": "bool"}

    def extra_record(self, cell: NB201Cell) -> dict[str, object]:
        return {"unique_str": self.isomorphism_id(cell), "connected": self.is_connected(cell)}

    def is_connected(self, cell: NB201Cell) -> bool:
        """Whether the output is reachable from the input through non-``none`` edges (341 cells are not)."""
        return is_connected(self._require_cell(cell))

    def dead_nodes(self, cell: NB201Cell) -> tuple[int, ...]:
        """Cell nodes off every input→output path through non-``none`` edges (see :func:`dead_nodes`)."""
        return dead_nodes(self._require_cell(cell))

    # --- graph encoding --------------------------------------------------------------------------
    def adjacency_mask(self) -> np.ndarray:
        return self._TEMPLATE.astype(bool)

    def to_graph(self, cell: NB201Cell) -> GraphEncoding:
        cell = self._require_cell(cell)
        ops = [self._INPUT_ID, *(self.node_vocab.index(op) for op in cell.ops), self._OUTPUT_ID]
        return GraphEncoding(
            adjacency=self._TEMPLATE.copy(),
            ops=np.asarray(ops, dtype=np.int64),
            mask=np.ones(self.num_nodes, dtype=bool),
        )

    def _cells_from_graphs(
        self, adjacency: np.ndarray, ops: np.ndarray
    ) -> list[NB201Cell | DecodedCell[NB201Cell]]:
        """Cells of graphs with exactly the template's edges, ``input``/``output`` at the ends and an op on
        nodes 1..6; the others get the reason (the first of: missing template edges, node 0, node 7, the
        first interior node without an op)."""
        sources, targets = self._TEMPLATE_EDGES
        present = adjacency[:, sources, targets].astype(bool)
        is_op = self._IS_OP[ops[:, 1:-1]]
        ends_ok = (ops[:, 0] == self._INPUT_ID) & (ops[:, -1] == self._OUTPUT_ID)
        ok = (present.all(axis=1) & ends_ok & is_op.all(axis=1)).tolist()
        labels, present_rows = ops.tolist(), present.tolist()
        out: list[NB201Cell | DecodedCell[NB201Cell]] = []
        for row, good in enumerate(ok):
            if good:
                out.append(_cell_of(tuple(labels[row][1:-1])))
            else:
                edges = [(i, j) for i, j, there in zip(sources, targets, present_rows[row]) if not there]
                out.append(self.invalid(self._graph_problem(edges, labels[row])))
        return out

    def _graph_problem(self, missing: list[tuple[int, int]], ops: list[int]) -> str:
        """Why a graph that passed the shared checks is not a cell's encoding: its missing template edges
        (``(source, target)``, row-major) and label ids."""
        if missing:
            edges = ", ".join(f"{i}->{j}" for i, j in missing)
            return f"NB201 graph lacks template edge(s) {edges}; the adjacency is fixed"
        labels = [self.node_vocab[i] for i in ops]
        if ops[0] != self._INPUT_ID:
            return f"NB201 graph node 0 must be 'input', got {labels[0]!r}"
        if ops[-1] != self._OUTPUT_ID:
            return f"NB201 graph node {self.num_nodes - 1} must be 'output', got {labels[-1]!r}"
        node = next(node for node in range(1, self.num_nodes - 1) if ops[node] not in self._OP_IDS)
        return f"NB201 graph node {node} must be one of {', '.join(OPS)}, got {labels[node]!r}"

    # --- enumeration and sampling ----------------------------------------------------------------
    @property
    def num_cells(self) -> int:
        return len(OPS) ** len(EDGES)

    def enumerate(self, progress: bool = False) -> Iterator[NB201Cell]:
        """All 15,625 cells in NB201 index order (``progress`` is ignored: this takes milliseconds)."""
        return iter(_cells_in_index_order())

    def index(self, cell: NB201Cell) -> int:
        """The cell's NB201 (API) index, 0..15624."""
        return _index_of_cell()[self._require_cell(cell)]

    def cell_at(self, index: int) -> NB201Cell:
        """The cell with NB201 (API) index ``index``."""
        cells = _cells_in_index_order()
        if not 0 <= index < len(cells):
            raise IndexError(f"NB201 index must be in [0, {len(cells)}), got {index}")
        return cells[index]

    def random_cell(self, rng: random.Random) -> NB201Cell:
        """Uniform over the 15,625 cells (each edge op uniform and independent)."""
        return NB201Cell(tuple(rng.choice(OPS) for _ in EDGES))

    # --- local search ----------------------------------------------------------------------------
    def neighbours(self, cell: NB201Cell) -> list[NB201Cell]:
        """The 24 cells with one edge's op changed, edges in arch-string order, ops in :data:`OPS` order."""
        ops = self._require_cell(cell).ops
        return [
            NB201Cell((*ops[:edge], op, *ops[edge + 1 :]))
            for edge in range(len(EDGES))
            for op in OPS
            if op != ops[edge]
        ]

    # --- helpers ---------------------------------------------------------------------------------
    @staticmethod
    def _require_cell(cell: NB201Cell) -> NB201Cell:
        if not isinstance(cell, NB201Cell):
            raise InvalidCellError(f"expected an NB201Cell, got {type(cell).__name__}")
        return cell


__all__ = [
    "EDGES",
    "NODE_VOCAB",
    "NUM_CELL_NODES",
    "OPS",
    "NB201Cell",
    "NB201Space",
    "dead_nodes",
    "format_arch_str",
    "is_connected",
    "parse_arch_str",
    "unique_string",
]
