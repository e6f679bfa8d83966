"""Accuracy predictors: fit on (cell, accuracy) pairs, predict the accuracy of other cells.

* :class:`ArchPredictor`, ours: the prior's transformer with a regression head
  (``AutoModelForSequenceClassification``, ``num_labels=1``, ``problem_type="regression"``) over the cell's code
  string, initialised from the pretrained prior (or, for the ablation, from scratch) and fine-tuned with ``Trainer``.
* :class:`GINPredictor`: a graph isomorphism network on the cell's graph encoding.
* :class:`Arch2VecMLPPredictor`: an MLP on arch2vec VGAE embeddings (the mean of the nodes' posterior means).

Each :meth:`Predictor.fit` starts afresh: the pretrained code predictor from the prior's weights (and the head it
was built with), the others from weights drawn with the config's seed. Every predictor trains on the normal scores of
its labels' ranks (accuracy tables have long tails of failed cells, which squared error would chase); predictions
come back as ``mean + std * score`` of the training labels, so their order is the model's.
"""

from __future__ import annotations

import copy
import json
import math
import random
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ClassVar

import datasets
import numpy as np
import torch
from scipy.stats import norm, rankdata
from torch import nn
from transformers import (
    AutoConfig,
    AutoModelForSequenceClassification,
    AutoTokenizer,
    PreTrainedModel,
    Trainer,
    set_seed,
)
from transformers.trainer_callback import PrinterCallback

from .._hub import PREDICTOR_INFO_NAME, predictor_folder, read_prior_info, reference, resolve
from ..data.proxies import ProxyFeatures
from ..generation.generator import load_prior_vqvae
from ..presets import PredictorTrainingConfig, preset
from ..spaces import SearchSpace
from ..training.common import padding_collator, training_arguments
from ..utils import atomic_files, quiet_loading


class Predictor(ABC):
    """Fit on cells and their labels; predict labels of cells."""

    name: ClassVar[str]
    space: SearchSpace

    def __init__(self, config: PredictorTrainingConfig | None = None):
        self.config = copy.copy(config or preset(self.space.name).predictor)
        self.label_mean, self.label_std = 0.0, 0.0

    def fit(self, cells: Sequence[Any], labels: Sequence[float]) -> Predictor:
        """Train from the initial weights on ``cells`` and their ``labels``; returns ``self``."""
        labels = np.asarray(labels, dtype=np.float64)
        if labels.ndim != 1 or len(cells) != len(labels):
            raise ValueError(f"got {len(cells)} cells and labels of shape {labels.shape}")
        if not np.isfinite(labels).all():
            raise ValueError("labels must be finite numbers")
        self.config.num_steps(len(cells))  # at least 2 cells
        self.label_mean, self.label_std = float(labels.mean()), float(labels.std()) or 1.0
        with own_randomness(self.config.seed):
            self._fit(cells, normal_scores(labels).astype(np.float32))
        return self

    def predict(self, cells: Sequence[Any]) -> np.ndarray:
        """Predicted labels of ``cells`` (float64, in the labels' units)."""
        if not self.label_std:
            raise RuntimeError(f"fit the {self.name} predictor before predicting")
        if not len(cells):
            return np.zeros(0)
        return self.label_mean + self.label_std * self._predict(cells).astype(np.float64)

    def save_pretrained(self, out_dir: str | Path) -> Path:
        """Write the fitted predictor to a folder that :func:`load_predictor` reads."""
        raise NotImplementedError(f"the {self.name} predictor cannot be saved")

    def push_to_hub(
        self,
        repo_id: str,
        token: str | None = None,
        private: bool | None = None,
        commit_message: str | None = None,
    ) -> str:
        """Save to a temporary folder and upload it as the model repo ``repo_id``; returns the commit's URL."""
        from huggingface_hub import create_repo, upload_folder

        with tempfile.TemporaryDirectory() as tmp:
            self.save_pretrained(Path(tmp) / "predictor")
            create_repo(repo_id, token=token, private=private, exist_ok=True)
            info = upload_folder(
                repo_id=repo_id,
                folder_path=Path(tmp) / "predictor",
                token=token,
                commit_message=commit_message or f"Upload the {self.name} predictor",
            )
        return str(info)

    def _info(self) -> dict[str, Any]:
        return {
            "kind": self.name,
            "space": self.space.name,
            "space_kwargs": self.space.space_kwargs,
            "label_mean": self.label_mean,
            "label_std": self.label_std,
        }

    def _check_fitted(self) -> None:
        if not self.label_std:
            raise RuntimeError(f"fit the {self.name} predictor before saving it")

    @abstractmethod
    def _fit(self, cells: Sequence[Any], targets: np.ndarray) -> None:
        """Train on standardised targets."""

    @abstractmethod
    def _predict(self, cells: Sequence[Any]) -> np.ndarray:
        """Standardised predictions."""


@contextmanager
def own_randomness(seed: int) -> Iterator[None]:
    """Seed Python's, NumPy's and torch's generators for a fit and give the caller's states back afterwards, so that
    fitting a predictor in the middle of a search never moves the search's own draws."""
    python_state, numpy_state = random.getstate(), np.random.get_state()
    with torch.random.fork_rng(
        devices=range(torch.cuda.device_count()) if torch.cuda.is_initialized() else []
    ):
        set_seed(seed)
        try:
            yield
        finally:
            random.setstate(python_state)
            np.random.set_state(numpy_state)


def normal_scores(labels: np.ndarray) -> np.ndarray:
    """The standard-normal quantiles of the labels' ranks (ties share their mean rank)."""
    return norm.ppf((rankdata(labels) - 0.5) / len(labels))


# --- ours: the code predictor -----------------------------------------------------------------------------------------
class _RegressionCollator:
    """Right-padded ``input_ids`` (:func:`~archllm_hf.training.common.padding_collator`) and float32 ``labels``."""

    def __init__(self, tokenizer: Any):
        self.pad = padding_collator(tokenizer)

    def __call__(self, examples: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        batch = dict(self.pad([{"input_ids": e["input_ids"]} for e in examples]))
        if "labels" in examples[0]:
            batch["labels"] = torch.tensor([e["labels"] for e in examples], dtype=torch.float32)
        return batch


class ArchPredictor(Predictor):
    """The code prior's transformer with a regression head, over the cell's code string.

    Build with :meth:`from_prior` (``pretrained=False`` gives the same network from scratch); save with
    :meth:`save_pretrained` and load with :meth:`from_pretrained`.
    """

    name = "code_pretrained"

    def __init__(
        self,
        model: PreTrainedModel,
        tokenizer: Any,
        vqvae: Any,
        processor: Any,
        prompt: str | None = None,
        config: PredictorTrainingConfig | None = None,
        pretrained: bool = True,
    ):
        self.model, self.tokenizer, self.vqvae, self.processor = model, tokenizer, vqvae, processor
        self.space = processor.space
        self.prompt = prompt
        self.pretrained = pretrained
        self.name = "code_pretrained" if pretrained else "code_scratch"
        super().__init__(config)
        self._initial_state = copy.deepcopy(model.state_dict())
        self.vqvae_reference: str | None = None
        self._token_ids: dict[str, list[int]] = {}

    @classmethod
    def from_prior(
        cls,
        prior: str | Path,
        pretrained: bool = True,
        vqvae: str | Path | None = None,
        config: PredictorTrainingConfig | None = None,
        device: str | torch.device | None = None,
        **hub_kwargs: Any,
    ) -> ArchPredictor:
        """The predictor of a trained prior (folder or Hub repo): its transformer and its VQ-VAE's codes.

        ``pretrained=False`` initialises the same network at random (the from-scratch ablation).
        """
        info = read_prior_info(prior, **hub_kwargs)
        if info.format not in ("codes", "text"):
            raise ValueError(
                f"a {info.format!r} prior does not read codes; the code predictor needs a code prior"
            )
        vqvae_model, processor = load_prior_vqvae(prior, info, vqvae, device, **dict(hub_kwargs))
        tokenizer = AutoTokenizer.from_pretrained(str(prior), **hub_kwargs)
        head = {"num_labels": 1, "problem_type": "regression"}
        if pretrained:
            with quiet_loading():  # the regression head is new by design: no "MISSING score.weight" report
                model = AutoModelForSequenceClassification.from_pretrained(str(prior), **head, **hub_kwargs)
        else:
            set_seed((config or preset(processor.space.name).predictor).seed)
            model = AutoModelForSequenceClassification.from_config(
                AutoConfig.from_pretrained(str(prior), **head, **hub_kwargs)
            )
        if model.config.pad_token_id is None:
            model.config.pad_token_id = tokenizer.pad_token_id
        if device is not None:
            model.to(device)
        predictor = cls(
            model,
            tokenizer,
            vqvae_model,
            processor,
            prompt=info.prompt if info.format == "text" else None,
            config=config,
            pretrained=pretrained,
        )
        predictor.vqvae_reference = str(vqvae) if vqvae is not None else None
        return predictor

    def encode(self, cells: Sequence[Any]) -> list[list[int]]:
        """Token ids of the cells' code strings, as the prior reads them (remembered per canonical id)."""
        ids = [self.space.canonical_id(cell) for cell in cells]
        todo = {cell_id: cell for cell_id, cell in zip(ids, cells) if cell_id not in self._token_ids}
        if todo:
            texts = self.processor.cells_to_text(self.vqvae, list(todo.values()))
            if self.prompt is None:
                encoded = self.tokenizer(texts)["input_ids"]
            else:
                prompt = self.tokenizer(self.prompt)["input_ids"]
                bodies = self.tokenizer([" " + t for t in texts], add_special_tokens=False)["input_ids"]
                encoded = [prompt + body + [self.tokenizer.eos_token_id] for body in bodies]
            self._token_ids.update(zip(todo, encoded))
        return [self._token_ids[cell_id] for cell_id in ids]

    def _fit(self, cells: Sequence[Any], targets: np.ndarray) -> None:
        if self.pretrained:
            self.model.load_state_dict(self._initial_state)
            head = getattr(self.model, "score", None)
            if head is not None:  # the regression head drawn from the fit's seed, as the model initialises it
                self.model._init_weights(head)
        else:  # the from-scratch ablation draws its weights from the fit's seed
            device = self.model.device
            self.model = AutoModelForSequenceClassification.from_config(self.model.config).to(device)
        self.model.train()
        data = datasets.Dataset.from_dict({"input_ids": self.encode(cells), "labels": targets.tolist()})
        config = self.config
        with tempfile.TemporaryDirectory() as tmp:
            args = training_arguments(
                Path(tmp),
                seed=config.seed,
                device=self.model.device.type,
                progress=False,
                max_steps=config.num_steps(len(cells)),
                per_device_train_batch_size=config.batch_size,
                learning_rate=config.learning_rate,
                weight_decay=config.weight_decay,
                warmup_steps=config.warmup_ratio,
                lr_scheduler_type="cosine",
                save_strategy="no",
                eval_strategy="no",
                logging_strategy="no",
            )
            trainer = Trainer(
                model=self.model,
                args=args,
                train_dataset=data,
                data_collator=_RegressionCollator(self.tokenizer),
            )
            trainer.remove_callback(PrinterCallback)
            trainer.train()
        self.model.eval()

    @torch.no_grad()
    def _predict(self, cells: Sequence[Any], batch_size: int = 4096) -> np.ndarray:
        self.model.eval()
        ids = self.encode(cells)
        collate = _RegressionCollator(self.tokenizer)
        out = []
        for start in range(0, len(ids), batch_size):
            batch = collate([{"input_ids": row} for row in ids[start : start + batch_size]])
            batch = {k: v.to(self.model.device) for k, v in batch.items()}
            out.append(self.model(**batch).logits[:, 0].float().cpu().numpy())
        return np.concatenate(out)

    def save_pretrained(self, out_dir: str | Path) -> Path:
        """Save model, tokenizer and ``archllm_predictor.json`` (space, label scale, VQ-VAE reference)."""
        out_dir = Path(out_dir)
        vqvae_reference = self.vqvae_reference or getattr(self.vqvae, "name_or_path", None)
        info = {
            "kind": self.name,
            "space": self.space.name,
            "space_kwargs": self.space.space_kwargs,
            "vqvae": reference(vqvae_reference, out_dir) if vqvae_reference else None,
            "prompt": self.prompt,
            "label_mean": self.label_mean,
            "label_std": self.label_std,
            "pretrained": self.pretrained,
        }
        with atomic_files(out_dir, last=(PREDICTOR_INFO_NAME,)) as tmp:
            with quiet_loading():
                self.model.save_pretrained(tmp)
            self.tokenizer.save_pretrained(tmp)
            (tmp / PREDICTOR_INFO_NAME).write_text(json.dumps(info, indent=2) + "\n")
        return out_dir

    @classmethod
    def from_pretrained(cls, path: str | Path, device: str | torch.device | None = None) -> ArchPredictor:
        """A predictor folder written by :meth:`save_pretrained`."""
        from .._hub import load_vqvae

        file = Path(path) / PREDICTOR_INFO_NAME
        if not file.is_file():
            raise FileNotFoundError(f"{path} is not an archllm predictor folder (no {PREDICTOR_INFO_NAME})")
        info = json.loads(file.read_text())
        if info.get("vqvae") is None:
            raise ValueError(f"{file} names no VQ-VAE")
        vqvae_path, kwargs = resolve(info["vqvae"], path)
        vqvae, processor = load_vqvae(vqvae_path, device=device, **kwargs)
        with quiet_loading():
            model = AutoModelForSequenceClassification.from_pretrained(str(path))
        if device is not None:
            model.to(device)
        tokenizer = AutoTokenizer.from_pretrained(str(path))
        predictor = cls(model, tokenizer, vqvae, processor, info.get("prompt"), pretrained=info["pretrained"])
        predictor.label_mean, predictor.label_std = info["label_mean"], info["label_std"]
        return predictor


# --- baselines ----------------------------------------------------------------------------------------------------------
class _GIN(nn.Module):
    """Op embeddings, ``num_layers`` GIN layers over the undirected graph, mean readout of the real nodes (joined
    with ``num_features`` cell features, if any), a head."""

    def __init__(self, num_ops: int, hidden_size: int, num_layers: int, num_features: int = 0):
        super().__init__()
        self.embed = nn.Embedding(num_ops, hidden_size)
        self.layers = nn.ModuleList(
            nn.Sequential(nn.Linear(hidden_size, hidden_size), nn.ReLU(), nn.Linear(hidden_size, hidden_size))
            for _ in range(num_layers)
        )
        self.eps = nn.Parameter(torch.zeros(num_layers))
        self.head = nn.Sequential(
            nn.Linear(hidden_size + num_features, hidden_size), nn.ReLU(), nn.Linear(hidden_size, 1)
        )

    def forward(
        self,
        adjacency: torch.Tensor,
        ops: torch.Tensor,
        mask: torch.Tensor,
        features: torch.Tensor | None = None,
    ) -> torch.Tensor:
        neighbours = adjacency + adjacency.transpose(1, 2)
        h = self.embed(ops)
        for eps, layer in zip(self.eps, self.layers):
            h = torch.relu(layer((1 + eps) * h + neighbours @ h))
        weights = mask.unsqueeze(-1).float()
        pooled = (h * weights).sum(1) / weights.sum(1).clamp(min=1)
        if features is not None:
            pooled = torch.cat([pooled, features], dim=-1)
        return self.head(pooled)[:, 0]


class _MLP(nn.Module):
    def __init__(self, in_features: int, hidden_size: int, num_layers: int = 2):
        super().__init__()
        layers: list[nn.Module] = []
        for i in range(num_layers):
            layers += [nn.Linear(in_features if i == 0 else hidden_size, hidden_size), nn.ReLU()]
        self.body = nn.Sequential(*layers)
        self.out = nn.Linear(hidden_size, 1)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.out(self.body(x))[:, 0]


def pairwise_ranking_loss(scores: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Mean logistic loss ``log(1 + exp(-(s_i - s_j)))`` over the pairs of a batch whose target ``i`` beats ``j``."""
    better = (targets.unsqueeze(1) > targets.unsqueeze(0)).float()
    margins = scores.unsqueeze(1) - scores.unsqueeze(0)
    return (nn.functional.softplus(-margins) * better).sum() / better.sum().clamp(min=1)


def fit_module(
    module: nn.Module, inputs: Sequence[torch.Tensor], targets: np.ndarray, config: PredictorTrainingConfig
) -> None:
    """Train ``module(*inputs[batch])`` on squared error against ``targets`` (plus ``config.ranking_weight`` times
    :func:`pairwise_ranking_loss`): AdamW, warm-up then cosine decay, ``config.num_steps`` steps of seeded random
    batches; with ``config.ema_decay`` the module ends with the moving average of its weights."""
    steps = config.num_steps(len(targets))
    y = torch.as_tensor(targets, dtype=torch.float32)
    optimiser = torch.optim.AdamW(
        module.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay, foreach=True
    )
    warmup = max(1, int(config.warmup_ratio * steps))
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser,
        lambda step: (
            (step + 1) / warmup
            if step < warmup
            else 0.5 * (1 + math.cos(math.pi * (step - warmup) / max(1, steps - warmup)))
        ),
    )
    average = None
    if config.ema_decay is not None:
        average = torch.optim.swa_utils.AveragedModel(
            module, multi_avg_fn=torch.optim.swa_utils.get_ema_multi_avg_fn(config.ema_decay)
        )
    generator = torch.Generator().manual_seed(config.seed)
    module.train()
    for _ in range(steps):
        batch = torch.randint(len(y), (min(config.batch_size, len(y)),), generator=generator)
        scores = module(*(x[batch] for x in inputs))
        loss = nn.functional.mse_loss(scores, y[batch])
        if config.ranking_weight:
            loss = loss + config.ranking_weight * pairwise_ranking_loss(scores, y[batch])
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        schedule.step()
        if average is not None:
            average.update_parameters(module)
    if average is not None:
        module.load_state_dict(average.module.state_dict())
    module.eval()


class GINPredictor(Predictor):
    """A GIN on the space's graph encoding (one-hot ops, undirected adjacency); with ``features``, the cells' proxy
    features join its readout."""

    name = "gin"

    def __init__(
        self,
        space: SearchSpace,
        hidden_size: int = 64,
        num_layers: int = 3,
        config: PredictorTrainingConfig | None = None,
        features: ProxyFeatures | None = None,
    ):
        self.space = space
        super().__init__(config)
        self.hidden_size, self.num_layers, self.features = hidden_size, num_layers, features
        self.name = "gin" if features is None else "gin_proxies"
        self.module = self._new_module()

    def _new_module(self) -> _GIN:
        num_features = len(self.features.names) if self.features is not None else 0
        return _GIN(self.space.num_ops, self.hidden_size, self.num_layers, num_features)

    def _tensors(self, cells: Sequence[Any]) -> list[torch.Tensor]:
        adjacency, ops, mask = self.space.to_graphs(list(cells))
        tensors = [
            torch.as_tensor(adjacency, dtype=torch.float32),
            torch.as_tensor(ops),
            torch.as_tensor(mask),
        ]
        if self.features is not None:
            tensors.append(torch.as_tensor(self.features(cells)))
        return tensors

    def _fit(self, cells: Sequence[Any], targets: np.ndarray) -> None:
        self.module = self._new_module()
        fit_module(self.module, self._tensors(cells), targets, self.config)

    @torch.no_grad()
    def _predict(self, cells: Sequence[Any]) -> np.ndarray:
        return self.module(*self._tensors(cells)).numpy()

    def save_pretrained(self, out_dir: str | Path) -> Path:
        """``model.safetensors`` and ``archllm_predictor.json`` (sizes, label scale, the proxies' scaler)."""
        self._check_fitted()
        info = {
            **self._info(),
            "hidden_size": self.hidden_size,
            "num_layers": self.num_layers,
            "scaler": self.features.scaler.to_dict() if self.features is not None else None,
        }
        return _save_module(self.module, info, out_dir)


class Arch2VecEmbedder:
    """arch2vec's embedding of a cell: the mean over its nodes of the VGAE's posterior means."""

    def __init__(self, vgae: Any, space: SearchSpace):
        self.vgae, self.space = vgae.eval(), space
        self._memo: dict[str, np.ndarray] = {}

    @property
    def dim(self) -> int:
        return int(self.vgae.config.latent_dim)

    @torch.no_grad()
    def __call__(self, cells: Sequence[Any], batch_size: int = 4096) -> np.ndarray:
        ids = [self.space.canonical_id(cell) for cell in cells]
        todo = [i for i, cell_id in enumerate(ids) if cell_id not in self._memo]
        for start in range(0, len(todo), batch_size):
            rows = todo[start : start + batch_size]
            adjacency, ops, _ = self.space.to_graphs([cells[i] for i in rows])
            device = self.vgae.device
            means = self.vgae.encode_mean(
                torch.as_tensor(adjacency, dtype=torch.long, device=device),
                torch.as_tensor(ops, device=device),
            )
            for i, vector in zip(rows, means.mean(dim=1).cpu().numpy()):
                self._memo[ids[i]] = vector
        return np.stack([self._memo[cell_id] for cell_id in ids]) if ids else np.zeros((0, self.dim))


class Arch2VecMLPPredictor(Predictor):
    """An MLP on arch2vec embeddings (:class:`Arch2VecEmbedder`)."""

    name = "arch2vec_mlp"

    def __init__(
        self,
        embedder: Arch2VecEmbedder,
        hidden_size: int = 128,
        config: PredictorTrainingConfig | None = None,
    ):
        self.space, self.embedder = embedder.space, embedder
        super().__init__(config)
        self.hidden_size = hidden_size
        self.module = _MLP(embedder.dim, hidden_size)

    def _fit(self, cells: Sequence[Any], targets: np.ndarray) -> None:
        self.module = _MLP(self.embedder.dim, self.hidden_size)
        fit_module(self.module, [torch.as_tensor(self.embedder(cells))], targets, self.config)

    @torch.no_grad()
    def _predict(self, cells: Sequence[Any]) -> np.ndarray:
        return self.module(torch.as_tensor(self.embedder(cells))).numpy()


class ProxyMLPPredictor(Predictor):
    """An MLP on the cell's proxy vector alone (:class:`~archllm_hf.data.proxies.ProxyFeatures`)."""

    name = "proxy_mlp"

    def __init__(
        self, features: ProxyFeatures, hidden_size: int = 64, config: PredictorTrainingConfig | None = None
    ):
        self.space, self.features = features.space, features
        super().__init__(config)
        self.hidden_size = hidden_size
        self.module = _MLP(len(features.names), hidden_size)

    def _fit(self, cells: Sequence[Any], targets: np.ndarray) -> None:
        self.module = _MLP(len(self.features.names), self.hidden_size)
        fit_module(self.module, [torch.as_tensor(self.features(cells))], targets, self.config)

    @torch.no_grad()
    def _predict(self, cells: Sequence[Any]) -> np.ndarray:
        return self.module(torch.as_tensor(self.features(cells))).numpy()

    def save_pretrained(self, out_dir: str | Path) -> Path:
        """``model.safetensors`` and ``archllm_predictor.json`` (size, label scale, the proxies' scaler)."""
        self._check_fitted()
        info = {**self._info(), "hidden_size": self.hidden_size, "scaler": self.features.scaler.to_dict()}
        return _save_module(self.module, info, out_dir)


def _save_module(module: nn.Module, info: dict[str, Any], out_dir: str | Path) -> Path:
    from safetensors.torch import save_file

    with atomic_files(out_dir, last=(PREDICTOR_INFO_NAME,)) as tmp:
        save_file({k: v.contiguous() for k, v in module.state_dict().items()}, str(tmp / "model.safetensors"))
        (tmp / PREDICTOR_INFO_NAME).write_text(json.dumps(info, indent=2) + "\n")
    return Path(out_dir)


def saved_space_and_features(
    info: dict[str, Any], proxy_cache: str | Path | None
) -> tuple[SearchSpace, ProxyFeatures | None]:
    """The space a saved predictor's ``archllm_predictor.json`` names, and its proxy features (None if it reads
    none), measuring new cells' proxies into ``proxy_cache``."""
    from ..data.proxies import ProxyScaler
    from ..spaces import get_space

    space = get_space(info["space"], **info.get("space_kwargs", {}))
    if not info.get("scaler"):
        return space, None
    return space, ProxyFeatures(space, ProxyScaler.from_dict(info["scaler"]), {}, proxy_cache)


def load_predictor(
    path: str | Path,
    space: str | None = None,
    proxy_cache: str | Path | None = None,
    device: str | torch.device | None = None,
    **hub_kwargs: Any,
) -> Predictor:
    """Any fitted predictor that ``save_pretrained`` wrote, from a folder or a Hub repo id (``hub_kwargs``:
    ``revision``, ``token``, ``cache_dir``). ``space`` checks it predicts cells of that space; ``proxy_cache`` is
    where the proxies of cells it has not seen are cached (predictors that read proxies measure them)."""
    from safetensors.torch import load_file

    folder = predictor_folder(path, **hub_kwargs)
    try:
        info = json.loads((folder / PREDICTOR_INFO_NAME).read_text())
    except json.JSONDecodeError as err:
        raise ValueError(f"{folder / PREDICTOR_INFO_NAME}: not valid JSON ({err})") from None
    kind = info.get("kind", "code_pretrained" if info.get("pretrained", True) else "code_scratch")
    if space is not None and info.get("space") != space:
        raise ValueError(f"{path} holds a predictor of {info.get('space')!r} cells, not of {space!r}")
    if kind == "graph":
        from .graph_predictor import GraphPredictor

        return GraphPredictor.from_pretrained(folder, proxy_cache=proxy_cache)
    if kind.startswith("code"):
        return ArchPredictor.from_pretrained(folder, device=device)
    search_space, features = saved_space_and_features(info, proxy_cache)
    if kind in ("gin", "gin_proxies"):
        predictor: Predictor = GINPredictor(
            search_space, info["hidden_size"], info["num_layers"], features=features
        )
    elif kind == "proxy_mlp":
        predictor = ProxyMLPPredictor(features, info["hidden_size"])
    else:
        raise ValueError(f"{folder} holds a predictor of an unknown kind {kind!r}")
    predictor.module.load_state_dict(load_file(str(folder / "model.safetensors")))
    predictor.module.eval()
    predictor.label_mean, predictor.label_std = info["label_mean"], info["label_std"]
    return predictor


__all__ = [
    "PREDICTOR_INFO_NAME",
    "ProxyMLPPredictor",
    "Arch2VecEmbedder",
    "Arch2VecMLPPredictor",
    "ArchPredictor",
    "GINPredictor",
    "Predictor",
    "fit_module",
    "load_predictor",
    "own_randomness",
    "saved_space_and_features",
    "pairwise_ranking_loss",
]
