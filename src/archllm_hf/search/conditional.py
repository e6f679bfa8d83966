"""Arch-LLM's search: a pretrained LLM prior, fine-tuned on performance-labelled cells, asked for the best bucket.

The prior writes the codes as text after a prompt (``archllm train-prior --base-model ...``). Each round it is
fine-tuned, from its weights before the search, on every cell queried so far, each after a prompt that carries the
cell's performance bucket (:func:`~archllm_hf.generation.generator.performance_prompt`; buckets are quantiles of
the objectives so far); then it proposes cells after the prompt of the best bucket that holds queried cells, with constrained decoding, and the
first ones never queried are queried.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from scipy.stats import rankdata

from ..generation.generator import ArchitectureGenerator, performance_prompt
from ..training.prior import CausalLMCollator, tokenize_text
from .base import SearchRun
from .configs import ConditionalLLMSearchConfig
from .generative import PriorSearch, finetune


class ConditionalLLMSearch(PriorSearch):
    """Performance-conditioned search with a text prior (see the module docstring).

    Args:
        generator: the text prior (format ``"text"``) and its VQ-VAE.
        config: the rounds' sizes, the performance buckets, each round's fine-tuning and the sampling temperature
            (:class:`~archllm_hf.search.configs.ConditionalLLMSearchConfig`).
    """

    name = "conditional_llm"

    def __init__(self, generator: ArchitectureGenerator, config: ConditionalLLMSearchConfig | None = None):
        if generator.info.format != "text":
            raise ValueError(
                "the conditional searcher needs a prior that writes codes as text (format 'text')"
            )
        self.generator, self.config = generator, config or ConditionalLLMSearchConfig()

    def _sampling(self) -> dict[str, Any]:
        return {"temperature": self.config.temperature, "constrained": True}

    def _next_cells(self, run: SearchRun, cells: dict[str, Any]) -> list[Any]:
        """Proposals after the prompt of the best bucket (the prior was just trained on it, so it is never empty)."""
        best = int(self.buckets([r["objective"] for r in run.history]).max())
        prompt = performance_prompt(self.generator.info.prompt, best, self.config.num_buckets)
        return self._propose(run, self.config.batch_size, prompt=prompt)

    def buckets(self, objectives: list[float]) -> np.ndarray:
        """The performance bucket of each objective: quantiles of the objectives themselves; tied values share
        one bucket, the one of their mean rank."""
        values = np.asarray(objectives, dtype=float)
        ranks = rankdata(values, method="average") - 1  # 0 .. n-1
        num_buckets = self.config.num_buckets
        return np.minimum((ranks * num_buckets / len(values)).astype(int), num_buckets - 1)

    def _finetune(self, run: SearchRun, cells: dict[str, Any]) -> None:
        generator = self.generator
        queried = [cells[r["id"]] for r in run.history]
        texts = generator.processor.cells_to_text(generator.vqvae, queried)
        buckets = self.buckets([r["objective"] for r in run.history])
        rows: list[dict[str, Any]] = []
        for bucket in range(self.config.num_buckets):
            chosen = [text for text, b in zip(texts, buckets) if b == bucket]
            if chosen:
                prompt = performance_prompt(generator.info.prompt, bucket, self.config.num_buckets)
                rows.extend(tokenize_text(generator.tokenizer, chosen, prompt).to_list())
        collate = CausalLMCollator(generator.tokenizer)

        def next_batch() -> dict[str, torch.Tensor]:
            picked = torch.randperm(len(rows))[: self.config.finetune_batch_size].tolist()
            return {k: v.to(generator.device) for k, v in collate([rows[i] for i in picked]).items()}

        finetune(generator.prior, next_batch, self.config.finetune_steps, self.config.finetune_learning_rate)


__all__ = ["ConditionalLLMSearch"]
