"""The NAS-Bench-201 network of an NB201 cell: the CIFAR/ImageNet-16 macro skeleton the benchmark trained.

Skeleton (NB201 paper, Dong & Yang 2020, section 2)
    ``stem``: conv3x3(3 → C, no bias) + BN. Then three stages of ``N`` copies of the searched cell with
    ``C``, ``2C`` and ``4C`` channels; between stages a residual reduction block (stride 2, channels
    doubled). Finally BN + ReLU, global average pooling and a linear classifier. The benchmark's defaults
    are ``C = 16`` and ``N = 5``.

Cell
    A DAG over 4 nodes; node 0 is the cell input, node ``j`` is the sum of the ops on its incoming edges
    ``i → j`` (``i < j``), and node 3 is the cell output. Ops keep shape (stride 1, ``C`` → ``C``):

    * ``none``: zero, i.e. the edge contributes nothing;
    * ``skip_connect``: identity;
    * ``nor_conv_1x1`` / ``nor_conv_3x3``: ReLU → conv (no bias, "same" padding) → BN;
    * ``avg_pool_3x3``: 3x3 average pooling, stride 1, padding 1, padded zeros left out of the mean
      (``count_include_pad=False``, as the benchmark's pooling op).

Reduction block (ResNet basic block, stride 2)
    ``ReLU-conv3x3(stride 2)-BN → ReLU-conv3x3-BN`` plus a shortcut ``avgpool 2x2 (stride 2) → conv1x1``
    (no bias, no BN); the block returns their sum.

Every BN is ``affine=True, track_running_stats=True`` and every conv has no bias, as in the trained
benchmark networks, which makes the parameter counts match the benchmark's (1,531,546 for the all-3x3 cell
on CIFAR-10).

``none`` edges are dropped when the network is built, so no tensor is multiplied by zero on them. To keep
the forward pass and gradients equivalent to the benchmark's (where ``none`` is ``x * 0`` and so every op
of the cell runs and stays in the autograd graph), the cell still evaluates ops whose result only reaches
``none`` edges ("dead" nodes), and adds their value times zero to the output; a node with no incoming
non-``none`` edge is the cell input times zero. Both cases are known at build time, so the forward pass has
no data-dependent control flow, and every parameter of the network gets a (possibly all-zero) gradient.
"""

from __future__ import annotations

import torch
from torch import nn

from ..errors import InvalidCellError
from ..spaces.nb201 import EDGES, OPS, NB201Cell
from ._checks import positive_ints

_NUM_NODES = 4
_OUTPUT_NODE = _NUM_NODES - 1


class ReLUConvBN(nn.Sequential):
    """ReLU → Conv2d (no bias, padding ``kernel_size // 2``) → BatchNorm2d (affine, running stats)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1) -> None:
        super().__init__(
            nn.ReLU(inplace=False),
            nn.Conv2d(
                in_channels,
                out_channels,
                kernel_size,
                stride=stride,
                padding=kernel_size // 2,
                bias=False,
            ),
            nn.BatchNorm2d(out_channels, affine=True, track_running_stats=True),
        )


class AvgPool3x3(nn.AvgPool2d):
    """3x3 average pooling, stride 1, padding 1, averaging only over the non-padded positions."""

    def __init__(self) -> None:
        super().__init__(kernel_size=3, stride=1, padding=1, count_include_pad=False)


def make_edge_op(op: str, channels: int) -> nn.Module:
    """The module of a non-``none`` NB201 edge op on ``channels`` channels (shape-preserving)."""
    if op == "skip_connect":
        return nn.Identity()
    if op == "nor_conv_1x1":
        return ReLUConvBN(channels, channels, 1)
    if op == "nor_conv_3x3":
        return ReLUConvBN(channels, channels, 3)
    if op == "avg_pool_3x3":
        return AvgPool3x3()
    if op == "none":
        raise ValueError("'none' edges have no module: they are dropped when the cell is built")
    raise InvalidCellError(f"unknown NB201 op {op!r}; expected one of {', '.join(OPS)}")


class NB201CellModule(nn.Module):
    """One NB201 cell on ``channels`` channels: ``[B, C, H, W] → [B, C, H, W]``.

    ``edge_ops[k]`` is the op of the ``k``-th non-``none`` edge, whose ``(source, target)`` nodes are
    ``edges[k]``. See the module docstring for how ``none`` edges, dead nodes and nodes without input are
    handled.
    """

    def __init__(self, cell: NB201Cell, channels: int) -> None:
        super().__init__()
        kept = [(edge, op) for edge, op in zip(EDGES, cell.ops) if op != "none"]
        self.arch = cell
        self.edges: tuple[tuple[int, int], ...] = tuple(edge for edge, _ in kept)
        self.edge_ops = nn.ModuleList(make_edge_op(op, channels) for _, op in kept)
        # Per target node: the (edge index, source node) pairs feeding it, in edge order.
        self._incoming: tuple[tuple[tuple[int, int], ...], ...] = tuple(
            tuple((k, src) for k, (src, dst) in enumerate(self.edges) if dst == node)
            for node in range(_NUM_NODES)
        )
        # Intermediate nodes whose value feeds no kept edge: tied to the output with weight zero.
        used = {src for src, _ in self.edges}
        self._dead_nodes: tuple[int, ...] = tuple(node for node in range(1, _OUTPUT_NODE) if node not in used)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        nodes = [x]
        ops = list(self.edge_ops)
        for node in range(1, _NUM_NODES):
            value: torch.Tensor | None = None
            for k, src in self._incoming[node]:
                term = ops[k](nodes[src])
                value = term if value is None else value + term
            nodes.append(x.mul(0.0) if value is None else value)
        out = nodes[_OUTPUT_NODE]
        for node in self._dead_nodes:
            out = out + nodes[node].mul(0.0)
        return out

    def extra_repr(self) -> str:
        return f"edges={list(self.edges)}"


class ResNetReductionBlock(nn.Module):
    """Stride-2 residual block ``C_in → C_out``: ``ReLU-conv3x3/2-BN → ReLU-conv3x3-BN`` plus an
    ``avgpool2x2/2 → conv1x1`` shortcut (no bias, no BN)."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        self.conv_a = ReLUConvBN(in_channels, out_channels, 3, stride=2)
        self.conv_b = ReLUConvBN(out_channels, out_channels, 3, stride=1)
        self.shortcut = nn.Sequential(
            nn.AvgPool2d(kernel_size=2, stride=2, padding=0),
            nn.Conv2d(in_channels, out_channels, kernel_size=1, stride=1, padding=0, bias=False),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.shortcut(x) + self.conv_b(self.conv_a(x))


class NB201Network(nn.Module):
    """The NAS-Bench-201 network of ``cell``: images ``[B, 3, H, W]`` → logits ``[B, num_classes]``.

    Layers: ``stem``; ``cells`` (an ``nn.Sequential`` of ``3 * cells_per_stage`` cells with the two
    reduction blocks between the stages); ``head`` (BN + ReLU); global average pooling; ``classifier``.
    """

    def __init__(self, cell: NB201Cell, num_classes: int, channels: int, cells_per_stage: int) -> None:
        super().__init__()
        self.arch = cell
        self.num_classes = num_classes
        self.stem = nn.Sequential(
            nn.Conv2d(3, channels, kernel_size=3, stride=1, padding=1, bias=False),
            nn.BatchNorm2d(channels, affine=True, track_running_stats=True),
        )
        layers: list[nn.Module] = []
        stage_channels = channels
        for stage in range(3):
            if stage > 0:
                layers.append(ResNetReductionBlock(stage_channels, 2 * stage_channels))
                stage_channels *= 2
            layers.extend(NB201CellModule(cell, stage_channels) for _ in range(cells_per_stage))
        self.cells = nn.Sequential(*layers)
        self.head = nn.Sequential(
            nn.BatchNorm2d(stage_channels, affine=True, track_running_stats=True),
            nn.ReLU(inplace=False),
        )
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(stage_channels, num_classes)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        features = self.head(self.cells(self.stem(images)))
        return self.classifier(torch.flatten(self.pool(features), 1))


def build_nb201_network(
    cell: NB201Cell, num_classes: int = 10, channels: int = 16, cells_per_stage: int = 5
) -> NB201Network:
    """The NAS-Bench-201 network of ``cell`` with ``channels`` (``C``) channels in the first stage and
    ``cells_per_stage`` (``N``) cells per stage; the defaults are the benchmark's CIFAR-10 network.

    The result is in training mode with PyTorch's default initialization. Raises :class:`InvalidCellError`
    if ``cell`` is not an :class:`NB201Cell` and ``ValueError`` if ``num_classes``, ``channels`` or
    ``cells_per_stage`` is not an integer >= 1.
    """
    if not isinstance(cell, NB201Cell):
        raise InvalidCellError(f"build_nb201_network needs an NB201Cell, got {type(cell).__name__}: {cell!r}")
    sizes = positive_ints(num_classes=num_classes, channels=channels, cells_per_stage=cells_per_stage)
    return NB201Network(cell, **sizes)


__all__ = [
    "AvgPool3x3",
    "NB201CellModule",
    "NB201Network",
    "ReLUConvBN",
    "ResNetReductionBlock",
    "build_nb201_network",
    "make_edge_op",
]
