"""The DARTS evaluation network of a DARTS genotype (``NetworkCIFAR`` of Liu et al., ICLR 2019).

Skeleton
    ``stem``: conv3x3(3 → 3C, no bias) + BN. Then ``layers`` cells; the cells at positions ``layers // 3``
    and ``2 * layers // 3`` are reduction cells (the genotype's ``reduce`` half, stride 2 on the ops that
    read the cell inputs) and double the cell channels ``C``; the others are normal cells. Each cell reads
    the outputs of the two previous cells (the stem output stands in for both at the start) and outputs
    ``4 C`` channels (its 4 intermediate nodes concatenated). Finally global average pooling and a linear
    classifier (no final BN or ReLU). The paper's CIFAR-10 network has ``C = 36`` and 20 cells
    (:data:`DARTS_EVAL`); NAS-Bench-301 trained ``C = 32`` with 8 cells (:data:`NB301_TRAIN`).

Cell
    Preprocessing brings both inputs to ``C`` channels at the cell's input resolution: ``c_{k-1}`` through
    ReLU-conv1x1-BN, ``c_{k-2}`` through :class:`FactorizedReduce` when the previous cell was a reduction
    cell (it has twice the resolution) and ReLU-conv1x1-BN otherwise. Pairs ``2k`` and ``2k+1`` of the
    genotype feed node ``k + 2``: each applies its op to its input node and the node is the sum of the two.

Ops (``C → C``; stride 2 in a reduction cell when the input is node 0 or 1, else 1)
    * ``sep_conv_KxK``: twice (ReLU → depthwise conv KxK → conv1x1 → BN); only the first depthwise conv
      has the stride;
    * ``dil_conv_KxK``: ReLU → depthwise conv KxK with dilation 2 → conv1x1 → BN;
    * ``max_pool_3x3`` / ``avg_pool_3x3``: 3x3 pooling, padding 1, average over the non-padded positions
      only; no BN (the evaluation network has none after pools, only the search network's mixed op adds a
      parameter-free one);
    * ``skip_connect``: identity, or :class:`FactorizedReduce` at stride 2;
    * ``none`` (arch2vec's op set): zeros of the output shape (the input times zero, kept in the graph).

Every conv has no bias and every BN is affine with running statistics. With these the paper's DARTS_V2
genotype at ``C = 36`` and 20 cells has 3,349,342 trainable parameters without the auxiliary head (the
paper's "3.3 M").

Training extras
    *Drop path*: in training mode with ``drop_path_prob > 0``, the output of every op that is not an
    identity is zeroed per sample with that probability and scaled by ``1 / (1 - p)`` otherwise.
    :attr:`DARTSNetwork.drop_path_prob` can be changed between epochs (DARTS raises it linearly); the value
    lives in a buffer, so changing it does not make ``torch.compile`` recompile (only switching it between
    zero and non-zero does).

    *Auxiliary head* (``auxiliary=True``): on the output of cell ``2 * layers // 3`` (the second reduction
    cell), ReLU → avgpool 5x5 stride 3 (``8x8 → 2x2`` on 32x32 images) → conv1x1 (→ 128) → BN → ReLU →
    conv2x2 (→ 768) → BN → ReLU → linear. In training mode the network then returns ``(logits,
    aux_logits)``; in eval mode only ``logits``. DARTS weighs the auxiliary loss by 0.4. The head needs a
    feature map of at least 5x5 there, i.e. images of at least 17x17 pixels.

Shapes: images ``[B, 3, H, W]`` → logits ``[B, num_classes]``. Every stride-2 op maps ``H`` to
``ceil(H / 2)`` (:class:`FactorizedReduce` pads its shifted path so odd sizes work too).
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

from ..errors import InvalidCellError
from ..spaces.darts import CELL_TYPES, INTERMEDIATE_NODES, OP_SETS, DARTSCell, DARTSSpace
from ._checks import positive_ints

OPS: tuple[str, ...] = OP_SETS["arch2vec"]
"""Ops the network builds: the 7 ops of DARTS genotypes and ``none``."""

DARTS_EVAL: dict[str, int] = dict(channels=36, layers=20)
"""DARTS' CIFAR-10 evaluation network (Liu et al. 2019): 36 initial channels, 20 cells."""

NB301_TRAIN: dict[str, int] = dict(channels=32, layers=8)
"""The network NAS-Bench-301 trained (Siems et al. 2020): 32 initial channels, 8 cells."""

DARTS_V2 = DARTSCell(
    normal=(
        ("sep_conv_3x3", 0),
        ("sep_conv_3x3", 1),
        ("sep_conv_3x3", 0),
        ("sep_conv_3x3", 1),
        ("sep_conv_3x3", 1),
        ("skip_connect", 0),
        ("skip_connect", 0),
        ("dil_conv_3x3", 2),
    ),
    reduce=(
        ("max_pool_3x3", 0),
        ("max_pool_3x3", 1),
        ("skip_connect", 2),
        ("max_pool_3x3", 1),
        ("max_pool_3x3", 0),
        ("skip_connect", 2),
        ("skip_connect", 2),
        ("max_pool_3x3", 1),
    ),
)
"""The paper's second-order DARTS genotype (2.76 % CIFAR-10 test error, 3.3 M parameters)."""

STEM_MULTIPLIER = 3
"""The stem outputs ``3 C`` channels."""
AUX_WEIGHT = 0.4
"""DARTS' weight of the auxiliary loss (for training loops; the network does not use it)."""

_SPACE = DARTSSpace(ops="arch2vec")
_NUM_INTERMEDIATE = len(INTERMEDIATE_NODES)


def _bn(channels: int) -> nn.BatchNorm2d:
    return nn.BatchNorm2d(channels, affine=True, track_running_stats=True)


class ReLUConvBN(nn.Sequential):
    """ReLU → conv (no bias, padding ``kernel_size // 2``) → BN; the cell preprocessing uses it as 1x1."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int = 1, stride: int = 1) -> None:
        super().__init__(
            nn.ReLU(inplace=False),
            nn.Conv2d(in_channels, out_channels, kernel_size, stride, kernel_size // 2, bias=False),
            _bn(out_channels),
        )


class DilConv(nn.Sequential):
    """ReLU → depthwise conv (``kernel_size``, ``dilation``, ``stride``) → conv1x1 → BN, ``C_in → C_out``."""

    def __init__(
        self, in_channels: int, out_channels: int, kernel_size: int, stride: int, dilation: int
    ) -> None:
        padding = dilation * (kernel_size - 1) // 2
        super().__init__(
            nn.ReLU(inplace=False),
            nn.Conv2d(
                in_channels,
                in_channels,
                kernel_size,
                stride=stride,
                padding=padding,
                dilation=dilation,
                groups=in_channels,
                bias=False,
            ),
            nn.Conv2d(in_channels, out_channels, 1, bias=False),
            _bn(out_channels),
        )


class SepConv(nn.Sequential):
    """Two stacked ReLU → depthwise conv → conv1x1 → BN blocks (the first strided), ``C → C``."""

    def __init__(self, channels: int, kernel_size: int, stride: int) -> None:
        super().__init__(
            DilConv(channels, channels, kernel_size, stride, dilation=1),
            DilConv(channels, channels, kernel_size, 1, dilation=1),
        )


class FactorizedReduce(nn.Module):
    """Halve the resolution without losing pixels: ReLU, then two stride-2 conv1x1 to ``C_out / 2``
    channels each, one on the input and one on the input shifted by one pixel down and right (padded back
    to the input size), concatenated and batch-normalized. ``out_channels`` must be even."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__()
        if out_channels % 2:
            raise ValueError(f"FactorizedReduce needs an even number of output channels, got {out_channels}")
        self.relu = nn.ReLU(inplace=False)
        self.conv_a = nn.Conv2d(in_channels, out_channels // 2, 1, stride=2, bias=False)
        self.conv_b = nn.Conv2d(in_channels, out_channels // 2, 1, stride=2, bias=False)
        self.bn = _bn(out_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(x)
        shifted = F.pad(x[:, :, 1:, 1:], (0, 1, 0, 1))
        return self.bn(torch.cat([self.conv_a(x), self.conv_b(shifted)], dim=1))


class Zero(nn.Module):
    """The ``none`` op: zeros shaped like the op's output (the subsampled input times zero)."""

    def __init__(self, stride: int) -> None:
        super().__init__()
        self.stride = stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.stride == 1:
            return x.mul(0.0)
        return x[:, :, :: self.stride, :: self.stride].mul(0.0)

    def extra_repr(self) -> str:
        return f"stride={self.stride}"


def make_op(op: str, channels: int, stride: int) -> nn.Module:
    """The module of DARTS op ``op`` on ``channels`` channels with ``stride`` (1 or 2)."""
    if op == "sep_conv_3x3":
        return SepConv(channels, 3, stride)
    if op == "sep_conv_5x5":
        return SepConv(channels, 5, stride)
    if op == "dil_conv_3x3":
        return DilConv(channels, channels, 3, stride, dilation=2)
    if op == "dil_conv_5x5":
        return DilConv(channels, channels, 5, stride, dilation=2)
    if op == "max_pool_3x3":
        return nn.MaxPool2d(3, stride=stride, padding=1)
    if op == "avg_pool_3x3":
        return nn.AvgPool2d(3, stride=stride, padding=1, count_include_pad=False)
    if op == "skip_connect":
        return nn.Identity() if stride == 1 else FactorizedReduce(channels, channels)
    if op == "none":
        return Zero(stride)
    raise InvalidCellError(f"unknown DARTS op {op!r}; expected one of {', '.join(OPS)}")


def drop_path(x: torch.Tensor, drop_prob: torch.Tensor) -> torch.Tensor:
    """Zero each sample of ``x`` with probability ``drop_prob`` (a 0-dim tensor), scale the rest by
    ``1 / (1 - drop_prob)``."""
    keep = 1.0 - drop_prob
    mask = torch.rand((x.shape[0], 1, 1, 1), device=x.device) < keep
    return x * (mask.to(x.dtype) / keep.to(x.dtype))


class DARTSCellModule(nn.Module):
    """One cell of the evaluation network: ``(c_{k-2}, c_{k-1}) → [B, 4 C, H', W']``.

    ``pairs`` are the 8 ``(op, input)`` pairs of the genotype half this cell uses; ``reduction`` makes the
    ops on nodes 0 and 1 stride 2; ``reduction_prev`` says ``c_{k-2}`` has twice the resolution of
    ``c_{k-1}``.
    """

    def __init__(
        self,
        pairs: tuple[tuple[str, int], ...],
        prev_prev_channels: int,
        prev_channels: int,
        channels: int,
        reduction: bool,
        reduction_prev: bool,
    ) -> None:
        super().__init__()
        self.pairs = pairs
        self.reduction = reduction
        self.preprocess0 = (
            FactorizedReduce(prev_prev_channels, channels)
            if reduction_prev
            else ReLUConvBN(prev_prev_channels, channels)
        )
        self.preprocess1 = ReLUConvBN(prev_channels, channels)
        self.ops = nn.ModuleList(
            make_op(op, channels, 2 if reduction and node < 2 else 1) for op, node in pairs
        )
        self._inputs: tuple[int, ...] = tuple(node for _, node in pairs)
        self._droppable: tuple[bool, ...] = tuple(not isinstance(op, nn.Identity) for op in self.ops)

    def forward(
        self, s0: torch.Tensor, s1: torch.Tensor, drop_prob: torch.Tensor | None = None
    ) -> torch.Tensor:
        states = [self.preprocess0(s0), self.preprocess1(s1)]
        node_sum: torch.Tensor | None = None
        for i, (op, src, droppable) in enumerate(zip(self.ops, self._inputs, self._droppable)):
            h = op(states[src])
            if drop_prob is not None and droppable:
                h = drop_path(h, drop_prob)
            if i % 2 == 0:
                node_sum = h
            else:
                states.append(node_sum + h)
        return torch.cat(states[2:], dim=1)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction}, pairs={list(self.pairs)}"


class AuxiliaryHeadCIFAR(nn.Module):
    """DARTS' CIFAR auxiliary classifier on an 8x8 feature map: ``[B, C, 8, 8] → [B, num_classes]``."""

    def __init__(self, channels: int, num_classes: int) -> None:
        super().__init__()
        self.features = nn.Sequential(
            nn.ReLU(inplace=False),
            nn.AvgPool2d(5, stride=3, padding=0, count_include_pad=False),
            nn.Conv2d(channels, 128, 1, bias=False),
            _bn(128),
            nn.ReLU(inplace=False),
            nn.Conv2d(128, 768, 2, bias=False),
            _bn(768),
            nn.ReLU(inplace=False),
        )
        self.classifier = nn.Linear(768, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.flatten(self.features(x), 1))


class DARTSNetwork(nn.Module):
    """DARTS' CIFAR evaluation network of ``cell``: images ``[B, 3, H, W]`` → logits ``[B, num_classes]``
    (``(logits, aux_logits)`` in training mode with an auxiliary head).

    Layers: ``stem``; ``cells`` (``layers`` :class:`DARTSCellModule`); ``auxiliary_head`` (or None);
    global average pooling; ``classifier``. See the module docstring.
    """

    def __init__(
        self,
        cell: DARTSCell,
        num_classes: int,
        channels: int,
        layers: int,
        auxiliary: bool,
        drop_path_prob: float,
    ) -> None:
        super().__init__()
        self.arch = cell
        self.num_classes = num_classes
        self.layers = layers
        stem_channels = STEM_MULTIPLIER * channels
        self.stem = nn.Sequential(nn.Conv2d(3, stem_channels, 3, padding=1, bias=False), _bn(stem_channels))
        self.reduction_layers: tuple[int, ...] = tuple(sorted({layers // 3, 2 * layers // 3}))
        self.auxiliary_layer = 2 * layers // 3
        prev_prev, prev, current = stem_channels, stem_channels, channels
        reduction_prev = False
        cells = []
        aux_channels = prev
        for i in range(layers):
            reduction = i in self.reduction_layers
            if reduction:
                current *= 2
            pairs = cell.reduce if reduction else cell.normal
            cells.append(DARTSCellModule(pairs, prev_prev, prev, current, reduction, reduction_prev))
            prev_prev, prev = prev, _NUM_INTERMEDIATE * current
            reduction_prev = reduction
            if i == self.auxiliary_layer:
                aux_channels = prev
        self.cells = nn.ModuleList(cells)
        self.auxiliary_head = AuxiliaryHeadCIFAR(aux_channels, num_classes) if auxiliary else None
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(prev, num_classes)
        self.register_buffer("_drop_prob", torch.zeros(()), persistent=False)
        self._drop_path = False
        self.drop_path_prob = drop_path_prob

    @property
    def drop_path_prob(self) -> float:
        """Drop-path probability used in training mode (0 disables drop path)."""
        return float(self._drop_prob)

    @drop_path_prob.setter
    def drop_path_prob(self, value: float) -> None:
        value = float(value)
        if not 0.0 <= value < 1.0:
            raise ValueError(f"drop_path_prob must be in [0, 1), got {value}")
        self._drop_prob.fill_(value)
        self._drop_path = value > 0.0

    def forward(self, images: torch.Tensor) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        drop_prob = self._drop_prob if self.training and self._drop_path else None
        s0 = s1 = self.stem(images)
        aux_logits: torch.Tensor | None = None
        for i, cell in enumerate(self.cells):
            s0, s1 = s1, cell(s0, s1, drop_prob)
            if i == self.auxiliary_layer and self.auxiliary_head is not None and self.training:
                aux_logits = self.auxiliary_head(s1)
        logits = self.classifier(torch.flatten(self.pool(s1), 1))
        if aux_logits is not None:
            return logits, aux_logits
        return logits


def check_cell(cell: object) -> DARTSCell:
    """``cell`` if the network can be built from it, else :class:`InvalidCellError` saying why: not a
    :class:`DARTSCell`, an op outside :data:`OPS`, or an input that is not an earlier node (or both inputs
    of a node the same, which the space does not allow either)."""
    if not isinstance(cell, DARTSCell):
        raise InvalidCellError(f"a DARTS network needs a DARTSCell, got {type(cell).__name__}: {cell!r}")
    for kind, pairs in zip(CELL_TYPES, cell.cells()):
        for i, (op, _) in enumerate(pairs):
            if op not in OPS:
                node, known = i // 2 + 2, ", ".join(OPS)
                raise InvalidCellError(
                    f"{kind} cell, node {node}: unknown DARTS op {op!r}; expected one of {known}"
                )
    return _SPACE.check(cell)


def build_darts_network(
    cell: DARTSCell,
    num_classes: int = 10,
    channels: int = 36,
    layers: int = 20,
    auxiliary: bool = False,
    drop_path_prob: float = 0.0,
) -> DARTSNetwork:
    """DARTS' CIFAR evaluation network (``NetworkCIFAR``) of ``cell`` with ``channels`` initial channels
    and ``layers`` cells; the defaults are the paper's CIFAR-10 network (:data:`DARTS_EVAL`).

    The result is in training mode with PyTorch's default initialization. Raises :class:`InvalidCellError`
    for an invalid cell (see :func:`check_cell`) and ``ValueError`` if ``num_classes``, ``channels`` or
    ``layers`` is not an integer >= 1 or ``drop_path_prob`` is not in ``[0, 1)``.
    """
    cell = check_cell(cell)
    if not isinstance(drop_path_prob, (int, float)) or isinstance(drop_path_prob, bool):
        raise ValueError(f"drop_path_prob must be a number in [0, 1), got {drop_path_prob!r}")
    if not (math.isfinite(drop_path_prob) and 0.0 <= drop_path_prob < 1.0):
        raise ValueError(f"drop_path_prob must be in [0, 1), got {drop_path_prob!r}")
    return DARTSNetwork(
        cell,
        **positive_ints(num_classes=num_classes, channels=channels, layers=layers),
        auxiliary=bool(auxiliary),
        drop_path_prob=float(drop_path_prob),
    )


def count_parameters(module: nn.Module, auxiliary: bool = False) -> int:
    """Trainable parameters of ``module``; of a :class:`DARTSNetwork` without its auxiliary head unless
    ``auxiliary`` (the paper counts the network without it)."""
    skip = set()
    if not auxiliary and isinstance(module, DARTSNetwork) and module.auxiliary_head is not None:
        skip = {id(p) for p in module.auxiliary_head.parameters()}
    return sum(p.numel() for p in module.parameters() if p.requires_grad and id(p) not in skip)


__all__ = [
    "AUX_WEIGHT",
    "DARTS_EVAL",
    "DARTS_V2",
    "NB301_TRAIN",
    "OPS",
    "AuxiliaryHeadCIFAR",
    "DARTSCellModule",
    "DARTSNetwork",
    "DilConv",
    "FactorizedReduce",
    "ReLUConvBN",
    "SepConv",
    "Zero",
    "build_darts_network",
    "check_cell",
    "count_parameters",
    "drop_path",
]
