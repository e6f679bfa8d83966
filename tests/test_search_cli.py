"""``archllm search`` and ``archllm train-predictor``: outputs, and clear errors for bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fixtures import tiny_nb201_prior, use_tiny_graph_predictor

from archllm_hf import cli
from archllm_hf.cli import main as cli_main
from archllm_hf.search import ALGORITHMS
from archllm_hf.search.graph_predictor import GraphPredictor

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def nats(shared_data: Path) -> str:
    return str(shared_data / "nb201/nats_tss_test_acc_200ep.csv")


@pytest.fixture(scope="module")
def minibench(shared_data: Path) -> str:
    return str(shared_data / "nb201/minibench_hp12_accs.csv")


def search_args(nats: str, minibench: str, out: Path, *extra: str) -> list[str]:
    return [
        "search",
        "--space",
        "nb201",
        "--metrics",
        nats,
        "--metrics",
        minibench,
        "--objective",
        "cifar100_valid_acc_12ep",
        "--report",
        "cifar100_test_acc_200ep",
        "--budget",
        "15",
        "--seed",
        "2",
        "--out",
        str(out),
        "-q",
        *extra,
    ]


def test_the_cli_lists_every_algorithm():
    assert cli.ALGORITHMS == ALGORITHMS


@pytest.mark.parametrize("algorithm", ["random", "evolution", "local"])
def test_search_writes_history_summary_and_curve(nats, minibench, tmp_path, capsys, algorithm):
    out = tmp_path / algorithm
    assert cli_main(search_args(nats, minibench, out, "--algorithm", algorithm)) == 0
    history = [json.loads(line) for line in (out / "history.jsonl").read_text().splitlines()]
    assert len(history) == 15 and set(history[0]) == {"step", "id", "cell", "objective", "report"}
    summary = json.loads((out / "summary.json").read_text())
    best = max(history, key=lambda r: r["objective"])
    assert summary["best"]["id"] == best["id"] and summary["best"]["report"] == best["report"]
    assert summary["seed"] == 2 and summary["algorithm"] == algorithm
    assert (out / "curve.png").is_file()
    assert f"best cifar100_valid_acc_12ep {best['objective']:.4g}" in capsys.readouterr().out


def test_generative_search_ranks_with_ours_by_default(nats, minibench, tmp_path, monkeypatch):
    use_tiny_graph_predictor("nb201", monkeypatch)
    fits = []
    real_fit = GraphPredictor._fit
    monkeypatch.setattr(
        GraphPredictor, "_fit", lambda self, *a: fits.append(self.ensemble) or real_fit(self, *a)
    )
    prior = tiny_nb201_prior(tmp_path / "models")
    out, cache = tmp_path / "search", tmp_path / "cache" / "proxies.jsonl"
    args = search_args(nats, minibench, out, "--algorithm", "generative", "--prior", str(prior))
    args[args.index("--budget") + 1] = "30"
    assert cli_main([*args, "--proxy-cache", str(cache)]) == 0
    assert len((out / "history.jsonl").read_text().splitlines()) == 30
    assert json.loads((out / "summary.json").read_text())["variant"] == "prior+finetune+predictor"
    assert json.loads((out / "search.json").read_text())["predictor"] == "graph"
    assert json.loads((out / "summary.json").read_text())["predictor"] == "graph"  # what ranked the pools
    assert fits and set(fits) == {1}  # each round that ranks a pool fits one network
    assert (cache.parent / "graph-pretrained-nb201" / "config.json").is_file()  # pretrained once, kept
    assert cache.is_file()  # the proxies of the pretraining cells and of every ranked proposal
    # the same folder with another predictor is another search
    assert cli_main([*args, "--proxy-cache", str(cache), "--predictor", "code"]) == 2


def test_generative_search_from_a_prior_folder(nats, minibench, tmp_path):
    prior = tiny_nb201_prior(tmp_path / "models")
    out = tmp_path / "search"
    args = search_args(nats, minibench, out, "--algorithm", "generative", "--prior", str(prior))
    assert cli_main([*args, "--predictor", "code"]) == 0
    assert len((out / "history.jsonl").read_text().splitlines()) == 15
    assert json.loads((out / "summary.json").read_text())["variant"] == "prior+finetune+predictor"
    assert json.loads((out / "search.json").read_text())["predictor"] == "code"
    assert json.loads((out / "summary.json").read_text())["predictor"] == "code_pretrained"
    plain = tmp_path / "plain"
    args = search_args(nats, minibench, plain, "--algorithm", "generative", "--prior", str(prior))
    assert cli_main([*args, "--predictor", "none"]) == 0
    assert json.loads((plain / "summary.json").read_text())["variant"] == "prior+finetune"

    predictor = tmp_path / "predictor"
    args = ["train-predictor", "--predictor", "code", "--prior", str(prior)]
    args += ["--metrics", nats, "--label", "cifar10_test_acc_200ep"]
    assert cli_main([*args, "--num-cells", "40", "--out", str(predictor)]) == 0
    summary = json.loads((predictor / "predictor_summary.json").read_text())
    assert summary["num_train_cells"] == 40 and summary["num_test_cells"] == 15_625 - 40
    assert -1 <= summary["kendall_tau"] <= 1
    assert (predictor / "archllm_predictor.json").is_file() and (predictor / "model.safetensors").is_file()
    assert cli_main([*args, "--num-cells", "1", "--out", str(tmp_path / "bad")]) == 2


@pytest.mark.parametrize(
    "change,message",
    [
        (("--objective", "cifar100_acc"), "unknown objective column 'cifar100_acc'"),
        (("--budget", "20000"), "budget 20,000 is larger than the 15,625 cells"),
        (("--budget", "0"), "budget must be a positive integer"),
        (("--algorithm", "bo"), "--algorithm bo needs --vgae"),  # the flag, not the Python keyword
        (("--algorithm", "generative"), "--algorithm generative needs --prior"),
    ],
)
def test_search_reports_bad_input(nats, minibench, tmp_path, capsys, change, message):
    args = search_args(nats, minibench, tmp_path / "out", "--algorithm", "random")
    option, value = change
    args[args.index(option) + 1 if option in args else len(args) :] = (
        [value, *args[args.index(option) + 2 :]] if option in args else [option, value]
    )
    assert cli_main(args) == 2
    assert message in capsys.readouterr().err


def test_search_reports_a_malformed_table(tmp_path, capsys):
    table = tmp_path / "table.csv"
    table.write_text("ArchitectureString,CIFAR10TestAccuracy200Epochs\n|none~0|,1\n")
    code = cli_main(
        ["search", "--space", "nb201", "--metrics", str(table), "--objective", "x", "--algorithm", "random"]
        + ["--budget", "3", "--out", str(tmp_path / "out"), "-q"]
    )
    assert code == 2 and "lacks column" in capsys.readouterr().err
