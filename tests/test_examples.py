"""Every script in ``examples/`` runs, on tiny settings, and does what it says (``generate_from_hub.py`` runs by repo
id through the local Hub in ``test_hub_release.py``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from conftest import REPO_ROOT
from fixtures import tiny_causal_lm, tiny_run, tiny_vqvae_config

EXAMPLES = REPO_ROOT / "examples"


def run_example(name: str, *args: str) -> list[str]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / name), *args], capture_output=True, text=True, env=env, timeout=600
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return done.stdout.strip().splitlines()


def test_every_example_is_tested_here_or_through_the_local_hub():
    tested = Path(__file__).read_text() + (Path(__file__).parent / "test_hub_release.py").read_text()
    assert all(f'"{script.name}"' in tested for script in EXAMPLES.glob("*.py"))  # a run, not a mention


def test_generate_from_hub_defaults_to_the_committed_release():
    rows = [json.loads(line) for line in run_example("generate_from_hub.py", "--num", "3")]
    assert len(rows) == 3 and all(set(row) == {"valid", "id", "cell", "codes"} for row in rows)
    assert all(row["cell"].startswith("|") for row in rows)  # NB201 arch strings: hub/archvq-nb201


def test_score_with_evaluate(tmp_path):
    from archllm_hf.data import build_cells_dataset, write_dataset_config

    write_dataset_config(build_cells_dataset("nb201", progress=False), tmp_path / "data", "nb201")
    lines = run_example(
        "score_with_evaluate.py",
        "--prior",
        str(REPO_ROOT / "hub" / "archvq-nb201"),
        "--num",
        "200",
        "--dataset",
        str(tmp_path / "data"),
    )
    scores = json.loads("\n".join(lines))
    assert scores["num_generated"] == 200 and scores["validity"] > 0.95
    assert 0 <= scores["novelty"] < 0.5  # the released NB201 prior has seen 90 % of the space


def test_train_on_your_cells(tmp_path):
    from archllm_hf.data import build_cells_dataset, write_dataset_config

    write_dataset_config(build_cells_dataset("nb201", progress=False), tmp_path / "data", "nb201")
    lines = run_example(
        "train_on_your_cells.py",
        "--space",
        "nb201",
        "--dataset",
        str(tmp_path / "data"),
        "--out",
        str(tmp_path / "run"),
        "--vqvae-epochs",
        "1",
        "--prior-epochs",
        "1",
        "--num-cells",
        "256",
        "--num-samples",
        "20",
    )
    assert lines[0].startswith("VQ-VAE: held-out whole-cell reconstruction")
    scores = json.loads(lines[-1])
    assert set(scores) == {"validity", "uniqueness", "novelty", "valid_unique_rate"}
    assert (tmp_path / "run" / "prior" / "archllm_prior.json").is_file()


def test_finetune_llm_lora(tmp_path):
    from archllm_hf._hub import save_vqvae
    from archllm_hf.models.arch_vqvae import ArchVQVAEModel

    tiny_causal_lm(tmp_path / "base")
    save_vqvae(ArchVQVAEModel(tiny_vqvae_config("nb201")).eval(), tmp_path / "vqvae")
    lines = run_example(
        "finetune_llm_lora.py",
        "--base-model",
        str(tmp_path / "base"),
        "--vqvae",
        str(tmp_path / "vqvae"),
        "--out",
        str(tmp_path / "prior"),
        "--num-cells",
        "64",
        "--batch-size",
        "16",
        "--lora-rank",
        "4",
        "--num-samples",
        "4",
    )
    result = json.loads(lines[-1])
    assert result["generated"] == 4
    info = json.loads((tmp_path / "prior" / "archllm_prior.json").read_text())
    assert info["format"] == "text" and info["base_model"] == str(tmp_path / "base")
    assert not list((tmp_path / "prior").glob("adapter_*"))  # the adapters are merged into a plain model


def test_search_nb201(tmp_path, shared_data):
    run = tiny_run(tmp_path / "run", "nb201")
    lines = run_example(
        "search_nb201.py",
        "--prior",
        str(run / "prior"),
        "--metrics",
        str(shared_data / "nb201" / "nats_tss_test_acc_200ep.csv"),
        "--budget",
        "20",
        "--predictor",
        "code",
    )
    assert [line.split(":")[0].strip() for line in lines] == ["generative", "evolution"]
    assert all(0 < float(line.split()[3]) <= 100 for line in lines)


def test_train_generated_cell():
    lines = run_example(
        "train_generated_cell.py",
        "--prior",
        str(REPO_ROOT / "hub" / "archvq-nb201"),
        "--synthetic",
        "128",
        "--epochs",
        "3",
        "--batch-size",
        "32",
        "--network",
        '{"channels": 8, "cells_per_stage": 1}',
    )
    assert lines[0].startswith("cell |") and "parameters" in lines[0]
    first, last = (float(x.rstrip(",")) for x in lines[-1].split()[2::5])
    assert last < first  # the loss goes down
