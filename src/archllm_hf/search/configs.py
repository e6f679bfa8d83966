"""One configuration dataclass per searcher: every hyper-parameter of a search, with its default, in one place.

A searcher's constructor takes the objects it steers (a generator, a predictor, an embedding) and its config,
nothing else; :data:`SEARCHER_CONFIGS` maps each algorithm name to its config class, and
:func:`searcher_config` builds one from keyword options (what :func:`~archllm_hf.search.make_searcher` does with its
``options``). A config checks its values when it is made, so a searcher never does.
"""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from dataclasses import dataclass
from typing import Any, Literal


@dataclass
class SearcherConfig:
    """The base: a searcher without hyper-parameters (random and local search). Every config checks that its
    fields hold what their types say (an int, a finite float, a bool; ``None`` where allowed); subclasses add the
    ranges."""

    def __post_init__(self) -> None:
        hints = typing.get_type_hints(type(self))
        for field in dataclasses.fields(self):
            _check_type(type(self).__name__, field.name, getattr(self, field.name), hints[field.name])

    def to_dict(self) -> dict[str, Any]:
        """The hyper-parameters, for the search summary."""
        return dataclasses.asdict(self)


@dataclass
class RandomSearchConfig(SearcherConfig):
    """Random search has no hyper-parameter."""


@dataclass
class LocalSearchConfig(SearcherConfig):
    """Local search has no hyper-parameter."""


@dataclass
class EvolutionConfig(SearcherConfig):
    """Regularized (aging) evolution; the defaults are NAS-Bench-201's.

    Args:
        population_size: cells alive at once; the oldest dies when a child is born.
        tournament_size: random members of the population the parent is the best of.
    """

    population_size: int = 10
    tournament_size: int = 3

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 1 <= self.tournament_size <= self.population_size:
            raise ValueError(
                "need 1 <= tournament_size <= population_size, got "
                f"{self.tournament_size} and {self.population_size}"
            )


@dataclass
class BOConfig(SearcherConfig):
    """Bayesian optimisation (DNGO + expected improvement over arch2vec embeddings of a pool of real cells).

    Args:
        num_initial: random cells queried before the first model (arch2vec: 16).
        pool_size: cells sampled from the space as the pool when the oracle has no candidate list (a table
            oracle's cells are the pool).
        batch_size: cells queried per model fit, the best by expected improvement (arch2vec: 1 on NB201, 5 on
            NB101).
        label_scale: objective values are multiplied by this before the fit (arch2vec: accuracies / 100).
        ei_incumbent: the value EI improves on, in scaled units: arch2vec's 1.0, or None for the best seen.
        ei_scale: ``"variance"`` (arch2vec: the predictive variance stands where the std belongs) or ``"std"``.
    """

    num_initial: int = 16
    pool_size: int = 20_000
    batch_size: int = 1
    label_scale: float = 0.01
    ei_incumbent: float | None = 1.0
    ei_scale: Literal["variance", "std"] = "variance"

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.pool_size < 1:
            raise ValueError(f"pool_size must be >= 1, got {self.pool_size}")
        if self.num_initial < 2:
            raise ValueError(f"num_initial must be >= 2 (the model needs two points), got {self.num_initial}")
        if self.batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {self.batch_size}")
        if self.label_scale <= 0:
            raise ValueError(f"label_scale must be positive, got {self.label_scale}")
        if self.ei_scale not in ("variance", "std"):
            raise ValueError(f"ei_scale must be 'variance' or 'std', got {self.ei_scale!r}")


@dataclass
class RLConfig(SearcherConfig):
    """arch2vec's REINFORCE search in its latent space (:class:`~archllm_hf.search.reinforce.ReinforceSearch`).

    Args:
        pool_size: cells sampled from the space as the pool when the oracle has no candidate list.
        hidden_size: the LSTM cell's state size (arch2vec: 128).
        update_every: queries per policy update (arch2vec: 16).
        baseline: constant reward baseline (arch2vec: 0.4).
        learning_rate: Adam's step size (arch2vec: 1e-2).
        action_std: standard deviation of the Gaussian action in every latent dimension (arch2vec: 1).
        reward_scale: the reward is the objective times this (arch2vec: accuracy / 100).
    """

    pool_size: int = 20_000
    hidden_size: int = 128
    update_every: int = 16
    baseline: float = 0.4
    learning_rate: float = 1e-2
    action_std: float = 1.0
    reward_scale: float = 0.01

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in ("hidden_size", "update_every", "pool_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        for name in ("learning_rate", "action_std", "reward_scale"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")


@dataclass
class PriorSearchConfig(SearcherConfig):
    """What the two searchers that steer a prior share (:class:`~archllm_hf.search.generative.PriorSearch`).

    Args:
        num_initial: cells sampled from the pretrained prior (its own prompt) and queried before the first round.
        batch_size: cells queried per round.
        temperature: sampling temperature.
    """

    num_initial: int = 10
    batch_size: int = 10
    temperature: float = 1.0

    def __post_init__(self) -> None:
        super().__post_init__()
        if min(self.num_initial, self.batch_size) < 1:
            raise ValueError(
                f"need num_initial, batch_size >= 1, got {self.num_initial} and {self.batch_size}"
            )
        if self.temperature <= 0:
            raise ValueError(f"temperature must be positive, got {self.temperature}")


@dataclass
class GenerativeSearchConfig(PriorSearchConfig):
    """Ours, the sequence-model search with the code prior (:class:`~archllm_hf.search.generative.GenerativeSearch`).

    Which predictor ranks the proposals is not a hyper-parameter but a model: the searcher is handed one (or None),
    and ``make_searcher(predictor=...)`` builds it.

    Args:
        finetune: fine-tune the prior on the best cells before each round (off: the ablation).
        pool_size: proposals per round (the predictor ranks them; without a predictor only ``batch_size`` are drawn).
        elite_size: how many of the best cells the prior is fine-tuned on.
        finetune_steps, finetune_learning_rate: the fine-tuning schedule (full batch of the elite, AdamW).
    """

    finetune: bool = True
    pool_size: int = 500
    elite_size: int = 10
    finetune_steps: int = 30
    finetune_learning_rate: float = 1e-3

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.elite_size < 1 or self.pool_size < self.batch_size:
            raise ValueError("need num_initial, batch_size, elite_size >= 1 and pool_size >= batch_size")
        if self.finetune_steps < 0 or self.finetune_learning_rate <= 0:
            raise ValueError(
                "need finetune_steps >= 0 and a positive finetune_learning_rate, got "
                f"{self.finetune_steps} and {self.finetune_learning_rate}"
            )


@dataclass
class ConditionalLLMSearchConfig(PriorSearchConfig):
    """Arch-LLM's performance-conditioned search with a text prior
    (:class:`~archllm_hf.search.conditional.ConditionalLLMSearch`).

    Args:
        num_buckets: performance buckets of the prompts.
        finetune_steps, finetune_batch_size, finetune_learning_rate: each round's fine-tuning (AdamW, minibatches
            drawn from the queried cells).
    """

    num_buckets: int = 4
    finetune_steps: int = 10
    finetune_batch_size: int = 16
    finetune_learning_rate: float = 1e-4

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.finetune_batch_size < 1 or self.num_buckets < 2 or self.finetune_steps < 0:
            raise ValueError("need num_initial, batch_size, finetune_batch_size >= 1 and num_buckets >= 2")
        if self.finetune_learning_rate <= 0:
            raise ValueError(f"finetune_learning_rate must be positive, got {self.finetune_learning_rate}")


def _check_type(config: str, name: str, value: Any, hint: Any) -> None:
    """``value`` of the field ``name`` holds what ``hint`` says: an int (not a bool), a finite float (an int will
    do), a bool, a string of a ``Literal``, or ``None`` where the hint allows it."""
    options = typing.get_args(hint) if typing.get_origin(hint) in (typing.Union, types.UnionType) else (hint,)
    if value is None and type(None) in options:
        return
    for option in options:
        if option is bool and isinstance(value, bool):
            return
        if option is int and isinstance(value, int) and not isinstance(value, bool):
            return
        if option is float and isinstance(value, (int, float)) and not isinstance(value, bool):
            if math.isfinite(value):
                return
        if typing.get_origin(option) is Literal and value in typing.get_args(option):
            return
    raise ValueError(f"{config}.{name} must be {_describe(options)}, got {value!r}")


def _describe(options: tuple[Any, ...]) -> str:
    names = {bool: "a bool", int: "an int", float: "a finite number", type(None): "None"}
    return " or ".join(
        names.get(option) or " or ".join(repr(v) for v in typing.get_args(option)) for option in options
    )


SEARCHER_CONFIGS: dict[str, type[SearcherConfig]] = {
    "random": RandomSearchConfig,
    "evolution": EvolutionConfig,
    "local": LocalSearchConfig,
    "bo": BOConfig,
    "rl": RLConfig,
    "generative": GenerativeSearchConfig,
    "conditional_llm": ConditionalLLMSearchConfig,
}
"""The config class of each search algorithm, by the name ``make_searcher`` and ``archllm search`` take."""


def searcher_config(algorithm: str, **options: Any) -> SearcherConfig:
    """The config of ``algorithm`` with ``options`` set (the rest at their defaults).

    Raises:
        ValueError: an unknown algorithm, an option the algorithm does not take, or a value its config refuses.
    """
    try:
        config_class = SEARCHER_CONFIGS[algorithm]
    except KeyError:
        raise ValueError(
            f"unknown search algorithm {algorithm!r}; choose one of {', '.join(SEARCHER_CONFIGS)}"
        ) from None
    known = [field.name for field in dataclasses.fields(config_class)]
    unknown = sorted(set(options) - set(known))
    if unknown:
        raise ValueError(
            f"the {algorithm} searcher takes no option {', '.join(unknown)}; its options: "
            f"{', '.join(known) or 'none'}"
        )
    return config_class(**options)


__all__ = [
    "SEARCHER_CONFIGS",
    "BOConfig",
    "ConditionalLLMSearchConfig",
    "EvolutionConfig",
    "GenerativeSearchConfig",
    "LocalSearchConfig",
    "PriorSearchConfig",
    "RLConfig",
    "RandomSearchConfig",
    "SearcherConfig",
    "searcher_config",
]
