"""ArchVQVAE: a VQ-VAE mapping the fixed-size graph encoding of a NAS cell to a fixed-length code sequence.

* Encoder: op embeddings plus node-slot embeddings, then GIN layers passing messages along edges in both
  directions, then a projection to ``codes_per_node`` latent vectors per node slot (and ``num_graph_codes``
  more from the pooled graph).
* Quantizer: nearest codebook vector, codebook learned by exponential moving averages (EMA) with dead-code
  restarts from the current encoder outputs, commitment loss and straight-through gradients.
* Decoder: a small Transformer over the quantized sequence (learned positions), then per-node op logits and
  pairwise adjacency logits restricted to the entries the space allows.

The model maps tensors to tensors only: graphs to codes (:meth:`ArchVQVAEModel.encode`) and codes to graphs
(:meth:`ArchVQVAEModel.decode`). Cells, code text and the search space are the processor's business
(``processing_arch_vqvae.py``). Self-contained (torch, transformers and the sibling config only) so that it can be
shipped as remote code.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn
from transformers import PreTrainedModel
from transformers import initialization as init
from transformers.utils import ModelOutput

from .configuration_arch_vqvae import ArchVQVAEConfig

FAST_DECODE_MARGIN = 2.0
"""``decode(fast=True)`` decodes a row again in float32 when one of its decisions is this close in bfloat16: an
allowed adjacency logit within it of 0, or a node's two best op logits within it of each other. bfloat16's error on
those logits stayed under half of it on 100,000 sampled code rows of every space
(``benchmarks/decoder_precision.py``)."""


# --- outputs ------------------------------------------------------------------------------------------------
@dataclass
class ArchVQVAEOutput(ModelOutput):
    """Output of :meth:`ArchVQVAEModel.forward`.

    Args:
        loss: ``op_loss + adjacency_loss + commitment_loss`` (None when ``return_loss=False``).
        op_loss: cross-entropy of the op logits over every node slot, ``<pad>`` included.
        adjacency_loss: binary cross-entropy of the adjacency logits over the allowed entries.
        commitment_loss: ``commitment_cost * ||z_e - sg(z_q)||^2``.
        codes: ``[batch, code_length]`` code ids of the inputs.
        perplexity: ``exp`` of the entropy of the code usage in this batch.
        op_logits: ``[batch, num_nodes, num_ops]``.
        adjacency_logits: ``[batch, num_nodes, num_nodes]``; entries the space does not allow hold the dtype's
            minimum.
    """

    loss: torch.FloatTensor | None = None
    op_loss: torch.FloatTensor | None = None
    adjacency_loss: torch.FloatTensor | None = None
    commitment_loss: torch.FloatTensor | None = None
    codes: torch.LongTensor | None = None
    perplexity: torch.FloatTensor | None = None
    op_logits: torch.FloatTensor | None = None
    adjacency_logits: torch.FloatTensor | None = None


@dataclass
class ArchVQVAEEncoderOutput(ModelOutput):
    """Output of :meth:`ArchVQVAEModel.encode`.

    Args:
        codes: ``[batch, code_length]`` code ids.
        latents: ``[batch, code_length, code_dim]`` encoder outputs before quantization.
    """

    codes: torch.LongTensor | None = None
    latents: torch.FloatTensor | None = None


@dataclass
class ArchVQVAEDecoderOutput(ModelOutput):
    """Output of :meth:`ArchVQVAEModel.decode`.

    Args:
        adjacency: ``[batch, num_nodes, num_nodes]`` 0/1, edges where the logit is > 0 (allowed entries only).
        ops: ``[batch, num_nodes]`` op ids (argmax of the op logits).
        op_logits: ``[batch, num_nodes, num_ops]``.
        adjacency_logits: ``[batch, num_nodes, num_nodes]``; entries the space does not allow hold the dtype's
            minimum.
    """

    adjacency: torch.LongTensor | None = None
    ops: torch.LongTensor | None = None
    op_logits: torch.FloatTensor | None = None
    adjacency_logits: torch.FloatTensor | None = None


# --- building blocks ----------------------------------------------------------------------------------------
class ArchVQVAEGINLayer(nn.Module):
    """GIN layer over a directed graph, messages along edges in both directions:

    ``h' = norm(h + MLP((1 + eps) h + W_in sum_pred h + W_out sum_succ h))``.
    """

    def __init__(self, config: ArchVQVAEConfig):
        super().__init__()
        hidden = config.hidden_size
        self.eps = nn.Parameter(torch.zeros(()))
        self.from_predecessors = nn.Linear(hidden, hidden, bias=False)
        self.from_successors = nn.Linear(hidden, hidden, bias=False)
        self.mlp = nn.Sequential(nn.Linear(hidden, 2 * hidden), nn.GELU(), nn.Linear(2 * hidden, hidden))
        self.dropout = nn.Dropout(config.dropout)
        self.norm = nn.LayerNorm(hidden)

    def forward(self, hidden: torch.Tensor, adjacency: torch.Tensor) -> torch.Tensor:
        # adjacency[b, i, j] == 1 means an edge i -> j
        predecessors = adjacency.transpose(1, 2) @ hidden
        successors = adjacency @ hidden
        message = (
            (1 + self.eps) * hidden + self.from_predecessors(predecessors) + self.from_successors(successors)
        )
        return self.norm(hidden + self.dropout(self.mlp(message)))


class ArchVQVAEEncoder(nn.Module):
    """Graph → ``[batch, code_length, code_dim]`` continuous latents (node codes first, then graph codes)."""

    def __init__(self, config: ArchVQVAEConfig):
        super().__init__()
        self.config = config
        self.op_embeddings = nn.Embedding(config.num_ops, config.hidden_size)
        self.slot_embeddings = nn.Embedding(config.num_nodes, config.hidden_size)
        self.layers = nn.ModuleList(ArchVQVAEGINLayer(config) for _ in range(config.num_encoder_layers))
        self.node_projection = nn.Linear(config.hidden_size, config.codes_per_node * config.code_dim)
        self.graph_projection = (
            nn.Linear(config.hidden_size, config.num_graph_codes * config.code_dim)
            if config.num_graph_codes
            else None
        )

    def forward(self, adjacency: torch.Tensor, ops: torch.Tensor, node_mask: torch.Tensor) -> torch.Tensor:
        batch, num_nodes = ops.shape
        slots = torch.arange(num_nodes, device=ops.device)
        hidden = self.op_embeddings(ops) + self.slot_embeddings(slots)
        mask = node_mask.to(hidden.dtype)
        adjacency = adjacency.to(hidden.dtype) * mask[:, :, None] * mask[:, None, :]
        for layer in self.layers:
            hidden = layer(hidden, adjacency)
        latents = self.node_projection(hidden).reshape(batch, -1, self.config.code_dim)
        if self.graph_projection is not None:
            pooled = (hidden * mask[:, :, None]).sum(1) / mask.sum(1, keepdim=True).clamp(min=1)
            graph_latents = self.graph_projection(pooled).reshape(batch, -1, self.config.code_dim)
            latents = torch.cat([latents, graph_latents], dim=1)
        return latents


class ArchVQVAEVectorQuantizer(nn.Module):
    """Nearest-neighbour vector quantizer whose codebook follows exponential moving averages (EMA).

    In training mode each call (1) restarts dead codes (EMA count below ``dead_code_threshold``; on the very
    first call every code, since all counts start at zero) from random current encoder outputs, (2) assigns
    each latent to its nearest code and (3) updates the EMA counts, sums and codebook. In eval mode nothing
    changes. The codebook and EMA statistics are buffers (saved with the weights, never touched by the
    optimizer).

    Under ``torch.distributed`` with more than one process (e.g. DDP through ``accelerate launch``), a
    training call on every rank does what one process would do with the concatenation of all ranks' latents
    (in rank order), so the buffers stay identical on all ranks:

    * restart candidates are drawn uniformly from that union, not from one rank's batch: every rank draws
      the ``codebook_size`` indices with ``torch.randint`` (so all ranks consume their RNG alike), rank 0's
      indices and rank 0's dead-code mask are broadcast (so all ranks restart the same codes with the same
      vectors, even if their counts had drifted), and each chosen latent is contributed by the rank holding
      it (a sum all-reduce where every row has a single non-zero contributor, hence exact);
    * the per-code counts and sums of the assignments are all-reduced before the EMA update;
    * the returned perplexity (training mode only) comes from the all-reduced counts, the same on all ranks.

    Every rank takes part in these collectives in each training call, also with an empty batch (a batch that
    is empty on every rank changes nothing, as in one process). Eval mode communicates nothing.
    """

    def __init__(self, config: ArchVQVAEConfig):
        super().__init__()
        self.codebook_size = config.codebook_size
        self.code_dim = config.code_dim
        self.commitment_cost = float(config.commitment_cost)
        self.decay = float(config.ema_decay)
        self.epsilon = float(config.ema_epsilon)
        self.dead_code_threshold = float(config.dead_code_threshold)
        self.register_buffer("codebook", torch.empty(config.codebook_size, config.code_dim))
        self.register_buffer("ema_count", torch.zeros(config.codebook_size))
        self.register_buffer("ema_weight", torch.zeros(config.codebook_size, config.code_dim))

    def lookup(self, codes: torch.Tensor) -> torch.Tensor:
        """Codebook vectors of ``codes`` (any shape) → ``[*codes.shape, code_dim]``."""
        return F.embedding(codes, self.codebook)

    @torch.no_grad()
    def nearest(self, latents: torch.Tensor) -> torch.LongTensor:
        """Id of the nearest codebook vector of each latent: ``[..., code_dim]`` → ``[...]``."""
        flat = latents.detach().reshape(-1, self.code_dim).float()
        codebook = self.codebook.float()
        with torch.autocast(device_type=flat.device.type, enabled=False):
            distances = (
                flat.pow(2).sum(1, keepdim=True) - 2 * flat @ codebook.T + codebook.pow(2).sum(1)[None, :]
            )
        return distances.argmin(1).reshape(latents.shape[:-1])

    def forward(
        self, latents: torch.Tensor, return_loss: bool = True
    ) -> tuple[torch.Tensor, torch.LongTensor, torch.Tensor | None, torch.Tensor]:
        """``latents [batch, length, code_dim]`` → (straight-through quantized latents, codes, commitment
        loss or None, perplexity)."""
        flat = latents.reshape(-1, self.code_dim)
        # under torch.distributed every rank joins the collectives of a training call, even with no latents
        update = self.training and (flat.shape[0] > 0 or _distributed())
        if update:
            update = self._restart_dead_codes(flat.detach().float()) > 0
        codes = self.nearest(flat)
        quantized = self.lookup(codes).to(flat.dtype)
        counts = self._update_ema(flat.detach().float(), codes) if update else None
        commitment = self.commitment_cost * F.mse_loss(flat, quantized.detach()) if return_loss else None
        straight_through = flat + (quantized - flat).detach()
        if counts is None:
            counts = torch.bincount(codes, minlength=self.codebook_size).float()
        probs = counts / counts.sum().clamp(min=1)
        perplexity = torch.exp(-(probs * torch.log(probs.clamp(min=1e-12))).sum())
        return (
            straight_through.reshape(latents.shape),
            codes.reshape(latents.shape[:-1]),
            commitment,
            perplexity,
        )

    @torch.no_grad()
    def _restart_dead_codes(self, flat: torch.Tensor) -> int:
        """Re-initialise dead codes from latents drawn uniformly from all ranks' ``flat [n, code_dim]``
        (float32); returns the number of latents of all ranks together (0: nothing was done)."""
        size, distributed = self.codebook_size, _distributed()
        offset, total = 0, flat.shape[0]
        if distributed:
            local = torch.tensor([flat.shape[0]], dtype=torch.long, device=flat.device)
            gathered = [torch.zeros_like(local) for _ in range(dist.get_world_size())]
            dist.all_gather(gathered, local)
            sizes = torch.cat(gathered).tolist()
            offset, total = sum(sizes[: dist.get_rank()]), sum(sizes)
        if total == 0:
            return 0
        dead = (self.ema_count < self.dead_code_threshold) | (self.ema_count.sum() == 0)
        index = torch.randint(total, (size,), device=flat.device)  # drawn on every rank: same RNG use
        if distributed:
            decision = torch.cat([index, dead.long()])
            dist.broadcast(decision, src=0)  # rank 0 decides which codes restart and from which latents
            index, dead = decision[:size], decision[size:].bool()
            if not dead.any():  # the same answer on every rank after the broadcast
                return total
        local_index = index - offset
        held = (local_index >= 0) & (local_index < flat.shape[0])
        candidates = torch.zeros(size, self.code_dim, device=flat.device, dtype=flat.dtype)
        candidates[held] = flat[local_index[held]]
        if distributed:
            dist.all_reduce(candidates)  # each row is non-zero on the one rank holding that latent
        self.codebook.copy_(torch.where(dead[:, None], candidates, self.codebook))
        self.ema_weight.copy_(torch.where(dead[:, None], candidates, self.ema_weight))
        self.ema_count.copy_(torch.where(dead, torch.ones_like(self.ema_count), self.ema_count))
        return total

    @torch.no_grad()
    def _update_ema(self, flat: torch.Tensor, codes: torch.Tensor) -> torch.Tensor:
        """EMA step from the assignments ``codes`` of ``flat`` (float32) on all ranks; returns the per-code
        assignment counts of all ranks together (float32)."""
        counts = torch.bincount(codes, minlength=self.codebook_size).to(flat.dtype)
        sums = torch.zeros(self.codebook_size, self.code_dim, device=flat.device, dtype=flat.dtype)
        sums.index_add_(0, codes, flat)
        if _distributed():
            stats = torch.cat([counts[:, None], sums], dim=1)
            dist.all_reduce(stats)  # one collective for counts and sums
            counts, sums = stats[:, 0], stats[:, 1:]
        self.ema_count.mul_(self.decay).add_(counts, alpha=1 - self.decay)
        self.ema_weight.mul_(self.decay).add_(sums, alpha=1 - self.decay)
        total = self.ema_count.sum()
        smoothed = (self.ema_count + self.epsilon) / (total + self.codebook_size * self.epsilon) * total
        self.codebook.copy_(self.ema_weight / smoothed[:, None])
        return counts


class ArchVQVAEDecoderLayer(nn.Module):
    """Pre-norm Transformer encoder block (bidirectional self-attention + MLP)."""

    def __init__(self, config: ArchVQVAEConfig):
        super().__init__()
        hidden = config.hidden_size
        self.num_heads = config.num_attention_heads
        self.attention_norm = nn.LayerNorm(hidden)
        self.qkv = nn.Linear(hidden, 3 * hidden)
        self.attention_output = nn.Linear(hidden, hidden)
        self.mlp_norm = nn.LayerNorm(hidden)
        self.mlp = nn.Sequential(nn.Linear(hidden, 4 * hidden), nn.GELU(), nn.Linear(4 * hidden, hidden))
        self.dropout = nn.Dropout(config.dropout)

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        batch, length, width = hidden.shape
        qkv = self.qkv(self.attention_norm(hidden)).reshape(batch, length, 3, self.num_heads, -1)
        query, key, value = qkv.permute(2, 0, 3, 1, 4)
        dropout = self.dropout.p if self.training else 0.0
        attended = F.scaled_dot_product_attention(query, key, value, dropout_p=dropout)
        hidden = hidden + self.dropout(
            self.attention_output(attended.transpose(1, 2).reshape(batch, length, width))
        )
        return hidden + self.dropout(self.mlp(self.mlp_norm(hidden)))


class ArchVQVAEDecoder(nn.Module):
    """Quantized sequence → (op logits ``[B, N, num_ops]``, adjacency logits ``[B, N, N]``)."""

    def __init__(self, config: ArchVQVAEConfig):
        super().__init__()
        hidden = config.hidden_size
        self.config = config
        self.input_projection = nn.Linear(config.code_dim, hidden)
        self.position_embeddings = nn.Embedding(config.code_length, hidden)
        self.dropout = nn.Dropout(config.dropout)
        self.layers = nn.ModuleList(ArchVQVAEDecoderLayer(config) for _ in range(config.num_decoder_layers))
        self.norm = nn.LayerNorm(hidden)
        self.node_projection = nn.Linear(config.codes_per_node * hidden, hidden)
        self.op_head = nn.Linear(hidden, config.num_ops)
        self.edge_source = nn.Linear(hidden, hidden)
        self.edge_target = nn.Linear(hidden, hidden)
        self.adjacency_bias = nn.Parameter(torch.zeros(config.num_nodes, config.num_nodes))

    def forward(self, quantized: torch.Tensor, allowed: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        batch, length, _ = quantized.shape
        positions = torch.arange(length, device=quantized.device)
        hidden = self.dropout(self.input_projection(quantized) + self.position_embeddings(positions))
        for layer in self.layers:
            hidden = layer(hidden)
        hidden = self.norm(hidden)
        node_tokens = hidden[:, : self.config.num_nodes * self.config.codes_per_node]
        nodes = self.node_projection(node_tokens.reshape(batch, self.config.num_nodes, -1))
        op_logits = self.op_head(nodes)
        scale = 1 / math.sqrt(nodes.shape[-1])
        adjacency_logits = self.edge_source(nodes) @ self.edge_target(nodes).transpose(1, 2) * scale
        adjacency_logits = adjacency_logits + self.adjacency_bias
        adjacency_logits = adjacency_logits.masked_fill(~allowed, torch.finfo(adjacency_logits.dtype).min)
        return op_logits, adjacency_logits


# --- pretrained-model plumbing ------------------------------------------------------------------------------
class ArchVQVAEPreTrainedModel(PreTrainedModel):
    """Weight initialisation and ``from_pretrained``/``save_pretrained`` for ArchVQVAE models."""

    config: ArchVQVAEConfig
    config_class = ArchVQVAEConfig
    base_model_prefix = "arch_vqvae"
    main_input_name = "ops"
    supports_gradient_checkpointing = False

    def _init_weights(self, module: nn.Module) -> None:
        # transformers.initialization helpers skip tensors already loaded by from_pretrained
        super()._init_weights(module)
        if isinstance(module, ArchVQVAEVectorQuantizer):
            bound = 1.0 / module.codebook_size
            init.uniform_(module.codebook, -bound, bound)
            init.zeros_(module.ema_count)
            init.zeros_(module.ema_weight)
        elif isinstance(module, ArchVQVAEGINLayer):
            init.zeros_(module.eps)
        elif isinstance(module, ArchVQVAEDecoder):
            init.zeros_(module.adjacency_bias)


# --- the model ----------------------------------------------------------------------------------------------
class ArchVQVAEModel(ArchVQVAEPreTrainedModel):
    """VQ-VAE from cell graphs to ``code_length`` discrete codes in ``[0, codebook_size)`` and back.

    :meth:`forward` trains (reconstruction and commitment losses), :meth:`encode` maps graphs to codes and
    :meth:`decode` codes to graphs. ``ArchVQVAEProcessor`` turns cells into these tensors and back.
    """

    def __init__(self, config: ArchVQVAEConfig):
        super().__init__(config)
        self.encoder = ArchVQVAEEncoder(config)
        self.quantizer = ArchVQVAEVectorQuantizer(config)
        self.decoder = ArchVQVAEDecoder(config)
        self._allowed_cache: dict[torch.device, torch.Tensor] = {}
        self._has_allowed_edges = any(map(any, config.adjacency_mask))
        self.post_init()

    def forward(
        self,
        adjacency: torch.Tensor,
        ops: torch.Tensor,
        node_mask: torch.Tensor | None = None,
        return_loss: bool = True,
        return_dict: bool | None = None,
    ) -> ArchVQVAEOutput | tuple:
        """Encode, quantize and reconstruct a batch of graphs.

        Args:
            adjacency: ``[batch, num_nodes, num_nodes]`` 0/1, only allowed entries non-zero.
            ops: ``[batch, num_nodes]`` op ids in ``[0, num_ops)`` (0 = unused slot).
            node_mask: ``[batch, num_nodes]`` bool, true for used slots; ``ops != 0`` when None.
            return_loss: compute the losses (the ``Trainer`` reads this to report ``eval_loss``).
            return_dict: return an :class:`ArchVQVAEOutput` (default: ``config.return_dict``) or a tuple.
        """
        adjacency, ops, node_mask = self._check_graphs(adjacency, ops, node_mask)
        latents = self.encoder(adjacency, ops, node_mask)
        quantized, codes, commitment_loss, perplexity = self.quantizer(latents, return_loss=return_loss)
        allowed = self._allowed(adjacency.device)
        op_logits, adjacency_logits = self.decoder(quantized, allowed)
        loss = op_loss = adjacency_loss = None
        if return_loss:
            op_loss = F.cross_entropy(op_logits.reshape(-1, op_logits.shape[-1]).float(), ops.reshape(-1))
            if self._has_allowed_edges:
                adjacency_loss = F.binary_cross_entropy_with_logits(
                    adjacency_logits[:, allowed].float(), adjacency[:, allowed].float()
                )
            else:
                adjacency_loss = op_loss.new_zeros(())
            loss = op_loss + adjacency_loss + commitment_loss
        output = ArchVQVAEOutput(
            loss=loss,
            op_loss=op_loss,
            adjacency_loss=adjacency_loss,
            commitment_loss=commitment_loss,
            codes=codes,
            perplexity=perplexity,
            op_logits=op_logits,
            adjacency_logits=adjacency_logits,
        )
        return output if self._use_return_dict(return_dict) else output.to_tuple()

    def encode(
        self,
        adjacency: torch.Tensor,
        ops: torch.Tensor,
        node_mask: torch.Tensor | None = None,
        return_dict: bool | None = None,
    ) -> ArchVQVAEEncoderOutput | tuple:
        """Codes of a batch of graphs (eval mode, no EMA update, no gradients).

        Takes the inputs of :meth:`forward`; returns an :class:`ArchVQVAEEncoderOutput` (``codes`` ``[batch,
        code_length]``, ``latents``) or a tuple.
        """
        with self._inference():
            adjacency, ops, node_mask = self._check_graphs(adjacency, ops, node_mask)
            latents = self.encoder(adjacency, ops, node_mask)
            output = ArchVQVAEEncoderOutput(codes=self.quantizer.nearest(latents), latents=latents)
        return output if self._use_return_dict(return_dict) else output.to_tuple()

    def decode(
        self, codes: torch.Tensor, return_dict: bool | None = None, fast: bool = False
    ) -> ArchVQVAEDecoderOutput | tuple:
        """Graphs of a batch of codes ``[batch, code_length]`` (eval mode, no gradients).

        Returns an :class:`ArchVQVAEDecoderOutput`: ``adjacency`` (edges where the logit is > 0, allowed entries
        only), ``ops`` (argmax) and the logits. Raises ``ValueError`` for codes of the wrong shape, dtype or
        range (the processor checks untrusted code rows before they get here).

        ``fast=True`` runs the decoder in bfloat16 (``torch.autocast``, on CPU and CUDA) and decodes again in
        float32 every row with a decision within :data:`FAST_DECODE_MARGIN` of flipping, so the graphs are those of
        float32; the logits of the other rows are bfloat16's.
        """
        codes = _as_tensor("codes", codes, self.device)
        length, size = self.config.code_length, self.config.codebook_size
        if codes.ndim != 2 or codes.shape[1] != length:
            raise ValueError(f"codes must have shape [batch, {length}], got {list(codes.shape)}")
        if codes.dtype.is_floating_point or codes.dtype.is_complex or codes.dtype == torch.bool:
            raise ValueError(f"codes must be an integer tensor, got {codes.dtype}")
        if codes.numel() and (codes.min() < 0 or codes.max() >= size):
            low, high = codes.min().item(), codes.max().item()
            raise ValueError(f"codes must be in [0, {size}), got values in [{low}, {high}]")
        with self._inference():
            allowed = self._allowed(codes.device)
            quantized = self.quantizer.lookup(codes.long())
            if fast and codes.device.type in ("cpu", "cuda"):
                op_logits, adjacency_logits = self._fast_logits(quantized, allowed)
            else:
                op_logits, adjacency_logits = self.decoder(quantized, allowed)
            output = ArchVQVAEDecoderOutput(
                adjacency=((adjacency_logits > 0) & allowed).long(),
                ops=op_logits.argmax(-1),
                op_logits=op_logits,
                adjacency_logits=adjacency_logits,
            )
        return output if self._use_return_dict(return_dict) else output.to_tuple()

    # --- helpers --------------------------------------------------------------------------------------------
    def _fast_logits(
        self, quantized: torch.Tensor, allowed: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The decoder's logits in bfloat16, those of the rows near a decision recomputed in float32."""
        with torch.autocast(quantized.device.type, dtype=torch.bfloat16):
            op_logits, adjacency_logits = self.decoder(quantized, allowed)
        op_logits = op_logits.float()
        adjacency_logits = adjacency_logits.float().masked_fill(~allowed, torch.finfo(torch.float32).min)
        near = ((adjacency_logits.abs() < FAST_DECODE_MARGIN) & allowed).flatten(1).any(-1)
        if op_logits.shape[-1] > 1:
            best = op_logits.topk(2, dim=-1).values
            near |= (best[..., 0] - best[..., 1] < FAST_DECODE_MARGIN).any(-1)
        if near.any():
            op_logits[near], adjacency_logits[near] = self.decoder(quantized[near], allowed)
        return op_logits, adjacency_logits

    def _use_return_dict(self, return_dict: bool | None) -> bool:
        return return_dict if return_dict is not None else self.config.return_dict

    def _allowed(self, device: torch.device) -> torch.Tensor:
        if device not in self._allowed_cache:
            self._allowed_cache[device] = torch.tensor(
                self.config.adjacency_mask, dtype=torch.bool, device=device
            )
        return self._allowed_cache[device]

    @contextmanager
    def _inference(self) -> Iterator[None]:
        was_training = self.training
        self.eval()
        try:
            with torch.no_grad():
                yield
        finally:
            self.train(was_training)

    def _check_graphs(
        self, adjacency: Any, ops: Any, node_mask: Any
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Validated ``(adjacency long, ops long, node_mask bool)`` on the model's device, or ValueError."""
        n, num_ops = self.config.num_nodes, self.config.num_ops
        device = self.device
        ops = _as_tensor("ops", ops, device)
        adjacency = _as_tensor("adjacency", adjacency, device)
        if ops.ndim != 2 or ops.shape[1] != n:
            raise ValueError(f"ops must have shape [batch, {n}], got {list(ops.shape)}")
        batch = ops.shape[0]
        if adjacency.shape != (batch, n, n):
            raise ValueError(f"adjacency must have shape [{batch}, {n}, {n}], got {list(adjacency.shape)}")
        for name, tensor in (("ops", ops), ("adjacency", adjacency)):
            if tensor.dtype.is_floating_point or tensor.dtype.is_complex:
                raise ValueError(f"{name} must hold integers, got {tensor.dtype}")
        if ops.numel() and (ops.min() < 0 or ops.max() >= num_ops):
            low, high = ops.min().item(), ops.max().item()
            raise ValueError(f"op ids must be in [0, {num_ops}), got values in [{low}, {high}]")
        adjacency = adjacency.long()
        if ((adjacency != 0) & (adjacency != 1)).any():
            raise ValueError("adjacency entries must be 0 or 1")
        if (adjacency.bool() & ~self._allowed(device)).any():
            raise ValueError("adjacency has an edge outside config.adjacency_mask")
        if node_mask is None:
            node_mask = ops != 0
        else:
            node_mask = _as_tensor("node_mask", node_mask, device)
            if node_mask.shape != (batch, n):
                raise ValueError(f"node_mask must have shape [{batch}, {n}], got {list(node_mask.shape)}")
            node_mask = node_mask.bool()
        return adjacency, ops.long(), node_mask


# --- module helpers --------------------------------------------
def _as_tensor(name: str, value: Any, device: torch.device) -> torch.Tensor:
    try:
        return torch.as_tensor(value, device=device)
    except (TypeError, ValueError, RuntimeError, OverflowError) as err:  # ragged, non-numeric or huge values
        raise ValueError(f"{name} cannot be turned into a tensor: {err}") from None


def _distributed() -> bool:
    """Whether ``torch.distributed`` is initialised with more than one process (the quantizer then syncs)."""
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


__all__ = [
    "FAST_DECODE_MARGIN",
    "ArchVQVAEDecoderOutput",
    "ArchVQVAEEncoderOutput",
    "ArchVQVAEModel",
    "ArchVQVAEOutput",
    "ArchVQVAEPreTrainedModel",
]
