"""NAS-Bench-101: cells, the official graph hash, and fast enumeration of all 423,624 unique cells.

A cell is a DAG of 2..7 vertices given by an upper-triangular 0/1 matrix and one op per vertex: ``input``
first, ``output`` last, and ``conv3x3-bn-relu`` / ``conv1x1-bn-relu`` / ``maxpool3x3`` in between. As in the
nasbench API, a cell is first *pruned* (vertices off every input-to-output path are dropped) and then checked
against the limits of at most 7 vertices and 9 edges.

The canonical id is the official NAS-Bench-101 hash of the pruned cell, byte-identical with
``nasbench.lib.graph_util.hash_module`` with labels ``conv3x3=0, conv1x1=1, maxpool3x3=2, input=-1,
output=-2``. It is computed here by our own list-based implementation of that algorithm, or, for many graphs
at once, by :func:`nb101_hashes`, which lays out all messages with numpy. A space object memoizes the ids it
computed, keyed by the pruned labelled graph.
"""

from __future__ import annotations

import itertools
import json
import multiprocessing
import operator
import os
import random
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import compress
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InvalidCellError
from .base import PAD, DecodedCell, GraphEncoding, SearchSpace, _remember, as_int_matrix

try:  # CPython's built-in MD5 is faster than OpenSSL's for short inputs; the digests are identical.
    from _md5 import md5 as _md5
except ImportError:  # pragma: no cover
    from hashlib import md5 as _md5

INPUT = "input"
OUTPUT = "output"
HASH_OPS: tuple[str, ...] = ("conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3")
"""Interior ops in nasbench's ``available_ops`` order; an op's index is its hash label."""
KNOWN_OPS = frozenset((INPUT, OUTPUT, *HASH_OPS))
MAX_VERTICES = 7
MAX_EDGES = 9
NUM_UNIQUE_CELLS = 423_624
"""Number of unique cells the NAS-Bench-101 paper reports for 7 vertices and 9 edges."""
_LABELS = {INPUT: -1, OUTPUT: -2, **{op: i for i, op in enumerate(HASH_OPS)}}
_KEY_CODES = {op: label + 2 for op, label in _LABELS.items()}
"""Op codes of :func:`_graph_key`."""
_POWERS = tuple(1 << j for j in range(64))
_ID_CACHE = 1 << 17
"""Most canonical ids (hashes of pruned cells) a space object memoizes."""
_VECTORIZE_FROM = 8
"""Number of graphs from which hashes are computed with numpy rather than one by one."""


# --- the cell ------------------------------------------------------------------------------------------


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


def _graph_key(cell: NB101Cell, bits: Sequence[int]) -> bytes:
    """Bytes that identify a labelled graph of at most 8 vertices (``bits``: its row bitmasks)."""
    return bytes(bits) + bytes(map(_KEY_CODES.__getitem__, cell.ops))


# --- the hash ------------------------------------------------------------------------------------------


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


# --- enumeration ---------------------------------------------------------------------------------------
# An edge x -> y (x < y) is bit number x + y(y-1)/2 of an integer, as in nasbench's generate_graphs.py, so
# one bitmask means the same edges for every number of vertices.

FORMAT_VERSION = 1


def _bit(x: int, y: int) -> int:
    return x + y * (y - 1) // 2


def _neighbour_lists(bits: int, n: int) -> tuple[list[list[int]], list[list[int]]]:
    preds = [[x for x in range(y) if bits >> _bit(x, y) & 1] for y in range(n)]
    succs = [[y for y in range(x + 1, n) if bits >> _bit(x, y) & 1] for x in range(n)]
    return preds, succs


@lru_cache(maxsize=None)
def _full_dag_masks(n: int, max_edges: int) -> tuple[int, ...]:
    """Increasing bitmasks of ``n``-vertex DAGs where every vertex but the output has an out-edge, every
    vertex but the input has an in-edge, and there are at most ``max_edges`` edges (nasbench's filter)."""
    if n == 2:
        return (1,)
    num_bits = n * (n - 1) // 2
    row_masks = [sum(1 << _bit(x, y) for y in range(x + 1, n)) for x in range(n - 1)]
    col_masks = [((1 << y) - 1) << _bit(0, y) for y in range(1, n)]
    found: list[int] = []
    step = 1 << 20
    for start in range(0, 1 << num_bits, step):
        bits = np.arange(start, min(start + step, 1 << num_bits), dtype=np.int64)
        ok = np.ones(len(bits), dtype=bool)
        for mask in row_masks + col_masks:
            ok &= (bits & mask) != 0
        found.extend(b for b in bits[ok].tolist() if b.bit_count() <= max_edges)
    return tuple(found)


def _hash_chunk(task: tuple[int, tuple[int, ...]]) -> bytes:
    """Hashes (32 ASCII hex bytes each) of every labeling of every mask, masks outer, labelings in
    ``itertools.product`` order inner."""
    n, masks = task
    labelings = [(-1, *interior, -2) for interior in itertools.product(range(3), repeat=n - 2)]
    out = []
    for bits in masks:
        preds, succs = _neighbour_lists(bits, n)
        out.extend(_hash_adjacency(preds, succs, labels) for labels in labelings)
    return "".join(out).encode("ascii")


@dataclass(frozen=True, eq=False)
class NB101Enumeration:
    """Compact result of :func:`enumerate_nb101`; row ``i`` is the ``i``-th unique cell in generation order.

    ``hashes`` (``S32``), ``num_vertices`` (``uint8``), ``edge_bits`` (``uint32``, edge ``x -> y`` is bit
    ``x + y(y-1)/2``) and ``interior_labels`` (``int8 [N, max_vertices - 2]``, hash labels of vertices
    ``1..V-2``, padded with -1). ``num_labeled`` counts the labeled graphs hashed before deduplication.
    """

    hashes: np.ndarray
    num_vertices: np.ndarray
    edge_bits: np.ndarray
    interior_labels: np.ndarray
    max_vertices: int
    max_edges: int
    num_labeled: int

    def __len__(self) -> int:
        return len(self.hashes)

    def cell(self, i: int) -> NB101Cell:
        n, bits = int(self.num_vertices[i]), int(self.edge_bits[i])
        matrix = tuple(tuple(int(x < y and bits >> _bit(x, y) & 1) for y in range(n)) for x in range(n))
        interior = tuple(HASH_OPS[label] for label in self.interior_labels[i, : n - 2].tolist())
        return NB101Cell._trusted(matrix, (INPUT, *interior, OUTPUT))

    def cells(self) -> Iterator[NB101Cell]:
        return (self.cell(i) for i in range(len(self)))

    def hash_strings(self) -> list[str]:
        return [h.decode("ascii") for h in self.hashes.tolist()]

    def _arrays(self) -> dict[str, np.ndarray]:
        meta = np.array([FORMAT_VERSION, self.max_vertices, self.max_edges, self.num_labeled], dtype=np.int64)
        return {
            "hashes": self.hashes,
            "num_vertices": self.num_vertices,
            "edge_bits": self.edge_bits,
            "interior_labels": self.interior_labels,
            "meta": meta,
        }

    def save(self, path: Path) -> None:
        """Write atomically: a temporary file in the same folder, then ``os.replace``."""
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                np.savez(f, **self._arrays())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    @classmethod
    def load(cls, path: Path) -> NB101Enumeration:
        with np.load(path, allow_pickle=False) as data:
            version, max_vertices, max_edges, num_labeled = data["meta"].tolist()
            if version != FORMAT_VERSION:
                raise ValueError(f"{path} has format version {version}, expected {FORMAT_VERSION}")
            return cls(
                data["hashes"],
                data["num_vertices"],
                data["edge_bits"],
                data["interior_labels"],
                max_vertices,
                max_edges,
                num_labeled,
            )


def default_cache_dir() -> Path:
    """``$ARCHLLM_CACHE`` if set, else ``~/.cache/archllm_hf``."""
    return Path(os.environ.get("ARCHLLM_CACHE") or Path.home() / ".cache" / "archllm_hf")


def enumeration_cache_path(
    max_vertices: int = MAX_VERTICES,
    max_edges: int = MAX_EDGES,
    cache_dir: str | os.PathLike[str] | None = None,
) -> Path:
    folder = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    return folder / f"nb101_enumeration_v{max_vertices}_e{max_edges}_f{FORMAT_VERSION}.npz"


def enumerate_nb101(
    max_vertices: int = MAX_VERTICES,
    max_edges: int = MAX_EDGES,
    workers: int | None = None,
    progress: bool = False,
    cache_dir: str | os.PathLike[str] | None = None,
    use_cache: bool = True,
) -> NB101Enumeration:
    """Every unique NAS-Bench-101 cell, keeping for each hash the first graph that nasbench's
    ``generate_graphs.py`` visits (vertices 2..``max_vertices``, bitmasks increasing, labelings in
    ``itertools.product`` order).

    The result is loaded from / saved to :func:`enumeration_cache_path` when ``use_cache``. Hashing is split
    over ``workers`` processes (``None``: ``os.cpu_count()``); the output does not depend on the worker count.
    """
    if max_vertices < 2 or max_edges < 1:
        raise ValueError(f"need max_vertices >= 2 and max_edges >= 1, got {max_vertices} and {max_edges}")
    if workers is not None and workers < 1:
        raise ValueError(f"workers must be >= 1 or None, got {workers}")
    path = enumeration_cache_path(max_vertices, max_edges, cache_dir)
    if use_cache and path.exists():
        try:
            return NB101Enumeration.load(path)
        except (OSError, ValueError, KeyError):
            pass  # unreadable or outdated: rebuild and overwrite
    result = _run_enumeration(max_vertices, max_edges, workers or os.cpu_count() or 1, progress)
    if use_cache:
        result.save(path)
    return result


def _run_enumeration(max_vertices: int, max_edges: int, workers: int, progress: bool) -> NB101Enumeration:
    tasks: list[tuple[int, tuple[int, ...]]] = []
    for n in range(2, max_vertices + 1):
        masks = _full_dag_masks(n, max_edges)
        per_task = max(1, 20_000 // 3 ** (n - 2))
        tasks.extend((n, masks[i : i + per_task]) for i in range(0, len(masks), per_task))
    total = sum(len(masks) * 3 ** (n - 2) for n, masks in tasks)

    first_row: dict[bytes, int] = {}
    vertices, bit_rows, label_codes = [], [], []
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=total, unit="graph", desc="NAS-Bench-101")
    pool = None
    if workers > 1 and len(tasks) > 1:
        methods = multiprocessing.get_all_start_methods()
        # fork avoids re-importing the package (and whatever it pulls in) in every worker
        context = multiprocessing.get_context("fork" if "fork" in methods else None)
        pool = context.Pool(min(workers, len(tasks)))
    try:
        results = pool.imap(_hash_chunk, tasks) if pool else map(_hash_chunk, tasks)
        row = 0
        for (n, masks), blob in zip(tasks, results):
            num_labelings = 3 ** (n - 2)
            for offset in range(0, len(blob), 32):
                if first_row.setdefault(blob[offset : offset + 32], row) == row:
                    vertices.append(n)
                    bit_rows.append(masks[offset // 32 // num_labelings])
                    label_codes.append(offset // 32 % num_labelings)
                row += 1
            if bar is not None:
                bar.update(len(blob) // 32)
    finally:
        if pool is not None:
            pool.terminate()
        if bar is not None:
            bar.close()

    num_vertices = np.array(vertices, dtype=np.uint8)
    codes = np.array(label_codes, dtype=np.int64)
    interior = np.full((len(codes), max(max_vertices - 2, 0)), -1, dtype=np.int8)
    for j in range(max_vertices - 2):
        power = num_vertices.astype(np.int64) - 3 - j  # product order: vertex 1 is the top base-3 digit
        has = power >= 0
        interior[has, j] = codes[has] // 3 ** power[has] % 3
    return NB101Enumeration(
        hashes=np.array(list(first_row), dtype="S32"),
        num_vertices=num_vertices,
        edge_bits=np.array(bit_rows, dtype=np.uint32),
        interior_labels=interior,
        max_vertices=max_vertices,
        max_edges=max_edges,
        num_labeled=total,
    )


# --- the space -----------------------------------------------------------------------------------------


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
        matrix = tuple(tuple(int(x < y and bits >> _bit(x, y) & 1) for y in range(n)) for x in range(n))
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


def _sample_rows(enumeration: NB101Enumeration, n: int, seed: int) -> list[NB101Cell]:
    if not 0 <= n <= len(enumeration):
        raise ValueError(f"n must be in [0, {len(enumeration)}], got {n}")
    rows = np.random.default_rng(seed).choice(len(enumeration), size=n, replace=False)
    return [enumeration.cell(int(i)) for i in rows]


__all__ = [
    "HASH_OPS",
    "MAX_EDGES",
    "MAX_VERTICES",
    "NUM_UNIQUE_CELLS",
    "NB101Cell",
    "NB101Enumeration",
    "NB101Space",
    "default_cache_dir",
    "enumerate_nb101",
    "enumeration_cache_path",
    "hash_cell",
    "nb101_hash",
    "nb101_hashes",
    "path_vertices",
    "prune",
]
