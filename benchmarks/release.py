"""Train (or reuse), release and measure the pretrained checkpoints, one repo per space.

    python benchmarks/release.py --space all       # CPU: reuses runs/<space>, else trains it (about 1 h a space)
    python benchmarks/release.py --space nb201 --runs runs --hub hub

For each space: unless ``RUNS/<space>`` holds a finished prior, the main job (``archllm run``, the package's
defaults) trains it there, resuming an interrupted training; ``archllm release`` writes ``HUB/archvq-<space>``; the
repo is measured (10,000 samples at its recommended settings and as many raw iid ones, held-out reconstruction) into
``benchmarks/results/release-<space>.json``; and the repo is written again with that evaluation, which its card
quotes. A space whose repo already holds the evaluation its results file records is not measured again, only
written again from it (``--fresh`` measures it again); a reused run must have been trained with the current presets.
``--sizes-only`` records the committed repos' file sizes again, nothing else (after their code is regenerated).
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

from _common import RESULTS, provenance

from archllm_hf._hub import is_saved
from archllm_hf.data import build_cells_dataset
from archllm_hf.evaluation.release import check_run_presets, evaluate_release, is_released, repo_sizes
from archllm_hf.release import release_run
from archllm_hf.release.card import EVALUATION_NAME
from archllm_hf.run import run_main_job
from archllm_hf.utils import atomic_write_json


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--space", choices=["nb101", "nb201", "darts", "all"], default="all")
    parser.add_argument("--runs", default="runs", help="run folders (trained here when missing)")
    parser.add_argument("--hub", default="hub", help="release repos are written here")
    parser.add_argument("--num-samples", type=int, default=10_000)
    parser.add_argument("--device", default=None)
    parser.add_argument("--fresh", action="store_true", help="measure spaces that are done again")
    parser.add_argument(
        "--sizes-only",
        action="store_true",
        help="only record the sizes of the committed repo folders again (after their code was regenerated)",
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")

    started = provenance()
    for space in ["nb201", "nb101", "darts"] if args.space == "all" else [args.space]:
        run, repo, out = (
            Path(args.runs) / space,
            Path(args.hub) / f"archvq-{space}",
            RESULTS / f"release-{space}.json",
        )
        if args.sizes_only:
            sizes = repo_sizes(repo)
            atomic_write_json(out, {**json.loads(out.read_text()), **sizes})
            print(f"{space}: repo {sizes['repo_bytes'] / 1e6:.2f} MB")
            continue
        if not is_saved(run / "prior", "prior"):
            run_main_job(space, run, device=args.device)
        check_run_presets(run)
        if not args.fresh and is_released(
            repo, out
        ):  # measured already: write the repo again from its evaluation
            evaluation = json.loads((repo / EVALUATION_NAME).read_text())
        else:
            release_run(run, repo)
            cells = build_cells_dataset(space, progress=False)
            evaluation = {
                **evaluate_release(repo, num_samples=args.num_samples, cells=cells, device=args.device),
                "command": f"python benchmarks/release.py --space {space}",
                "provenance": started,
            }
        atomic_write_json(out, {"benchmark": "release", **evaluation})  # first: the repo is written from it
        release_run(run, repo, evaluation=evaluation)
        result = {"benchmark": "release", **evaluation, **repo_sizes(repo)}
        atomic_write_json(out, result)
        scores, raw = evaluation["recommended"]["scores"], evaluation["raw_iid"]["scores"]
        print(
            f"{space}: validity {scores['validity']:.2%} (raw {raw['validity']:.2%}), valid_unique_rate "
            f"{scores['valid_unique_rate']:.2%} (raw {raw['valid_unique_rate']:.2%}), novelty "
            f"{scores['novelty']:.2%}, reconstruction {evaluation['reconstruction']['exact_match']:.4%}, "
            f"repo {result['repo_bytes'] / 1e6:.1f} MB"
        )


if __name__ == "__main__":
    main()
