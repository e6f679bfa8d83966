"""The search benchmark's aggregation: complete rows only, the rest listed as missing, and its plot and README
table with rows that are still running."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from archllm_hf.evaluation.search import (
    ABLATION_DATASETS,
    DATASETS,
    PROTOCOLS,
    SEARCHERS,
    NB201Models,
    build_searchers,
    collect_rows,
    objective_optimum_reports,
    plot_search,
    run_path,
    runs_on,
    summarise,
)

BUDGETS = dict.fromkeys(SEARCHERS, 50)


def write_runs(
    runs: Path, protocol: str, dataset: str, name: str, seeds: range, budget: int, start: float
) -> None:
    runs.mkdir(parents=True, exist_ok=True)
    for seed in seeds:
        curve = [start + seed + 0.01 * q for q in range(budget)]
        record = {"curve": curve, "seconds": 1.5, "queries_to_optimum": 10 + seed if seed % 2 else None}
        run_path(runs, protocol, dataset, name, seed).write_text(json.dumps(record))


def search_result(results: dict, budget: int = 50, quick: bool = False, **extra) -> dict:
    """A search benchmark result around ``results`` (2 seeds; ``extra``: more settings, or ``missing``)."""
    missing = extra.pop("missing", None)
    settings = {
        "seeds": 2,
        "budget": budget,
        "budgets": list(range(25, budget + 1, 25)),
        "quick": quick,
        "protocols": {p: {"objective": o, "report": r or o} for p, (o, r) in PROTOCOLS.items()},
        **extra,
    }
    return {"settings": settings, "results": results, **({"missing": missing} if missing else {})}


def search_section(render_readme, monkeypatch, result: dict, stem: str) -> str:
    """The README's search section rendered from ``result`` as if it were ``benchmarks/results/STEM.json``."""
    monkeypatch.setattr(render_readme, "_load", lambda name: result if name == f"{stem}.json" else None)
    return "\n".join(render_readme.search_tables())


@pytest.fixture
def runs(tmp_path: Path) -> Path:
    runs = tmp_path / "runs"
    for protocol in PROTOCOLS:
        write_runs(runs, protocol, "cifar10", "random", range(2), 50, 90.0)
    write_runs(runs, "P2", "cifar100", "random", range(2), 50, 70.0)
    write_runs(runs, "P2", "cifar10", "generative", range(1), 50, 93.0)  # 1 of 2 seeds: still running
    return runs


def test_only_complete_rows_are_summarised_and_the_rest_counted(runs):
    results, missing = collect_rows(runs, ["cifar10", "cifar100"], seeds=2, budgets=BUDGETS)
    assert set(results) == set(PROTOCOLS)
    assert list(results["P1"]) == ["cifar10"] and list(results["P2"]) == ["cifar10", "cifar100"]
    assert all(
        list(by_name) == ["random"] for by_dataset in results.values() for by_name in by_dataset.values()
    )
    cell = results["P2"]["cifar10"]["random"]
    assert cell["num_runs"] == 2 and cell["runs_reaching_optimum"] == 1
    assert cell["mean"][-1] == pytest.approx(90.0 + 0.5 + 0.49)  # seeds 0 and 1 at the 50th query
    assert missing["P2/cifar10/generative"] == 1
    assert missing["P1/cifar100/random"] == 0
    run = [(p, d, n) for p in PROTOCOLS for d in ("cifar10", "cifar100") for n in SEARCHERS if runs_on(n, d)]
    assert len(missing) == len(run) - sum(len(d) for by in results.values() for d in by.values())
    assert "P1/cifar100/generative_prior" not in missing  # an ablation runs on CIFAR-10 only
    assert missing["P1/cifar10/generative_prior"] == 0


def test_a_partial_result_plots_and_renders_with_its_running_rows_named(
    runs, tmp_path, monkeypatch, render_readme
):
    results, missing = collect_rows(runs, ["cifar10", "cifar100"], seeds=2, budgets=BUDGETS)
    results["P2"]["cifar10"]["generative"] = dict(results["P2"]["cifar10"]["random"])  # as if it had finished
    del missing["P2/cifar10/generative"]
    result = search_result(results, quick=True, missing=missing, generative_predictor={"kind": "graph"})
    result["optima_200ep_test"] = {"cifar10": 94.37, "cifar100": 73.51}
    assert plot_search(result, tmp_path / "curves.png").stat().st_size > 0

    text = search_section(render_readme, monkeypatch, result, "search-nb201-quick")
    row = next(line for line in text.splitlines() if line.startswith("| ours: + predictor ranking"))
    assert "| not run yet |" in row  # CIFAR-100 has no generative row
    assert "P1 cifar100 random (0)" in text and "P2 cifar10 generative (" not in text
    assert not any("seeds)" in line for line in text.splitlines() if line.startswith("|"))  # all seeds in
    assert "ours ranks its pools with the graph predictor" in text.lower()


def test_rows_with_enough_seeds_are_summarised_with_their_count(runs, monkeypatch, render_readme):
    write_runs(runs, "P2", "cifar10", "generative", range(2, 3), 50, 93.0)  # seeds 0 and 2: seed 1 is missing
    results, missing = collect_rows(runs, ["cifar10"], seeds=2, budgets=BUDGETS, min_seeds=1)
    assert results["P2"]["cifar10"]["generative"]["num_runs"] == 1  # its first seeds only, in order
    assert missing["P2/cifar10/generative"] == 1
    assert (
        "generative"
        not in collect_rows(runs, ["cifar10"], seeds=2, budgets=BUDGETS, min_seeds=2)[0]["P2"]["cifar10"]
    )
    result = search_result(results, missing=missing)
    text = search_section(render_readme, monkeypatch, result, "search-nb201")
    row = next(line for line in text.splitlines() if line.startswith("| ours: + predictor ranking"))
    assert row.count("(1 seeds)") == 1 and "written before every run was done" in text
    assert "P2 cifar10 generative (" not in text.split("Left out")[1]  # shown with its count, not left out


def test_a_searcher_with_a_smaller_budget_is_summarised_and_shown_up_to_it(runs, monkeypatch, render_readme):
    write_runs(runs, "P2", "cifar10", "bo", range(2), 50, 91.0)
    with pytest.raises(ValueError, match=r"P2/cifar10/bo: its runs made \[50\] queries, not the 25"):
        collect_rows(runs, ["cifar10"], seeds=2, budgets={**BUDGETS, "bo": 25})
    results, _ = collect_rows(runs, ["cifar10"], seeds=2, budgets=BUDGETS)
    bo = results["P2"]["cifar10"]["bo"]
    assert bo["budget"] == 50 and len(bo["mean"]) == 2 and len(bo["mean_curve"]) == 50
    assert bo["mean"][1] == pytest.approx(91.5 + 0.49)
    assert bo["runs_reaching_optimum"] == 1  # seed 1 reaches the optimum at query 11
    first_ten = summarise([json.loads(run_path(runs, "P2", "cifar10", "bo", 1).read_text())], 10)
    assert first_ten["runs_reaching_optimum"] == 0 and first_ten["median_queries_to_optimum"] is None
    with pytest.raises(ValueError, match="fewer than the 60 queries"):
        summarise([{"curve": [1.0] * 50, "seconds": 1.0, "queries_to_optimum": None}], 60)
    result = search_result(results, budget=100, searcher_budgets={"bo": 50})
    text = search_section(render_readme, monkeypatch, result, "search-nb201")
    row = next(line for line in text.splitlines() if line.startswith("| BO"))
    assert row.startswith("| BO (DNGO on arch2vec) | 91.99 ± 0.50 / – |")  # at 50 queries, none at 100
    assert "`bo` ran 50 queries a run" in text


def test_a_protocol_credits_finding_its_objectives_optimum_with_that_cells_report(monkeypatch, render_readme):
    from archllm_hf.data.metrics import MetricTable

    values = {
        "a": {"cifar10_valid_acc_12ep": 80.0, "cifar10_test_acc_200ep": 93.0},
        "b": {"cifar10_valid_acc_12ep": 85.0, "cifar10_test_acc_200ep": 92.0},
        "c": {"cifar10_valid_acc_12ep": 85.0, "cifar10_test_acc_200ep": 92.5},
        "d": {"cifar10_valid_acc_12ep": 70.0, "cifar10_test_acc_200ep": 94.0},
    }
    credited = objective_optimum_reports(MetricTable(cells=dict.fromkeys(values), values=values), ["cifar10"])
    assert credited == {"P1": {"cifar10": [92.0, 92.5]}, "P2": {"cifar10": [94.0]}}

    cell = summarise([{"curve": [91.0] * 50, "seconds": 1.0, "queries_to_optimum": None}] * 2, 50)
    result = search_result({p: {"cifar10": {"random": cell}} for p in PROTOCOLS})
    result["objective_optimum_reports"] = credited
    text = search_section(render_readme, monkeypatch, result, "search-nb201")
    assert (
        "P1: a run that finds the objective's optimum is credited with 92.00 or 92.50 (CIFAR-10); a cell"
        in text
    )
    assert "P2: a run that finds the objective's optimum is credited with 94.00 (CIFAR-10)." in text


def test_an_ablation_runs_on_cifar10_only_and_shows_a_dash_elsewhere(runs, monkeypatch, render_readme):
    assert runs_on("generative", "imagenet16") and runs_on("generative_prior", "cifar10")
    assert not runs_on("generative_finetune", "cifar100")
    write_runs(runs, "P2", "cifar10", "generative_prior", range(2), 50, 92.0)
    write_runs(runs, "P2", "cifar100", "generative_prior", range(2), 50, 72.0)  # left over, out of scope
    results, missing = collect_rows(runs, ["cifar10", "cifar100"], seeds=2, budgets=BUDGETS)
    assert (
        "generative_prior" in results["P2"]["cifar10"] and "generative_prior" not in results["P2"]["cifar100"]
    )
    result = search_result(results, missing=missing, ablation_datasets={"generative_prior": ["cifar10"]})
    text = search_section(render_readme, monkeypatch, result, "search-nb201")
    row = next(line for line in text.splitlines() if line.startswith("| ours: prior only"))
    assert row.split(" | ")[2] == "–" and row.endswith(", – |")
    assert "`generative_prior` runs on CIFAR-10 only." in text


def test_the_standard_ei_row_is_arch2vecs_bo_with_the_textbook_acquisition(tmp_path):
    """``bo_standard_ei`` is ``bo`` (same embedding, DNGO and batch) but for its expected improvement: over the best
    value seen, scaled by the predictive standard deviation, where ``bo`` keeps arch2vec's (a fixed 1.0 over the
    variance); it runs on every dataset."""
    from fixtures import tiny_vgae

    models = NB201Models(prior=tmp_path / "unused", vgae=tiny_vgae(tmp_path / "vgae"))
    searchers = build_searchers(["bo", "bo_standard_ei"], models, proxy_cache=tmp_path / "proxies.jsonl")
    ours, arch2vecs = searchers["bo_standard_ei"].config, searchers["bo"].config
    assert (arch2vecs.ei_incumbent, arch2vecs.ei_scale) == (1.0, "variance")
    assert (ours.ei_incumbent, ours.ei_scale) == (None, "std")
    assert dataclasses.replace(ours, ei_incumbent=1.0, ei_scale="variance") == arch2vecs
    assert all(runs_on("bo_standard_ei", dataset) for dataset in DATASETS)
    assert "bo_standard_ei" not in ABLATION_DATASETS
