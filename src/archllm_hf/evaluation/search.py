"""The NB201 search benchmark: every searcher on the same seeds, under two protocols, on the three datasets.

* **P1, realistic**: the searcher sees the 12-epoch validation accuracy; the figure is the 200-epoch test accuracy of
  the queried cell with the best 12-epoch validation accuracy.
* **P2, as generative and LLM NAS papers report**: the searcher sees the 200-epoch test accuracy; the figure is the
  best one found.

Each (protocol, dataset, searcher, seed) run is kept in ``work/runs/`` and reused, so an interrupted benchmark
resumes run by run and several processes can share one ``work`` (each taking some protocols or searchers).
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from .._hub import read_summary
from ..data import MetricTable, load_metric_table
from ..presets import preset
from ..search import Searcher, TableOracle, make_searcher
from ..spaces import get_space
from ..training.prior import train_prior
from ..training.vgae import train_vgae
from ..training.vqvae import train_vqvae
from ..utils import atomic_save_figure, atomic_write_json
from .generation import trained
from .provenance import provenance

logger = logging.getLogger(__name__)

DATASETS = ("cifar10", "cifar100", "imagenet16")
PROTOCOLS: dict[str, tuple[str, str | None]] = {
    "P1": ("{}_valid_acc_12ep", "{}_test_acc_200ep"),
    "P2": ("{}_test_acc_200ep", None),
}
"""Protocol → (objective column, report column) templates; P2 reports its objective."""
METRIC_FILES = ("nats_tss_test_acc_200ep.csv", "minibench_hp12_accs.csv")
SEARCHERS = (
    "random",
    "evolution",
    "local",
    "bo",
    "bo_standard_ei",
    "rl",
    "generative_prior",
    "generative_finetune",
    "generative",
)
"""``bo`` and ``rl`` are arch2vec's searches as its code runs them, and ``bo_standard_ei`` is ``bo`` with the standard
expected improvement (over the best value seen, scaled by the predictive standard deviation) in place of arch2vec's
(over a fixed 1.0, scaled by the variance); ``generative`` is ours in full (fine-tuning + predictor ranking); the two
before it are its ablations."""
ABLATION_DATASETS: dict[str, tuple[str, ...]] = {
    "generative_prior": ("cifar10",),
    "generative_finetune": ("cifar10",),
}
"""The ablations of ours run on CIFAR-10 only: they show what each part adds, and each run costs minutes of CPU."""


def runs_on(searcher: str, dataset: str) -> bool:
    """Whether the benchmark runs ``searcher`` on ``dataset`` (:data:`ABLATION_DATASETS`)."""
    return dataset in ABLATION_DATASETS.get(searcher, (dataset,))


BO_BATCH_SIZE = 1
"""Cells BO queries per DNGO fit here: arch2vec's NB201 setting (it uses 5 on NB101)."""
STANDARD_EI: dict[str, Any] = {"ei_incumbent": None, "ei_scale": "std"}
"""The ``BOConfig`` fields of ``bo_standard_ei``: expected improvement over the best value seen, in units of the
predictive standard deviation."""


@dataclasses.dataclass
class NB201Models:
    """The trained models the benchmarks use: the code prior (with its VQ-VAE) and arch2vec's VGAE."""

    prior: Path
    vgae: Path

    @classmethod
    def prepare(
        cls, work: Path, prior: Path | None, vgae: Path | None, quick: bool, device: str | None
    ) -> NB201Models:
        """The given folders, or models trained into ``work`` with the NB201 preset (short schedules if ``quick``),
        reused when they are already there."""
        space = get_space("nb201")
        settings = preset("nb201")
        common = {"device": device, "progress": False}
        if prior is None:
            prior = work / "prior"
            vq_config, prior_config = settings.vqvae, settings.prior
            if quick:
                vq_config = dataclasses.replace(vq_config, epochs=min(vq_config.epochs, 2))
                prior_config = dataclasses.replace(prior_config, epochs=min(prior_config.epochs, 4))
            trained(work / "vqvae", train_vqvae, space, work / "vqvae", config=vq_config, **common)
            trained(prior, train_prior, work / "vqvae", prior, config=prior_config, **common)
        if vgae is None:
            vgae = work / "vgae"
            epochs = 2 if quick else settings.vgae_epochs
            trained(vgae, train_vgae, space, vgae, epochs=epochs, **common)
        return cls(Path(prior), Path(vgae))

    def describe(self) -> dict[str, Any]:
        """Where the models are and how they were trained (their training summaries, abridged)."""
        keys = ("model", "epochs", "train_seconds", "training_config", "config", "test")
        return {
            name: {"path": str(path), **{k: v for k, v in read_summary(path).items() if k in keys}}
            for name, path in (("prior", self.prior), ("vgae", self.vgae))
        }


def nb201_table(metrics_dir: str | Path) -> MetricTable:
    """The 200-epoch and 12-epoch NB201 tables, merged."""
    return load_metric_table(get_space("nb201"), [Path(metrics_dir) / name for name in METRIC_FILES])


def build_searchers(
    names: Sequence[str], models: NB201Models, proxy_cache: Path, device: str | None = None
) -> dict[str, Searcher]:
    """The benchmark's searchers; the generative ones share one generator, and ours ranks with the graph
    predictor (pretrained on the proxies in ``proxy_cache``, measured there first if missing)."""
    from ..generation import ArchitectureGenerator
    from ..search import search_predictor
    from ..search.configs import GenerativeSearchConfig
    from ..search.generative import GenerativeSearch

    unknown = sorted(set(names) - set(SEARCHERS))
    if unknown:
        raise ValueError(f"unknown searcher(s) {', '.join(unknown)}; choose from {', '.join(SEARCHERS)}")
    searchers: dict[str, Searcher] = {}
    for name in ("random", "evolution", "local"):
        if name in names:
            searchers[name] = make_searcher(name)
    if "bo" in names:
        searchers["bo"] = make_searcher("bo", vgae=models.vgae, device=device, batch_size=BO_BATCH_SIZE)
    if "bo_standard_ei" in names:
        searchers["bo_standard_ei"] = make_searcher(
            "bo", vgae=models.vgae, device=device, batch_size=BO_BATCH_SIZE, **STANDARD_EI
        )
    if "rl" in names:
        searchers["rl"] = make_searcher("rl", vgae=models.vgae, device=device)
    generative = [name for name in names if name.startswith("generative")]
    if generative:
        generator = ArchitectureGenerator.from_pretrained(models.prior, device=device)
        predictor = None
        if "generative" in generative:
            predictor = search_predictor("graph", generator.space, proxy_cache=proxy_cache, progress=True)
        variants = {
            "generative_prior": (False, None),
            "generative_finetune": (True, None),
            "generative": (True, predictor),
        }
        for name in generative:
            finetune, ranker = variants[name]
            searchers[name] = GenerativeSearch(generator, ranker, GenerativeSearchConfig(finetune=finetune))
    return searchers


@dataclasses.dataclass
class SearchBenchmark:
    """Settings of one run of the search benchmark (the script's options)."""

    work: Path = Path("runs/search-benchmark")
    metrics_dir: Path = Path("../shared/data/nb201")
    prior: Path | None = None
    vgae: Path | None = None
    seeds: int = 25
    budget: int = 200
    searcher_budgets: dict[str, int] = dataclasses.field(default_factory=dict)
    """Smaller budgets for some searchers (``{"bo": 100}``): arch2vec's DNGO refits after every query, so its cost
    grows with the square of the budget. Each row records its own budget."""
    datasets: Sequence[str] = DATASETS
    protocols: Sequence[str] = tuple(PROTOCOLS)
    searchers: Sequence[str] = SEARCHERS
    quick: bool = False
    device: str | None = None
    proxy_cache: Path | None = None
    """The NB201 proxies ours pretrains on (default: ``work/proxies-nb201.jsonl``, measured there once)."""
    min_seeds: int | None = None
    """Aggregate every (protocol, dataset, searcher) row with at least this many seeds' runs (each row records how
    many it has), listing the incomplete rows under ``missing``, instead of waiting for the whole grid (None)."""

    def __post_init__(self) -> None:
        if self.quick:
            self.seeds, self.budget, self.datasets = min(self.seeds, 2), min(self.budget, 50), ("cifar10",)
        self.grid = (
            ("cifar10",) if self.quick else DATASETS
        )  # the result's datasets; this process may run fewer
        for name, budget in self.searcher_budgets.items():
            if name not in SEARCHERS or isinstance(budget, bool) or not isinstance(budget, int) or budget < 1:
                raise ValueError(
                    f"searcher_budgets maps a searcher to a positive int, got {name!r}: {budget!r}"
                )
        if self.min_seeds is not None and not 2 <= self.min_seeds <= self.seeds:
            raise ValueError(
                f"min_seeds must be in [2, {self.seeds}] (a mean ± std needs two), got {self.min_seeds}"
            )
        self.work = Path(self.work) / ("quick" if self.quick else "full")
        if self.proxy_cache is None:
            self.proxy_cache = self.work / "proxies-nb201.jsonl"

    def run(self) -> dict[str, Any] | None:
        """Run what is missing; the aggregated result once every run of the full grid is there (with ``min_seeds``:
        once any row has that many), else None."""
        started = provenance()
        table = nb201_table(self.metrics_dir)
        models = NB201Models.prepare(self.work, self.prior, self.vgae, self.quick, self.device)
        searchers = build_searchers(self.searchers, models, Path(self.proxy_cache), self.device)
        jobs = [
            (protocol, dataset, name, seed)
            for protocol in self.protocols
            for dataset in self.datasets
            for name in searchers
            if runs_on(name, dataset)
            for seed in range(self.seeds)
        ]
        oracles: dict[tuple[str, str], TableOracle] = {}
        optima = {dataset: optimum_ids(table, f"{dataset}_test_acc_200ep") for dataset in self.datasets}
        for protocol, dataset, name, seed in tqdm(jobs, desc="search benchmark", unit="run"):
            path = self._run_path(protocol, dataset, name, seed)
            if path.is_file():
                continue
            key = (protocol, dataset)
            if key not in oracles:
                objective, report = (c.format(dataset) if c else None for c in PROTOCOLS[protocol])
                oracles[key] = TableOracle(get_space("nb201"), table, objective, report)
            result = searchers[name].search(oracles[key], self.budget_of(name), seed=seed)
            reported = "report" if oracles[key].report else "objective"
            atomic_write_json(
                path,
                {
                    "curve": result.trajectory(reported),
                    "seconds": result.seconds,
                    "queries_to_optimum": result.queries_until(optima[dataset]),
                    "budget": self.budget_of(name),
                },
            )
        return self.aggregate(table, models, started)

    def aggregate(
        self, table: MetricTable, models: NB201Models, started: dict[str, Any]
    ) -> dict[str, Any] | None:
        results, missing = collect_rows(
            self.work / "runs",
            self.grid,
            self.seeds,
            {name: self.budget_of(name) for name in SEARCHERS},
            min_seeds=self.min_seeds,
        )
        if not results or (missing and self.min_seeds is None):
            return None
        optima = {
            d: max(
                row[f"{d}_test_acc_200ep"]
                for row in table.values.values()
                if row.get(f"{d}_test_acc_200ep") is not None
            )
            for d in self.grid
        }
        return {
            "provenance": started,
            "settings": {
                "seeds": self.seeds,
                "datasets": list(self.grid),
                "budget": self.budget,
                "budgets": report_budgets(self.budget),
                "searcher_budgets": {
                    n: self.budget_of(n) for n in SEARCHERS if self.budget_of(n) != self.budget
                },
                "protocols": {p: {"objective": o, "report": r or o} for p, (o, r) in PROTOCOLS.items()},
                "metric_files": list(METRIC_FILES),
                "quick": self.quick,
                "ablation_datasets": {n: list(d) for n, d in ABLATION_DATASETS.items()},
                "generative_predictor": {
                    "kind": "graph",
                    "ensemble": 1,
                    "fit": dataclasses.asdict(preset("nb201").search_graph_predictor),
                    "proxy_cache": str(self.proxy_cache),
                },
            },
            "models": models.describe(),
            "optima_200ep_test": optima,
            "objective_optimum_reports": objective_optimum_reports(table, self.grid),
            "results": results,
            **({"missing": missing} if missing else {}),
        }

    def budget_of(self, searcher: str) -> int:
        """The queries each run of ``searcher`` makes."""
        return min(self.budget, self.searcher_budgets.get(searcher, self.budget))

    def _run_path(self, protocol: str, dataset: str, name: str, seed: int) -> Path:
        return run_path(self.work / "runs", protocol, dataset, name, seed)


def run_path(runs: Path, protocol: str, dataset: str, name: str, seed: int) -> Path:
    """Where the benchmark keeps one run's curve."""
    return runs / f"{protocol}-{dataset}-{name}-{seed:03d}.json"


def collect_rows(
    runs: Path, datasets: Sequence[str], seeds: int, budgets: dict[str, int], min_seeds: int | None = None
) -> tuple[dict[str, Any], dict[str, int]]:
    """The summary of every (protocol, dataset, searcher) row whose runs of seeds ``0 .. seeds - 1`` are all in
    ``runs`` (or, with ``min_seeds``, whose first ``min_seeds`` or more seeds are), nested in that order, and how
    many seeds each incomplete row has (``"P1/cifar10/bo": 7``); an ablation is neither on the datasets it does not
    run on (:func:`runs_on`). ``budgets`` gives each searcher's budget."""
    results: dict[str, Any] = {}
    missing: dict[str, int] = {}
    for protocol in PROTOCOLS:
        for dataset in datasets:
            for name in SEARCHERS:
                if not runs_on(name, dataset):
                    continue
                done: list[Path] = []
                for seed in range(seeds):  # the seeds run in order: a row's runs are its first seeds
                    path = run_path(runs, protocol, dataset, name, seed)
                    if not path.is_file():
                        break
                    done.append(path)
                if len(done) < seeds:
                    missing[f"{protocol}/{dataset}/{name}"] = len(done)
                if len(done) == seeds or (min_seeds is not None and len(done) >= max(min_seeds, 1)):
                    records = [json.loads(path.read_text()) for path in done]
                    made = {record.get("budget", len(record["curve"])) for record in records}
                    if made != {budgets[name]}:
                        raise ValueError(
                            f"{protocol}/{dataset}/{name}: its runs made {sorted(made)} queries, not the "
                            f"{budgets[name]} asked for; give the budget they were run with (--searcher-budget)"
                        )
                    cell = summarise(records, budgets[name])
                    results.setdefault(protocol, {}).setdefault(dataset, {})[name] = cell
    return results, missing


def optimum_ids(table: MetricTable, column: str) -> set[str]:
    """The cells with the table's best value in ``column``."""
    best = max(row[column] for row in table.values.values() if row.get(column) is not None)
    return {cell_id for cell_id, row in table.values.items() if row.get(column) == best}


def objective_optimum_reports(
    table: MetricTable, datasets: Sequence[str]
) -> dict[str, dict[str, list[float]]]:
    """Per protocol and dataset, what a searcher that finds the objective's optimum is credited with: the reported
    figures of the cells with the best objective in the whole table (more than one where cells tie on it),
    ascending. Not a ceiling where the objective and the report differ: a cell just below the optimum may report
    more."""
    reports: dict[str, dict[str, list[float]]] = {}
    for protocol, (objective, report) in PROTOCOLS.items():
        for dataset in datasets:
            best = optimum_ids(table, objective.format(dataset))
            column = (report or objective).format(dataset)
            figures = sorted({round(table.values[cell_id][column], 4) for cell_id in best})
            reports.setdefault(protocol, {})[dataset] = figures
    return reports


def report_budgets(budget: int) -> list[int]:
    """Budgets reported: every 25 queries up to ``budget``."""
    return [b for b in range(25, budget + 1, 25)] or [budget]


def summarise(runs: list[dict[str, Any]], budget: int) -> dict[str, Any]:
    """Mean ± std of the reported figure at each reported budget up to ``budget`` (a longer run counts its first
    ``budget`` queries), mean seconds, and queries to the optimum."""
    budgets = report_budgets(budget)
    if any(len(run["curve"]) < budget for run in runs):
        raise ValueError(f"a run has fewer than the {budget} queries to summarise")
    curves = np.array([run["curve"][:budget] for run in runs], dtype=float)
    at = curves[:, [b - 1 for b in budgets]]
    steps = [
        q if q is not None and q <= budget else None for q in (run["queries_to_optimum"] for run in runs)
    ]
    reached = sorted(s for s in steps if s is not None)
    median = float(np.median([s if s is not None else np.inf for s in steps]))
    return {
        "mean": [round(float(v), 4) for v in at.mean(axis=0)],
        "std": [round(float(v), 4) for v in at.std(axis=0)],
        "mean_curve": [round(float(v), 4) for v in curves.mean(axis=0)],
        "seconds_per_run": round(float(np.mean([run["seconds"] for run in runs])), 3),
        "median_queries_to_optimum": None if not np.isfinite(median) else median,
        "runs_reaching_optimum": len(reached),
        "num_runs": len(runs),
        "budget": budget,
    }


def plot_search(result: dict[str, Any], path: Path) -> Path:
    """Mean reported accuracy against queries: one panel per (protocol, dataset), one line per searcher."""
    import matplotlib.pyplot as plt

    protocols = list(result["results"])
    columns = max(len(by_dataset) for by_dataset in result["results"].values())
    fig, axes = plt.subplots(
        len(protocols), columns, figsize=(5 * columns, 3.5 * len(protocols)), squeeze=False
    )
    for row, protocol in enumerate(protocols):
        for ax in axes[row, len(result["results"][protocol]) :]:
            ax.set_visible(False)
    panels = [
        (axes[row, column], protocol, dataset)
        for row, protocol in enumerate(protocols)
        for column, dataset in enumerate(result["results"][protocol])
    ]
    shown: list[str] = []
    for ax, protocol, dataset in panels:
        for name, cell in result["results"][protocol][dataset].items():
            curve = cell["mean_curve"]
            color = (
                f"C{SEARCHERS.index(name) % 10}"  # one colour a searcher in every panel, whatever is missing
            )
            ax.plot(range(1, len(curve) + 1), curve, color=color, linewidth=2 if name == "generative" else 1)
            if name not in shown:
                shown.append(name)
        ax.axhline(result["optima_200ep_test"][dataset], color="black", linestyle=":", linewidth=1)
        low = min(
            cell["mean_curve"][min(24, len(cell["mean_curve"]) - 1)]
            for cell in result["results"][protocol][dataset].values()
        )
        ax.set_ylim(low - 0.5, result["optima_200ep_test"][dataset] + 0.2)
        ax.set_title(f"{protocol}: {dataset}")
        ax.set_xlabel("queries")
        ax.set_ylabel("200-epoch test accuracy (%)")
    order = sorted(shown, key=SEARCHERS.index)
    handles = [
        plt.Line2D([], [], color=f"C{SEARCHERS.index(n) % 10}", linewidth=2 if n == "generative" else 1)
        for n in order
    ]
    fig.legend(handles, order, loc="lower center", ncol=len(order), fontsize=7)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    return atomic_save_figure(fig, path)


__all__ = [
    "ABLATION_DATASETS",
    "DATASETS",
    "PROTOCOLS",
    "SEARCHERS",
    "STANDARD_EI",
    "NB201Models",
    "SearchBenchmark",
    "build_searchers",
    "collect_rows",
    "nb201_table",
    "objective_optimum_reports",
    "optimum_ids",
    "plot_search",
    "run_path",
    "runs_on",
    "summarise",
]
