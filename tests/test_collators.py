"""The batches the prior and the code predictor train on: transformers' ``DataCollatorWithPadding``, on the right."""

from __future__ import annotations

import pytest
import torch

from archllm_hf.models.arch_vqvae import ArchCodeTokenizer
from archllm_hf.search.predictors import _RegressionCollator
from archllm_hf.training.common import padding_collator
from archllm_hf.training.prior import CausalLMCollator
from archllm_hf.training.text_prior import cell_text_tokenizer

EXAMPLES = [
    {"input_ids": [1, 10, 11, 2], "prompt_length": 1},
    {"input_ids": [1, 12, 13, 14, 15, 2], "prompt_length": 1},
    {"input_ids": [1, 2], "prompt_length": 2},
]


def test_causal_lm_batches_pad_right_and_learn_only_the_written_tokens():
    tokenizer = ArchCodeTokenizer(codebook_size=16)
    batch = CausalLMCollator(tokenizer)(EXAMPLES)
    pad = tokenizer.pad_token_id
    assert batch["input_ids"].tolist() == [
        [1, 10, 11, 2, pad, pad],
        [1, 12, 13, 14, 15, 2],
        [1, 2, pad, pad, pad, pad],
    ]
    assert batch["attention_mask"].tolist() == [[1, 1, 1, 1, 0, 0], [1] * 6, [1, 1, 0, 0, 0, 0]]
    assert batch["labels"].tolist() == [
        [-100, 10, 11, 2, -100, -100],
        [-100, 12, 13, 14, 15, 2],
        [-100] * 6,  # all prompt: nothing to learn
    ]
    assert all(t.dtype == torch.long for t in batch.values())


def test_a_tokenizer_that_pads_left_still_gives_right_padded_batches_and_keeps_its_side():
    tokenizer = cell_text_tokenizer(["a b c", "a c", "b c a"], vocab_size=32)
    tokenizer.padding_side = "left"
    batch = CausalLMCollator(tokenizer)(EXAMPLES[:2])
    assert batch["input_ids"][0, -2:].tolist() == [tokenizer.pad_token_id] * 2
    assert batch["labels"][0, :4].tolist() == [-100, 10, 11, 2]
    assert tokenizer.padding_side == "left"


def test_regression_batches_carry_float32_labels_and_need_a_pad_token():
    tokenizer = ArchCodeTokenizer(codebook_size=16)
    batch = _RegressionCollator(tokenizer)(
        [{"input_ids": [1, 10, 2], "labels": 0.5}, {"input_ids": [1, 2], "labels": -1}]
    )
    assert batch["input_ids"].tolist() == [[1, 10, 2], [1, 2, tokenizer.pad_token_id]]
    assert batch["labels"].dtype == torch.float32 and batch["labels"].tolist() == [0.5, -1.0]
    assert set(_RegressionCollator(tokenizer)([{"input_ids": [1, 2]}])) == {"input_ids", "attention_mask"}
    no_pad = cell_text_tokenizer(["a b"], vocab_size=16)
    no_pad.pad_token = None
    with pytest.raises(ValueError, match="no pad token"):
        padding_collator(no_pad)
