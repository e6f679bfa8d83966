"""What every trainer of the package shares: loading the cells dataset and the ``TrainingArguments`` defaults."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import datasets
import torch
from transformers import Trainer, TrainingArguments
from transformers.trainer_utils import get_last_checkpoint

from ..spaces import SearchSpace

logger = logging.getLogger(__name__)


def load_cells(space: SearchSpace, dataset: str | Path | datasets.DatasetDict | None, **build_kwargs: Any):
    """The cells ``DatasetDict`` of ``space``: given, loaded from a dataset repo folder, or built in memory."""
    if isinstance(dataset, datasets.DatasetDict):
        return dataset
    if dataset is not None:
        return datasets.load_dataset(str(dataset), space.name)
    from ..data import build_cells_dataset

    return build_cells_dataset(space, **build_kwargs)


def training_arguments(
    out_dir: Path, *, seed: int, device: str | None, progress: bool, **overrides: Any
) -> TrainingArguments:
    """Arguments with the package's defaults: checkpoints in ``out_dir/checkpoints`` every epoch (the last two
    kept), evaluation every epoch, seeded data order, no reporting integrations; ``overrides`` win."""
    defaults: dict[str, Any] = {
        "output_dir": str(Path(out_dir) / "checkpoints"),
        "eval_strategy": "epoch",
        "save_strategy": "epoch",
        "save_total_limit": 2,
        "logging_steps": 50,
        "seed": seed,
        "data_seed": seed,
        "report_to": "none",
        "disable_tqdm": not progress,
        "dataloader_num_workers": 0,
        "dataloader_pin_memory": torch.cuda.is_available() and device != "cpu",
        "use_cpu": device == "cpu",
        "remove_unused_columns": False,
    }
    return TrainingArguments(**{**defaults, **overrides})


def last_checkpoint(out_dir: Path, resume: bool) -> str | None:
    """Newest checkpoint in ``out_dir/checkpoints`` when resuming, else None."""
    checkpoints = Path(out_dir) / "checkpoints"
    return get_last_checkpoint(str(checkpoints)) if resume and checkpoints.is_dir() else None


def cosine_schedule(config: Any, eval_batch_size: int) -> dict[str, Any]:
    """``training_arguments`` overrides for a training config with ``epochs``, ``batch_size``, ``learning_rate``,
    ``weight_decay`` and ``warmup_ratio``: that schedule, cosine decay after the warm-up."""
    return {
        "num_train_epochs": config.epochs,
        "per_device_train_batch_size": config.batch_size,
        "per_device_eval_batch_size": eval_batch_size,
        "learning_rate": config.learning_rate,
        "weight_decay": config.weight_decay,
        "warmup_steps": config.warmup_ratio,
        "lr_scheduler_type": "cosine",
    }


def train_resuming(trainer: Trainer, out_dir: Path, resume: bool) -> tuple[Any, float, str | None]:
    """``trainer.train()`` from the newest checkpoint when resuming; returns its output, the seconds it took and
    the checkpoint resumed from (None for a fresh start)."""
    last = last_checkpoint(out_dir, resume)
    if last:
        logger.info("resuming from %s", last)
    start = time.perf_counter()
    train_output = trainer.train(resume_from_checkpoint=last)
    return train_output, time.perf_counter() - start, last


__all__ = ["cosine_schedule", "last_checkpoint", "load_cells", "train_resuming", "training_arguments"]
