"""Pipelines registered with transformers' pipeline registry on ``import archllm_hf``."""

from .architecture_generation import ArchitectureGenerationPipeline

__all__ = ["ArchitectureGenerationPipeline"]
