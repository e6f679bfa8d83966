"""Arch-LLM's conditional route to search: performance prompts, and the searcher that fine-tunes a text prior on
its labelled queries and samples the best bucket."""

from __future__ import annotations

import pytest
import torch
from fixtures import tiny_text_prior

from archllm_hf.generation import ArchitectureGenerator
from archllm_hf.generation.generator import performance_prompt
from archllm_hf.search import CallableOracle, make_searcher
from archllm_hf.search.conditional import ConditionalLLMSearch
from archllm_hf.search.configs import ConditionalLLMSearchConfig
from archllm_hf.spaces import get_space


@pytest.fixture(scope="module")
def text_prior(tmp_path_factory):
    return tiny_text_prior(tmp_path_factory.mktemp("text_prior"))


def conv_count(cell) -> float:
    return float(get_space("nb201").format(cell).count("nor_conv_3x3"))


def test_performance_prompts():
    assert performance_prompt("Architecture codes:", 3, 4) == "Architecture codes with performance 4 of 4:"
    with pytest.raises(ValueError, match="bucket"):
        performance_prompt("Codes:", 4, 4)


def test_buckets_are_quantiles_and_ties_share_one(text_prior):
    config = ConditionalLLMSearchConfig(num_buckets=4)
    searcher = ConditionalLLMSearch(ArchitectureGenerator.from_pretrained(text_prior), config)
    assert searcher.buckets([0.1, 0.2, 0.3, 0.4]).tolist() == [0, 1, 2, 3]
    assert searcher.buckets([5.0, 1.0, 5.0, 5.0, 2.0, 3.0, 4.0, 0.0]).tolist() == [3, 0, 3, 3, 1, 1, 2, 0]
    assert len(set(searcher.buckets([7.0] * 5).tolist())) == 1  # all tied: one bucket


def test_conditional_search_keeps_the_budget_and_restores_the_prior(text_prior):
    searcher = make_searcher(
        "conditional_llm",
        prior=text_prior,
        num_initial=4,
        batch_size=4,
        finetune_steps=2,
        finetune_batch_size=8,
    )
    before = {k: v.clone() for k, v in searcher.generator.prior.state_dict().items()}
    oracle = CallableOracle(get_space("nb201"), conv_count)
    result = searcher.search(oracle, budget=12, seed=0)
    ids = [r["id"] for r in result.history]
    assert len(ids) == 12 and len(set(ids)) == 12
    assert result.summary()["algorithm"] == "conditional_llm" and result.summary()["num_buckets"] == 4
    after = searcher.generator.prior.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)
    assert (
        searcher.generator._prompt_ids()
        == searcher.generator.tokenizer(searcher.generator.info.prompt)["input_ids"]
    )
    again = make_searcher(
        "conditional_llm",
        prior=text_prior,
        num_initial=4,
        batch_size=4,
        finetune_steps=2,
        finetune_batch_size=8,
    ).search(oracle, budget=12, seed=0)
    assert [r["id"] for r in again.history] == ids  # seeded


def test_a_prompt_argument_conditions_one_draw_and_needs_a_text_prior(text_prior, tmp_path):
    generator = ArchitectureGenerator.from_pretrained(text_prior)
    plain = generator._prompt_ids()
    prompt = performance_prompt(generator.info.prompt, 1, 2)
    assert generator._prompt_ids(prompt) == generator.tokenizer(prompt)["input_ids"] != plain
    assert generator._prompt_ids() == plain  # nothing is left on the generator
    torch.manual_seed(0)
    conditioned = generator.draw(4, prompt=prompt, constrained=True)[1]
    torch.manual_seed(0)
    assert generator.draw(4, prompt=prompt, constrained=True)[1] == conditioned  # the prompt is read per draw
    from fixtures import tiny_run

    codes_prior = tiny_run(tmp_path / "run", "nb201") / "prior"
    with pytest.raises(ValueError, match="a prompt needs a prior that writes the codes as text"):
        ArchitectureGenerator.from_pretrained(codes_prior).draw(2, prompt=prompt)
    with pytest.raises(ValueError, match="format 'text'"):
        make_searcher("conditional_llm", prior=codes_prior)
    with pytest.raises(ValueError, match="text prior"):
        make_searcher("conditional_llm")
