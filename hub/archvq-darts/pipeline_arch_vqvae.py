"""The ``architecture-generation`` pipeline of a released archllm-hf model repo, for Python environments without
the package.

``archllm release`` ships this file at the root of the repo, beside the VQ-VAE's modules (``configuration_``,
``modeling_``, ``tokenization_`` and ``processing_arch_vqvae.py``), the package's sampling loop (``sampler.py``) and
the repo's search space (``spaces.py``, ``base.py``, the space's module, ``errors.py``), and names it in
``config.json`` under ``custom_pipelines``. It runs only there:

    >>> from transformers import pipeline
    >>> generate = pipeline(model="archllm-hf/archvq-nb201", trust_remote_code=True)
    >>> generate(num_samples=4, seed=0)
    [{'cell': '|nor_conv_3x3~0|+...', 'id': ..., 'isomorphism_id': ..., 'valid': True, 'reason': None,
      'codes': '3 9 ...'}, ...]

``archllm_prior.json`` and the VQ-VAE (weights and code) are read at the commit the prior was loaded from, so a
``revision`` given to ``pipeline`` reaches every file. A ``token`` given to ``pipeline`` is not passed on to the
pipeline by transformers: the VQ-VAE is read with the default token (``HF_TOKEN`` or ``hf auth login``).
With the package installed, ``pipeline("architecture-generation", model=REPO_ID)`` runs the package's own pipeline
(the same records, plus top-k / top-p and a faster sampler).
"""

from __future__ import annotations

import json
import posixpath
import re
from pathlib import Path
from typing import Any

import torch
from transformers import AutoModel, AutoTokenizer, LogitsProcessorList, Pipeline
from transformers.utils import cached_file

from .processing_arch_vqvae import ArchVQVAEProcessor, CodeGrammarLogitsProcessor
from .sampler import Draw, Sampler, sampling_defaults
from .spaces import space_of

PRIOR_INFO_NAME = "archllm_prior.json"
_CALL_KEYS = (
    "num_samples",
    "sampling_batch_size",
    "temperature",
    "constrained",
    "without_replacement",
    "seed",
)


class ArchVQVAEGenerationPipeline(Pipeline):
    """Samples code sequences from the repo's prior and decodes them into cells through its VQ-VAE.

    ``trust_vqvae_repo=True`` (a ``pipeline(...)`` keyword) consents to running the code of a VQ-VAE that the prior's
    ``archllm_prior.json`` names in another repo; a VQ-VAE in the repo itself needs no more than ``trust_remote_code``.

    Call parameters: ``num_samples`` (default 1), ``batch_size`` (samples per ``generate`` call, default 2000),
    ``temperature``, ``constrained`` (only code tokens at code positions, then eos) and ``without_replacement`` (no
    cell twice), each defaulting to the repo's ``generation_config.json``, and ``seed``. Returns one dict per
    sample: ``cell`` (the space's native form), ``id`` (canonical id), ``isomorphism_id``, ``valid``, ``reason``
    (why not valid) and ``codes`` (the code string).
    """

    _load_tokenizer = True
    _load_processor = False
    _load_image_processor = False
    _load_feature_extractor = False

    def __init__(self, *args: Any, trust_vqvae_repo: bool = False, **kwargs: Any):
        super().__init__(*args, **kwargs)
        source = str(self.model.name_or_path)
        commit = _loaded_commit(source)
        info = json.loads(Path(cached_file(source, PRIOR_INFO_NAME, revision=commit)).read_text())
        if info.get("format") != "codes":
            raise ValueError(
                f"{source}: this pipeline samples code priors, not {info.get('format')!r} priors"
            )
        where, kwargs = _vqvae_location(source, info["vqvae"], commit)
        if where != source and not trust_vqvae_repo:
            # trusting this repo's code is no consent to run another repo's
            raise ValueError(
                f"{source}/{PRIOR_INFO_NAME} names the VQ-VAE of another repo, {where!r}, whose code would run with "
                "trust_remote_code=True; read that repo's code, then pass trust_vqvae_repo=True to pipeline(...)"
            )
        self.vqvae = AutoModel.from_pretrained(where, trust_remote_code=True, **kwargs).to(self.device).eval()
        code_tokenizer = AutoTokenizer.from_pretrained(where, trust_remote_code=True, **kwargs)
        self.processor = ArchVQVAEProcessor(space_of(self.vqvae.config), code_tokenizer, self.vqvae.config)

    def __call__(self, inputs: Any = None, **kwargs: Any) -> list[dict[str, Any]]:
        if "batch_size" in kwargs:  # Pipeline.__call__ would take it for its DataLoader
            kwargs["sampling_batch_size"] = kwargs.pop("batch_size")
        return super().__call__(inputs, **kwargs)

    def _sanitize_parameters(self, **kwargs: Any) -> tuple[dict, dict, dict]:
        unknown = set(kwargs) - set(_CALL_KEYS)
        if unknown:
            raise TypeError(f"unknown architecture-generation parameter(s): {sorted(unknown)}")
        return {}, {k: v for k, v in kwargs.items() if v is not None}, {}

    def preprocess(self, inputs: Any = None) -> dict[str, Any]:
        if inputs is not None:
            raise ValueError("architecture-generation samples unconditionally: call it with no input")
        return {}

    @torch.no_grad()
    def _forward(self, model_inputs: dict[str, Any], num_samples: int = 1, **options: Any) -> dict[str, Any]:
        settings = {**sampling_defaults(self.model.generation_config), **options}
        sampler = _CodePriorSampler(self.model, self.tokenizer, self.vqvae, self.processor)
        samples = sampler.generate(
            num_samples,
            batch_size=settings.get("sampling_batch_size", 2000),
            without_replacement=bool(settings["without_replacement"]),
            seed=settings.get("seed"),
            temperature=float(settings["temperature"]),
            constrained=bool(settings["constrained"]),
        )
        return {"samples": samples}

    def postprocess(self, model_outputs: dict[str, Any]) -> list[dict[str, Any]]:
        return model_outputs["samples"]


class _CodePriorSampler(Sampler):
    """The repo's prior, through ``generate``, and its VQ-VAE as a :class:`Sampler` (the package's own loop)."""

    def __init__(self, prior: Any, tokenizer: Any, vqvae: Any, processor: ArchVQVAEProcessor):
        self.prior, self.tokenizer, self.vqvae, self.processor = prior, tokenizer, vqvae, processor
        self.space = processor.space

    def draw(self, n: int, temperature: float = 1.0, constrained: bool = False) -> Draw:
        code_length = self.vqvae.config.code_length
        prompt = torch.full((n, 1), self.tokenizer.bos_token_id, dtype=torch.long, device=self.prior.device)
        ids = self.prior.generate(
            prompt,
            attention_mask=torch.ones_like(prompt),
            do_sample=True,
            temperature=temperature,
            top_k=0,
            top_p=1.0,
            min_new_tokens=code_length,
            max_new_tokens=code_length,
            logits_processor=LogitsProcessorList([self._grammar()] if constrained else []),
        )[:, 1:]
        texts = [text.strip() for text in self.tokenizer.batch_decode(ids.tolist())]
        return self.processor.decode_text(self.vqvae, texts), texts

    def _grammar(self) -> CodeGrammarLogitsProcessor:
        offset = self.processor.tokenizer.code_token_offset
        codes = list(range(offset, offset + self.vqvae.config.codebook_size))
        return CodeGrammarLogitsProcessor(
            codes, self.tokenizer.eos_token_id, 1, self.vqvae.config.code_length
        )


def _loaded_commit(source: str) -> str | None:
    """The commit of ``source`` (a Hub repo) that ``pipeline`` loaded the prior and this code from: transformers runs
    a Hub repo's code from a folder named by that commit (``transformers_modules/<org>/<name>/<commit>/``), having
    resolved ``pipeline``'s ``revision`` once for all of them. None for a local folder."""
    if Path(source).is_dir():
        return None
    folder = Path(__file__).resolve().parent.name
    return folder if re.fullmatch(r"[0-9a-f]{40}", folder) else None


def _vqvae_location(source: str, reference: str, commit: str | None) -> tuple[str, dict[str, str]]:
    """Where the prior's VQ-VAE is: a subfolder of the same repo or folder (at the prior's commit), or another
    repo's id (at its default branch)."""
    if reference.startswith(".") or "/" not in reference:
        return source, {
            "subfolder": posixpath.normpath(reference),
            **({"revision": commit} if commit else {}),
        }
    return reference, {}


__all__ = ["ArchVQVAEGenerationPipeline"]
