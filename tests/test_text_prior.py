"""The direct-LM baseline: cell-text tokenizer, training for a few steps, sampling, and text decoding."""

from __future__ import annotations

import datasets
import pytest
from fixtures import TINY_PRIOR
from hypothesis import given, settings
from hypothesis import strategies as st
from transformers import AutoTokenizer

from archllm_hf._hub import PRIOR_INFO_NAME, read_prior_info
from archllm_hf.data import build_cells_dataset
from archllm_hf.generation import ArchitectureGenerator, TextLMSampler
from archllm_hf.spaces import get_space
from archllm_hf.training.prior import PriorTrainingConfig
from archllm_hf.training.text_prior import (
    cell_text_tokenizer,
    cell_texts,
    train_text_prior,
)

TINY = PriorTrainingConfig(**{**TINY_PRIOR, "batch_size": 32})


@pytest.mark.parametrize("name", ["nb101", "nb201", "darts"])
def test_tokenizer_round_trips_the_native_text_of_every_space(name, tmp_path):
    space = get_space(name)
    cells = space.sample(50, seed=1)
    texts = [space.format(cell) for cell in cells]
    tokenizer = cell_text_tokenizer(texts)
    tokenizer.save_pretrained(tmp_path)
    reloaded = AutoTokenizer.from_pretrained(tmp_path)
    for cell, text in zip(cells, texts):
        ids = reloaded(text)["input_ids"]
        assert ids[0] == reloaded.bos_token_id and ids[-1] == reloaded.eos_token_id
        assert reloaded.unk_token_id not in ids
        decoded = space.decode_text(reloaded.decode(ids, skip_special_tokens=True))
        assert decoded.valid and decoded.cell == cell


def test_tokenizer_vocabulary_is_bounded_and_merges_characters():
    space = get_space("darts")
    texts = [space.format(cell) for cell in space.sample(50, seed=2)]
    tokenizer = cell_text_tokenizer(texts, vocab_size=64)
    assert len(tokenizer) <= 64
    for text in texts:
        ids = tokenizer(text, add_special_tokens=False)["input_ids"]
        assert len(ids) < len(text) / 2
        assert tokenizer.decode(ids) == text


def test_tokenizer_needs_texts():
    with pytest.raises(ValueError, match="at least one text"):
        cell_text_tokenizer([])


def test_cell_texts_of_a_space_without_a_text_column():
    space = get_space("nb101")
    split = datasets.Dataset.from_list([space.to_record(cell) for cell in space.sample(5, seed=0)])
    assert [space.parse(text) for text in cell_texts(space, split)] == [space.from_record(r) for r in split]


@given(st.text(max_size=200))
@settings(max_examples=200, deadline=None)
def test_decode_text_never_raises(text):
    for name in ("nb101", "nb201", "darts"):
        decoded = get_space(name).decode_text(text)
        assert decoded.valid or decoded.reason


def test_decode_text_names_why_not_valid():
    nb201 = get_space("nb201")
    assert not nb201.decode_text(42).valid
    bad = nb201.decode_text("|nor_conv_3x3~0|+|bogus~0|none~1|")
    assert not bad.valid and "bogus" in bad.reason


def test_direct_lm_trains_saves_and_generates(tmp_path):
    full = build_cells_dataset("nb201", progress=False)
    cells = datasets.DatasetDict({name: split.select(range(128)) for name, split in full.items()})
    summary = train_text_prior("nb201", tmp_path, dataset=cells, config=TINY, progress=False)
    assert summary["train_steps"] == 4 and summary["eval_loss"] is not None
    assert summary["longest_sequence"] == len(
        AutoTokenizer.from_pretrained(tmp_path)(full["train"][0]["arch_str"])["input_ids"]
    )
    assert (tmp_path / PRIOR_INFO_NAME).is_file() and (tmp_path / "tokenizer.json").is_file()
    assert read_prior_info(tmp_path).format == "cell_text"
    sampler = TextLMSampler.from_pretrained(tmp_path)
    samples = sampler.generate(20, batch_size=8, seed=0)
    assert len(samples) == 20
    for sample in samples:
        assert sample["valid"] == (sample["id"] is not None)
        assert sample["valid"] or sample["reason"]
        if sample["valid"]:
            assert sample["cell"] == sample["codes"]  # NB201: the generated text is the arch string
    assert sampler.generate(20, batch_size=8, seed=0) == samples
    with pytest.raises(FileNotFoundError, match="not an archllm prior"):
        TextLMSampler.from_pretrained(tmp_path.parent)
    with pytest.raises(ValueError, match="writes no codes"):
        ArchitectureGenerator.from_pretrained(tmp_path)
