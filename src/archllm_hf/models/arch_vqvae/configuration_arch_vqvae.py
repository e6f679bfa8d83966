"""Configuration of ArchVQVAE, the VQ-VAE that maps NAS cells to fixed-length sequences of discrete codes.

Self-contained (only ``transformers`` and ``huggingface_hub`` imports) so that it can be shipped as remote
code. No ``from __future__ import annotations``: ``@strict`` checks field types from the real annotations.
"""

from dataclasses import field
from typing import Any, ClassVar

from huggingface_hub.dataclasses import strict
from transformers import PreTrainedConfig

_SIZE_FIELDS = (
    "hidden_size",
    "num_encoder_layers",
    "num_decoder_layers",
    "num_attention_heads",
    "code_dim",
    "codebook_size",
    "codes_per_node",
)
"""Layer counts and widths; each must be positive."""

_ARCHITECTURE_FIELDS = (
    "space",
    "space_kwargs",
    "num_nodes",
    "node_vocab",
    "adjacency_mask",
    *_SIZE_FIELDS,
    "num_graph_codes",
    "commitment_cost",
    "ema_decay",
    "ema_epsilon",
    "dead_code_threshold",
    "dropout",
    "initializer_range",
)


@strict
class ArchVQVAEConfig(PreTrainedConfig):
    r"""Configuration of :class:`ArchVQVAEModel`.

    The search-space knowledge the model needs lives here: the number of node slots, the node vocabulary and
    which adjacency entries may be non-zero. Build it from a search space with :meth:`for_space`.

    Args:
        space (`str`): name of the search space (``"nb101"``, ``"nb201"``, ``"darts"``); used to decode codes
            into cells with ``archllm_hf.spaces.get_space(space, **space_kwargs)``.
        space_kwargs (`dict`): constructor arguments of the space that change its encoding (DARTS:
            ``{"ops": "arch2vec"}``).
        num_nodes (`int`): node slots of the graph encoding.
        node_vocab (`list[str]`): node labels; ``node_vocab[0]`` must be ``"<pad>"`` (unused slot).
        adjacency_mask (`list[list[int]]`): ``num_nodes x num_nodes`` 0/1 matrix of the adjacency entries that
            may be non-zero; strictly upper triangular.
        hidden_size (`int`, defaults to 128): width of the encoder and decoder.
        num_encoder_layers (`int`, defaults to 4): GIN layers of the encoder.
        num_decoder_layers (`int`, defaults to 2): Transformer layers of the decoder.
        num_attention_heads (`int`, defaults to 4): attention heads of the decoder; must divide
            ``hidden_size``.
        code_dim (`int`, defaults to 64): dimension of the codebook vectors.
        codebook_size (`int`, defaults to 512): number of codebook vectors (distinct code ids).
        codes_per_node (`int`, defaults to 1): codes emitted for each node slot.
        num_graph_codes (`int`, defaults to 0): extra codes computed from the whole graph, appended after the
            node codes. The code sequence length is ``num_nodes * codes_per_node + num_graph_codes``
            (:attr:`code_length`).
        commitment_cost (`float`, defaults to 0.25): weight of the commitment loss.
        ema_decay (`float`, defaults to 0.99): decay of the exponential moving averages that update the
            codebook.
        ema_epsilon (`float`, defaults to 1e-5): Laplace smoothing of the EMA code counts.
        dead_code_threshold (`float`, defaults to 0.01): a code whose EMA count (assignments per training
            batch, smoothed) falls below this is re-initialised from the current encoder outputs; 0
            disables it.
        dropout (`float`, defaults to 0.1): dropout in the encoder and decoder.
        initializer_range (`float`, defaults to 0.02): std of the normal initialisation of linear and
            embedding weights.
    """

    model_type = "archllm_vqvae"
    keys_to_ignore_at_inference: ClassVar[list[str]] = [
        "codes",
        "perplexity",
        "op_logits",
        "adjacency_logits",
    ]

    space: str = ""
    space_kwargs: dict[str, Any] = field(default_factory=dict)
    num_nodes: int = 0
    node_vocab: list[str] = field(default_factory=list)
    adjacency_mask: list[list[int]] = field(default_factory=list)
    hidden_size: int = 128
    num_encoder_layers: int = 4
    num_decoder_layers: int = 2
    num_attention_heads: int = 4
    code_dim: int = 64
    codebook_size: int = 512
    codes_per_node: int = 1
    num_graph_codes: int = 0
    commitment_cost: float | int = 0.25
    ema_decay: float | int = 0.99
    ema_epsilon: float | int = 1e-5
    dead_code_threshold: float | int = 0.01
    dropout: float | int = 0.1
    initializer_range: float | int = 0.02

    @property
    def code_length(self) -> int:
        """Length of the code sequence of one cell: ``num_nodes * codes_per_node + num_graph_codes``."""
        return self.num_nodes * self.codes_per_node + self.num_graph_codes

    @property
    def num_ops(self) -> int:
        """Size of the node vocabulary (``<pad>`` included)."""
        return len(self.node_vocab)

    # --- validation (run by @strict after every construction) -----------------------------------------
    def validate_space_encoding(self) -> None:
        """``space``, ``num_nodes``, ``node_vocab`` and ``adjacency_mask`` describe a graph encoding."""
        if not self.space:
            raise ValueError(
                "ArchVQVAEConfig needs the search space: build it with ArchVQVAEConfig.for_space(space) "
                "or pass space=, num_nodes=, node_vocab= and adjacency_mask="
            )
        if self.num_nodes <= 0:
            raise ValueError(f"num_nodes must be positive, got {self.num_nodes}")
        if len(self.node_vocab) < 2 or self.node_vocab[0] != "<pad>":
            raise ValueError(
                f"node_vocab must start with '<pad>' and hold at least one label, got {self.node_vocab}"
            )
        if len(set(self.node_vocab)) != len(self.node_vocab):
            raise ValueError(f"node_vocab has duplicate labels: {self.node_vocab}")
        n = self.num_nodes
        lengths = [len(row) for row in self.adjacency_mask]
        if lengths != [n] * n:
            raise ValueError(
                f"adjacency_mask must be a {n}x{n} matrix (num_nodes={n}), "
                f"got {len(lengths)} rows of lengths {lengths}"
            )
        for i, row in enumerate(self.adjacency_mask):
            for j, value in enumerate(row):
                if value not in (0, 1):
                    raise ValueError(f"adjacency_mask entries must be 0 or 1, got {value!r} at ({i}, {j})")
                if value and j <= i:
                    raise ValueError(f"adjacency_mask must be strictly upper triangular, got 1 at ({i}, {j})")

    def validate_sizes(self) -> None:
        """Layer counts and widths are positive and consistent."""
        for name in _SIZE_FIELDS:
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive, got {getattr(self, name)}")
        if self.num_graph_codes < 0:
            raise ValueError(f"num_graph_codes must be >= 0, got {self.num_graph_codes}")
        if self.hidden_size % self.num_attention_heads:
            raise ValueError(
                f"hidden_size ({self.hidden_size}) must be divisible by "
                f"num_attention_heads ({self.num_attention_heads})"
            )

    def validate_quantizer(self) -> None:
        """Loss weight, EMA and dropout hyper-parameters are in range."""
        if self.commitment_cost < 0:
            raise ValueError(f"commitment_cost must be >= 0, got {self.commitment_cost}")
        if not 0 <= self.ema_decay < 1:
            raise ValueError(f"ema_decay must be in [0, 1), got {self.ema_decay}")
        if self.ema_epsilon <= 0:
            raise ValueError(f"ema_epsilon must be positive, got {self.ema_epsilon}")
        if not 0 <= self.dead_code_threshold < 1:
            raise ValueError(
                f"dead_code_threshold must be in [0, 1) (re-initialised codes restart at count 1), "
                f"got {self.dead_code_threshold}"
            )
        if not 0 <= self.dropout < 1:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")
        if self.initializer_range <= 0:
            raise ValueError(f"initializer_range must be positive, got {self.initializer_range}")

    # --- construction and serialisation ----------------------------------------------------------
    @classmethod
    def for_space(cls, space: Any, **overrides: Any) -> "ArchVQVAEConfig":
        """Config for a ``archllm_hf.spaces.SearchSpace`` object; ``overrides`` set any other field.

        ``space_kwargs`` defaults to the space's ``space_kwargs`` (what rebuilds it with ``get_space``).
        """
        for name in ("name", "num_nodes", "node_vocab", "adjacency_mask"):
            if not hasattr(space, name):
                raise TypeError(f"for_space needs a SearchSpace, got {type(space).__name__} without {name!r}")
        clashes = {"space", "num_nodes", "node_vocab", "adjacency_mask"} & set(overrides)
        if clashes:
            raise TypeError(f"for_space takes {sorted(clashes)} from the space; do not pass them")
        if "space_kwargs" not in overrides:
            overrides["space_kwargs"] = dict(getattr(space, "space_kwargs", None) or {})
        mask = space.adjacency_mask()
        mask = mask.tolist() if hasattr(mask, "tolist") else mask
        return cls(
            space=str(space.name),
            num_nodes=int(space.num_nodes),
            node_vocab=[str(label) for label in space.node_vocab],
            adjacency_mask=[[int(bool(value)) for value in row] for row in mask],
            **overrides,
        )

    def to_diff_dict(self) -> dict[str, Any]:
        """Like the base method, but always writes every architecture field, so that a saved
        ``config.json`` does not depend on the defaults of the code that reads it."""
        serialized = super().to_diff_dict()
        for name in _ARCHITECTURE_FIELDS:
            serialized[name] = getattr(self, name)
        return serialized


__all__ = ["ArchVQVAEConfig"]
