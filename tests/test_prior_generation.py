"""The LM prior (default and Arch-LLM paths), generation, the pipeline task, and the report."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import datasets
import pytest
import torch
from fixtures import TINY_PRIOR, tiny_causal_lm, tiny_vqvae_config

from archllm_hf._hub import PRIOR_INFO_NAME, PriorInfo, read_prior_info, save_vqvae
from archllm_hf.generation import ArchitectureGenerator, CodeGrammarLogitsProcessor
from archllm_hf.models.arch_vqvae import ArchVQVAEModel
from archllm_hf.spaces import get_space
from archllm_hf.training.prior import PriorTrainingConfig, train_prior


@pytest.fixture(scope="module")
def cells() -> datasets.DatasetDict:
    from archllm_hf.data import build_cells_dataset

    full = build_cells_dataset("nb201", progress=False)
    return datasets.DatasetDict(
        {name: split.select(range(min(len(split), 256))) for name, split in full.items()}
    )


@pytest.fixture(scope="module")
def vqvae_dir(tmp_path_factory):
    torch.manual_seed(0)
    out = tmp_path_factory.mktemp("run") / "vqvae"
    save_vqvae(ArchVQVAEModel(tiny_vqvae_config("nb201", num_encoder_layers=1)).eval(), out)
    return out


@pytest.fixture(scope="module")
def prior_dir(vqvae_dir, cells):
    out = vqvae_dir.parent / "prior"
    summary = train_prior(
        vqvae_dir, out, dataset=cells, config=PriorTrainingConfig(**TINY_PRIOR), progress=False
    )
    assert summary["train_steps"] > 0 and summary["eval_loss"] is not None
    return out


def test_prior_folder_holds_model_tokenizer_generation_config_and_info(prior_dir, vqvae_dir):
    for name in (
        "config.json",
        "model.safetensors",
        "generation_config.json",
        "tokenizer.json",
        PRIOR_INFO_NAME,
    ):
        assert (prior_dir / name).is_file(), name
    info = json.loads((prior_dir / PRIOR_INFO_NAME).read_text())
    assert info["format"] == "codes" and info["space"] == "nb201" and info["vqvae"] == "../vqvae"
    assert (
        json.loads((prior_dir / "generation_config.json").read_text())["max_new_tokens"]
        == info["code_length"] + 1
    )


def test_prior_loads_and_generates_with_plain_transformers(prior_dir):
    script = textwrap.dedent(
        f"""
        import sys
        sys.modules["archllm_hf"] = None  # prove the package is not needed
        from transformers import AutoModelForCausalLM, AutoTokenizer
        model = AutoModelForCausalLM.from_pretrained({str(prior_dir)!r})
        tok = AutoTokenizer.from_pretrained({str(prior_dir)!r})
        ids = tok("3 1 4", return_tensors="pt")["input_ids"]
        assert ids[0, 0].item() == tok.bos_token_id and ids[0, -1].item() == tok.eos_token_id, ids
        out = model.generate(ids[:, :1], max_new_tokens=3, do_sample=False)
        print(type(model).__name__, out.shape[1])
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["LlamaForCausalLM", "4"]


def test_training_resumes_from_its_checkpoint(vqvae_dir, cells, tmp_path):
    config = PriorTrainingConfig(**TINY_PRIOR)
    first = train_prior(vqvae_dir, tmp_path, dataset=cells, config=config, progress=False)
    assert first["resumed_from"] is None
    assert any(p.name.startswith("checkpoint-") for p in (tmp_path / "checkpoints").iterdir())
    config.epochs = 2
    second = train_prior(vqvae_dir, tmp_path, dataset=cells, config=config, progress=False)
    assert second["resumed_from"] is not None and second["train_steps"] == 2 * first["train_steps"]


def test_generation_records_and_seeded_reproducibility(prior_dir):
    generator = ArchitectureGenerator.from_pretrained(prior_dir)
    samples = generator.generate(40, batch_size=16, seed=1)
    assert len(samples) == 40
    assert set(samples[0]) == {"cell", "id", "isomorphism_id", "valid", "reason", "codes"}
    for sample in samples:
        assert sample["valid"] == (sample["id"] is not None)
        assert sample["valid"] or sample["reason"]
        if sample["valid"]:
            assert sample["cell"] == sample["id"]  # NB201: the arch string is both
    assert generator.generate(40, batch_size=16, seed=1) == samples


def test_sampling_without_replacement_returns_distinct_samples(prior_dir):
    generator = ArchitectureGenerator.from_pretrained(prior_dir)
    kwargs = dict(batch_size=64, temperature=0.7, without_replacement=True, seed=2)
    samples = generator.generate(300, **kwargs)
    keys = [s["id"] if s["valid"] else s["codes"] for s in samples]
    assert len(samples) == 300 and len(set(keys)) == 300
    assert generator.generate(300, **kwargs) == samples


def test_without_replacement_never_repeats_a_valid_cell(prior_dir, monkeypatch):
    """Distinct code strings can decode to one cell: the cell, not the string, must not repeat."""
    generator = ArchitectureGenerator.from_pretrained(prior_dir)
    space = generator.space
    pool = space.sample(20, seed=0)
    decode = generator._decode

    def decode_into_pool(ids):  # every well-formed code string decodes to one of 20 cells
        results, texts = decode(ids)
        into_pool = [space.validate(pool[sum(map(ord, t)) % len(pool)]) for t in texts]
        well_formed = [old.valid or not old.reason.startswith("malformed") for old in results]
        return [new if ok else old for old, new, ok in zip(results, into_pool, well_formed)], texts

    monkeypatch.setattr(generator, "_decode", decode_into_pool)
    iid = generator.generate(200, batch_size=64, seed=0)
    assert len({s["id"] for s in iid if s["valid"]}) < sum(s["valid"] for s in iid)
    distinct = generator.generate(30, batch_size=64, without_replacement=True, seed=0)
    valid_ids = [s["id"] for s in distinct if s["valid"]]
    invalid_codes = [s["codes"] for s in distinct if not s["valid"]]
    assert len(distinct) == 30 and valid_ids and len(set(valid_ids)) == len(valid_ids) <= len(pool)
    assert len(set(invalid_codes)) == len(invalid_codes)


def test_sampling_without_replacement_gives_up_with_a_clear_error(prior_dir):
    generator = ArchitectureGenerator.from_pretrained(prior_dir)
    with pytest.raises(RuntimeError, match="distinct samples in 256 draws"):
        generator.generate(
            200, batch_size=64, temperature=0.01, without_replacement=True, max_draws=256, seed=0
        )


def test_fast_code_path_matches_parsing_the_text(prior_dir):
    generator = ArchitectureGenerator.from_pretrained(prior_dir)
    offset = generator.processor.tokenizer.code_token_offset
    ids = torch.tensor([[offset + 3] * 8, [offset + 1] * 7 + [generator.tokenizer.bos_token_id]])
    decoded, texts = generator._decode(ids)
    assert texts[0] == "3 3 3 3 3 3 3 3"
    assert not decoded[1].valid and "special token" in decoded[1].reason
    assert decoded == generator.processor.decode_text(generator.vqvae, texts)


def test_constrained_sampling_only_writes_well_formed_code_strings(prior_dir):
    generator = ArchitectureGenerator.from_pretrained(prior_dir)
    samples = generator.generate(64, batch_size=32, temperature=2.0, constrained=True, seed=0)
    for sample in samples:
        assert len(generator.processor.tokenizer.text_to_codes(sample["codes"])) == 8
        assert sample["valid"] or "malformed" not in sample["reason"]


def test_grammar_processor_masks_everything_but_codes_then_eos():
    processor = CodeGrammarLogitsProcessor([4, 5, 6], eos_token_id=2, prompt_length=1, code_length=2)
    scores = torch.zeros(3, 8)
    for length, allowed in ((1, {4, 5, 6}), (2, {4, 5, 6}), (3, {2})):
        masked = processor(torch.zeros(3, length, dtype=torch.long), scores)
        assert {i for i in range(8) if torch.isfinite(masked[0, i])} == allowed


def test_sampling_arguments_are_checked(prior_dir):
    generator = ArchitectureGenerator.from_pretrained(prior_dir)
    with pytest.raises(ValueError, match="temperature"):
        generator.generate(4, temperature=0)
    with pytest.raises(ValueError, match="batch_size"):
        generator.generate(4, batch_size=0)
    with pytest.raises(FileNotFoundError, match="not an archllm prior"):
        ArchitectureGenerator.from_pretrained(prior_dir.parent)


def test_a_moved_run_folder_still_loads(prior_dir, tmp_path):
    import shutil

    moved = tmp_path / "renamed-run"
    shutil.copytree(prior_dir.parent, moved, ignore=shutil.ignore_patterns("checkpoints"))
    generator = ArchitectureGenerator.from_pretrained(moved / "prior")
    assert generator.vqvae.name_or_path == str(moved / "prior" / "../vqvae")
    original = ArchitectureGenerator.from_pretrained(prior_dir)
    assert generator.generate(10, seed=0) == original.generate(10, seed=0)
    shutil.rmtree(moved / "vqvae")
    with pytest.raises(FileNotFoundError, match="not a folder"):
        ArchitectureGenerator.from_pretrained(moved / "prior")


def test_prior_info_is_checked(prior_dir, tmp_path):
    info = read_prior_info(prior_dir)
    assert info == PriorInfo.from_dict(json.loads((prior_dir / PRIOR_INFO_NAME).read_text()))
    assert info.build_space().name == "nb201"
    with pytest.raises(ValueError, match="unknown keys"):
        PriorInfo.from_dict({**info.to_dict(), "vqvae_path": "x"})
    with pytest.raises(ValueError, match="unknown prior format"):
        PriorInfo.from_dict({**info.to_dict(), "format": "bytes"})
    with pytest.raises(ValueError, match="must name its vqvae"):
        PriorInfo(format="codes", space="nb201")
    with pytest.raises(ValueError, match="needs its prompt"):
        PriorInfo(format="text", space="nb201", vqvae="v", code_length=8)
    (tmp_path / PRIOR_INFO_NAME).write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        read_prior_info(tmp_path)


def test_pipeline_from_a_fresh_process(prior_dir, vqvae_dir):
    script = textwrap.dedent(
        f"""
        import json
        import archllm_hf
        from transformers import pipeline
        generate = pipeline("architecture-generation", model={str(prior_dir)!r}, vqvae={str(vqvae_dir)!r})
        first = generate(num_samples=6, batch_size=4, temperature=0.9, top_k=10, seed=3)
        again = generate(num_samples=6, batch_size=4, temperature=0.9, top_k=10, seed=3)
        assert first == again
        print(json.dumps(first))
        """
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    samples = json.loads(result.stdout.strip().splitlines()[-1])
    assert len(samples) == 6 and all(set(s) >= {"cell", "id", "valid", "reason", "codes"} for s in samples)


def test_pipeline_rejects_unknown_parameters(prior_dir):
    from transformers import pipeline

    generate = pipeline("architecture-generation", model=str(prior_dir))
    with pytest.raises(TypeError, match="temprature"):
        generate(num_samples=2, temprature=1.0)


def test_arch_llm_path_fine_tunes_a_local_bpe_model(vqvae_dir, cells, tmp_path):
    base = tmp_path / "base"
    tiny_causal_lm(base)
    out = tmp_path / "prior"
    summary = train_prior(
        vqvae_dir,
        out,
        dataset=cells,
        progress=False,
        config=PriorTrainingConfig(epochs=1, batch_size=32, learning_rate=1e-3, base_model=str(base)),
    )
    assert summary["train_steps"] > 0
    info = json.loads((out / PRIOR_INFO_NAME).read_text())
    assert info["format"] == "text" and info["prompt"] and info["base_model"] == str(base)
    generator = ArchitectureGenerator.from_pretrained(out)
    samples = generator.generate(12, batch_size=6, seed=0)
    assert len(samples) == 12 and all(s["valid"] or s["reason"] for s in samples)
    # constrained: the code grammar mapped onto the LLM's own tokens; every completion is a well-formed code string
    constrained = generator.generate(48, batch_size=24, temperature=3.0, constrained=True, seed=0)
    assert len(constrained) == 48
    for sample in constrained:
        codes = [int(c) for c in sample["codes"].split()]
        assert len(codes) == info["code_length"] and all(0 <= c < info["codebook_size"] for c in codes)
        assert sample["codes"] == " ".join(map(str, codes))
        assert sample["valid"] or "malformed" not in sample["reason"]


def test_report_markdown_and_plot(tmp_path):
    from archllm_hf.run import plot_temperature_sweep, render_report_markdown

    scores = {
        "validity": 0.99,
        "uniqueness": 0.5,
        "novelty": 0.25,
        "valid_unique_rate": 0.495,
        "num_generated": 10,
    }
    report = {
        "space": "nb201",
        "num_samples": 10,
        "temperature": 1.0,
        "device": "cpu",
        "scores": scores,
        "generation": {"cells_per_second": 1234.0, "batch_size": 5},
        "temperature_sweep": {
            "samples_per_temperature": 10,
            "points": [{"temperature": t, **scores} for t in (0.5, 1)],
        },
    }
    text = render_report_markdown(report)
    assert "| validity | 99.00% |" in text and "| 0.5 | 99.00% | 50.00% | 25.00% | 49.50% |" in text
    both = render_report_markdown(
        {**report, "without_replacement": True, "scores_with_replacement": {**scores, "uniqueness": 0.25}}
    )
    assert "without replacement)" in both and "| uniqueness | 50.00% | 25.00% |" in both
    png = plot_temperature_sweep(report, tmp_path / "t.png")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_main_job_reuses_trained_models_and_writes_the_report(vqvae_dir, prior_dir, tmp_path):
    import shutil

    from archllm_hf.run import run_main_job

    out = tmp_path / "run"
    shutil.copytree(vqvae_dir, out / "vqvae")
    shutil.copytree(prior_dir, out / "prior")
    report = run_main_job(
        "nb201", out, num_samples=40, temperatures=(0.5, 1.0), sweep_samples=20, batch_size=16, progress=False
    )
    prior_summary = json.loads((prior_dir / "training_summary.json").read_text())
    assert report["prior_reused"]["train_seconds"] == prior_summary["train_seconds"]
    assert report["vqvae_reused"] is not None
    assert report["without_replacement"] and report["scores"]["num_generated"] == 40
    assert report["scores_with_replacement"]["num_generated"] == 40
    assert [p["temperature"] for p in report["temperature_sweep"]["points"]] == [0.5, 1.0]
    assert json.loads((out / "report.json").read_text()) == report
    assert len((out / "samples.jsonl").read_text().splitlines()) == 40
    assert "valid_unique_rate" in (out / "report.md").read_text()
    assert (out / "temperature.png").stat().st_size > 0


@pytest.mark.parametrize("name", ["nb101", "nb201", "darts"])
def test_sample_record_ids_agree_with_the_space(name):
    from archllm_hf.generation import sample_record

    space = get_space(name)
    assert space.has_isomorphism_classes == (name == "nb201")
    for cell in space.sample(20, seed=3):
        graph = space.to_graph(cell)
        record = sample_record(space, space.decode_graph(graph.adjacency, graph.ops), "codes")
        assert record["valid"] and record["id"] == space.canonical_id(cell)
        assert record["isomorphism_id"] == space.isomorphism_id(cell)


def test_prior_learning_rate_follows_the_training_path():
    assert PriorTrainingConfig().resolved_learning_rate() == 1e-3
    assert PriorTrainingConfig(scratch_learning_rate=2e-3).resolved_learning_rate() == 2e-3
    assert PriorTrainingConfig(base_model="m").resolved_learning_rate() == 5e-5
    assert PriorTrainingConfig(base_model="m", lora=True).resolved_learning_rate() == 2e-4
    assert PriorTrainingConfig(base_model="m", learning_rate=1e-4).resolved_learning_rate() == 1e-4
    with pytest.raises(ValueError, match="set base_model"):
        PriorTrainingConfig(lora=True)


def test_generator_rejects_the_vqvae_of_another_codebook(prior_dir, tmp_path):
    other = tmp_path / "other-vqvae"
    save_vqvae(ArchVQVAEModel(tiny_vqvae_config("nb201", codebook_size=8)).eval(), other)
    with pytest.raises(ValueError, match="codes of another VQ-VAE"):
        ArchitectureGenerator.from_pretrained(prior_dir, vqvae=other)
    assert ArchitectureGenerator.from_pretrained(prior_dir).generate(0) == []


def test_save_steps_checkpoints_within_an_epoch(vqvae_dir, cells, tmp_path):
    config = PriorTrainingConfig(**TINY_PRIOR, save_steps=1)
    summary = train_prior(vqvae_dir, tmp_path, dataset=cells, config=config, progress=False)
    steps = summary["train_steps"]
    assert steps > 2  # several steps in the one epoch, each saved; the last two kept
    kept = sorted(int(p.name.split("-")[1]) for p in (tmp_path / "checkpoints").iterdir())
    assert kept == [steps - 1, steps]
    for bad in (0, -3, 2.5, True):
        with pytest.raises(ValueError, match="save_steps must be None or an int >= 1"):
            PriorTrainingConfig(save_steps=bad)


def test_decoder_agreement_compares_the_fast_path_with_float32(prior_dir):
    from archllm_hf.evaluation.speed import decoder_agreement

    generator = ArchitectureGenerator.from_pretrained(prior_dir)
    result = decoder_agreement(generator, num_rows=300, batch_size=128)
    assert 0 < result["distinct_rows"] <= 300 and result["sampled_rows"] == 300
    assert result["agreement_fast"] == 1.0  # the fast path decodes every row as float32 does
    assert 0 <= result["agreement_bfloat16_alone"] <= 1 and 0 <= result["decoded_again_share"] <= 1
    assert result["max_bfloat16_logit_error"] > 0  # bfloat16 did run
    assert set(result["seconds"]) == {"float32", "fast"} and result["margin"] > 0


def test_speed_is_measured_iid_at_temperature_one_whatever_the_prior_recommends(prior_dir, monkeypatch):
    from archllm_hf.evaluation.speed import measure_speed

    generator = ArchitectureGenerator.from_pretrained(prior_dir)
    generator.prior.generation_config.temperature = 0.5
    generator.prior.generation_config.without_replacement = True
    calls = []
    real = generator.generate

    def recording(num_samples, **kwargs):
        calls.append(kwargs)
        return real(num_samples, **kwargs)

    monkeypatch.setattr(generator, "generate", recording)
    points = measure_speed(generator, batch_sizes=[32], num=32, repeats=1)
    assert len(points) == 1 and points[0]["cells"] == 32
    assert calls and all(
        (c["temperature"], c["constrained"], c["without_replacement"]) == (1.0, False, False) for c in calls
    )


def test_the_inverse_cdf_draw_generates_valid_records_reproducibly(prior_dir):
    fast = ArchitectureGenerator.from_pretrained(prior_dir, token_draw="inverse_cdf")
    samples = fast.generate(64, batch_size=32, seed=3)
    assert len(samples) == 64 and all(s["valid"] == (s["id"] is not None) for s in samples)
    assert fast.generate(64, batch_size=32, seed=3) == samples
    default = ArchitectureGenerator.from_pretrained(prior_dir)
    assert default.token_draw == "multinomial"
    # another way of drawing: other cells from the same seed
    assert [s["codes"] for s in default.generate(64, batch_size=32, seed=3)] != [s["codes"] for s in samples]
    with pytest.raises(ValueError, match="token_draw must be one of"):
        ArchitectureGenerator.from_pretrained(prior_dir, token_draw="argmax")


def test_token_draw_quality_scores_both_draws_over_the_seeds(prior_dir):
    from archllm_hf.evaluation.speed import QUALITY_KEYS, token_draw_quality
    from archllm_hf.generation.generator import TOKEN_DRAWS

    generator = ArchitectureGenerator.from_pretrained(prior_dir)
    result = token_draw_quality(generator, 48, [0, 1], batch_size=16)
    assert list(result) == list(TOKEN_DRAWS) and generator.token_draw == "multinomial"
    for draw in TOKEN_DRAWS:
        runs = result[draw]["runs"]
        assert [run["seed"] for run in runs] == [0, 1] and all(run["num_generated"] == 48 for run in runs)
        for key in set(QUALITY_KEYS) & set(runs[0]):
            assert result[draw]["mean"][key] == pytest.approx((runs[0][key] + runs[1][key]) / 2)
    # the multinomial runs are what generate gives from the same seeds
    expected = generator.generate(48, batch_size=16, seed=1, temperature=1.0, without_replacement=False)
    assert result["multinomial"]["runs"][1]["num_valid"] == sum(s["valid"] for s in expected)
    fast = ArchitectureGenerator.from_pretrained(prior_dir, token_draw="inverse_cdf")
    for seed, run in zip([0, 1], result["inverse_cdf"]["runs"]):
        drawn = fast.generate(48, batch_size=16, seed=seed, temperature=1.0, without_replacement=False)
        assert run["num_valid"] == sum(s["valid"] for s in drawn)
        assert run["num_unique_valid"] == len({s["id"] for s in drawn if s["valid"]})
    with pytest.raises(ValueError, match="distinct seeds"):
        token_draw_quality(generator, 48, [3, 3])
