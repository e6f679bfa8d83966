"""Worker processes of ``test_distributed.py`` (two CPU processes talking over gloo on 127.0.0.1).

* :func:`quantizer_sync_worker` runs one rank a process, the test starting both side by side
  (``distributed_worker.py WORKDIR --quantizer-sync --rank R``): it trains a tiny ``ArchVQVAEModel``
  wrapped in ``DistributedDataParallel`` on this rank's own batches and saves, for every step, the quantizer
  buffers before and after the forward, the latents the quantizer saw, the RNG state it drew from and the
  perplexity it returned, so that the test can compare the ranks with each other and with one process.
* Run as a script (``accelerate launch --multi_gpu --num_processes 2 distributed_worker.py OUT`` with no GPU visible: two
  CPU processes under torchrun and gloo) it trains a tiny
  VQ-VAE and then a tiny prior with the package's public training functions, and writes
  ``OUT/rank{RANK}.json`` with the world size it saw.
"""

from __future__ import annotations

import argparse
import datetime
import faulthandler
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

import torch
import torch.distributed as dist
from fixtures import TINY_PRIOR, TINY_VQVAE

# Tiny quantizer settings that make codes die and restart within a few steps: unused codes restart at count 1,
# decay to 0.5 after one step, and 0.5 < 0.9 is dead again.
RESTARTING_VQVAE: dict[str, Any] = {
    **TINY_VQVAE,
    "num_encoder_layers": 1,
    "code_dim": 4,
    "codebook_size": 8,
    "ema_decay": 0.5,
    "dead_code_threshold": 0.9,
}
GLOO_TIMEOUT = datetime.timedelta(seconds=60)


def quantizer_sync_worker(rank: int, world_size: int, workdir: str) -> None:
    """Train the model of ``workdir/setup.pt`` under DDP on batches ``setup["batches"][step][rank]``; save
    what the quantizer did to ``workdir/rank{rank}.pt``.

    Teardown is ordered: the DDP wrapper goes first, both ranks pass a barrier, then the group is destroyed. When the
    wrapper was left to go after ``destroy_process_group``, at the function's return, one rank now and then hung
    there for good while the other exited 0 (seen in CI, and here in 1 of 6 runs with one rank held back 5 s; none
    in 11 runs since). The ranks meet through a file store in ``workdir``, which no rank has to outlive."""
    from torch.nn.parallel import DistributedDataParallel

    from archllm_hf.models.arch_vqvae import ArchVQVAEConfig, ArchVQVAEModel

    torch.set_num_threads(1)
    torch.manual_seed(0)  # the restart draws: the same run every time
    dist.init_process_group(
        "gloo",
        init_method=f"file://{Path(workdir).resolve() / 'store'}",
        rank=rank,
        world_size=world_size,
        timeout=GLOO_TIMEOUT,
    )
    try:
        setup = torch.load(Path(workdir) / "setup.pt", weights_only=False)
        model = ArchVQVAEModel(ArchVQVAEConfig.from_dict(setup["config"]))
        if rank == 0:
            model.load_state_dict(setup["state"])  # DDP copies rank 0's parameters and buffers to the others
        model.train()
        ddp = DistributedDataParallel(model)  # broadcast_buffers=True, as under the Trainer
        optimizer = torch.optim.Adam(ddp.parameters(), lr=1e-2)
        steps: list[dict[str, Any]] = []

        def before_quantizer(module: torch.nn.Module, args: tuple[Any, ...]) -> None:
            steps.append(
                {
                    "before": {k: v.clone() for k, v in module.state_dict().items()},
                    "latents": args[0].detach().clone(),
                    "rng_state": torch.get_rng_state(),
                }
            )

        def after_quantizer(module: torch.nn.Module, args: tuple[Any, ...], output: Any) -> None:
            steps[-1]["after"] = {k: v.clone() for k, v in module.state_dict().items()}
            steps[-1]["perplexity"] = output[3].detach().clone()

        model.quantizer.register_forward_pre_hook(before_quantizer)
        model.quantizer.register_forward_hook(after_quantizer)
        for per_rank in setup["batches"]:
            output = ddp(**per_rank[rank])
            output.loss.backward()
            optimizer.step()
            optimizer.zero_grad()
        # two more training calls of the bare quantizer: rank 1 without latents, then no rank with any
        latents = steps[-1]["latents"]
        model.quantizer(latents if rank == 0 else latents[:0], return_loss=False)
        model.quantizer(latents[:0], return_loss=False)
        torch.save({"steps": steps, "world_size": dist.get_world_size()}, Path(workdir) / f"rank{rank}.pt")
        del ddp, optimizer, output  # the DDP reducer goes while the group is still there
        dist.barrier()
    finally:
        dist.destroy_process_group()


def train_vqvae_and_prior(out: Path) -> None:
    """Train a tiny VQ-VAE and prior on a few hundred NB201 cells; write ``out/rank{RANK}.json``."""
    import datasets

    from archllm_hf.data import build_cells_dataset
    from archllm_hf.training.prior import PriorTrainingConfig, train_prior
    from archllm_hf.training.vqvae import VQVAETrainingConfig, train_vqvae

    torch.set_num_threads(1)
    full = build_cells_dataset("nb201", num_samples=400, progress=False)
    cells = datasets.DatasetDict(
        {name: split.select(range(min(len(split), 300))) for name, split in full.items()}
    )
    vqvae = train_vqvae(
        "nb201",
        out / "vqvae",
        dataset=cells,
        config=VQVAETrainingConfig(epochs=1, batch_size=64, model=RESTARTING_VQVAE),
        device="cpu",
        progress=False,
    )
    prior = train_prior(
        out / "vqvae",
        out / "prior",
        dataset=cells,
        config=PriorTrainingConfig(**TINY_PRIOR),
        device="cpu",
        progress=False,
    )
    initialised = dist.is_available() and dist.is_initialized()
    rank = dist.get_rank() if initialised else 0
    report = {
        "rank": rank,
        "world_size": dist.get_world_size() if initialised else 1,
        "env_world_size": int(os.environ.get("WORLD_SIZE", "1")),
        "num_train_cells": len(cells["train"]),
        "vqvae_train_steps": vqvae["train_steps"],
        "prior_train_steps": prior["train_steps"],
    }
    (out / f"rank{rank}.json").write_text(json.dumps(report, indent=2) + "\n")  # one file per rank


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", type=Path, help="output folder (vqvae/, prior/, rank*.json), or the workdir")
    parser.add_argument(
        "--quantizer-sync",
        action="store_true",
        help="run one quantizer-sync worker (rank --rank of 2) on OUT, a workdir with setup.pt, instead",
    )
    parser.add_argument("--rank", type=int, default=0, help="this worker's rank (with --quantizer-sync)")
    parser.add_argument(
        "--dump-at",
        metavar="EPOCH_SECONDS",
        type=float,
        default=None,
        help="print every thread's stack and exit at this time.time() (a hang guard)",
    )
    args = parser.parse_args(argv)
    if args.dump_at is not None:
        faulthandler.dump_traceback_later(max(args.dump_at - time.time(), 1.0), exit=True)
    if args.quantizer_sync:
        quantizer_sync_worker(args.rank, 2, str(args.out))
    else:
        train_vqvae_and_prior(args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
