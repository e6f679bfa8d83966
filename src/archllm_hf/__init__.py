"""archllm-hf: discrete architecture representations for neural architecture search, Hugging Face-native.

``import archllm_hf`` is cheap (no torch, no transformers): it arranges for the Auto classes and the
``architecture-generation`` pipeline task to be registered when transformers' registries are imported
(:mod:`archllm_hf._registration`), and for ``space.to_module`` to import the networks on first use. The names below
are imported on first access (``archllm_hf.ArchitectureGenerator``, ``archllm_hf.generation``, ...).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from . import _registration
from .errors import ArchLLMError, InvalidCellError

__version__ = "0.1.0.dev0"

_LAZY_ATTRIBUTES: dict[str, str] = {
    "PIPELINE_TASK": "._registration",
    "ArchitectureGenerator": ".generation",
    "ArchitectureGenerationPipeline": ".pipelines",
    "ArchVQVAEConfig": ".models.arch_vqvae",
    "ArchVQVAEModel": ".models.arch_vqvae",
    "ArchCodeTokenizer": ".models.arch_vqvae",
    "ArchPredictorConfig": ".models.arch_predictor",
    "ArchPredictorModel": ".models.arch_predictor",
    "Arch2VecConfig": ".models.arch2vec",
    "Arch2VecModel": ".models.arch2vec",
    "SPACE_NAMES": ".spaces",
    "get_space": ".spaces",
}
_LAZY_SUBMODULES = (
    "data",
    "evaluation",
    "generation",
    "models",
    "networks",
    "pipelines",
    "presets",
    "release",
    "run",
    "scoring",
    "search",
    "spaces",
    "training",
    "utils",
    "visualization",
)

if TYPE_CHECKING:
    from . import networks, pipelines  # noqa: F401
    from ._registration import PIPELINE_TASK
    from .generation import ArchitectureGenerator
    from .models.arch2vec import Arch2VecConfig, Arch2VecModel
    from .models.arch_predictor import ArchPredictorConfig, ArchPredictorModel
    from .models.arch_vqvae import ArchCodeTokenizer, ArchVQVAEConfig, ArchVQVAEModel
    from .pipelines import ArchitectureGenerationPipeline
    from .spaces import SPACE_NAMES, get_space


def __getattr__(name: str) -> Any:
    """Import the lazy attributes and submodules on first access."""
    if name in _LAZY_ATTRIBUTES:
        value = getattr(importlib.import_module(_LAZY_ATTRIBUTES[name], __name__), name)
    elif name in _LAZY_SUBMODULES:
        value = importlib.import_module(f".{name}", __name__)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY_ATTRIBUTES, *_LAZY_SUBMODULES})


class _NetworkOnFirstUse:
    """Stands in ``NETWORK_BUILDERS`` for a space until :mod:`archllm_hf.networks` (torch) is imported."""

    def __init__(self, space: str) -> None:
        self.space = space

    def __call__(self, cell: Any, **config: Any) -> Any:
        from .networks import NETWORK_BUILDERS  # importing the package puts the real builders in place

        builder = NETWORK_BUILDERS[self.space]
        if isinstance(builder, _NetworkOnFirstUse):
            raise NotImplementedError(f"archllm_hf.networks has no network builder for {self.space!r}")
        return builder(cell, **config)


def _install_network_builders() -> None:
    from .spaces.base import NETWORK_BUILDERS

    for space in ("nb101", "nb201", "darts"):
        NETWORK_BUILDERS.setdefault(space, _NetworkOnFirstUse(space))


_install_network_builders()
_registration.install()

__all__ = ["ArchLLMError", "InvalidCellError", "__version__", *_LAZY_ATTRIBUTES]
