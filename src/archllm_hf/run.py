"""The main job: build the dataset, train the VQ-VAE, train the prior, generate, score, and write a report.

``archllm run --space nb201 --out runs/nb201`` writes::

    OUT/dataset/      the cells dataset repo (parquet + card)
    OUT/vqvae/        VQ-VAE + code tokenizer (AutoModel / AutoTokenizer)
    OUT/prior/        the prior LM (AutoModelForCausalLM / AutoTokenizer)
    OUT/samples.jsonl the generated cells at temperature 1.0
    OUT/report.json   scores, speed, temperature sweep, timings
    OUT/report.md     the same as markdown tables
    OUT/temperature.png  validity / uniqueness / novelty against sampling temperature

A finished VQ-VAE or prior (its folder complete) is reused when the command runs again, and an interrupted training
resumes from its last checkpoint; the dataset is rebuilt (deterministically) each time.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from . import __version__
from ._hub import is_saved, read_summary
from .data import build_cells_dataset, write_dataset_config
from .generation import ArchitectureGenerator
from .generation.sampler import check_sampling
from .presets import DEFAULT_TEMPERATURES, preset
from .scoring import score_samples, training_reference
from .spaces import get_space
from .training.prior import train_prior
from .training.vqvae import train_vqvae
from .utils import (
    atomic_save_figure,
    atomic_write_json,
    atomic_write_jsonl,
    atomic_write_text,
    check_output_folder,
)

logger = logging.getLogger(__name__)


def run_main_job(
    space: str = "nb201",
    out_dir: str | Path = "runs/nb201",
    num_samples: int = 10_000,
    temperatures: tuple[float, ...] = DEFAULT_TEMPERATURES,
    sweep_samples: int = 2_000,
    batch_size: int = 2_000,
    device: str | None = None,
    seed: int = 0,
    without_replacement: bool | None = None,
    progress: bool = True,
) -> dict[str, Any]:
    """Run the whole pipeline for ``space`` and return the report (also written to ``out_dir``).

    ``without_replacement`` defaults to the space's preset (on for NB201); when on, the report also scores as many
    iid samples (``scores_with_replacement``) so both are on record.
    """
    if without_replacement is None:
        without_replacement = preset(space).without_replacement
    out = Path(out_dir)
    timings: dict[str, float] = {}
    space_obj = get_space(space)
    check_output_folder(out)
    # refuse a request that cannot be met before hours of training, not after
    check_sampling(
        space_obj, num_samples, batch_size=batch_size, without_replacement=without_replacement, seed=seed
    )
    check_sampling(space_obj, sweep_samples, batch_size=batch_size, without_replacement=without_replacement)
    for temperature in temperatures:
        check_sampling(space_obj, 0, temperature=temperature)

    start = time.perf_counter()
    cells = build_cells_dataset(space_obj, seed=seed, progress=progress)
    if not (out / "dataset" / space / "build_info.json").is_file():
        write_dataset_config(
            cells, out / "dataset", space, {"command": f"archllm run --space {space}", "seed": seed}
        )
    timings["dataset_s"] = time.perf_counter() - start

    start = time.perf_counter()
    vqvae_reused = is_saved(out / "vqvae", "vqvae")
    if not vqvae_reused:
        train_vqvae(space_obj, out / "vqvae", dataset=cells, device=device, progress=progress)
    timings["vqvae_s"] = time.perf_counter() - start

    start = time.perf_counter()
    prior_reused = is_saved(out / "prior", "prior")
    if not prior_reused:
        train_prior(out / "vqvae", out / "prior", dataset=cells, device=device, progress=progress)
    timings["prior_s"] = time.perf_counter() - start

    generator = ArchitectureGenerator.from_pretrained(out / "prior", device=device)
    reference = training_reference(space_obj, cells["train"])

    def score(samples: list[dict[str, Any]]) -> dict[str, Any]:
        return score_samples(samples, **reference, space=space_obj)

    sampling = {"batch_size": batch_size, "seed": seed, "without_replacement": without_replacement}
    generator.generate(min(batch_size, 256), **sampling)  # warm-up, not timed
    start = time.perf_counter()
    samples = generator.generate(num_samples, progress=progress, **sampling)
    generation_s = time.perf_counter() - start
    atomic_write_jsonl(out / "samples.jsonl", samples)
    scores = score(samples)
    iid_scores = None
    if without_replacement:
        iid_scores = score(generator.generate(num_samples, **{**sampling, "without_replacement": False}))

    sweep = []
    for temperature in temperatures:
        sweep_set = generator.generate(sweep_samples, temperature=temperature, **sampling)
        sweep.append({"temperature": temperature, **score(sweep_set)})

    report = {
        "space": space,
        "archllm_hf": __version__,
        "device": str(generator.device),
        "num_samples": num_samples,
        "temperature": 1.0,
        "constrained": False,
        "without_replacement": without_replacement,
        "seed": seed,
        "scores": scores,
        **({"scores_with_replacement": iid_scores} if iid_scores is not None else {}),
        "generation": {
            "seconds": generation_s,
            "cells_per_second": num_samples / generation_s if generation_s > 0 else None,
            "batch_size": batch_size,
            "measures": "sample + decode + validate + canonical id, end to end",
        },
        "temperature_sweep": {"samples_per_temperature": sweep_samples, "points": sweep},
        "timings": timings,
        "vqvae_reused": _reused(out / "vqvae") if vqvae_reused else None,
        "prior_reused": _reused(out / "prior") if prior_reused else None,
    }
    atomic_write_json(out / "report.json", report)
    atomic_write_text(out / "report.md", render_report_markdown(report))
    plot_temperature_sweep(report, out / "temperature.png")
    return report


_DEFINITIONS = (
    ("validity", "valid / generated"),
    ("uniqueness", "distinct valid / valid"),
    ("novelty", "distinct valid not in training / distinct valid"),
    ("valid_unique_rate", "distinct valid / generated"),
    ("uniqueness_iso", "distinct isomorphism classes / valid"),
)


def render_report_markdown(report: dict[str, Any]) -> str:
    """Markdown tables of a report: headline scores and the temperature sweep."""
    scores = report["scores"]
    gen = report["generation"]
    lines = [
        f"# archllm run: {report['space']}",
        "",
        f"{report['num_samples']:,} samples at temperature {report['temperature']} (unconstrained"
        f"{', without replacement' if report.get('without_replacement') else ''}), "
        f"{gen['cells_per_second']:,.0f} cells/s with batch size {gen['batch_size']} on {report['device']}.",
        "",
    ]
    iid = report.get("scores_with_replacement")
    columns = [("value", scores)] if iid is None else [("without replacement", scores), ("iid", iid)]
    lines += [
        "| metric | " + " | ".join(name for name, _ in columns) + " | definition |",
        "|---|" + "---:|" * len(columns) + "---|",
    ]
    for key, definition in _DEFINITIONS:
        if key in scores:
            values = " | ".join(f"{col[key]:.2%}" for _, col in columns)
            lines.append(f"| {key} | {values} | {definition} |")
    lines += [
        "",
        "| temperature | validity | uniqueness | novelty | valid_unique_rate |",
        "|---:|---:|---:|---:|---:|",
    ]
    for point in report["temperature_sweep"]["points"]:
        lines.append(
            f"| {point['temperature']} | {point['validity']:.2%} | {point['uniqueness']:.2%} | "
            f"{point['novelty']:.2%} | {point['valid_unique_rate']:.2%} |"
        )
    return "\n".join(lines) + "\n"


def plot_temperature_sweep(report: dict[str, Any], path: Path) -> Path:
    """PNG of validity, uniqueness and novelty against sampling temperature."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    points = report["temperature_sweep"]["points"]
    temperatures = [p["temperature"] for p in points]
    fig, ax = plt.subplots(figsize=(5, 3.2), dpi=150)
    for key in ("validity", "uniqueness", "novelty"):
        ax.plot(temperatures, [100 * p[key] for p in points], marker="o", label=key)
    ax.set_xlabel("sampling temperature")
    ax.set_ylabel("%")
    ax.set_ylim(0, 102)
    ax.set_title(
        f"{report['space']}: {report['temperature_sweep']['samples_per_temperature']:,} samples per point"
    )
    ax.grid(alpha=0.3)
    ax.legend(loc="lower left")
    fig.tight_layout()
    return atomic_save_figure(fig, path)


def _reused(folder: Path) -> dict[str, Any]:
    """What a reused VQ-VAE or prior folder says of its own training (empty if it holds no summary)."""
    summary = read_summary(folder)
    keys = (
        "device",
        "train_seconds",
        "epochs",
        "seconds_per_epoch",
        "test",
        "training_config",
        "resumed_from",
    )
    return {key: summary[key] for key in keys if key in summary}


__all__ = ["plot_temperature_sweep", "render_report_markdown", "run_main_job"]
