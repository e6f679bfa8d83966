"""VQ-VAE training through the Trainer, and the train-vqvae / generate / evaluate commands, with tiny configs."""

from __future__ import annotations

import json

import datasets
import pytest
from fixtures import TINY_PRIOR, TINY_VQVAE
from transformers import AutoModel, AutoTokenizer

from archllm_hf.cli import main as cli_main
from archllm_hf.data import build_cells_dataset, write_dataset_config
from archllm_hf.models.arch_vqvae import ArchVQVAEModel
from archllm_hf.spaces import get_space
from archllm_hf.training.graphs import graph_dataset, reconstruction_metrics
from archllm_hf.training.vqvae import VQVAETrainingConfig, train_vqvae

TINY_MODEL = {**TINY_VQVAE, "num_encoder_layers": 1}


@pytest.fixture(scope="module")
def small_cells() -> datasets.DatasetDict:
    full = build_cells_dataset("nb201", progress=False)
    return datasets.DatasetDict(
        {name: split.select(range(min(len(split), 300))) for name, split in full.items()}
    )


@pytest.fixture(scope="module")
def trained(small_cells, tmp_path_factory):
    out = tmp_path_factory.mktemp("vq")
    config = VQVAETrainingConfig(epochs=1, batch_size=64, learning_rate=3e-3, model=TINY_MODEL)
    return out, train_vqvae("nb201", out, dataset=small_cells, config=config, progress=False)


def test_vqvae_folder_loads_with_auto_classes_and_reports_reconstruction(trained, small_cells):
    out, summary = trained
    model = AutoModel.from_pretrained(str(out))
    tokenizer = AutoTokenizer.from_pretrained(str(out))
    assert isinstance(model, ArchVQVAEModel)
    assert (
        tokenizer.codebook_size == model.config.codebook_size
        and tokenizer.code_length == model.config.code_length
    )
    recon = json.loads((out / "reconstruction.json").read_text())
    assert recon == summary["test"] and recon["num_cells"] == small_cells["test"].num_rows
    for key in ("op_accuracy", "adjacency_accuracy", "exact_match", "codebook_usage"):
        assert 0.0 <= recon[key] <= 1.0
    again = reconstruction_metrics(model, graph_dataset(get_space("nb201"), small_cells["test"]))
    assert again == recon  # the saved model reproduces the reported numbers


def test_reconstruction_metrics_count_exact_cells():
    class Echo:  # a "model" whose codes are the ops and whose decoder flips one op of every other cell
        def __init__(self, config):
            self.config, self.training = config, False

        def parameters(self):
            yield __import__("torch").zeros(1)

        def eval(self):
            return self

        def train(self, mode=True):
            return self

        def encode(self, adjacency, ops, node_mask):
            self._adjacency = adjacency
            return SimpleNamespace(codes=ops)

        def decode(self, codes):
            ops = codes.clone()
            ops[::2, 1] = (ops[::2, 1] % 5) + 2  # a different op label on node 1
            return SimpleNamespace(adjacency=self._adjacency, ops=ops)

    from types import SimpleNamespace

    from archllm_hf.models.arch_vqvae import ArchVQVAEConfig

    space = get_space("nb201")
    graphs = graph_dataset(space, build_cells_dataset(space, progress=False)["test"].select(range(10)))
    metrics = reconstruction_metrics(Echo(ArchVQVAEConfig.for_space(space, codebook_size=16)), graphs)
    assert metrics["exact_match"] == 0.5 and metrics["adjacency_accuracy"] == 1.0
    assert metrics["op_accuracy"] == 1 - 5 / (10 * 8)


def test_training_resumes_and_extends(trained, small_cells, tmp_path):
    config = VQVAETrainingConfig(epochs=1, batch_size=64, model=TINY_MODEL)
    first = train_vqvae("nb201", tmp_path, dataset=small_cells, config=config, progress=False)
    config.epochs = 2
    second = train_vqvae("nb201", tmp_path, dataset=small_cells, config=config, progress=False)
    assert second["resumed_from"] and second["train_steps"] == 2 * first["train_steps"]


def test_cli_train_vqvae_from_a_dataset_folder(small_cells, tmp_path, capsys):
    write_dataset_config(small_cells, tmp_path / "data", "nb201")
    code = cli_main(
        [
            "train-vqvae",
            "--space",
            "nb201",
            "--out",
            str(tmp_path / "vq"),
            "--dataset",
            str(tmp_path / "data"),
            "--epochs",
            "1",
            "--hidden-size",
            "16",
            "--codebook-size",
            "16",
            "--code-dim",
            "8",
            "--encoder-layers",
            "1",
            "--decoder-layers",
            "1",
        ]
    )
    assert code == 0
    out, err = capsys.readouterr()
    assert "held-out test" in out
    # one bar for the stage and one line per epoch; no raw Trainer log dicts, no per-file bars
    assert "VQ-VAE epoch 1/1, eval loss" in err
    assert "{'loss'" not in out + err and "Writing model shards" not in err
    assert AutoModel.from_pretrained(str(tmp_path / "vq")).config.hidden_size == 16


def test_cli_generate_then_evaluate(trained, small_cells, tmp_path, capsys):
    from archllm_hf.training.prior import PriorTrainingConfig, train_prior

    vq, _ = trained
    prior = tmp_path / "prior"
    train_prior(
        vq,
        prior,
        dataset=small_cells,
        progress=False,
        config=PriorTrainingConfig(**TINY_PRIOR),
    )
    samples = tmp_path / "gen.jsonl"
    assert (
        cli_main(
            [
                "generate",
                "--prior",
                str(prior),
                "--num",
                "30",
                "--out",
                str(samples),
                "--batch-size",
                "8",
                "--constrained",
                "--without-replacement",
                "-q",
            ]
        )
        == 0
    )
    rows = [json.loads(line) for line in samples.read_text().splitlines()]
    assert len(rows) == 30
    keys = [row["id"] if row["valid"] else row["codes"] for row in rows]
    assert len(set(keys)) == 30
    capsys.readouterr()
    train_ids = tmp_path / "train_ids.txt"
    train_ids.write_text("\n".join(small_cells["train"]["id"]))
    assert cli_main(["evaluate", str(samples), "--space", "nb201", "--train-ids", str(train_ids)]) == 0
    scores = json.loads(capsys.readouterr().out)
    assert scores["num_generated"] == 30
    assert scores["validity"] == sum(r["valid"] for r in rows) / 30
    assert "novelty" in scores
    assert "uniqueness_iso" in scores  # NB201 has isomorphism classes: evaluate computes them from the cells


def test_cli_evaluate_reports_a_malformed_line(tmp_path, capsys):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"cell": null}\nnot json\n')
    assert cli_main(["evaluate", str(bad), "--space", "nb201"]) == 2
    assert ":2:" in capsys.readouterr().err
