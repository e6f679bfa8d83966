"""The predictor benchmark: Kendall τ and Spearman ρ of accuracy predictors trained on a few cells and tested on the
rest, with each part of ours ablated beside the baselines.

* **NB201**: the TNASP / PINAT / NN-Former split (78 / 156 / 469 / 781 / 1,563 training cells, every other cell of
  NB201 as the test set), the 200-epoch test accuracy of CIFAR-10, CIFAR-100 and ImageNet16-120.
* **NB101, DARTS** (small): NASLib's subsets (NB101: one sampled run's validation accuracy, 292 distinct cells;
  DARTS: NB301 surrogate predictions, 725 genotypes); 100 random training cells, the rest as the test set.

Predictors (see :data:`PREDICTOR_NOTES`): ours (``graph``) and its ablations, the baselines, and every proxy alone.
Each (dataset, predictor, training size, seed) result is kept in ``work/<space>/runs/`` and reused, so an interrupted
benchmark resumes fit by fit and several processes can share one ``work`` (each taking some predictors).
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

from ..data import load_metric_table
from ..data.proxies import DEFAULT_PROXIES
from ..search.predictors import (
    Arch2VecEmbedder,
    Arch2VecMLPPredictor,
    ArchPredictor,
    GINPredictor,
    Predictor,
    ProxyMLPPredictor,
)
from ..spaces import get_space
from ..utils import atomic_save_figure
from .provenance import provenance
from .search import DATASETS, NB201Models, nb201_table

PREDICTOR_NOTES = {
    "graph": "ours: graph predictor, proxy-pretrained, reads the proxies",
    "graph_scratch": "ours without pretraining (same network and inputs)",
    "graph_no_proxy_input": "ours, proxy-pretrained, reads the graph alone",
    "graph_scratch_no_proxy_input": "the graph-only network without pretraining",
    "gin": "GIN on the graph",
    "gin_proxies": "GIN on the graph + the proxies",
    "proxy_mlp": "MLP on the proxy vector",
    "code_pretrained": "code predictor from the prior (Arch-VQ)",
    "code_scratch": "code predictor from scratch",
    "arch2vec_mlp": "arch2vec embedding + MLP",
}
PROXY_ROWS = tuple(f"proxy_{name}" for name in DEFAULT_PROXIES)
"""Each proxy alone, ranking the test cells with no fit."""
PREDICTORS = (*PREDICTOR_NOTES, *PROXY_ROWS)
NEEDS_MODELS = ("code_pretrained", "code_scratch", "arch2vec_mlp")
"""Predictors that need the NB201 prior or VGAE (NB201 only)."""
TRAINING_SIZES = (78, 156, 469, 781, 1563)


@dataclasses.dataclass(frozen=True)
class SpaceBenchmark:
    """Where a space's labels come from and how it is split."""

    metrics: tuple[str, ...]
    label: str
    """The label column, ``{dataset}`` filled in."""
    datasets: tuple[str, ...]
    sizes: tuple[int, ...]
    caveat: str
    scoped: dict[str, tuple[tuple[str, ...], tuple[int, ...]]] = dataclasses.field(default_factory=dict)
    """Predictors measured on some datasets and training sizes only: name -> (datasets, sizes)."""

    def measures(self, name: str, dataset: str, size: int) -> bool:
        """Whether the benchmark fits ``name`` on ``dataset`` at ``size`` training cells."""
        if name not in self.scoped:
            return True
        datasets, sizes = self.scoped[name]
        return dataset in datasets and size in sizes


SPACE_BENCHMARKS = {
    "nb201": SpaceBenchmark(
        metrics=("nats_tss_test_acc_200ep.csv", "minibench_hp12_accs.csv"),
        label="{dataset}_test_acc_200ep",
        datasets=DATASETS,
        sizes=TRAINING_SIZES,
        caveat="every other NB201 cell (15,625 minus the training cells) is the test set",
        # the proxy-input ablation where "pretraining pays" is judged: CIFAR-10, the two smallest sizes
        scoped={
            name: (("cifar10",), (78, 156))
            for name in ("graph_no_proxy_input", "graph_scratch_no_proxy_input")
        },
    ),
    "nb101": SpaceBenchmark(
        metrics=("naslib_zc_nasbench101_subset.json",),
        label="naslib_{dataset}_val_accuracy",
        datasets=("cifar10",),
        sizes=(100,),
        caveat="NASLib's 500-record subset: 292 distinct cells after pruning, 55 of them the 2-vertex cell; the label "
        "is one sampled run's 108-epoch validation accuracy (noisy)",
    ),
    "darts": SpaceBenchmark(
        metrics=("naslib_zc_nasbench301_subset.json",),
        label="nb301_{dataset}_val_accuracy",
        datasets=("cifar10",),
        sizes=(100,),
        caveat="NASLib's 725 genotypes; the label is an NB301 surrogate model's prediction, not a trained result",
    ),
}


class SingleProxy(Predictor):
    """One proxy as a predictor: no fit, the proxy's value ranks the cells."""

    def __init__(self, features: Any, proxy: str):
        self.space, self.features, self.proxy = features.space, features, proxy
        self.name = f"proxy_{proxy}"
        super().__init__()

    def _fit(self, cells: Sequence[Any], targets: np.ndarray) -> None:
        pass

    def _predict(self, cells: Sequence[Any]) -> np.ndarray:
        return np.array([row[self.proxy] for row in self.features.values_of(cells)], dtype=np.float64)


def build_predictors(
    names: Sequence[str],
    space_name: str,
    work: Path,
    proxy_cache: Path,
    models: NB201Models | None = None,
    device: str | None = None,
    progress: bool = False,
) -> dict[str, Predictor]:
    """The named predictors of one space; ours pretrains once into ``work`` (reused on later runs)."""
    from .._hub import load_vgae
    from ..search.graph_predictor import build_graph_predictor

    unknown = sorted(set(names) - set(PREDICTORS))
    if unknown:
        raise ValueError(f"unknown predictor(s) {', '.join(unknown)}; choose from {', '.join(PREDICTORS)}")
    space = get_space(space_name)
    if models is None and set(names) & set(NEEDS_MODELS):
        raise ValueError(f"{', '.join(sorted(set(names) & set(NEEDS_MODELS)))} need the NB201 prior and VGAE")

    def graph(pretrained: bool, proxy_input: bool) -> Predictor:
        folder = work / f"graph-pretrained{'' if proxy_input else '-no-proxy-input'}"
        return build_graph_predictor(space, proxy_cache, pretrained, proxy_input, folder, progress=progress)

    shared: dict[str, Any] = {}

    # the space's proxy features, read and scaled once for every predictor that reads them
    def features() -> Any:
        if "features" not in shared:
            shared["features"] = graph(False, True).features
        return shared["features"]

    factories = {
        "graph": lambda: graph(True, True),
        "graph_scratch": lambda: graph(False, True),
        "graph_no_proxy_input": lambda: graph(True, False),
        "graph_scratch_no_proxy_input": lambda: graph(False, False),
        "gin": lambda: GINPredictor(space),
        "gin_proxies": lambda: GINPredictor(space, features=features()),
        "proxy_mlp": lambda: ProxyMLPPredictor(features()),
        "code_pretrained": lambda: ArchPredictor.from_prior(models.prior, pretrained=True, device=device),
        "code_scratch": lambda: ArchPredictor.from_prior(models.prior, pretrained=False, device=device),
        "arch2vec_mlp": lambda: Arch2VecMLPPredictor(
            Arch2VecEmbedder(load_vgae(models.vgae, device=device), space)
        ),
    }
    for name in PROXY_ROWS:
        factories[name] = lambda name=name: SingleProxy(features(), name.removeprefix("proxy_"))
    return {name: factories[name]() for name in names}


@dataclasses.dataclass
class PredictorBenchmark:
    space: str = "nb201"
    work: Path = Path("runs/predictor-benchmark")
    metrics_dir: Path | None = None
    proxy_cache: Path | None = None
    prior: Path | None = None
    vgae: Path | None = None
    seeds: int = 10
    sizes: Sequence[int] | None = None
    datasets: Sequence[str] | None = None
    predictors: Sequence[str] = PREDICTORS
    quick: bool = False
    device: str | None = None
    progress: bool = True
    fit: bool = True
    """False: fit nothing, only gather the fits already in ``work``."""

    def __post_init__(self) -> None:
        if self.space not in SPACE_BENCHMARKS:
            raise ValueError(
                f"no predictor benchmark for {self.space!r}; choose from {', '.join(SPACE_BENCHMARKS)}"
            )
        settings = SPACE_BENCHMARKS[self.space]
        self.sizes = tuple(self.sizes or settings.sizes)
        self.datasets = tuple(self.datasets or settings.datasets)
        self.metrics_dir = Path(self.metrics_dir or f"../shared/data/{self.space}")
        if self.space != "nb201":
            self.predictors = [name for name in self.predictors if name not in NEEDS_MODELS]
        if self.quick:
            self.seeds, self.sizes, self.datasets = min(self.seeds, 2), self.sizes[:2], self.datasets[:1]
        self.work = Path(self.work) / self.space / ("quick" if self.quick else "full")
        self.proxy_cache = Path(self.proxy_cache or Path(self.work).parent / "proxies.jsonl")

    def _table(self) -> Any:
        if self.space == "nb201":
            return nb201_table(self.metrics_dir)
        names = SPACE_BENCHMARKS[self.space].metrics
        return load_metric_table(get_space(self.space), [self.metrics_dir / name for name in names])

    def run(self) -> dict[str, Any] | None:
        started = provenance()
        table = self._table()
        settings = SPACE_BENCHMARKS[self.space]
        label = settings.label
        ids = sorted(
            cell_id
            for cell_id in table.values
            if label.format(dataset=self.datasets[0]) in table.values[cell_id]
        )
        cells = [table.cells[cell_id] for cell_id in ids]
        models = None
        if set(self.predictors) & set(NEEDS_MODELS) and (self.fit or self.prior is not None):
            models = NB201Models.prepare(self.work, self.prior, self.vgae, self.quick, self.device)
        if not self.fit:
            return self.aggregate(models, started, len(ids))
        predictors = build_predictors(
            self.predictors, self.space, self.work, self.proxy_cache, models, self.device, self.progress
        )
        labels_of = {
            d: np.array([table.values[i][label.format(dataset=d)] for i in ids]) for d in self.datasets
        }
        jobs = [
            (d, name, n, s)
            for d in self.datasets
            for name in predictors
            for n in self.sizes
            if settings.measures(name, d, n)
            for s in range(self.seeds)
        ]
        for dataset, name, size, seed in tqdm(
            jobs, desc=f"{self.space} predictors", unit="fit", disable=not self.progress
        ):
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
            _write_json(
                path,
                {
                    "kendall_tau": float(kendalltau(predicted, labels[test])[0]),
                    "spearman_rho": float(spearmanr(predicted, labels[test])[0]),
                    "fit_seconds": fit_seconds,
                    "test_cells": int(len(test)),
                },
            )
        return self.aggregate(models, started, len(ids))

    def aggregate(
        self, models: NB201Models | None, started: dict[str, Any], num_cells: int
    ) -> dict[str, Any] | None:
        settings = SPACE_BENCHMARKS[self.space]
        results: dict[str, Any] = {}
        missing = []
        for dataset in self.datasets:
            for name in self.predictors:
                for size in self.sizes:
                    if not settings.measures(name, dataset, size):
                        continue
                    runs = []
                    for seed in range(self.seeds):  # the seeds 0, 1, ... measured so far
                        path = self._run_path(dataset, name, size, seed)
                        if not path.is_file():
                            break
                        runs.append(json.loads(path.read_text()))
                    if len(runs) < self.seeds:
                        missing.append(f"{dataset}/{name}/{size}: {len(runs)} of {self.seeds} seeds")
                    if not runs:
                        continue
                    results.setdefault(dataset, {}).setdefault(name, {})[str(size)] = {
                        "seeds": len(runs),
                        **{
                            key: {
                                "mean": round(float(np.mean([r[key] for r in runs])), 4),
                                "std": round(float(np.std([r[key] for r in runs])), 4),
                            }
                            for key in ("kendall_tau", "spearman_rho", "fit_seconds")
                        },
                    }
        if not results:
            return None
        notes = {name: PREDICTOR_NOTES.get(name, "this proxy alone, no fit") for name in self.predictors}
        for name, (datasets, sizes) in settings.scoped.items():
            if name in notes:
                notes[name] += (
                    f" (measured on {', '.join(datasets)} at {', '.join(map(str, sizes))} cells only)"
                )
        return {
            "provenance": started,
            "settings": {
                "space": self.space,
                "seeds": self.seeds,
                "training_sizes": list(self.sizes),
                "labels": settings.label,
                "labelled_cells": num_cells,
                "test_set": settings.caveat,
                "proxies": list(DEFAULT_PROXIES),
                "quick": self.quick,
            },
            "predictors": notes,
            "models": models.describe() if models is not None else None,
            "results": results,
            "not_measured": missing,
        }

    def _run_path(self, dataset: str, name: str, size: int, seed: int) -> Path:
        return self.work / "runs" / f"{dataset}-{name}-{size:05d}-{seed:03d}.json"


def _write_json(path: Path, data: dict[str, Any]) -> None:
    from ..utils import atomic_write_json

    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_json(path, data)


def plot_prediction(result: dict[str, Any], path: Path) -> Path:
    """Kendall τ against training-set size, one panel per dataset (the fitted predictors; proxies alone dashed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    datasets = list(result["results"])
    fig, axes = plt.subplots(1, len(datasets), figsize=(5.5 * len(datasets), 4.5), squeeze=False)
    plotted = [n for n in PREDICTORS if not (n.startswith("proxy_") and n != "proxy_mlp")]
    colours = {name: f"C{i % 10}" for i, name in enumerate(plotted)}  # one colour a predictor in every panel
    for ax, dataset in zip(axes.flat, datasets):
        for name, by_size in result["results"][dataset].items():
            sizes = [int(s) for s in by_size]
            if name not in colours:
                continue
            ax.errorbar(
                sizes,
                [by_size[str(s)]["kendall_tau"]["mean"] for s in sizes],
                yerr=[by_size[str(s)]["kendall_tau"]["std"] for s in sizes],
                label=name,
                color=colours[name],
                marker="o",
                capsize=2,
                linewidth=2.5 if name == "graph" else 1.2,
            )
        ax.set_xscale("log")
        ax.set_title(f"{result['settings']['space']} {dataset}")
        ax.set_xlabel("training cells")
        ax.set_ylabel("Kendall τ on the test cells")
        ax.grid(alpha=0.3)
    for ax in axes.flat:
        ax.legend(fontsize=6)
    fig.tight_layout()
    return atomic_save_figure(fig, path)


__all__ = [
    "PREDICTORS",
    "PREDICTOR_NOTES",
    "SPACE_BENCHMARKS",
    "TRAINING_SIZES",
    "PredictorBenchmark",
    "SingleProxy",
    "build_predictors",
    "plot_prediction",
]
