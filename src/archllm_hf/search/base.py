"""What every searcher shares: a seeded run with a budget of distinct queries, its history and its result."""

from __future__ import annotations

import random
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from tqdm.auto import tqdm

from ..utils import atomic_save_figure, atomic_write_json, atomic_write_jsonl
from .configs import SearcherConfig
from .oracles import Evaluation, Oracle

MAX_SAMPLING_ATTEMPTS = 10_000
MAX_SEARCH_SEED = 2**32 - 1
"""The largest seed of a search (NumPy's and ``transformers.set_seed``'s limit)."""


class BudgetSpent(Exception):
    """Raised by :meth:`SearchRun.query` once the budget is used; ends the searcher's loop."""


@dataclass
class SearchResult:
    """The history of one search: one record per distinct query, in order.

    Each record has ``step`` (1-based), ``id``, ``cell`` (the space's native form), ``objective`` and, when the
    oracle has a report column, ``report``.
    """

    algorithm: str
    space: str
    seed: int
    budget: int
    objective: str
    report: str | None
    history: list[dict[str, Any]]
    seconds: float
    extra: dict[str, Any] = field(default_factory=dict)

    def best_at(self, num_queries: int | None = None) -> dict[str, Any]:
        """The record with the best objective among the first ``num_queries`` (the earliest of ties)."""
        records = self.history if num_queries is None else self.history[:num_queries]
        if not records:
            raise ValueError("the search made no query")
        return max(records, key=lambda r: (r["objective"], -r["step"]))

    @property
    def best(self) -> dict[str, Any]:
        return self.best_at()

    def trajectory(self, key: str = "objective") -> list[float | None]:
        """``key`` (``"objective"`` or ``"report"``) of the best-objective record after each query."""
        out, best = [], None
        for record in self.history:
            if best is None or record["objective"] > best["objective"]:
                best = record
            out.append(best.get(key))
        return out

    def queries_until(self, cell_ids: set[str]) -> int | None:
        """The step at which one of ``cell_ids`` (e.g. the global optima) was first queried, or None."""
        return next((r["step"] for r in self.history if r["id"] in cell_ids), None)

    def summary(self) -> dict[str, Any]:
        return {
            "algorithm": self.algorithm,
            "space": self.space,
            "seed": self.seed,
            "budget": self.budget,
            "num_queries": len(self.history),
            "objective_column": self.objective,
            "report_column": self.report,
            "seconds": round(self.seconds, 3),
            "best": self.best,
            **self.extra,
        }

    def save(self, out_dir: str | Path) -> Path:
        """Write ``history.jsonl``, ``summary.json`` and ``curve.png`` (best objective, and report, per query)."""
        out_dir = Path(out_dir)
        out_dir.mkdir(parents=True, exist_ok=True)
        atomic_write_jsonl(out_dir / "history.jsonl", self.history)
        atomic_write_json(out_dir / "summary.json", self.summary())
        atomic_save_figure(self._curve(), out_dir / "curve.png")
        return out_dir

    def _curve(self):
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(6, 4))
        steps = [r["step"] for r in self.history]
        ax.plot(steps, self.trajectory("objective"), label=f"best {self.objective}")
        if self.report is not None:
            ax.plot(steps, self.trajectory("report"), label=f"{self.report} of the best", linestyle="--")
        ax.set_xlabel("queries")
        ax.set_ylabel("value" if self.report is not None else self.objective)
        ax.set_title(f"{self.algorithm} on {self.space} (seed {self.seed})")
        ax.legend()
        fig.tight_layout()
        return fig


class SearchRun:
    """One search in progress: the oracle, the budget, a seeded ``rng`` and the history so far.

    ``recorder`` is called with each new history record as the query happens (e.g. to append it to a file).
    ``replay`` is the history of an earlier, interrupted run of the same search (same seed): its queries are
    answered from the records, and the run checks that it asks for the same cells in the same order.
    """

    def __init__(
        self,
        oracle: Oracle,
        budget: int,
        seed: int,
        bar: tqdm,
        recorder: Callable[[dict[str, Any]], None] | None = None,
        replay: Sequence[dict[str, Any]] = (),
    ):
        self.oracle, self.space, self.budget, self.seed = oracle, oracle.space, budget, seed
        self.rng = random.Random(seed)
        self.history: list[dict[str, Any]] = []
        self.evaluations: dict[str, Evaluation] = {}
        self._bar = bar
        self._pool: list[Any] | None = None
        self._best = float("-inf")
        self._recorder = recorder
        self._replay = list(replay)

    @property
    def remaining(self) -> int:
        return self.budget - len(self.history)

    def query(self, cell: Any) -> Evaluation:
        """Evaluate a cell; a cell queried before is answered again for free, a new one spends one query."""
        cell_id = self.space.canonical_id(cell)
        if cell_id in self.evaluations:
            return self.evaluations[cell_id]
        if self.remaining <= 0:
            raise BudgetSpent
        step = len(self.history) + 1
        if step <= len(self._replay):
            recorded = self._replay[step - 1]
            if recorded["id"] != cell_id:
                raise RuntimeError(
                    f"resuming: query {step} is {cell_id}, but the recorded run queried {recorded['id']} there; "
                    "the recorded history is not this search's (another version or settings): start afresh "
                    "with --overwrite (overwrite=True)"
                )
            self.history.append(recorded)
            evaluation = Evaluation(cell_id, recorded["objective"], recorded.get("report"))
            self.evaluations[cell_id] = evaluation
            self.oracle.remember(evaluation)
            self._bar.update(1)
            self._best = max(self._best, evaluation.objective)
            return evaluation
        evaluation = self.oracle.query(cell)
        self.evaluations[cell_id] = evaluation
        record = {
            "step": step,
            "id": cell_id,
            "cell": self.space.to_native(cell),
            "objective": evaluation.objective,
        }
        if self.oracle.report is not None:
            record["report"] = evaluation.report
        self.history.append(record)
        if self._recorder is not None:
            self._recorder(record)
        self._bar.update(1)
        self._best = max(self._best, evaluation.objective)
        self._bar.set_postfix(best=f"{self._best:.4g}", refresh=False)
        return evaluation

    def is_new(self, cell: Any) -> bool:
        """Whether a query of ``cell`` would spend budget and the oracle can answer it."""
        cell_id = self.space.canonical_id(cell)
        return cell_id not in self.evaluations and self.oracle.contains(cell_id)

    def random_new_cell(self) -> Any:
        """A uniformly random cell not queried yet: from the oracle's candidates, or sampled from the space."""
        candidates = self.oracle.candidates()
        if candidates is not None:
            if self._pool is None:
                self._pool = list(candidates)
                self.rng.shuffle(self._pool)
            while self._pool:
                cell = self._pool.pop()
                if self.is_new(cell):
                    return cell
            raise BudgetSpent  # every candidate is queried
        for _ in range(MAX_SAMPLING_ATTEMPTS):
            cell = self.space.random_cell(self.rng)
            if self.is_new(cell):
                return cell
        raise RuntimeError(f"no new {self.space.name} cell in {MAX_SAMPLING_ATTEMPTS:,} random draws")

    def mutant(self, parent: Any, attempts: int = 100) -> Any:
        """A new cell one mutation away from ``parent`` (a random new cell when ``attempts`` mutations fail)."""
        for _ in range(attempts):
            child = self.space.mutate(parent, self.rng)
            if self.is_new(child):
                return child
        return self.random_new_cell()


def check_search_seed(seed: Any) -> None:
    """Refuse a search seed outside ``[0, MAX_SEARCH_SEED]`` (or not an int) with a clear ``ValueError``."""
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed <= MAX_SEARCH_SEED:
        raise ValueError(f"the search seed must be an integer in [0, {MAX_SEARCH_SEED:,}], got {seed!r}")


class Searcher(ABC):
    """A NAS algorithm: :meth:`search` spends a budget of distinct queries of an oracle. Its hyper-parameters are its
    ``config`` (:mod:`archllm_hf.search.configs`; none by default)."""

    name: ClassVar[str]
    config: SearcherConfig = SearcherConfig()

    def search(
        self,
        oracle: Oracle,
        budget: int,
        seed: int = 0,
        progress: bool = False,
        recorder: Callable[[dict[str, Any]], None] | None = None,
        replay: Sequence[dict[str, Any]] = (),
    ) -> SearchResult:
        """Run the search; the oracle's query count is reset first.

        ``recorder`` gets each new history record as its query happens; ``replay`` is the history of an interrupted
        run of the same search and seed, which this run repeats (answered from the records) and then continues
        (see :class:`SearchRun`).

        Raises ``ValueError`` for a budget below 1 or above the number of cells the oracle can answer, and for a seed
        outside ``[0, 2**32 - 1]`` (what NumPy's and transformers' seeding take; the searchers' fits seed with it).
        """
        if isinstance(budget, bool) or not isinstance(budget, int) or budget < 1:
            raise ValueError(f"budget must be a positive integer, got {budget!r}")
        check_search_seed(seed)
        size = oracle.size
        if size is not None and budget > size:
            raise ValueError(f"budget {budget:,} is larger than the {size:,} cells the oracle can answer")
        space_size = oracle.space.num_cells
        if space_size is not None and budget > space_size:
            raise ValueError(
                f"budget {budget:,} is larger than the {space_size:,} cells of {oracle.space.name}"
            )
        oracle.reset()
        start = time.perf_counter()
        with tqdm(total=budget, desc=f"{self.name} search", unit="query", disable=not progress) as bar:
            run = SearchRun(oracle, budget, seed, bar, recorder=recorder, replay=replay)
            try:
                self._search(run)
            except BudgetSpent:
                pass
        return SearchResult(
            algorithm=self.name,
            space=oracle.space.name,
            seed=seed,
            budget=budget,
            objective=oracle.objective,
            report=oracle.report,
            history=run.history,
            seconds=time.perf_counter() - start,
            extra=self._extra(),
        )

    @abstractmethod
    def _search(self, run: SearchRun) -> None:
        """Query until the budget is spent (:meth:`SearchRun.query` raises :class:`BudgetSpent`)."""

    def _extra(self) -> dict[str, Any]:
        """Searcher settings for the summary: its config."""
        return self.config.to_dict()


__all__ = ["MAX_SEARCH_SEED", "BudgetSpent", "SearchResult", "SearchRun", "Searcher", "check_search_seed"]
