"""The generation benchmark resumes method by method: finished results and trained models are reused."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest

from archllm_hf.evaluation.generation import GenerationBenchmark, trained
from archllm_hf.spaces import get_space


class CountingMethod:
    def __init__(self, value: float):
        self.value, self.calls = value, 0

    def __call__(self, folder):
        self.calls += 1
        return {"scores": {"validity": self.value}}


def test_cached_measures_once_then_reuses(tmp_path):
    method = CountingMethod(0.5)
    bench = GenerationBenchmark(work=tmp_path, methods=["uniform"])
    first = bench.cached("uniform", tmp_path / "uniform", method)
    again = bench.cached("uniform", tmp_path / "uniform", method)
    assert method.calls == 1
    assert first == again
    assert first["scores"] == {"validity": 0.5}
    assert first["measured_by"]["command"] and first["measured_by"]["device"] == "cpu"
    assert json.loads((tmp_path / "uniform" / "result.json").read_text()) == first


def test_fresh_measures_again_only_the_selected_methods(tmp_path):
    old, new = CountingMethod(0.1), CountingMethod(0.9)
    GenerationBenchmark(work=tmp_path, methods=["uniform"]).cached("uniform", tmp_path / "uniform", old)
    other = GenerationBenchmark(work=tmp_path, methods=["direct_lm"], fresh=True)
    kept = other.cached("uniform", tmp_path / "uniform", new)
    assert kept["scores"]["validity"] == 0.1 and new.calls == 0
    redo = GenerationBenchmark(work=tmp_path, methods=["uniform"], fresh=True)
    assert redo.cached("uniform", tmp_path / "uniform", new)["scores"]["validity"] == 0.9 and new.calls == 1


def test_method_left_out_without_result_is_none(tmp_path):
    method = CountingMethod(0.5)
    bench = GenerationBenchmark(work=tmp_path, methods=["archllm"])
    assert bench.cached("uniform", tmp_path / "uniform", method) is None
    assert method.calls == 0
    assert not (tmp_path / "uniform").exists()


def test_a_quick_run_waits_for_the_slow_llm_only_when_named(tmp_path):
    from archllm_hf.evaluation.generation import FULL_RUN_ONLY, METHODS, default_methods

    assert FULL_RUN_ONLY and set(FULL_RUN_ONLY) < set(METHODS)
    fast = [m for m in METHODS if m not in FULL_RUN_ONLY]
    assert default_methods(quick=False) == list(METHODS)
    assert default_methods(quick=True) == fast
    assert GenerationBenchmark(work=tmp_path, quick=True, methods=fast).required_methods() == fast
    assert GenerationBenchmark(work=tmp_path, quick=True, methods=["uniform"]).required_methods() == fast
    named = GenerationBenchmark(work=tmp_path, quick=True, methods=list(FULL_RUN_ONLY))
    assert named.required_methods() == list(METHODS)
    full = GenerationBenchmark(work=tmp_path, quick=False, methods=["uniform"])
    assert full.required_methods() == list(METHODS)  # several processes share a full run's --work


def test_a_run_can_write_its_file_without_the_methods_it_leaves_out(tmp_path, monkeypatch):
    from archllm_hf.evaluation import generation

    monkeypatch.setattr(generation, "NUM_SAMPLES", 50)
    others = [m for m in generation.METHODS if m != "uniform"]
    bench = GenerationBenchmark(work=tmp_path, methods=["uniform"], left_out=others[1:])
    assert bench.required_methods() == [m for m in generation.METHODS if m in (others[0], "uniform")]
    assert bench.run_space("nb201") is None  # others[0] is neither measured nor left out
    # a left-out method that an earlier run finished is kept; the file lists only the unmeasured ones
    finished = {"scores": {"validity": 0.25}}
    (tmp_path / "nb201" / others[0]).mkdir(parents=True)
    (tmp_path / "nb201" / others[0] / "result.json").write_text(json.dumps(finished))
    result = GenerationBenchmark(work=tmp_path, methods=["uniform"], left_out=others).run_space("nb201")
    assert list(result["methods"]) == [m for m in generation.METHODS if m in (others[0], "uniform")]
    assert result["methods"][others[0]] == finished and result["left_out"] == others[1:]
    assert result["methods"]["uniform"]["scores"]["num_generated"] == 50
    assert not any((tmp_path / "nb201" / m).exists() for m in others[1:])  # left out: nothing run
    with pytest.raises(ValueError, match="both measured"):
        GenerationBenchmark(work=tmp_path, methods=["uniform"], left_out=["uniform"])
    with pytest.raises(ValueError, match="unknown methods"):
        GenerationBenchmark(work=tmp_path, left_out=["gan"])


def test_trained_reuses_a_finished_model(tmp_path):
    calls = []

    def train(out_dir):
        calls.append(out_dir)
        out_dir.mkdir()
        summary = {"train_seconds": 12.5}
        (out_dir / "training_summary.json").write_text(json.dumps(summary))
        return summary

    assert trained(tmp_path / "model", train, tmp_path / "model") == {"train_seconds": 12.5}
    assert trained(tmp_path / "model", train, tmp_path / "model") == {"train_seconds": 12.5}
    assert len(calls) == 1


def _tiny_cells(space_name: str, n: int = 40):
    import datasets

    from archllm_hf.spaces import get_space

    space = get_space(space_name)
    records = [space.to_record(cell) for cell in space.sample(n, seed=5)]
    cut = n * 8 // 10
    return space, datasets.DatasetDict(
        {
            "train": datasets.Dataset.from_list(records[:cut]),
            "validation": datasets.Dataset.from_list(records[cut : cut + 4]),
            "test": datasets.Dataset.from_list(records[cut + 4 :]),
        }
    )


def test_vgae_method_scores_both_rules_on_arch2vecs_graphs(tmp_path, monkeypatch):
    """The VGAE row on DARTS: arch2vec's normal-cell graphs, decoded strictly and by its own rule."""
    from archllm_hf.evaluation import generation

    monkeypatch.setattr(generation, "NUM_SAMPLES", 64)
    space, cells = _tiny_cells("darts")
    context = generation.MethodContext(
        space, cells, GenerationBenchmark(work=tmp_path, quick=True, device="cpu")
    )
    result = generation.vgae(context, tmp_path)
    assert result["graph_space"] == {"name": "darts", "ops": "darts", "cells": "normal"}
    assert (
        result["training_config"]["eval_mode_after_first_epoch"]
        and result["training_config"]["split"] == "project"
    )
    strict, lenient = result["scores"], result["arch2vec_scores"]
    assert strict["num_generated"] == lenient["num_generated"] == 64
    assert "novelty" in strict and "novelty" not in lenient
    assert 0.0 <= result["arch2vec_normal_cell_validity"] <= 1.0
    edges, mask = result["disallowed_edges"], get_space("darts", cells="normal").adjacency_mask()
    assert all(not mask[i, j] for i, j in (row["edge"] for row in edges["most_common"]))
    assert edges["share"] >= max((row["share"] for row in edges["most_common"]), default=0.0)
    assert edges["num_graphs"] == 64  # the samples
    assert result["reconstruction_disallowed_edges"]["num_graphs"] == len(cells["test"])  # the held-out cells
    # on DARTS' normal-cell graph arch2vec's rule (none allowed, output edges unchecked) admits every strict decode
    assert lenient["num_valid"] >= strict["num_valid"]


def test_disallowed_edges_counts_the_edges_outside_the_space():
    """Hand-made DARTS normal-cell graphs: one real cell, the same with an edge between the two op-nodes of one
    intermediate node (twice), and one with an edge into an input node as well."""
    from archllm_hf.evaluation.generation import disallowed_edges

    space = get_space("darts", cells="normal")
    real = space.to_graph(space.random_cell(random.Random(0))).adjacency
    siblings = real.copy()
    siblings[2, 3] = 1
    both = siblings.copy()
    both[0, 1] = 1
    result = disallowed_edges(space, np.stack([real, siblings, siblings, both]))
    assert result["share"] == 0.75 and result["num_graphs"] == 4
    assert result["most_common"] == [{"edge": [2, 3], "share": 0.75}, {"edge": [0, 1], "share": 0.25}]
    assert disallowed_edges(space, np.stack([real])) == {"num_graphs": 1, "share": 0.0, "most_common": []}
    none = disallowed_edges(space, np.zeros((0, 11, 11), dtype=np.int8))
    assert none == {"num_graphs": 0, "share": 0.0, "most_common": []}
    with pytest.raises(ValueError, match="adjacency must have shape"):
        disallowed_edges(space, real)


def test_uniform_method_has_arch2vec_scores_of_its_cells(tmp_path, monkeypatch):
    from archllm_hf.evaluation import generation

    monkeypatch.setattr(generation, "NUM_SAMPLES", 50)
    space, cells = _tiny_cells("nb201")
    context = generation.MethodContext(
        space, cells, GenerationBenchmark(work=tmp_path, quick=True, device="cpu")
    )
    result = generation.uniform(context, tmp_path)
    # valid by construction under both rules; distinct cells are distinct graphs
    assert result["scores"]["validity"] == result["arch2vec_scores"]["validity"] == 1.0
    assert result["scores"]["num_unique_valid"] == result["arch2vec_scores"]["num_unique_valid"]


def test_the_llm_and_its_matched_prior_train_on_nb201s_whole_split_and_a_subset_elsewhere(
    monkeypatch, tmp_path
):
    from types import SimpleNamespace

    import datasets

    from archllm_hf.evaluation.generation import llm_cells, llm_config, matched_config
    from archllm_hf.presets import preset
    from archllm_hf.spaces import get_space
    from archllm_hf.training import llm

    def context(space: str, quick: bool = False) -> SimpleNamespace:
        rows = datasets.Dataset.from_dict({"row": list(range(5_000))})
        cells = datasets.DatasetDict({"train": rows, "validation": rows, "test": rows.select(range(3))})
        settings = GenerationBenchmark(work=tmp_path, quick=quick)
        return SimpleNamespace(space=get_space(space), cells=cells, settings=settings)

    subset, epochs = llm_cells(context("nb201"))
    assert len(subset["train"]) == 5_000 and epochs == 1.0  # the whole split
    assert len(subset["validation"]) == 500 and len(subset["test"]) == 3
    subset, epochs = llm_cells(context("nb101"))
    rows = subset["train"]["row"]
    assert len(rows) == 4_000 == len(set(rows)) and rows != list(range(4_000)) and epochs == 2.0
    subset, epochs = llm_cells(context("nb201", quick=True))
    assert len(subset["train"]) == 4_000 and epochs == 1.0

    monkeypatch.setattr(llm, "fetch_smollm2", lambda: tmp_path / "smollm2.gguf")
    fine_tune, matched = llm_config(2.0), matched_config("nb101", 2.0)
    assert (
        fine_tune.lora
        and fine_tune.save_steps == 25
        and fine_tune.base_model == str(tmp_path / "smollm2.gguf")
    )
    assert (matched.epochs, matched.batch_size) == (fine_tune.epochs, fine_tune.batch_size) == (2.0, 32)
    assert matched.base_model is None and matched.hidden_size == preset("nb101").prior.hidden_size


def test_the_llm_rows_put_their_priors_over_archllms_vqvae(tmp_path, monkeypatch):
    """The pretrained-LLM and matched-prior rows differ from ``archllm`` in the prior only: they train no VQ-VAE of
    their own, and a quick run's VQ-VAE is the quick one wherever it is trained."""
    from archllm_hf.evaluation import generation

    calls: list[tuple[Path, dict]] = []

    class Stop(Exception):
        pass

    def record(self, folder, train, source, **kwargs):
        calls.append((Path(folder), kwargs))
        if train is generation.train_prior:
            assert Path(source) == tmp_path / "nb201" / "archllm" / "vqvae"
            raise Stop
        return {}

    monkeypatch.setattr(generation.MethodContext, "trained", record)
    space, cells = _tiny_cells("nb201")
    context = generation.MethodContext(space, cells, GenerationBenchmark(work=tmp_path, quick=True))
    with pytest.raises(Stop):  # pretrained_llm shares matched_prior's _prior_row
        generation.matched_prior(context, tmp_path / "nb201" / "matched_prior")
    with pytest.raises(Stop):
        generation.ours(context, tmp_path / "nb201" / "archllm")
    vqvae_folders = {folder for folder, kwargs in calls if "config" in kwargs and folder.name == "vqvae"}
    assert vqvae_folders == {tmp_path / "nb201" / "archllm" / "vqvae"}
    assert {kwargs["config"].epochs for folder, kwargs in calls if folder.name == "vqvae"} == {2}


def test_an_llm_row_trained_over_its_own_vqvae_reports_that_one(tmp_path, monkeypatch):
    """A prior trained before the rows shared archllm's VQ-VAE names its own: the row's VQ-VAE summary is that one."""
    from archllm_hf.evaluation import generation

    class Stop(Exception):
        pass

    own = tmp_path / "nb201" / "matched_prior" / "vqvae"
    summaries: list[Path] = []
    monkeypatch.setattr(generation.MethodContext, "trained", lambda self, folder, *a, **k: {})
    monkeypatch.setattr(generation, "read_prior_info", lambda folder: None)
    monkeypatch.setattr(generation, "prior_vqvae", lambda folder, info: (str(own), {}))
    monkeypatch.setattr(generation, "read_summary", lambda folder: summaries.append(Path(folder)) or {})

    def stop(*args, **kwargs):
        raise Stop

    monkeypatch.setattr(generation.ArchitectureGenerator, "from_pretrained", stop)
    space, cells = _tiny_cells("nb201")
    context = generation.MethodContext(space, cells, GenerationBenchmark(work=tmp_path, quick=True))
    with pytest.raises(Stop):
        generation.matched_prior(context, tmp_path / "nb201" / "matched_prior")
    assert summaries == [own]
    summaries.clear()
    monkeypatch.setattr(
        generation,
        "prior_vqvae",
        lambda folder, info: (str(generation.shared_vqvae(Path(folder).parent)), {}),
    )
    with pytest.raises(Stop):
        generation.matched_prior(context, tmp_path / "nb201" / "matched_prior")
    assert summaries == []  # over archllm's VQ-VAE: its training summary stands


def test_the_script_refuses_a_method_both_measured_and_left_out():
    import subprocess
    import sys

    script = Path(__file__).resolve().parents[1] / "benchmarks" / "generation.py"
    done = subprocess.run(
        [sys.executable, str(script), "--space", "nb201", "--methods", "uniform", "--leave-out", "uniform"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 2
    assert "both measured (--methods) and left out (--leave-out)" in done.stderr
