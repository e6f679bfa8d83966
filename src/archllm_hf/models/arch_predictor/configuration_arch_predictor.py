"""Configuration of the graph accuracy predictor.

Self-contained (only ``transformers`` and ``huggingface_hub``), so the folder can ship as Hub remote code.
"""

from typing import Any

from huggingface_hub.dataclasses import strict
from transformers import PreTrainedConfig


@strict
class ArchPredictorConfig(PreTrainedConfig):
    r"""Configuration of :class:`ArchPredictorModel`, a directed message-passing network over a cell's graph that
    regresses a score (and, for label-free pretraining, a vector of proxies).

    Args:
        space (`str`): name of the search space the graphs come from.
        space_kwargs (`dict`): keyword arguments of the space's constructor.
        num_nodes (`int`): node slots of the space's graph encoding.
        num_ops (`int`): node labels (``0`` is the padding slot).
        hidden_size (`int`, defaults to 64): width of the node states.
        num_layers (`int`, defaults to 3): message-passing layers (each reads predecessors and successors).
        proxy_names (`list[str]`): the label-free proxies fed in as features (rank-transformed over the space) and
            predicted by the pretraining head; empty for a graph-only model.
        use_proxy_features (`bool`, defaults to `True`): feed the proxies in as input features (else they are
            pretraining targets only).
        live_graph (`bool`, defaults to `False`): the graphs it reads keep only the edges a signal runs along
            (``SearchSpace.to_graphs(cells, live_only=True)``: no edge into or out of an op that outputs zeros, such
            as NB201's ``none``, nor of a node off every input-to-output path).
        dropout (`float`, defaults to 0.0): dropout before the heads.
        initializer_range (`float`, defaults to 0.02): standard deviation of the linear layers' initial weights.
    """

    model_type = "archllm_predictor"

    space: str = "nb201"
    space_kwargs: dict[str, Any] | None = None
    num_nodes: int = 8
    num_ops: int = 8
    hidden_size: int = 64
    num_layers: int = 3
    proxy_names: list[str] | None = None
    use_proxy_features: bool = True
    live_graph: bool = False
    dropout: float | int = 0.0
    initializer_range: float = 0.02

    def __post_init__(self, **kwargs: Any) -> None:
        if self.space_kwargs is None:
            self.space_kwargs = {}
        self.proxy_names = [str(name) for name in (self.proxy_names or [])]
        super().__post_init__(**kwargs)

    def validate_sizes(self) -> None:
        """Positive sizes, a dropout probability in [0, 1) and distinct proxy names."""
        for name in ("num_nodes", "num_ops", "hidden_size", "num_layers"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be a positive integer, got {getattr(self, name)}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")
        if self.initializer_range <= 0:
            raise ValueError(f"initializer_range must be positive, got {self.initializer_range}")
        if len(set(self.proxy_names)) != len(self.proxy_names):
            raise ValueError(f"proxy_names has repeated names: {self.proxy_names}")

    @property
    def num_proxy_features(self) -> int:
        """Proxy features the model reads (0 when the proxies are pretraining targets only)."""
        return len(self.proxy_names) if self.use_proxy_features else 0


__all__ = ["ArchPredictorConfig"]
