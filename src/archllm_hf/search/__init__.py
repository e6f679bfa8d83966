"""Neural architecture search on any space: oracles, searchers (random, evolution, local, Bayesian optimisation
over arch2vec embeddings, and ours, the sequence-model search with the code prior) and accuracy predictors.

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

from pathlib import Path
from typing import Any

from .base import Searcher, SearchResult, SearchRun
from .oracles import CallableOracle, CellNotInTableError, Evaluation, Oracle, TableOracle
from .searchers import LocalSearch, RandomSearch, RegularizedEvolution

ALGORITHMS = ("random", "evolution", "local", "bo", "generative", "conditional_llm")


def make_searcher(
    algorithm: str,
    prior: str | Path | None = None,
    vgae: str | Path | None = None,
    device: str | None = None,
    finetune: bool = True,
    predictor: bool = True,
    **options: Any,
) -> Searcher:
    """The searcher called ``algorithm`` (one of :data:`ALGORITHMS`).

    ``bo`` needs ``vgae`` (an arch2vec VGAE folder); ``generative`` needs ``prior`` (a prior folder or Hub repo id;
    its VQ-VAE is the one it names), and ``finetune`` / ``predictor`` switch its parts for the ablation;
    ``conditional_llm`` needs ``prior``: a text prior (a pretrained LLM fine-tuned on the codes).
    ``options`` go to the searcher's constructor.
    """
    if algorithm == "random":
        return RandomSearch(**options)
    if algorithm == "evolution":
        return RegularizedEvolution(**options)
    if algorithm == "local":
        return LocalSearch(**options)
    if algorithm == "bo":
        if vgae is None:
            raise ValueError("the bo searcher embeds cells with an arch2vec VGAE: give its folder (vgae=...)")
        from .._hub import load_vgae
        from ..spaces import space_of
        from .bayesian import BayesianOptimisation
        from .predictors import Arch2VecEmbedder

        model = load_vgae(vgae, device=device)
        return BayesianOptimisation(Arch2VecEmbedder(model, space_of(model.config)), **options)
    if algorithm == "generative":
        if prior is None:
            raise ValueError(
                "the generative searcher starts from a trained prior: give its folder or repo id"
            )
        from ..generation.generator import ArchitectureGenerator
        from ..presets import preset
        from ..utils import set_seed
        from .generative import GenerativeSearch
        from .predictors import ArchPredictor

        generator = ArchitectureGenerator.from_pretrained(prior, device=device)
        config = preset(generator.space.name).search_predictor
        code_predictor = None
        if predictor:
            # The predictor's regression head is new: from_prior draws it from the global torch generator, which
            # each process seeds at random, and every fit starts again from it. Seeded here, the same command and
            # seed give the same search in every process.
            set_seed(config.seed)
            code_predictor = ArchPredictor.from_prior(prior, config=config, device=device)
        return GenerativeSearch(generator, code_predictor, finetune=finetune, **options)
    if algorithm == "conditional_llm":
        if prior is None:
            raise ValueError(
                "the conditional_llm searcher starts from a text prior (a pretrained LLM fine-tuned on the codes, "
                "archllm train-prior --base-model ...): give its folder or repo id"
            )
        from ..generation.generator import ArchitectureGenerator
        from .conditional import ConditionalLLMSearch

        return ConditionalLLMSearch(ArchitectureGenerator.from_pretrained(prior, device=device), **options)
    raise ValueError(f"unknown search algorithm {algorithm!r}; choose one of {', '.join(ALGORITHMS)}")


__all__ = [
    "ALGORITHMS",
    "CallableOracle",
    "CellNotInTableError",
    "Evaluation",
    "LocalSearch",
    "Oracle",
    "RandomSearch",
    "RegularizedEvolution",
    "SearchResult",
    "SearchRun",
    "Searcher",
    "TableOracle",
    "make_searcher",
]
