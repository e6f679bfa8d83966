"""NAS-Bench-101: cells, the official graph hash, and fast enumeration of all 423,624 unique cells.

A cell is a DAG of 2..7 vertices given by an upper-triangular 0/1 matrix and one op per vertex: ``input``
first, ``output`` last, and ``conv3x3-bn-relu`` / ``conv1x1-bn-relu`` / ``maxpool3x3`` in between. As in the
nasbench API, a cell is first *pruned* (vertices off every input-to-output path are dropped) and then checked
against the limits of at most 7 vertices and 9 edges.

The canonical id is the official NAS-Bench-101 hash of the pruned cell, byte-identical with
``nasbench.lib.graph_util.hash_module`` with labels ``conv3x3=0, conv1x1=1, maxpool3x3=2, input=-1,
output=-2``. It is computed here by our own list-based implementation of that algorithm.
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
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InvalidCellError
from .base import PAD, VALID, GraphEncoding, SearchSpace, Validity, as_int_matrix

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


def prune(cell: NB101Cell) -> NB101Cell | None:
    """Keep the vertices on some input-to-output path; None if the input cannot reach the output.

    This is nasbench's ``ModelSpec`` pruning: a vertex survives if it is reachable from vertex 0 and can reach
    vertex ``V-1``. Returns ``cell`` itself when nothing is removed.
    """
    n, m = cell.num_vertices, cell.matrix
    forward = {0}
    for v in range(n):  # upper triangular, so one pass in index order is a full forward search
        if v in forward:
            forward.update(w for w in range(v + 1, n) if m[v][w])
    backward = {n - 1}
    for v in range(n - 1, -1, -1):
        if v in backward:
            backward.update(u for u in range(v) if m[u][v])
    if n - 1 not in forward:
        return None
    keep = sorted(forward & backward)
    if len(keep) == n:
        return cell
    matrix = tuple(tuple(m[i][j] for j in keep) for i in keep)
    return NB101Cell._trusted(matrix, tuple(cell.ops[i] for i in keep))


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
    m = pruned.matrix
    n = len(m)
    preds = [[u for u in range(v) if m[u][v]] for v in range(n)]
    succs = [[w for w in range(v + 1, n) if m[v][w]] for v in range(n)]
    return _hash_adjacency(preds, succs, pruned.labeling())


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


class NB101Space(SearchSpace[NB101Cell]):
    """The NAS-Bench-101 space: at most 7 vertices and 9 edges after pruning, 3 interior ops.

    Graph encoding: the pruned cell in 7 slots; a cell with ``V < 7`` vertices gets ``7 - V`` isolated
    ``<pad>`` slots inserted before the output vertex, so the output is always slot 6.
    """

    name = "nb101"
    text_column = None
    num_nodes = MAX_VERTICES
    node_vocab = (PAD, INPUT, "conv1x1-bn-relu", "conv3x3-bn-relu", "maxpool3x3", OUTPUT)

    def __init__(self, cache_dir: str | os.PathLike[str] | None = None, workers: int | None = None) -> None:
        self.cache_dir = cache_dir
        self.workers = workers
        self._op_ids = {op: i for i, op in enumerate(self.node_vocab)}

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

    def validate(self, cell: NB101Cell) -> Validity:
        pruned = prune(cell)
        if pruned is None:
            return Validity(False, "the input cannot reach the output")
        if pruned.num_vertices > MAX_VERTICES:
            return Validity(
                False, f"{pruned.num_vertices} vertices after pruning, at most {MAX_VERTICES} allowed"
            )
        if pruned.num_edges > MAX_EDGES:
            return Validity(False, f"{pruned.num_edges} edges after pruning, at most {MAX_EDGES} allowed")
        if pruned.ops[0] != INPUT:
            return Validity(False, f"the first vertex must be {INPUT!r}, got {pruned.ops[0]!r}")
        if pruned.ops[-1] != OUTPUT:
            return Validity(False, f"the last vertex must be {OUTPUT!r}, got {pruned.ops[-1]!r}")
        for i, op in enumerate(pruned.ops[1:-1], start=1):
            if op not in HASH_OPS:
                return Validity(
                    False,
                    f"interior vertex {i} (after pruning) has op {op!r}; "
                    f"interior ops must be one of {', '.join(HASH_OPS)}",
                )
        return VALID

    def canonical_id(self, cell: NB101Cell) -> str:
        """Official NAS-Bench-101 hash of the pruned cell."""
        self.check(cell)
        return hash_cell(cell)

    def arch2vec_valid(self, adjacency: Any, ops: Any) -> bool:
        """arch2vec's NB101 validity of a decoded graph: nasbench ``is_valid(ModelSpec(adjacency, labels))``.

        The graph is taken as decoded: every slot is a vertex (``<pad>`` slots too, labelled ``<pad>``), the
        spec is pruned, and only then are the limits checked (input reaches output, at most 7 vertices and 9
        edges, ``input`` first, ``output`` last, the 3 ops in between). So a ``<pad>`` slot or a dangling
        vertex is harmless unless it lies on an input-to-output path. A matrix that is not strictly upper
        triangular (``ModelSpec`` rejects it; arch2vec's ``triu(1)`` decoding never produces one) is invalid.

        Raises ``ValueError`` unless the arrays are ``[num_nodes, num_nodes]`` 0/1 and ``[num_nodes]`` ids.
        """
        adjacency, ops = self._arch2vec_arrays(adjacency, ops)
        if not np.isin(adjacency, (0, 1)).all():
            raise ValueError("adjacency entries must be 0 or 1")
        if np.tril(adjacency).any():
            return False
        matrix = tuple(tuple(row) for row in adjacency.astype(int).tolist())
        cell = NB101Cell._trusted(matrix, tuple(self.node_vocab[i] for i in ops.tolist()))
        return bool(self.validate(cell))

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
        slots = [*range(n - 1), self.num_nodes - 1]
        adjacency = np.zeros((self.num_nodes, self.num_nodes), dtype=np.int8)
        adjacency[np.ix_(slots, slots)] = pruned.matrix
        ops = np.zeros(self.num_nodes, dtype=np.int64)
        ops[slots] = [self._op_ids[op] for op in pruned.ops]
        return GraphEncoding(adjacency=adjacency, ops=ops, mask=ops != 0)

    def from_graph(self, adjacency: np.ndarray, ops: np.ndarray) -> NB101Cell:
        """Drop the ``<pad>`` slots (which must have no edges) and build the cell; it is not pruned."""
        adjacency, ops = self._check_graph_arrays(adjacency, ops)
        pads = ops == 0
        bad = np.flatnonzero(pads & (adjacency.any(axis=0) | adjacency.any(axis=1)))
        if len(bad):
            raise InvalidCellError(f"<pad> slot(s) {bad.tolist()} have edges; pad slots must be isolated")
        keep = np.flatnonzero(~pads)
        return NB101Cell(adjacency[np.ix_(keep, keep)], [self.node_vocab[i] for i in ops[keep].tolist()])

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
    "prune",
]
