"""Readers for benchmark metric tables, keyed by canonical id so they can be joined onto the cells dataset.

Supported inputs:

* NB201: a CSV with NATS-Bench 200-epoch test accuracies (columns ``ArchitectureString`` and the accuracy columns;
  the layout of ``nats_tss_test_acc_200ep.csv``).
* NB101: NASLib's records, either ``{hash: {module_adjacency, module_operations, trainable_parameters, computed}}``
  (``nasbench.get_metrics_from_hash`` form; metrics are means over the runs at the largest epoch budget) or
  ``{"nasbench101": {"cifar10": {"(56-tuple)": {"val_accuracy": ...}}}}`` (NASLib zero-cost form).
* DARTS: NASLib's ``{"cifar10": {compact_genotype: {"val_accuracy": ...}}}`` (NAS-Bench-301 surrogate predictions).

Records that map to the same canonical id are averaged.
"""

from __future__ import annotations

import ast
import json
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

from ..errors import InvalidCellError
from ..spaces import SearchSpace

Metrics = dict[str, dict[str, float]]

_NASLIB_NB101_OPS = {0: "input", 1: "output", 2: "maxpool3x3", 3: "conv1x1-bn-relu", 4: "conv3x3-bn-relu"}


def load_metrics(space: SearchSpace, path: str | Path) -> Metrics:
    """Metrics from ``path`` for ``space``, as ``{canonical_id: {column: value}}``."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"metrics file not found: {path}")
    if space.name == "nb201":
        from ..spaces.nb201 import load_nb201_metrics

        return load_nb201_metrics(path)
    data = _read_json(path)
    if space.name == "nb101":
        if "nasbench101" in data:
            return _average(_nb101_naslib_zc(space, data))
        return _average(_nb101_from_hash_records(space, data))
    if space.name == "darts":
        return _average(_darts_naslib_zc(space, data))
    raise ValueError(f"no metrics reader for space {space.name!r}")


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise ValueError(f"{path} is not valid JSON: {err}") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a JSON object at the top level")
    return data


def _nb101_from_hash_records(space: SearchSpace, data: dict) -> Iterable[tuple[str, dict[str, float]]]:
    from ..spaces.nb101 import NB101Cell

    for key, record in data.items():
        try:
            cell = NB101Cell(record["module_adjacency"], record["module_operations"])
            runs_by_epoch = record["computed"]
        except (KeyError, TypeError) as err:
            raise ValueError(
                f"NB101 record {key!r} lacks module_adjacency/module_operations/computed: {err}"
            ) from None
        cell_id = space.canonical_id(cell)
        if cell_id != key:
            raise ValueError(f"NB101 record key {key} does not match the cell's hash {cell_id}")
        epochs = max(runs_by_epoch, key=int)
        runs = runs_by_epoch[epochs]
        metrics = {
            f"validation_accuracy_{epochs}ep": _mean(r["final_validation_accuracy"] for r in runs),
            f"test_accuracy_{epochs}ep": _mean(r["final_test_accuracy"] for r in runs),
            f"training_time_{epochs}ep": _mean(r["final_training_time"] for r in runs),
        }
        if "trainable_parameters" in record:
            metrics["trainable_parameters"] = float(record["trainable_parameters"])
        yield cell_id, metrics


def _nb101_naslib_zc(space: SearchSpace, data: dict) -> Iterable[tuple[str, dict[str, float]]]:
    from ..spaces.nb101 import NB101Cell

    for dataset, records in data["nasbench101"].items():
        for key, record in records.items():
            values = _literal(key)
            if not (isinstance(values, tuple) and len(values) == 56):
                raise ValueError(
                    f"NASLib NB101 key must be a 56-tuple (7x7 adjacency + 7 op codes), got {key!r}"
                )
            matrix = [list(values[row * 7 : row * 7 + 7]) for row in range(7)]
            try:
                ops = [_NASLIB_NB101_OPS[code] for code in values[49:]]
            except KeyError as err:
                raise ValueError(f"unknown NASLib NB101 op code {err} in {key!r}") from None
            cell = space.prune(NB101Cell(matrix, ops))
            if cell is None or not space.validate(cell):
                continue
            yield space.canonical_id(cell), {f"naslib_{dataset}_val_accuracy": float(record["val_accuracy"])}


def _darts_naslib_zc(space: SearchSpace, data: dict) -> Iterable[tuple[str, dict[str, float]]]:
    for dataset, records in data.items():
        for key, record in records.items():
            cell = space.parse_compact(key)
            yield space.canonical_id(cell), {f"nb301_{dataset}_val_accuracy": float(record["val_accuracy"])}


def _literal(text: str):
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError) as err:
        raise InvalidCellError(f"cannot parse key {text!r}: {err}") from None


def _mean(values: Iterable[float]) -> float:
    values = [float(v) for v in values]
    return sum(values) / len(values)


def _average(pairs: Iterable[tuple[str, dict[str, float]]]) -> Metrics:
    sums: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for cell_id, metrics in pairs:
        for column, value in metrics.items():
            sums[cell_id][column].append(value)
    return {cell_id: {c: sum(v) / len(v) for c, v in cols.items()} for cell_id, cols in sums.items()}


__all__ = ["Metrics", "load_metrics"]
