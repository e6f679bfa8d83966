"""The graph accuracy predictor (label-free proxy pretraining, then a fit on labelled cells) as a ``transformers``
model."""

from __future__ import annotations

from .configuration_arch_predictor import ArchPredictorConfig
from .modeling_arch_predictor import ArchPredictorModel, ArchPredictorOutput, ArchPredictorPreTrainedModel

__all__ = ["ArchPredictorConfig", "ArchPredictorModel", "ArchPredictorOutput", "ArchPredictorPreTrainedModel"]
