"""Argument checks shared by the network builders."""

from __future__ import annotations

from ..spaces.base import as_index


def positive_int(name: str, value: object) -> int:
    """``value`` as an int, or a ``ValueError`` naming ``name`` unless it is an integer >= 1 (bools refused)."""
    number = as_index(value)
    if number is None or number < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return number


def positive_ints(**sizes: object) -> dict[str, int]:
    """Each of ``sizes`` checked by :func:`positive_int` under its own name, in order."""
    return {name: positive_int(name, value) for name, value in sizes.items()}
