"""Releases: a trained run as a Hub model repo folder (weights, configs, tokenizers, remote code, model card)."""

from .card import model_index, render_model_card
from .repo import (
    REMOTE_PIPELINE_TASK,
    VQVAE_SUBFOLDER,
    push_release,
    recommended_sampling,
    release_dataset,
    release_run,
    remote_code_files,
)

__all__ = [
    "REMOTE_PIPELINE_TASK",
    "VQVAE_SUBFOLDER",
    "model_index",
    "push_release",
    "recommended_sampling",
    "release_dataset",
    "release_run",
    "remote_code_files",
    "render_model_card",
]
