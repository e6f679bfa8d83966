"""The baselines' samplers, beside the generator and emitting the same sample records:

* :class:`TextLMSampler`: the direct LM over the cells' own text (a ``cell_text`` prior);
* :class:`VGAESampler`: arch2vec's VGAE, sampled as arch2vec does (rescaled Gaussian latents, decoded once);
* :class:`UniformSampler`: uniform from the space's grammar (``space.random_cell``), valid by construction.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import torch
from transformers import PreTrainedModel

from .._hub import PriorInfo, load_prior, load_vgae
from ..models.arch2vec import Arch2VecModel
from ..spaces import SearchSpace, space_of
from .generator import sample_token_ids
from .sampler import Draw, Sampler


class TextLMSampler(Sampler):
    """Samples cell texts from a direct LM (a ``cell_text`` prior) and parses them with the space."""

    def __init__(self, model: PreTrainedModel, tokenizer: Any, info: PriorInfo):
        if info.format != "cell_text":
            raise ValueError(
                f"a {info.format!r} prior writes codes, not cell text; use ArchitectureGenerator"
            )
        self.model, self.tokenizer, self.info = model, tokenizer, info
        self.space = info.build_space()

    @classmethod
    def from_pretrained(cls, path: str | Path, device: str | torch.device | None = None, **hub_kwargs: Any):
        return cls(*load_prior(path, device=device, **hub_kwargs))

    def draw(
        self, n: int, temperature: float = 1.0, top_k: int | None = None, top_p: float | None = None
    ) -> Draw:
        ids = sample_token_ids(
            self.model,
            [self.tokenizer.bos_token_id],
            n,
            temperature,
            top_k,
            top_p,
            max_new_tokens=self.model.generation_config.max_new_tokens,
        )
        texts = self.tokenizer.batch_decode(ids.tolist(), skip_special_tokens=True)
        return [self.space.decode_text(text) for text in texts], texts


class VGAESampler(Sampler):
    """arch2vec's sampling: ``N(0, I)`` latents rescaled by the training posterior's statistics, decoded once
    (argmax ops, edges where p > 0.5), then checked strictly by the space."""

    def __init__(self, model: Arch2VecModel):
        self.model = model.eval()
        self.space = space_of(model.config)

    @classmethod
    def from_pretrained(cls, path: str | Path, device: str | torch.device | None = None, **hub_kwargs: Any):
        return cls(load_vgae(path, device=device, **hub_kwargs))

    def draw(self, n: int, temperature: float = 1.0) -> Draw:
        adjacency, ops = self.draw_graphs(n)
        return self.space.decode_graphs(adjacency, ops), [None] * n

    @torch.no_grad()
    def draw_graphs(self, n: int) -> tuple[Any, Any]:
        """``n`` decoded graphs as numpy arrays ``adjacency [n, N, N]``, ``ops [n, N]`` (before any check)."""
        adjacency, ops = self.model.sample(n)
        return adjacency.cpu().numpy(), ops.cpu().numpy()


class UniformSampler(Sampler):
    """Cells drawn by ``space.random_cell`` from a seeded ``random.Random`` (``seed`` in :meth:`generate` reseeds
    it; repeats are kept unless ``without_replacement``)."""

    def __init__(self, space: SearchSpace, seed: int = 0):
        self.space = space
        self.rng = random.Random(seed)

    def generate(
        self, num_samples: int, *args: Any, seed: int | None = None, **kwargs: Any
    ) -> list[dict[str, Any]]:
        if seed is not None:
            self.rng = random.Random(seed)
        return super().generate(num_samples, *args, **kwargs)

    def draw(self, n: int, temperature: float = 1.0) -> Draw:
        return [self.space.validate(self.space.random_cell(self.rng)) for _ in range(n)], [None] * n


__all__ = ["TextLMSampler", "UniformSampler", "VGAESampler"]
