"""Train an ArchVQVAE on the cells of a search space with the ``Trainer`` API.

The output folder loads with ``AutoModel.from_pretrained`` and ``AutoTokenizer.from_pretrained`` and also holds
``reconstruction.json`` (held-out test reconstruction) and ``training_summary.json``. Checkpoints go to
``OUT/checkpoints`` and training resumes from the newest one when the same command is run again.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import datasets
import torch
from transformers import Trainer

from ..models.arch_vqvae import ArchCodeTokenizer, ArchVQVAEConfig, ArchVQVAEModel
from ..spaces import SearchSpace, get_space
from ..utils import atomic_files, set_seed
from .common import cosine_schedule, load_cells, train_resuming, training_arguments
from .graphs import collate_graphs, graph_dataset, reconstruction_metrics


@dataclass
class VQVAETrainingConfig:
    """Model size and schedule of :func:`train_vqvae`. Defaults per space live in :data:`SPACE_DEFAULTS`."""

    epochs: float = 20.0
    batch_size: int = 256
    learning_rate: float = 2e-3
    weight_decay: float = 0.0
    warmup_ratio: float = 0.05
    seed: int = 0
    model: dict[str, Any] = field(default_factory=dict)
    """Overrides of :class:`ArchVQVAEConfig` fields (hidden_size, codebook_size, ...)."""


# No dropout (reconstruction must be exact), small codes, and dead codes restarted once their EMA count falls
# below 0.5: with these, the codebook stays in use (no collapse) and NB101 adjacency becomes learnable.
_QUANTIZER = {"dropout": 0.0, "code_dim": 16, "dead_code_threshold": 0.5}

SPACE_DEFAULTS: dict[str, VQVAETrainingConfig] = {
    # An NB201 node holds one of 7 labels and the topology is fixed, so 7 codes carry everything.
    "nb201": VQVAETrainingConfig(
        epochs=5,
        batch_size=256,
        learning_rate=2e-3,
        model={**_QUANTIZER, "codebook_size": 16, "hidden_size": 64},
    ),
    "nb101": VQVAETrainingConfig(epochs=3, batch_size=512, learning_rate=2e-3, model=dict(_QUANTIZER)),
    "darts": VQVAETrainingConfig(epochs=3, batch_size=512, learning_rate=2e-3, model=dict(_QUANTIZER)),
}


class ArchVQVAETrainer(Trainer):
    """``Trainer`` that adds reconstruction metrics (per-element and whole-cell) to every evaluation."""

    def evaluate(
        self, eval_dataset=None, ignore_keys=None, metric_key_prefix: str = "eval"
    ) -> dict[str, float]:
        metrics = super().evaluate(eval_dataset, ignore_keys=ignore_keys, metric_key_prefix=metric_key_prefix)
        graphs = eval_dataset if eval_dataset is not None else self.eval_dataset
        recon = reconstruction_metrics(
            self.model, graphs, batch_size=max(self.args.per_device_eval_batch_size, 1024)
        )
        recon = {f"{metric_key_prefix}_{k}": v for k, v in recon.items() if k != "num_cells"}
        self.log(recon)
        metrics.update(recon)
        return metrics


def train_vqvae(
    space: SearchSpace | str,
    out_dir: str | Path,
    dataset: str | Path | datasets.DatasetDict | None = None,
    config: VQVAETrainingConfig | None = None,
    device: str | None = None,
    resume: bool = True,
    progress: bool = True,
    num_samples: int | None = None,
) -> dict[str, Any]:
    """Train a VQ-VAE for ``space`` and save it (with its tokenizer) to ``out_dir``.

    Args:
        space: search space or its name.
        out_dir: output folder; ``AutoModel.from_pretrained(out_dir)`` loads the result.
        dataset: cells dataset (a ``DatasetDict``, or a dataset repo folder written by ``archllm data build``);
            built in memory when None.
        config: schedule and model overrides; the space's defaults when None.
        device: ``"cpu"``, ``"cuda"``...; the Trainer's choice when None.
        resume: continue from the newest checkpoint in ``out_dir/checkpoints`` if there is one.
        progress: show progress bars.
        num_samples: cells to sample when building a dataset for a space that is not enumerated.

    Returns:
        A summary: test reconstruction metrics, training time, device, sizes.
    """
    space = get_space(space) if isinstance(space, str) else space
    config = config or SPACE_DEFAULTS.get(space.name, VQVAETrainingConfig())
    out_dir = Path(out_dir)
    set_seed(config.seed)

    cells = load_cells(space, dataset, num_samples=num_samples, progress=progress)
    train_graphs = graph_dataset(space, cells["train"], progress=progress)
    eval_graphs = graph_dataset(space, cells["validation"])
    test_graphs = graph_dataset(space, cells["test"])

    model_config = ArchVQVAEConfig.for_space(space, **config.model)
    model = ArchVQVAEModel(model_config)
    args = training_arguments(
        out_dir,
        seed=config.seed,
        device=device,
        progress=progress,
        **cosine_schedule(config, eval_batch_size=max(config.batch_size, 1024)),
    )
    trainer = ArchVQVAETrainer(
        model=model,
        args=args,
        train_dataset=train_graphs,
        eval_dataset=eval_graphs,
        data_collator=collate_graphs,
    )
    train_output, train_seconds, last = train_resuming(trainer, out_dir, resume)

    test = reconstruction_metrics(trainer.model, test_graphs)
    summary = {
        "space": space.name,
        "device": str(trainer.args.device),
        "device_name": _device_name(trainer.args.device),
        "train_seconds": train_seconds,
        "train_steps": train_output.global_step,
        "epochs": config.epochs,
        "seconds_per_epoch": train_seconds / max(config.epochs, 1e-9),
        "train_loss": train_output.training_loss,
        "num_train_cells": len(train_graphs),
        "num_test_cells": len(test_graphs),
        "test": test,
        "training_config": asdict(config),
        "resumed_from": last,
    }
    save_vqvae(trainer.model, out_dir, summary)
    return summary


def save_vqvae(model: ArchVQVAEModel, out_dir: str | Path, summary: dict[str, Any] | None = None) -> Path:
    """Save model, tokenizer and summary into ``out_dir`` (files moved in only once all are written)."""
    tokenizer = ArchCodeTokenizer(
        codebook_size=model.config.codebook_size, code_length=model.config.code_length
    )
    with atomic_files(out_dir) as tmp:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        if summary is not None:
            (tmp / "training_summary.json").write_text(json.dumps(summary, indent=2) + "\n")
            (tmp / "reconstruction.json").write_text(json.dumps(summary["test"], indent=2) + "\n")
    return Path(out_dir)


def _device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    import platform

    return platform.processor() or platform.machine()


__all__ = ["SPACE_DEFAULTS", "ArchVQVAETrainer", "VQVAETrainingConfig", "save_vqvae", "train_vqvae"]
