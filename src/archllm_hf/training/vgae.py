"""Train arch2vec's VGAE (the baseline generator) with the ``Trainer`` API.

Protocol (arch2vec's pretraining): Adam at 1e-3 (``AdamW`` with zero weight decay, which is the same update),
batch 32, gradient clipping at 5, constant learning rate, 8 epochs on NB101 and 10 on NB201 and DARTS (the presets'
``vgae_epochs``). After training, the training-set posterior means give the per-(node, dimension) mean and std that
sampling rescales ``N(0, I)`` draws with; they are stored in the model (buffers) before it is saved.

Metric: reconstruction of the held-out **test** split through the posterior mean (no sampling):
  ``op_accuracy`` (node slots whose argmax label is right, padded slots included), ``adjacency_accuracy``
  (strict-upper-triangle entries right after thresholding at 0.5), ``exact_match`` (cells with every op and
  every strict-upper entry right), and arch2vec's ``mean_corr_adj`` / ``mean_fal_pos_adj`` (mean edge
  probability on true edges / on non-edges).

Sampling lives beside the other samplers (:class:`archllm_hf.generation.VGAESampler`).

Deviations from arch2vec: our splits (the project's 90/5/5 split by canonical id; arch2vec holds out the last
10% of its file order), a reshuffle every epoch (arch2vec shuffles once), posterior statistics from one
eval-mode pass of the final model (arch2vec accumulates ``mu`` during the last epoch's training steps), and
DARTS graphs of 22 nodes (normal and reduce cell; arch2vec models the normal cell only). Model-level
deviations are listed in :mod:`archllm_hf.models.arch2vec.modeling_arch2vec`.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import datasets
import torch
from transformers import set_seed

from .._hub import save_vgae
from ..models.arch2vec import Arch2VecConfig, Arch2VecModel
from ..presets import preset
from ..spaces import SearchSpace, get_space
from .common import ReconstructionTrainer, load_cells
from .graphs import GraphTensors, fit_graph_model, graph_dataset, graph_training_summary


def _batches(graphs: GraphTensors, batch_size: int) -> Iterator[dict[str, torch.Tensor]]:
    for start in range(0, len(graphs), batch_size):
        chunk = graphs[start : start + batch_size]
        yield {"adjacency": chunk["adjacency"].long(), "ops": chunk["ops"].long()}


# --- metrics ------------------------------------------------------------------------------------------------
@torch.no_grad()
def vgae_reconstruction_metrics(
    model: Arch2VecModel, graphs: GraphTensors, batch_size: int = 1024
) -> dict[str, float]:
    """Reconstruction of ``graphs`` (a :func:`graph_dataset`) through the posterior mean (see module doc)."""
    was_training = model.training
    model.eval()
    device = model.latent_mean.device
    n = model.config.num_nodes
    upper = torch.ones(n, n, dtype=torch.bool, device=device).triu(1)
    op_hits = adj_hits = exact = total = 0
    edge_prob = non_edge_prob = edges = 0.0
    try:
        for batch in _batches(graphs, batch_size):
            adjacency, ops = batch["adjacency"].to(device), batch["ops"].to(device)
            mu = model.encode_mean(adjacency, ops)
            pred_adjacency, pred_ops = model.decode(mu)
            probs = torch.sigmoid(torch.matmul(mu, mu.transpose(-1, -2)))[:, upper]
            target = adjacency[:, upper].bool()
            op_ok = pred_ops == ops
            adj_ok = pred_adjacency[:, upper] == adjacency[:, upper]
            op_hits += int(op_ok.sum())
            adj_hits += int(adj_ok.sum())
            exact += int((op_ok.all(-1) & adj_ok.all(-1)).sum())
            total += len(ops)
            edge_prob += float(probs[target].double().sum())
            non_edge_prob += float(probs[~target].double().sum())
            edges += int(target.sum())
    finally:
        model.train(was_training)
    slots = total * int(upper.sum())
    return {
        "op_accuracy": op_hits / max(total * n, 1),
        "adjacency_accuracy": adj_hits / max(slots, 1),
        "exact_match": exact / max(total, 1),
        "mean_corr_adj": edge_prob / max(edges, 1),
        "mean_fal_pos_adj": non_edge_prob / max(slots - edges, 1),
        "num_cells": total,
    }


def posterior_stats(
    model: Arch2VecModel, graphs: GraphTensors, batch_size: int = 1024
) -> tuple[torch.Tensor, torch.Tensor]:
    """Compute and store in ``model`` the mean and std of the posterior means of ``graphs`` (training set)."""
    return model.posterior_stats(_batches(graphs, batch_size), store=True)


# --- training -----------------------------------------------------------------------------------------------
class Arch2VecTrainer(ReconstructionTrainer):
    """``Trainer`` that adds held-out reconstruction metrics to every evaluation."""

    reconstruction = staticmethod(vgae_reconstruction_metrics)


def train_vgae(
    space: SearchSpace | str,
    out_dir: str | Path,
    dataset: str | Path | datasets.DatasetDict | None = None,
    epochs: float | None = None,
    batch_size: int = 32,
    lr: float = 1e-3,
    seed: int = 0,
    device: str | None = None,
    progress: bool = True,
    resume: bool = True,
    *,
    model_kwargs: dict[str, Any] | None = None,
    num_samples: int | None = None,
) -> dict[str, Any]:
    """Train arch2vec's VGAE on ``space`` and save it to ``out_dir`` (``AutoModel.from_pretrained(out_dir)``).

    Args:
        space: search space or its name.
        out_dir: output folder; checkpoints go to ``out_dir/checkpoints``.
        dataset: cells dataset (a ``DatasetDict`` or a dataset repo folder); built in memory when None.
        epochs: training epochs; arch2vec's (the preset's ``vgae_epochs``) when None.
        batch_size, lr, seed: arch2vec's 32, 1e-3 and our seed by default.
        device: ``"cpu"``, ``"cuda"``...; the Trainer's choice when None.
        progress: show progress bars.
        resume: continue from the newest checkpoint in ``out_dir/checkpoints`` if there is one.
        model_kwargs: overrides of :class:`Arch2VecConfig` fields (hidden_size, latent_dim, ...).
        num_samples: cells to sample when building a dataset for a space that is not enumerated (DARTS).

    Returns:
        A summary: test reconstruction, training time, device, sizes and settings. It is also written to
        ``training_summary.json`` (with ``reconstruction.json``).
    """
    space = get_space(space) if isinstance(space, str) else space
    epochs = preset(space.name).vgae_epochs if epochs is None else epochs
    if epochs <= 0 or batch_size < 1 or lr <= 0:
        raise ValueError(f"need epochs > 0, batch_size >= 1 and lr > 0; got {epochs}, {batch_size}, {lr}")
    out_dir = Path(out_dir)
    set_seed(seed)

    cells = load_cells(space, dataset, num_samples=num_samples, progress=progress)
    train_graphs = graph_dataset(space, cells["train"])
    eval_graphs = graph_dataset(space, cells["validation"])
    test_graphs = graph_dataset(space, cells["test"])

    config = Arch2VecConfig.for_space(space, space_kwargs=space.space_kwargs, **(model_kwargs or {}))
    fit = fit_graph_model(
        Arch2VecTrainer,
        Arch2VecModel(config),
        train_graphs,
        eval_graphs,
        out_dir,
        seed=seed,
        device=device,
        progress=progress,
        resume=resume,
        stage="VGAE",
        num_train_epochs=epochs,
        per_device_train_batch_size=batch_size,
        per_device_eval_batch_size=max(batch_size, 1024),
        learning_rate=lr,
        optim="adamw_torch",
        weight_decay=0.0,
        adam_beta1=0.9,
        adam_beta2=0.999,
        adam_epsilon=1e-8,
        max_grad_norm=5.0,
        lr_scheduler_type="constant",
        warmup_steps=0,
        prediction_loss_only=True,
        logging_steps=100,
    )

    model = fit[0].model
    posterior_stats(model, train_graphs)
    test = vgae_reconstruction_metrics(model, test_graphs)
    summary = graph_training_summary(
        {"model": "arch2vec-vgae", "space": space.name, "space_kwargs": config.space_kwargs},
        fit,
        epochs=epochs,
        num_train_cells=len(train_graphs),
        test_graphs=test_graphs,
        test=test,
        training_config={
            "epochs": epochs,
            "batch_size": batch_size,
            "lr": lr,
            "seed": seed,
            "max_grad_norm": 5.0,
            "model": dict(model_kwargs or {}),
        },
    )
    save_vgae(model, out_dir, summary)
    return summary


__all__ = ["Arch2VecTrainer", "posterior_stats", "train_vgae", "vgae_reconstruction_metrics"]
