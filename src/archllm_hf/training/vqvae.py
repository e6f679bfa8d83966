"""Train an ArchVQVAE on the cells of a search space with the ``Trainer`` API.

The output folder (``archllm_hf._hub.save_vqvae``) loads with ``AutoModel.from_pretrained`` and
``AutoTokenizer.from_pretrained`` (or ``archllm_hf._hub.load_vqvae``, with the processor) and also holds
``reconstruction.json`` (held-out test reconstruction) and ``training_summary.json``. Checkpoints go to
``OUT/checkpoints`` and training resumes from the newest one when the same command is run again.
"""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

import datasets
from transformers import set_seed

from .._hub import save_vqvae
from ..models.arch_vqvae import ArchVQVAEConfig, ArchVQVAEModel
from ..presets import VQVAETrainingConfig, preset
from ..spaces import SearchSpace, resolve_space
from .common import ReconstructionTrainer, cosine_schedule, load_cells
from .graphs import fit_graph_model, graph_dataset, graph_training_summary, reconstruction_metrics


class ArchVQVAETrainer(ReconstructionTrainer):
    """``Trainer`` that adds reconstruction metrics (per-element and whole-cell) to every evaluation."""

    reconstruction = staticmethod(reconstruction_metrics)


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
            built with :func:`~archllm_hf.data.build_cells_dataset` when None.
        config: schedule and model overrides; the space's preset (``archllm_hf.presets``) when None.
        device: ``"cpu"``, ``"cuda"``...; the Trainer's choice when None.
        resume: continue from the newest checkpoint in ``out_dir/checkpoints`` if there is one.
        progress: show progress bars.
        num_samples: cells to sample when building a dataset for a space that is not enumerated.

    Returns:
        A summary: test reconstruction metrics, training time, device, sizes.
    """
    space = resolve_space(space)
    config = config or preset(space.name).vqvae
    out_dir = Path(out_dir)
    set_seed(config.seed)

    cells = load_cells(space, dataset, num_samples=num_samples, progress=progress)
    train_graphs = graph_dataset(space, cells["train"], progress=progress)
    eval_graphs = graph_dataset(space, cells["validation"])
    test_graphs = graph_dataset(space, cells["test"])

    model_config = ArchVQVAEConfig.for_space(space, **config.model)
    fit = fit_graph_model(
        ArchVQVAETrainer,
        ArchVQVAEModel(model_config),
        train_graphs,
        eval_graphs,
        out_dir,
        seed=config.seed,
        device=device,
        progress=progress,
        resume=resume,
        stage="VQ-VAE",
        **cosine_schedule(config, eval_batch_size=max(config.batch_size, 1024)),
    )
    trainer = fit[0]
    test = reconstruction_metrics(trainer.model, test_graphs)
    summary = graph_training_summary(
        {"space": space.name},
        fit,
        epochs=config.epochs,
        num_train_cells=len(train_graphs),
        test_graphs=test_graphs,
        test=test,
        training_config=asdict(config),
    )
    save_vqvae(trainer.model, out_dir, summary)
    return summary


__all__ = ["ArchVQVAETrainer", "VQVAETrainingConfig", "train_vqvae"]
