"""Small shared utilities: atomic writes, folder locks, seeding, logging."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any


LOCK_NAME = ".archllm.lock"
"""The lock file :func:`folder_lock` holds in an output folder while a run writes it."""


def _new_file_mode() -> int:
    """The mode ``open()`` gives a new file under the current umask (``tempfile.mkstemp`` makes its files 0600, so
    a file written through one gets this mode before it is renamed into place)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` to ``path`` through a temporary file in the same folder, then rename it into place."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file in the same folder, then rename it into place."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, _new_file_mode())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


@contextmanager
def atomic_writer(path: str | os.PathLike) -> Iterator[Any]:
    """A text handle on a temporary file beside ``path``, renamed to ``path`` only if the block succeeds (for
    writing a large file as it is produced); on error, or an interruption, the temporary file is removed."""
    path = Path(path)
    check_output_file(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            yield handle
        os.chmod(tmp, _new_file_mode())
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)


def check_output_file(path: str | os.PathLike, what: str = "--out") -> Path:
    """Refuse, before any work, an output file path that cannot be written: a folder, or one under a file."""
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"{what} {path} is a folder; give the path of the file to write")
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise NotADirectoryError(f"{what} {path}: {parent} is a file, not a folder")
            if not os.access(parent, os.W_OK | os.X_OK):
                raise PermissionError(f"{what} {path}: cannot write into {parent}")
            break
    return path


def check_output_folder(path: str | os.PathLike, what: str = "--out") -> Path:
    """Refuse, before any work, an output folder path that cannot be a folder (an existing file, or under one)."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise NotADirectoryError(f"{what} {path} is a file; give a folder")
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise NotADirectoryError(f"{what} {path}: {parent} is a file, not a folder")
            break
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

    An existing ``path`` is replaced as a whole; on error it is left untouched and no temporary folder is left
    behind. ``path`` is resolved first, so ``.`` or ``sub/..`` name the folder they point to.
    """
    path = Path(path).resolve()
    if not path.name:
        raise ValueError(f"cannot replace the root folder {path}")
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    try:
        tmp.chmod(0o755)
        yield tmp
        old = None
        if path.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".old", dir=path.parent))
            os.replace(path, old)
        try:
            os.replace(tmp, path)
        except BaseException:
            if old is not None:
                os.replace(old, path)
            raise
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


@contextmanager
def atomic_files(out_dir: str | os.PathLike, last: tuple[str, ...] = ()) -> Iterator[Path]:
    """Stage files in a temporary folder and move them into ``out_dir`` only if the block succeeds.

    Unlike :func:`atomic_directory`, other files already in ``out_dir`` (e.g. ``checkpoints/``) are kept. The
    files named in ``last`` are moved in last, in that order (markers that say the folder is complete).
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    staged = Path(tempfile.mkdtemp(prefix=".staged.", suffix=".tmp", dir=out_dir))
    try:
        yield staged
        rank = {name: i for i, name in enumerate(last)}
        for item in sorted(staged.iterdir(), key=lambda item: rank.get(item.name, -1)):
            target = out_dir / item.name
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target)
            os.replace(item, target)
    finally:
        shutil.rmtree(staged, ignore_errors=True)


@contextmanager
def folder_lock(folder: str | os.PathLike) -> Iterator[None]:
    """Hold an exclusive lock on ``folder`` for the block (a ``.archllm.lock`` file in it, removed afterwards); a
    folder another process holds is refused at once. The lock goes with the process, so a killed run leaves only
    an unlocked file, which the next run takes over."""
    import fcntl

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / LOCK_NAME
    while True:
        handle = open(path, "a+")  # noqa: SIM115 - closed below
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise RuntimeError(
                f"{folder} is in use by another archllm run; wait for it or choose another --out"
            ) from None
        try:  # the holder before us may have removed the file between our open and our lock: lock the new one
            if os.path.samestat(os.fstat(handle.fileno()), os.stat(path)):
                break
        except FileNotFoundError:
            pass
        handle.close()
    try:
        yield
    finally:
        path.unlink(missing_ok=True)
        handle.close()


def remove_stale_temporaries(folder: str | os.PathLike, name: str) -> list[Path]:
    """Remove the temporary folders and files an interrupted (killed) atomic write of ``folder/name`` left
    (``.name.XXXX.tmp`` / ``.old``); call it only while holding :func:`folder_lock` on ``folder``."""
    removed = []
    for stale in Path(folder).glob(f".{name}.*"):
        if stale.name.endswith((".tmp", ".old")) or ".tmp." in stale.name:
            if stale.is_dir() and not stale.is_symlink():
                shutil.rmtree(stale, ignore_errors=True)
            else:
                stale.unlink(missing_ok=True)
            removed.append(stale)
    return removed


def atomic_save_figure(fig: Any, path: str | os.PathLike) -> Path:
    """Save a matplotlib figure to ``path`` through a temporary file, close it, and return the path."""
    import matplotlib.pyplot as plt

    path = Path(path)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=f".tmp{path.suffix}", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        fig.savefig(tmp, format=path.suffix.lstrip(".") or None)
        os.chmod(tmp, _new_file_mode())
        os.replace(tmp, path)
    finally:
        plt.close(fig)
        tmp.unlink(missing_ok=True)
    return path


def is_main_process() -> bool:
    """True on rank 0 of an initialised ``torch.distributed`` group, and always when there is none."""
    import torch.distributed as dist

    return not (dist.is_available() and dist.is_initialized()) or dist.get_rank() == 0


def wait_for_everyone() -> None:
    """Barrier over all processes of the ``torch.distributed`` group; does nothing when there is none."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.barrier()


_LOAD_REPORT_LOGGERS = ("transformers.modeling_utils", "transformers.utils.loading_report")
"""The loggers transformers writes a model's load report to ("MISSING ... newly initialized", unexpected keys)."""


def _errors_only(record: Any) -> bool:
    return record.levelno >= 40  # logging.ERROR: errors still show


@contextmanager
def quiet_loading() -> Iterator[None]:
    """Load (or save) the package's own models without transformers' console report: no "Loading weights" or
    "Writing model shards" bar and no load report (``MISSING`` / ``UNEXPECTED`` keys, "newly initialized"). Scoped to the ``with`` block: a filter on the
    report's loggers and transformers' tqdm hook, both taken off afterwards; nothing is silenced when the user has
    asked transformers for INFO logs (``transformers.logging.set_verbosity_info()``).

    The loggers' levels are left alone: transformers 5 runs an extra check, with warnings of its own, when the
    ``transformers.modeling_utils`` logger has a level of WARNING or above (``verify_tp_plan``).
    """
    import logging

    from transformers.utils import logging as hf_logging

    if hf_logging.get_verbosity() <= logging.INFO:
        yield
        return
    loggers = [logging.getLogger(name) for name in _LOAD_REPORT_LOGGERS]
    previous_hook = None

    def no_bar(factory: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        kwargs = {**kwargs, "disable": True}
        return previous_hook(factory, args, kwargs) if previous_hook is not None else factory(*args, **kwargs)

    for logger in loggers:
        logger.addFilter(_errors_only)
    previous_hook = hf_logging.set_tqdm_hook(no_bar)
    try:
        yield
    finally:
        hf_logging.set_tqdm_hook(previous_hook)
        for logger in loggers:
            logger.removeFilter(_errors_only)


__all__ = [
    "atomic_directory",
    "atomic_files",
    "atomic_save_figure",
    "atomic_write_bytes",
    "atomic_write_json",
    "atomic_write_jsonl",
    "atomic_write_text",
    "atomic_writer",
    "check_output_file",
    "check_output_folder",
    "folder_lock",
    "remove_stale_temporaries",
    "is_main_process",
    "quiet_loading",
    "wait_for_everyone",
]
