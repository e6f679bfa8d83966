"""DARTS: a genotype is a normal and a reduce cell, each with 4 intermediate nodes fed by 2 (op, input) pairs.

Cell
    :class:`DARTSCell` holds ``normal`` and ``reduce``, 8 ``(op, input)`` pairs each, as DARTS' ``Genotype``
    does: pairs ``2k`` and ``2k+1`` feed intermediate node ``k + 2``; inputs are 0 (c_{k-2}), 1 (c_{k-1})
    or an earlier intermediate node, and the two inputs of a node are distinct. Every cell concatenates nodes
    [2, 3, 4, 5], so the concat is not stored. Ops: the 7 ops of DARTS genotypes (``ops="darts"``, default) or
    arch2vec's 8 (``ops="arch2vec"``: the same plus ``none``).

Text forms
    ``format``/``parse``: ``Genotype(normal=[('sep_conv_3x3', 0), ...], normal_concat=[2, 3, 4, 5],
    reduce=[...], reduce_concat=[2, 3, 4, 5])``; ``parse`` also takes ``range(2, 6)``, either quote style and
    NASLib's compact form. ``format_compact``/``parse_compact``: NASLib's ``[[(input, op_idx) x 8] x 2]``
    (normal, reduce) with ``op_idx`` into :data:`NASLIB_OPS`; ``none`` has no compact index.

Canonical id
    Equal for exactly the genotypes that differ only by the order of a node's two pairs and by relabelings of
    intermediate nodes that keep every input earlier than its node (the same network). Each cell is brought
    to the lexicographically least form over those relabelings; the id is ``<normal>_<reduce>``, each part
    16 digits: the 4 nodes in canonical order, each as its two pairs sorted, each pair as ``<input><op code>``
    with op codes the :data:`NASLIB_OPS` indices and 7 for ``none``. Without ``none``, the id reads as the
    compact form of a canonical representative. ``none`` gets no special semantics (its edges still count).

Graph encoding (arch2vec's 11-node DARTS graph, once per cell)
    Per cell: node 0 = c_{k-2}, 1 = c_{k-1}, 2..9 = the op-nodes of the 8 pairs in order, 10 = output. Every
    op-node feeds the output; an op-node with input 0/1 has the edge from node 0/1, one with input ``j >= 2``
    has edges from both op-nodes of node ``j`` (their sum). The normal cell takes slots 0..10, the reduce
    cell 11..21 (block diagonal, ``num_nodes = 22``): our two-cell extension (``cells="both"``, default).
    ``cells="normal"`` is arch2vec's graph: the normal cell alone (``num_nodes = 11``); a decoded graph gives the
    genotype whose reduce cell equals its normal cell, as arch2vec sets it.

Size
    :meth:`DARTSSpace.size` counts genotypes up to canonical id, exactly (Burnside-style count over the 180
    input topologies of a cell): 382,128,166 cells per cell type with 7 ops (1,111,452,176 with 8), squared
    for a genotype.
"""

from __future__ import annotations

import ast
import itertools
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import cache
from typing import Any

import numpy as np

from .errors import InvalidCellError
from .base import PAD, DecodedCell, GraphEncoding, SearchSpace, _remember, as_index

NASLIB_OPS: tuple[str, ...] = (
    "max_pool_3x3",
    "avg_pool_3x3",
    "skip_connect",
    "sep_conv_3x3",
    "sep_conv_5x5",
    "dil_conv_3x3",
    "dil_conv_5x5",
)
"""The 7 ops of DARTS genotypes, in the order NASLib's compact form indexes them."""

OP_SETS: dict[str, tuple[str, ...]] = {"darts": NASLIB_OPS, "arch2vec": ("none", *NASLIB_OPS)}
"""Op sets of the two variants; arch2vec's is in its one-hot order (``none`` first)."""

CELL_TYPES: tuple[str, ...] = ("normal", "reduce")
GRAPH_CELLS: tuple[str, ...] = ("both", "normal")
"""What the graph encoding holds: both cells (our extension, 22 nodes) or arch2vec's normal cell (11 nodes)."""
INTERMEDIATE_NODES: tuple[int, ...] = (2, 3, 4, 5)
CONCAT: tuple[int, ...] = INTERMEDIATE_NODES
NUM_PAIRS = 8
BLOCK = 11
"""Graph slots per cell: c_{k-2}, c_{k-1}, 8 op-nodes, output."""
_OUTPUT = BLOCK - 1

_FIXED_NODES: tuple[tuple[int, str], ...] = ((0, "c_k-2"), (1, "c_k-1"), (_OUTPUT, "output"))
"""Block-local graph nodes with a fixed label."""
_CHECKS_PER_CELL = len(_FIXED_NODES) + 3 * NUM_PAIRS
"""Graph checks per cell in reporting order: the fixed labels, then per op-node label, output edge, inputs."""
_OP_NODE_SLOTS = [*range(2, 2 + NUM_PAIRS), *range(BLOCK + 2, BLOCK + 2 + NUM_PAIRS)]
"""Graph slots of the op-nodes, normal cell then reduce cell."""
_OUTPUT_SLOTS = [_OUTPUT] * NUM_PAIRS + [BLOCK + _OUTPUT] * NUM_PAIRS
"""Graph slot of the output node each op-node feeds."""
_FIXED_SLOTS = [local for local, _ in _FIXED_NODES] + [BLOCK + local for local, _ in _FIXED_NODES]
"""Graph slots with a fixed label, normal cell then reduce cell."""

_ID_OP_CODE: dict[str, int] = {op: i for i, op in enumerate(NASLIB_OPS)} | {"none": 7}
_HALF_ID_CACHE = 1 << 17
"""Most canonical forms of single cells a space object memoizes."""
_VECTORIZE_FROM = 8
"""Number of cells from which canonical forms are computed with numpy rather than one by one."""


@dataclass(frozen=True)
class DARTSCell:
    """A DARTS genotype: ``normal`` and ``reduce``, 8 ``(op, input)`` pairs each (2k and 2k+1 feed node k+2).

    Construction checks the shape only (8 pairs of an op name and an int, per cell) and normalizes sequences
    to tuples; which ops and inputs are allowed is :meth:`DARTSSpace.validate`'s business.
    """

    normal: tuple[tuple[str, int], ...]
    reduce: tuple[tuple[str, int], ...]

    def __post_init__(self) -> None:
        for kind in CELL_TYPES:
            object.__setattr__(self, kind, _as_pairs(getattr(self, kind), f"DARTSCell.{kind}"))

    @classmethod
    def _trusted(cls, normal: tuple[tuple[str, int], ...], reduce: tuple[tuple[str, int], ...]) -> DARTSCell:
        """Build without checks, for pair tuples this module produced itself."""
        cell = object.__new__(cls)
        object.__setattr__(cell, "normal", normal)
        object.__setattr__(cell, "reduce", reduce)
        return cell

    def cells(self) -> tuple[tuple[tuple[str, int], ...], tuple[tuple[str, int], ...]]:
        """``(normal, reduce)``."""
        return self.normal, self.reduce


def _is_exact_pair(pair: object) -> bool:
    return type(pair) is tuple and len(pair) == 2 and type(pair[0]) is str and type(pair[1]) is int


def _as_pairs(pairs: object, what: str) -> tuple[tuple[str, int], ...]:
    """``pairs`` as a tuple of 8 ``(str, int)`` tuples, or :class:`InvalidCellError` saying what is wrong."""
    if type(pairs) is tuple and len(pairs) == NUM_PAIRS and all(_is_exact_pair(p) for p in pairs):
        return pairs  # fast path: already normalized (sampling builds millions of cells)
    if isinstance(pairs, (str, bytes)) or not isinstance(pairs, Sequence):
        raise InvalidCellError(f"{what} must be a sequence of {NUM_PAIRS} (op, input) pairs, got {pairs!r}")
    if len(pairs) != NUM_PAIRS:
        raise InvalidCellError(f"{what} needs exactly {NUM_PAIRS} (op, input) pairs, got {len(pairs)}")
    out = []
    for i, pair in enumerate(pairs):
        if isinstance(pair, (str, bytes)) or not isinstance(pair, Sequence) or len(pair) != 2:
            raise InvalidCellError(f"{what} pair {i} must be an (op, input) pair, got {pair!r}")
        op, node = pair
        if not isinstance(op, str):
            raise InvalidCellError(f"{what} pair {i}: op must be a string, got {op!r}")
        index = as_index(node)
        if index is None:
            raise InvalidCellError(f"{what} pair {i}: input must be an int, got {node!r}")
        out.append((str(op), index))
    return tuple(out)


# --- text parsing ---------------------------------------------------------------------------------------
_GENOTYPE_RE = re.compile(r"\s*Genotype\s*\((.*)\)\s*", re.DOTALL)
_ARG_RE = re.compile(r"\s*(?:([A-Za-z_]\w*)\s*=(?!=))?\s*(.*?)\s*", re.DOTALL)
_RANGE_RE = re.compile(r"range\s*\(\s*(\d+)\s*,\s*(\d+)\s*\)")
_LITERAL_CHARS = re.compile(r"[\w\s'\"\[\](),-]*")
_COMPACT_CHARS = re.compile(r"[\d\s\[\](),-]*")
_GENOTYPE_FIELDS = ("normal", "normal_concat", "reduce", "reduce_concat")


def _clip(text: str, limit: int = 80) -> str:
    """``repr`` of ``text``, shortened for error messages."""
    return repr(text) if len(text) <= limit else repr(text[:limit]) + f"... ({len(text)} chars)"


def _literal(text: str, what: str, allowed: re.Pattern[str] = _LITERAL_CHARS) -> object:
    """``ast.literal_eval`` of ``text`` after checking it holds only literal-list characters."""
    if not allowed.fullmatch(text):
        raise InvalidCellError(f"{what}: unexpected characters in {_clip(text)}")
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError) as err:
        problem = f"{what}: not a Python literal ({type(err).__name__})"
        raise InvalidCellError(f"{problem}: {_clip(text)}") from None


def _split_args(text: str) -> list[str]:
    """Split call arguments at top-level commas (outside brackets and quotes)."""
    parts, depth, quote, start = [], 0, None, 0
    for i, ch in enumerate(text):
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
            if depth < 0:
                raise InvalidCellError("Genotype text has unbalanced brackets")
        elif ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    if quote or depth:
        raise InvalidCellError("Genotype text has an unclosed bracket or quote")
    parts.append(text[start:])
    if len(parts) > 1 and not parts[-1].strip():
        parts.pop()  # trailing comma
    return parts


def _parse_concat(text: str, what: str) -> None:
    """Check that a concat argument is [2, 3, 4, 5] (as a list, tuple or ``range(2, 6)``)."""
    match = _RANGE_RE.fullmatch(text)
    if match:
        ok = (int(match[1]), int(match[2])) == (CONCAT[0], CONCAT[-1] + 1)
    else:
        value = _literal(text, what)
        ok = isinstance(value, (list, tuple)) and list(value) == list(CONCAT)
    if not ok:
        raise InvalidCellError(
            f"{what} must be [2, 3, 4, 5] (every intermediate node; other concats are not supported), "
            f"got {_clip(text)}"
        )


def _parse_genotype(text: str) -> DARTSCell:
    match = _GENOTYPE_RE.fullmatch(text)
    if not match:
        raise InvalidCellError(
            f"expected 'Genotype(normal=[...], normal_concat=..., ...)', got {_clip(text)}"
        )
    values: dict[str, str] = {}
    keywords = False
    for i, arg in enumerate(_split_args(match[1])):
        name, value = _ARG_RE.fullmatch(arg).groups()
        if name is None:
            if keywords or i >= len(_GENOTYPE_FIELDS):
                raise InvalidCellError(f"Genotype: unexpected positional argument {_clip(value)}")
            name = _GENOTYPE_FIELDS[i]
        else:
            keywords = True
        if name not in _GENOTYPE_FIELDS:
            expected = ", ".join(_GENOTYPE_FIELDS)
            raise InvalidCellError(f"Genotype: unknown field {name!r}; expected {expected}")
        if name in values:
            raise InvalidCellError(f"Genotype: field {name!r} given twice")
        if not value:
            raise InvalidCellError(f"Genotype: field {name!r} is empty")
        values[name] = value
    missing = [name for name in _GENOTYPE_FIELDS if name not in values]
    if missing:
        raise InvalidCellError(f"Genotype: missing field(s) {', '.join(missing)}")
    for kind in CELL_TYPES:
        _parse_concat(values[f"{kind}_concat"], f"Genotype {kind}_concat")
    normal, reduce = (_literal(values[kind], f"Genotype {kind}") for kind in CELL_TYPES)
    return DARTSCell(_as_pairs(normal, "Genotype normal"), _as_pairs(reduce, "Genotype reduce"))


def parse_compact(text: str) -> DARTSCell:
    """Cell from NASLib's compact text ``[[(input, op_idx) x 8], [(input, op_idx) x 8]]`` (normal, reduce)."""
    if not isinstance(text, str):
        raise InvalidCellError(f"compact DARTS genotype must be a string, got {type(text).__name__}")
    value = _literal(text.strip(), "compact genotype", _COMPACT_CHARS)
    if not isinstance(value, (list, tuple)) or len(value) != 2:
        raise InvalidCellError(f"compact genotype must be [normal, reduce], got {_clip(text)}")
    cells = []
    for kind, pairs in zip(CELL_TYPES, value):
        what = f"compact genotype {kind}"
        if not isinstance(pairs, (list, tuple)) or len(pairs) != NUM_PAIRS:
            raise InvalidCellError(
                f"{what} must be a list of {NUM_PAIRS} (input, op_idx) pairs, got {_clip(repr(pairs))}"
            )
        out = []
        for i, pair in enumerate(pairs):
            if not isinstance(pair, (list, tuple)) or len(pair) != 2 or not all(type(v) is int for v in pair):
                raise InvalidCellError(
                    f"{what} pair {i} must be an (input, op_idx) pair of ints, got {pair!r}"
                )
            node, op_idx = pair
            if not 0 <= op_idx < len(NASLIB_OPS):
                raise InvalidCellError(
                    f"{what} pair {i}: op index must be in [0, {len(NASLIB_OPS)}), got {op_idx}"
                )
            out.append((NASLIB_OPS[op_idx], node))
        cells.append(tuple(out))
    return DARTSCell(*cells)


# --- canonical form ---------------------------------------------------------------------------------------
@cache
def _relabelings(inputs: tuple[int, ...]) -> tuple[tuple[tuple[int, int, int, int], ...], ...]:
    """Every relabeling of the intermediate nodes that keeps inputs earlier, for a cell with these inputs.

    Each is given in new node order as ``(pair a, renamed input of a, pair b, renamed input of b)`` per node.
    Only the inputs matter, so this is cached per input tuple (at most 2,880 of them).
    """
    deps = {k: {inputs[2 * k - 4], inputs[2 * k - 3]} - {0, 1} for k in INTERMEDIATE_NODES}
    plans = []
    for order in itertools.permutations(INTERMEDIATE_NODES):
        new = {old: pos for pos, old in zip(INTERMEDIATE_NODES, order)}
        if any(new[j] >= new[k] for k in order for j in deps[k]):
            continue
        rename = (0, 1, *(new[k] for k in INTERMEDIATE_NODES))
        plans.append(
            tuple((2 * k - 4, rename[inputs[2 * k - 4]], 2 * k - 3, rename[inputs[2 * k - 3]]) for k in order)
        )
    return tuple(plans)


def _canonical_cell(pairs: tuple[tuple[str, int], ...]) -> str:
    """16-digit canonical form of one (valid) cell, see the module docstring.

    Each relabeling gives a 48-bit key, 12 bits per node in new order (``x * 64 + y`` for its two pairs
    ``x <= y``, a pair being ``input * 8 + op code``); the form is the least key in octal, 16 digits.
    """
    codes = [_ID_OP_CODE[op] for op, _ in pairs]
    best = -1
    for plan in _relabelings(tuple(node for _, node in pairs)):
        key = 0
        for a, in_a, b, in_b in plan:
            x, y = in_a * 8 + codes[a], in_b * 8 + codes[b]
            key = key * 4096 + (x * 64 + y if x < y else y * 64 + x)
        if best < 0 or key < best:
            best = key
    return format(best, "016o")


@cache
def _plan_table(inputs: tuple[int, ...]) -> np.ndarray:
    """:func:`_relabelings` of ``inputs`` as an ``int16 [24, 4, 4]`` array, padded by repeating the first."""
    plans = _relabelings(inputs)
    table = np.array(plans + plans[:1] * (24 - len(plans)), dtype=np.int16)
    table.flags.writeable = False
    return table


def _canonical_cells(codes: np.ndarray, inputs: np.ndarray) -> list[str]:
    """:func:`_canonical_cell` of many valid cells at once: op codes and inputs, ``[H, 8]`` ints each."""
    radix = 5 ** np.arange(NUM_PAIRS, dtype=np.int64)  # inputs are 0..4
    _, first, inverse = np.unique(inputs @ radix, return_index=True, return_inverse=True)
    tables = np.stack([_plan_table(tuple(inputs[row].tolist())) for row in first.tolist()])
    plans = tables[inverse.reshape(-1)].reshape(len(codes), -1, 4)  # (pair a, new input of a, pair b, ...)
    codes = codes.astype(np.int16)
    x = plans[..., 1] * 8 + np.take_along_axis(codes, plans[..., 0], axis=1)
    y = plans[..., 3] * 8 + np.take_along_axis(codes, plans[..., 2], axis=1)
    nodes = (np.minimum(x, y).astype(np.int64) * 64 + np.maximum(x, y)).reshape(len(codes), -1, 4)
    keys = ((nodes[..., 0] * 4096 + nodes[..., 1]) * 4096 + nodes[..., 2]) * 4096 + nodes[..., 3]
    return [format(key, "016o") for key in keys.min(axis=1).tolist()]


def _pred_node_table() -> np.ndarray:
    """Intermediate node fed to an op-node, indexed by the bitmask of its block-local predecessors; -1 when
    the predecessors are not exactly c_k-2, c_k-1 or both op-nodes of one intermediate node."""
    table = np.full(1 << BLOCK, -1, dtype=np.int64)
    table[1 << 0], table[1 << 1] = 0, 1
    for node in INTERMEDIATE_NODES:
        table[(1 << (2 * node - 2)) | (1 << (2 * node - 1))] = node
    table.flags.writeable = False
    return table


_PRED_NODE = _pred_node_table()


@cache
def count_cells(num_ops: int) -> int:
    """Number of distinct cells of one type (up to canonical id) with ``num_ops`` ops.

    The class of a labeled cell ``c`` has ``L(c) / |Aut(c)|`` members, where ``L`` counts the relabelings
    that keep inputs earlier (the same for every cell with ``c``'s inputs) and ``Aut`` those mapping ``c``
    to itself. So the count is the sum over input topologies ``T`` of
    ``sum_{s in Aut(T)} num_ops^orbits(s) / L(T)``, ``orbits(s)`` being the orbits of ``s`` on ``T``'s
    8 edges.
    """
    total = Fraction(0)
    choices = [itertools.combinations(range(k), 2) for k in INTERMEDIATE_NODES]
    for inputs in itertools.product(*choices):
        edges = {(j, k) for k, pair in zip(INTERMEDIATE_NODES, inputs) for j in pair}
        num_orders, fixed = 0, 0
        for order in itertools.permutations(INTERMEDIATE_NODES):
            new = dict(zip(order, INTERMEDIATE_NODES)) | {0: 0, 1: 1}
            mapped = {(new[j], new[k]) for j, k in edges}
            num_orders += all(j < k for j, k in mapped)
            if mapped == edges:
                fixed += num_ops ** _num_orbits(edges, new)
        total += Fraction(fixed, num_orders)
    assert total.denominator == 1
    return int(total)


def _num_orbits(edges: set[tuple[int, int]], perm: dict[int, int]) -> int:
    seen, orbits = set(), 0
    for edge in edges:
        if edge not in seen:
            orbits += 1
            while edge not in seen:
                seen.add(edge)
                edge = (perm[edge[0]], perm[edge[1]])
    return orbits


# --- the space --------------------------------------------------------------------------------------------
class DARTSSpace(SearchSpace[DARTSCell]):
    """The DARTS genotype space; ``ops="darts"`` (7 ops, default) or ``ops="arch2vec"`` (adds ``none``)."""

    name = "darts"
    text_column = "genotype"

    def __init__(self, ops: str = "darts", cells: str = "both") -> None:
        if ops not in OP_SETS:
            raise ValueError(f"unknown DARTS op set {ops!r}; choose one of {', '.join(OP_SETS)}")
        if cells not in GRAPH_CELLS:
            raise ValueError(f"unknown DARTS graph cells {cells!r}; choose one of {', '.join(GRAPH_CELLS)}")
        self.variant = ops
        self.graph_cells = cells
        self.ops: tuple[str, ...] = OP_SETS[ops]
        self.num_nodes = 2 * BLOCK if cells == "both" else BLOCK
        self.node_vocab = (PAD, "c_k-2", "c_k-1", *self.ops, "output")
        self._op_set = frozenset(self.ops)
        self._vocab_id = {label: i for i, label in enumerate(self.node_vocab)}
        self._mask = self._build_mask()

    @property
    def space_kwargs(self) -> dict[str, Any]:
        return (
            {"ops": self.variant} if self.graph_cells == "both" else {"ops": self.variant, "cells": "normal"}
        )

    def __repr__(self) -> str:
        cells = "" if self.graph_cells == "both" else f", cells={self.graph_cells!r}"
        return f"DARTSSpace(ops={self.variant!r}{cells})"

    def size(self) -> int:
        """Number of distinct genotypes (by canonical id): the per-cell count squared."""
        return count_cells(len(self.ops)) ** 2

    # --- text form ----------------------------------------------------------------------------------------
    def parse(self, text: str) -> DARTSCell:
        """Cell from ``Genotype(...)`` text or NASLib's compact form (does not check validity)."""
        if not isinstance(text, str):
            raise InvalidCellError(f"DARTS genotype text must be a string, got {type(text).__name__}")
        if text.lstrip().startswith("["):
            return parse_compact(text)
        return _parse_genotype(text)

    def format(self, cell: DARTSCell) -> str:
        """``Genotype(normal=[...], normal_concat=[2, 3, 4, 5], reduce=[...], reduce_concat=[...])``."""
        normal, reduce = (
            "[" + ", ".join(f"({op!r}, {node})" for op, node in pairs) + "]" for pairs in cell.cells()
        )
        concat = str(list(CONCAT))
        return f"Genotype(normal={normal}, normal_concat={concat}, reduce={reduce}, reduce_concat={concat})"

    def parse_compact(self, text: str) -> DARTSCell:
        """Cell from NASLib's compact form (see :func:`parse_compact`)."""
        return parse_compact(text)

    def format_compact(self, cell: DARTSCell) -> str:
        """NASLib's compact form; raises :class:`InvalidCellError` for ops it cannot index (``none``)."""
        parts = []
        for kind, pairs in zip(CELL_TYPES, cell.cells()):
            for i, (op, _) in enumerate(pairs):
                if op not in NASLIB_OPS:
                    raise InvalidCellError(
                        f"{kind} pair {i}: op {op!r} has no index in NASLib's compact form"
                    )
            parts.append("[" + ", ".join(f"({node}, {NASLIB_OPS.index(op)})" for op, node in pairs) + "]")
        return "[" + ", ".join(parts) + "]"

    # --- semantics ----------------------------------------------------------------------------------------
    def _problem(self, cell: DARTSCell) -> str | None:
        """Ops in the variant's set; each node's two inputs distinct and earlier than the node."""
        if not isinstance(cell, DARTSCell):
            return f"not a DARTSCell: {type(cell).__name__}"
        for kind, pairs in zip(CELL_TYPES, cell.cells()):
            problem = self._cell_problem(pairs)
            if problem is not None:
                return f"{kind} cell, {problem}"
        return None

    def _cell_problem(self, pairs: tuple[tuple[str, int], ...]) -> str | None:
        """What is wrong with one cell's pairs (``"node <k>: ..."``), or None."""
        previous = None
        for i, (op, node) in enumerate(pairs):
            target = i // 2 + 2
            if op not in self._op_set:
                return f"node {target}: unknown op {op!r} for the {self.variant} ops ({', '.join(self.ops)})"
            if not 0 <= node < target:
                return f"node {target}: input {node} is not an earlier node (must be in 0..{target - 1})"
            if i % 2 and node == previous:
                return f"node {target}: both inputs are node {node} (they must be distinct)"
            previous = node
        return None

    def _valid_id(self, cell: DARTSCell) -> str:
        """``<normal>_<reduce>`` canonical digits (module docstring), memoized per cell type's pairs."""
        return self._cell_id(cell.normal) + "_" + self._cell_id(cell.reduce)

    def _cell_id(self, pairs: tuple[tuple[str, int], ...]) -> str:
        memo = self._cache("cell_ids")
        known = memo.get(pairs)
        return known if known is not None else _remember(memo, pairs, _canonical_cell(pairs), _HALF_ID_CACHE)

    def _validate_all(self, cells: Sequence[DARTSCell]) -> list[DecodedCell[DARTSCell]]:
        """:meth:`validate` of each cell; the canonical forms not memoized yet are computed with numpy."""
        problems = [self._problem(cell) for cell in cells]
        memo = self._cache("cell_ids")
        valid = {pairs for cell, problem in zip(cells, problems) if not problem for pairs in cell.cells()}
        todo = [pairs for pairs in valid if pairs not in memo]
        if len(todo) >= _VECTORIZE_FROM:
            codes = np.array([[_ID_OP_CODE[op] for op, _ in pairs] for pairs in todo], dtype=np.int64)
            inputs = np.array([[node for _, node in pairs] for pairs in todo], dtype=np.int64)
            for pairs, form in zip(todo, _canonical_cells(codes, inputs)):
                _remember(memo, pairs, form, _HALF_ID_CACHE)
        return [
            self.invalid(problem, cell) if problem else DecodedCell(cell, True, None, self._valid_id(cell))
            for cell, problem in zip(cells, problems)
        ]

    # --- graph encoding -----------------------------------------------------------------------------------
    def _build_mask(self) -> np.ndarray:
        block = np.zeros((BLOCK, BLOCK), dtype=bool)
        for i in range(NUM_PAIRS):
            slot, target = 2 + i, i // 2 + 2
            block[[0, 1], slot] = True
            block[2 : 2 * target - 2, slot] = True  # op-nodes of earlier intermediate nodes
            block[slot, _OUTPUT] = True
        if self.graph_cells == "normal":
            return block
        mask = np.zeros((self.num_nodes, self.num_nodes), dtype=bool)
        mask[:BLOCK, :BLOCK] = mask[BLOCK:, BLOCK:] = block
        return mask

    def adjacency_mask(self) -> np.ndarray:
        return self._mask.copy()

    def to_graph(self, cell: DARTSCell) -> GraphEncoding:
        """22-node graph: arch2vec's 11-node graph of the normal cell, then of the reduce cell (``cells="normal"``:
        the normal cell's alone)."""
        self.check(cell)
        adjacency = np.zeros((self.num_nodes, self.num_nodes), dtype=np.int8)
        ops = np.zeros(self.num_nodes, dtype=np.int64)
        for off, pairs in zip((0, BLOCK)[: self.num_nodes // BLOCK], cell.cells()):
            for local, label in ((0, "c_k-2"), (1, "c_k-1"), (_OUTPUT, "output")):
                ops[off + local] = self._vocab_id[label]
            for i, (op, node) in enumerate(pairs):
                slot = off + 2 + i
                ops[slot] = self._vocab_id[op]
                sources = [node] if node < 2 else [2 * node - 2, 2 * node - 1]
                adjacency[[off + s for s in sources], slot] = 1
                adjacency[slot, off + _OUTPUT] = 1
        return GraphEncoding(adjacency, ops, np.ones(self.num_nodes, dtype=bool))

    def _cells_from_graphs(
        self, adjacency: np.ndarray, ops: np.ndarray
    ) -> list[DARTSCell | DecodedCell[DARTSCell]]:
        """Cells of 22-node graphs; an invalid result naming the first graph node that is not as required. An
        11-node graph (``cells="normal"``) is read as the normal cell and, again, as the reduce cell."""
        if self.graph_cells == "normal":
            adjacency, ops = _doubled(adjacency), np.concatenate([ops, ops], axis=1)
        failed, nodes = self._graph_checks(adjacency, ops)
        first = failed.argmax(axis=1).tolist()
        labels, nodes = ops.tolist(), nodes.tolist()
        op_names = ops[:, _OP_NODE_SLOTS].tolist()
        vocab = self.node_vocab
        out: list[DARTSCell | DecodedCell[DARTSCell]] = []
        for row, bad in enumerate(failed.any(axis=1).tolist()):
            if bad:
                out.append(self.invalid(self._graph_problem(adjacency[row], labels[row], first[row])))
            else:
                pairs = tuple(zip([vocab[i] for i in op_names[row]], nodes[row]))
                out.append(DARTSCell._trusted(pairs[:NUM_PAIRS], pairs[NUM_PAIRS:]))
        return out

    def _graph_checks(self, adjacency: np.ndarray, ops: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``bool [B, 2 * _CHECKS_PER_CELL]``: which graph checks fail, in the order they are reported; and
        ``[B, 16]``: the input node each op-node's predecessors stand for (-1 if none)."""
        rows = len(ops)
        fixed = ops[:, _FIXED_SLOTS] != [self._vocab_id[label] for _, label in _FIXED_NODES * 2]
        labels = ops[:, _OP_NODE_SLOTS]
        not_op = (labels < 3) | (labels >= 3 + len(self.ops))
        no_output = adjacency[:, _OP_NODE_SLOTS, _OUTPUT_SLOTS] == 0
        source_bits = 1 << np.arange(BLOCK, dtype=np.int16)
        blocks = [adjacency[:, off : off + BLOCK, off + 2 : off + 2 + NUM_PAIRS] for off in (0, BLOCK)]
        nodes = _PRED_NODE[np.concatenate([source_bits @ block for block in blocks], axis=1)]
        per_node = np.stack([not_op, no_output, nodes < 0], axis=2).reshape(rows, 2, -1)
        return np.concatenate([fixed.reshape(rows, 2, -1), per_node], axis=2).reshape(rows, -1), nodes

    def _graph_problem(self, adjacency: np.ndarray, ops: list[int], check: int) -> str:
        """Message of failed graph check number ``check`` (in the order of :meth:`_cells_from_graphs`)."""
        half, check = divmod(check, _CHECKS_PER_CELL)
        kind, off = CELL_TYPES[half], half * BLOCK
        if check < len(_FIXED_NODES):
            local, label = _FIXED_NODES[check]
            got = self.node_vocab[ops[off + local]]
            return f"{kind} cell: graph node {off + local} must be {label!r}, got {got!r}"
        i, what = divmod(check - len(_FIXED_NODES), 3)
        slot, target = off + 2 + i, i // 2 + 2
        where = f"graph node {slot} ({kind} cell, op-node {i % 2} of intermediate node {target})"
        if what == 0:
            return f"{where} must carry an op label, got {self.node_vocab[ops[slot]]!r}"
        if what == 1:
            return f"{where} has no edge to the output node {off + _OUTPUT}"
        preds = [off + p for p in np.flatnonzero(adjacency[off : off + BLOCK, slot]).tolist()]
        return (
            f"{where} must have as predecessors exactly node {off} (c_k-2), node {off + 1} "
            f"(c_k-1) or both op-nodes of one earlier intermediate node; got {preds}"
        )

    # --- sampling -----------------------------------------------------------------------------------------
    def random_cell(self, rng: random.Random) -> DARTSCell:
        """Uniform: per intermediate node, 2 distinct earlier inputs (random order) and 2 uniform ops."""
        return DARTSCell(self._random_pairs(rng), self._random_pairs(rng))

    def _random_pairs(self, rng: random.Random) -> tuple[tuple[str, int], ...]:
        ops, randrange = self.ops, rng.randrange
        n = len(ops)
        pairs = []
        for k in INTERMEDIATE_NODES:
            first = randrange(k)
            second = randrange(k - 1)
            second += second >= first
            pairs += ((ops[randrange(n)], first), (ops[randrange(n)], second))
        return tuple(pairs)

    # --- local search -------------------------------------------------------------------------------------
    def neighbours(self, cell: DARTSCell) -> list[DARTSCell]:
        """The valid cells one move from ``cell``: in the normal then the reduce cell, for each pair in
        order, its op changed to each other op (in :attr:`ops` order), then its input changed to each other
        earlier node (ascending; a node's two inputs stay distinct)."""
        self.check(cell)
        candidates = []
        for half, pairs in enumerate(cell.cells()):
            for i, (op, node) in enumerate(pairs):
                changed = [(other, node) for other in self.ops if other != op]
                changed += [(op, other) for other in range(i // 2 + 2) if other != node]
                for pair in changed:
                    new = (*pairs[:i], pair, *pairs[i + 1 :])
                    halves = (new, cell.reduce) if half == 0 else (cell.normal, new)
                    candidates.append(DARTSCell._trusted(*halves))
        return self._distinct_valid(cell, candidates)


def _doubled(adjacency: np.ndarray) -> np.ndarray:
    """``[B, 11, 11]`` normal-cell graphs as block-diagonal ``[B, 22, 22]`` graphs holding the same cell twice."""
    rows = len(adjacency)
    out = np.zeros((rows, 2 * BLOCK, 2 * BLOCK), dtype=adjacency.dtype)
    out[:, :BLOCK, :BLOCK] = out[:, BLOCK:, BLOCK:] = adjacency
    return out


__all__ = [
    "CELL_TYPES",
    "GRAPH_CELLS",
    "NASLIB_OPS",
    "OP_SETS",
    "DARTSCell",
    "DARTSSpace",
    "count_cells",
    "parse_compact",
]
