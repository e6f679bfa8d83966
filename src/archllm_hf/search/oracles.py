"""Oracles: what a searcher queries for the performance of a cell.

* :class:`TableOracle` looks a cell up in a benchmark table (the metric columns of the cells dataset, or metric files
  read by :func:`archllm_hf.data.load_metric_table`), by canonical id.
* :class:`CallableOracle` calls a user's own train-and-evaluate function.

An oracle has an ``objective`` (the value the searcher maximises) and, optionally, a ``report`` value (what the
protocol reports for the chosen cell, e.g. the 200-epoch test accuracy when the search sees 12-epoch validation
accuracy). It counts distinct queries: asking for a cell again costs nothing and counts once.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import datasets

from ..data import MetricTable, load_cells_repo, load_metric_table
from ..errors import CellNotInTableError
from ..spaces import SearchSpace, resolve_space


@dataclass(frozen=True)
class Evaluation:
    """The oracle's answer for one cell."""

    id: str
    objective: float
    report: float | None = None


class Oracle(ABC):
    """Counts distinct queries; subclasses implement :meth:`_evaluate`."""

    space: SearchSpace
    objective: str
    report: str | None

    def __init__(self, space: SearchSpace, objective: str, report: str | None = None):
        self.space, self.objective, self.report = space, objective, report
        self._answers: dict[str, Evaluation] = {}

    def query(self, cell: Any) -> Evaluation:
        """The cell's evaluation; a cell asked for before (by canonical id) is answered from memory, for free."""
        cell_id = self.space.canonical_id(cell)
        if cell_id not in self._answers:
            self._answers[cell_id] = self._evaluate(cell_id, cell)
        return self._answers[cell_id]

    __call__ = query

    @property
    def num_queries(self) -> int:
        """Distinct cells evaluated since construction or the last :meth:`reset`."""
        return len(self._answers)

    def is_queried(self, cell_id: str) -> bool:
        return cell_id in self._answers

    def reset(self) -> None:
        """Forget every query (a search starts with this)."""
        self._answers = {}

    def remember(self, evaluation: Evaluation) -> None:
        """Take an answer recorded by an earlier run as given (resuming a search); it counts as a query."""
        self._answers[evaluation.id] = evaluation

    def candidates(self) -> list[Any] | None:
        """Every cell the oracle can answer, in a fixed order; None when it can answer any cell of the space."""
        return None

    def contains(self, cell_id: str) -> bool:
        """Whether the oracle can answer the cell with this canonical id."""
        return True

    @property
    def size(self) -> int | None:
        """How many distinct cells can be queried (None: unknown or unbounded)."""
        candidates = self.candidates()
        return None if candidates is None else len(candidates)

    @abstractmethod
    def _evaluate(self, cell_id: str, cell: Any) -> Evaluation:
        """Evaluate a cell not queried before."""


class TableOracle(Oracle):
    """Looks cells up in a table of benchmark metrics by canonical id.

    Args:
        space: the search space.
        table: the metrics (:class:`~archllm_hf.data.MetricTable`).
        objective: the column the searcher maximises.
        report: the column reported for the chosen cell (optional).

    Raises ``ValueError`` for an unknown column or a table without a value for it, and
    :class:`CellNotInTableError` when a queried cell has no value.
    """

    def __init__(self, space: SearchSpace, table: MetricTable, objective: str, report: str | None = None):
        super().__init__(space, objective, report)
        columns = table.columns
        for role, column in (("objective", objective), ("report", report)):
            if column is not None and column not in columns:
                raise ValueError(
                    f"unknown {role} column {column!r}; the table has: {', '.join(columns) or 'no metric columns'}"
                )
        wanted = [c for c in (objective, report) if c is not None]
        for cell_id, row in table.values.items():
            for column in wanted:
                value = row.get(column)
                if value is not None and not math.isfinite(value):
                    raise ValueError(
                        f"the table's {column!r} of cell {cell_id!r} is {value}, not a finite number"
                    )
        self._rows = {
            cell_id: row
            for cell_id, row in table.values.items()
            if all(row.get(c) is not None for c in wanted) and cell_id in table.cells
        }
        if not self._rows:
            raise ValueError(f"no cell of the table has a value for {' and '.join(wanted)}")
        self._cells = [table.cells[cell_id] for cell_id in self._rows]

    @classmethod
    def from_files(
        cls,
        space: SearchSpace | str,
        files: Sequence[str | Path] | str | Path,
        objective: str,
        report: str | None = None,
    ) -> TableOracle:
        """Read one or more metric files (see :mod:`archllm_hf.data.metrics`) and merge them by canonical id."""
        space = resolve_space(space)
        return cls(space, load_metric_table(space, files), objective, report)

    @classmethod
    def from_dataset(
        cls,
        space: SearchSpace | str,
        dataset: datasets.DatasetDict | datasets.Dataset | str | Path,
        objective: str,
        report: str | None = None,
    ) -> TableOracle:
        """The metric columns of a cells dataset (built with ``archllm data build --metrics``); every split."""
        space = resolve_space(space)
        if isinstance(dataset, (str, Path)):
            dataset = load_cells_repo(dataset, space.name)
        splits = list(dataset.values()) if isinstance(dataset, datasets.DatasetDict) else [dataset]
        cells: dict[str, Any] = {}
        values: dict[str, dict[str, float]] = {}
        for split in splits:
            columns = [c for c in (objective, report) if c is not None and c in split.column_names]
            for record in split:
                cell_id = record["id"]
                cells[cell_id] = space.from_record(record)
                values[cell_id] = {c: record[c] for c in columns}
        return cls(space, MetricTable(cells, values), objective, report)

    def candidates(self) -> list[Any]:
        return list(self._cells)

    def contains(self, cell_id: str) -> bool:
        return cell_id in self._rows

    def value(self, cell_id: str, column: str) -> float:
        """A column's value for a cell, without counting a query (for reports and benchmarks)."""
        return self._row(cell_id)[column]

    def _row(self, cell_id: str) -> dict[str, float]:
        try:
            return self._rows[cell_id]
        except KeyError:
            raise CellNotInTableError(
                f"cell {cell_id!r} has no {self.objective!r} value in the table ({len(self._rows):,} cells have one)"
            ) from None

    def _evaluate(self, cell_id: str, cell: Any) -> Evaluation:
        row = self._row(cell_id)
        return Evaluation(
            cell_id, float(row[self.objective]), None if self.report is None else row[self.report]
        )


class CallableOracle(Oracle):
    """Calls ``evaluate(cell)`` for each new cell.

    ``evaluate`` returns the objective, or a ``(objective, report)`` pair when ``report`` names a report value.
    """

    def __init__(
        self,
        space: SearchSpace,
        evaluate: Callable[[Any], float | tuple[float, float]],
        objective: str = "objective",
        report: str | None = None,
    ):
        super().__init__(space, objective, report)
        self._function = evaluate

    def _evaluate(self, cell_id: str, cell: Any) -> Evaluation:
        result = self._function(cell)
        if self.report is None:
            return Evaluation(cell_id, _number(result, "the objective"))
        if not (isinstance(result, tuple) and len(result) == 2):
            raise TypeError(f"the evaluate function must return (objective, report) pairs, got {result!r}")
        return Evaluation(
            cell_id, _number(result[0], "the objective"), _number(result[1], "the report value")
        )


class ProxyOracle(CallableOracle):
    """A data-free proxy of the network each cell builds (``space.to_module``; see
    :mod:`archllm_hf.networks.proxies`): ``"params"``, ``"flops"``, ``"synflow"``, ... It needs no table, so every
    space, DARTS included, can be searched end to end.

    The objective column is the proxy's name, except for the proxies that span hundreds of orders of magnitude
    (:data:`~archllm_hf.networks.proxies.LOG10_OBJECTIVE_PROXIES`: SynFlow reaches 2.3e118 on DARTS): the search
    maximises their ``log10``, and the column says so (``log10_synflow``), so that its history, summary and curve
    are readable numbers.

    ``network``: sizes for ``space.to_module`` (by default the space's network: NB101's and NB201's benchmark
    networks, DARTS' evaluation network with C = 36 and 20 layers). Weights are initialised from a fixed seed.
    """

    def __init__(self, space: SearchSpace, proxy: str, input_size: int = 32, **network: Any):
        from ..networks.proxies import PROXIES, objective_value, proxy_objective, proxy_of

        if proxy not in PROXIES:
            raise ValueError(f"unknown proxy {proxy!r}; choose one of {', '.join(PROXIES)}")
        self.proxy = proxy
        super().__init__(
            space,
            lambda cell: objective_value(proxy, proxy_of(space, cell, proxy, input_size, **network)),
            objective=proxy_objective(proxy),
        )


def _number(value: Any, what: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"the evaluate function returned {value!r} for {what}; expected a number") from None
    if number != number:
        raise ValueError(f"the evaluate function returned NaN for {what}")
    return number


__all__ = ["CallableOracle", "CellNotInTableError", "Evaluation", "Oracle", "ProxyOracle", "TableOracle"]
