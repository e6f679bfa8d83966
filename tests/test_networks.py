"""``space.to_module``, the data-free proxies, the proxy oracle and the CLI around them (the networks themselves are
tested per space in ``test_networks_<space>.py``)."""

from __future__ import annotations

import json
import math

import pytest
import torch

from archllm_hf import InvalidCellError
from archllm_hf.cli import build_parser
from archllm_hf.cli import main as cli
from archllm_hf.networks.proxies import (
    LOG10_OF_ZERO,
    PROXIES,
    flops,
    num_parameters,
    objective_value,
    proxy_of,
    synflow,
)
from archllm_hf.search import make_searcher
from archllm_hf.search.oracles import ProxyOracle
from archllm_hf.spaces import get_space

ALL_CONV = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|"
POOL_SKIP = "|avg_pool_3x3~0|+|skip_connect~0|skip_connect~1|+|avg_pool_3x3~0|skip_connect~1|skip_connect~2|"


@pytest.fixture(autouse=True)
def _one_thread(one_torch_thread):
    yield


@pytest.mark.parametrize("space_name", ["nb101", "nb201", "darts"])
def test_to_module_builds_a_network_for_random_cells(space_name):
    space = get_space(space_name)
    small = {
        "nb101": {"stem_channels": 8, "num_stacks": 1, "cells_per_stack": 1},
        "nb201": {"channels": 4, "cells_per_stage": 1},
        "darts": {"channels": 4, "layers": 3},
    }
    for cell in space.sample(2, seed=3):
        network = space.to_module(cell, num_classes=7, **small[space_name])
        logits = network(torch.randn(2, 3, 16, 16))
        assert logits.shape == (2, 7) and torch.isfinite(logits).all()


def test_to_module_rejects_what_the_space_rejects():
    with pytest.raises(InvalidCellError, match="invalid nb201 cell"):
        get_space("nb201").to_module("|nor_conv_3x3~0|+")
    nb101 = get_space("nb101")
    cell = nb101.sample(1, seed=0)[0]
    too_big = type(cell)([[0] * 9 for _ in range(9)], ["input"] + ["conv3x3-bn-relu"] * 7 + ["output"])
    with pytest.raises(InvalidCellError):
        nb101.to_module(too_big)


def test_proxies_of_the_reference_cells():
    space = get_space("nb201")
    conv, pool = space.to_module(space.parse(ALL_CONV)), space.to_module(space.parse(POOL_SKIP))
    assert num_parameters(conv) == 1_531_546 and num_parameters(pool) == 73_306
    assert flops(conv) > 10 * flops(pool) > 0
    state = {k: v.clone() for k, v in conv.state_dict().items()}
    assert synflow(conv) > synflow(pool) > 0
    assert all(
        torch.equal(state[k], v) for k, v in conv.state_dict().items()
    )  # the network is left as it was
    assert conv.training  # and its mode too
    assert proxy_of(space, space.parse(POOL_SKIP), "params") == 73_306
    with pytest.raises(ValueError, match="unknown proxy"):
        proxy_of(space, space.parse(POOL_SKIP), "accuracy")
    assert set(PROXIES) == {"params", "flops", "synflow", "naswot", "jacov", "grad_norm", "snip"}


def test_a_proxy_oracle_searches_without_a_table():
    space = get_space("nb201")
    oracle = ProxyOracle(space, "params", channels=4, cells_per_stage=1)
    result = make_searcher("random").search(oracle, budget=6, seed=0)
    assert len(result.history) == 6 and result.objective == "params"
    for record in result.history:
        network = space.to_module(space.parse(record["cell"]), channels=4, cells_per_stage=1)
        assert record["objective"] == num_parameters(network)
    with pytest.raises(ValueError, match="unknown proxy"):
        ProxyOracle(space, "accuracy")


def test_synflow_is_searched_recorded_and_plotted_as_its_log10(tmp_path):
    """SynFlow spans hundreds of orders of magnitude (2.3e118 on DARTS): the search's objective is its log10, in a
    column that says so, in the history, the summary and the curve."""
    space = get_space("nb201")
    small = {"channels": 4, "cells_per_stage": 1}
    oracle = ProxyOracle(space, "synflow", **small)
    assert oracle.objective == "log10_synflow"
    result = make_searcher("random").search(oracle, budget=3, seed=0)
    for record in result.history:
        raw = proxy_of(space, space.parse(record["cell"]), "synflow", **small)
        assert record["objective"] == pytest.approx(math.log10(raw))
    result.save(tmp_path)
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["objective_column"] == "log10_synflow"
    assert summary["best"]["objective"] == max(r["objective"] for r in result.history)
    assert result._curve().axes[0].get_ylabel() == "log10_synflow"
    # a value of 0 stays a finite objective below every positive one; the other proxies are searched as they are
    assert objective_value("synflow", 0.0) == LOG10_OF_ZERO < objective_value("synflow", 5e-324)
    assert objective_value("synflow", 2.3e118) == pytest.approx(118.36, abs=0.01)
    assert objective_value("params", 73_306.0) == 73_306.0
    with pytest.raises(ValueError, match="never negative"):
        objective_value("synflow", -1.0)


def test_cli_search_with_a_proxy_and_build_net(tmp_path, capsys):
    out = tmp_path / "search"
    args = ["search", "--space", "nb201", "--proxy", "params", "--algorithm", "evolution", "--budget", "4"]
    assert cli([*args, "--out", str(out), "--quiet"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["objective_column"] == "params" and summary["num_queries"] == 4
    assert cli([*args, "--out", str(out), "--metrics", "x.csv", "--objective", "y"]) == 2
    assert "uses no table" in capsys.readouterr().err
    assert cli([*args, "--out", str(out), "--report", "cifar10_test_acc_200ep"]) == 2
    assert (
        cli(["search", "--space", "nb201", "--algorithm", "random", "--budget", "2", "--out", str(out)]) == 2
    )
    assert "one of the two" in capsys.readouterr().err
    parser = build_parser()
    for command in (["search"], ["data", "build"]):
        sub = parser._subparsers._group_actions[0].choices[command[0]]
        if len(command) == 2:
            sub = sub._subparsers._group_actions[0].choices[command[1]]
        choices = next(a.choices for a in sub._actions if a.dest in ("proxy", "proxies"))
        assert set(choices) == set(PROXIES)  # the CLI offers exactly the package's proxies
    assert cli(["build-net", "--space", "nb201", "--cell", POOL_SKIP]) == 0
    assert "NB201Network: 73,306 trainable parameters" in capsys.readouterr().out
    assert cli(["build-net", "--space", "nb201", "--cell", "nonsense"]) == 2


def test_dataset_proxy_columns(tmp_path, capsys):
    from archllm_hf.data import build_cells_dataset, load_cells_repo

    from archllm_hf.presets import preset

    cache = tmp_path / "proxies.jsonl"
    cells = build_cells_dataset(
        "nb201", num_samples=12, progress=False, proxies=["params"], proxy_cache=cache
    )
    space = get_space("nb201")
    assert len(cells["train"]) > 0
    slim = preset("nb201").proxy_network  # the proxy columns are measured on the space's slim proxy network
    for row in cells["train"]:
        assert row["proxy_params"] == num_parameters(space.to_module(space.parse(row["arch_str"]), **slim))
    assert len(cache.read_text().splitlines()) == 1 + 12  # the settings, then one line a cell
    with pytest.raises(ValueError, match="unknown proxies"):
        build_cells_dataset("nb201", num_samples=4, progress=False, proxies=["accuracy"])
    args = [
        "data",
        "build",
        "--space",
        "nb201",
        "--num-samples",
        "8",
        "--proxies",
        "params",
        "flops",
        "--quiet",
    ]
    assert cli([*args, "--out", str(tmp_path)]) == 0
    built = load_cells_repo(tmp_path, "nb201")["train"]
    assert {"proxy_params", "proxy_flops"} <= set(built.column_names)
    assert "proxy_flops" in (tmp_path / "README.md").read_text()  # documented in the card
    from archllm_hf.release import release_dataset

    release_dataset(tmp_path, tmp_path.parent / "released", repo_id="test-org/cells")  # own values: shippable


def test_proxy_benchmark_correlates_and_resumes(tmp_path, shared_data):
    from archllm_hf.evaluation.proxies import ACCURACY_COLUMNS, proxy_benchmark

    table = [shared_data / "nb201" / "nats_tss_test_acc_200ep.csv"]
    result = proxy_benchmark(table, tmp_path, {"params": 40})
    params = result["proxies"]["params"]
    assert params["num_cells"] == 40 and params["subset"] and set(params["spearman"]) == set(ACCURACY_COLUMNS)
    assert all(-1 <= rho <= 1 for rho in params["spearman"].values())
    lines = (tmp_path / "params.jsonl").read_text().splitlines()
    assert len(lines) == 40
    again = proxy_benchmark(
        table, tmp_path, {"params": 40}
    )  # every value is reused: nothing is computed again
    assert again["proxies"]["params"]["spearman"] == params["spearman"]
    assert (tmp_path / "params.jsonl").read_text().splitlines() == lines
