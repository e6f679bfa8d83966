"""What every trainer of the package shares: loading the cells dataset and the ``TrainingArguments`` defaults."""

from __future__ import annotations

import copy
import logging
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import datasets
import torch
from tqdm.auto import tqdm
from transformers import (
    DataCollatorWithPadding,
    PreTrainedTokenizerBase,
    Trainer,
    TrainerCallback,
    TrainingArguments,
)
from transformers.trainer_callback import PrinterCallback, ProgressCallback
from transformers.trainer_utils import get_last_checkpoint

from ..data import build_cells_dataset, load_cells_repo
from ..spaces import SearchSpace

logger = logging.getLogger(__name__)


def load_cells(space: SearchSpace, dataset: str | Path | datasets.DatasetDict | None, **build_kwargs: Any):
    """The cells ``DatasetDict`` of ``space``: given, loaded from a dataset repo folder, or built
    (:func:`~archllm_hf.data.build_cells_dataset`, whose splits are memory-mapped from its Arrow files)."""
    if isinstance(dataset, datasets.DatasetDict):
        return dataset
    if dataset is not None:
        return load_cells_repo(dataset, space.name)
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


def device_name(device: torch.device) -> str:
    """Human-readable name of the device a Trainer ran on (GPU model, or the CPU's)."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    import platform

    return platform.processor() or platform.machine()


def training_summary(
    head: dict[str, Any],
    trainer: Trainer,
    train_output: Any,
    train_seconds: float,
    resumed_from: str | None,
    training_config: dict[str, Any],
    **measures: Any,
) -> dict[str, Any]:
    """The one shape of every training function's summary (``training_summary.json``): ``head`` (what was
    trained), where and how long it trained, ``measures`` (data sizes, held-out metrics), the settings and the
    checkpoint it resumed from."""
    return {
        **head,
        "device": str(trainer.args.device),
        "device_name": device_name(trainer.args.device),
        "train_seconds": train_seconds,
        "train_steps": train_output.global_step,
        "train_loss": train_output.training_loss,
        **measures,
        "training_config": training_config,
        "resumed_from": resumed_from,
    }


class ConsoleCallback(TrainerCallback):
    """What a user sees of a training run: one progress bar for the stage and one line per evaluation (epoch,
    train and eval loss, and the stage's own metrics). The Trainer's raw log dicts go to the logger at DEBUG."""

    def __init__(self, stage: str, progress: bool):
        self.stage, self.progress = stage, progress
        self.bar: tqdm | None = None
        self.train_loss: float | None = None

    def on_train_begin(self, args, state, control, **kwargs):
        if self.progress and state.is_world_process_zero:
            self.bar = tqdm(total=state.max_steps, initial=state.global_step, desc=self.stage, unit="step")

    def on_step_end(self, args, state, control, **kwargs):
        if self.bar is not None:
            self.bar.update(state.global_step - self.bar.n)

    def on_log(self, args, state, control, logs=None, **kwargs):
        logs = logs or {}
        logger.debug("%s: %s", self.stage, logs)
        if "loss" in logs:
            self.train_loss = float(logs["loss"])

    def on_evaluate(self, args, state, control, metrics=None, **kwargs):
        if not state.is_world_process_zero:
            return
        parts = [f"{self.stage} epoch {state.epoch or 0:.0f}/{args.num_train_epochs:g}"]
        if self.train_loss is not None:
            parts.append(f"train loss {self.train_loss:.4f}")
        for key, value in (metrics or {}).items():
            timing = "runtime" in key or "per_second" in key
            if key.startswith("eval_") and isinstance(value, float) and not timing:
                parts.append(f"eval {key[5:].replace('_', ' ')} {value:.4g}")
        line = ", ".join(parts)
        if self.bar is not None:
            tqdm.write(line, file=sys.stderr)  # beside the bar, above it
        else:
            logger.info(line)

    def on_train_end(self, args, state, control, **kwargs):
        if self.bar is not None:
            self.bar.close()
            self.bar = None


class ReconstructionTrainer(Trainer):
    """``Trainer`` whose every evaluation also measures held-out reconstruction with ``reconstruction(model,
    graphs, batch_size=...)`` (a subclass sets it), so the epoch line, the logs and ``evaluate()`` carry it."""

    reconstruction: Callable[..., dict[str, float]]

    def evaluation_loop(
        self, dataloader, description, prediction_loss_only=None, ignore_keys=None, metric_key_prefix="eval"
    ):
        output = super().evaluation_loop(
            dataloader, description, prediction_loss_only, ignore_keys, metric_key_prefix
        )
        graphs = getattr(dataloader, "dataset", None) or self.eval_dataset
        batch_size = max(self.args.per_device_eval_batch_size, 1024)
        recon = type(self).reconstruction(self.model, graphs, batch_size=batch_size)
        output.metrics.update({f"{metric_key_prefix}_{k}": v for k, v in recon.items() if k != "num_cells"})
        return output


def padding_collator(tokenizer: PreTrainedTokenizerBase) -> DataCollatorWithPadding:
    """transformers' ``DataCollatorWithPadding`` for ``tokenizer``, padding on the right whatever side the tokenizer
    pads on for generation (a causal LM trains with its tokens from position 0); ``tokenizer`` is left as it is."""
    if tokenizer.pad_token_id is None:
        raise ValueError(f"{type(tokenizer).__name__} has no pad token; set one before building batches")
    if tokenizer.padding_side != "right":
        tokenizer = copy.copy(tokenizer)
        tokenizer.padding_side = "right"
    return DataCollatorWithPadding(tokenizer)


def train_resuming(
    trainer: Trainer, out_dir: Path, resume: bool, stage: str = "training"
) -> tuple[Any, float, str | None]:
    """``trainer.train()`` from the newest checkpoint when resuming, shown as one :class:`ConsoleCallback` bar;
    returns its output, the seconds it took and the checkpoint resumed from (None for a fresh start)."""
    trainer.remove_callback(PrinterCallback)
    trainer.remove_callback(ProgressCallback)
    trainer.add_callback(ConsoleCallback(stage, progress=not trainer.args.disable_tqdm))
    last = last_checkpoint(out_dir, resume)
    if last:
        logger.info("resuming from %s", last)
    start = time.perf_counter()
    train_output = trainer.train(resume_from_checkpoint=last)
    return train_output, time.perf_counter() - start, last


__all__ = [
    "ConsoleCallback",
    "ReconstructionTrainer",
    "cosine_schedule",
    "device_name",
    "last_checkpoint",
    "load_cells",
    "train_resuming",
    "training_arguments",
    "training_summary",
]
