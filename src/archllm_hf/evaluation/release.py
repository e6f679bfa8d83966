"""The quality of a release repo, measured as its model card reports it.

:func:`evaluate_release` loads the repo folder (as a user would), samples ``num_samples`` cells at its recommended
settings (its ``generation_config.json``) and as many iid at temperature 1 without constraints (the raw prior),
scores both against the training split with :func:`~archllm_hf.scoring.score_samples`, and measures the VQ-VAE's
whole-cell reconstruction on the held-out test split. ``benchmarks/release.py`` writes the result to
``benchmarks/results/release-<space>.json`` and into the repo as ``evaluation.json``.
"""

from __future__ import annotations

import dataclasses
import json
import time
from pathlib import Path
from typing import Any

import datasets

from .._hub import read_prior_info, read_summary
from ..data import build_cells_dataset
from ..generation import ArchitectureGenerator
from ..presets import preset
from ..release.card import EVALUATION_NAME
from ..scoring import score_samples, training_reference
from ..training.graphs import graph_dataset, reconstruction_metrics


def evaluate_release(
    folder: str | Path,
    num_samples: int = 10_000,
    seed: int = 0,
    batch_size: int = 2_000,
    cells: datasets.DatasetDict | None = None,
    device: str | None = None,
    progress: bool = False,
) -> dict[str, Any]:
    """Measure the release repo at ``folder``; ``cells`` is the space's cells dataset (rebuilt with the defaults,
    as training built it, when None)."""
    generator = ArchitectureGenerator.from_pretrained(folder, device=device)
    space = generator.space
    if cells is None:
        cells = build_cells_dataset(space, progress=progress)
    reference = training_reference(space, cells["train"])
    recommended = generator.recommended_sampling()
    sampling = {"batch_size": batch_size, "seed": seed}

    generator.generate(min(batch_size, 256), **sampling)  # warm-up, not timed
    start = time.perf_counter()
    samples = generator.generate(num_samples, progress=progress, **sampling)
    seconds = time.perf_counter() - start
    raw_settings = {"temperature": 1.0, "constrained": False, "without_replacement": False}
    raw = generator.generate(num_samples, progress=progress, **sampling, **raw_settings)

    test = graph_dataset(space, cells["test"])
    return {
        "space": space.name,
        "repo": Path(folder).name,
        "device": str(generator.device),
        "recommended": {
            "settings": recommended,
            "num_samples": num_samples,
            "seed": seed,
            "scores": score_samples(samples, **reference, space=space),
            "seconds": seconds,
            "cells_per_second": num_samples / seconds if seconds > 0 else None,
        },
        "raw_iid": {
            "settings": raw_settings,
            "num_samples": num_samples,
            "seed": seed,
            "scores": score_samples(raw, **reference, space=space),
        },
        "reconstruction": {**reconstruction_metrics(generator.vqvae, test), "split": "test"},
    }


def check_run_presets(run_dir: str | Path) -> None:
    """Raise ``ValueError`` unless the run's VQ-VAE and prior were trained with the space's current presets (the
    settings their training summaries record; keys added to the presets since are not held against a run)."""
    run_dir = Path(run_dir)
    info = read_prior_info(run_dir / "prior")
    space_preset = preset(info.space)
    for folder, config in (("vqvae", space_preset.vqvae), ("prior", space_preset.prior)):
        recorded = read_summary(run_dir / folder).get("training_config", {})
        wanted = dataclasses.asdict(config)
        if hasattr(config, "resolved_learning_rate"):  # training records the rate it used
            wanted["learning_rate"] = config.resolved_learning_rate()
        differ = sorted(k for k in recorded if k in wanted and recorded[k] != wanted[k])
        if differ:
            raise ValueError(
                f"{run_dir / folder} was trained with other settings than the {info.space} preset ({differ}); "
                "train the run again to release the package's defaults"
            )


def is_released(repo: str | Path, result_file: str | Path) -> bool:
    """Whether ``repo`` holds the evaluation that ``result_file`` (a release benchmark result) records."""
    repo_file, result_file = Path(repo) / EVALUATION_NAME, Path(result_file)
    if not (repo_file.is_file() and result_file.is_file()):
        return False
    result = json.loads(result_file.read_text())
    measured = {k: v for k, v in result.items() if k not in ("benchmark", "repo_files", "repo_bytes")}
    return json.loads(repo_file.read_text()) == measured


def repo_sizes(repo: str | Path) -> dict[str, Any]:
    """The size in bytes of every file of a release repo folder (``repo_files``) and their sum (``repo_bytes``),
    as the release benchmark records them (bytecode caches and hidden folders are not part of a repo)."""
    repo = Path(repo)
    files = {
        str(p.relative_to(repo)): p.stat().st_size
        for p in sorted(repo.rglob("*"))
        if p.is_file()
        and not any(part.startswith(".") or part == "__pycache__" for part in p.relative_to(repo).parts)
    }
    return {"repo_files": files, "repo_bytes": sum(files.values())}


__all__ = ["check_run_presets", "evaluate_release", "is_released", "repo_sizes"]
