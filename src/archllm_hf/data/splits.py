"""Deterministic train / validation / test split decided by a cell's canonical id."""

from __future__ import annotations

import hashlib

SPLITS: tuple[str, ...] = ("train", "validation", "test")
SPLIT_PERCENT: dict[str, int] = {"train": 90, "validation": 5, "test": 5}


def split_for_id(cell_id: str) -> str:
    """The split of a cell: 90 / 5 / 5 by the MD5 of its canonical id, so every machine agrees."""
    bucket = int.from_bytes(hashlib.md5(cell_id.encode("utf-8")).digest()[:8], "big") % 100
    if bucket < SPLIT_PERCENT["train"]:
        return "train"
    if bucket < SPLIT_PERCENT["train"] + SPLIT_PERCENT["validation"]:
        return "validation"
    return "test"


__all__ = ["SPLITS", "SPLIT_PERCENT", "split_for_id"]
