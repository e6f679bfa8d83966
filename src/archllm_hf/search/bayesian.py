"""arch2vec's Bayesian optimisation, as its code runs it: DNGO (a neural net whose last layer is a Bayesian linear
regression) over arch2vec embeddings, pool-based: every candidate cell is embedded first, and each step queries the
unvisited real cell with the highest expected improvement (so no latent point ever needs decoding).

arch2vec's settings (its NB201 search script with the ``pybnn`` DNGO it calls), the defaults here:

* DNGO (:data:`ARCH2VEC_DNGO`): 3 tanh layers of 128 units, a linear output; Adam at 1e-2 on the squared error,
  100 epochs of shuffled minibatches of 10 (full batches only); inputs standardised, outputs **not**; the
  last hidden layer (plus a bias) feeds the Bayesian linear regression, whose hyper-parameters maximise the
  marginal likelihood (no MCMC);
* labels are accuracies divided by 100 (``label_scale``);
* its acquisition is expected improvement over a fixed incumbent of **1.0** (a perfect accuracy, not the best
  seen), computed with the predictive **variance** where the standard deviation belongs (``ei_incumbent`` and
  ``ei_scale``; ``None`` and ``"std"`` give the textbook EI);
* 16 random initial cells, then 1 cell per fit on NB201 (5 on NB101).

Deviations: the hyper-parameters are set by MacKay's fixed-point updates (the same maximiser ``pybnn`` reaches
with a simplex search); arch2vec ranks every cell by EI and drops the visited ones from its top ``k``, so a round
whose best cell was visited queries nothing; here the best unvisited cells are queried, every round.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Sequence
from typing import Any, Literal

import numpy as np
import torch
from torch import nn

from .base import Searcher, SearchRun
from .configs import BOConfig


@dataclasses.dataclass(frozen=True)
class DNGOConfig:
    """DNGO's network and its training (defaults: arch2vec's, :data:`ARCH2VEC_DNGO`)."""

    hidden_size: int = 128
    num_layers: int = 3
    activation: Literal["tanh", "relu"] = "tanh"
    epochs: int = 100
    batch_size: int = 10
    learning_rate: float = 1e-2
    normalize_input: bool = True
    normalize_output: bool = False

    def __post_init__(self) -> None:
        for name in ("hidden_size", "num_layers", "epochs", "batch_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be a positive integer, got {getattr(self, name)}")
        if self.learning_rate <= 0:
            raise ValueError(f"learning_rate must be positive, got {self.learning_rate}")
        if self.activation not in ("tanh", "relu"):
            raise ValueError(f"activation must be 'tanh' or 'relu', got {self.activation!r}")


ARCH2VEC_DNGO = DNGOConfig()
"""arch2vec's DNGO: tanh, 3 x 128 units, 100 epochs of batch 10, Adam 1e-2, outputs not normalised."""


class DNGO:
    """Neural-net features with a Bayesian linear regression on top (Snoek et al. 2015).

    The network trains on the squared error; its last hidden layer (and a constant) are the basis functions of a
    Bayesian linear regression whose prior precision ``alpha`` and noise precision ``beta`` maximise the marginal
    likelihood of the targets (MacKay's fixed-point updates).
    """

    def __init__(self, config: DNGOConfig = ARCH2VEC_DNGO):
        if not isinstance(config, DNGOConfig):
            raise TypeError(f"config must be a DNGOConfig, got {type(config).__name__}")
        self.config = config

    def _network(self, in_features: int) -> nn.Sequential:
        config = self.config
        activation = nn.Tanh if config.activation == "tanh" else nn.ReLU
        layers: list[nn.Module] = []
        for i in range(config.num_layers):
            layers += [
                nn.Linear(in_features if i == 0 else config.hidden_size, config.hidden_size),
                activation(),
            ]
        return nn.Sequential(*layers, nn.Linear(config.hidden_size, 1))

    def fit(self, x: np.ndarray, y: np.ndarray, seed: int = 0) -> DNGO:
        config = self.config
        x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
        if x.ndim != 2 or len(x) != len(y) or len(x) < 2:
            raise ValueError(f"need x [n, d] and y [n] with n >= 2, got {x.shape} and {y.shape}")
        self.x_mean = x.mean(0) if config.normalize_input else np.zeros(x.shape[1])
        self.x_std = (x.std(0) if config.normalize_input else np.ones(x.shape[1])).copy()
        self.x_std[self.x_std == 0] = 1.0
        self.mean, self.std = (
            (float(y.mean()), float(y.std()) or 1.0) if config.normalize_output else (0.0, 1.0)
        )
        targets = (y - self.mean) / self.std
        torch.manual_seed(seed)
        self.net = self._network(x.shape[1])
        order = np.random.default_rng(seed)
        self.steps = train_mlp(self.net, self._inputs(x), targets, config, lambda: order.permutation(len(x)))
        self.net.eval()
        self.weights, self.covariance, self.beta = bayesian_linear_regression(self._features(x), targets)
        return self

    def predict(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Predictive mean and standard deviation, in the targets' units."""
        phi = self._features(np.asarray(x, dtype=np.float64))
        mean = phi @ self.weights
        variance = 1.0 / self.beta + ((phi @ self.covariance) * phi).sum(axis=1)
        return mean * self.std + self.mean, np.sqrt(np.maximum(variance, 1e-12)) * self.std

    def _inputs(self, x: np.ndarray) -> np.ndarray:
        return (x - self.x_mean) / self.x_std

    @torch.no_grad()
    def _features(self, x: np.ndarray) -> np.ndarray:
        hidden = self.net[:-1](torch.as_tensor(self._inputs(x), dtype=torch.float32)).double().numpy()
        return np.hstack([hidden, np.ones((len(x), 1))])


def train_mlp(
    net: nn.Sequential,
    inputs: np.ndarray,
    targets: np.ndarray,
    config: DNGOConfig,
    permutation: Callable[[], np.ndarray],
) -> int:
    """Train ``net`` (Linear/activation layers) in place on the mean squared error with Adam at torch's defaults,
    ``config.epochs`` epochs of full minibatches of ``config.batch_size`` in the order ``permutation()`` gives
    (one batch of all points when there are fewer); returns the number of steps.

    The updates are torch's ``Adam`` step for step, done in numpy on one flat buffer: on a network this small, torch's
    per-step overhead is most of the time, and arch2vec's search fits one after every query."""
    activation = nn.Tanh if config.activation == "tanh" else nn.ReLU
    layers = list(net)
    linears = layers[0::2]
    if (
        len(layers) % 2 == 0
        or not all(isinstance(layer, nn.Linear) for layer in linears)
        or not all(isinstance(layer, activation) for layer in layers[1::2])
        or linears[-1].out_features != 1
    ):
        raise ValueError(
            f"train_mlp trains Linear/{activation.__name__} layers ending in one output, as DNGO builds them; got {net}"
        )
    shapes = [
        shape for layer in linears for shape in (tuple(layer.weight.shape[::-1]), (layer.out_features,))
    ]
    sizes = [int(np.prod(shape)) for shape in shapes]
    offsets = np.cumsum([0, *sizes])
    flat = np.concatenate(
        [t.detach().numpy().T.ravel() for layer in linears for t in (layer.weight, layer.bias)]
    ).astype(np.float32)
    grad, first, second, scratch = (np.zeros_like(flat) for _ in range(4))
    params = [flat[a:b].reshape(shape) for a, b, shape in zip(offsets, offsets[1:], shapes)]
    grads = [grad[a:b].reshape(shape) for a, b, shape in zip(offsets, offsets[1:], shapes)]
    x, y = np.asarray(inputs, dtype=np.float32), np.asarray(targets, dtype=np.float32)
    batch = min(config.batch_size, len(x))
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    step = 0
    for _ in range(config.epochs):
        order = permutation()
        for start in range(0, len(x) - batch + 1, batch):
            rows = order[start : start + batch]
            hidden = [x[rows]]
            for layer in range(len(linears) - 1):
                pre = hidden[-1] @ params[2 * layer] + params[2 * layer + 1]
                hidden.append(np.tanh(pre) if config.activation == "tanh" else np.maximum(pre, 0))
            error = (2.0 / batch) * (hidden[-1] @ params[-2] + params[-1] - y[rows, None])
            for layer in range(len(linears) - 1, -1, -1):
                np.matmul(hidden[layer].T, error, out=grads[2 * layer])
                error.sum(axis=0, out=grads[2 * layer + 1])
                if layer:
                    slope = 1 - hidden[layer] ** 2 if config.activation == "tanh" else hidden[layer] > 0
                    error = (error @ params[2 * layer].T) * slope
            step += 1
            first *= beta1
            first += (1 - beta1) * grad
            second *= beta2
            np.multiply(grad, grad, out=scratch)
            second += (1 - beta2) * scratch
            np.sqrt(second / (1 - beta2**step), out=scratch)
            scratch += eps
            flat -= (config.learning_rate / (1 - beta1**step)) * first / scratch
    with torch.no_grad():
        for layer, weight, bias in zip(linears, params[::2], params[1::2]):
            layer.weight.copy_(torch.from_numpy(np.ascontiguousarray(weight.T)))
            layer.bias.copy_(torch.from_numpy(bias.copy()))
    return step


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


def candidate_pool(run: SearchRun, pool_size: int, who: str) -> list[Any]:
    """The real cells a pool-based searcher (``who``, for the error) chooses from: the oracle's candidates (a table
    oracle's cells), else ``pool_size`` distinct cells sampled from the space (all of them when it has fewer).
    Raises ``ValueError`` when the budget is larger than the pool."""
    pool = run.oracle.candidates()
    if pool is None:
        if run.space.num_cells is not None and run.space.num_cells <= pool_size:
            pool = list(run.space.enumerate())
        else:
            pool = run.space.sample(pool_size, seed=run.seed)
    if run.budget > len(pool):
        raise ValueError(
            f"budget {run.budget:,} is larger than the pool of {len(pool):,} cells {who} chooses from"
        )
    return list(pool)


class BayesianOptimisation(Searcher):
    """DNGO + expected improvement over arch2vec embeddings of a pool of real cells (module docstring).

    Args:
        embed: maps cells to vectors ``[n, d]`` (e.g. :class:`~archllm_hf.search.predictors.Arch2VecEmbedder`).
        config: the initial queries, the pool, the batch and arch2vec's acquisition
            (:class:`~archllm_hf.search.configs.BOConfig`).
        model: the DNGO (default: arch2vec's, :data:`ARCH2VEC_DNGO`).
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
        pool = candidate_pool(run, self.config.pool_size, "BO")
        ids = [run.space.canonical_id(cell) for cell in pool]
        vectors = np.asarray(self.embed(pool), dtype=np.float32)
        position = {cell_id: i for i, cell_id in enumerate(ids)}
        for i in run.rng.sample(range(len(pool)), min(self.config.num_initial, len(pool))):
            run.query(pool[i])
        while True:
            seen = [position[r["id"]] for r in run.history]
            values = np.array([r["objective"] for r in run.history]) * self.config.label_scale
            self.model.fit(vectors[seen], values, seed=run.seed + len(seen))
            unvisited = np.setdiff1d(np.arange(len(pool)), seen)
            if not len(unvisited):
                return
            mean, std = self.model.predict(vectors[unvisited])
            scale = std**2 if self.config.ei_scale == "variance" else std
            incumbent = values.max() if self.config.ei_incumbent is None else self.config.ei_incumbent
            improvement = expected_improvement(mean, np.maximum(scale, 1e-12), incumbent)
            for i in np.argsort(-improvement, kind="stable")[: self.config.batch_size]:
                run.query(pool[unvisited[i]])

    def _extra(self) -> dict[str, Any]:
        return {**self.config.to_dict(), "dngo": dataclasses.asdict(self.model.config)}


__all__ = [
    "ARCH2VEC_DNGO",
    "DNGO",
    "BayesianOptimisation",
    "DNGOConfig",
    "bayesian_linear_regression",
    "candidate_pool",
    "expected_improvement",
    "train_mlp",
]
