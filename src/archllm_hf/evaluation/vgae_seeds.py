"""arch2vec's VGAE as published, over several seeds: held-out reconstruction and generation under both rules, with
the mean and spread over the seeds, to set beside the original code's seed spread (measured on this machine:
``../shared/notes/arch2vec-reference.md``).

Each seed trains on arch2vec's own split (:data:`~archllm_hf.training.vgae.PUBLISHED`), then samples
``num_samples`` graphs the way arch2vec does (:class:`~archllm_hf.generation.VGAESampler`, seeded by the training
seed) and scores them by our strict rule and by arch2vec's lenient one (:func:`~archllm_hf.scoring.score_graphs`).
A seed's result is kept in ``work/SPACE/seed-K/result.json`` with the provenance of the run that measured it, and
reused (when measured with the same samples and epochs), so an interrupted run resumes seed by seed.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from ..generation import VGAESampler
from ..scoring import score_graphs
from ..training.vgae import PUBLISHED, train_vgae
from ..utils import atomic_write_json
from .generation import trained
from .provenance import provenance

SUMMARY_KEYS: dict[str, tuple[str, ...]] = {
    "reconstruction": ("exact_match", "op_accuracy_real", "adjacency_accuracy"),
    "strict": ("validity", "uniqueness", "valid_unique_rate"),
    "arch2vec": ("validity", "uniqueness", "valid_unique_rate"),
}
"""The figures :func:`vgae_seed_runs` gives the mean and spread of, per part of a seed's result."""


def vgae_seed_run(
    space: str,
    seed: int,
    folder: Path,
    num_samples: int = 10_000,
    epochs: float | None = None,
    device: str | None = None,
) -> dict[str, Any]:
    """One seed: the VGAE trained in ``folder/vgae`` (reused when finished there), its held-out reconstruction and
    the scores of ``num_samples`` graphs it samples, under both rules."""
    summary = trained(
        folder / "vgae",
        train_vgae,
        space,
        folder / "vgae",
        epochs=epochs,
        seed=seed,
        device=device,
        progress=False,
        config=PUBLISHED,
    )
    sampler = VGAESampler.from_pretrained(folder / "vgae", device=device)
    torch.manual_seed(seed)
    adjacency, ops = sampler.draw_graphs(num_samples)
    return {
        "seed": seed,
        "reconstruction": summary["test"],
        "train_seconds": summary["train_seconds"],
        "epochs": summary["epochs"],
        "training_config": summary["training_config"],
        "num_samples": num_samples,
        "strict": dict(score_graphs(adjacency, ops, sampler.space, rule="strict")),
        "arch2vec": dict(score_graphs(adjacency, ops, sampler.space, rule="arch2vec")),
    }


def vgae_seed_runs(
    space: str,
    seeds: Sequence[int],
    work: Path,
    num_samples: int = 10_000,
    epochs: float | None = None,
    device: str | None = None,
) -> dict[str, Any]:
    """:func:`vgae_seed_run` for each of ``seeds`` (a finished seed's result in ``work/SPACE/seed-K`` is reused),
    and the mean and sample standard deviation over the seeds of :data:`SUMMARY_KEYS`."""
    if not seeds or len(set(seeds)) != len(seeds):
        raise ValueError(f"need one or more distinct seeds, got {list(seeds)}")
    runs = []
    for seed in seeds:
        folder = Path(work) / space / f"seed-{seed}"
        path = folder / "result.json"
        if path.is_file():
            result = json.loads(path.read_text())
            _check_settings(path, result, num_samples, epochs)
        else:
            started = provenance()
            result = {
                **vgae_seed_run(space, seed, folder, num_samples, epochs, device),
                "measured_by": started,
            }
            atomic_write_json(path, result)
        runs.append(result)
    return {"space": space, "seeds": list(seeds), "runs": runs, **spread(runs)}


def _check_settings(path: Path, result: dict[str, Any], num_samples: int, epochs: float | None) -> None:
    """A seed's earlier result is reused only if it was measured with the same samples (and epochs, when given)."""
    asked = {"num_samples": num_samples, **({"epochs": epochs} if epochs is not None else {})}
    kept = {key: result.get(key) for key in asked}
    if kept != asked:
        raise ValueError(
            f"{path} was measured with {kept}, not {asked}: use another work folder, or remove it to measure again"
        )


def spread(runs: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """``mean`` and ``std`` (sample standard deviation; 0 for one run) of :data:`SUMMARY_KEYS` over ``runs``."""
    mean: dict[str, dict[str, float]] = {}
    std: dict[str, dict[str, float]] = {}
    for part, keys in SUMMARY_KEYS.items():
        values = {key: [float(run[part][key]) for run in runs] for key in keys}
        mean[part] = {key: statistics.fmean(v) for key, v in values.items()}
        std[part] = {key: statistics.stdev(v) if len(v) > 1 else 0.0 for key, v in values.items()}
    return {"mean": mean, "std": std}


__all__ = ["SUMMARY_KEYS", "spread", "vgae_seed_run", "vgae_seed_runs"]
