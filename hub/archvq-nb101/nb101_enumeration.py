"""Fast enumeration of all 423,624 unique NAS-Bench-101 cells, in the order of nasbench's ``generate_graphs.py``.

An edge x -> y (x < y) is bit number x + y(y-1)/2 of an integer, as in nasbench's generate_graphs.py, so one
bitmask means the same edges for every number of vertices. The result is compact (:class:`NB101Enumeration`) and
cached on disk (:func:`enumeration_cache_path`).
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from .nb101_cell import HASH_OPS, INPUT, MAX_EDGES, MAX_VERTICES, OUTPUT, NB101Cell
from .nb101_hash import _hash_adjacency

NUM_UNIQUE_CELLS = 423_624
"""Number of unique cells the NAS-Bench-101 paper reports for 7 vertices and 9 edges."""
FORMAT_VERSION = 1


def _bit(x: int, y: int) -> int:
    return x + y * (y - 1) // 2


def edge_matrix(bits: int, n: int) -> tuple[tuple[int, ...], ...]:
    """The ``n × n`` 0/1 matrix of the edges set in ``bits`` (edge ``x -> y`` is bit ``x + y(y-1)/2``)."""
    return tuple(tuple(int(x < y and bits >> _bit(x, y) & 1) for y in range(n)) for x in range(n))


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
        matrix = edge_matrix(bits, n)
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


def _sample_rows(enumeration: NB101Enumeration, n: int, seed: int) -> list[NB101Cell]:
    if not 0 <= n <= len(enumeration):
        raise ValueError(f"n must be in [0, {len(enumeration)}], got {n}")
    rows = np.random.default_rng(seed).choice(len(enumeration), size=n, replace=False)
    return [enumeration.cell(int(i)) for i in rows]


__all__ = [
    "NUM_UNIQUE_CELLS",
    "NB101Enumeration",
    "default_cache_dir",
    "edge_matrix",
    "enumerate_nb101",
    "enumeration_cache_path",
]
