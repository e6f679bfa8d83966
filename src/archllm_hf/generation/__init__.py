"""Samplers of cells, all emitting one sample record (:func:`sample_record`): the code-prior generator and the
baselines' samplers (direct text LM, arch2vec VGAE, uniform from the grammar)."""

from __future__ import annotations

from .baselines import TextLMSampler, UniformSampler, VGAESampler
from .generator import (
    ArchitectureGenerator,
    CodeGrammarLogitsProcessor,
    sample_fixed_length,
    sample_token_ids,
)
from .sampler import Sampler, sample_record
from .text_grammar import TextCodeGrammarLogitsProcessor

__all__ = [
    "ArchitectureGenerator",
    "CodeGrammarLogitsProcessor",
    "Sampler",
    "TextCodeGrammarLogitsProcessor",
    "TextLMSampler",
    "UniformSampler",
    "VGAESampler",
    "sample_fixed_length",
    "sample_record",
    "sample_token_ids",
]
