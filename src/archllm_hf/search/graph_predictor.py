"""Ours, the graph predictor: label-free pretraining on every cell of a space, then a fit on a few labelled cells.

* **Pretraining** (:func:`pretrain_graph_predictor`): the message-passing network of
  :class:`~archllm_hf.models.arch_predictor.ArchPredictorModel` learns to predict each cell's vector of zero-cost
  proxies (:mod:`archllm_hf.data.proxies`: data-free and random-input scores of its network, no accuracy anywhere)
  from the cell's graph alone, over all cells of the space (NB201) or a large sample of it. The proxy inputs are
  blanked while it pretrains, so the graph encoder itself has to learn what the proxies see.
* **Fit** (:class:`GraphPredictor`): from the pretrained weights (or, for the ablation, from scratch), on the
  labelled cells, reading the graph and the cell's proxies: squared error on the labels' normal scores plus a
  pairwise ranking loss, an exponential moving average of the weights, and an ensemble of differently seeded
  members whose predictions are averaged.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ..data.proxies import DEFAULT_PROXIES, ProxyFeatures, ProxyScaler, proxy_table
from ..models.arch_predictor import ArchPredictorConfig, ArchPredictorModel
from ..presets import PredictorTrainingConfig, preset
from ..spaces import SearchSpace
from ..utils import atomic_files, quiet_loading
from .predictors import PREDICTOR_INFO_NAME, Predictor, fit_module, saved_space_and_features


def graph_tensors(space: SearchSpace, cells: Sequence[Any], live_only: bool = False) -> list[torch.Tensor]:
    adjacency, ops, mask = space.to_graphs(list(cells), live_only=live_only)
    return [torch.as_tensor(adjacency, dtype=torch.float32), torch.as_tensor(ops), torch.as_tensor(mask)]


def _seeded_model(
    config: ArchPredictorConfig, seed: int, state: dict[str, Any] | None = None
) -> ArchPredictorModel:
    """A model with weights drawn from ``seed`` (or loaded from ``state``, its score head drawn from ``seed``),
    leaving the global torch generator as it was, so that a fit never moves a caller's draws."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model = ArchPredictorModel(config)
        if state is not None:
            model.load_state_dict(state)
            torch.manual_seed(seed)
            model.score_head.reset_parameters()
    return model


class _Scorer(nn.Module):
    """``(adjacency, ops, mask, proxies) → scores`` of a predictor model, for :func:`fit_module`."""

    def __init__(self, model: ArchPredictorModel):
        super().__init__()
        self.model = model

    def forward(self, adjacency, ops, mask, proxies):  # noqa: ANN001, ANN201 - tensors
        return self.model(
            adjacency, ops, mask, proxies if self.model.proxy_projection is not None else None
        ).scores


def pretrain_graph_predictor(
    space: SearchSpace,
    cells: Sequence[Any],
    proxies: Sequence[dict[str, float]],
    config: ArchPredictorConfig,
    scaler: ProxyScaler,
    epochs: int = 30,
    batch_size: int = 256,
    learning_rate: float = 2e-3,
    seed: int = 0,
) -> ArchPredictorModel:
    """A model whose encoder predicts the rank-scaled proxy vector of every cell in ``cells`` from its graph (the
    proxy inputs blanked): label-free pretraining. ``proxies[i]`` belongs to ``cells[i]``."""
    if not config.proxy_names:
        raise ValueError("pretraining predicts proxies: give the config proxy_names")
    model = _seeded_model(config, seed)
    targets = torch.as_tensor(scaler.transform(proxies))
    adjacency, ops, mask = graph_tensors(space, cells, config.live_graph)
    blank = torch.zeros(len(cells), config.num_proxy_features)
    steps = max(1, epochs * -(-len(cells) // batch_size))
    optimiser = torch.optim.AdamW(model.parameters(), lr=learning_rate, weight_decay=0.01)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=learning_rate, total_steps=steps)
    generator = torch.Generator().manual_seed(seed)
    model.train()
    for _ in range(steps):
        batch = torch.randint(len(cells), (min(batch_size, len(cells)),), generator=generator)
        proxy_input = blank[batch] if config.num_proxy_features else None
        out = model(adjacency[batch], ops[batch], mask[batch], proxy_input, proxy_targets=targets[batch])
        optimiser.zero_grad()
        out.loss.backward()
        optimiser.step()
        schedule.step()
    return model.eval()


def space_proxies(
    space: SearchSpace, cache: str | Path, names: Sequence[str] = DEFAULT_PROXIES, progress: bool = False
) -> tuple[list[Any], list[dict[str, float]]]:
    """The cells the predictor pretrains on and their proxies, measured into ``cache`` (resumable): every cell of an
    enumerable space without a ``proxy_samples`` preset, else that many seeded unique samples."""
    samples = preset(space.name).proxy_samples
    cells = list(space.enumerate()) if samples is None else space.sample(samples, seed=0)
    values = proxy_table(space, cells, names, cache=cache, progress=progress)
    return cells, [values[space.canonical_id(cell)] for cell in cells]


def build_graph_predictor(
    space: SearchSpace,
    proxy_cache: str | Path,
    pretrained: bool = True,
    use_proxy_features: bool = True,
    pretrained_dir: str | Path | None = None,
    config: PredictorTrainingConfig | None = None,
    progress: bool = False,
    ensemble: int | None = None,
) -> GraphPredictor:
    """Ours, ready to fit: the space's proxies (measured into ``proxy_cache`` once), their scaler, and the
    pretrained model (read from ``pretrained_dir`` when it holds one, else pretrained and saved there).

    ``pretrained=False`` gives the from-scratch twin: the same network and inputs, no pretraining (trained at its
    own best learning rate, ``graph_predictor_scratch_learning_rate``).
    ``use_proxy_features=False`` reads the graph alone (the proxies are then pretraining targets only).
    ``config`` and ``ensemble`` replace the preset's fit schedule and ensemble size.
    """
    settings = preset(space.name)
    names = list(DEFAULT_PROXIES)
    cells, proxies = space_proxies(space, proxy_cache, names, progress)
    values = dict(zip((space.canonical_id(c) for c in cells), proxies))
    scaler = ProxyScaler.fit(values, names)
    model_config = ArchPredictorConfig(
        space=space.name,
        space_kwargs=space.space_kwargs,
        num_nodes=space.num_nodes,
        num_ops=space.num_ops,
        proxy_names=names,
        use_proxy_features=use_proxy_features,
        **settings.graph_predictor_model,
    )
    model = None
    if pretrained:
        folder = Path(pretrained_dir) if pretrained_dir is not None else None
        if folder is not None and (folder / "config.json").is_file():
            with quiet_loading():
                model = ArchPredictorModel.from_pretrained(folder)
            fields = (
                "space",
                "num_nodes",
                "num_ops",
                "hidden_size",
                "num_layers",
                "proxy_names",
                "use_proxy_features",
                "live_graph",
            )
            if any(getattr(model.config, f) != getattr(model_config, f) for f in fields):
                raise ValueError(f"{folder} holds a pretrained predictor of another configuration")
        else:
            model = pretrain_graph_predictor(space, cells, proxies, model_config, scaler)
            if folder is not None:
                with atomic_files(folder) as tmp:
                    with quiet_loading():
                        model.save_pretrained(tmp)
    features = ProxyFeatures(space, scaler, values, proxy_cache)
    if config is None:
        config = copy.copy(settings.graph_predictor)
        if not pretrained:
            config.learning_rate = settings.graph_predictor_scratch_learning_rate
    return GraphPredictor(
        space,
        model_config,
        features if use_proxy_features else None,
        model,
        config=config,
        ensemble=settings.graph_predictor_ensemble if ensemble is None else ensemble,
        name=("graph" if pretrained else "graph_scratch") + ("" if use_proxy_features else "_no_proxy_input"),
    )


class GraphPredictor(Predictor):
    """Ours: the graph predictor (module docstring). ``pretrained`` holds the pretrained model (``None``: the
    from-scratch twin, the same network initialised from the fit's seed)."""

    def __init__(
        self,
        space: SearchSpace,
        model_config: ArchPredictorConfig,
        features: ProxyFeatures | None,
        pretrained: ArchPredictorModel | None = None,
        config: PredictorTrainingConfig | None = None,
        ensemble: int = 5,
        name: str | None = None,
    ):
        self.space = space
        super().__init__(config)
        if model_config.num_proxy_features and features is None:
            raise ValueError("a predictor that reads proxies needs their ProxyFeatures")
        self.model_config, self.features = model_config, features
        self.pretrained_state = copy.deepcopy(pretrained.state_dict()) if pretrained is not None else None
        self.ensemble = ensemble
        self.name = name or ("graph" if pretrained is not None else "graph_scratch")
        self.members: list[ArchPredictorModel] = []

    def _inputs(self, cells: Sequence[Any]) -> list[torch.Tensor]:
        tensors = graph_tensors(self.space, cells, self.model_config.live_graph)
        if self.model_config.num_proxy_features:
            tensors.append(torch.as_tensor(self.features(cells)))
        else:
            tensors.append(torch.zeros(len(cells), 0))
        return tensors

    def _fit(self, cells: Sequence[Any], targets: np.ndarray) -> None:
        inputs = self._inputs(cells)
        self.members = []
        for member in range(self.ensemble):
            config = copy.copy(self.config)
            config.seed = self.config.seed * 1000 + member
            model = _seeded_model(self.model_config, config.seed, self.pretrained_state)
            scorer = _Scorer(model)
            fit_module(scorer, inputs, targets, config)
            self.members.append(model.eval())

    @torch.no_grad()
    def _predict(self, cells: Sequence[Any]) -> np.ndarray:
        if not self.members:
            raise RuntimeError(f"fit the {self.name} predictor before predicting")
        inputs = self._inputs(cells)
        return np.mean([_Scorer(m)(*inputs).numpy() for m in self.members], axis=0)

    def save_pretrained(self, out_dir: str | Path) -> Path:
        """Each member under ``member-K/`` and ``archllm_predictor.json`` (space, label scale, proxy scaler)."""
        info = {
            "kind": "graph",
            "name": self.name,
            "space": self.space.name,
            "space_kwargs": self.space.space_kwargs,
            "label_mean": self.label_mean,
            "label_std": self.label_std,
            "members": len(self.members),
            "scaler": self.features.scaler.to_dict() if self.features is not None else None,
        }
        if not self.members:
            raise RuntimeError(f"fit the {self.name} predictor before saving it")
        with atomic_files(out_dir, last=(PREDICTOR_INFO_NAME,)) as tmp:
            for k, member in enumerate(self.members):
                with quiet_loading():
                    member.save_pretrained(tmp / f"member-{k}")
            (tmp / PREDICTOR_INFO_NAME).write_text(json.dumps(info, indent=2) + "\n")
        return Path(out_dir)

    @classmethod
    def from_pretrained(
        cls, path: str | Path, proxy_cache: str | Path | None = None, space: str | None = None
    ) -> GraphPredictor:
        """A folder written by :meth:`save_pretrained`; cells are measured for their proxies as needed (cached in
        ``proxy_cache``). ``space`` checks the folder holds a predictor of that space."""
        file = Path(path) / PREDICTOR_INFO_NAME
        if not file.is_file():
            raise FileNotFoundError(f"{path} is not an archllm predictor folder (no {PREDICTOR_INFO_NAME})")
        info = json.loads(file.read_text())
        if info.get("kind") != "graph":
            raise ValueError(f"{path} holds a {info.get('kind', 'code')!r} predictor, not a graph predictor")
        if space is not None and info["space"] != space:
            raise ValueError(f"{path} holds a predictor of {info['space']!r}, not of {space!r}")
        with quiet_loading():
            members = [
                ArchPredictorModel.from_pretrained(Path(path) / f"member-{k}") for k in range(info["members"])
            ]
        search_space, features = saved_space_and_features(info, proxy_cache)
        predictor = cls(
            search_space, members[0].config, features, None, ensemble=len(members), name=info["name"]
        )
        predictor.members = [m.eval() for m in members]
        predictor.label_mean, predictor.label_std = info["label_mean"], info["label_std"]
        return predictor


__all__ = [
    "GraphPredictor",
    "build_graph_predictor",
    "graph_tensors",
    "pretrain_graph_predictor",
    "space_proxies",
]
