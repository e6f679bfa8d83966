"""``pipeline("architecture-generation", model=PRIOR_DIR, vqvae=VQVAE_DIR)``: sample new cells.

>>> import archllm_hf  # registers the task
>>> from transformers import pipeline
>>> generate = pipeline("architecture-generation", model="runs/nb201/prior", vqvae="runs/nb201/vqvae")
>>> samples = generate(num_samples=8, temperature=1.0, seed=0)
>>> samples[0]
{'cell': '|nor_conv_3x3~0|+...', 'id': '...', 'isomorphism_id': '...', 'valid': True, 'reason': None,
 'codes': '12 305 7 41 ...'}
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from transformers import AutoModelForCausalLM, Pipeline

from ..utils import quiet_loading

HUB_KEYS = ("revision", "token", "cache_dir", "local_files_only")
"""The ``from_pretrained`` keywords that say which version of a Hub repo to read, and how: the pipeline reads the
prior's ``archllm_prior.json`` and VQ-VAE with the same ones as the prior."""

_SAMPLING_KEYS = (
    "num_samples",
    "sampling_batch_size",
    "temperature",
    "top_k",
    "top_p",
    "constrained",
    "without_replacement",
    "seed",
)


class QuietAutoModelForCausalLM(AutoModelForCausalLM):
    """``AutoModelForCausalLM`` that loads without transformers' console report (:func:`~archllm_hf.utils.quiet_loading`):
    the class ``pipeline("architecture-generation", model=...)`` loads the prior with (the task's ``pt_model``)."""

    @classmethod
    def from_pretrained(cls, *args: Any, **kwargs: Any) -> Any:
        with quiet_loading():
            model = super().from_pretrained(*args, **kwargs)
        # what the pipeline reads next from the same repo (archllm_prior.json, the VQ-VAE) is read as the prior was:
        # at the commit ``pipeline(...)`` resolved its ``revision`` to, with its ``token``
        revision = kwargs.get("revision")
        model._archllm_hub_kwargs = {
            **{k: kwargs[k] for k in HUB_KEYS if kwargs.get(k) is not None},
            **({"revision": getattr(revision, "resolved", revision)} if revision is not None else {}),
        }
        return model


class ArchitectureGenerationPipeline(Pipeline):
    """Samples code sequences from a prior LM and decodes them into cells through a VQ-VAE.

    Args (at construction, besides the usual pipeline ones):
        vqvae: folder or Hub repo of the VQ-VAE; defaults to the one the prior's ``archllm_prior.json`` names.
        prior_info: the prior's :class:`~archllm_hf._hub.PriorInfo`; read from the prior's folder when None.

    Call parameters: ``num_samples`` (default 1), ``batch_size`` (samples per ``generate`` call, default 2000),
    ``temperature``, ``top_k``, ``top_p``, ``constrained`` (only code tokens at code positions, then eos) and
    ``without_replacement`` (no cell twice), ``seed``, ``return_images`` (see below). ``temperature``, ``constrained``
    and ``without_replacement`` default to the prior's ``generation_config`` (a released checkpoint's recommended
    settings), else 1.0, False and False.
    Returns one dict per sample: ``cell`` (native form: NB101 ``{"matrix", "ops"}``, NB201
    arch string, DARTS genotype text), ``id`` (canonical id), ``isomorphism_id``, ``valid``, ``reason`` (why not
    valid), ``codes`` (the code string); with ``return_images=True`` also ``image``, the drawing of the cell
    (:func:`archllm_hf.visualization.cell_to_image`: a PIL image; matplotlib requires Pillow), None for an invalid
    sample.
    """

    _load_tokenizer = True
    _load_processor = False
    _load_image_processor = False
    _load_feature_extractor = False

    def __init__(self, *args: Any, vqvae: str | Path | None = None, prior_info: Any = None, **kwargs: Any):
        # imported here: registering the task on ``import archllm_hf`` must not load the upper floors
        from .._hub import pin_revision, read_prior_info
        from ..generation.generator import ArchitectureGenerator, load_prior_vqvae

        super().__init__(*args, **kwargs)
        prior_path = str(self.model.name_or_path)
        hub_kwargs = pin_revision(prior_path, **getattr(self.model, "_archllm_hub_kwargs", {}))
        info = prior_info if prior_info is not None else read_prior_info(prior_path, **hub_kwargs)
        model, processor = load_prior_vqvae(prior_path, info, vqvae, device=self.device, **hub_kwargs)
        self.generator = ArchitectureGenerator(self.model, self.tokenizer, model, processor, info)

    def __call__(self, inputs: Any = None, **kwargs: Any) -> list[dict[str, Any]]:
        if "batch_size" in kwargs:  # Pipeline.__call__ would take it for its DataLoader
            kwargs["sampling_batch_size"] = kwargs.pop("batch_size")
        return super().__call__(inputs, **kwargs)

    def _sanitize_parameters(self, **kwargs: Any) -> tuple[dict, dict, dict]:
        postprocess = {"return_images": kwargs.pop("return_images")} if "return_images" in kwargs else {}
        unknown = set(kwargs) - set(_SAMPLING_KEYS)
        if unknown:
            raise TypeError(f"unknown architecture-generation parameter(s): {sorted(unknown)}")
        return {}, {k: v for k, v in kwargs.items() if v is not None}, postprocess

    def preprocess(self, inputs: Any = None) -> dict[str, Any]:
        if inputs is not None:
            raise ValueError("architecture-generation samples unconditionally: call it with no input")
        return {}

    def _forward(self, model_inputs: dict[str, Any], **sampling: Any) -> dict[str, Any]:
        num_samples = sampling.pop("num_samples", 1)
        if "sampling_batch_size" in sampling:
            sampling["batch_size"] = sampling.pop("sampling_batch_size")
        return {"samples": self.generator.generate(num_samples, **sampling)}

    def postprocess(self, model_outputs: dict[str, Any], return_images: bool = False) -> list[dict[str, Any]]:
        samples = model_outputs["samples"]
        if return_images:
            from ..visualization import cell_to_image

            space = self.generator.space
            for sample in samples:
                valid = sample["valid"]
                sample["image"] = cell_to_image(space, space.from_native(sample["cell"])) if valid else None
        return samples


__all__ = ["ArchitectureGenerationPipeline", "QuietAutoModelForCausalLM"]
