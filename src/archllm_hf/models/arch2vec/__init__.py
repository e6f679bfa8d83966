"""arch2vec's variational graph autoencoder (VGAE), the baseline generator, as a ``transformers`` model."""

from __future__ import annotations

from .configuration_arch2vec import Arch2VecConfig
from .modeling_arch2vec import Arch2VecModel, Arch2VecOutput, Arch2VecPreTrainedModel


def register() -> None:
    """Register ``archllm_arch2vec`` with ``AutoConfig`` and ``AutoModel`` (idempotent)."""
    from transformers import AutoConfig, AutoModel

    AutoConfig.register(Arch2VecConfig.model_type, Arch2VecConfig, exist_ok=True)
    AutoModel.register(Arch2VecConfig, Arch2VecModel, exist_ok=True)


__all__ = ["Arch2VecConfig", "Arch2VecModel", "Arch2VecOutput", "Arch2VecPreTrainedModel", "register"]
