"""ArchVQVAE: VQ-VAE from NAS cell graphs to discrete code sequences, the tokenizer of those codes, and the
processor that joins them to a search space.

The modules import nothing of the package outside this folder, so they can be saved as remote code
(``register_for_auto_class``); the processor takes the search space from its caller.
"""

from .configuration_arch_vqvae import ArchVQVAEConfig
from .modeling_arch_vqvae import (
    ArchVQVAEDecoderOutput,
    ArchVQVAEEncoderOutput,
    ArchVQVAEModel,
    ArchVQVAEOutput,
    ArchVQVAEPreTrainedModel,
)
from .processing_arch_vqvae import ArchVQVAEProcessor, CodeGrammarLogitsProcessor
from .tokenization_arch_vqvae import ArchCodeTokenizer

__all__ = [
    "ArchCodeTokenizer",
    "ArchVQVAEConfig",
    "ArchVQVAEDecoderOutput",
    "ArchVQVAEEncoderOutput",
    "ArchVQVAEModel",
    "ArchVQVAEOutput",
    "ArchVQVAEPreTrainedModel",
    "ArchVQVAEProcessor",
    "CodeGrammarLogitsProcessor",
]
