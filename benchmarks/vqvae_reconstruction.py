"""Train the VQ-VAE (or arch2vec's VGAE) of each search space and measure held-out reconstruction and cost.

    python benchmarks/vqvae_reconstruction.py --space nb201            # CPU, default budget
    python benchmarks/vqvae_reconstruction.py --space all --device cuda
    python benchmarks/vqvae_reconstruction.py --model vgae --space nb201 --threads 1   # arch2vec as published
    python benchmarks/vqvae_reconstruction.py --model vgae --protocol redesigned       # the textbook VAE

Writes ``benchmarks/results/vqvae-<space>[-<tag>].json`` (``vgae-<space>[-<protocol>][-<tag>].json`` for the
VGAE; the published protocol has no suffix); the README and model cards quote these files.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import tempfile
from pathlib import Path

from _common import RESULTS, provenance

from archllm_hf.presets import preset
from archllm_hf.training.vgae import PUBLISHED, REDESIGNED, train_vgae
from archllm_hf.training.vqvae import train_vqvae

VGAE_PROTOCOLS = {"published": PUBLISHED, "redesigned": REDESIGNED}
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
    parser.add_argument("--model", choices=["vqvae", "vgae"], default="vqvae", help="vgae: arch2vec's VGAE")
    parser.add_argument(
        "--protocol",
        choices=list(VGAE_PROTOCOLS),
        default="published",
        help="VGAE only: arch2vec's code (eval mode after epoch 0, its split, last-epoch statistics) or the "
        "textbook VAE (archllm_hf.training.vgae)",
    )
    parser.add_argument("--seed", type=int, default=0, help="VGAE only: training seed")
    parser.add_argument("--threads", type=int, default=None, help="torch intra-op threads (default: torch's)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    if args.threads is not None:
        import torch

        torch.set_num_threads(args.threads)
    if args.model == "vgae":
        return vgae_main(args)

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


def vgae_main(args: argparse.Namespace) -> None:
    """arch2vec's VGAE: held-out reconstruction (per element, on real rows and whole cells) per space."""
    started = provenance()
    spaces = ["nb201", "nb101", "darts"] if args.space == "all" else [args.space]
    for space in spaces:
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(args.out_models) / space if args.out_models else Path(tmp) / space
            summary = train_vgae(
                space,
                out,
                epochs=args.epochs,
                seed=args.seed,
                device=args.device,
                resume=False,
                progress=False,
                num_samples=args.num_samples,
                config=VGAE_PROTOCOLS[args.protocol],
            )
        result = {"benchmark": "vgae_reconstruction", "protocol": args.protocol, **started, **summary}
        suffix = "" if args.protocol == "published" else f"-{args.protocol}"
        name = f"vgae-{space}{suffix}{'-' + args.tag if args.tag else ''}.json"
        atomic_write_json(RESULTS / name, result)
        test = summary["test"]
        print(
            f"{space} VGAE ({args.protocol}, seed {args.seed}): exact {test['exact_match']:.4%} ops "
            f"{test['op_accuracy']:.4%} (real rows {test['op_accuracy_real']:.4%}) adj "
            f"{test['adjacency_accuracy']:.4%} on {test['num_cells']} held-out cells; train "
            f"{summary['train_seconds']:.1f}s on {summary['device']}; wrote {RESULTS / name}"
        )


if __name__ == "__main__":
    main()
