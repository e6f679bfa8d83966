"""The NAS-Bench-201 network built from an NB201 cell: parameter counts, forward/backward, wiring, errors."""

from __future__ import annotations

import random

import pytest
import torch
import torch.nn.functional as F

from archllm_hf.errors import InvalidCellError
from archllm_hf.networks.nb201 import (
    NB201CellModule,
    NB201Network,
    ResNetReductionBlock,
    build_nb201_network,
)
from archllm_hf.spaces import get_space
from archllm_hf.spaces.nb201 import NB201Cell

SPACE = get_space("nb201")
ALL_CONV3 = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|"
POOL_SKIP = "|avg_pool_3x3~0|+|skip_connect~0|skip_connect~1|+|avg_pool_3x3~0|skip_connect~1|skip_connect~2|"
ALL_SKIP = "|skip_connect~0|+|skip_connect~0|skip_connect~1|+|skip_connect~0|skip_connect~1|skip_connect~2|"
ALL_NONE = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"
# Node 1 and node 2 are "dead": their convs only feed `none` edges.
DEAD_NODES = "|nor_conv_3x3~0|+|nor_conv_1x1~0|none~1|+|skip_connect~0|none~1|none~2|"
# Output reachable only from node 1, which has no non-`none` input (a disconnected cell).
DISCONNECTED = "|none~0|+|none~0|nor_conv_3x3~1|+|none~0|nor_conv_1x1~1|nor_conv_3x3~2|"


def _trainable(module: torch.nn.Module) -> int:
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


def _small(text: str, **kwargs) -> NB201Network:
    return build_nb201_network(SPACE.parse(text), channels=8, cells_per_stage=1, **kwargs)


@pytest.fixture(autouse=True)
def _light_cpu():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    yield
    torch.set_num_threads(threads)


@pytest.mark.parametrize(("arch", "expected"), [(ALL_CONV3, 1_531_546), (POOL_SKIP, 73_306)])
def test_parameter_counts_match_the_benchmark(arch, expected):
    assert _trainable(build_nb201_network(SPACE.parse(arch))) == expected


def test_num_classes_sets_the_classifier():
    cell = SPACE.parse(POOL_SKIP)
    base = _trainable(build_nb201_network(cell))
    for num_classes in (1, 100, 120):
        net = build_nb201_network(cell, num_classes=num_classes)
        assert net.classifier.out_features == num_classes
        assert _trainable(net) - base == 65 * (num_classes - 10)  # 64 weights + 1 bias per class
    logits = _small(POOL_SKIP, num_classes=7)(torch.randn(2, 3, 32, 32))
    assert logits.shape == (2, 7)


def test_macro_structure():
    net = build_nb201_network(SPACE.parse(ALL_CONV3), channels=4, cells_per_stage=2)
    kinds = [type(layer) for layer in net.cells]
    assert (
        kinds
        == [NB201CellModule] * 2
        + [ResNetReductionBlock]
        + [NB201CellModule] * 2
        + [ResNetReductionBlock]
        + [NB201CellModule] * 2
    )
    convs = [m for m in net.modules() if isinstance(m, torch.nn.Conv2d)]
    assert all(conv.bias is None for conv in convs)
    norms = [m for m in net.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    assert all(bn.affine and bn.track_running_stats for bn in norms)
    assert net.classifier.in_features == 16


def _random_cells() -> list[str]:
    rng = random.Random(201)
    return [SPACE.format(SPACE.random_cell(rng)) for _ in range(5)]


@pytest.mark.parametrize("arch", [*_random_cells(), ALL_NONE, DEAD_NODES, DISCONNECTED, ALL_SKIP])
def test_forward_backward_reaches_every_parameter(arch):
    net = _small(arch)
    logits = net(torch.randn(2, 3, 32, 32))
    assert logits.shape == (2, 10)
    assert torch.isfinite(logits).all()
    logits.logsumexp(dim=1).sum().backward()
    # `none` edges are dropped at build time, but dead ops stay tied to the output with weight zero and
    # empty nodes are the cell input times zero, as in the benchmark: no parameter is left without a grad.
    missing = [name for name, p in net.named_parameters() if p.grad is None]
    assert missing == []
    assert all(torch.isfinite(p.grad).all() for p in net.parameters())
    net.eval()
    with torch.no_grad():
        assert torch.isfinite(net(torch.randn(2, 3, 32, 32))).all()


def test_none_edges_have_no_module_and_dead_ops_still_run():
    cell = SPACE.parse(DEAD_NODES)
    module = NB201CellModule(cell, channels=4)
    assert module.edges == ((0, 1), (0, 2), (0, 3))
    assert len(module.edge_ops) == 3
    x = torch.randn(2, 4, 8, 8)
    out = module(x)
    torch.testing.assert_close(out, x)  # only skip 0->3 reaches the output
    # The dead convs ran in training mode, as the benchmark's network runs them.
    for op in module.edge_ops[:2]:
        assert op[2].num_batches_tracked.item() == 1
    out.sum().backward()
    conv = module.edge_ops[0][1]
    assert conv.weight.grad is not None and torch.count_nonzero(conv.weight.grad) == 0


def test_cell_wiring_on_parameter_free_cells():
    x = torch.randn(2, 4, 6, 6)
    # node1 = x, node2 = x + x, node3 = x + node1 + node2 = 4x
    torch.testing.assert_close(NB201CellModule(SPACE.parse(ALL_SKIP), 4)(x), 4 * x)
    assert torch.count_nonzero(NB201CellModule(SPACE.parse(ALL_NONE), 4)(x)) == 0
    # node1 = avgpool(x), node2 = skip(node1), node3 = skip(node2) = avgpool(x)
    pool = NB201Cell(("avg_pool_3x3", "none", "skip_connect", "none", "none", "skip_connect"))
    out = NB201CellModule(pool, 4)(x)
    expected = F.avg_pool2d(x, 3, stride=1, padding=1, count_include_pad=False)
    torch.testing.assert_close(out, expected)
    # padded zeros are left out of the mean: a corner averages its 2x2 neighbourhood
    torch.testing.assert_close(out[:, :, 0, 0], x[:, :, :2, :2].mean(dim=(2, 3)))


def test_fullgraph_trace_without_graph_breaks():
    net = _small(DEAD_NODES)
    x = torch.randn(2, 3, 32, 32)
    compiled = torch.compile(net, backend="eager", fullgraph=True)
    net.eval()
    torch.testing.assert_close(compiled(x), net(x))


@pytest.mark.parametrize("cell", [ALL_CONV3, ("nor_conv_3x3",) * 6, None, 3])
def test_rejects_non_cells(cell):
    with pytest.raises(InvalidCellError, match="NB201Cell"):
        build_nb201_network(cell)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"num_classes": 0}, "num_classes"),
        ({"num_classes": -3}, "num_classes"),
        ({"num_classes": 2.5}, "num_classes"),
        ({"channels": 0}, "channels"),
        ({"channels": True}, "channels"),
        ({"cells_per_stage": 0}, "cells_per_stage"),
    ],
)
def test_rejects_bad_sizes(kwargs, name):
    with pytest.raises(ValueError, match=name):
        build_nb201_network(SPACE.parse(POOL_SKIP), **kwargs)
