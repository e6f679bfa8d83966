"""The generation benchmark resumes method by method: finished results and trained models are reused."""

from __future__ import annotations

import json

from archllm_hf.evaluation.generation import GenerationBenchmark, trained


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
