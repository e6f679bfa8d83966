"""archllm-hf: discrete architecture representations for neural architecture search, Hugging Face-native."""

from __future__ import annotations

from . import (
    _registration,  # noqa: F401  (registers the Auto classes and the pipeline task)
    networks,  # noqa: F401  (registers the networks of the spaces: space.to_module)
)
from .errors import ArchLLMError, InvalidCellError

__version__ = "0.1.0.dev0"

__all__ = ["ArchLLMError", "InvalidCellError", "__version__"]
