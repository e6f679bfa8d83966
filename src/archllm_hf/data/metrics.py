"""Readers for benchmark metric tables, keyed by canonical id so they can be joined onto the cells dataset.

Supported inputs:

* NB201: a CSV with NATS-Bench 200-epoch test accuracies (columns ``ArchitectureString`` and the accuracy columns;
  the layout of ``nats_tss_test_acc_200ep.csv``; columns ``{cifar10,cifar100,imagenet16}_test_acc_200ep``), or the
  12-epoch table of ``minibench_hp12_accs.csv`` (columns ``cellstr`` and ``{cifar10,cifar100,imagenet}-{val,test}``;
  columns ``{cifar10,cifar100,imagenet16}_{valid,test}_acc_12ep``).
* NB101: NASLib's records, either ``{hash: {module_adjacency, module_operations, trainable_parameters, computed}}``
  (``nasbench.get_metrics_from_hash`` form; metrics are means over the runs at the largest epoch budget) or
  ``{"nasbench101": {"cifar10": {"(56-tuple)": {"val_accuracy": ...}}}}`` (NASLib zero-cost form).
* DARTS: NASLib's ``{"cifar10": {compact_genotype: {"val_accuracy": ...}}}`` (NAS-Bench-301 surrogate predictions).

Records that map to the same canonical id are averaged. Several files are merged by canonical id
(:func:`load_metric_table`); a column that two files both give is an error. :func:`load_nb201_metrics` reads the
NATS-Bench table alone, by arch string.
"""

from __future__ import annotations

import ast
import csv
import json
import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import InvalidCellError
from ..spaces import SearchSpace

Metrics = dict[str, dict[str, float]]

_NASLIB_NB101_OPS = {0: "input", 1: "output", 2: "maxpool3x3", 3: "conv1x1-bn-relu", 4: "conv3x3-bn-relu"}


NATS_TSS_COLUMNS: dict[str, str] = {
    "CIFAR10TestAccuracy200Epochs": "cifar10_test_acc_200ep",
    "CIFAR100TestAccuracy200Epochs": "cifar100_test_acc_200ep",
    "ImageNetTestAccuracy200Epochs": "imagenet16_test_acc_200ep",
}
"""Column of ``nats_tss_test_acc_200ep.csv`` (NB201, 200 epochs, test accuracy in percent) → our metric name; its
arch strings are in the column ``ArchitectureString``."""

MINIBENCH_COLUMNS: dict[str, str] = {
    "cifar10-val": "cifar10_valid_acc_12ep",
    "cifar10-test": "cifar10_test_acc_12ep",
    "cifar100-val": "cifar100_valid_acc_12ep",
    "cifar100-test": "cifar100_test_acc_12ep",
    "imagenet-val": "imagenet16_valid_acc_12ep",
    "imagenet-test": "imagenet16_test_acc_12ep",
}
"""Column of ``minibench_hp12_accs.csv`` (NB201, 12 epochs, percent) → our metric name; its arch strings are in
the column ``cellstr``."""


@dataclass
class MetricTable:
    """Benchmark metrics joined by canonical id: ``values[id][column]`` and the cell of each id."""

    cells: dict[str, Any]
    values: Metrics

    @property
    def columns(self) -> list[str]:
        return sorted({column for row in self.values.values() for column in row})


def load_metrics(space: SearchSpace, path: str | Path) -> Metrics:
    """Metrics from ``path`` for ``space``, as ``{canonical_id: {column: value}}``."""
    return load_metric_table(space, [path]).values


def load_metric_table(space: SearchSpace, paths: Sequence[str | Path] | str | Path) -> MetricTable:
    """Metrics of one or more files for ``space``, merged by canonical id, with the cell of each id.

    Raises ``FileNotFoundError`` for a missing file and ``ValueError`` for a malformed one, for a space without a
    reader, or for a column that two files both give.
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    if not paths:
        raise ValueError("no metrics file given")
    cells: dict[str, Any] = {}
    values: Metrics = {}
    column_source: dict[str, Path] = {}
    for path in map(Path, paths):
        file_cells, file_values = _read_checked(space, path)
        for column in {c for row in file_values.values() for c in row}:
            if column in column_source:
                raise ValueError(
                    f"metric column {column!r} is given by both {column_source[column]} and {path}"
                )
            column_source[column] = path
        cells.update(file_cells)
        for cell_id, row in file_values.items():
            values.setdefault(cell_id, {}).update(row)
    return MetricTable(cells, values)


def _read_checked(space: SearchSpace, path: Path) -> tuple[dict[str, Any], Metrics]:
    """:func:`_read_table`, with every failure a ``ValueError`` naming the file, and every value checked finite."""
    try:
        cells, values = _read_table(space, path)
    except UnicodeDecodeError as err:
        raise ValueError(f"{path}: not UTF-8 text ({err.reason} at byte {err.start:,})") from None
    except csv.Error as err:
        raise ValueError(f"{path}: not a readable CSV table: {err}") from None
    except RecursionError:
        raise ValueError(f"{path}: nested too deeply to be a metrics file") from None
    except InvalidCellError as err:
        raise InvalidCellError(f"{path}: {err}") from None
    except ValueError as err:
        if str(path) in str(err):
            raise
        raise ValueError(f"{path}: {err}") from None
    except (KeyError, TypeError, AttributeError, IndexError) as err:
        raise ValueError(
            f"{path}: not a {space.name} metrics file this reader knows ({type(err).__name__}: {err}); "
            "see archllm_hf.data.metrics for the supported layouts"
        ) from None
    for cell_id, row in values.items():
        for column, value in row.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
                raise ValueError(
                    f"{path}: metric {column!r} of cell {cell_id!r} is not a finite number: {value!r}"
                )
    return cells, values


def _read_table(space: SearchSpace, path: Path) -> tuple[dict[str, Any], Metrics]:
    if not path.is_file():
        raise FileNotFoundError(f"metrics file not found: {path}")
    if space.name == "nb201":
        return _nb201_table(space, path)
    data = _read_json(path)
    if space.name == "nb101":
        if "nasbench101" in data:
            return _average(_nb101_naslib_zc(space, data))
        return _average(_nb101_from_hash_records(space, data))
    if space.name == "darts":
        return _average(_darts_naslib_zc(space, data))
    raise ValueError(f"no metrics reader for space {space.name!r}")


def load_nb201_metrics(path: str | Path) -> Metrics:
    """``{arch string: {cifar10_test_acc_200ep, cifar100_test_acc_200ep, imagenet16_test_acc_200ep}}`` of a
    NATS-Bench table with the columns of ``nats_tss_test_acc_200ep.csv`` (:data:`NATS_TSS_COLUMNS`), in file order.

    Raises ``ValueError`` if columns are missing, a value is not a number, or an arch string repeats, and
    :class:`InvalidCellError` for a malformed arch string (each naming the line).
    """
    from ..spaces import get_space

    return _nb201_csv(
        get_space("nb201"), Path(path), "ArchitectureString", NATS_TSS_COLUMNS, "NB201 metrics CSV"
    )


def _nb201_table(space: SearchSpace, path: Path) -> tuple[dict[str, Any], Metrics]:
    with open(path, newline="", encoding="utf-8-sig") as handle:  # -sig: a byte-order mark is not a name
        header = next(csv.reader(handle), [])
    if "cellstr" in header:
        values = _nb201_csv(space, path, "cellstr", MINIBENCH_COLUMNS, "NB201 12-epoch CSV")
    else:
        values = _nb201_csv(space, path, "ArchitectureString", NATS_TSS_COLUMNS, "NB201 metrics CSV")
    return {cell_id: space.parse(cell_id) for cell_id in values}, values


def _nb201_csv(
    space: SearchSpace, path: Path, arch_column: str, columns: dict[str, str], what: str
) -> Metrics:
    """The rows of an NB201 CSV table by canonical id (the arch string): ``columns`` maps the file's column names
    to ours; ``what`` names the table in errors."""
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        found = reader.fieldnames or ()
        missing = [c for c in (arch_column, *columns) if c not in found]
        if missing:
            raise ValueError(
                f"{path}: {what} lacks column(s) {', '.join(missing)}; found {', '.join(found) or 'no header'}"
            )
        metrics: Metrics = {}
        for line, row in enumerate(reader, start=2):
            try:
                cell_id = space.canonical_id(space.parse(row[arch_column]))
            except InvalidCellError as err:
                raise InvalidCellError(f"{path}, line {line}: {err}") from None
            if cell_id in metrics:
                raise ValueError(f"{path}, line {line}: arch string {cell_id!r} appears twice")
            metrics[cell_id] = {
                name: _number(row[column], path, line, column) for column, name in columns.items()
            }
    return metrics


def _number(text: str | None, path: Path, line: int, column: str) -> float:
    try:
        value = float(text)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        value = math.nan
    if not math.isfinite(value):
        raise ValueError(f"{path}, line {line}: column {column} is not a finite number: {_clip(repr(text))}")
    return value


def _clip(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else f"{text[:limit]}... ({len(text):,} chars)"


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ValueError(f"{path} is not valid JSON: {err}") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a JSON object at the top level")
    return data


def _nb101_from_hash_records(space: SearchSpace, data: dict) -> Iterable[tuple[str, Any, dict[str, float]]]:
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
        yield cell_id, cell, metrics


def _nb101_naslib_zc(space: SearchSpace, data: dict) -> Iterable[tuple[str, Any, dict[str, float]]]:
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
            yield (
                space.canonical_id(cell),
                cell,
                {f"naslib_{dataset}_val_accuracy": float(record["val_accuracy"])},
            )


def _darts_naslib_zc(space: SearchSpace, data: dict) -> Iterable[tuple[str, Any, dict[str, float]]]:
    for dataset, records in data.items():
        for key, record in records.items():
            cell = space.parse_compact(key)
            yield (
                space.canonical_id(cell),
                cell,
                {f"nb301_{dataset}_val_accuracy": float(record["val_accuracy"])},
            )


def _literal(text: str):
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError) as err:
        raise InvalidCellError(f"cannot parse key {text!r}: {err}") from None


def _mean(values: Iterable[float]) -> float:
    values = [float(v) for v in values]
    return sum(values) / len(values)


def _average(records: Iterable[tuple[str, Any, dict[str, float]]]) -> tuple[dict[str, Any], Metrics]:
    cells: dict[str, Any] = {}
    sums: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for cell_id, cell, metrics in records:
        cells.setdefault(cell_id, cell)
        for column, value in metrics.items():
            sums[cell_id][column].append(value)
    values = {cell_id: {c: sum(v) / len(v) for c, v in cols.items()} for cell_id, cols in sums.items()}
    return cells, values


__all__ = [
    "MINIBENCH_COLUMNS",
    "NATS_TSS_COLUMNS",
    "MetricTable",
    "Metrics",
    "load_metric_table",
    "load_metrics",
    "load_nb201_metrics",
]
