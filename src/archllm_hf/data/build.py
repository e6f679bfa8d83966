"""Build the cells of a search space as a ``datasets.DatasetDict`` with a deterministic 90 / 5 / 5 split."""

from __future__ import annotations

import hashlib
import itertools
import json
import logging
import numbers
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import datasets
import pyarrow as pa
from tqdm.auto import tqdm

from ..presets import preset
from ..spaces import SearchSpace, get_space
from .metrics import Metrics, load_metric_table
from .splits import SPLITS, split_for_id

logger = logging.getLogger(__name__)


def features_for(space: SearchSpace, metric_columns: Iterable[str] = (), extra: dict[str, Any] | None = None):
    """The ``datasets.Features`` of a space's cells dataset (the same core columns in every space)."""
    columns: dict[str, Any] = {
        "id": datasets.Value("string"),
        "adjacency": datasets.List(datasets.List(datasets.Value("int8"))),
        "operations": datasets.List(datasets.Value("string")),
        "num_vertices": datasets.Value("int32"),
        "num_edges": datasets.Value("int32"),
    }
    if space.text_column is not None:
        columns[space.text_column] = datasets.Value("string")
    columns.update(extra or {})
    for column in metric_columns:
        columns[column] = datasets.Value("float64")
    return datasets.Features(columns)


MAX_SAMPLED_CELLS = 5_000_000
"""The most cells one build may sample. The records stream to disk, but the unique sampler keeps the canonical id of
every cell it has drawn (about 200 bytes each in a Python set, so about 1 GB at this limit)."""

WRITE_BATCH_SIZE = 1_000
"""Records of one split held before they are appended to the split's Arrow file: a build holds at most
``3 * WRITE_BATCH_SIZE`` records, however many cells it writes."""

CELLS_CACHE = "archllm_cells"
"""The folder under ``datasets.config.HF_DATASETS_CACHE`` that keeps each build's Arrow files by default."""

CELLS_CACHE_ENV = "ARCHLLM_CELLS_CACHE"
"""An environment variable naming another folder for the builds' Arrow files (:func:`default_cells_cache`)."""


def check_num_samples(space: SearchSpace, num_samples: Any) -> None:
    """Refuse, before any work, a sample count that is not a positive int or that the space cannot give."""
    if num_samples is None:
        return
    if isinstance(num_samples, bool) or not isinstance(num_samples, numbers.Integral):
        raise ValueError(f"num_samples must be an int, got {num_samples!r}")
    if num_samples <= 0:
        raise ValueError(f"num_samples must be positive, got {num_samples}")
    if space.num_cells is not None and num_samples > space.num_cells:
        raise ValueError(
            f"cannot sample {num_samples:,} distinct {space.name} cells: the space has {space.num_cells:,}; "
            f"ask for at most {space.num_cells:,}, or leave --num-samples out to enumerate them all"
        )
    if num_samples > MAX_SAMPLED_CELLS:
        raise ValueError(
            f"num_samples {num_samples:,} is over the limit of {MAX_SAMPLED_CELLS:,} cells per build "
            "(the sampler keeps the id of every cell drawn, to draw each only once)"
        )


def _num_samples(space: SearchSpace, num_samples: int | None) -> int | None:
    """The cells to sample: ``num_samples``, else the space's preset (``None``: enumerate the space)."""
    return preset(space.name).num_cells if num_samples is None else num_samples


def iter_space_cells(
    space: SearchSpace, num_samples: int | None = None, seed: int = 0, progress: bool = True
) -> Iterator[Any]:
    """The cells of :func:`space_cells`, one at a time, in the same order.

    Nothing is kept but the space's own enumeration (NB101 loads its cached one) or, when sampling, the unique
    sampler's set of the ids drawn so far (hence :data:`MAX_SAMPLED_CELLS`).
    """
    num_samples = _num_samples(space, num_samples)
    if num_samples is None:
        yield from space.enumerate(progress=progress)
        return
    check_num_samples(space, num_samples)
    with tqdm(
        total=num_samples, desc=f"sampling {space.name} cells", unit="cell", disable=not progress
    ) as bar:
        for cell in itertools.islice(space.iter_samples(seed=seed, unique=True), num_samples):
            yield cell
            bar.update()


def space_cells(
    space: SearchSpace, num_samples: int | None = None, seed: int = 0, progress: bool = True
) -> list:
    """All cells of a finite space, or ``num_samples`` unique seeded samples (default for a space too large to
    enumerate: its preset's ``num_cells``, 200,000 for DARTS), as a list (:func:`iter_space_cells` streams them)."""
    return list(iter_space_cells(space, num_samples=num_samples, seed=seed, progress=progress))


def _with_proxies(
    space: SearchSpace,
    cells: list,
    metrics: Metrics,
    proxies: Sequence[str],
    progress: bool,
    cache: str | Path | None = None,
) -> Metrics:
    from .proxies import proxy_table

    values = proxy_table(space, cells, proxies, cache=cache, progress=progress)
    merged = {cell_id: dict(row) for cell_id, row in metrics.items()}
    for cell_id, row in values.items():
        merged.setdefault(cell_id, {}).update({f"proxy_{name}": value for name, value in row.items()})
    return merged


def build_cells_dataset(
    space: SearchSpace | str,
    num_samples: int | None = None,
    seed: int = 0,
    metrics: str | Path | Sequence[str | Path] | Metrics | None = None,
    progress: bool = True,
    proxies: Sequence[str] = (),
    proxy_cache: str | Path | None = None,
    cache_dir: str | Path | None = None,
) -> datasets.DatasetDict:
    """Cells of ``space`` as a ``DatasetDict`` with ``train`` / ``validation`` / ``test`` splits.

    The build streams: each cell is drawn (or enumerated), encoded once and its record appended to its split's
    Arrow file in batches of :data:`WRITE_BATCH_SIZE`, so memory does not grow with the records; the splits are
    then memory-mapped from those files (as ``datasets`` does with its own cache). The files are written in a
    temporary folder inside ``cache_dir``, removed on any error or interruption, and renamed into place whole when
    the build succeeds: a build that did not finish leaves nothing.

    Args:
        space: a :class:`SearchSpace` or its name.
        num_samples: sample this many unique cells instead of enumerating (NB101/NB201 enumerate by default;
            DARTS samples 200,000 by default); at most :data:`MAX_SAMPLED_CELLS`.
        seed: seed of the sampler.
        metrics: one or more metrics files (see :mod:`archllm_hf.data.metrics`) or an already loaded
            ``{canonical_id: {column: value}}``; columns are joined by canonical id, missing values are null.
        progress: show progress bars.
        proxies: label-free proxies (:data:`archllm_hf.networks.proxies.PROXIES`) of each cell's network, measured
            on the space's slim ``proxy_network`` preset (:mod:`archllm_hf.data.proxies`) and added as the columns
            ``proxy_<name>``. All seven together take about 0.13 s a NB201 cell on one CPU core. With proxies the
            cells (not their records) are kept in a list, measured first, then encoded.
        proxy_cache: a JSON-lines file that keeps every measured cell, so that an interrupted build resumes and a
            later one (or the graph predictor) reuses the values.
        cache_dir: the folder that keeps the build's Arrow files (default: :func:`default_cells_cache`), one
            sub-folder per distinct build (space, sample count, seed, metrics, proxies, package version): the
            same build again replaces its files rather than adding more. Never an output folder that may be
            uploaded.

    Returns:
        A ``DatasetDict`` whose split of every row is decided by its canonical id (:func:`split_for_id`), rows of
        a split in the order the cells were drawn.
    """
    if isinstance(space, str):
        space = get_space(space)
    check_num_samples(space, num_samples)
    if metrics is not None and not isinstance(metrics, dict):
        metrics = load_metric_table(space, metrics).values
    cells: Iterable[Any] = iter_space_cells(space, num_samples=num_samples, seed=seed, progress=progress)
    joined = metrics  # the benchmark metrics, whose match by id is checked below
    if proxies:
        cells = list(cells)
        metrics = _with_proxies(space, cells, dict(metrics or {}), proxies, progress, proxy_cache)
    elif _num_samples(space, num_samples) is None:  # an enumeration has no sampling bar: count the encoding
        cells = tqdm(
            cells,
            total=space.num_cells,
            desc=f"encoding {space.name} cells",
            unit="cell",
            disable=not progress,
        )
    metric_columns = sorted({column for values in (metrics or {}).values() for column in values})
    extra_features = {name: datasets.Value(dtype) for name, dtype in space.extra_columns().items()}
    features = features_for(space, metric_columns, extra_features)

    root = Path(cache_dir) if cache_dir is not None else default_cells_cache()
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{space.name}-", suffix=".tmp", dir=root))
    final = root / f"{space.name}-{_build_key(space, num_samples, seed, metrics, proxies)}"
    try:
        with _split_writers(tmp, features) as writers:
            matched = 0
            for cell in cells:
                record = space.to_record(cell)
                cell_metrics = (metrics or {}).get(record["id"], {})
                matched += record["id"] in (joined or {})
                for column in metric_columns:
                    record[column] = cell_metrics.get(column)
                writers.write(split_for_id(record["id"]), record)
        if joined:
            logger.info(
                "joined metrics for %d of %d cells (%d metric records)",
                matched,
                writers.num_rows,
                len(joined),
            )
            if matched == 0:
                raise ValueError(
                    f"no {space.name} cell matched any of the {len(joined)} metric records by canonical id"
                )
        _swap_in(tmp, final)
        return datasets.DatasetDict(
            {
                split: datasets.Dataset.from_file(
                    str(final / f"{split}.arrow"),
                    info=datasets.DatasetInfo(features=features.copy()),
                    split=split,
                )
                for split in SPLITS
            }
        )
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _build_key(
    space: SearchSpace, num_samples: int | None, seed: int, metrics: Metrics | None, proxies: Sequence[str]
) -> str:
    """A digest of everything a build's rows depend on: the same build gets the same folder, so repeated builds
    replace their files instead of piling up."""
    from .. import __version__

    described = {
        "space": space.name,
        "space_kwargs": space.space_kwargs,
        "num_samples": _num_samples(space, num_samples),
        "seed": seed,
        "proxies": list(proxies),
        "version": __version__,
    }
    digest = hashlib.sha256(json.dumps(described, sort_keys=True, default=repr).encode())
    for cell_id in sorted(metrics or {}):  # a table row at a time: a large table is never one string
        digest.update(json.dumps([cell_id, metrics[cell_id]], sort_keys=True, default=repr).encode())
    return digest.hexdigest()[:16]


def _swap_in(tmp: Path, final: Path) -> None:
    """Rename the finished build ``tmp`` to ``final``, replacing an earlier build there (whose files stay readable
    to datasets already memory-mapping them). A build of the same key another process swapped in first is kept:
    it holds the same rows."""
    old = final.with_name(f".{final.name}.{uuid.uuid4().hex}.old")
    try:
        os.replace(final, old)
    except FileNotFoundError:
        old = None
    try:
        os.replace(tmp, final)
    except OSError:
        if not final.is_dir():
            raise
        shutil.rmtree(tmp, ignore_errors=True)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def default_cells_cache() -> Path:
    """Where :func:`build_cells_dataset` keeps its Arrow files by default: ``$ARCHLLM_CELLS_CACHE`` when set, else
    ``<HF_DATASETS_CACHE>/archllm_cells``."""
    folder = os.environ.get(CELLS_CACHE_ENV)
    return Path(folder) if folder else Path(datasets.config.HF_DATASETS_CACHE) / CELLS_CACHE


class _SplitWriters:
    """One Arrow stream file a split (``<split>.arrow`` in ``folder``), each fed records in batches."""

    def __init__(self, folder: Path, features: datasets.Features, batch_size: int = WRITE_BATCH_SIZE):
        self.features = features
        self.batch_size = batch_size
        self.schema = features.arrow_schema
        self.num_rows = 0
        self._pending: dict[str, list[dict[str, Any]]] = {split: [] for split in SPLITS}
        self._files: list[pa.NativeFile] = []
        self._writers: dict[str, pa.ipc.RecordBatchStreamWriter] = {}
        try:
            for split in SPLITS:
                self._files.append(pa.OSFile(str(folder / f"{split}.arrow"), "wb"))
                self._writers[split] = pa.ipc.new_stream(self._files[-1], self.schema)
        except BaseException:
            self.close()
            raise

    def write(self, split: str, record: dict[str, Any]) -> None:
        """Append ``record`` to ``split``; a full batch goes to the file."""
        pending = self._pending[split]
        pending.append(self.features.encode_example(record))
        self.num_rows += 1
        if len(pending) >= self.batch_size:
            self._flush(split)

    def _flush(self, split: str) -> None:
        pending = self._pending[split]
        if pending:
            self._writers[split].write_batch(pa.RecordBatch.from_pylist(pending, schema=self.schema))
            pending.clear()

    def close(self) -> None:
        """Close every writer and file (a batch not yet flushed is dropped)."""
        try:
            for writer in self._writers.values():
                writer.close()
        finally:
            for handle in self._files:
                handle.close()

    def finish(self) -> None:
        """Write the batches still held; every file then holds its split whole."""
        for split in SPLITS:
            self._flush(split)


@contextmanager
def _split_writers(folder: Path, features: datasets.Features) -> Iterator[_SplitWriters]:
    """:class:`_SplitWriters` in ``folder``, finished if the block succeeds and closed in any case."""
    writers = _SplitWriters(folder, features, WRITE_BATCH_SIZE)
    try:
        yield writers
        writers.finish()
    finally:
        writers.close()


__all__ = [
    "CELLS_CACHE",
    "CELLS_CACHE_ENV",
    "MAX_SAMPLED_CELLS",
    "WRITE_BATCH_SIZE",
    "build_cells_dataset",
    "check_num_samples",
    "default_cells_cache",
    "features_for",
    "iter_space_cells",
    "space_cells",
]
