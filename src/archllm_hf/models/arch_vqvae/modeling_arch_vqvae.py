"""ArchVQVAE: a VQ-VAE mapping the fixed-size graph encoding of a NAS cell to a fixed-length code sequence.

* Encoder: op embeddings plus node-slot embeddings, then GIN layers passing messages along edges in both
  directions, then a projection to ``codes_per_node`` latent vectors per node slot (and ``num_graph_codes``
  more from the pooled graph).
* Quantizer: nearest codebook vector, codebook learned by exponential moving averages (EMA) with dead-code
  restarts from the current encoder outputs, commitment loss and straight-through gradients.
* Decoder: a small Transformer over the quantized sequence (learned positions), then per-node op logits and
  pairwise adjacency logits restricted to the entries the space allows.

Self-contained (torch, transformers and the sibling config only) so that it can be shipped as remote code; the
search-space package is imported lazily, and only by the methods that work with cells.
"""

from __future__ import annotations

import importlib
import math
import operator
from collections.abc import Iterable, Iterator, Mapping, Sequence
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
    each latent to its nearest code and (3) updates the EMA counts, sums and codebook. The statistics are
    all-reduced, and the restart candidates broadcast from rank 0, when ``torch.distributed`` is initialised,
    so every rank keeps the same codebook. In eval mode nothing changes. The codebook and EMA statistics are
    buffers (saved with the weights, never touched by the optimizer).
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
        if self.training and flat.shape[0] > 0:
            self._restart_dead_codes(flat.detach().float())
        codes = self.nearest(flat)
        quantized = self.lookup(codes).to(flat.dtype)
        if self.training and flat.shape[0] > 0:
            self._update_ema(flat.detach().float(), codes)
        commitment = self.commitment_cost * F.mse_loss(flat, quantized.detach()) if return_loss else None
        straight_through = flat + (quantized - flat).detach()
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
    def _restart_dead_codes(self, flat: torch.Tensor) -> None:
        dead = (self.ema_count < self.dead_code_threshold) | (self.ema_count.sum() == 0)
        candidates = flat[torch.randint(flat.shape[0], (self.codebook_size,), device=flat.device)]
        if _distributed():
            dist.broadcast(candidates, src=0)
        self.codebook.copy_(torch.where(dead[:, None], candidates, self.codebook))
        self.ema_weight.copy_(torch.where(dead[:, None], candidates, self.ema_weight))
        self.ema_count.copy_(torch.where(dead, torch.ones_like(self.ema_count), self.ema_count))

    @torch.no_grad()
    def _update_ema(self, flat: torch.Tensor, codes: torch.Tensor) -> None:
        counts = torch.bincount(codes, minlength=self.codebook_size).to(flat.dtype)
        sums = torch.zeros(self.codebook_size, self.code_dim, device=flat.device, dtype=flat.dtype)
        sums.index_add_(0, codes, flat)
        if _distributed():
            dist.all_reduce(counts)
            dist.all_reduce(sums)
        self.ema_count.mul_(self.decay).add_(counts, alpha=1 - self.decay)
        self.ema_weight.mul_(self.decay).add_(sums, alpha=1 - self.decay)
        total = self.ema_count.sum()
        smoothed = (self.ema_count + self.epsilon) / (total + self.codebook_size * self.epsilon) * total
        self.codebook.copy_(self.ema_weight / smoothed[:, None])


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

    Tensor API: :meth:`forward` (training), :meth:`encode`, :meth:`decode_graphs`. Cell API (needs the
    ``archllm-hf`` package for the search space): :meth:`encode_cells`, :meth:`decode` (never raises on bad
    codes).
    """

    def __init__(self, config: ArchVQVAEConfig):
        super().__init__(config)
        self.encoder = ArchVQVAEEncoder(config)
        self.quantizer = ArchVQVAEVectorQuantizer(config)
        self.decoder = ArchVQVAEDecoder(config)
        self._allowed_cache: dict[torch.device, torch.Tensor] = {}
        self._has_allowed_edges = any(map(any, config.adjacency_mask))
        self._space: Any = None
        self.post_init()

    # --- tensor API --------------------------------------------------------------------------------------
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
        return_dict = return_dict if return_dict is not None else self.config.return_dict
        return output if return_dict else output.to_tuple()

    def encode(
        self, adjacency: torch.Tensor, ops: torch.Tensor, node_mask: torch.Tensor | None = None
    ) -> torch.LongTensor:
        """Codes ``[batch, code_length]`` of a batch of graphs (eval mode, no EMA update, no gradients)."""
        with self._inference():
            adjacency, ops, node_mask = self._check_graphs(adjacency, ops, node_mask)
            return self.quantizer.nearest(self.encoder(adjacency, ops, node_mask))

    def decode_graphs(self, codes: torch.Tensor) -> tuple[torch.LongTensor, torch.LongTensor]:
        """Graphs of a batch of codes: ``adjacency [B, N, N]`` (edges where the logit is > 0, allowed entries
        only) and ``ops [B, N]`` (argmax). Raises ``ValueError`` for codes of the wrong shape, dtype or range;
        use :meth:`decode` for untrusted input."""
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
            op_logits, adjacency_logits = self.decoder(self.quantizer.lookup(codes.long()), allowed)
            adjacency = ((adjacency_logits > 0) & allowed).long()
            return adjacency, op_logits.argmax(-1)

    # --- cell API -------------------------------------------------------------------------------------------
    @property
    def space(self) -> Any:
        """The search space of ``config.space`` (needs the ``archllm-hf`` package)."""
        if self._space is None:
            self._space = _load_space(self.config)
        return self._space

    def encode_cells(self, cells: Sequence[Any]) -> torch.LongTensor:
        """Codes ``[len(cells), code_length]`` of cells of the model's space (invalid cells raise the space's
        ``InvalidCellError``)."""
        graphs_to_tensors = _package_attr("archllm_hf.codes", "graphs_to_tensors")
        return self.encode(**graphs_to_tensors(self.space, list(cells)))

    def decode(self, codes: Any, batch_size: int = 4096) -> list[Any]:
        """Cells (``archllm_hf.spaces.DecodedCell``) of code sequences; never raises on bad codes.

        ``codes`` is a 2-D batch (tensor, array or nested lists; rows may be ragged) or one 1-D sequence. Rows
        of the wrong length, with non-integers or codes outside ``[0, codebook_size)`` come back invalid with
        the reason, and so do graphs the space rejects. An empty list gives an empty list.
        """
        decoded_cell = _package_attr("archllm_hf.spaces", "DecodedCell")
        space = self.space
        parsed = [
            _check_code_row(row, self.config.code_length, self.config.codebook_size)
            for row in _code_rows(codes)
        ]
        results: list[Any] = [
            None if ok is not None else decoded_cell(None, False, reason) for ok, reason in parsed
        ]
        good = [i for i, (ok, _) in enumerate(parsed) if ok is not None]
        for start in range(0, len(good), batch_size):
            rows = good[start : start + batch_size]
            adjacency, ops = self.decode_graphs(torch.tensor([parsed[i][0] for i in rows], dtype=torch.long))
            adjacency, ops = adjacency.cpu().numpy(), ops.cpu().numpy()
            for k, i in enumerate(rows):
                results[i] = space.decode_graph(adjacency[k], ops[k])
        return results

    # --- helpers --------------------------------------------------------------------------------------------
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


# --- helpers for untrusted codes and the lazily imported package --------------------------------------------
def _as_tensor(name: str, value: Any, device: torch.device) -> torch.Tensor:
    try:
        return torch.as_tensor(value, device=device)
    except (TypeError, ValueError, RuntimeError, OverflowError) as err:  # ragged, non-numeric or huge values
        raise ValueError(f"{name} cannot be turned into a tensor: {err}") from None


def _distributed() -> bool:
    return dist.is_available() and dist.is_initialized()


def _is_scalar(value: Any) -> bool:
    if isinstance(value, (str, bytes)):
        return False
    if getattr(value, "ndim", None) == 0:
        return True
    return not isinstance(value, Iterable)


def _code_rows(codes: Any) -> list[Any]:
    """Rows of a batch of code sequences as given; anything that is no batch becomes one (bad) row."""
    ndim = getattr(codes, "ndim", None)
    if isinstance(ndim, int) and hasattr(codes, "tolist"):  # torch tensor or numpy array
        if ndim == 1:
            return [codes.tolist()]  # tolist keeps floats and bools recognisable as such
        if ndim == 2:
            return codes.tolist()
        return [codes]
    if isinstance(codes, (str, bytes, Mapping)) or not isinstance(codes, Iterable):
        return [codes]
    items = list(codes)
    if items and all(_is_scalar(item) for item in items):
        return [items]
    return items


def _check_code_row(row: Any, code_length: int, codebook_size: int) -> tuple[list[int] | None, str | None]:
    """``(codes, None)`` for a well-formed row, else ``(None, reason)``."""
    if isinstance(row, (str, bytes)):
        return None, f"a code sequence must hold integers, got a {type(row).__name__} (parse code text first)"
    ndim = getattr(row, "ndim", None)
    if isinstance(ndim, int) and hasattr(row, "tolist"):
        if ndim != 1:
            return None, f"a code sequence must be 1-D, got shape {list(getattr(row, 'shape', ()))}"
        row = row.tolist()
    elif isinstance(row, Mapping) or not isinstance(row, Iterable):
        return None, f"a code sequence must be a sequence of integers, got {type(row).__name__}"
    values = []
    for position, value in enumerate(row):
        if isinstance(value, bool) or "bool" in type(value).__name__:
            return None, f"code at position {position} is a boolean, not an integer"
        try:
            values.append(operator.index(value))
        except TypeError:
            return None, f"code at position {position} is not an integer: {value!r} ({type(value).__name__})"
    if len(values) != code_length:
        return None, f"expected {code_length} codes, got {len(values)}"
    for position, value in enumerate(values):
        if not 0 <= value < codebook_size:
            return None, f"code {value} at position {position} is outside the codebook [0, {codebook_size})"
    return values, None


def _package_attr(module: str, name: str) -> Any:
    """``name`` from an ``archllm_hf`` module, or an ImportError saying the package is needed."""
    try:
        return getattr(importlib.import_module(module), name)
    except ImportError as err:
        raise ImportError(
            f"ArchVQVAEModel needs the archllm-hf package (pip install archllm-hf) to work with cells; "
            f"importing {module} failed: {err}. The tensor API (forward, encode, decode_graphs) works "
            "without it."
        ) from err


def _load_space(config: ArchVQVAEConfig) -> Any:
    """The config's search space, checked against the graph encoding stored in the config."""
    get_space = _package_attr("archllm_hf.spaces", "get_space")
    space = get_space(config.space, **dict(config.space_kwargs))
    mask = space.adjacency_mask().tolist()
    expected = (config.num_nodes, list(config.node_vocab), config.adjacency_mask)
    actual = (space.num_nodes, list(space.node_vocab), [[int(bool(v)) for v in row] for row in mask])
    if actual != expected:
        raise ValueError(
            f"the search space {space!r} (from config.space={config.space!r}, "
            f"space_kwargs={config.space_kwargs}) does not match the graph encoding the model was built for "
            "(num_nodes, node_vocab or adjacency_mask differ); the model cannot decode into this space"
        )
    return space


__all__ = ["ArchVQVAEModel", "ArchVQVAEOutput", "ArchVQVAEPreTrainedModel"]
