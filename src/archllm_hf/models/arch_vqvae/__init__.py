"""ArchVQVAE: VQ-VAE from NAS cell graphs to discrete code sequences, and the tokenizer of those codes.

The three modules are flat and self-contained so they can be saved as remote code
(``register_for_auto_class``).
"""

from .configuration_arch_vqvae import ArchVQVAEConfig
from .modeling_arch_vqvae import ArchVQVAEModel, ArchVQVAEOutput, ArchVQVAEPreTrainedModel
from .tokenization_arch_vqvae import ArchCodeTokenizer, CodeParse

__all__ = [
    "ArchCodeTokenizer",
    "ArchVQVAEConfig",
    "ArchVQVAEModel",
    "ArchVQVAEOutput",
    "ArchVQVAEPreTrainedModel",
    "CodeParse",
]
