"""Configuration of the arch2vec variational graph autoencoder (the baseline generator).

Self-contained (only ``transformers`` and ``huggingface_hub``), so the folder can ship as Hub remote code.
"""

from typing import Any

from huggingface_hub.dataclasses import strict
from transformers import PreTrainedConfig

# The defaults describe arch2vec's NAS-Bench-201 setting: 8 nodes (input, the 6 edge ops, output), a fixed
# adjacency template, and the node labels of ``archllm_hf.spaces.nb201`` (``<pad>`` first). Build configs for
# other spaces with :meth:`Arch2VecConfig.for_space`.
_NB201_VOCAB = [
    "<pad>",
    "input",
    "none",
    "skip_connect",
    "nor_conv_1x1",
    "nor_conv_3x3",
    "avg_pool_3x3",
    "output",
]
_NB201_EDGES = ((0, 1), (0, 2), (0, 4), (1, 3), (1, 5), (2, 6), (3, 6), (4, 7), (5, 7), (6, 7))


def _nb201_mask() -> list[list[int]]:
    mask = [[0] * 8 for _ in range(8)]
    for i, j in _NB201_EDGES:
        mask[i][j] = 1
    return mask


@strict
class Arch2VecConfig(PreTrainedConfig):
    r"""Configuration of :class:`Arch2VecModel`, arch2vec's GIN-encoder VGAE over fixed-size cell graphs.

    Args:
        space (`str`): name of the search space (``"nb101"``, ``"nb201"``, ``"darts"``).
        space_kwargs (`dict`): keyword arguments of the space's constructor (e.g. ``{"ops": "arch2vec"}``).
        num_nodes (`int`): node slots of the graph encoding.
        node_vocab (`list[str]`): node labels; ``node_vocab[0]`` must be ``"<pad>"`` (an unused slot).
        adjacency_mask (`list[list[int]]`): ``num_nodes x num_nodes`` 0/1 matrix of the adjacency entries the
            space allows. Informational for this model: like arch2vec, it decodes the raw adjacency.
        hidden_size (`int`, defaults to 128): width of the GIN layers.
        num_gin_layers (`int`, defaults to 4): GIN layers; arch2vec counts the input as a hop, so its
            ``hops=5`` is 4 layers.
        latent_dim (`int`, defaults to 16): size of the per-node latent vector.
        dropout (`float`, defaults to 0.3): dropout on ``z`` at the decoder input (training only).
        initializer_range (`float` or `None`, defaults to `None`): ``None`` keeps PyTorch's default
            ``nn.Linear`` initialisation, as arch2vec; a float draws weights from ``N(0, initializer_range)``.
        zero_pad_rows (`bool`, defaults to `False`): arch2vec's one-hot layout: the ``<pad>`` label has no column,
            so an unused slot is an all-zero row of the input and of the op targets, and the op head predicts the
            real labels only (``len(node_vocab) - 1`` outputs; decoding never yields ``<pad>``). ``False`` keeps
            ``<pad>`` as a label of its own (the package's earlier layout, and that of saved models without it).
    """

    model_type = "archllm_arch2vec"

    space: str = "nb201"
    space_kwargs: dict[str, Any] | None = None
    num_nodes: int = 8
    node_vocab: list[str] | None = None
    adjacency_mask: list[list[int]] | None = None
    hidden_size: int = 128
    num_gin_layers: int = 4
    latent_dim: int = 16
    dropout: float | int = 0.3
    initializer_range: float | None = None
    zero_pad_rows: bool = False

    def __post_init__(self, **kwargs: Any) -> None:
        if self.space_kwargs is None:
            self.space_kwargs = {}
        if self.node_vocab is None:
            self.node_vocab = list(_NB201_VOCAB)
        if self.adjacency_mask is None:
            self.adjacency_mask = _nb201_mask()
        # JSON has no tuples and no bools-as-ints distinction; normalise so equal configs compare equal.
        self.node_vocab = [str(label) for label in self.node_vocab]
        self.adjacency_mask = [[int(v) for v in row] for row in self.adjacency_mask]
        super().__post_init__(**kwargs)

    # --- validation (run by @strict after __post_init__) ---------------------------------------------------
    def validate_graph_shape(self) -> None:
        """``num_nodes``, ``node_vocab`` and ``adjacency_mask`` describe one consistent graph encoding."""
        if self.num_nodes < 2:
            raise ValueError(f"num_nodes must be at least 2, got {self.num_nodes}")
        if len(self.node_vocab) < 2 or self.node_vocab[0] != "<pad>":
            raise ValueError(
                f"node_vocab must start with '<pad>' and hold at least one real label, got {self.node_vocab}"
            )
        if len(set(self.node_vocab)) != len(self.node_vocab):
            raise ValueError(f"node_vocab has repeated labels: {self.node_vocab}")
        mask = self.adjacency_mask
        if len(mask) != self.num_nodes or any(len(row) != self.num_nodes for row in mask):
            shape = f"{len(mask)} rows of lengths {sorted({len(row) for row in mask})}"
            raise ValueError(
                f"adjacency_mask must be {self.num_nodes} x {self.num_nodes} (num_nodes), got {shape}"
            )
        for i, row in enumerate(mask):
            for j, value in enumerate(row):
                if value not in (0, 1):
                    raise ValueError(f"adjacency_mask[{i}][{j}] must be 0 or 1, got {value}")
                if value and j <= i:
                    raise ValueError(
                        f"adjacency_mask[{i}][{j}] is 1 but edges must go from i to j > i "
                        "(strictly upper triangular)"
                    )

    @property
    def num_labels_out(self) -> int:
        """Columns of the one-hot input and of the op head: every label, or all but ``<pad>`` (``zero_pad_rows``)."""
        return len(self.node_vocab) - int(self.zero_pad_rows)

    def validate_sizes(self) -> None:
        """Positive layer sizes and a dropout probability in [0, 1)."""
        for name in ("hidden_size", "num_gin_layers", "latent_dim"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be a positive integer, got {getattr(self, name)}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")
        if self.initializer_range is not None and self.initializer_range <= 0:
            raise ValueError(f"initializer_range must be positive or None, got {self.initializer_range}")

    # --- construction --------------------------------------------------------------------------------------
    @classmethod
    def for_space(
        cls, space: Any, space_kwargs: dict[str, Any] | None = None, **overrides: Any
    ) -> "Arch2VecConfig":
        """Config for a search-space object (anything with ``name``, ``num_nodes``, ``node_vocab`` and
        ``adjacency_mask()``, e.g. ``archllm_hf.spaces.get_space("nb101")``); ``overrides`` set other
        fields."""
        mask = space.adjacency_mask()
        return cls(
            space=space.name,
            space_kwargs=dict(space_kwargs or {}),
            num_nodes=int(space.num_nodes),
            node_vocab=list(space.node_vocab),
            adjacency_mask=[[int(v) for v in row] for row in getattr(mask, "tolist", lambda: mask)()],
            **overrides,
        )


__all__ = ["Arch2VecConfig"]
