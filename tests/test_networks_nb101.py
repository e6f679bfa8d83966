"""The NAS-Bench-101 network of an NB101 cell: exact parameter counts against 30 real NB101 records, forward and
backward passes on tiny configs, and rejection of invalid input."""

from __future__ import annotations

import json
import random

import pytest
import torch
from torch import nn

from archllm_hf.errors import InvalidCellError
from archllm_hf.networks.nb101 import BN_EPS, BN_MOMENTUM, NB101Network, build_nb101_network
from archllm_hf.spaces import NB101Cell, NB101Space

pytestmark = pytest.mark.usefixtures("one_torch_thread")

SPACE = NB101Space()
C3, C1, MP = "conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3"
TINY = {"stem_channels": 8, "num_stacks": 2, "cells_per_stack": 1}


def trainable_parameters(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters() if p.requires_grad)


@pytest.fixture(scope="module")
def records(shared_data) -> dict[str, dict]:
    """``hash -> nasbench fixed metrics`` of the 30 real NB101 records (see shared/data/SOURCES.md)."""
    with open(shared_data / "nb101" / "naslib_nb101_dummy.json") as f:
        return json.load(f)


def test_parameter_counts_match_all_30_records(records) -> None:
    """The default network (stem 128, 3 stacks x 3 cells, 10 classes) has exactly the benchmark's
    ``trainable_parameters`` for every record. (Building all 30 takes ~4 s on one thread.)"""
    assert len(records) == 30
    mismatches = []
    for key, record in records.items():
        cell = NB101Cell(record["module_adjacency"], record["module_operations"])
        assert SPACE.prune(cell) is cell, "records hold pruned cells"
        assert SPACE.canonical_id(cell) == key
        count = trainable_parameters(build_nb101_network(cell))
        if count != record["trainable_parameters"]:
            mismatches.append((key, count, record["trainable_parameters"]))
    assert mismatches == []


def test_network_structure_and_batch_norm() -> None:
    cell = NB101Cell([[0, 1, 1], [0, 0, 1], [0, 0, 0]], ["input", C3, "output"])
    net = build_nb101_network(cell, **TINY)
    assert isinstance(net, NB101Network) and net.cell == cell
    assert net.classifier.out_features == 10 and net.classifier.in_features == 16  # 8 channels, doubled once
    assert sum(isinstance(m, nn.MaxPool2d) and m.stride == 2 for m in net.modules()) == 1  # between stacks
    norms = [m for m in net.modules() if isinstance(m, nn.BatchNorm2d)]
    assert norms and all(m.momentum == BN_MOMENTUM and m.eps == BN_EPS for m in norms)
    # nasbench-pytorch's placeholders (one scalar parameter each) are gone; only convs, BNs and the classifier
    # hold parameters
    owners = {type(m) for m in net.modules() if any(True for _ in m.parameters(recurse=False))}
    assert owners == {nn.Conv2d, nn.BatchNorm2d, nn.Linear}
    assert all(not name.endswith((".a", "dev_param")) for name, _ in net.named_parameters())


def test_unpruned_cell_builds_its_pruned_network() -> None:
    # vertex 2 (conv3x3) cannot reach the output: pruning drops it
    cell = NB101Cell([[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 0], [0, 0, 0, 0]], ["input", C1, C3, "output"])
    pruned = SPACE.prune(cell)
    assert pruned.num_vertices == 3
    net = build_nb101_network(cell, **TINY)
    assert net.cell == pruned
    assert trainable_parameters(net) == trainable_parameters(build_nb101_network(pruned, **TINY))


def _forward_cells() -> list[tuple[str, NB101Cell]]:
    rng = random.Random(101)
    cells = [(f"random{i}", SPACE.random_cell(rng)) for i in range(4)]
    cells.append(("input-to-output", NB101Cell([[0, 1], [0, 0]], ["input", "output"])))
    # the output adds a projection of the input to the concatenation of its interior inputs
    cells.append(
        ("projection-plus-concat", NB101Cell([[0, 1, 1], [0, 0, 1], [0, 0, 0]], ["input", C3, "output"]))
    )
    # output fed by vertices 1, 2, 3: 8 channels split 3/3/2, so 1 -> 3 cuts a channel off vertex 1's output
    cells.append(
        (
            "truncation",
            NB101Cell(
                [
                    [0, 1, 1, 0, 0],
                    [0, 0, 0, 1, 1],
                    [0, 0, 0, 0, 1],
                    [0, 0, 0, 0, 1],
                    [0, 0, 0, 0, 0],
                ],
                ["input", C3, MP, C1, "output"],
            ),
        )
    )
    return cells


@pytest.mark.parametrize("name,cell", _forward_cells(), ids=[name for name, _ in _forward_cells()])
def test_forward_backward(name: str, cell: NB101Cell) -> None:
    """Logits of the right shape, finite, and a non-zero gradient on every parameter (every vertex of a pruned
    cell lies on an input-to-output path, so every op and projection reaches the logits)."""
    torch.manual_seed(0)
    net = build_nb101_network(cell, num_classes=5, **TINY)
    net.train()
    images = torch.randn(2, 3, 32, 32)
    logits = net(images)
    assert logits.shape == (2, 5)
    assert torch.isfinite(logits).all()
    logits.square().sum().backward()
    for pname, param in net.named_parameters():
        assert param.grad is not None, f"{pname} got no gradient"
        assert torch.isfinite(param.grad).all(), pname
        assert param.grad.abs().sum() > 0, f"{pname} got an all-zero gradient"
    net.eval()
    with torch.no_grad():
        assert net(images).shape == (2, 5)


def test_default_channels_and_eval_forward_on_one_record(records) -> None:
    record = next(iter(records.values()))
    cell = NB101Cell(record["module_adjacency"], record["module_operations"])
    net = build_nb101_network(cell, num_classes=3, stem_channels=16, num_stacks=3, cells_per_stack=1).eval()
    with torch.no_grad():
        logits = net(torch.randn(1, 3, 32, 32))
    assert logits.shape == (1, 3) and torch.isfinite(logits).all()
    assert net.classifier.in_features == 64


@pytest.mark.parametrize(
    "cell,match",
    [
        ({"matrix": [[0, 1], [0, 0]], "ops": ["input", "output"]}, "needs an NB101Cell, got dict"),
        ("[[0, 1], [0, 0]]", "needs an NB101Cell, got str"),
        (None, "needs an NB101Cell, got NoneType"),
        (NB101Cell([[0, 0, 0], [0, 0, 1], [0, 0, 0]], ["input", C3, "output"]), "cannot reach the output"),
        (NB101Cell([[0, 1, 0], [0, 0, 1], [0, 0, 0]], [C3, C1, "output"]), "first vertex must be 'input'"),
        (NB101Cell([[0, 1, 0], [0, 0, 1], [0, 0, 0]], ["input", "output", "output"]), "interior vertex 1"),
        (
            NB101Cell(
                [[int(j == i + 1) for j in range(8)] for i in range(8)], ["input", *[C3] * 6, "output"]
            ),
            "8 vertices",
        ),
        (
            NB101Cell(
                [[int(i < j) for j in range(6)] for i in range(6)], ["input", C3, C1, MP, C3, "output"]
            ),
            "15 edges",
        ),
    ],
)
def test_invalid_cells_raise(cell, match: str) -> None:
    with pytest.raises(InvalidCellError, match=match):
        build_nb101_network(cell, **TINY)


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"num_classes": 0}, "num_classes"),
        ({"stem_channels": 2.5}, "stem_channels"),
        ({"num_stacks": True}, "num_stacks"),
        ({"cells_per_stack": -1}, "cells_per_stack"),
        ({"stem_channels": 2}, "stem_channels=2 is too small"),
    ],
)
def test_invalid_sizes_raise(kwargs, match: str) -> None:
    # 3 interior vertices feed the output, so stem_channels must be at least 3
    cell = NB101Cell(
        [[0, 1, 1, 1, 0], [0, 0, 0, 0, 1], [0, 0, 0, 0, 1], [0, 0, 0, 0, 1], [0, 0, 0, 0, 0]],
        ["input", C3, C1, MP, "output"],
    )
    with pytest.raises(ValueError, match=match):
        build_nb101_network(cell, **{**TINY, **kwargs})
