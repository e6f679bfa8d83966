"""Build the cells of a search space as a ``datasets.DatasetDict`` with a deterministic 90 / 5 / 5 split."""

from __future__ import annotations

import logging
import numbers
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import datasets
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
"""The most cells one build may sample (their records are held in memory before the parquet files are written)."""


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
            "(the records are held in memory)"
        )


def space_cells(
    space: SearchSpace, num_samples: int | None = None, seed: int = 0, progress: bool = True
) -> list:
    """All cells of a finite space, or ``num_samples`` unique seeded samples (default for a space too large to
    enumerate: its preset's ``num_cells``, 200,000 for DARTS)."""
    if num_samples is None:
        num_samples = preset(space.name).num_cells
    if num_samples is None:
        return list(space.enumerate(progress=progress))
    check_num_samples(space, num_samples)
    stream = space.iter_samples(seed=seed, unique=True)
    bar = tqdm(total=num_samples, desc=f"sampling {space.name} cells", unit="cell", disable=not progress)
    cells = []
    for cell in stream:
        cells.append(cell)
        bar.update()
        if len(cells) == num_samples:
            break
    bar.close()
    return cells


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
) -> datasets.DatasetDict:
    """Cells of ``space`` as a ``DatasetDict`` with ``train`` / ``validation`` / ``test`` splits.

    Args:
        space: a :class:`SearchSpace` or its name.
        num_samples: sample this many unique cells instead of enumerating (NB101/NB201 enumerate by default;
            DARTS samples 200,000 by default).
        seed: seed of the sampler.
        metrics: one or more metrics files (see :mod:`archllm_hf.data.metrics`) or an already loaded
            ``{canonical_id: {column: value}}``; columns are joined by canonical id, missing values are null.
        progress: show progress bars.
        proxies: label-free proxies (:data:`archllm_hf.networks.proxies.PROXIES`) of each cell's network, measured
            on the space's slim ``proxy_network`` preset (:mod:`archllm_hf.data.proxies`) and added as the columns
            ``proxy_<name>``. All seven together take about 0.13 s a NB201 cell on one CPU core.
        proxy_cache: a JSON-lines file that keeps every measured cell, so that an interrupted build resumes and a
            later one (or the graph predictor) reuses the values.

    Returns:
        A ``DatasetDict`` whose split of every row is decided by its canonical id (:func:`split_for_id`).
    """
    if isinstance(space, str):
        space = get_space(space)
    check_num_samples(space, num_samples)
    if metrics is not None and not isinstance(metrics, dict):
        metrics = load_metric_table(space, metrics).values
    cells = space_cells(space, num_samples=num_samples, seed=seed, progress=progress)
    joined = metrics  # the benchmark metrics, whose match by id is checked below
    if proxies:
        metrics = _with_proxies(space, cells, dict(metrics or {}), proxies, progress, proxy_cache)
    metric_columns = sorted({column for values in (metrics or {}).values() for column in values})
    extra_features = {name: datasets.Value(dtype) for name, dtype in space.extra_columns().items()}

    rows: dict[str, list[dict[str, Any]]] = {split: [] for split in SPLITS}
    matched = 0
    for cell in tqdm(cells, desc=f"encoding {space.name} cells", unit="cell", disable=not progress):
        record = space.to_record(cell)
        cell_metrics = (metrics or {}).get(record["id"], {})
        matched += record["id"] in (joined or {})
        for column in metric_columns:
            record[column] = cell_metrics.get(column)
        rows[split_for_id(record["id"])].append(record)
    if joined:
        logger.info("joined metrics for %d of %d cells (%d metric records)", matched, len(cells), len(joined))
        if matched == 0:
            raise ValueError(
                f"no {space.name} cell matched any of the {len(joined)} metric records by canonical id"
            )

    features = features_for(space, metric_columns, extra_features)
    return datasets.DatasetDict(
        {
            # from_list infers no columns from an empty split (a small sample can leave one empty)
            split: datasets.Dataset.from_list(split_rows, features=features)
            if split_rows
            else datasets.Dataset(features.arrow_schema.empty_table())
            for split, split_rows in rows.items()
        }
    )


__all__ = ["MAX_SAMPLED_CELLS", "build_cells_dataset", "check_num_samples", "features_for", "space_cells"]
