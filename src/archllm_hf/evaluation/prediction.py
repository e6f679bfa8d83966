"""The NB201 predictor benchmark: Kendall τ and Spearman ρ of four accuracy predictors, trained on a few cells and
tested on the rest of the space.

Predictors: ours, the code predictor initialised from the pretrained prior (``code_pretrained``); the same network
from scratch (``code_scratch``); a GIN on the graph encoding (``gin``); an MLP on arch2vec VGAE embeddings
(``arch2vec_mlp``). Each (dataset, predictor, training size, seed) result is kept in ``work/runs/`` and reused.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from scipy.stats import kendalltau, spearmanr
from tqdm.auto import tqdm

from .._hub import load_vgae
from ..search.predictors import Arch2VecEmbedder, Arch2VecMLPPredictor, ArchPredictor, GINPredictor, Predictor
from ..spaces import get_space
from ..utils import atomic_save_figure, atomic_write_json
from .provenance import provenance
from .search import DATASETS, NB201Models, nb201_table

PREDICTORS = ("code_pretrained", "code_scratch", "gin", "arch2vec_mlp")
TRAINING_SIZES = (78, 156, 469, 781, 1563)


def build_predictors(
    names: Sequence[str], models: NB201Models, device: str | None = None
) -> dict[str, Predictor]:
    unknown = sorted(set(names) - set(PREDICTORS))
    if unknown:
        raise ValueError(f"unknown predictor(s) {', '.join(unknown)}; choose from {', '.join(PREDICTORS)}")
    space = get_space("nb201")
    factories = {
        "code_pretrained": lambda: ArchPredictor.from_prior(models.prior, pretrained=True, device=device),
        "code_scratch": lambda: ArchPredictor.from_prior(models.prior, pretrained=False, device=device),
        "gin": lambda: GINPredictor(space),
        "arch2vec_mlp": lambda: Arch2VecMLPPredictor(
            Arch2VecEmbedder(load_vgae(models.vgae, device=device), space)
        ),
    }
    return {name: factories[name]() for name in names}


@dataclasses.dataclass
class PredictorBenchmark:
    work: Path = Path("runs/predictor-benchmark")
    metrics_dir: Path = Path("../shared/data/nb201")
    prior: Path | None = None
    vgae: Path | None = None
    seeds: int = 10
    sizes: Sequence[int] = TRAINING_SIZES
    datasets: Sequence[str] = DATASETS
    predictors: Sequence[str] = PREDICTORS
    quick: bool = False
    device: str | None = None

    def __post_init__(self) -> None:
        if self.quick:
            self.seeds, self.sizes, self.datasets = min(self.seeds, 2), (78, 156), ("cifar10",)
        self.work = Path(self.work) / ("quick" if self.quick else "full")

    def run(self) -> dict[str, Any] | None:
        started = provenance()
        table = nb201_table(self.metrics_dir)
        ids = sorted(table.values)
        cells = [table.cells[cell_id] for cell_id in ids]
        models = NB201Models.prepare(self.work, self.prior, self.vgae, self.quick, self.device)
        predictors = build_predictors(self.predictors, models, self.device)
        jobs = [
            (d, name, n, s)
            for d in self.datasets
            for name in predictors
            for n in self.sizes
            for s in range(self.seeds)
        ]
        labels_of = {
            d: np.array([table.values[cell_id][f"{d}_test_acc_200ep"] for cell_id in ids])
            for d in self.datasets
        }
        for dataset, name, size, seed in tqdm(jobs, desc="predictor benchmark", unit="fit"):
            path = self._run_path(dataset, name, size, seed)
            if path.is_file():
                continue
            labels = labels_of[dataset]
            order = np.random.default_rng(seed).permutation(len(ids))
            train, test = order[:size], order[size:]
            predictor = predictors[name]
            predictor.config.seed = seed
            start = time.perf_counter()
            predictor.fit([cells[i] for i in train], labels[train])
            fit_seconds = time.perf_counter() - start
            predicted = predictor.predict([cells[i] for i in test])
            atomic_write_json(
                path,
                {
                    "kendall_tau": float(kendalltau(predicted, labels[test])[0]),
                    "spearman_rho": float(spearmanr(predicted, labels[test])[0]),
                    "fit_seconds": fit_seconds,
                    "test_cells": int(len(test)),
                },
            )
        return self.aggregate(models, started)

    def aggregate(self, models: NB201Models, started: dict[str, Any]) -> dict[str, Any] | None:
        results: dict[str, Any] = {}
        for dataset in self.datasets:
            for name in PREDICTORS:
                for size in self.sizes:
                    paths = [self._run_path(dataset, name, size, seed) for seed in range(self.seeds)]
                    if not all(path.is_file() for path in paths):
                        return None
                    runs = [json.loads(path.read_text()) for path in paths]
                    results.setdefault(dataset, {}).setdefault(name, {})[str(size)] = {
                        key: {
                            "mean": round(float(np.mean([r[key] for r in runs])), 4),
                            "std": round(float(np.std([r[key] for r in runs])), 4),
                        }
                        for key in ("kendall_tau", "spearman_rho", "fit_seconds")
                    }
        return {
            "provenance": started,
            "settings": {
                "seeds": self.seeds,
                "training_sizes": list(self.sizes),
                "labels": "{dataset}_test_acc_200ep",
                "test_set": "every other NB201 cell (15,625 minus the training cells)",
                "quick": self.quick,
            },
            "models": models.describe(),
            "results": results,
        }

    def _run_path(self, dataset: str, name: str, size: int, seed: int) -> Path:
        return self.work / "runs" / f"{dataset}-{name}-{size:05d}-{seed:03d}.json"


def plot_prediction(result: dict[str, Any], path: Path) -> Path:
    """Kendall τ against training-set size, one panel per dataset."""
    import matplotlib.pyplot as plt

    datasets = list(result["results"])
    fig, axes = plt.subplots(1, len(datasets), figsize=(5 * len(datasets), 4), squeeze=False)
    for ax, dataset in zip(axes.flat, datasets):
        for name, by_size in result["results"][dataset].items():
            sizes = [int(s) for s in by_size]
            ax.errorbar(
                sizes,
                [by_size[str(s)]["kendall_tau"]["mean"] for s in sizes],
                yerr=[by_size[str(s)]["kendall_tau"]["std"] for s in sizes],
                label=name,
                marker="o",
                capsize=2,
            )
        ax.set_xscale("log")
        ax.set_title(dataset)
        ax.set_xlabel("training cells")
        ax.set_ylabel("Kendall τ on the rest of NB201")
    axes.flat[0].legend()
    fig.tight_layout()
    return atomic_save_figure(fig, path)


__all__ = ["PREDICTORS", "TRAINING_SIZES", "PredictorBenchmark", "build_predictors", "plot_prediction"]
