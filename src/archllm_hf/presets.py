"""Per-space defaults, in one table: dataset size, VQ-VAE and prior training, the baselines, sampling.

Plain dataclasses, importing nothing else of the package, so every floor of it may read them. The training
functions take these configs; ``PRESETS[space]`` holds the values that produced the committed results.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

DEFAULT_PROMPT = "Architecture codes:"
DEFAULT_TEMPERATURES = (0.5, 0.75, 1.0, 1.25, 1.5)
"""Temperatures of the sweeps in the main job's report and the generation benchmark."""
"""Prompt before the code numbers when a pretrained causal LM is fine-tuned on them (the Arch-LLM path)."""

PROXY_NAMES = ("params", "flops", "synflow", "naswot", "jacov", "grad_norm", "snip")
"""The label-free proxies (``archllm_hf.networks.proxies``), in the order of the proxy columns and the predictor's
pretraining targets."""
PREDICTOR_KINDS = ("graph", "graph_scratch", "gin", "gin_proxies", "proxy_mlp", "code", "code_scratch")
"""What ``archllm train-predictor --predictor`` builds; ``graph`` (ours, proxy-pretrained) is the default."""
SEARCH_PREDICTORS = ("graph", "code", "none")
"""What ranks the generative searcher's proposals (``archllm search --predictor``): ``graph`` (ours, the default),
``code`` (the prior's transformer with a regression head) or ``none`` (query them in sampling order)."""


@dataclass
class VQVAETrainingConfig:
    """Model size and schedule of ``archllm_hf.training.vqvae.train_vqvae``."""

    epochs: float = 20.0
    batch_size: int = 256
    learning_rate: float = 2e-3
    weight_decay: float = 0.0
    warmup_ratio: float = 0.05
    seed: int = 0
    model: dict[str, Any] = field(default_factory=dict)
    """Overrides of ``ArchVQVAEConfig`` fields (hidden_size, codebook_size, ...)."""


@dataclass
class PriorTrainingConfig:
    """Size and schedule of the prior. ``base_model`` switches to the Arch-LLM path: that causal LM fine-tuned on the
    codes (through LoRA when ``lora``)."""

    epochs: float = 10.0
    batch_size: int = 256
    learning_rate: float | None = None
    """None: ``scratch_learning_rate`` from scratch, ``base_model_learning_rate`` or ``lora_learning_rate`` when
    fine-tuning."""
    weight_decay: float = 0.01
    warmup_ratio: float = 0.05
    seed: int = 0
    hidden_size: int = 256
    num_layers: int = 4
    num_heads: int = 4
    base_model: str | None = None
    """A Hub id, a transformers folder or a GGUF file (``.gguf``; or a folder with ``gguf_file``)."""
    gguf_file: str | None = None
    prompt: str = DEFAULT_PROMPT
    lora: bool = False
    lora_rank: int = 16
    scratch_learning_rate: float = 1e-3
    base_model_learning_rate: float = 5e-5
    lora_learning_rate: float = 2e-4
    save_steps: int | None = None
    """Checkpoint every this many steps and at the last one, instead of at the end of each epoch (None), so that an
    interrupted long epoch resumes near where it stopped."""

    def __post_init__(self) -> None:
        if self.save_steps is not None and (
            isinstance(self.save_steps, bool) or not isinstance(self.save_steps, int) or self.save_steps < 1
        ):
            raise ValueError(f"save_steps must be None or an int >= 1, got {self.save_steps!r}")
        if self.gguf_file is not None and self.base_model is None:
            raise ValueError("gguf_file names a file inside base_model: set base_model (the folder) too")
        if self.lora and self.base_model is None:
            raise ValueError("lora fine-tunes a pretrained model: set base_model too")

    def resolved_learning_rate(self) -> float:
        """The learning rate this config trains at (see ``learning_rate``)."""
        if self.learning_rate is not None:
            return self.learning_rate
        if self.base_model is None:
            return self.scratch_learning_rate
        return self.lora_learning_rate if self.lora else self.base_model_learning_rate


@dataclass
class PredictorTrainingConfig:
    """Schedule of an accuracy predictor's fit (``archllm_hf.search.predictors``): at least ``min_steps`` steps, and
    at least ``epochs`` passes over the training cells. Labels are standardised; the loss is the squared error, plus
    ``ranking_weight`` times a pairwise logistic ranking loss over the pairs of each batch; with ``ema_decay`` the fit
    keeps an exponential moving average of the weights and ends on it."""

    epochs: float = 20.0
    min_steps: int = 300
    batch_size: int = 32
    learning_rate: float = 1e-3
    weight_decay: float = 0.01
    warmup_ratio: float = 0.1
    seed: int = 0
    ranking_weight: float = 0.0
    ema_decay: float | None = None

    def num_steps(self, num_cells: int) -> int:
        """Optimiser steps of a fit on ``num_cells`` cells."""
        if num_cells < 2:
            raise ValueError(f"a predictor needs at least 2 training cells, got {num_cells}")
        per_epoch = -(-num_cells // self.batch_size)
        return max(self.min_steps, int(self.epochs * per_epoch))


@dataclass(frozen=True)
class SpacePreset:
    """Everything that differs between search spaces."""

    vqvae: VQVAETrainingConfig
    prior: PriorTrainingConfig
    num_cells: int | None = None
    """Cells to sample for the dataset of a space too large to enumerate (None: enumerate it)."""
    vgae_epochs: int = 10
    """arch2vec's pretraining epochs for the VGAE baseline."""
    without_replacement: bool = False
    """Sample without replacement by default: 10,000 iid draws from NB201's 15,625 cells repeat about a quarter of
    the time even from a perfect prior, so distinct samples are what a user of that space wants."""
    recommended_temperature: float = 0.75
    """The sampling temperature a released checkpoint recommends (written into its ``generation_config.json``, with
    constrained decoding and this space's ``without_replacement``): below 1 the prior stays on the cells it has
    seen valid, at a small cost in novelty (see each model card's figures)."""
    text_vocab_size: int = 512
    """BPE vocabulary of the direct-LM baseline: the codebook size of the NB101 and DARTS VQ-VAEs."""
    predictor: PredictorTrainingConfig = field(default_factory=PredictorTrainingConfig)
    """Fits of the accuracy predictors (code predictor, GIN, arch2vec + MLP)."""
    search_predictor: PredictorTrainingConfig = field(
        default_factory=lambda: PredictorTrainingConfig(min_steps=50)
    )
    """The code predictor's fit in each round of the generative search (on at most a few hundred cells)."""
    search_graph_predictor: PredictorTrainingConfig = field(
        default_factory=lambda: PredictorTrainingConfig(
            epochs=20, min_steps=100, batch_size=64, learning_rate=3e-4, ranking_weight=1.0, ema_decay=0.99
        )
    )
    """The graph predictor's fit in each round of the generative search, one network (no ensemble): the schedule of
    ``graph_predictor`` cut to 100 steps, so a round fits in seconds on a CPU core."""
    proxy_network: dict[str, Any] = field(default_factory=dict)
    """Sizes of the network the label-free proxy columns are measured on (``space.to_module`` keywords): a slimmer
    copy of the benchmark's network, so that every cell of a space can be measured on a CPU."""
    graph_predictor: PredictorTrainingConfig = field(
        default_factory=lambda: PredictorTrainingConfig(
            epochs=20, min_steps=400, batch_size=64, learning_rate=3e-4, ranking_weight=1.0, ema_decay=0.99
        )
    )
    """The fit of ours, the graph predictor (``archllm_hf.search.graph_predictor``), from its pretrained weights."""
    graph_predictor_scratch_learning_rate: float = 1e-3
    """The learning rate of the graph predictor's from-scratch twin (its best in a sweep of 1e-4, 3e-4 and 1e-3; the
    pretrained one's best is the 3e-4 above)."""
    graph_predictor_ensemble: int = 3
    """Members of the graph predictor's ensemble, each fitted from its own seed; their predictions are averaged."""
    graph_predictor_model: dict[str, Any] = field(
        default_factory=lambda: {"hidden_size": 128, "num_layers": 3, "live_graph": True}
    )
    """Sizes and input graphs of the graph predictor (``ArchPredictorConfig`` fields): live graphs (the edges a
    signal runs along), 128 wide. Each lifted NB201's Kendall tau at 156 cells in a 3-seed screen on CIFAR-10 (see the
    README's predictor section)."""
    proxy_samples: int | None = None
    """Cells whose proxies pretrain the predictor (None: every cell of the space)."""


# No dropout (reconstruction must be exact), small codes, and dead codes restarted once their EMA count falls below
# 0.5: with these, the codebook stays in use (no collapse) and NB101 adjacency becomes learnable.
_QUANTIZER = {"dropout": 0.0, "code_dim": 16, "dead_code_threshold": 0.5}

PRESETS: dict[str, SpacePreset] = {
    "nb201": SpacePreset(
        # An NB201 node holds one of 7 labels and the topology is fixed, so 7 codes carry everything.
        vqvae=VQVAETrainingConfig(
            epochs=5, batch_size=256, model={**_QUANTIZER, "codebook_size": 16, "hidden_size": 64}
        ),
        prior=PriorTrainingConfig(
            epochs=24, batch_size=256, scratch_learning_rate=2e-3, hidden_size=64, num_layers=2
        ),
        vgae_epochs=10,
        without_replacement=True,
        proxy_network={"cells_per_stage": 1},
    ),
    "nb101": SpacePreset(
        vqvae=VQVAETrainingConfig(epochs=3, batch_size=512, model=dict(_QUANTIZER)),
        prior=PriorTrainingConfig(
            epochs=8, batch_size=512, scratch_learning_rate=2e-3, hidden_size=128, num_layers=2
        ),
        vgae_epochs=8,
        proxy_network={"stem_channels": 16, "cells_per_stack": 1},
        proxy_samples=5_000,
    ),
    "darts": SpacePreset(
        vqvae=VQVAETrainingConfig(epochs=3, batch_size=512, model=dict(_QUANTIZER)),
        prior=PriorTrainingConfig(
            epochs=8, batch_size=512, scratch_learning_rate=2e-3, hidden_size=128, num_layers=2
        ),
        num_cells=200_000,
        vgae_epochs=10,
        proxy_network={"channels": 8, "layers": 5},
        proxy_samples=2_000,  # a DARTS network is measured in about 0.5 s on a CPU core; NB101's in 0.15 s
    ),
}


def preset(space: str) -> SpacePreset:
    """The preset of the space called ``space``; a ``ValueError`` names the known ones."""
    try:
        return PRESETS[space]
    except KeyError:
        raise ValueError(f"no preset for the space {space!r}; known: {', '.join(PRESETS)}") from None


__all__ = [
    "DEFAULT_PROMPT",
    "DEFAULT_TEMPERATURES",
    "PREDICTOR_KINDS",
    "PROXY_NAMES",
    "PredictorTrainingConfig",
    "PRESETS",
    "PriorTrainingConfig",
    "SEARCH_PREDICTORS",
    "SpacePreset",
    "VQVAETrainingConfig",
    "preset",
]
