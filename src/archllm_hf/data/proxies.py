"""Label-free proxy columns of a space's cells, measured once and cached.

:func:`proxy_table` measures the data-free and random-input proxies of :mod:`archllm_hf.networks.proxies` on each
cell's network (``space.to_module`` with the space's ``proxy_network`` preset, weights from a fixed seed) and keeps
every result in a JSON-lines cache as it is measured: an interrupted run resumes where it stopped, several processes
may fill one cache (each line is one atomic append), and a cache measured with other settings is refused rather
than mixed.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from ..presets import PROXY_NAMES, preset
from ..spaces import SearchSpace

DEFAULT_PROXIES = PROXY_NAMES
"""The proxies of a space's proxy columns and of the predictor's pretraining, in this order."""


def proxy_settings(space: SearchSpace, names: Sequence[str] = DEFAULT_PROXIES, seed: int = 0) -> dict[str, Any]:
    """What a cache's values depend on: the space, the network sizes, the weights' and the random batch's seed."""
    return {
        "space": space.name,
        "proxies": list(names),
        "network": preset(space.name).proxy_network,
        "seed": seed,
    }


def proxy_table(
    space: SearchSpace,
    cells: Sequence[Any],
    names: Sequence[str] = DEFAULT_PROXIES,
    cache: str | os.PathLike | None = None,
    seed: int = 0,
    progress: bool = False,
) -> dict[str, dict[str, float]]:
    """``{canonical id: {proxy: value}}`` for ``cells``, measuring only the cells the ``cache`` lacks.

    Raises ``ValueError`` for an unknown proxy or a cache written with other settings, and
    :class:`~archllm_hf.errors.InvalidCellError` for a cell the space rejects.
    """
    from ..networks.proxies import PROXIES, measure_proxies, seeded_network

    unknown = sorted(set(names) - set(PROXIES))
    if unknown:
        raise ValueError(f"unknown proxies {', '.join(unknown)}; choose from {', '.join(PROXIES)}")
    settings = proxy_settings(space, names, seed)
    known = read_proxy_cache(cache, settings) if cache is not None else {}
    ids = [space.canonical_id(cell) for cell in cells]
    todo = {cell_id: cell for cell_id, cell in zip(ids, cells) if cell_id not in known}
    sink = None
    if cache is not None and todo:
        path = Path(cache)
        path.parent.mkdir(parents=True, exist_ok=True)
        _drop_unfinished_line(path)
        if not path.is_file():
            _append(path, {"settings": settings})
        sink = path
    network = settings["network"]
    for cell_id, cell in tqdm(todo.items(), desc=f"proxies of {space.name} cells", unit="cell", disable=not progress):
        start = time.perf_counter()
        values = measure_proxies(seeded_network(space, cell, seed, **network), names)
        known[cell_id] = values
        if sink is not None:
            _append(sink, {"id": cell_id, "proxies": values, "seconds": time.perf_counter() - start})
    return {cell_id: known[cell_id] for cell_id in ids}


def read_proxy_cache(cache: str | os.PathLike, settings: dict[str, Any]) -> dict[str, dict[str, float]]:
    """The values a cache holds (a last line cut short by a killed run is ignored); ``{}`` if there is none."""
    path = Path(cache)
    if not path.is_file():
        return {}
    lines = path.read_text().split("\n")
    rows = []
    for number, line in enumerate(lines[:-1], 1):  # the text after the last newline is an unfinished line
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError:
            raise ValueError(f"{path}, line {number}: not a JSON row of a proxy cache") from None
    if not rows or rows[0].get("settings") is None:
        raise ValueError(f"{path} is not a proxy cache (its first line names no settings)")
    if rows[0]["settings"] != settings:
        raise ValueError(
            f"{path} was measured with {rows[0]['settings']}, not {settings}: use another cache file"
        )
    return {row["id"]: row["proxies"] for row in rows[1:]}


class ProxyScaler:
    """Maps proxy values to ``[-1, 1]`` by their rank among a reference set of cells (the space's proxy columns):
    label-free, blind to each proxy's scale (SynFlow spans hundreds of orders of magnitude) and fixed once fitted,
    so cells measured later map the same way. A value that is not finite ranks below every finite one."""

    def __init__(self, names: Sequence[str], quantiles: np.ndarray):
        self.names = list(names)
        self.quantiles = np.asarray(quantiles, dtype=np.float64)
        if self.quantiles.ndim != 2 or self.quantiles.shape[0] != len(self.names):
            raise ValueError(f"quantiles must be [{len(self.names)}, Q], got {self.quantiles.shape}")

    @classmethod
    def fit(
        cls, values: dict[str, dict[str, float]], names: Sequence[str], num_quantiles: int = 1001
    ) -> ProxyScaler:
        """The reference quantiles of every proxy in ``names`` over the cells of ``values``."""
        if not values:
            raise ValueError("fit a ProxyScaler on the proxies of at least one cell")
        table = cls._table(values.values(), names)
        levels = np.linspace(0, 1, num_quantiles)
        return cls(names, np.stack([np.quantile(column, levels) for column in table.T]))

    def transform(self, rows: Sequence[dict[str, float]]) -> np.ndarray:
        """``[len(rows), len(names)]`` float32 features in ``[-1, 1]``."""
        table = self._table(rows, self.names)
        levels = np.linspace(-1, 1, self.quantiles.shape[1])
        out = np.empty(table.shape, dtype=np.float32)
        for j, reference in enumerate(self.quantiles):
            lower = np.interp(table[:, j], reference, levels, left=-1.0, right=1.0)
            upper = -np.interp(-table[:, j], -reference[::-1], -levels[::-1], left=-1.0, right=1.0)
            out[:, j] = (lower + upper) / 2  # ties (a flat stretch of the reference) take their middle
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"names": self.names, "quantiles": self.quantiles.tolist()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ProxyScaler:
        return cls(data["names"], np.array(data["quantiles"], dtype=np.float64))

    @staticmethod
    def _table(rows: Any, names: Sequence[str]) -> np.ndarray:
        rows = list(rows)
        for row in rows:
            missing = [name for name in names if name not in row]
            if missing:
                raise KeyError(f"a cell's proxies lack {', '.join(missing)}")
        table = np.array([[row[name] for name in names] for row in rows], dtype=np.float64).reshape(len(rows), -1)
        # below every finite value, and still finite for the interpolation
        return np.where(np.isfinite(table), table, np.nan_to_num(-np.inf))


class ProxyFeatures:
    """Cells → their scaled proxy features: from a table measured in advance, measuring the cells it lacks (and
    caching them in ``cache``)."""

    def __init__(
        self,
        space: SearchSpace,
        scaler: ProxyScaler,
        values: dict[str, dict[str, float]],
        cache: str | os.PathLike | None = None,
    ):
        self.space, self.scaler, self.values, self.cache = space, scaler, dict(values), cache

    @property
    def names(self) -> list[str]:
        return self.scaler.names

    def values_of(self, cells: Sequence[Any]) -> list[dict[str, float]]:
        """The raw proxy values of ``cells``."""
        ids = [self.space.canonical_id(cell) for cell in cells]
        missing = {cell_id: cell for cell, cell_id in zip(cells, ids) if cell_id not in self.values}
        if missing:
            self.values.update(proxy_table(self.space, list(missing.values()), self.names, cache=self.cache))
        return [self.values[cell_id] for cell_id in ids]

    def __call__(self, cells: Sequence[Any]) -> np.ndarray:
        """``[len(cells), len(names)]`` float32 features in ``[-1, 1]``."""
        return self.scaler.transform(self.values_of(cells))


def _drop_unfinished_line(path: Path) -> None:
    """Cut a last line that a killed run left without its newline, so that appending goes on cleanly."""
    if not path.is_file():
        return
    data = path.read_bytes()
    if data and not data.endswith(b"\n"):
        with path.open("r+b") as handle:
            handle.truncate(data.rfind(b"\n") + 1)


def _append(path: Path, row: dict[str, Any]) -> None:
    line = json.dumps(row, allow_nan=True) + "\n"
    with path.open("a") as sink:  # one write per line: appends of several processes do not interleave
        sink.write(line)



__all__ = [
    "DEFAULT_PROXIES",
    "ProxyFeatures",
    "ProxyScaler",
    "proxy_settings",
    "proxy_table",
    "read_proxy_cache",
]
