"""The generation benchmark resumes method by method: finished results and trained models are reused."""

from __future__ import annotations

import importlib.util
import json
import sys
from argparse import Namespace
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture(scope="module")
def bench():
    sys.path.insert(0, str(BENCHMARKS))
    try:
        spec = importlib.util.spec_from_file_location("generation_benchmark", BENCHMARKS / "generation.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.path.remove(str(BENCHMARKS))


class CountingMethod:
    def __init__(self, value: float):
        self.value, self.calls = value, 0

    def __call__(self, space, cells, method_dir, score, args):
        self.calls += 1
        return {"scores": {"validity": self.value}}


def args(methods, fresh=False) -> Namespace:
    return Namespace(methods=methods, fresh=fresh, device=None)


def test_cached_measures_once_then_reuses(bench, tmp_path):
    method = CountingMethod(0.5)
    first = bench.cached("uniform", tmp_path / "uniform", method, None, None, None, args(["uniform"]))
    again = bench.cached("uniform", tmp_path / "uniform", method, None, None, None, args(["uniform"]))
    assert method.calls == 1
    assert first == again
    assert first["scores"] == {"validity": 0.5}
    assert first["measured_by"]["command"]
    assert json.loads((tmp_path / "uniform" / "result.json").read_text()) == first


def test_fresh_measures_again_only_the_selected_methods(bench, tmp_path):
    old, new = CountingMethod(0.1), CountingMethod(0.9)
    bench.cached("uniform", tmp_path / "uniform", old, None, None, None, args(["uniform"]))
    kept = bench.cached(
        "uniform", tmp_path / "uniform", new, None, None, None, args(["direct_lm"], fresh=True)
    )
    assert kept["scores"]["validity"] == 0.1 and new.calls == 0
    redone = bench.cached(
        "uniform", tmp_path / "uniform", new, None, None, None, args(["uniform"], fresh=True)
    )
    assert redone["scores"]["validity"] == 0.9 and new.calls == 1


def test_method_left_out_without_result_is_none(bench, tmp_path):
    method = CountingMethod(0.5)
    assert bench.cached("uniform", tmp_path / "uniform", method, None, None, None, args(["archllm"])) is None
    assert method.calls == 0
    assert not (tmp_path / "uniform").exists()


def test_trained_reuses_a_finished_model(bench, tmp_path):
    calls = []

    def train(out_dir):
        calls.append(out_dir)
        out_dir.mkdir()
        summary = {"train_seconds": 12.5}
        (out_dir / "training_summary.json").write_text(json.dumps(summary))
        return summary

    assert bench.trained(tmp_path / "model", train, tmp_path / "model") == {"train_seconds": 12.5}
    assert bench.trained(tmp_path / "model", train, tmp_path / "model") == {"train_seconds": 12.5}
    assert len(calls) == 1
