"""What every trainer of the package shares: loading the cells dataset and the ``TrainingArguments`` defaults."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import datasets
import torch
from transformers import TrainingArguments
from transformers.trainer_utils import get_last_checkpoint

from ..spaces import SearchSpace


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


__all__ = ["last_checkpoint", "load_cells", "training_arguments"]
