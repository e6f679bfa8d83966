"""arch2vec's variational graph autoencoder as a ``transformers`` model (the baseline the VQ-VAE must beat).

Written from arch2vec's published protocol (Yan et al., NeurIPS 2020), not from its code:

* **Encoder**: one-hot node labels through ``num_gin_layers`` GIN layers over the symmetrised adjacency
  ``A + triu(A, 1)ᵀ`` (arch2vec's "method 4"); each layer is ``relu(BN(MLP((1 + eps) x + Â x)))`` with a
  learnable ``eps`` and a 2-layer MLP (``Linear → BN → ReLU → Linear``, as in GIN). Per node, linear heads
  give ``mu`` and ``logvar`` (``latent_dim`` each).
* **Reparameterisation**: ``z = mu + exp(logvar) · ε`` in training, ``z = mu`` otherwise. As in arch2vec,
  ``exp(logvar)`` is used as the *standard deviation*, so ``logvar`` is really a log-std.
* **Decoder**: dropout on ``z`` (training only), op logits ``Linear(z)`` over ``node_vocab`` and edge logits
  ``z zᵀ``; arch2vec's probabilities are their ``sigmoid``. :meth:`Arch2VecModel.forward` returns the logits
  (``op_logits``, ``adjacency_logits``), like the VQ-VAE.
* **Loss** = ops BCE + adjacency BCE + KL, each exactly as arch2vec scales it:

  - ops: mean BCE over ``B × N × num_labels_out`` against one-hot labels;
  - adjacency: arch2vec takes ``triu(1)`` of prediction and target and averages BCE over the *full* ``N × N``
    matrix. Entries off the strict upper triangle are then 0 vs 0 and add nothing, so this is the BCE summed
    over the strict upper triangle divided by ``B × N²`` (computed that way here, from logits);
  - KL: ``-0.5 / (B·N) · mean_{b,n} Σ_d (1 + 2 logvar − mu² − exp(logvar)²)``: the KL of
    ``N(mu, exp(logvar)²)`` from ``N(0, 1)``, averaged per node, and divided once more by ``B·N``
    (so its weight shrinks as the batch grows).

One-hot layout: with ``config.zero_pad_rows`` (arch2vec's, what ``archllm_hf.training.vgae`` trains by default)
``<pad>`` has no column: an unused slot (NB101 cells with fewer than 7 vertices) is an all-zero row of the input
and of the op targets, and the op head covers the real labels only. Without it (the package's earlier layout,
kept for saved models), ``<pad>`` is a label of its own: a decoded graph can say "unused slot", and for NB201 and
DARTS, which never pad, the always-zero ``<pad>`` column dilutes the ops-BCE mean by ``C / (C + 1)``.

Deviations from arch2vec (all small, see also the training module):

* BCE is computed from logits (``binary_cross_entropy_with_logits``) rather than ``BCELoss`` on sigmoid
  outputs: the same value except where arch2vec's ``log`` clamp at -100 would kick in;
* ``initializer_range=None`` (default) keeps PyTorch's default ``nn.Linear`` init, as arch2vec.

Sampling as arch2vec: ``z ~ N(0, I)`` of shape ``[num_nodes, latent_dim]``, rescaled element-wise by the std
and mean (over cells) of the training-set posterior means. Those statistics are buffers of the model
(``latent_mean``, ``latent_std``, ``num_posterior_cells``), so they are saved and loaded with it.
"""

import itertools
import logging
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import nn
from transformers import PreTrainedModel
from transformers import initialization as init
from transformers.utils import ModelOutput

from .configuration_arch2vec import Arch2VecConfig

logger = logging.getLogger(__name__)


# --- outputs ------------------------------------------------------------------------------------------------
@dataclass
class Arch2VecOutput(ModelOutput):
    """Output of :meth:`Arch2VecModel.forward`, laid out like the VQ-VAE's ``ArchVQVAEOutput``.

    Args:
        loss: ``op_loss + adjacency_loss + kl_loss`` (None when ``return_loss=False``).
        op_loss: BCE of the op logits against one-hot labels (arch2vec's scaling, see the module docstring).
        adjacency_loss: BCE of the strict upper triangle, scaled as arch2vec (see the module docstring).
        kl_loss: arch2vec's KL term.
        op_logits: ``[B, N, config.num_labels_out]`` op logits (``sigmoid`` gives arch2vec's op probabilities; without
            ``<pad>`` under ``zero_pad_rows``).
        adjacency_logits: ``[B, N, N]`` edge logits ``z zᵀ`` (the full matrix; only ``i < j`` is used).
        mu: posterior means ``[B, N, latent_dim]``.
        logvar: posterior log-std (arch2vec's "logvar") ``[B, N, latent_dim]``.
    """

    loss: torch.FloatTensor | None = None
    op_loss: torch.FloatTensor | None = None
    adjacency_loss: torch.FloatTensor | None = None
    kl_loss: torch.FloatTensor | None = None
    op_logits: torch.FloatTensor | None = None
    adjacency_logits: torch.FloatTensor | None = None
    mu: torch.FloatTensor | None = None
    logvar: torch.FloatTensor | None = None


# --- blocks -------------------------------------------------------------------------------------------------
class Arch2VecMLP(nn.Module):
    """GIN's 2-layer MLP: ``Linear → BatchNorm → ReLU → Linear`` on flattened node features."""

    def __init__(self, in_features: int, hidden_size: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(in_features, hidden_size)
        self.norm = nn.BatchNorm1d(hidden_size)
        self.fc2 = nn.Linear(hidden_size, hidden_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(F.relu(self.norm(self.fc1(x))))


class Arch2VecGINLayer(nn.Module):
    """One GIN layer: ``relu(BN(MLP((1 + eps) · x + Â x)))`` with ``Â`` the symmetrised adjacency."""

    def __init__(self, in_features: int, hidden_size: int) -> None:
        super().__init__()
        self.eps = nn.Parameter(torch.zeros(()))
        self.mlp = Arch2VecMLP(in_features, hidden_size)
        self.norm = nn.BatchNorm1d(hidden_size)

    def forward(self, x: torch.Tensor, adjacency: torch.Tensor) -> torch.Tensor:
        batch, nodes, _ = x.shape
        aggregated = (1 + self.eps) * x + torch.matmul(adjacency, x)
        hidden = self.mlp(aggregated.reshape(batch * nodes, -1))
        return F.relu(self.norm(hidden)).reshape(batch, nodes, -1)


class Arch2VecEncoder(nn.Module):
    """GIN stack and per-node ``mu`` / ``logvar`` heads."""

    def __init__(self, config: Arch2VecConfig) -> None:
        super().__init__()
        sizes = [config.num_labels_out] + [config.hidden_size] * config.num_gin_layers
        self.layers = nn.ModuleList(Arch2VecGINLayer(a, b) for a, b in itertools.pairwise(sizes))
        self.mu = nn.Linear(config.hidden_size, config.latent_dim)
        self.logvar = nn.Linear(config.hidden_size, config.latent_dim)

    def forward(self, features: torch.Tensor, adjacency: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = features
        for layer in self.layers:
            x = layer(x, adjacency)
        return self.mu(x), self.logvar(x)


class Arch2VecDecoder(nn.Module):
    """Op logits ``Linear(z)`` and edge logits ``z zᵀ`` (dropout on ``z`` first, when asked)."""

    def __init__(self, config: Arch2VecConfig) -> None:
        super().__init__()
        self.dropout = nn.Dropout(config.dropout)
        self.ops = nn.Linear(config.latent_dim, config.num_labels_out)

    def forward(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        z = self.dropout(z)
        return self.ops(z), torch.matmul(z, z.transpose(-1, -2))


# --- base ---------------------------------------------------------------------------------------------------
class Arch2VecPreTrainedModel(PreTrainedModel):
    """Weight initialisation and loading glue of the arch2vec VGAE."""

    config: Arch2VecConfig
    config_class = Arch2VecConfig
    base_model_prefix = "arch2vec"
    main_input_name = "ops"
    supports_gradient_checkpointing = False
    _no_split_modules: ClassVar[list[str]] = []

    @torch.no_grad()
    def _init_weights(self, module: nn.Module) -> None:
        std = self.config.initializer_range
        if isinstance(module, nn.Linear):
            if std is None:  # PyTorch's default nn.Linear init (what arch2vec trains from)
                bound = 1.0 / math.sqrt(module.in_features)
                init.uniform_(module.weight, -bound, bound)
                if module.bias is not None:
                    init.uniform_(module.bias, -bound, bound)
            else:
                init.normal_(module.weight, mean=0.0, std=std)
                if module.bias is not None:
                    init.zeros_(module.bias)
        elif isinstance(module, nn.BatchNorm1d):
            init.ones_(module.weight)
            init.zeros_(module.bias)
            init.zeros_(module.running_mean)
            init.ones_(module.running_var)
            init.zeros_(module.num_batches_tracked)
        elif isinstance(module, Arch2VecGINLayer):
            init.zeros_(module.eps)
        elif isinstance(module, Arch2VecModel):
            init.zeros_(module.latent_mean)
            init.ones_(module.latent_std)
            init.zeros_(module.num_posterior_cells)


# --- model --------------------------------------------------------------------------------------------------
class Arch2VecModel(Arch2VecPreTrainedModel):
    """arch2vec's VGAE: GIN encoder to a per-node Gaussian latent, inner-product decoder (module docstring).

    Inputs use the same names as the project's VQ-VAE, so ``collate_graphs`` serves both: ``adjacency``
    ``[B, N, N]`` long (edge ``i → j`` only for ``i < j``), ``ops`` ``[B, N]`` ids into ``config.node_vocab``
    (0 = ``<pad>``), ``node_mask`` ``[B, N]`` bool.
    """

    def __init__(self, config: Arch2VecConfig) -> None:
        super().__init__(config)
        self.encoder = Arch2VecEncoder(config)
        self.decoder = Arch2VecDecoder(config)
        shape = (config.num_nodes, config.latent_dim)
        self.register_buffer("latent_mean", torch.zeros(shape))
        self.register_buffer("latent_std", torch.ones(shape))
        self.register_buffer("num_posterior_cells", torch.zeros((), dtype=torch.long))
        self.post_init()

    # --- encoding ------------------------------------------------------------------------------------------
    def _check_inputs(self, adjacency: torch.Tensor, ops: torch.Tensor) -> None:
        n, vocab = self.config.num_nodes, len(self.config.node_vocab)
        if ops.dim() != 2 or ops.shape[1] != n:
            raise ValueError(f"ops must have shape [batch, {n}], got {list(ops.shape)}")
        if adjacency.shape != (ops.shape[0], n, n):
            raise ValueError(
                f"adjacency must have shape [{ops.shape[0]}, {n}, {n}], got {list(adjacency.shape)}"
            )
        if ops.dtype.is_floating_point or adjacency.dtype.is_floating_point:
            raise TypeError("adjacency and ops must be integer tensors (ops are ids into config.node_vocab)")
        if ops.numel() and (int(ops.min()) < 0 or int(ops.max()) >= vocab):
            raise ValueError(
                f"op ids must be in [0, {vocab}) (config.node_vocab), got {int(ops.min())}..{int(ops.max())}"
            )

    def _one_hot(self, ops: torch.Tensor) -> torch.Tensor:
        """One-hot labels ``[B, N, num_labels_out]``; with ``zero_pad_rows`` a ``<pad>`` slot is all zeros."""
        one_hot = F.one_hot(ops, len(self.config.node_vocab))
        return one_hot[..., 1:] if self.config.zero_pad_rows else one_hot

    def encode(self, adjacency: torch.Tensor, ops: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Posterior ``(mu, logvar)``, each ``[B, N, latent_dim]``. BatchNorm follows ``self.training``."""
        self._check_inputs(adjacency, ops)
        features = self._one_hot(ops).to(self.latent_mean.dtype)
        upper = adjacency.to(features.dtype).triu(1)
        symmetric = upper + upper.transpose(-1, -2)  # arch2vec's "method 4"
        return self.encoder(features, symmetric)

    def encode_mean(
        self, adjacency: torch.Tensor, ops: torch.Tensor, node_mask: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Posterior means ``[B, N, latent_dim]`` (arch2vec's embedding; call ``eval()`` first for inference).

        ``node_mask`` is accepted for interface parity with the VQ-VAE and ignored: unused slots are ``<pad>``
        nodes, which arch2vec encodes like any other node.
        """
        return self.encode(adjacency, ops)[0]

    def reparameterize(self, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
        """``mu + exp(logvar) · ε`` in training (``exp(logvar)`` is the std, as arch2vec); else ``mu``."""
        if not self.training:
            return mu
        return mu + torch.exp(logvar) * torch.randn_like(mu)

    # --- decoding ------------------------------------------------------------------------------------------
    def decode_logits(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Op logits ``[B, N, num_labels_out]`` and edge logits ``[B, N, N]`` (with dropout if training)."""
        return self.decoder(z)

    @torch.no_grad()
    def decode(self, z: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Graphs from latents ``[B, N, latent_dim]`` (or one ``[N, latent_dim]``), without dropout.

        Returns ``adjacency`` ``[B, N, N]`` long (``sigmoid > 0.5`` on the strict upper triangle, every entry,
        as arch2vec: not masked to the space's allowed entries) and ``ops`` ``[B, N]`` (argmax label ids).
        """
        if z.dim() == 2:
            z = z.unsqueeze(0)
        n, d = self.config.num_nodes, self.config.latent_dim
        if z.dim() != 3 or z.shape[1:] != (n, d):
            raise ValueError(f"z must have shape [batch, {n}, {d}] or [{n}, {d}], got {list(z.shape)}")
        z = z.to(device=self.latent_mean.device, dtype=self.latent_mean.dtype)
        op_logits = self.decoder.ops(z)
        edge_logits = torch.matmul(z, z.transpose(-1, -2))
        adjacency = (edge_logits > 0).long().triu(1)  # sigmoid(x) > 0.5  <=>  x > 0
        return adjacency, op_logits.argmax(-1) + int(self.config.zero_pad_rows)

    # --- sampling ------------------------------------------------------------------------------------------
    @property
    def has_posterior_stats(self) -> bool:
        """Whether :meth:`posterior_stats` has stored the training-set statistics used by :meth:`sample`."""
        return int(self.num_posterior_cells) > 0

    def sample_latents(self, num_samples: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``num_samples`` latents ``[S, N, latent_dim]``: ``N(0, I)`` draws scaled by ``latent_std`` and
        shifted by ``latent_mean`` (arch2vec's aggregate-posterior Gaussian). Draws happen on the generator's
        device (CPU by default), so a seed gives the same latents on every device."""
        if num_samples < 0:
            raise ValueError(f"num_samples must be >= 0, got {num_samples}")
        if not self.has_posterior_stats:
            logger.warning("posterior statistics were never computed; sampling from N(0, I) instead")
        device = generator.device if generator is not None else torch.device("cpu")
        shape = (num_samples, self.config.num_nodes, self.config.latent_dim)
        noise = torch.randn(shape, generator=generator, device=device, dtype=torch.float32)
        noise = noise.to(device=self.latent_std.device, dtype=self.latent_std.dtype)
        return noise * self.latent_std + self.latent_mean

    @torch.no_grad()
    def sample(
        self, num_samples: int, generator: torch.Generator | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Sample ``num_samples`` graphs as arch2vec does: :meth:`sample_latents`, then :meth:`decode`."""
        return self.decode(self.sample_latents(num_samples, generator))

    @torch.no_grad()
    def posterior_stats(
        self, batches: Iterable[Mapping[str, torch.Tensor]], store: bool = True
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Element-wise mean and (unbiased) std over cells of the posterior means ``mu`` ``[N, latent_dim]``.

        ``batches`` yields mappings with ``adjacency`` and ``ops`` (e.g. ``collate_graphs`` output) of the
        training set. The encoder runs in eval mode. With ``store`` the result becomes ``latent_mean`` /
        ``latent_std`` (and ``num_posterior_cells``), which :meth:`sample` uses and ``save_pretrained`` keeps.
        """
        was_training = self.training
        self.eval()
        total = torch.zeros(self.latent_mean.shape, dtype=torch.float64, device=self.latent_mean.device)
        squares = torch.zeros_like(total)
        count = 0
        try:
            for batch in batches:
                adjacency = batch["adjacency"].to(self.latent_mean.device).long()
                ops = batch["ops"].to(self.latent_mean.device).long()
                mu = self.encode(adjacency, ops)[0].double()
                total += mu.sum(0)
                squares += (mu * mu).sum(0)
                count += mu.shape[0]
        finally:
            self.train(was_training)
        return self.stats_from_sums(total, squares, count, store=store)

    @torch.no_grad()
    def stats_from_sums(
        self, total: torch.Tensor, squares: torch.Tensor, count: int, store: bool = True
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Element-wise mean and (unbiased) std of ``count`` posterior means given their sum ``total`` and sum of
        squares ``squares`` (each ``[N, latent_dim]``, float64 preferred); with ``store`` they become the
        sampling statistics (``latent_mean``, ``latent_std``, ``num_posterior_cells``).

        :meth:`posterior_stats` sums one eval-mode pass; arch2vec sums the ``mu`` of its last training epoch's
        forward passes instead (``archllm_hf.training.vgae`` does that), and both end here."""
        shape = tuple(self.latent_mean.shape)
        if tuple(total.shape) != shape or tuple(squares.shape) != shape:
            raise ValueError(
                f"total and squares must have shape {list(shape)}, got {list(total.shape)} and {list(squares.shape)}"
            )
        if count < 2:
            raise ValueError(f"posterior statistics need at least 2 cells, got {count}")
        total, squares = total.double(), squares.double()
        mean = total / count
        var = ((squares - count * mean * mean) / (count - 1)).clamp_min(0.0)
        mean, std = mean.to(self.latent_mean.dtype), var.sqrt().to(self.latent_std.dtype)
        if store:
            self.latent_mean.copy_(mean.to(self.latent_mean.device))
            self.latent_std.copy_(std.to(self.latent_std.device))
            self.num_posterior_cells.fill_(count)
        return mean, std

    # --- training ------------------------------------------------------------------------------------------
    def forward(
        self,
        adjacency: torch.Tensor,
        ops: torch.Tensor,
        node_mask: torch.Tensor | None = None,
        return_loss: bool = True,
        return_dict: bool | None = None,
    ) -> Arch2VecOutput | tuple[torch.Tensor, ...]:
        """Encode, reparameterise, decode, and (with ``return_loss``) compute arch2vec's loss.

        Args:
            adjacency: ``[batch, num_nodes, num_nodes]`` integer edges ``i → j`` (only ``i < j`` is read).
            ops: ``[batch, num_nodes]`` ids into ``config.node_vocab`` (0 = ``<pad>``).
            node_mask: accepted so the VQ-VAE's data collator can be reused, and ignored (see
                :meth:`encode_mean`): as in arch2vec, every slot counts in the loss.
            return_loss: compute the losses (the ``Trainer`` reads this to report ``eval_loss``).
            return_dict: return an :class:`Arch2VecOutput` (default: ``config.return_dict``) or a tuple of
                its non-None fields, the loss first.
        """
        mu, logvar = self.encode(adjacency, ops)
        z = self.reparameterize(mu, logvar)
        op_logits, adjacency_logits = self.decode_logits(z)
        loss = op_loss = adjacency_loss = kl_loss = None
        if return_loss:
            op_loss, adjacency_loss, kl_loss = self.loss_terms(
                op_logits, adjacency_logits, mu, logvar, adjacency, ops
            )
            loss = op_loss + adjacency_loss + kl_loss
        output = Arch2VecOutput(  # built in one go so that ``loss`` is the first key (and tuple entry)
            loss=loss,
            op_loss=op_loss,
            adjacency_loss=adjacency_loss,
            kl_loss=kl_loss,
            op_logits=op_logits,
            adjacency_logits=adjacency_logits,
            mu=mu,
            logvar=logvar,
        )
        return_dict = return_dict if return_dict is not None else self.config.return_dict
        return output if return_dict else output.to_tuple()

    def loss_terms(
        self,
        op_logits: torch.Tensor,
        edge_logits: torch.Tensor,
        mu: torch.Tensor,
        logvar: torch.Tensor,
        adjacency: torch.Tensor,
        ops: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(op_loss, adjacency_loss, kl_loss)`` scaled exactly as arch2vec (see the module docstring)."""
        batch, n = ops.shape
        targets = self._one_hot(ops).to(op_logits.dtype)
        op_loss = F.binary_cross_entropy_with_logits(op_logits, targets)
        upper = torch.ones(n, n, dtype=torch.bool, device=edge_logits.device).triu(1)
        edge_bce = F.binary_cross_entropy_with_logits(
            edge_logits[:, upper], adjacency[:, upper].to(edge_logits.dtype), reduction="sum"
        )
        adjacency_loss = edge_bce / (batch * n * n)
        per_node = torch.sum(1 + 2 * logvar - mu.pow(2) - torch.exp(logvar).pow(2), dim=-1)
        kl_loss = -0.5 / (batch * n) * per_node.mean()
        return op_loss, adjacency_loss, kl_loss


__all__ = [
    "Arch2VecDecoder",
    "Arch2VecEncoder",
    "Arch2VecGINLayer",
    "Arch2VecMLP",
    "Arch2VecModel",
    "Arch2VecOutput",
    "Arch2VecPreTrainedModel",
]
