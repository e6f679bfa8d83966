"""arch2vec-style Bayesian optimisation: DNGO (a neural net whose last layer is a Bayesian linear regression) over
arch2vec embeddings, pool-based as in arch2vec: every candidate cell is embedded first, and each step queries the
unvisited real cell with the highest expected improvement (so no latent point ever needs decoding)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from ..presets import PredictorTrainingConfig
from .base import Searcher, SearchRun
from .configs import BOConfig
from .predictors import _MLP, fit_module

DNGO_CONFIG = PredictorTrainingConfig(
    epochs=100, min_steps=100, batch_size=256, learning_rate=1e-2, warmup_ratio=0.0
)
"""arch2vec's DNGO: 100 epochs; with at most a few hundred points, one epoch is one step on a batch of that size
(drawn with replacement, as every batch of :func:`~archllm_hf.search.predictors.fit_module`)."""


class DNGO:
    """Neural-net features with a Bayesian linear regression on top (Snoek et al. 2015).

    The regression's prior precision ``alpha`` and noise precision ``beta`` maximise the marginal likelihood of the
    (standardised) targets, by MacKay's fixed-point updates.
    """

    def __init__(
        self, hidden_size: int = 128, num_layers: int = 3, config: PredictorTrainingConfig = DNGO_CONFIG
    ):
        self.hidden_size, self.num_layers, self.config = hidden_size, num_layers, config

    def fit(self, x: np.ndarray, y: np.ndarray, seed: int = 0) -> DNGO:
        self.mean, self.std = float(y.mean()), float(y.std()) or 1.0
        targets = ((y - self.mean) / self.std).astype(np.float32)
        torch.manual_seed(seed)
        self.net = _MLP(x.shape[1], self.hidden_size, self.num_layers)
        fit_module(self.net, [torch.as_tensor(x, dtype=torch.float32)], targets, self.config)
        self.weights, self.covariance, self.beta = bayesian_linear_regression(
            self._features(x), targets.astype(np.float64)
        )
        return self

    def predict(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Predictive mean and standard deviation, in the targets' units."""
        phi = self._features(x)
        mean = phi @ self.weights
        variance = 1.0 / self.beta + ((phi @ self.covariance) * phi).sum(axis=1)
        return mean * self.std + self.mean, np.sqrt(np.maximum(variance, 1e-12)) * self.std

    @torch.no_grad()
    def _features(self, x: np.ndarray) -> np.ndarray:
        features = self.net.features(torch.as_tensor(x, dtype=torch.float32)).double().numpy()
        return np.hstack([features, np.ones((len(x), 1))])


def bayesian_linear_regression(
    phi: np.ndarray, y: np.ndarray, iterations: int = 30
) -> tuple[np.ndarray, np.ndarray, float]:
    """Posterior mean and covariance of ``w`` and the noise precision ``beta`` of ``y ~ N(phi w, 1/beta)``,
    ``w ~ N(0, 1/alpha)``, with ``alpha`` and ``beta`` set by evidence maximisation (MacKay's updates)."""
    n, _ = phi.shape
    eigenvalues, vectors = np.linalg.eigh(phi.T @ phi)
    eigenvalues = np.clip(eigenvalues, 0, None)
    projected = vectors.T @ (phi.T @ y)  # phi^T y in the eigenbasis
    alpha, beta = 1.0, 1.0
    for _ in range(iterations + 1):
        weights = vectors @ (beta * projected / (beta * eigenvalues + alpha))
        gamma = float(np.sum(beta * eigenvalues / (alpha + beta * eigenvalues)))
        alpha = max(gamma, 1e-6) / max(float(weights @ weights), 1e-12)
        beta = max(n - gamma, 1e-6) / max(float(np.sum((y - phi @ weights) ** 2)), 1e-12)
    weights = vectors @ (beta * projected / (beta * eigenvalues + alpha))
    covariance = (vectors / (beta * eigenvalues + alpha)) @ vectors.T
    return weights, covariance, beta


def expected_improvement(mean: np.ndarray, std: np.ndarray, best: float) -> np.ndarray:
    """Expected improvement over ``best`` of Gaussian predictions (maximisation)."""
    z = (mean - best) / std
    cdf = 0.5 * (1 + torch.erf(torch.as_tensor(z / math.sqrt(2))).numpy())
    pdf = np.exp(-0.5 * z**2) / math.sqrt(2 * math.pi)
    return (mean - best) * cdf + std * pdf


class BayesianOptimisation(Searcher):
    """DNGO + expected improvement over arch2vec embeddings of a pool of real cells.

    Args:
        embed: maps cells to vectors ``[n, d]`` (e.g. :class:`~archllm_hf.search.predictors.Arch2VecEmbedder`).
        config: the initial queries, the pool and the batch (:class:`~archllm_hf.search.configs.BOConfig`).
        model: the surrogate (a fresh :class:`DNGO` by default).
    """

    name = "bo"

    def __init__(
        self,
        embed: Callable[[Sequence[Any]], np.ndarray],
        config: BOConfig | None = None,
        model: DNGO | None = None,
    ):
        self.embed, self.config = embed, config or BOConfig()
        self.model = model or DNGO()

    def _search(self, run: SearchRun) -> None:
        pool = run.oracle.candidates()
        if pool is None:
            pool = self._sampled_pool(run)
        if run.budget > len(pool):
            raise ValueError(
                f"budget {run.budget:,} is larger than the pool of {len(pool):,} cells BO chooses from"
            )
        ids = [run.space.canonical_id(cell) for cell in pool]
        vectors = np.asarray(self.embed(pool), dtype=np.float32)
        position = {cell_id: i for i, cell_id in enumerate(ids)}
        for i in run.rng.sample(range(len(pool)), min(self.config.num_initial, len(pool))):
            run.query(pool[i])
        while True:
            seen = [position[r["id"]] for r in run.history]
            values = np.array([r["objective"] for r in run.history])
            self.model.fit(vectors[seen], values, seed=run.seed + len(seen))
            unvisited = np.setdiff1d(np.arange(len(pool)), seen)
            if not len(unvisited):
                return
            mean, std = self.model.predict(vectors[unvisited])
            improvement = expected_improvement(mean, std, values.max())
            for i in np.argsort(-improvement, kind="stable")[: self.config.batch_size]:
                run.query(pool[unvisited[i]])

    def _sampled_pool(self, run: SearchRun) -> list[Any]:
        """``config.pool_size`` distinct cells of the space (all of them when it has fewer)."""
        pool_size = self.config.pool_size
        if run.space.num_cells is not None and run.space.num_cells <= pool_size:
            return list(run.space.enumerate())
        return run.space.sample(pool_size, seed=run.seed)


__all__ = ["DNGO", "BayesianOptimisation", "bayesian_linear_regression", "expected_improvement"]
