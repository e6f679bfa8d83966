"""Train the VQ-VAE of each search space and measure held-out reconstruction, codebook use and cost.

    python benchmarks/vqvae_reconstruction.py --space nb201            # CPU, default budget
    python benchmarks/vqvae_reconstruction.py --space all --device cuda

Writes ``benchmarks/results/vqvae-<space>[-<tag>].json``; the README and model cards quote these files.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import tempfile
from pathlib import Path

from _common import RESULTS, provenance

from archllm_hf.presets import preset
from archllm_hf.training.vqvae import train_vqvae
from archllm_hf.utils import atomic_write_json


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--space", choices=["nb101", "nb201", "darts", "all"], default="nb201")
    parser.add_argument("--device", default=None)
    parser.add_argument("--epochs", type=float, default=None, help="override the space's default epochs")
    parser.add_argument("--num-samples", type=int, default=None, help="DARTS cells to sample")
    parser.add_argument("--out-models", default=None, help="keep the trained models here (default: temp dir)")
    parser.add_argument("--tag", default=None, help="suffix of the result file name")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")

    started = provenance()  # the code as it was when the run began
    spaces = ["nb201", "nb101", "darts"] if args.space == "all" else [args.space]
    for space in spaces:
        config = preset(space).vqvae
        if args.epochs is not None:
            config = dataclasses.replace(config, epochs=args.epochs)
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(args.out_models) / space if args.out_models else Path(tmp) / space
            summary = train_vqvae(
                space,
                out,
                config=config,
                device=args.device,
                resume=False,
                progress=False,
                num_samples=args.num_samples,
            )
        result = {"benchmark": "vqvae_reconstruction", **started, **summary}
        name = f"vqvae-{space}{'-' + args.tag if args.tag else ''}.json"
        atomic_write_json(RESULTS / name, result)
        test = summary["test"]
        print(
            f"{space}: exact {test['exact_match']:.4%} ops {test['op_accuracy']:.4%} adj "
            f"{test['adjacency_accuracy']:.4%} usage {test['codebook_usage']:.1%} ppl {test['perplexity']:.1f} "
            f"train {summary['train_seconds']:.1f}s ({summary['seconds_per_epoch']:.1f}s/epoch) on {summary['device']}"
        )


if __name__ == "__main__":
    main()
