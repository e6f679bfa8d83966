"""The graph accuracy predictor as a ``transformers`` model.

Each node's label is embedded and added to an embedding of its slot; ``num_layers`` residual layers then mix every
node with the sum of its predecessors and the sum of its successors (a directed GIN layer); the readout is the mean
and the sum over the real nodes, joined with the cell's proxy features when the config feeds them in. Two heads
read the same representation: ``score_head`` (one value, the accuracy score a fit regresses) and ``proxy_head``
(one value per proxy, the label-free pretraining target).

Self-contained (only ``torch`` and ``transformers``), so the folder can ship as Hub remote code.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import torch
from torch import nn
from transformers import PreTrainedModel
from transformers.utils import ModelOutput

from .configuration_arch_predictor import ArchPredictorConfig


@dataclass
class ArchPredictorOutput(ModelOutput):
    """Outputs of :class:`ArchPredictorModel`.

    Args:
        loss: squared error of ``scores`` against ``labels`` plus that of ``proxy_predictions`` against
            ``proxy_targets``, for the targets given.
        scores: ``[B]`` predicted scores (higher is better).
        proxy_predictions: ``[B, len(proxy_names)]`` predicted proxies (``None`` without proxies).
        embeddings: ``[B, D]`` the cell representation both heads read.
    """

    loss: torch.Tensor | None = None
    scores: torch.Tensor | None = None
    proxy_predictions: torch.Tensor | None = None
    embeddings: torch.Tensor | None = None


# --- blocks ---------------------------------------------------------------------------------------------------
class ArchPredictorLayer(nn.Module):
    """``h ← LayerNorm(h + MLP([h, Aᵀh, Ah]))``: a node reads itself, its predecessors and its successors."""

    def __init__(self, hidden_size: int) -> None:
        super().__init__()
        self.mlp = nn.Sequential(
            nn.Linear(3 * hidden_size, 2 * hidden_size), nn.GELU(), nn.Linear(2 * hidden_size, hidden_size)
        )
        self.norm = nn.LayerNorm(hidden_size)

    def forward(self, states: torch.Tensor, adjacency: torch.Tensor) -> torch.Tensor:
        incoming = adjacency.transpose(1, 2) @ states
        outgoing = adjacency @ states
        return self.norm(states + self.mlp(torch.cat([states, incoming, outgoing], dim=-1)))


# --- base -----------------------------------------------------------------------------------------------------
class ArchPredictorPreTrainedModel(PreTrainedModel):
    """Weight initialisation and loading glue of the graph predictor."""

    config: ArchPredictorConfig
    config_class = ArchPredictorConfig
    base_model_prefix = "arch_predictor"
    main_input_name = "ops"
    supports_gradient_checkpointing = False
    _no_split_modules: ClassVar[list[str]] = []

    @torch.no_grad()
    def _init_weights(self, module: nn.Module) -> None:
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, mean=0.0, std=self.config.initializer_range)
            if isinstance(module, nn.Linear) and module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.LayerNorm):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)


# --- model ----------------------------------------------------------------------------------------------------
class ArchPredictorModel(ArchPredictorPreTrainedModel):
    """Scores cells from their graphs (see the module docstring).

    Inputs: ``adjacency`` ``[B, N, N]`` (edge ``i → j``), ``ops`` ``[B, N]`` label ids (0 = padding), ``node_mask``
    ``[B, N]`` bool, and ``proxies`` ``[B, P]`` when ``config.use_proxy_features``.
    """

    def __init__(self, config: ArchPredictorConfig) -> None:
        super().__init__(config)
        hidden = config.hidden_size
        self.op_embedding = nn.Embedding(config.num_ops, hidden)
        self.slot_embedding = nn.Embedding(config.num_nodes, hidden)
        self.layers = nn.ModuleList(ArchPredictorLayer(hidden) for _ in range(config.num_layers))
        readout = 2 * hidden
        self.proxy_projection = (
            nn.Linear(config.num_proxy_features, hidden) if config.num_proxy_features else None
        )
        readout += hidden if self.proxy_projection is not None else 0
        self.body = nn.Sequential(nn.Linear(readout, hidden), nn.GELU(), nn.Dropout(config.dropout))
        self.score_head = nn.Linear(hidden, 1)
        self.proxy_head = nn.Linear(hidden, len(config.proxy_names)) if config.proxy_names else None
        self.post_init()

    def forward(
        self,
        adjacency: torch.Tensor,
        ops: torch.Tensor,
        node_mask: torch.Tensor | None = None,
        proxies: torch.Tensor | None = None,
        labels: torch.Tensor | None = None,
        proxy_targets: torch.Tensor | None = None,
    ) -> ArchPredictorOutput:
        if node_mask is None:
            node_mask = ops != 0
        if self.proxy_projection is not None and proxies is None:
            raise ValueError(f"this predictor reads the proxies {self.config.proxy_names}: pass proxies=")
        adjacency = adjacency.to(self.op_embedding.weight.dtype)
        slots = torch.arange(ops.shape[1], device=ops.device)
        states = self.op_embedding(ops) + self.slot_embedding(slots)
        for layer in self.layers:
            states = layer(states, adjacency)
        weights = node_mask.unsqueeze(-1).to(states.dtype)
        summed = (states * weights).sum(1)
        parts = [summed / weights.sum(1).clamp(min=1), summed / ops.shape[1]]
        if self.proxy_projection is not None:
            parts.append(self.proxy_projection(proxies.to(states.dtype)))
        embeddings = self.body(torch.cat(parts, dim=-1))
        scores = self.score_head(embeddings)[:, 0]
        proxy_predictions = self.proxy_head(embeddings) if self.proxy_head is not None else None
        loss = None
        if labels is not None:
            loss = nn.functional.mse_loss(scores, labels.to(scores.dtype))
        if proxy_targets is not None and proxy_predictions is not None:
            proxy_loss = nn.functional.mse_loss(proxy_predictions, proxy_targets.to(scores.dtype))
            loss = proxy_loss if loss is None else loss + proxy_loss
        return ArchPredictorOutput(
            loss=loss, scores=scores, proxy_predictions=proxy_predictions, embeddings=embeddings
        )


__all__ = ["ArchPredictorModel", "ArchPredictorOutput", "ArchPredictorPreTrainedModel"]
