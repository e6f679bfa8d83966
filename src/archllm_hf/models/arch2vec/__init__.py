"""arch2vec's variational graph autoencoder (VGAE), the baseline generator, as a ``transformers`` model."""

from __future__ import annotations

from .configuration_arch2vec import Arch2VecConfig
from .modeling_arch2vec import Arch2VecModel, Arch2VecOutput, Arch2VecPreTrainedModel

__all__ = ["Arch2VecConfig", "Arch2VecModel", "Arch2VecOutput", "Arch2VecPreTrainedModel"]
