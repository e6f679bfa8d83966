"""The code grammar on an LLM's own vocabulary: only well-formed code strings can be written."""

from __future__ import annotations

import torch
from fixtures import tiny_causal_lm
from transformers import AutoTokenizer

from archllm_hf.generation import TextCodeGrammarLogitsProcessor


def tokenizer_of(tmp_path):
    tiny_causal_lm(tmp_path / "lm")
    return AutoTokenizer.from_pretrained(tmp_path / "lm")


def test_the_grammar_accepts_exactly_the_code_strings(tmp_path):
    tokenizer = tokenizer_of(tmp_path)
    grammar = TextCodeGrammarLogitsProcessor(tokenizer, prompt_length=0, code_length=3, codebook_size=12)

    def accepts_prefix(text: str) -> bool:
        state = (0, "", False)
        for char in text:
            state = grammar._advance(state, char)
            if state is None:
                return False
        return True

    assert accepts_prefix(" 11 0 7") and accepts_prefix(" 1") and accepts_prefix(" ")
    assert not accepts_prefix("1")  # the completion starts with a space
    assert not accepts_prefix(" 12")  # 12 is outside a codebook of 12
    assert not accepts_prefix(" 05")  # no leading zeros
    assert not accepts_prefix(" 1  2")  # single spaces
    assert not accepts_prefix(" 1 2 3 ")  # no fourth number


def test_sampling_with_the_grammar_writes_only_code_strings(tmp_path):
    tokenizer = tokenizer_of(tmp_path)
    code_length, codebook_size = 4, 16
    grammar = TextCodeGrammarLogitsProcessor(tokenizer, 1, code_length, codebook_size)
    torch.manual_seed(0)
    ids = torch.zeros(64, 1, dtype=torch.long)
    finished = torch.zeros(64, dtype=torch.bool)
    for _ in range(4 * code_length + 2):
        scores = grammar(
            ids, torch.randn(64, len(tokenizer)) * 5
        )  # random logits: any allowed token may come
        step = torch.multinomial(torch.softmax(scores, dim=-1), 1).squeeze(1)
        step[finished] = tokenizer.eos_token_id
        finished |= step == tokenizer.eos_token_id
        ids = torch.cat([ids, step[:, None]], dim=1)
    assert finished.all()
    for row in ids[:, 1:].tolist():
        text = tokenizer.decode(row[: row.index(tokenizer.eos_token_id)])
        numbers = text.split(" ")[1:]
        assert text.startswith(" ") and len(numbers) == code_length, text
        assert all(n.isdigit() and int(n) < codebook_size and str(int(n)) == n for n in numbers), text
