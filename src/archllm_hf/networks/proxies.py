"""Data-free proxies of a network's quality, measured on the built network (no training, no data).

* :func:`num_parameters`: trainable parameters.
* :func:`flops`: floating-point operations of one forward pass of a ``1 × 3 × size × size`` input, counted by
  ``torch.utils.flop_counter`` (a multiply-add counts 2).
* :func:`synflow`: SynFlow (Tanaka et al., 2020), as used as a zero-cost proxy (Abdelfattah et al., 2021): every
  weight replaced by its absolute value, an all-ones input, ``R = sum(output)``, and the score
  ``sum(|θ · ∂R/∂θ|)`` over all parameters; computed in float64 on a copy in eval mode, so the network itself is
  left as it was.

``PROXIES`` maps each name to its function; :func:`proxy_of` applies one to a cell of a space, on a network whose
weights are initialised from a fixed seed, so the same cell always gets the same value.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
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


PROXIES: dict[str, Callable[..., float]] = {"params": num_parameters, "flops": flops, "synflow": synflow}


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


__all__ = ["PROXIES", "flops", "num_parameters", "proxy_of", "seeded_network", "synflow"]
