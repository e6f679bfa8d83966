"""Turn cells-dataset rows into the padded graph tensors the VQ-VAE consumes, measure reconstruction, and train the
graph models (VQ-VAE, VGAE) on them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import datasets
import numpy as np
import torch
from tqdm.auto import tqdm

from ..spaces import SearchSpace
from .common import train_resuming, training_arguments, training_summary

GRAPH_COLUMNS = ("adjacency", "ops", "node_mask")


class GraphTensors(torch.utils.data.Dataset):
    """Graph encodings of a split held as three tensors; ``__getitems__`` fetches whole batches at once."""

    def __init__(self, adjacency: torch.Tensor, ops: torch.Tensor, node_mask: torch.Tensor):
        if not (len(adjacency) == len(ops) == len(node_mask)):
            raise ValueError("adjacency, ops and node_mask must have the same length")
        self.tensors = {"adjacency": adjacency, "ops": ops, "node_mask": node_mask}

    def __len__(self) -> int:
        return len(self.tensors["ops"])

    def __getitem__(self, index: int | slice) -> dict[str, torch.Tensor]:
        return {name: tensor[index] for name, tensor in self.tensors.items()}

    def __getitems__(self, indices: list[int]) -> dict[str, torch.Tensor]:
        index = torch.as_tensor(indices, dtype=torch.long)
        return {name: tensor[index] for name, tensor in self.tensors.items()}


def split_cells(space: SearchSpace, rows: datasets.Dataset, progress: bool = False) -> list:
    """The cell of every row of a cells-dataset split (``space.from_record``), in order."""
    return [
        space.from_record(dict(zip(batch, values)))
        for batch in tqdm(
            rows.iter(batch_size=4096),
            total=-(-len(rows) // 4096),
            disable=not progress,
            desc=f"reading {space.name} cells",
        )
        for values in zip(*batch.values())
    ]


def graph_dataset(space: SearchSpace, rows: datasets.Dataset, progress: bool = False) -> GraphTensors:
    """Graph encodings of every row of a cells-dataset split (``space.from_record`` → ``space.to_graph``)."""
    adjacency, ops, node_mask = space.to_graphs(split_cells(space, rows, progress))
    return GraphTensors(
        torch.from_numpy(adjacency).to(torch.int8), torch.from_numpy(ops).long(), torch.from_numpy(node_mask)
    )


def collate_graphs(
    examples: list[dict[str, torch.Tensor]] | dict[str, torch.Tensor],
) -> dict[str, torch.Tensor]:
    """Data collator: stack the graph tensors of a batch (adjacency and ops as long, node_mask as bool).

    Accepts a list of examples or, from :meth:`GraphTensors.__getitems__`, an already stacked batch.
    """
    if isinstance(examples, dict):
        batch = examples
    else:
        batch = {name: torch.stack([torch.as_tensor(e[name]) for e in examples]) for name in GRAPH_COLUMNS}
    return {
        "adjacency": batch["adjacency"].long(),
        "ops": batch["ops"].long(),
        "node_mask": batch["node_mask"].bool(),
    }


@torch.no_grad()
def reconstruction_metrics(model, graphs: GraphTensors, batch_size: int = 1024) -> dict[str, float]:
    """Reconstruction of held-out graphs through encode → decode (codes, no sampling).

    Returns arch2vec's per-element rates and the strict whole-cell rate:

    * ``op_accuracy``: share of node slots whose decoded label matches (padded slots included, as arch2vec does);
    * ``adjacency_accuracy``: share of the space's allowed adjacency entries decoded right;
    * ``exact_match``: share of cells with every op and every edge right;
    * ``codebook_usage``: share of codebook entries used by these cells; ``perplexity`` of that usage.
    """
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    allowed = torch.as_tensor(np.asarray(model.config.adjacency_mask, dtype=bool), device=device)
    op_hits = adj_hits = exact = total = 0
    counts = torch.zeros(model.config.codebook_size, dtype=torch.long, device=device)
    for start in range(0, len(graphs), batch_size):
        chunk = graphs[start : start + batch_size]
        adjacency, ops = chunk["adjacency"].long().to(device), chunk["ops"].long().to(device)
        codes = model.encode(adjacency, ops, chunk["node_mask"].bool().to(device)).codes
        counts += torch.bincount(codes.flatten(), minlength=counts.numel())
        decoded = model.decode(codes)
        pred_adjacency, pred_ops = decoded.adjacency, decoded.ops
        op_ok = pred_ops == ops
        adj_ok = (pred_adjacency == adjacency) | ~allowed
        op_hits += int(op_ok.sum())
        adj_hits += int((adj_ok & allowed).sum())
        exact += int((op_ok.all(-1) & adj_ok.flatten(1).all(-1)).sum())
        total += len(ops)
    model.train(was_training)
    n = model.config.num_nodes
    probs = counts.double() / counts.sum().clamp(min=1)
    entropy = -(probs[probs > 0] * probs[probs > 0].log()).sum()
    return {
        "op_accuracy": op_hits / max(total * n, 1),
        "adjacency_accuracy": adj_hits / max(total * int(allowed.sum()), 1),
        "exact_match": exact / max(total, 1),
        "codebook_usage": float((counts > 0).double().mean()),
        "perplexity": float(entropy.exp()),
        "num_cells": total,
    }


def fit_graph_model(
    trainer_class: Callable[..., Any],
    model: torch.nn.Module,
    train_graphs: GraphTensors,
    eval_graphs: GraphTensors,
    out_dir: Path,
    *,
    seed: int,
    device: str | None,
    progress: bool,
    resume: bool,
    stage: str,
    **schedule: Any,
) -> tuple[Any, Any, float, str | None]:
    """Train a graph model on :func:`collate_graphs` batches with ``trainer_class`` and the package's
    ``training_arguments`` (``schedule`` overrides them), resuming from ``out_dir/checkpoints``; returns the
    trainer, its train output, the seconds it took and the checkpoint resumed from."""
    args = training_arguments(out_dir, seed=seed, device=device, progress=progress, **schedule)
    trainer = trainer_class(
        model=model,
        args=args,
        train_dataset=train_graphs,
        eval_dataset=eval_graphs,
        data_collator=collate_graphs,
    )
    train_output, train_seconds, last = train_resuming(trainer, out_dir, resume, stage=stage)
    return trainer, train_output, train_seconds, last


def graph_training_summary(
    head: dict[str, Any],
    fit: tuple[Any, Any, float, str | None],
    *,
    epochs: float,
    num_train_cells: int,
    test_graphs: GraphTensors,
    test: dict[str, float],
    training_config: dict[str, Any],
) -> dict[str, Any]:
    """The training summary of a graph model: ``head`` (what the model is), then where and how long it trained
    (``fit`` from :func:`fit_graph_model`), the data sizes, the held-out ``test`` metrics and the settings."""
    trainer, train_output, train_seconds, last = fit
    return training_summary(
        head,
        trainer,
        train_output,
        train_seconds,
        last,
        training_config,
        epochs=epochs,
        seconds_per_epoch=train_seconds / max(epochs, 1e-9),
        num_train_cells=num_train_cells,
        num_test_cells=len(test_graphs),
        test=test,
    )


__all__ = [
    "GRAPH_COLUMNS",
    "GraphTensors",
    "collate_graphs",
    "fit_graph_model",
    "graph_dataset",
    "graph_training_summary",
    "reconstruction_metrics",
    "split_cells",
]
