"""Deterministic train / validation / test split decided by a cell's canonical id, and arch2vec's own split."""

from __future__ import annotations

import hashlib
from typing import Any

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


ARCH2VEC_TRAIN_FRACTION = 0.9
"""arch2vec trains on the first 90 % of its data file and holds out the rest."""


def arch2vec_split(space: Any, cells: Any) -> Any:
    """arch2vec's split of a cells ``DatasetDict``: the first 90 % of its file order train, the rest is held out.

    * NB201: arch2vec's file is keyed by NB201 (API) index, so the cells are ordered by ``space.index`` and the
      first ``int(0.9 * n)`` train (14,062 of all 15,625; the last 1,563 are held out).
    * Other spaces: arch2vec's file order (NB101's ``hash_iterator`` order, DARTS' sampling order, shuffled)
      carries no structure a cell's canonical id does not, and we do not have it; the project's split, which is
      random by the MD5 of the id, stands in: its ``train`` trains, its ``validation`` and ``test`` are held out
      together (about 10 %).

    Returns a ``DatasetDict`` with ``train``, ``validation`` and ``test``; ``validation`` and ``test`` are both the
    held-out cells (arch2vec has no validation set: it reports on the held-out cells after every epoch).
    """
    import datasets

    missing = [name for name in SPLITS if name not in cells]
    if missing:
        raise ValueError(f"a cells DatasetDict needs the splits {SPLITS}; missing: {', '.join(missing)}")
    if callable(getattr(space, "index", None)):
        rows = datasets.concatenate_datasets([cells[name] for name in SPLITS])
        index = [space.index(space.from_record(row)) for row in rows]
        order = sorted(range(len(rows)), key=index.__getitem__)
        num_train = int(ARCH2VEC_TRAIN_FRACTION * len(rows))
        train, held_out = rows.select(order[:num_train]), rows.select(order[num_train:])
    else:
        train = cells["train"]
        held_out = datasets.concatenate_datasets([cells["validation"], cells["test"]])
    return datasets.DatasetDict({"train": train, "validation": held_out, "test": held_out})


__all__ = ["ARCH2VEC_TRAIN_FRACTION", "SPLITS", "SPLIT_PERCENT", "arch2vec_split", "split_for_id"]
