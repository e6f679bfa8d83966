"""Ours: sequence-model NAS with the pretrained code prior.

Each round the prior proposes a pool of cells never queried before (sampled without replacement and decoded
through the VQ-VAE); what has been queried steers the next proposals in two ways, each of which can be switched
off for the ablation:

* **fine-tuning**: before proposing, the prior is fine-tuned (from its pretrained weights) on the code strings of
  the best cells queried so far, so it proposes cells like them;
* **predictor ranking**: an accuracy predictor is fit on every (cell, objective) queried so far and the pool's
  best-predicted cells are queried. ``make_searcher("generative")`` ranks with ours, the graph predictor pretrained on
  the space's zero-cost proxies (:mod:`archllm_hf.search.graph_predictor`); ``predictor="code"`` with the code
  predictor (:class:`~archllm_hf.search.predictors.ArchPredictor`, initialised from the same prior).

With both off this is sampling from the prior without replacement.
"""

from __future__ import annotations

import copy
from abc import abstractmethod
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from ..generation.generator import ArchitectureGenerator
from .base import Searcher, SearchRun
from .configs import GenerativeSearchConfig, PriorSearchConfig
from .predictors import Predictor


def propose_new_cells(
    generator: ArchitectureGenerator, run: SearchRun, n: int, max_rounds: int = 20, **draw_options: Any
) -> list[Any]:
    """Up to ``n`` distinct cells the search has not queried, drawn from ``generator`` (``draw_options``: its
    sampling options); random new cells fill in when it stops finding any."""
    found: dict[str, Any] = {}
    for _ in range(max_rounds):
        decoded, _ = generator.draw(max(2 * n, 64), **draw_options)
        for result in decoded:
            if result.valid and result.id not in found and run.is_new(result.cell):
                found[result.id] = result.cell
                if len(found) == n:
                    return list(found.values())
    while len(found) < min(n, run.remaining):
        cell = run.random_new_cell()
        found.setdefault(run.space.canonical_id(cell), cell)
    return list(found.values())


def finetune(
    model: torch.nn.Module,
    next_batch: Callable[[], dict[str, torch.Tensor]],
    steps: int,
    learning_rate: float,
) -> None:
    """``steps`` AdamW steps (no weight decay) of a causal LM's loss on the batches ``next_batch`` returns; the
    model is left in eval mode."""
    model.train()
    optimiser = torch.optim.AdamW(model.parameters(), lr=learning_rate, weight_decay=0.0)
    for _ in range(steps):
        loss = model(**next_batch()).loss
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    model.eval()


class PriorSearch(Searcher):
    """The skeleton of the searchers that steer a prior (ours and the conditional LLM search).

    The prior's space must be the oracle's. From a seeded torch generator, ``config.num_initial`` cells sampled from
    the pretrained prior are queried; then, each round, the prior is fine-tuned from its weights before the search
    on what has been queried (:meth:`_finetune`, when :meth:`_finetunes`) and the next cells are proposed and
    queried (:meth:`_next_cells`). The prior leaves the search with its weights from before, in eval mode.
    """

    generator: ArchitectureGenerator
    config: PriorSearchConfig

    def _search(self, run: SearchRun) -> None:
        if run.space.name != self.generator.space.name:
            raise ValueError(
                f"the prior generates {self.generator.space.name} cells, the oracle is on {run.space.name}"
            )
        pretrained = copy.deepcopy(self.generator.prior.state_dict())
        torch.manual_seed(run.seed)
        cells: dict[str, Any] = {}  # the cells queried so far, by id
        try:
            self._query(run, cells, self._propose(run, self.config.num_initial))
            while run.remaining > 0:
                if self._finetunes():
                    self.generator.prior.load_state_dict(pretrained)
                    self._finetune(run, cells)
                self._query(run, cells, self._next_cells(run, cells))
        finally:
            self.generator.prior.load_state_dict(pretrained)
            self.generator.prior.eval()

    def _finetunes(self) -> bool:
        """Whether the prior is fine-tuned before each round."""
        return True

    @abstractmethod
    def _finetune(self, run: SearchRun, cells: dict[str, Any]) -> None:
        """Fine-tune the prior on the cells queried so far."""

    @abstractmethod
    def _next_cells(self, run: SearchRun, cells: dict[str, Any]) -> list[Any]:
        """The cells the round queries, in order."""

    def _propose(self, run: SearchRun, n: int, prompt: str | None = None) -> list[Any]:
        """Up to ``n`` new cells sampled from the prior (after ``prompt``, by default its own)."""
        return propose_new_cells(self.generator, run, n, prompt=prompt, **self._sampling())

    def _sampling(self) -> dict[str, Any]:
        """The prior's sampling options."""
        return {"temperature": self.config.temperature}

    @staticmethod
    def _query(run: SearchRun, cells: dict[str, Any], new_cells: list[Any]) -> None:
        for cell in new_cells:
            cells[run.space.canonical_id(cell)] = cell
            run.query(cell)


class GenerativeSearch(PriorSearch):
    """Sequence-model search with the code prior (see the module docstring).

    Args:
        generator: the pretrained prior and its VQ-VAE.
        predictor: the accuracy predictor that ranks each pool (None: query proposals in sampling order).
        config: fine-tuning on or off, the rounds' sizes, the fine-tuning schedule and the sampling temperature
            (:class:`~archllm_hf.search.configs.GenerativeSearchConfig`).
    """

    name = "generative"

    def __init__(
        self,
        generator: ArchitectureGenerator,
        predictor: Predictor | None = None,
        config: GenerativeSearchConfig | None = None,
    ):
        if generator.info.format != "codes":
            raise ValueError("the generative searcher needs a code-token prior (format 'codes')")
        self.generator, self.predictor = generator, predictor
        self.config = config or GenerativeSearchConfig()
        if predictor is not None and self.config.num_initial < 2:
            raise ValueError(
                f"a predictor fits on the cells queried so far: num_initial must be >= 2, got {self.config.num_initial}"
            )
        self.name = {
            (False, False): "generative_prior",
            (True, False): "generative_finetune",
            (False, True): "generative_predictor",
            (True, True): "generative",
        }[(self.config.finetune, predictor is not None)]

    @property
    def variant(self) -> str:
        parts = (
            ["prior"]
            + (["finetune"] if self.config.finetune else [])
            + (["predictor"] if self.predictor else [])
        )
        return "+".join(parts)

    def _finetunes(self) -> bool:
        return self.config.finetune

    def _next_cells(self, run: SearchRun, cells: dict[str, Any]) -> list[Any]:
        """A pool of proposals, ranked by the predictor fit on every query so far (without one: sampling order)."""
        batch_size = self.config.batch_size
        pool = self._propose(run, self.config.pool_size if self.predictor else batch_size)
        if self.predictor is not None and len(pool) > batch_size:
            queried = [cells[r["id"]] for r in run.history]
            self.predictor.config.seed = run.seed
            self.predictor.fit(queried, [r["objective"] for r in run.history])
            order = np.argsort(-self.predictor.predict(pool), kind="stable")
            pool = [pool[i] for i in order]
        return pool[:batch_size]

    def _finetune(self, run: SearchRun, cells: dict[str, Any]) -> None:
        """A few full-batch steps of the causal-LM loss on the elite's code strings."""
        elite = sorted(run.history, key=lambda r: -r["objective"])[: self.config.elite_size]
        generator = self.generator
        texts = generator.processor.cells_to_text(generator.vqvae, [cells[r["id"]] for r in elite])
        ids = torch.as_tensor(generator.tokenizer(texts)["input_ids"], device=generator.device)
        batch = {"input_ids": ids, "labels": ids}
        finetune(
            generator.prior, lambda: batch, self.config.finetune_steps, self.config.finetune_learning_rate
        )

    def _extra(self) -> dict[str, Any]:
        ranker = (
            None if self.predictor is None else getattr(self.predictor, "name", type(self.predictor).__name__)
        )
        return {"variant": self.variant, "predictor": ranker, **self.config.to_dict()}


__all__ = ["GenerativeSearch", "PriorSearch", "finetune", "propose_new_cells"]
