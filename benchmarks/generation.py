"""Side by side, on the same split with the same metric: our VQ-VAE + prior, arch2vec's VGAE, uniform sampling from
the space's grammar, and a direct LM over the cells' own text.

    python benchmarks/generation.py --space nb201 --quick          # CPU, minutes
    python benchmarks/generation.py --space all --device cuda      # the full run

Per space and method: reconstruction (where the method reconstructs), validity, uniqueness, novelty and
valid_unique_rate at 10,000 samples (temperature 1.0, iid), a temperature sweep for the language models, training
time and generation throughput. Trained models and each method's result go to ``--work`` (default
``runs/benchmark``); when the script runs again, finished methods are reused and interrupted training resumes from
its last checkpoint (``--fresh`` measures everything again). ``--methods`` measures some methods only, so that
several processes can share one ``--work``. Once every method has a result, writes
``benchmarks/results/generation-<space>[-quick].json`` and a PNG beside it; ``python benchmarks/render_readme.py``
turns them into the README table.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import time
from pathlib import Path
from typing import Any

import datasets
from _common import RESULTS, provenance
from transformers import AutoModel

from archllm_hf.data import build_cells_dataset
from archllm_hf.generation import ArchitectureGenerator
from archllm_hf.run import DEFAULT_TEMPERATURES, WITHOUT_REPLACEMENT_SPACES
from archllm_hf.scoring import score_generation
from archllm_hf.spaces import SearchSpace, get_space
from archllm_hf.training.prior import SPACE_DEFAULTS as PRIOR_DEFAULTS
from archllm_hf.training.prior import train_prior
from archllm_hf.training.text_prior import generate_text_cells, train_text_prior
from archllm_hf.training.vgae import ARCH2VEC_EPOCHS, arch2vec_sampling_metrics, sample_graphs, train_vgae
from archllm_hf.training.vqvae import SPACE_DEFAULTS as VQVAE_DEFAULTS
from archllm_hf.training.vqvae import train_vqvae
from archllm_hf.utils import atomic_write_json

NUM_SAMPLES = 10_000
SEED = 0
QUICK_DARTS_CELLS = 20_000


class Scorer:
    """The one metric, with the training split's ids (and NB201 isomorphism classes) for novelty."""

    def __init__(self, cells: datasets.DatasetDict):
        self.train_ids = set(cells["train"]["id"])
        columns = cells["train"].column_names
        self.train_iso = set(cells["train"]["unique_str"]) if "unique_str" in columns else None

    def __call__(self, samples: list[dict[str, Any]]) -> dict[str, Any]:
        iso = [s["isomorphism_id"] for s in samples] if self.train_iso is not None else None
        return dict(
            score_generation(
                [s["id"] for s in samples],
                [s["valid"] for s in samples],
                train_ids=self.train_ids,
                isomorphism_ids=iso,
                train_isomorphism_ids=self.train_iso,
            )
        )


def timed(fn, *args, **kwargs) -> tuple[Any, float]:
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return result, time.perf_counter() - start


def trained(out_dir: Path, train, *args, **kwargs) -> dict[str, Any]:
    """The training summary of a model: the one a finished model in ``out_dir`` holds (trained by an earlier run
    of this script or by ``archllm run`` with the same defaults and split), else ``train(...)``'s."""
    path = out_dir / "training_summary.json"
    if path.is_file():
        logging.info("reusing the model in %s", out_dir)
        return json.loads(path.read_text())
    return train(*args, **kwargs)


def ours(space: SearchSpace, cells, work: Path, score: Scorer, args) -> dict[str, Any]:
    vq_config, prior_config = VQVAE_DEFAULTS[space.name], PRIOR_DEFAULTS[space.name]
    if args.quick:
        vq_config = dataclasses.replace(vq_config, epochs=min(vq_config.epochs, 2))
        prior_config = dataclasses.replace(prior_config, epochs=min(prior_config.epochs, 4))
    vq_summary = trained(
        work / "vqvae",
        train_vqvae,
        space,
        work / "vqvae",
        dataset=cells,
        config=vq_config,
        device=args.device,
        progress=False,
    )
    prior_summary = trained(
        work / "prior",
        train_prior,
        work / "vqvae",
        work / "prior",
        dataset=cells,
        config=prior_config,
        device=args.device,
        progress=False,
    )
    generator = ArchitectureGenerator.from_pretrained(work / "prior", work / "vqvae", device=args.device)
    generator.generate(args.batch_size, batch_size=args.batch_size, seed=SEED)  # warm-up
    samples, seconds = timed(generator.generate, NUM_SAMPLES, batch_size=args.batch_size, seed=SEED)
    result = {
        "reconstruction": vq_summary["test"],
        "train_seconds": vq_summary["train_seconds"] + prior_summary["train_seconds"],
        "train_seconds_parts": {
            "vqvae": vq_summary["train_seconds"],
            "prior": prior_summary["train_seconds"],
        },
        "resumed_from": [s["resumed_from"] for s in (vq_summary, prior_summary) if s["resumed_from"]],
        "training_config": {
            "vqvae": vq_summary["training_config"],
            "prior": prior_summary["training_config"],
        },
        "scores": score(samples),
        "cells_per_second": NUM_SAMPLES / seconds,
        "batch_size": args.batch_size,
        "temperature_sweep": [
            {
                "temperature": t,
                **score(
                    generator.generate(
                        args.sweep_samples, batch_size=args.batch_size, temperature=t, seed=SEED
                    )
                ),
            }
            for t in DEFAULT_TEMPERATURES
        ],
    }
    if space.name in WITHOUT_REPLACEMENT_SPACES:
        distinct = generator.generate(
            NUM_SAMPLES, batch_size=args.batch_size, seed=SEED, without_replacement=True
        )
        result["scores_without_replacement"] = score(distinct)
    return result


def vgae(space: SearchSpace, cells, work: Path, score: Scorer, args) -> dict[str, Any]:
    epochs = 2 if args.quick else ARCH2VEC_EPOCHS.get(space.name, 10)
    summary = trained(
        work / "vgae",
        train_vgae,
        space,
        work / "vgae",
        dataset=cells,
        epochs=epochs,
        device=args.device,
        progress=False,
        num_generated=0,  # sampled once below, for both scores and the timing
    )
    model = AutoModel.from_pretrained(str(work / "vgae"))
    start = time.perf_counter()
    adjacency, ops = sample_graphs(model, NUM_SAMPLES, seed=SEED)
    decoded = [space.decode_graph(a, o) for a, o in zip(adjacency, ops)]
    seconds = time.perf_counter() - start
    samples = [
        {"id": d.id, "valid": d.valid, "isomorphism_id": space.isomorphism_id(d.cell) if d.valid else None}
        for d in decoded
    ]
    return {
        "reconstruction": summary["test"],
        "train_seconds": summary["train_seconds"],
        "resumed_from": summary["resumed_from"],
        "epochs": summary["epochs"],
        "scores": score(samples),
        "arch2vec_scores": arch2vec_sampling_metrics(space, adjacency, ops),
        **normal_cell_validity(space, adjacency, ops),
        "cells_per_second": NUM_SAMPLES / seconds,
        "batch_size": NUM_SAMPLES,
    }


def normal_cell_validity(space: SearchSpace, adjacency, ops) -> dict[str, float]:
    """DARTS only: the share of samples whose normal cell alone is valid by arch2vec's rule, the number to set
    beside arch2vec's published validity (it models the normal cell only; we model both cells)."""
    if not hasattr(space, "arch2vec_valid_cells"):
        return {}
    normal = [space.arch2vec_valid_cells(a, o)[0] for a, o in zip(adjacency, ops)]
    return {"arch2vec_normal_cell_validity": sum(normal) / max(len(normal), 1)}


def uniform(space: SearchSpace, cells, work: Path, score: Scorer, args) -> dict[str, Any]:
    # not the dataset's seed: DARTS builds its dataset with space.sample, and would draw its own training cells
    drawn, seconds = timed(space.sample, NUM_SAMPLES, seed=SEED + 1, unique=False)
    samples = [
        {"id": space.canonical_id(c), "valid": True, "isomorphism_id": space.isomorphism_id(c)} for c in drawn
    ]
    return {
        "scores": score(samples),
        "train_seconds": 0.0,
        "cells_per_second": NUM_SAMPLES / seconds,
        "batch_size": 1,
    }


def direct_lm(space: SearchSpace, cells, work: Path, score: Scorer, args) -> dict[str, Any]:
    config = PRIOR_DEFAULTS[space.name]
    if args.quick:
        config = dataclasses.replace(config, epochs=min(config.epochs, 4))
    summary = trained(
        work / "direct_lm",
        train_text_prior,
        space,
        work / "direct_lm",
        dataset=cells,
        config=config,
        device=args.device,
        progress=False,
    )
    sample = lambda n, t=1.0: generate_text_cells(  # noqa: E731
        work / "direct_lm", n, batch_size=args.batch_size, temperature=t, seed=SEED, device=args.device
    )
    sample(args.batch_size)  # warm-up
    samples, seconds = timed(sample, NUM_SAMPLES)
    return {
        "train_seconds": summary["train_seconds"],
        "resumed_from": summary["resumed_from"],
        "training_config": summary["training_config"],
        "scores": score(samples),
        "cells_per_second": NUM_SAMPLES / seconds,
        "batch_size": args.batch_size,
        "temperature_sweep": [
            {"temperature": t, **score(sample(args.sweep_samples, t))} for t in DEFAULT_TEMPERATURES
        ],
    }


def cached(
    method: str, method_dir: Path, run, space: SearchSpace, cells, score: Scorer, args
) -> dict[str, Any] | None:
    """One method's result: read from ``method_dir/result.json`` when an earlier run finished it (unless
    ``--fresh``), else measured and written there, so that an interrupted benchmark resumes method by method.
    Each result keeps the provenance of the run that measured it. None for a method left out by ``--methods``
    that has no result yet."""
    path = method_dir / "result.json"
    if path.is_file() and not (args.fresh and method in args.methods):
        logging.info("reusing %s", path)
        return json.loads(path.read_text())
    if method not in args.methods:
        return None
    started = provenance()
    started["device"] = args.device or ("cuda" if started["gpu"] else "cpu")
    result = {**run(space, cells, method_dir, score, args), "measured_by": started}
    atomic_write_json(path, result)
    return result


METHODS = {"archllm": ours, "arch2vec_vgae": vgae, "uniform": uniform, "direct_lm": direct_lm}


def run_space(name: str, args) -> Path | None:
    started = provenance()
    space = get_space(name)
    num_cells = QUICK_DARTS_CELLS if args.quick and name == "darts" else None
    cells = build_cells_dataset(space, num_samples=num_cells, seed=SEED, progress=False)
    work = Path(args.work) / (f"{name}-quick" if args.quick else name)
    score = Scorer(cells)
    methods = {}
    for method, run in METHODS.items():
        logging.info("%s: %s", name, method)
        result = cached(method, work / method, run, space, cells, score, args)
        if result is None:
            continue
        methods[method] = result
        logging.info(
            "%s: %s %s",
            name,
            method,
            {
                k: round(v, 4)
                for k, v in methods[method]["scores"].items()
                if k in ("validity", "uniqueness", "novelty", "valid_unique_rate")
            },
        )
    missing = [method for method in METHODS if method not in methods]
    if missing:
        logging.info("%s: no JSON written yet; still to run: %s", name, ", ".join(missing))
        return None
    stem = f"generation-{name}{'-quick' if args.quick else ''}"
    result = {
        "benchmark": "generation",
        **started,
        "space": name,
        "quick": args.quick,
        "seed": SEED,
        "num_samples": NUM_SAMPLES,
        "sweep_samples_per_temperature": args.sweep_samples,
        "num_train_cells": len(cells["train"]),
        "methods": methods,
    }
    atomic_write_json(RESULTS / f"{stem}.json", result)
    plot(result, RESULTS / f"{stem}.png")
    return RESULTS / f"{stem}.json"


def plot(result: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = ("validity", "uniqueness", "novelty", "valid_unique_rate")
    methods = list(result["methods"])
    fig, ax = plt.subplots(figsize=(6.4, 3.6), dpi=150)
    width = 0.8 / len(methods)
    for i, method in enumerate(methods):
        scores = result["methods"][method]["scores"]
        ax.bar(
            [k + i * width for k in range(len(keys))],
            [100 * scores[key] for key in keys],
            width,
            label=method,
        )
    ax.set_xticks([k + 0.4 - width / 2 for k in range(len(keys))], keys)
    ax.set_ylabel("%")
    ax.set_ylim(0, 105)
    ax.set_title(
        f"{result['space']}: {result['num_samples']:,} samples, temperature 1.0{' (quick)' if result['quick'] else ''}"
    )
    ax.legend(fontsize=7, ncols=len(methods), loc="upper center", bbox_to_anchor=(0.5, -0.12), frameon=False)
    fig.tight_layout()
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp)
    plt.close(fig)
    tmp.replace(path)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--space", choices=["nb101", "nb201", "darts", "all"], default="nb201")
    parser.add_argument("--device", default=None)
    parser.add_argument(
        "--quick", action="store_true", help="short schedules (and 20,000 DARTS cells) for a CPU"
    )
    parser.add_argument(
        "--work", default="runs/benchmark", help="where trained models go and are reused from"
    )
    parser.add_argument(
        "--fresh",
        action="store_true",
        help="measure every method again instead of reusing the results an earlier run left in --work",
    )
    parser.add_argument(
        "--methods",
        nargs="+",
        choices=list(METHODS),
        default=list(METHODS),
        help="measure only these (several processes or machines can share one --work); the JSON is written "
        "once every method has a result",
    )
    parser.add_argument("--batch-size", type=int, default=2000)
    parser.add_argument(
        "--sweep-samples", type=int, default=2000, help="samples per temperature of the sweep"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    datasets.disable_progress_bars()
    for name in ["nb201", "nb101", "darts"] if args.space == "all" else [args.space]:
        written = run_space(name, args)
        if written is not None:
            print(f"wrote {written}")


if __name__ == "__main__":
    main()
