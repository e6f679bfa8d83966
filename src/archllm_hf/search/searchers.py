"""The standard searchers: random search, regularized evolution and local search, on any space.

They move through the space interface only (``random_cell``, ``mutate``, ``neighbours``); with a table oracle they
stay inside the table's cells.
"""

from __future__ import annotations

from collections import deque
from typing import Any

from .base import Searcher, SearchRun
from .configs import EvolutionConfig, LocalSearchConfig, RandomSearchConfig


class RandomSearch(Searcher):
    """Uniformly random cells, never one twice."""

    name = "random"

    def __init__(self, config: RandomSearchConfig | None = None):
        self.config = config or RandomSearchConfig()

    def _search(self, run: SearchRun) -> None:
        while True:
            run.query(run.random_new_cell())


class RegularizedEvolution(Searcher):
    """Aging evolution (Real et al. 2019): tournament selection, one-edge/one-op mutation, the oldest dies.

    The population and tournament sizes are the config's (:class:`~archllm_hf.search.configs.EvolutionConfig`;
    NAS-Bench-201's 10 and 3 by default). A mutant that was queried before is drawn again (after 100 failed draws a
    random new cell is queried instead), so every query is a new cell.
    """

    name = "evolution"

    def __init__(self, config: EvolutionConfig | None = None):
        self.config = config or EvolutionConfig()

    def _search(self, run: SearchRun) -> None:
        population: deque[tuple[Any, float]] = deque()
        while len(population) < self.config.population_size:
            cell = run.random_new_cell()
            population.append((cell, run.query(cell).objective))
        while True:
            contenders = run.rng.sample(list(population), self.config.tournament_size)
            parent = max(contenders, key=lambda member: member[1])[0]
            child = run.mutant(parent)
            population.append((child, run.query(child).objective))
            population.popleft()


class LocalSearch(Searcher):
    """Local search (White et al. 2021): from a random cell, query every new neighbour, move to the best one while
    it improves; at a local optimum, restart from a new random cell."""

    name = "local"

    def __init__(self, config: LocalSearchConfig | None = None):
        self.config = config or LocalSearchConfig()

    def _search(self, run: SearchRun) -> None:
        while True:
            current = run.random_new_cell()
            value = run.query(current).objective
            while True:
                best, best_value = current, value
                for neighbour in run.space.neighbours(current):
                    if not run.oracle.contains(run.space.canonical_id(neighbour)):
                        continue
                    neighbour_value = run.query(neighbour).objective
                    if neighbour_value > best_value:
                        best, best_value = neighbour, neighbour_value
                if best is current:
                    break
                current, value = best, best_value


__all__ = ["LocalSearch", "RandomSearch", "RegularizedEvolution"]
