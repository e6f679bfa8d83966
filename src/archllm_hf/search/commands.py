"""What ``archllm search`` and ``archllm train-predictor`` do, as functions."""

from __future__ import annotations

import random
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..spaces import get_space
from ..utils import atomic_write_json
from . import make_searcher
from .base import SearchResult
from .oracles import Oracle, ProxyOracle, TableOracle


def run_search(
    space: str,
    metrics: Sequence[str | Path] | None,
    objective: str | None,
    algorithm: str,
    budget: int,
    out: str | Path,
    report: str | None = None,
    prior: str | Path | None = None,
    vgae: str | Path | None = None,
    seed: int = 0,
    device: str | None = None,
    progress: bool = True,
    proxy: str | None = None,
) -> SearchResult:
    """Search ``space`` with a table oracle over ``metrics`` (maximising the column ``objective``), or with the
    data-free ``proxy`` of each cell's network (``params``, ``flops``, ``synflow``), and write
    ``out/history.jsonl``, ``out/summary.json`` and ``out/curve.png``."""
    if proxy is not None and (metrics or objective is not None or report is not None):
        raise ValueError("a proxy search uses no table: leave out metrics, objective and report")
    if proxy is None and (not metrics or objective is None):
        raise ValueError("search with metrics files and an objective column, or with a proxy: one of the two")
    if proxy is not None:
        oracle: Oracle = ProxyOracle(get_space(space), proxy)
    else:
        oracle = TableOracle.from_files(get_space(space), metrics, objective, report)
    searcher = make_searcher(algorithm, prior=prior, vgae=vgae, device=device)
    result = searcher.search(oracle, budget, seed=seed, progress=progress)
    result.save(out)
    return result


def train_predictor(
    prior: str | Path,
    metrics: Sequence[str | Path],
    label: str,
    out: str | Path,
    num_cells: int | None = None,
    seed: int = 0,
    pretrained: bool = True,
    device: str | None = None,
) -> dict[str, Any]:
    """Fine-tune the code predictor of ``prior`` on the ``label`` column of ``metrics`` and save it to ``out``.

    ``num_cells`` trains on that many random cells of the table (seeded) and reports Kendall τ and Spearman ρ on
    the rest; None trains on every cell. Returns the summary also written to ``out/predictor_summary.json``.
    """
    from scipy.stats import kendalltau, spearmanr

    from .predictors import ArchPredictor

    predictor = ArchPredictor.from_prior(prior, pretrained=pretrained, device=device)
    oracle = TableOracle.from_files(predictor.space, metrics, label)
    cells = oracle.candidates()
    if num_cells is not None and not 2 <= num_cells <= len(cells):
        raise ValueError(
            f"num_cells must be in [2, {len(cells):,}] (the table's cells with {label}), got {num_cells}"
        )
    order = list(range(len(cells)))
    random.Random(seed).shuffle(order)
    train = order[: num_cells or len(cells)]
    test = order[len(train) :]

    def labels(rows: list[int]) -> np.ndarray:
        return np.array([oracle.value(predictor.space.canonical_id(cells[i]), label) for i in rows])

    predictor.config.seed = seed
    predictor.fit([cells[i] for i in train], labels(train))
    predictor.save_pretrained(out)
    summary: dict[str, Any] = {
        "label": label,
        "num_train_cells": len(train),
        "seed": seed,
        "pretrained": pretrained,
    }
    if test:
        predicted = predictor.predict([cells[i] for i in test])
        truth = labels(test)
        summary.update(
            num_test_cells=len(test),
            kendall_tau=float(kendalltau(predicted, truth)[0]),
            spearman_rho=float(spearmanr(predicted, truth)[0]),
        )
    atomic_write_json(Path(out) / "predictor_summary.json", summary)
    return summary


__all__ = ["run_search", "train_predictor"]
