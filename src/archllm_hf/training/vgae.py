"""Train arch2vec's VGAE (the baseline generator) with the ``Trainer`` API; sample from it as arch2vec does.

Protocol (``notes/search-spaces.md`` section C): Adam at 1e-3 (``AdamW`` with zero weight decay, which is the
same update), batch 32, gradient clipping at 5, constant learning rate, 8 epochs on NB101 and 10 on NB201 and
DARTS. After training, the training-set posterior means give the per-(node, dimension) mean and std that
sampling rescales ``N(0, I)`` draws with; they are stored in the model (buffers) before it is saved.

Metrics:

* reconstruction of the held-out **test** split through the posterior mean (no sampling):
  ``op_accuracy`` (node slots whose argmax label is right, padded slots included), ``adjacency_accuracy``
  (strict-upper-triangle entries right after thresholding at 0.5), ``exact_match`` (cells with every op and
  every strict-upper entry right), and arch2vec's ``mean_corr_adj`` / ``mean_fal_pos_adj`` (mean edge
  probability on true edges / on non-edges);
* sampling, arch2vec's way: ``validity`` with arch2vec's own rules (``space.arch2vec_valid``), and
  ``uniqueness`` = distinct hashes of the *unpruned* decoded graphs among the valid ones / number valid. The
  hash is :func:`archllm_hf.spaces.nb101.nb101_hash` of (adjacency, argmax label ids); arch2vec hashes the
  one-hot rows instead, which partitions graphs identically (labels are only compared for equality);
* sampling, our strict way: the package's metric (:func:`archllm_hf.scoring.score_generation`) on
  ``space.decode_graph`` of each sample (valid = the exact graph encoding of a valid cell; uniqueness and novelty
  by canonical id).

Deviations from arch2vec: our splits (the project's 90/5/5 split by canonical id; arch2vec holds out the last
10% of its file order), a reshuffle every epoch (arch2vec shuffles once), posterior statistics from one
eval-mode pass of the final model (arch2vec accumulates ``mu`` during the last epoch's training steps), and
DARTS graphs of 22 nodes (normal and reduce cell; arch2vec models the normal cell only). Model-level
deviations are listed in :mod:`archllm_hf.models.arch2vec.modeling_arch2vec`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import datasets
import numpy as np
import torch
from transformers import Trainer

from ..models.arch2vec import Arch2VecConfig, Arch2VecModel
from ..scoring import score_generation
from ..spaces import DecodedCell, SearchSpace, get_space
from ..spaces.nb101 import nb101_hash
from ..utils import atomic_files, set_seed
from .common import load_cells, train_resuming, training_arguments
from .graphs import collate_graphs, graph_dataset

ARCH2VEC_EPOCHS: dict[str, int] = {"nb101": 8, "nb201": 10, "darts": 10}
"""arch2vec's pretraining epochs per space."""
DEFAULT_NUM_GENERATED = 10_000
"""arch2vec's ``latent_points``: samples drawn to measure validity and uniqueness."""


# --- spaces and data ----------------------------------------------------------------------------------------
def space_of(config: Arch2VecConfig) -> SearchSpace:
    """The search space a model was trained on."""
    return get_space(config.space, **config.space_kwargs)


def _batches(graphs: datasets.Dataset, batch_size: int) -> Iterator[dict[str, torch.Tensor]]:
    for start in range(0, len(graphs), batch_size):
        chunk = graphs[start : start + batch_size]
        yield {"adjacency": chunk["adjacency"].long(), "ops": chunk["ops"].long()}


# --- metrics ------------------------------------------------------------------------------------------------
@torch.no_grad()
def vgae_reconstruction_metrics(
    model: Arch2VecModel, graphs: datasets.Dataset, batch_size: int = 1024
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
    model: Arch2VecModel, graphs: datasets.Dataset, batch_size: int = 1024
) -> tuple[torch.Tensor, torch.Tensor]:
    """Compute and store in ``model`` the mean and std of the posterior means of ``graphs`` (training set)."""
    return model.posterior_stats(_batches(graphs, batch_size), store=True)


def sample_graphs(model: Arch2VecModel, num_samples: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """``num_samples`` decoded graphs from a seeded CPU generator: ``adjacency [S,N,N]``, ``ops [S,N]``."""
    was_training = model.training
    model.eval()
    try:
        adjacency, ops = model.sample(num_samples, torch.Generator().manual_seed(seed))
    finally:
        model.train(was_training)
    return adjacency.cpu().numpy(), ops.cpu().numpy()


def generate_vgae(
    model: Arch2VecModel, space: SearchSpace, num_samples: int = DEFAULT_NUM_GENERATED, seed: int = 0
) -> list[DecodedCell]:
    """Sample ``num_samples`` cells as arch2vec does; decode each with ``space.decode_graph`` (strict)."""
    adjacency, ops = sample_graphs(model, num_samples, seed)
    return [space.decode_graph(a, o) for a, o in zip(adjacency, ops)]


def arch2vec_validity(space: SearchSpace, adjacency: Any, ops: Any) -> bool:
    """Whether one decoded graph is valid by arch2vec's own rules for ``space`` (``space.arch2vec_valid``)."""
    check = getattr(space, "arch2vec_valid", None)
    if check is None:
        raise TypeError(f"{space!r} has no arch2vec validity rule (arch2vec_valid)")
    return bool(check(adjacency, ops))


def arch2vec_graph_hash(adjacency: Any, ops: Any) -> str:
    """arch2vec's uniqueness key: NB101 graph hash of the *unpruned* decoded graph with its label ids."""
    return nb101_hash(np.asarray(adjacency), [int(op) for op in np.asarray(ops).tolist()])


def arch2vec_uniqueness(space: SearchSpace, adjacency: Sequence[Any], ops: Sequence[Any]) -> float:
    """arch2vec's uniqueness of a batch of decoded graphs: distinct :func:`arch2vec_graph_hash` values among
    the arch2vec-valid ones, divided by their number (0.0 when none is valid)."""
    return arch2vec_sampling_metrics(space, adjacency, ops)["uniqueness"]


def arch2vec_sampling_metrics(
    space: SearchSpace, adjacency: Sequence[Any], ops: Sequence[Any]
) -> dict[str, float]:
    """arch2vec's ``validity`` and ``uniqueness`` (with ``num_valid``, ``num_unique``) of decoded graphs."""
    if len(adjacency) != len(ops):
        raise ValueError(f"got {len(adjacency)} adjacency matrices but {len(ops)} op vectors")
    hashes = [arch2vec_graph_hash(a, o) for a, o in zip(adjacency, ops) if arch2vec_validity(space, a, o)]
    num_valid, num_unique = len(hashes), len(set(hashes))
    return {
        "validity": num_valid / max(len(ops), 1),
        "uniqueness": num_unique / num_valid if num_valid else 0.0,
        "num_valid": num_valid,
        "num_unique": num_unique,
    }


def generation_metrics(
    model: Arch2VecModel,
    space: SearchSpace,
    num_samples: int = DEFAULT_NUM_GENERATED,
    seed: int = 0,
    train_ids: set[str] | None = None,
) -> dict[str, Any]:
    """Over the same ``num_samples`` seeded samples: ``arch2vec`` (its own validity and uniqueness) and ``strict``
    (the package's metric, :func:`archllm_hf.scoring.score_generation`, on ``space.decode_graph`` of each sample)."""
    adjacency, ops = sample_graphs(model, num_samples, seed)
    decoded = [space.decode_graph(a, o) for a, o in zip(adjacency, ops)]
    strict = score_generation([d.id for d in decoded], [d.valid for d in decoded], train_ids=train_ids)
    return {
        "num_samples": num_samples,
        "arch2vec": arch2vec_sampling_metrics(space, adjacency, ops),
        "strict": dict(strict),
    }


# --- training -----------------------------------------------------------------------------------------------
class Arch2VecTrainer(Trainer):
    """``Trainer`` that adds held-out reconstruction metrics to every evaluation."""

    def evaluate(
        self, eval_dataset=None, ignore_keys=None, metric_key_prefix: str = "eval"
    ) -> dict[str, float]:
        metrics = super().evaluate(eval_dataset, ignore_keys=ignore_keys, metric_key_prefix=metric_key_prefix)
        graphs = eval_dataset if eval_dataset is not None else self.eval_dataset
        recon = vgae_reconstruction_metrics(self.model, graphs)
        recon = {f"{metric_key_prefix}_{k}": v for k, v in recon.items() if k != "num_cells"}
        self.log(recon)
        metrics.update(recon)
        return metrics


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
    num_generated: int = DEFAULT_NUM_GENERATED,
    num_samples: int | None = None,
) -> dict[str, Any]:
    """Train arch2vec's VGAE on ``space`` and save it to ``out_dir`` (``AutoModel.from_pretrained(out_dir)``).

    Args:
        space: search space or its name.
        out_dir: output folder; checkpoints go to ``out_dir/checkpoints``.
        dataset: cells dataset (a ``DatasetDict`` or a dataset repo folder); built in memory when None.
        epochs: training epochs; arch2vec's (:data:`ARCH2VEC_EPOCHS`) when None.
        batch_size, lr, seed: arch2vec's 32, 1e-3 and our seed by default.
        device: ``"cpu"``, ``"cuda"``...; the Trainer's choice when None.
        progress: show progress bars.
        resume: continue from the newest checkpoint in ``out_dir/checkpoints`` if there is one.
        model_kwargs: overrides of :class:`Arch2VecConfig` fields (hidden_size, latent_dim, ...).
        num_generated: samples for the sampling metrics (arch2vec: 10,000); 0 skips them.
        num_samples: cells to sample when building a dataset for a space that is not enumerated (DARTS).

    Returns:
        A summary: test reconstruction, sampling metrics, training time, device, sizes and settings. It is
        also written to ``training_summary.json`` (with ``reconstruction.json`` and ``generation.json``).
    """
    space = get_space(space) if isinstance(space, str) else space
    epochs = ARCH2VEC_EPOCHS.get(space.name, 10) if epochs is None else epochs
    if epochs <= 0 or batch_size < 1 or lr <= 0:
        raise ValueError(f"need epochs > 0, batch_size >= 1 and lr > 0; got {epochs}, {batch_size}, {lr}")
    out_dir = Path(out_dir)
    set_seed(seed)

    cells = load_cells(space, dataset, num_samples=num_samples, progress=progress)
    train_graphs = graph_dataset(space, cells["train"])
    eval_graphs = graph_dataset(space, cells["validation"])
    test_graphs = graph_dataset(space, cells["test"])

    config = Arch2VecConfig.for_space(space, space_kwargs=space.space_kwargs, **(model_kwargs or {}))
    model = Arch2VecModel(config)
    args = training_arguments(
        out_dir,
        seed=seed,
        device=device,
        progress=progress,
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
    trainer = Arch2VecTrainer(
        model=model,
        args=args,
        train_dataset=train_graphs,
        eval_dataset=eval_graphs,
        data_collator=collate_graphs,
    )
    train_output, train_seconds, last = train_resuming(trainer, out_dir, resume)

    model = trainer.model
    posterior_stats(model, train_graphs)
    test = vgae_reconstruction_metrics(model, test_graphs)
    generation = None
    if num_generated > 0:
        train_ids = set(cells["train"]["id"]) if "id" in cells["train"].column_names else None
        generation = generation_metrics(model, space, num_generated, seed=seed, train_ids=train_ids)
    summary = {
        "model": "arch2vec-vgae",
        "space": space.name,
        "space_kwargs": config.space_kwargs,
        "device": str(trainer.args.device),
        "device_name": _device_name(trainer.args.device),
        "train_seconds": train_seconds,
        "train_steps": train_output.global_step,
        "epochs": epochs,
        "seconds_per_epoch": train_seconds / epochs,
        "train_loss": train_output.training_loss,
        "num_train_cells": len(train_graphs),
        "num_test_cells": len(test_graphs),
        "test": test,
        "generation": generation,
        "training_config": {
            "epochs": epochs,
            "batch_size": batch_size,
            "lr": lr,
            "seed": seed,
            "max_grad_norm": 5.0,
            "model": dict(model_kwargs or {}),
        },
        "resumed_from": last,
    }
    save_vgae(model, out_dir, summary)
    return summary


def save_vgae(model: Arch2VecModel, out_dir: str | Path, summary: dict[str, Any] | None = None) -> Path:
    """Save the model (posterior statistics included) and the summary files into ``out_dir`` atomically."""
    with atomic_files(out_dir) as tmp:
        model.save_pretrained(tmp)
        if summary is not None:
            (tmp / "training_summary.json").write_text(json.dumps(summary, indent=2) + "\n")
            (tmp / "reconstruction.json").write_text(json.dumps(summary["test"], indent=2) + "\n")
            if summary.get("generation") is not None:
                (tmp / "generation.json").write_text(json.dumps(summary["generation"], indent=2) + "\n")
    return Path(out_dir)


def _device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    import platform

    return platform.processor() or platform.machine()


__all__ = [
    "ARCH2VEC_EPOCHS",
    "DEFAULT_NUM_GENERATED",
    "Arch2VecTrainer",
    "arch2vec_graph_hash",
    "arch2vec_sampling_metrics",
    "arch2vec_uniqueness",
    "arch2vec_validity",
    "generate_vgae",
    "generation_metrics",
    "posterior_stats",
    "sample_graphs",
    "save_vgae",
    "space_of",
    "train_vgae",
    "vgae_reconstruction_metrics",
]
