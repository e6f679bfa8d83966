"""arch2vec's VGAE over seeds: each seed trained, sampled and scored by both rules; the spread; resumption."""

from __future__ import annotations

import math

import pytest

from archllm_hf.evaluation import vgae_seeds


def test_seed_runs_score_both_rules_and_give_the_spread(tmp_path, monkeypatch):
    result = vgae_seeds.vgae_seed_runs("nb201", [0, 1], tmp_path, num_samples=64, epochs=1)
    assert [run["seed"] for run in result["runs"]] == [0, 1]
    for run in result["runs"]:
        assert run["strict"]["num_generated"] == run["arch2vec"]["num_generated"] == 64
        assert run["training_config"]["eval_mode_after_first_epoch"]  # arch2vec's code, quirk included
        assert (tmp_path / "nb201" / f"seed-{run['seed']}" / "result.json").is_file()
    for part, keys in vgae_seeds.SUMMARY_KEYS.items():
        for key in keys:
            values = [run[part][key] for run in result["runs"]]
            assert result["mean"][part][key] == pytest.approx(sum(values) / 2)
            assert result["std"][part][key] == pytest.approx(abs(values[0] - values[1]) / math.sqrt(2))

    def no_training(*args, **kwargs):
        raise AssertionError("a finished seed was trained again")

    monkeypatch.setattr(vgae_seeds, "train_vgae", no_training)
    assert vgae_seeds.vgae_seed_runs("nb201", [0, 1], tmp_path, num_samples=64, epochs=1) == result
    assert all("git_commit" in run["measured_by"] for run in result["runs"])
    with pytest.raises(ValueError, match="was measured with"):  # other settings are not averaged in silently
        vgae_seeds.vgae_seed_runs("nb201", [0, 1], tmp_path, num_samples=128, epochs=1)
    with pytest.raises(ValueError, match="was measured with"):
        vgae_seeds.vgae_seed_runs("nb201", [0], tmp_path, num_samples=64, epochs=2)


def test_seeds_must_be_distinct(tmp_path):
    with pytest.raises(ValueError, match="distinct seeds"):
        vgae_seeds.vgae_seed_runs("nb201", [1, 1], tmp_path)
    with pytest.raises(ValueError, match="distinct seeds"):
        vgae_seeds.vgae_seed_runs("nb201", [], tmp_path)
