"""The DARTS evaluation network built from a DARTS genotype: parameter counts, forward/backward, wiring,
drop path, the auxiliary head and errors."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from archllm_hf.errors import InvalidCellError
from archllm_hf.networks.darts import (
    AUX_WEIGHT,
    DARTS_EVAL,
    DARTS_V2,
    NB301_TRAIN,
    OPS,
    DARTSNetwork,
    FactorizedReduce,
    ReLUConvBN,
    build_darts_network,
    count_parameters,
    drop_path,
    make_op,
)
from archllm_hf.spaces import DARTSCell, DARTSSpace

pytestmark = pytest.mark.usefixtures("one_torch_thread")

SPACE = DARTSSpace()
A2V = DARTSSpace(ops="arch2vec")
TINY = dict(channels=4, layers=5)
# DARTS' published DARTS_V2 genotype as its genotypes.py prints it.
DARTS_V2_TEXT = (
    "Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1), "
    "('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), ('dil_conv_3x3', 2)], "
    "normal_concat=range(2, 6), reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), "
    "('max_pool_3x3', 1), ('max_pool_3x3', 0), ('skip_connect', 2), ('skip_connect', 2), "
    "('max_pool_3x3', 1)], reduce_concat=range(2, 6))"
)
RANDOM_CELLS = SPACE.sample(4, seed=0)
# Every op of the arch2vec set, `none` included, in both cells.
NONE_CELL = A2V.parse(
    "Genotype(normal=[('none', 0), ('avg_pool_3x3', 1), ('sep_conv_5x5', 2), ('dil_conv_5x5', 0), "
    "('none', 3), ('none', 2), ('skip_connect', 4), ('max_pool_3x3', 1)], normal_concat=[2, 3, 4, 5], "
    "reduce=[('none', 0), ('none', 1), ('dil_conv_5x5', 2), ('sep_conv_5x5', 0), ('avg_pool_3x3', 1), "
    "('none', 3), ('none', 4), ('dil_conv_3x3', 2)], reduce_concat=[2, 3, 4, 5])"
)


def _images(size: int = 32, seed: int = 0) -> torch.Tensor:
    return torch.randn(2, 3, size, size, generator=torch.Generator().manual_seed(seed))


def _train_step(net: DARTSNetwork, images: torch.Tensor) -> torch.Tensor:
    """One forward/backward in train mode (with the auxiliary loss when there is a head); the logits."""
    net.train()
    target = torch.tensor([1, net.num_classes - 1])
    out = net(images)
    if net.auxiliary_head is not None:
        logits, aux_logits = out
        assert aux_logits.shape == (2, net.num_classes)
        assert torch.isfinite(aux_logits).all()
        loss = F.cross_entropy(logits, target) + AUX_WEIGHT * F.cross_entropy(aux_logits, target)
    else:
        logits = out
        loss = F.cross_entropy(logits, target)
    loss.backward()
    return logits


def _assert_all_grads(net: torch.nn.Module) -> None:
    missing = [name for name, p in net.named_parameters() if p.grad is None]
    assert not missing, f"parameters without a gradient: {missing[:5]} ({len(missing)} in all)"
    assert all(torch.isfinite(p.grad).all() for p in net.parameters())


# --- parameter counts -----------------------------------------------------------------------------------
def test_darts_v2_parameter_count():
    cell = SPACE.parse(DARTS_V2_TEXT)
    assert cell == DARTS_V2
    SPACE.check(cell)
    net = build_darts_network(cell, **DARTS_EVAL)
    n = count_parameters(net)
    print(f"DARTS_V2 C=36 L=20: {n:,} trainable parameters (no auxiliary head)")
    assert abs(n - 3.3e6) < 1e5  # the paper's 3.3 M
    assert n == 3_349_342  # the commonly quoted exact figure (3.35 M)
    assert n == sum(p.numel() for p in net.parameters())


def test_darts_v2_auxiliary_head_is_not_counted():
    net = build_darts_network(DARTS_V2, auxiliary=True)
    head = sum(p.numel() for p in net.auxiliary_head.parameters())
    with_aux = count_parameters(net, auxiliary=True)
    print(f"DARTS_V2 C=36 L=20 with auxiliary head: {with_aux:,} trainable parameters")
    assert count_parameters(net) == 3_349_342
    assert with_aux == 3_349_342 + head
    # ReLU, conv1x1 576→128, BN(128), ReLU, conv2x2 128→768, BN(768), linear 768→10.
    assert head == 576 * 128 + 2 * 128 + 128 * 768 * 4 + 2 * 768 + 768 * 10 + 10


def test_skeleton_of_the_presets():
    net = build_darts_network(DARTS_V2, **NB301_TRAIN)
    assert NB301_TRAIN == dict(channels=32, layers=8) and DARTS_EVAL == dict(channels=36, layers=20)
    assert len(net.cells) == 8 and net.reduction_layers == (2, 5)
    assert [cell.reduction for cell in net.cells] == [i in (2, 5) for i in range(8)]
    assert net.stem[0].out_channels == 96
    # c_{k-2} of the cell after a reduction cell has twice the resolution: FactorizedReduce.
    assert [isinstance(cell.preprocess0, FactorizedReduce) for cell in net.cells] == [
        i in (3, 6) for i in range(8)
    ]
    assert all(isinstance(cell.preprocess1, ReLUConvBN) for cell in net.cells)
    assert net.classifier.in_features == 4 * 4 * 32
    big = build_darts_network(DARTS_V2)
    assert len(big.cells) == 20 and big.reduction_layers == (6, 13) and big.auxiliary_layer == 13


# --- forward / backward ---------------------------------------------------------------------------------
@pytest.mark.parametrize("cell", RANDOM_CELLS, ids=[SPACE.canonical_id(c)[:8] for c in RANDOM_CELLS])
def test_forward_backward_random_cells(cell):
    net = build_darts_network(cell, num_classes=10, auxiliary=True, **TINY)
    logits = _train_step(net, _images())
    assert logits.shape == (2, 10)
    assert torch.isfinite(logits).all()
    _assert_all_grads(net)


def test_forward_backward_with_none_ops():
    net = build_darts_network(NONE_CELL, num_classes=5, auxiliary=True, drop_path_prob=0.3, **TINY)
    logits = _train_step(net, _images())
    assert logits.shape == (2, 5) and torch.isfinite(logits).all()
    _assert_all_grads(net)


def test_every_op_shapes():
    x = torch.randn(2, 6, 9, 9)
    for op in OPS:
        assert make_op(op, 6, 1)(x).shape == (2, 6, 9, 9), op
        assert make_op(op, 6, 2)(x).shape == (2, 6, 5, 5), op
    # Pools carry no parameters (no BN after them in the evaluation network).
    assert not list(make_op("max_pool_3x3", 6, 2).parameters())
    assert not list(make_op("avg_pool_3x3", 6, 1).parameters())
    assert isinstance(make_op("skip_connect", 6, 1), torch.nn.Identity)
    assert isinstance(make_op("skip_connect", 6, 2), FactorizedReduce)


@pytest.mark.parametrize("size", [31, 33])
def test_odd_image_sizes(size):
    net = build_darts_network(RANDOM_CELLS[0], **TINY).eval()
    with torch.no_grad():
        assert net(_images(size)).shape == (2, 10)


# --- auxiliary head, train and eval ---------------------------------------------------------------------
def test_auxiliary_head_train_and_eval():
    torch.manual_seed(0)
    net = build_darts_network(DARTS_V2, auxiliary=True, **TINY)
    images = _images()
    net.train()
    out = net(images)
    assert isinstance(out, tuple) and len(out) == 2
    assert out[0].shape == out[1].shape == (2, 10)
    net.eval()
    with torch.no_grad():
        logits = net(images)
    assert isinstance(logits, torch.Tensor) and logits.shape == (2, 10)
    plain = build_darts_network(DARTS_V2, auxiliary=False, **TINY)
    assert plain.auxiliary_head is None
    assert isinstance(plain.train()(images), torch.Tensor)
    # The head does not change the main path: same weights give the same eval logits.
    plain.load_state_dict({k: v for k, v in net.state_dict().items() if not k.startswith("auxiliary_head.")})
    with torch.no_grad():
        torch.testing.assert_close(plain.eval()(images), logits)


# --- drop path ------------------------------------------------------------------------------------------
def test_drop_path_function():
    torch.manual_seed(0)
    out = drop_path(torch.ones(4000, 2, 3, 3), torch.tensor(0.25))
    per_sample = out[:, 0, 0, 0]
    torch.testing.assert_close(torch.unique(out), torch.tensor([0.0, 4 / 3]))
    assert (out == per_sample[:, None, None, None]).all()  # one decision per sample
    assert abs((per_sample == 0).float().mean().item() - 0.25) < 0.03


def test_drop_path_in_training_only():
    net = build_darts_network(DARTS_V2, drop_path_prob=0.5, **TINY)
    assert net.drop_path_prob == 0.5
    images = _images()
    torch.manual_seed(0)
    net.train()
    first, second = net(images), net(images)
    assert first.shape == second.shape == (2, 10)
    assert torch.isfinite(first).all() and not torch.equal(first, second)
    net.eval()
    with torch.no_grad():
        torch.testing.assert_close(net(images), net(images), rtol=0, atol=0)
    net.drop_path_prob = 0.0  # off: training is deterministic again
    net.train()
    torch.testing.assert_close(net(images), net(images), rtol=0, atol=0)
    with pytest.raises(ValueError, match="drop_path_prob"):
        net.drop_path_prob = 1.0


# --- errors ---------------------------------------------------------------------------------------------
def _with_pair(index: int, pair: tuple[str, int], half: str = "normal") -> DARTSCell:
    pairs = list(getattr(DARTS_V2, half))
    pairs[index] = pair
    other = DARTS_V2.reduce if half == "normal" else DARTS_V2.normal
    return DARTSCell(tuple(pairs), other) if half == "normal" else DARTSCell(other, tuple(pairs))


@pytest.mark.parametrize(
    ("cell", "match"),
    [
        (DARTS_V2_TEXT, "needs a DARTSCell, got str"),
        ((DARTS_V2.normal, DARTS_V2.reduce), "needs a DARTSCell, got tuple"),
        (None, "needs a DARTSCell"),
        (_with_pair(3, ("conv_7x1", 1)), "normal cell, node 3: unknown DARTS op 'conv_7x1'"),
        (_with_pair(7, ("nor_conv_3x3", 2), "reduce"), "reduce cell, node 5: unknown DARTS op"),
        (_with_pair(0, ("sep_conv_3x3", 2)), "normal cell, node 2: input 2 is not an earlier node"),
        (_with_pair(6, ("max_pool_3x3", 5), "reduce"), "reduce cell, node 5: input 5 is not an earlier node"),
        (_with_pair(2, ("sep_conv_3x3", -1)), "input -1 is not an earlier node"),
        (_with_pair(1, ("sep_conv_3x3", 0)), "both inputs are node 0"),
    ],
)
def test_invalid_cells_raise(cell, match):
    with pytest.raises(InvalidCellError, match=match):
        build_darts_network(cell, **TINY)


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(channels=0),
        dict(layers=-1),
        dict(num_classes=2.5),
        dict(channels=True),
        dict(drop_path_prob=1.0),
        dict(drop_path_prob=-0.1),
        dict(drop_path_prob=float("nan")),
    ],
)
def test_invalid_sizes_raise(kwargs):
    with pytest.raises(ValueError):
        build_darts_network(DARTS_V2, **{**TINY, **kwargs})
