"""Registration of the package's models and tokenizer with the transformers Auto classes (run on import).

After ``import archllm_hf``, ``AutoConfig``/``AutoModel``/``AutoTokenizer.from_pretrained`` load ArchVQVAE
folders with the package's own classes. Registering again (a second call, a reload) is harmless.
"""

from __future__ import annotations

from transformers import AutoConfig, AutoModel, AutoTokenizer
from transformers.pipelines import PIPELINE_REGISTRY

from .models.arch2vec import Arch2VecConfig, Arch2VecModel
from .models.arch_predictor import ArchPredictorConfig, ArchPredictorModel
from .models.arch_vqvae import ArchCodeTokenizer, ArchVQVAEConfig, ArchVQVAEModel
from .pipelines.architecture_generation import ArchitectureGenerationPipeline, QuietAutoModelForCausalLM

PIPELINE_TASK = "architecture-generation"


def register_auto_classes() -> None:
    """Register ArchVQVAE (config, model, code tokenizer), arch2vec (config, model) and the graph predictor (config,
    model) with the Auto classes."""
    AutoConfig.register(ArchVQVAEConfig.model_type, ArchVQVAEConfig, exist_ok=True)
    AutoModel.register(ArchVQVAEConfig, ArchVQVAEModel, exist_ok=True)
    AutoTokenizer.register(ArchVQVAEConfig, tokenizer_class=ArchCodeTokenizer, exist_ok=True)
    AutoConfig.register(Arch2VecConfig.model_type, Arch2VecConfig, exist_ok=True)
    AutoModel.register(Arch2VecConfig, Arch2VecModel, exist_ok=True)
    AutoConfig.register(ArchPredictorConfig.model_type, ArchPredictorConfig, exist_ok=True)
    AutoModel.register(ArchPredictorConfig, ArchPredictorModel, exist_ok=True)


def register_pipeline() -> None:
    """Register the ``architecture-generation`` task (prior: any ``AutoModelForCausalLM``)."""
    PIPELINE_REGISTRY.register_pipeline(
        PIPELINE_TASK,
        pipeline_class=ArchitectureGenerationPipeline,
        pt_model=QuietAutoModelForCausalLM,  # AutoModelForCausalLM, without the load report on the console
        type="text",
    )


register_auto_classes()
register_pipeline()

__all__ = ["PIPELINE_TASK", "register_auto_classes", "register_pipeline"]
