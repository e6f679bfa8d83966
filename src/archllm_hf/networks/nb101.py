"""The NAS-Bench-101 network of an NB101 cell: the CIFAR-10 macro skeleton the benchmark trained.

Skeleton (NB101 paper, Ying et al. 2019, section 2.1)
    A stem conv3x3 (3 → ``C``, no bias) + BN + ReLU; then ``num_stacks`` stacks of ``cells_per_stack``
    copies of the cell, the stack ``s`` with ``C·2^s`` output channels and a 2x2 max pool (stride 2) before
    every stack but the first; global average pooling and a linear classifier. The benchmark's defaults are
    ``C = 128``, 3 stacks and 3 cells per stack.

Cell (as nasbench's ``model_builder``)
    The cell's output channels are split evenly among the interior vertices that feed the output vertex (the
    first ones get one extra channel when the division is uneven); every other interior vertex gets the
    largest channel count of the vertices it feeds. A vertex sums its inputs: tensors of interior vertices,
    cut to its channel count when they have one more, and a 1x1 conv + BN + ReLU projection of the cell
    input for an edge from the input vertex. The output vertex concatenates its interior inputs and adds a
    projection of the cell input when the input feeds it directly. ``conv3x3``/``conv1x1`` are conv (no
    bias) + BN + ReLU; ``maxpool3x3`` has stride 1 and padding 1.

The network is nasbench-pytorch's :class:`~nasbench_pytorch.model.Network`, which implements exactly that,
with three fixes applied after it is built:

* nasbench-pytorch puts a ``Placeholder`` module (identity, but holding one random scalar *parameter*) on
  the input vertex's op slot and on every vertex the input does not feed, so its networks had 27-63 more
  trainable parameters than the benchmark's records. The placeholders become parameter-free
  :class:`torch.nn.Identity` modules, which makes the trainable parameter count equal the records'
  ``trainable_parameters`` exactly.
* Each nasbench-pytorch cell holds an empty ``dev_param`` parameter only to look up its device; it becomes a
  non-persistent buffer (same device lookup, no parameter that never gets a gradient).
* Batch norm: nasbench-pytorch gives the stem and the projections ``momentum=0.997`` (TensorFlow's decay
  constant, which in PyTorch's convention means "keep 0.3% of the old running statistics") and the cell ops
  PyTorch's default 0.1. NB101 used TensorFlow's ``momentum=0.997, epsilon=1e-5`` everywhere, i.e. PyTorch
  ``momentum=0.003``; every BN is set to that.

Weights are initialised as TensorFlow did (nasbench-pytorch's ``tf_like=True``): convs normal with std
``1/sqrt(fan_in)``, the classifier Glorot-uniform, BN scale 1 and shift 0, biases 0.
"""

from __future__ import annotations

import numpy as np
import torch
from nasbench_pytorch.model import ModelSpec, Network
from nasbench_pytorch.model.model import Cell, Placeholder
from torch import nn

from ..errors import InvalidCellError
from ..spaces.nb101 import NB101Cell, NB101Space
from ._checks import positive_int

BN_MOMENTUM = 0.003
"""PyTorch BN momentum equal to NB101's TensorFlow ``momentum=0.997`` (the running statistics' decay)."""
BN_EPS = 1e-5

_SPACE = NB101Space()


def _valid_pruned_cell(cell: object) -> NB101Cell:
    """``cell`` pruned, or :class:`InvalidCellError` saying why the NB101 space rejects it."""
    if not isinstance(cell, NB101Cell):
        raise InvalidCellError(f"build_nb101_network needs an NB101Cell, got {type(cell).__name__}")
    result = _SPACE.validate(cell)
    if not result.valid:
        raise InvalidCellError(f"cannot build an NB101 network: invalid nb101 cell: {result.reason}")
    pruned = _SPACE.prune(cell)
    assert pruned is not None  # a valid cell prunes to a cell
    return pruned


class NB101Network(Network):
    """nasbench-pytorch's ``Network`` for one NB101 cell with the fixes of the module docstring.

    ``forward(images [B, 3, H, W]) -> logits [B, num_classes]``. ``cell`` is the pruned cell it was built from.
    """

    def __init__(
        self,
        cell: NB101Cell,
        num_classes: int = 10,
        stem_channels: int = 128,
        num_stacks: int = 3,
        cells_per_stack: int = 3,
    ) -> None:
        spec = ModelSpec(np.array(cell.matrix, dtype=np.int64), list(cell.ops))
        super().__init__(
            spec,
            num_labels=num_classes,
            in_channels=3,
            stem_out_channels=stem_channels,
            num_stacks=num_stacks,
            num_modules_per_stack=cells_per_stack,
            momentum=BN_MOMENTUM,
            eps=BN_EPS,
            tf_like=True,
        )
        self.cell = cell
        for module in self.modules():
            if isinstance(module, Cell):
                _drop_spurious_parameters(module)
            elif isinstance(module, nn.BatchNorm2d):
                module.momentum, module.eps = BN_MOMENTUM, BN_EPS


def _drop_spurious_parameters(cell: Cell) -> None:
    """Placeholders → parameter-free identities; the empty ``dev_param`` → a buffer (see module docstring)."""
    for ops in (cell.vertex_op, cell.input_op):
        for i, op in enumerate(ops):
            if isinstance(op, Placeholder):
                ops[i] = nn.Identity()
    cell.last_inop = cell.input_op[len(cell.input_op) - 1]  # an alias of the last slot: re-point it
    del cell.dev_param
    cell.register_buffer("dev_param", torch.empty(0), persistent=False)


def build_nb101_network(
    cell: NB101Cell,
    num_classes: int = 10,
    stem_channels: int = 128,
    num_stacks: int = 3,
    cells_per_stack: int = 3,
) -> torch.nn.Module:
    """The NAS-Bench-101 network of ``cell``: images ``[B, 3, H, W]`` → logits ``[B, num_classes]``.

    With the defaults this is the network NB101 trained on CIFAR-10; its trainable parameter count equals the
    benchmark's ``trainable_parameters``. The cell is pruned first (as nasbench does). Raises
    :class:`InvalidCellError` if ``cell`` is not an :class:`NB101Cell` or the NB101 space rejects it, and
    :class:`ValueError` for sizes that are not positive integers or a ``stem_channels`` smaller than the
    number of vertices feeding the output (each needs at least one channel).
    """
    pruned = _valid_pruned_cell(cell)
    num_classes = positive_int("num_classes", num_classes)
    stem_channels = positive_int("stem_channels", stem_channels)
    num_stacks = positive_int("num_stacks", num_stacks)
    cells_per_stack = positive_int("cells_per_stack", cells_per_stack)
    last = pruned.num_vertices - 1
    feeding_output = sum(pruned.matrix[v][last] for v in range(1, last))
    if stem_channels < feeding_output:
        raise ValueError(
            f"stem_channels={stem_channels} is too small for this cell: its output's channels are split "
            f"among {feeding_output} vertices, so it needs stem_channels >= {feeding_output}"
        )
    return NB101Network(pruned, num_classes, stem_channels, num_stacks, cells_per_stack)


__all__ = ["BN_EPS", "BN_MOMENTUM", "NB101Network", "build_nb101_network"]
