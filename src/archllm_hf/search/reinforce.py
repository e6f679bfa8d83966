"""arch2vec's REINFORCE search in latent space, as its code runs it (pool-based, like its BO).

Every candidate cell is embedded first (arch2vec: the mean over nodes of the VGAE's posterior means). The policy is
an LSTM cell (``latent_dim → 128``) and a linear layer (``128 → latent_dim``): fed the embedding of the cell queried
last, it gives the mean of a Gaussian with identity covariance over latent points; a point is drawn from it and the
nearest (L2) unvisited cell of the pool is queried. Its embedding is the next input. The reward is the objective
divided by 100 (an accuracy in [0, 1]). After every ``update_every`` queries (arch2vec: 16) one policy-gradient step
(Adam, 1e-2) minimises the mean over those queries of ``-log π(action) · (reward - baseline)``, with a constant
``baseline`` (arch2vec: 0.4 on NB201); then the LSTM state starts afresh. The first query is a random cell.

arch2vec's log-probability is the mean over a batch of one, i.e. the log-density of the drawn point, as here. Its
code computes discounted returns and then does not use them (the raw rewards minus the baseline weigh the
log-probabilities), and it starts its nearest-neighbour scan at the second nearest cell (the nearest is never taken,
visited or not); here the nearest unvisited cell is queried.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from .base import Searcher, SearchRun
from .bayesian import candidate_pool
from .configs import RLConfig
from .predictors import own_randomness


class LatentPolicy(nn.Module):
    """arch2vec's policy: an LSTM cell over latent points and a linear map from its state to the action's mean."""

    def __init__(self, latent_dim: int, hidden_size: int = 128):
        super().__init__()
        self.cell = nn.LSTMCell(latent_dim, hidden_size)
        self.mean = nn.Linear(hidden_size, latent_dim)

    def forward(
        self, x: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor] | None
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        hidden, memory = self.cell(x, state)
        return self.mean(hidden), (hidden, memory)


class ReinforceSearch(Searcher):
    """REINFORCE in arch2vec's latent space over a pool of real cells (module docstring).

    Args:
        embed: maps cells to vectors ``[n, d]`` (e.g. :class:`~archllm_hf.search.predictors.Arch2VecEmbedder`).
        config: the pool, the policy and its updates (:class:`~archllm_hf.search.configs.RLConfig`).
    """

    name = "rl"

    def __init__(self, embed: Callable[[Sequence[Any]], np.ndarray], config: RLConfig | None = None):
        self.embed, self.config = embed, config or RLConfig()
        self.num_updates = 0
        """Policy updates made by the last search."""

    def _search(self, run: SearchRun) -> None:
        pool = candidate_pool(run, self.config.pool_size, "RL")
        vectors = torch.as_tensor(np.asarray(self.embed(pool), dtype=np.float32))
        with own_randomness(run.seed):  # the policy's initial weights; the caller's generators are left alone
            policy = LatentPolicy(vectors.shape[1], self.config.hidden_size)
        self._run_policy(run, pool, vectors, policy)

    def _run_policy(
        self, run: SearchRun, pool: list[Any], vectors: torch.Tensor, policy: LatentPolicy
    ) -> None:
        visited = torch.zeros(len(pool), dtype=torch.bool)
        generator = torch.Generator().manual_seed(run.seed)
        optimizer = torch.optim.Adam(policy.parameters(), lr=self.config.learning_rate)

        start = run.rng.randrange(len(pool))
        visited[start] = True
        run.query(pool[start])
        state_vector, lstm_state = vectors[start], None
        log_probs: list[torch.Tensor] = []
        rewards: list[float] = []
        self.num_updates = 0
        while True:
            mean, lstm_state = policy(state_vector[None], lstm_state)
            noise = torch.randn(mean.shape, generator=generator)
            action = (mean + self.config.action_std * noise).detach()
            log_probs.append(_gaussian_log_density(action, mean, self.config.action_std)[0])
            nearest = self._nearest_unvisited(vectors, visited, action[0])
            visited[nearest] = True
            state_vector = vectors[nearest]
            rewards.append(run.query(pool[nearest]).objective * self.config.reward_scale)
            if len(rewards) == self.config.update_every:
                self._update(optimizer, log_probs, rewards)
                log_probs, rewards, lstm_state = [], [], None

    def _update(
        self, optimizer: torch.optim.Optimizer, log_probs: list[torch.Tensor], rewards: list[float]
    ) -> None:
        advantages = torch.tensor(rewards) - self.config.baseline
        loss = torch.mean(-torch.stack(log_probs) * advantages)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        self.num_updates += 1

    @staticmethod
    def _nearest_unvisited(vectors: torch.Tensor, visited: torch.Tensor, point: torch.Tensor) -> int:
        distances = torch.linalg.vector_norm(vectors - point, dim=1)
        distances[visited] = float("inf")
        return int(torch.argmin(distances))


def _gaussian_log_density(x: torch.Tensor, mean: torch.Tensor, std: float) -> torch.Tensor:
    """Log-density of ``x`` under ``N(mean, std² I)``, per row."""
    d = x.shape[-1]
    squared = ((x - mean) / std).pow(2).sum(-1)
    return -0.5 * squared - d * np.log(std) - 0.5 * d * np.log(2 * np.pi)


__all__ = ["LatentPolicy", "ReinforceSearch"]
