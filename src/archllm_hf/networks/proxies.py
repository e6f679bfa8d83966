"""Data-free proxies of a network's quality, measured on the built network (no training, no data).

* :func:`num_parameters`: trainable parameters.
* :func:`flops`: floating-point operations of one forward pass of a ``1 × 3 × size × size`` input, counted by
  ``torch.utils.flop_counter`` (a multiply-add counts 2).
* :func:`synflow`: SynFlow (Tanaka et al., 2020), as used as a zero-cost proxy (Abdelfattah et al., 2021): every
  weight replaced by its absolute value, an all-ones input, ``R = sum(output)``, and the score
  ``sum(|θ · ∂R/∂θ|)`` over all parameters; computed in float64 on a copy in eval mode, so the network itself is
  left as it was.

Random-input proxies: each sees the same seeded batch of ``batch_size`` Gaussian images (and, where a loss is needed,
uniformly drawn labels), never real data. Each works on a copy of the network in training mode (batch statistics,
as the papers that define them), so the network itself is left as it was.

* :func:`naswot`: NASWOT (Mellor et al., 2021): the binary codes of every ReLU's input (``x > 0``) over the batch;
  ``K[i, j]`` counts the units where images ``i`` and ``j`` agree; the score is ``log |det K|``.
* :func:`jacov`: the Jacobian covariance score of NASWOT's first version: the gradients of the summed logits with
  respect to each input image, their ``B × B`` correlation matrix ``C`` with eigenvalues ``λ``, and the score
  ``-Σ (log(λ + 1e-5) + 1 / (λ + 1e-5))``.
* :func:`grad_norm`: ``Σ ||∂L/∂W||₂`` over the weights of every convolution and linear layer, ``L`` the
  cross-entropy of random labels (Abdelfattah et al., 2021).
* :func:`snip`: ``Σ |W ⊙ ∂L/∂W|`` over the same weights and loss (SNIP's connection sensitivity, Lee et al., 2019,
  as a zero-cost proxy).

``PROXIES`` maps each name to its function; :func:`proxy_of` applies one to a cell of a space, on a network whose
weights are initialised from a fixed seed, so the same cell always gets the same value.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode


def num_parameters(module: nn.Module, input_size: int = 32) -> float:
    """Trainable parameters (``input_size`` is unused; every proxy takes it)."""
    return float(sum(p.numel() for p in module.parameters() if p.requires_grad))


@torch.no_grad()
def flops(module: nn.Module, input_size: int = 32) -> float:
    """FLOPs of one forward pass on a ``1 × 3 × input_size × input_size`` input, in eval mode."""
    was_training = module.training
    module.eval()
    try:
        with FlopCounterMode(display=False) as counter:
            module(torch.zeros(1, 3, input_size, input_size, device=_device(module)))
        return float(counter.get_total_flops())
    finally:
        module.train(was_training)


@torch.enable_grad()  # gradients are the proxy, whatever the caller's grad mode
def synflow(module: nn.Module, input_size: int = 32) -> float:
    """The SynFlow score of ``module`` (see the module docstring); the module is not changed."""
    probe = copy.deepcopy(module).double().eval()
    with torch.no_grad():
        for parameter in probe.parameters():
            parameter.abs_()
    probe.zero_grad(set_to_none=True)
    output = probe(torch.ones(1, 3, input_size, input_size, dtype=torch.float64, device=_device(module)))
    output = output[0] if isinstance(output, tuple) else output
    output.sum().backward()
    score = sum(
        (p * p.grad).abs().sum().item() for p in probe.parameters() if p.grad is not None and p.requires_grad
    )
    return float(score)


PROBE_BATCH_SIZE = 16
"""Images in the seeded random batch of the random-input proxies."""


def _probe_batch(
    module: nn.Module, input_size: int, batch_size: int, seed: int
) -> tuple[nn.Module, torch.Tensor, torch.Tensor]:
    """A training-mode copy of ``module``, a seeded batch of Gaussian images and random labels for its classes."""
    probe = copy.deepcopy(module).train()
    generator = torch.Generator().manual_seed(seed)
    images = torch.randn(batch_size, 3, input_size, input_size, generator=generator)
    device = _device(module)
    with torch.no_grad():
        num_classes = probe(images[:1].to(device)).shape[-1]
    labels = torch.randint(num_classes, (batch_size,), generator=generator)
    return probe, images.to(device), labels.to(device)


def _weights(module: nn.Module) -> list[torch.Tensor]:
    return [
        layer.weight
        for layer in module.modules()
        if isinstance(layer, (nn.Conv2d, nn.Linear)) and layer.weight.requires_grad
    ]


@torch.enable_grad()  # gradients are the proxies, whatever the caller's grad mode
def _random_input_proxies(
    module: nn.Module, names: set[str], input_size: int, batch_size: int, seed: int
) -> dict[str, float]:
    """The random-input proxies in ``names`` from one forward pass of a probe copy and at most two backward passes."""
    probe, images, labels = _probe_batch(module, input_size, batch_size, seed)
    kernel = torch.zeros(batch_size, batch_size, dtype=torch.float64, device=images.device)

    def count_agreements(_: nn.Module, inputs: tuple[torch.Tensor, ...], __: Any) -> None:
        codes = (inputs[0].detach().flatten(1) > 0).double()
        kernel.add_(codes @ codes.T + (1 - codes) @ (1 - codes).T)

    hooks = []
    if "naswot" in names:
        hooks = [
            layer.register_forward_hook(count_agreements)
            for layer in probe.modules()
            if isinstance(layer, nn.ReLU)
        ]
    images.requires_grad_("jacov" in names)
    try:
        logits = probe(images)
    finally:
        for hook in hooks:
            hook.remove()
    values: dict[str, float] = {}
    if "naswot" in names:
        sign, logabsdet = torch.linalg.slogdet(kernel)
        # K is an integer matrix: nonsingular means |det K| >= 1, so a singular K (0) sits just below every other
        values["naswot"] = float(logabsdet) if sign != 0 else 0.0
    loss_proxies = names & {"grad_norm", "snip"}
    if "jacov" in names:
        (jacobians,) = torch.autograd.grad(logits.sum(), images, retain_graph=bool(loss_proxies))
        correlation = torch.nan_to_num(torch.corrcoef(jacobians.detach().flatten(1).double()))
        eigenvalues = torch.linalg.eigvalsh(correlation).clamp(min=0)
        values["jacov"] = float(-(torch.log(eigenvalues + 1e-5) + 1.0 / (eigenvalues + 1e-5)).sum())
    if loss_proxies:
        weights = _weights(probe)
        grads = torch.autograd.grad(nn.functional.cross_entropy(logits, labels), weights, allow_unused=True)
        pairs = [(w.detach(), g) for w, g in zip(weights, grads) if g is not None]
        if "grad_norm" in names:
            values["grad_norm"] = float(sum(g.norm().item() for _, g in pairs))
        if "snip" in names:
            values["snip"] = float(sum((w * g).abs().sum().item() for w, g in pairs))
    return values


def naswot(
    module: nn.Module, input_size: int = 32, batch_size: int = PROBE_BATCH_SIZE, seed: int = 0
) -> float:
    """NASWOT's ``log |det K|`` of the ReLU activation codes on a seeded random batch (0 where ``K`` is singular)."""
    return _random_input_proxies(module, {"naswot"}, input_size, batch_size, seed)["naswot"]


def jacov(
    module: nn.Module, input_size: int = 32, batch_size: int = PROBE_BATCH_SIZE, seed: int = 0
) -> float:
    """The Jacobian covariance score on a seeded random batch (see the module docstring)."""
    return _random_input_proxies(module, {"jacov"}, input_size, batch_size, seed)["jacov"]


def grad_norm(
    module: nn.Module, input_size: int = 32, batch_size: int = PROBE_BATCH_SIZE, seed: int = 0
) -> float:
    """``Σ ||∂L/∂W||₂`` over convolution and linear weights, random images and labels (see the module docstring)."""
    return _random_input_proxies(module, {"grad_norm"}, input_size, batch_size, seed)["grad_norm"]


def snip(module: nn.Module, input_size: int = 32, batch_size: int = PROBE_BATCH_SIZE, seed: int = 0) -> float:
    """``Σ |W ⊙ ∂L/∂W|`` over convolution and linear weights, random images and labels (see the module docstring)."""
    return _random_input_proxies(module, {"snip"}, input_size, batch_size, seed)["snip"]


RANDOM_INPUT_PROXIES = frozenset({"naswot", "jacov", "grad_norm", "snip"})


def measure_proxies(
    module: nn.Module,
    names: Sequence[str],
    input_size: int = 32,
    batch_size: int = PROBE_BATCH_SIZE,
    seed: int = 0,
) -> dict[str, float]:
    """Every proxy in ``names`` of one network, the random-input ones sharing their passes (the values equal the
    single functions'). The network is left as it was."""
    unknown = sorted(set(names) - set(PROXIES))
    if unknown:
        raise ValueError(f"unknown proxies {', '.join(unknown)}; choose from {', '.join(PROXIES)}")
    values: dict[str, float] = {}
    shared = set(names) & RANDOM_INPUT_PROXIES
    if shared:
        values.update(_random_input_proxies(module, shared, input_size, batch_size, seed))
    for name in names:
        if name not in values:
            values[name] = PROXIES[name](module, input_size=input_size)
    return {name: values[name] for name in names}


PROXIES: dict[str, Callable[..., float]] = {
    "params": num_parameters,
    "flops": flops,
    "synflow": synflow,
    "naswot": naswot,
    "jacov": jacov,
    "grad_norm": grad_norm,
    "snip": snip,
}
LOG_SCALE_PROXIES = frozenset({"params", "flops", "synflow", "grad_norm", "snip"})
"""Proxies whose values span orders of magnitude: models and plots read them as ``log10``."""

LOG10_OBJECTIVE_PROXIES = frozenset({"synflow"})
"""Proxies that span tens to hundreds of orders of magnitude (SynFlow multiplies over the layers: 1e17 to 1e36 on
NB201's benchmark network, up to 2.3e118 on DARTS' evaluation network), so that a search on them maximises, records, reports and plots
their ``log10`` (as the SynFlow paper plots it), in a column named ``log10_<proxy>``; see :func:`proxy_objective`."""

LOG10_OF_ZERO = -324.0
"""The ``log10`` a proxy value of 0 is given: below that of every positive float64 (the smallest, 5e-324, has
-323.3), so that the objective stays a finite number and 0 still ranks last."""


def proxy_objective(proxy: str) -> str:
    """The objective column of a search on ``proxy``: ``log10_<proxy>`` for :data:`LOG10_OBJECTIVE_PROXIES`, the
    proxy's name otherwise."""
    return f"log10_{proxy}" if proxy in LOG10_OBJECTIVE_PROXIES else proxy


def objective_value(proxy: str, value: float) -> float:
    """``value`` of ``proxy`` as the objective :func:`proxy_objective` names: its ``log10`` (0 gives
    :data:`LOG10_OF_ZERO`) for :data:`LOG10_OBJECTIVE_PROXIES`, the value itself otherwise."""
    if proxy not in LOG10_OBJECTIVE_PROXIES:
        return value
    if value < 0:
        raise ValueError(f"{proxy} is never negative, got {value}")
    return math.log10(value) if value > 0 else LOG10_OF_ZERO


def seeded_network(space: Any, cell: Any, seed: int = 0, **network: Any) -> nn.Module:
    """``space.to_module(cell, **network)`` initialised from ``seed`` (the global torch RNG is left as it was), so
    that a proxy of the initial weights, SynFlow's, is the same on every call."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return space.to_module(cell, **network)


def proxy_of(space: Any, cell: Any, proxy: str, input_size: int = 32, seed: int = 0, **network: Any) -> float:
    """``proxy`` (a key of :data:`PROXIES`) of the network ``space.to_module(cell, **network)``, its weights
    initialised from ``seed``."""
    try:
        function = PROXIES[proxy]
    except KeyError:
        raise ValueError(f"unknown proxy {proxy!r}; choose one of {', '.join(PROXIES)}") from None
    return function(seeded_network(space, cell, seed, **network), input_size=input_size)


def _device(module: nn.Module) -> torch.device:
    parameter = next(module.parameters(), None)
    return parameter.device if parameter is not None else torch.device("cpu")


__all__ = [
    "LOG10_OBJECTIVE_PROXIES",
    "LOG10_OF_ZERO",
    "LOG_SCALE_PROXIES",
    "PROBE_BATCH_SIZE",
    "PROXIES",
    "RANDOM_INPUT_PROXIES",
    "flops",
    "grad_norm",
    "jacov",
    "measure_proxies",
    "naswot",
    "num_parameters",
    "objective_value",
    "proxy_objective",
    "proxy_of",
    "seeded_network",
    "snip",
    "synflow",
]
