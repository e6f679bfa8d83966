"""Neural architecture search on any space: oracles, searchers (random, evolution, local, arch2vec's Bayesian
optimisation and REINFORCE over its embeddings, and ours, the sequence-model search with the code prior) and accuracy predictors.

Example::

    from archllm_hf.search import TableOracle, make_searcher

    oracle = TableOracle.from_files(
        "nb201", ["nats_tss_test_acc_200ep.csv", "minibench_hp12_accs.csv"],
        objective="cifar10_valid_acc_12ep", report="cifar10_test_acc_200ep",
    )
    result = make_searcher("evolution").search(oracle, budget=100, seed=0)
    print(result.best)
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from typing import TYPE_CHECKING

from ..presets import SEARCH_PREDICTORS
from .base import Searcher, SearchResult, SearchRun
from .configs import SEARCHER_CONFIGS, searcher_config
from .oracles import CallableOracle, CellNotInTableError, Evaluation, Oracle, TableOracle
from .searchers import LocalSearch, RandomSearch, RegularizedEvolution

if TYPE_CHECKING:
    from ..spaces.base import SearchSpace

ALGORITHMS = ("random", "evolution", "local", "bo", "rl", "generative", "conditional_llm")


def make_searcher(
    algorithm: str,
    prior: str | Path | None = None,
    vgae: str | Path | None = None,
    device: str | None = None,
    finetune: bool = True,
    predictor: str | None = "graph",
    proxy_cache: str | Path | None = None,
    progress: bool = False,
    **options: Any,
) -> Searcher:
    """The searcher called ``algorithm`` (one of :data:`ALGORITHMS`).

    ``bo`` and ``rl`` (arch2vec's DNGO and REINFORCE searches, as its code runs them) need ``vgae`` (an arch2vec
    VGAE folder); ``generative`` needs ``prior`` (a prior folder or Hub repo id;
    its VQ-VAE is the one it names), and ``finetune`` / ``predictor`` switch its parts for the ablation;
    ``conditional_llm`` needs ``prior``: a text prior (a pretrained LLM fine-tuned on the codes).
    ``options`` are the searcher's hyper-parameters: the fields of its config (:data:`SEARCHER_CONFIGS`; an option
    it does not take is a ``ValueError``).

    ``predictor`` (one of :data:`~archllm_hf.presets.SEARCH_PREDICTORS`) ranks the generative searcher's
    proposals: ``graph``, ours, is pretrained on the zero-cost proxies of the space's cells, measured into
    ``proxy_cache`` the first time (NB201: every cell, about 45 CPU-minutes; a progress bar with ``progress``) and
    kept, with the pretrained weights beside it, for every later search; ``code`` reads the prior's codes; ``none``
    queries the proposals in sampling order.
    """
    if algorithm == "generative":
        options = {"finetune": finetune, **options}
    config = searcher_config(algorithm, **options)
    if algorithm == "random":
        return RandomSearch(config)
    if algorithm == "evolution":
        return RegularizedEvolution(config)
    if algorithm == "local":
        return LocalSearch(config)
    if algorithm in ("bo", "rl"):
        if vgae is None:
            raise ValueError(
                f"the {algorithm} searcher embeds cells with an arch2vec VGAE: give its folder (vgae=...)"
            )
        from .._hub import load_vgae
        from ..spaces import space_of
        from .bayesian import BayesianOptimisation
        from .predictors import Arch2VecEmbedder
        from .reinforce import ReinforceSearch

        model = load_vgae(vgae, device=device)
        searcher = BayesianOptimisation if algorithm == "bo" else ReinforceSearch
        return searcher(Arch2VecEmbedder(model, space_of(model.config)), config)
    if algorithm == "generative":
        if prior is None:
            raise ValueError(
                "the generative searcher starts from a trained prior: give its folder or repo id"
            )
        from ..generation.generator import ArchitectureGenerator
        from .generative import GenerativeSearch

        kind = "none" if predictor is None else predictor
        if kind not in SEARCH_PREDICTORS:
            raise ValueError(
                f"unknown search predictor {predictor!r}; choose from {', '.join(SEARCH_PREDICTORS)}"
            )
        generator = ArchitectureGenerator.from_pretrained(prior, device=device)
        ranker = search_predictor(kind, generator.space, prior, proxy_cache, device, progress)
        return GenerativeSearch(generator, ranker, config)
    if algorithm == "conditional_llm":
        if prior is None:
            raise ValueError(
                "the conditional_llm searcher starts from a text prior (a pretrained LLM fine-tuned on the codes, "
                "archllm train-prior --base-model ...): give its folder or repo id"
            )
        from ..generation.generator import ArchitectureGenerator
        from .conditional import ConditionalLLMSearch

        return ConditionalLLMSearch(ArchitectureGenerator.from_pretrained(prior, device=device), config)
    raise ValueError(f"no searcher is registered for {algorithm!r}")  # a config without a searcher


def search_predictor(
    kind: str,
    space: SearchSpace,
    prior: str | Path | None = None,
    proxy_cache: str | Path | None = None,
    device: str | None = None,
    progress: bool = False,
) -> Any:
    """The unfitted predictor of ``kind`` (:data:`~archllm_hf.presets.SEARCH_PREDICTORS`) that ranks a generative
    search's proposals on ``space``, with the preset's per-round fit schedule (None for ``none``)."""
    from ..presets import preset

    settings = preset(space.name)
    if kind == "graph":
        from .commands import default_proxy_cache
        from .graph_predictor import build_graph_predictor

        cache = Path(proxy_cache) if proxy_cache is not None else default_proxy_cache(space.name)
        return build_graph_predictor(
            space,
            cache,
            pretrained_dir=cache.parent / f"graph-pretrained-{space.name}",
            config=copy.copy(settings.search_graph_predictor),
            ensemble=1,
            progress=progress,
        )
    if kind == "code":
        if prior is None:
            raise ValueError("the code predictor reads a prior's codes: give prior")
        from transformers import set_seed

        from .predictors import ArchPredictor

        # The predictor's regression head is new: from_prior draws it from the global torch generator, which each
        # process seeds at random, and every fit starts again from it. Seeded here, the same command and seed give
        # the same search in every process.
        set_seed(settings.search_predictor.seed)
        return ArchPredictor.from_prior(prior, config=copy.copy(settings.search_predictor), device=device)
    return None


__all__ = [
    "ALGORITHMS",
    "CallableOracle",
    "CellNotInTableError",
    "Evaluation",
    "LocalSearch",
    "Oracle",
    "RandomSearch",
    "RegularizedEvolution",
    "SEARCHER_CONFIGS",
    "SearchResult",
    "SearchRun",
    "Searcher",
    "TableOracle",
    "make_searcher",
    "searcher_config",
    "search_predictor",
]
