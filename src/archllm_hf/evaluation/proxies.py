"""How well the data-free proxies rank NB201 cells: the Spearman correlation of each proxy, computed on the built
network of every cell (or a seeded subset), with the NB201 200-epoch test accuracies.

Each proxy's values go to ``work/<proxy>.jsonl`` as they are computed (one ``{"id", "value"}`` line per cell), so an
interrupted run resumes where it stopped; the seconds spent per cell are recorded with them.
"""

from __future__ import annotations

import json
import random
import time
from pathlib import Path
from typing import Any

from scipy.stats import spearmanr
from tqdm.auto import tqdm

from ..data import load_metric_table
from ..networks.proxies import PROXIES, seeded_network
from ..spaces import get_space

ACCURACY_COLUMNS = ("cifar10_test_acc_200ep", "cifar100_test_acc_200ep", "imagenet16_test_acc_200ep")


def proxy_values(
    proxy: str, cells: list[Any], work: Path, progress: bool = False
) -> tuple[dict[str, float], float]:
    """``{canonical id: value}`` of ``proxy`` for ``cells`` (reusing ``work/<proxy>.jsonl``) and the mean seconds a
    cell took, over those cells (as recorded when each was computed). Networks are initialised from seed 0."""
    space = get_space("nb201")
    function = PROXIES[proxy]
    path = Path(work) / f"{proxy}.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    recorded = _read_rows(path)
    values = {cell_id: row["value"] for cell_id, row in recorded.items()}
    seconds = {cell_id: row["seconds"] for cell_id, row in recorded.items()}
    ids = [space.canonical_id(cell) for cell in cells]
    todo = [(cell_id, cell) for cell_id, cell in zip(ids, cells) if cell_id not in values]
    with path.open("a") as sink, tqdm(todo, desc=proxy, disable=not progress) as bar:
        for cell_id, cell in bar:
            start = time.perf_counter()
            value = function(seeded_network(space, cell))
            spent = time.perf_counter() - start
            values[cell_id], seconds[cell_id] = value, spent
            sink.write(json.dumps({"id": cell_id, "value": value, "seconds": spent}) + "\n")
            sink.flush()
    wanted = set(ids)
    return {k: v for k, v in values.items() if k in wanted}, sum(seconds[k] for k in wanted) / max(
        len(wanted), 1
    )


def _read_rows(path: Path) -> dict[str, dict[str, Any]]:
    """The rows of a values file; a last line cut short by an interrupted run is dropped from the file."""
    if not path.is_file():
        return {}
    text = path.read_text()
    complete = text[: text.rfind("\n") + 1]
    if complete != text:
        path.write_text(complete)
    rows = (json.loads(line) for line in complete.splitlines())
    return {row["id"]: row for row in rows}


def proxy_benchmark(
    metrics: list[str | Path],
    work: str | Path,
    proxies: dict[str, int | None],
    seed: int = 0,
    progress: bool = False,
) -> dict[str, Any]:
    """Spearman's rho of each proxy with each accuracy column; ``proxies`` maps a proxy to the number of cells it
    is measured on (None: all 15,625; else a seeded random subset)."""
    space = get_space("nb201")
    table = load_metric_table(space, metrics)
    cells = list(space.enumerate())
    results = {}
    for proxy, num_cells in proxies.items():
        chosen = cells if num_cells is None else random.Random(seed).sample(cells, num_cells)
        values, seconds_per_cell = proxy_values(proxy, chosen, Path(work), progress)
        ids = sorted(values)
        correlations = {}
        for column in ACCURACY_COLUMNS:
            accuracy = [table.values[cell_id][column] for cell_id in ids]
            correlations[column] = float(spearmanr([values[i] for i in ids], accuracy).statistic)
        results[proxy] = {
            "num_cells": len(ids),
            "subset": num_cells is not None,
            "spearman": correlations,
            "seconds_per_cell": seconds_per_cell,
            "cpu_seconds": seconds_per_cell * len(ids),
        }
    return {
        "space": "nb201",
        "seed": seed,
        "network": "NB201 C=16 N=5, CIFAR-10 head, 32x32 input",
        "proxies": results,
    }


__all__ = ["ACCURACY_COLUMNS", "proxy_benchmark", "proxy_values"]
