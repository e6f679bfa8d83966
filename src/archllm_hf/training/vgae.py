"""Train arch2vec's VGAE (the baseline generator) with the ``Trainer`` API, as arch2vec's own code trains it.

Protocol (arch2vec's pretraining): Adam at 1e-3 (``AdamW`` with zero weight decay, which is the same update),
batch 32, gradient clipping at 5, constant learning rate, 8 epochs on NB101 and 10 on NB201 and DARTS (the presets'
``vgae_epochs``). After training, the training-set posterior means give the per-(node, dimension) mean and std that
sampling rescales ``N(0, I)`` draws with; they are stored in the model (buffers) before it is saved.

:class:`VGAETrainingConfig` holds the four points where arch2vec's code does something its paper does not say; each
is on by default (:data:`PUBLISHED`), because that is what produced the published numbers:

* ``eval_mode_after_first_epoch`` (**the quirk**): arch2vec's per-epoch sampling check calls ``eval()`` and nothing
  calls ``train()`` again, so from the second epoch on the model trains in eval mode: no decoder dropout, no
  reparameterisation noise (``z = mu``), BatchNorm frozen at its running statistics; the KL term stays in the
  loss. The ``Trainer`` puts the model in training mode before every step; with the flag, every step from epoch 1
  on puts it back in eval mode before the forward pass. This is what lets it reconstruct every held-out NB201
  cell (a VAE that really trains with its noise and dropout reconstructs a few per cent of them whole);
* ``split="arch2vec"``: the first 90 % of arch2vec's file order trains, the last 10 % is held out
  (:func:`archllm_hf.data.arch2vec_split`); ``"project"`` keeps the package's 90/5/5 split by canonical id, the
  one every method of the generation benchmark shares;
* ``posterior_stats="last_epoch"``: the sampling statistics are those of the ``mu`` that the last epoch's
  training steps computed (arch2vec accumulates them there); ``"eval_pass"`` encodes the training set once more
  with the final model;
* ``layout="arch2vec"``: arch2vec's one-hot layout (``<pad>`` has no column: an unused slot is an all-zero row,
  ``Arch2VecConfig.zero_pad_rows``) and graph layout (:func:`archllm_hf.spaces.arch2vec_rules.arch2vec_layout`:
  NB101 padded after the output vertex; DARTS as the normal cell's 11-node graph, a decoded graph giving the
  genotype whose reduce cell equals it); ``"project"`` keeps ``<pad>`` as a label, pads NB101 before the output
  and models both DARTS cells in one 22-node graph (our extension).

:data:`REDESIGNED` switches all four off: the package's earlier, textbook VGAE training.

Metric: reconstruction of the held-out **test** split through the posterior mean (no sampling):
  ``op_accuracy`` (node slots whose argmax label is right, padded slots included), ``op_accuracy_real``
  (the same over the slots of real vertices, not ``<pad>``), ``adjacency_accuracy``
  (strict-upper-triangle entries right after thresholding at 0.5), ``exact_match`` (cells with every real
  vertex's op and every strict-upper entry right: the label of an unused NB101 slot, which has no edges and which
  pruning drops, does not count; arch2vec's layout gives it none), and arch2vec's ``mean_corr_adj`` / ``mean_fal_pos_adj`` (mean edge
  probability on true edges / on non-edges).

Sampling lives beside the other samplers (:class:`archllm_hf.generation.VGAESampler`).

Remaining deviations from arch2vec: a reshuffle every epoch (arch2vec shuffles once); for NB101 and DARTS the
project's random split stands in for its file order (:func:`archllm_hf.data.arch2vec_split`); DARTS cells are
those of the package's dataset (arch2vec samples its 600,000 with ``none`` among the ops and a FLOPs limit). Model-level deviations are listed in
:mod:`archllm_hf.models.arch2vec.modeling_arch2vec`.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import datasets
import torch
from transformers import set_seed

from .._hub import save_vgae
from ..data import arch2vec_split
from ..models.arch2vec import Arch2VecConfig, Arch2VecModel
from ..presets import preset
from ..spaces import SearchSpace, resolve_space
from ..spaces.arch2vec_rules import arch2vec_layout
from .common import ReconstructionTrainer, load_cells
from .graphs import GraphTensors, fit_graph_model, graph_dataset, graph_training_summary

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class VGAETrainingConfig:
    """Where the VGAE's training follows arch2vec's code rather than a textbook VAE (module docstring).

    Args:
        eval_mode_after_first_epoch: arch2vec's quirk: from the second epoch on, train in eval mode (no dropout,
            ``z = mu``, BatchNorm frozen).
        split: ``"arch2vec"`` (first 90 % of its file order trains, :func:`archllm_hf.data.arch2vec_split`) or
            ``"project"`` (the package's split by canonical id).
        posterior_stats: ``"last_epoch"`` (statistics of the ``mu`` of the last epoch's training steps, as
            arch2vec) or ``"eval_pass"`` (one eval-mode pass of the final model over the training set).
        layout: ``"arch2vec"`` (all-zero ``<pad>`` rows; NB101 padded after the output) or ``"project"``.
    """

    eval_mode_after_first_epoch: bool = True
    split: Literal["arch2vec", "project"] = "arch2vec"
    posterior_stats: Literal["last_epoch", "eval_pass"] = "last_epoch"
    layout: Literal["arch2vec", "project"] = "arch2vec"

    def __post_init__(self) -> None:
        if not isinstance(self.eval_mode_after_first_epoch, bool):
            raise TypeError(
                f"eval_mode_after_first_epoch must be a bool, got {self.eval_mode_after_first_epoch!r}"
            )
        if self.split not in ("arch2vec", "project"):
            raise ValueError(f"split must be 'arch2vec' or 'project', got {self.split!r}")
        if self.layout not in ("arch2vec", "project"):
            raise ValueError(f"layout must be 'arch2vec' or 'project', got {self.layout!r}")
        if self.posterior_stats not in ("last_epoch", "eval_pass"):
            raise ValueError(
                f"posterior_stats must be 'last_epoch' or 'eval_pass', got {self.posterior_stats!r}"
            )


PUBLISHED = VGAETrainingConfig()
"""arch2vec as its code trains it (the default)."""
REDESIGNED = VGAETrainingConfig(
    eval_mode_after_first_epoch=False, split="project", posterior_stats="eval_pass", layout="project"
)
"""The package's earlier training: a textbook VAE in training mode throughout, the project split, statistics from
one eval pass, <pad> as a label and NB101 padded before the output."""


def _batches(graphs: GraphTensors, batch_size: int) -> Iterator[dict[str, torch.Tensor]]:
    for start in range(0, len(graphs), batch_size):
        chunk = graphs[start : start + batch_size]
        yield {"adjacency": chunk["adjacency"].long(), "ops": chunk["ops"].long()}


# --- metrics ------------------------------------------------------------------------------------------------
def _posterior_decodes(
    model: Arch2VecModel, graphs: GraphTensors, batch_size: int
) -> Iterator[tuple[torch.Tensor, ...]]:
    """Per batch of ``graphs``: ``adjacency``, ``ops``, the posterior means ``mu`` and what ``model`` decodes from
    them (``adjacency``, ``ops``), with ``model`` in eval mode until the last batch."""
    was_training = model.training
    model.eval()
    device = model.latent_mean.device
    try:
        for batch in _batches(graphs, batch_size):
            adjacency, ops = batch["adjacency"].to(device), batch["ops"].to(device)
            mu = model.encode_mean(adjacency, ops)
            yield (adjacency, ops, mu, *model.decode(mu))
    finally:
        model.train(was_training)


@torch.no_grad()
def vgae_reconstructions(
    model: Arch2VecModel, graphs: GraphTensors, batch_size: int = 1024
) -> tuple[torch.Tensor, torch.Tensor]:
    """``adjacency [S, N, N]`` and ``ops [S, N]`` that ``model`` decodes from the posterior means of ``graphs`` (a
    :func:`graph_dataset`), as :func:`vgae_reconstruction_metrics` scores them, before any check of the space."""
    decodes = [
        (adjacency.cpu(), ops.cpu()) for *_, adjacency, ops in _posterior_decodes(model, graphs, batch_size)
    ]
    if not decodes:
        n = model.config.num_nodes
        return torch.zeros(0, n, n, dtype=torch.long), torch.zeros(0, n, dtype=torch.long)
    return torch.cat([a for a, _ in decodes]), torch.cat([o for _, o in decodes])


@torch.no_grad()
def vgae_reconstruction_metrics(
    model: Arch2VecModel, graphs: GraphTensors, batch_size: int = 1024
) -> dict[str, float]:
    """Reconstruction of ``graphs`` (a :func:`graph_dataset`) through the posterior mean (see module doc)."""
    n = model.config.num_nodes
    upper = torch.ones(n, n, dtype=torch.bool, device=model.latent_mean.device).triu(1)
    op_hits = adj_hits = exact = total = real_hits = real_slots = 0
    edge_prob = non_edge_prob = edges = 0.0
    for adjacency, ops, mu, pred_adjacency, pred_ops in _posterior_decodes(model, graphs, batch_size):
        probs = torch.sigmoid(torch.matmul(mu, mu.transpose(-1, -2)))[:, upper]
        target = adjacency[:, upper].bool()
        op_ok = pred_ops == ops
        adj_ok = pred_adjacency[:, upper] == adjacency[:, upper]
        op_hits += int(op_ok.sum())
        real = ops != 0  # slots of real vertices (0 is <pad>)
        real_hits += int((op_ok & real).sum())
        real_slots += int(real.sum())
        adj_hits += int(adj_ok.sum())
        exact += int(((op_ok | ~real).all(-1) & adj_ok.all(-1)).sum())
        total += len(ops)
        edge_prob += float(probs[target].double().sum())
        non_edge_prob += float(probs[~target].double().sum())
        edges += int(target.sum())
    slots = total * int(upper.sum())
    return {
        "op_accuracy": op_hits / max(total * n, 1),
        "op_accuracy_real": real_hits / max(real_slots, 1),
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
    """``Trainer`` that adds held-out reconstruction metrics to every evaluation and follows ``protocol``
    (a :class:`VGAETrainingConfig`): eval mode from the second epoch on, and the last epoch's posterior sums."""

    reconstruction = staticmethod(vgae_reconstruction_metrics)

    def __init__(self, *args: Any, protocol: VGAETrainingConfig = PUBLISHED, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.protocol = protocol
        self.posterior_sums: tuple[int, torch.Tensor, torch.Tensor, int] | None = None
        """``(epoch, sum of mu, sum of mu², cells)`` over the training steps of the newest epoch seen."""

    def _epoch_index(self) -> int:
        return math.floor(self.state.epoch or 0.0)

    def compute_loss(
        self,
        model: torch.nn.Module,
        inputs: dict[str, Any],
        return_outputs: bool = False,
        num_items_in_batch: Any = None,
    ) -> Any:
        training = model.training
        if training and self.protocol.eval_mode_after_first_epoch and self._epoch_index() >= 1:
            model.eval()  # arch2vec never calls train() again after its first epoch's sampling check
        loss, outputs = super().compute_loss(
            model, inputs, return_outputs=True, num_items_in_batch=num_items_in_batch
        )
        if training and self.protocol.posterior_stats == "last_epoch":
            self._accumulate(outputs["mu"].detach())
        return (loss, outputs) if return_outputs else loss

    def _accumulate(self, mu: torch.Tensor) -> None:
        epoch = self._epoch_index()
        if self.posterior_sums is None or self.posterior_sums[0] != epoch:
            zeros = torch.zeros(mu.shape[1:], dtype=torch.float64, device=mu.device)
            self.posterior_sums = (epoch, zeros, zeros.clone(), 0)
        _, total, squares, count = self.posterior_sums
        mu = mu.double()
        self.posterior_sums = (epoch, total + mu.sum(0), squares + (mu * mu).sum(0), count + mu.shape[0])

    def store_posterior_stats(self, train_graphs: GraphTensors) -> str:
        """Store the sampling statistics in the model as ``protocol`` says; returns where they came from:
        ``"last_epoch"`` (the sums of the last epoch, when it saw every training cell once) or ``"eval_pass"``
        (also the fallback when training resumed past the last epoch and no sums exist)."""
        model = self.model
        sums = self.posterior_sums
        last = math.ceil(self.args.num_train_epochs) - 1
        if self.protocol.posterior_stats == "last_epoch":
            if sums is not None and sums[0] == last and sums[3] == len(train_graphs):
                model.stats_from_sums(sums[1], sums[2], sums[3], store=True)
                return "last_epoch"
            logger.warning(
                "the last epoch's posterior sums are missing or partial (training resumed?); "
                "computing the sampling statistics with one eval pass instead"
            )
        posterior_stats(model, train_graphs)
        return "eval_pass"


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
    config: VGAETrainingConfig = PUBLISHED,
) -> dict[str, Any]:
    """Train arch2vec's VGAE on ``space`` and save it to ``out_dir`` (``AutoModel.from_pretrained(out_dir)``).

    Args:
        space: search space or its name.
        out_dir: output folder; checkpoints go to ``out_dir/checkpoints``.
        dataset: cells dataset (a ``DatasetDict`` or a dataset repo folder); built with
            ``build_cells_dataset`` when None.
        epochs: training epochs; arch2vec's (the preset's ``vgae_epochs``) when None.
        batch_size, lr, seed: arch2vec's 32, 1e-3 and our seed by default.
        device: ``"cpu"``, ``"cuda"``...; the Trainer's choice when None.
        progress: show progress bars.
        resume: continue from the newest checkpoint in ``out_dir/checkpoints`` if there is one.
        model_kwargs: overrides of :class:`Arch2VecConfig` fields (hidden_size, latent_dim, ...).
        num_samples: cells to sample when building a dataset for a space that is not enumerated (DARTS).
        config: arch2vec's code (:data:`PUBLISHED`, default) or the textbook VAE (:data:`REDESIGNED`), or any
            mix (:class:`VGAETrainingConfig`).

    Returns:
        A summary: test reconstruction, training time, device, sizes and settings. It is also written to
        ``training_summary.json`` (with ``reconstruction.json``).
    """
    space = resolve_space(space)
    epochs = preset(space.name).vgae_epochs if epochs is None else epochs
    if epochs <= 0 or batch_size < 1 or lr <= 0:
        raise ValueError(f"need epochs > 0, batch_size >= 1 and lr > 0; got {epochs}, {batch_size}, {lr}")
    out_dir = Path(out_dir)
    set_seed(seed)

    if not isinstance(config, VGAETrainingConfig):
        raise TypeError(f"config must be a VGAETrainingConfig, got {type(config).__name__}")
    if config.layout == "arch2vec":
        space = arch2vec_layout(space)
        model_kwargs = {"zero_pad_rows": True, **(model_kwargs or {})}
    cells = load_cells(space, dataset, num_samples=num_samples, progress=progress)
    if config.split == "arch2vec":
        cells = arch2vec_split(space, cells)
    train_graphs = graph_dataset(space, cells["train"])
    eval_graphs = graph_dataset(space, cells["validation"])
    test_graphs = graph_dataset(space, cells["test"])

    model_config = Arch2VecConfig.for_space(space, space_kwargs=space.space_kwargs, **(model_kwargs or {}))
    fit = fit_graph_model(
        functools.partial(Arch2VecTrainer, protocol=config),
        Arch2VecModel(model_config),
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
    stats_source = fit[0].store_posterior_stats(train_graphs)
    test = vgae_reconstruction_metrics(model, test_graphs)
    summary = graph_training_summary(
        {"model": "arch2vec-vgae", "space": space.name, "space_kwargs": model_config.space_kwargs},
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
            **dataclasses.asdict(config),
        },
    )
    summary["posterior_stats_from"] = stats_source
    save_vgae(model, out_dir, summary)
    return summary


__all__ = [
    "PUBLISHED",
    "REDESIGNED",
    "Arch2VecTrainer",
    "VGAETrainingConfig",
    "posterior_stats",
    "train_vgae",
    "vgae_reconstruction_metrics",
    "vgae_reconstructions",
]
