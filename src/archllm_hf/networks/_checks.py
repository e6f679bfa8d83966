"""Argument checks shared by the network builders."""

from __future__ import annotations

import operator


def positive_int(name: str, value: object) -> int:
    """``value`` as an int, or a ``ValueError`` naming ``name`` unless it is an integer >= 1 (bools refused)."""
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    try:
        number = operator.index(value)
    except TypeError:
        raise ValueError(f"{name} must be a positive integer, got {type(value).__name__}") from None
    if number < 1:
        raise ValueError(f"{name} must be a positive integer, got {number}")
    return number


def positive_ints(**sizes: object) -> dict[str, int]:
    """Each of ``sizes`` checked by :func:`positive_int` under its own name, in order."""
    return {name: positive_int(name, value) for name, value in sizes.items()}
