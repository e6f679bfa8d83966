"""Train a VQ-VAE and a prior on your own cells dataset, then generate from them.

    archllm data build --space nb201 --out data/          # or your own parquet folder in the same schema
    python examples/train_on_your_cells.py --space nb201 --dataset data/ --out runs/mine

The dataset is a folder with one config per space (train / validation / test parquet splits, the columns of
`archllm data build`). Model sizes and schedules are the space's defaults (`archllm_hf.presets.PRESETS`); the epoch
and subset options make a quick trial run. Interrupted training resumes from its last checkpoint.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

import datasets

from archllm_hf.data import load_cells_repo
from archllm_hf.generation import ArchitectureGenerator
from archllm_hf.presets import preset
from archllm_hf.scoring import score_samples, training_reference
from archllm_hf.training.prior import train_prior
from archllm_hf.training.vqvae import train_vqvae


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--space", choices=["nb101", "nb201", "darts"], required=True)
    parser.add_argument("--dataset", required=True, help="cells dataset folder")
    parser.add_argument("--out", required=True, help="run folder: vqvae/ and prior/ are written here")
    parser.add_argument("--vqvae-epochs", type=float, default=None, help="default: the space's preset")
    parser.add_argument("--prior-epochs", type=float, default=None, help="default: the space's preset")
    parser.add_argument(
        "--num-cells", type=int, default=None, help="train on the first N cells of each split"
    )
    parser.add_argument("--num-samples", type=int, default=100, help="cells to generate afterwards")
    args = parser.parse_args()

    cells = load_cells_repo(args.dataset, args.space)
    if args.num_cells:
        cells = datasets.DatasetDict(
            {k: v.select(range(min(len(v), args.num_cells))) for k, v in cells.items()}
        )
    defaults = preset(args.space)
    vqvae_config = dataclasses.replace(defaults.vqvae, epochs=args.vqvae_epochs or defaults.vqvae.epochs)
    prior_config = dataclasses.replace(defaults.prior, epochs=args.prior_epochs or defaults.prior.epochs)

    out = Path(args.out)
    vqvae = train_vqvae(args.space, out / "vqvae", dataset=cells, config=vqvae_config)
    print(f"VQ-VAE: held-out whole-cell reconstruction {vqvae['test']['exact_match']:.2%}")
    train_prior(out / "vqvae", out / "prior", dataset=cells, config=prior_config)

    generator = ArchitectureGenerator.from_pretrained(out / "prior")
    samples = generator.generate(args.num_samples, seed=0)
    scores = score_samples(
        samples, **training_reference(generator.space, cells["train"]), space=generator.space
    )
    print(json.dumps({k: scores[k] for k in ("validity", "uniqueness", "novelty", "valid_unique_rate")}))


if __name__ == "__main__":
    main()
