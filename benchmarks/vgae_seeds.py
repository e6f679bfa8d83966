"""arch2vec's VGAE as published, over several seeds: held-out reconstruction and generation (10,000 samples) under
our strict rule and arch2vec's own, with the mean and spread over the seeds.

    python benchmarks/vgae_seeds.py --space nb201 --seeds 0 1 2 --threads 1

Each seed trains on arch2vec's split with its code's behaviour (``PUBLISHED``), samples as arch2vec does and is
scored by both rules (:mod:`archllm_hf.evaluation.vgae_seeds`). Trained models and each seed's result go to
``--work`` (default ``runs/vgae-seeds``) and are reused when the script runs again. Writes
``benchmarks/results/vgae-seeds-<space>.json``.
"""

from __future__ import annotations

import argparse
import logging

from _common import RESULTS, provenance

from archllm_hf.evaluation.vgae_seeds import vgae_seed_runs
from archllm_hf.utils import atomic_write_json


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--space", choices=["nb101", "nb201", "darts"], default="nb201")
    parser.add_argument(
        "--seeds", type=int, nargs="+", default=[0, 1, 2], help="training seeds (default 0 1 2)"
    )
    parser.add_argument("--num-samples", type=int, default=10_000, help="graphs sampled per seed")
    parser.add_argument("--epochs", type=float, default=None, help="default: arch2vec's (the space's preset)")
    parser.add_argument("--work", default="runs/vgae-seeds", help="where models and per-seed results go")
    parser.add_argument("--device", default=None, help="torch device (default: the Trainer's choice)")
    parser.add_argument("--threads", type=int, default=None, help="torch intra-op threads (default: torch's)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    if args.threads is not None:
        import torch

        torch.set_num_threads(args.threads)
    started = provenance()
    result = vgae_seed_runs(args.space, args.seeds, args.work, args.num_samples, args.epochs, args.device)
    path = RESULTS / f"vgae-seeds-{args.space}.json"
    atomic_write_json(path, {"benchmark": "vgae_seeds", **started, **result})
    mean, std = result["mean"], result["std"]
    for rule in ("strict", "arch2vec"):
        print(
            f"{args.space} {rule}: "
            + ", ".join(f"{k} {100 * mean[rule][k]:.2f} ± {100 * std[rule][k]:.2f}" for k in mean[rule])
        )
    print(f"reconstruction exact {100 * mean['reconstruction']['exact_match']:.2f}; wrote {path}")


if __name__ == "__main__":
    main()
