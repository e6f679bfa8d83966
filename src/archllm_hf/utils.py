"""Small shared utilities: atomic writes, seeding, logging."""

from __future__ import annotations

import json
import os
import random
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` to ``path`` through a temporary file in the same folder, then rename it into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Binary version of :func:`atomic_write_text` (e.g. a PNG)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_write_json(path: str | os.PathLike, data: Any) -> Path:
    """JSON version of :func:`atomic_write_text` (indented, keys in insertion order, trailing newline)."""
    return atomic_write_text(path, json.dumps(data, indent=2) + "\n")


def atomic_write_jsonl(path: str | os.PathLike, rows: Iterable[Any]) -> Path:
    """JSON Lines version of :func:`atomic_write_text`: one JSON value per line."""
    return atomic_write_text(path, "".join(json.dumps(row) + "\n" for row in rows))


@contextmanager
def atomic_directory(path: str | os.PathLike) -> Iterator[Path]:
    """Build a directory under a temporary name and move it to ``path`` only if the block succeeds.

    An existing ``path`` is replaced as a whole; on error it is left untouched.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    tmp.chmod(0o755)
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    old = None
    if path.exists():
        old = path.with_name(f".{path.name}.old-{os.getpid()}")
        os.replace(path, old)
    os.replace(tmp, path)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


@contextmanager
def atomic_files(out_dir: str | os.PathLike, last: tuple[str, ...] = ()) -> Iterator[Path]:
    """Stage files in a temporary folder and move them into ``out_dir`` only if the block succeeds.

    Unlike :func:`atomic_directory`, other files already in ``out_dir`` (e.g. ``checkpoints/``) are kept. The
    files named in ``last`` are moved in last, in that order (markers that say the folder is complete).
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with atomic_directory(out_dir / ".staged") as tmp:
        yield tmp
    staged = out_dir / ".staged"
    rank = {name: i for i, name in enumerate(last)}
    for item in sorted(staged.iterdir(), key=lambda item: rank.get(item.name, -1)):
        target = out_dir / item.name
        if target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        os.replace(item, target)
    staged.rmdir()


def atomic_save_figure(fig: Any, path: str | os.PathLike) -> Path:
    """Save a matplotlib figure to ``path`` through a temporary file, close it, and return the path."""
    import matplotlib.pyplot as plt

    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp{path.suffix}")
    try:
        fig.savefig(tmp)
        os.replace(tmp, path)
    finally:
        plt.close(fig)
        tmp.unlink(missing_ok=True)
    return path


def set_seed(seed: int) -> None:
    """Seed Python, NumPy and torch (CPU and CUDA) for reproducible runs."""
    import numpy as np
    import torch

    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def is_main_process() -> bool:
    """True on rank 0 of an initialised ``torch.distributed`` group, and always when there is none."""
    import torch.distributed as dist

    return not (dist.is_available() and dist.is_initialized()) or dist.get_rank() == 0


def wait_for_everyone() -> None:
    """Barrier over all processes of the ``torch.distributed`` group; does nothing when there is none."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.barrier()


__all__ = [
    "atomic_directory",
    "atomic_files",
    "atomic_save_figure",
    "atomic_write_bytes",
    "atomic_write_json",
    "atomic_write_jsonl",
    "atomic_write_text",
    "is_main_process",
    "set_seed",
    "wait_for_everyone",
]
