"""Sample code sequences from a prior and decode them into cells through the VQ-VAE.

A generated string that does not decode to a valid cell is reported as invalid (with the reason), never raised.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import torch
from transformers import DynamicCache, LogitsProcessor, LogitsProcessorList, PreTrainedModel

from .._hub import PriorInfo, load_prior, load_vqvae, pin_revision, prior_vqvae
from ..models.arch_vqvae import ArchVQVAEModel, ArchVQVAEProcessor, CodeGrammarLogitsProcessor
from ..spaces import DecodedCell, SearchSpace
from .sampler import Draw, Sampler, sampling_defaults
from .text_grammar import TextCodeGrammarLogitsProcessor


@torch.no_grad()
def sample_token_ids(
    model: PreTrainedModel,
    prompt_ids: list[int],
    n: int,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    logits_processor: LogitsProcessor | None = None,
    **length: int,
) -> torch.Tensor:
    """``n`` continuations of ``prompt_ids`` sampled from a causal LM (the prompt left out)."""
    model.eval()
    prompt = torch.as_tensor([prompt_ids], dtype=torch.long, device=model.device)
    out = model.generate(
        prompt.expand(n, -1),
        attention_mask=torch.ones(n, prompt.shape[1], dtype=torch.long, device=model.device),
        do_sample=True,
        temperature=temperature,
        top_k=top_k if top_k is not None else 0,
        top_p=top_p if top_p is not None else 1.0,
        logits_processor=LogitsProcessorList([logits_processor] if logits_processor is not None else []),
        **length,
    )
    return out[:, prompt.shape[1] :]


TOKEN_DRAWS: tuple[str, ...] = ("multinomial", "inverse_cdf")
"""How :func:`sample_fixed_length` draws a token from each row's distribution: ``"multinomial"``
(``torch.multinomial``, draw for draw what ``generate`` gives) or ``"inverse_cdf"`` (one uniform number per row and
step against the cumulative probabilities: the same distribution, other draws from the same seed; on a CPU it
draws a token several times faster than ``torch.multinomial``, which speeds up sampling where the draw is much of
it, as on NB101 and DARTS)."""


def check_token_draw(token_draw: str) -> None:
    """Raise ``ValueError`` unless ``token_draw`` is one of :data:`TOKEN_DRAWS`."""
    if token_draw not in TOKEN_DRAWS:
        raise ValueError(f"token_draw must be one of {TOKEN_DRAWS}, got {token_draw!r}")


def draw_tokens(probs: torch.Tensor, token_draw: str = "multinomial") -> torch.Tensor:
    """One token per row of ``probs`` (rows of probabilities, ``(n, vocab)``), as an ``(n, 1)`` tensor of ids, by
    ``token_draw`` (:data:`TOKEN_DRAWS`). A token of probability 0 is never drawn.

    Raises:
        ValueError: an unknown ``token_draw``, or (inverse CDF) a row that is not a finite, non-negative
            distribution with some mass (``torch.multinomial`` raises its own error).
    """
    if token_draw == "multinomial":
        return torch.multinomial(probs, num_samples=1)
    check_token_draw(token_draw)
    probs = probs.float()
    cdf = probs.cumsum(dim=-1)
    total = cdf[:, -1:]
    if not (probs.min() >= 0 and torch.isfinite(total).all() and (total > 0).all()):
        raise ValueError("probs must be finite and non-negative with some mass in every row")
    # u·total stays below total even where rounding would reach it, so the draw lands on a token of probability > 0
    target = torch.minimum(torch.rand_like(total) * total, torch.nextafter(total, torch.zeros_like(total)))
    ids = torch.searchsorted(cdf, target, right=True)
    # a parallel scan (CUDA) may give a token of probability 0 a sliver of rounding: draw such rows again
    missed = (probs.gather(1, ids) <= 0).squeeze(1)
    if missed.any():
        ids[missed] = torch.multinomial(probs[missed], num_samples=1)
    return ids


@torch.inference_mode()
def sample_fixed_length(
    model: PreTrainedModel,
    prompt_ids: list[int],
    n: int,
    length: int,
    temperature: float = 1.0,
    token_draw: str = "multinomial",
) -> torch.Tensor:
    """``n`` continuations of exactly ``length`` tokens, eos excluded, sampled from the full distribution at
    ``temperature``: what ``sample_token_ids`` gives with ``min_new_tokens = max_new_tokens = length`` and no top-k
    or top-p, without ``generate``'s per-step machinery; with ``token_draw="multinomial"`` draw for draw from the
    same random state, with ``"inverse_cdf"`` the same distribution, drawn faster (:func:`draw_tokens`)."""
    check_token_draw(token_draw)
    if n == 0 or length == 0:
        return torch.zeros(n, length, dtype=torch.long, device=model.device)
    model.eval()
    eos = model.generation_config.eos_token_id
    eos = [eos] if isinstance(eos, int) else list(eos or [])
    cache = DynamicCache(config=model.config)
    # every row starts from the same prompt: run it once and share its cache and first distribution
    step_ids = torch.as_tensor([prompt_ids], dtype=torch.long, device=model.device)
    rows = 1
    written = []
    for _ in range(length):
        logits = (
            model(input_ids=step_ids, cache=cache, use_cache=True, logits_to_keep=1).logits[:, -1, :].float()
        )
        if rows == 1:
            cache.batch_repeat_interleave(n)
            logits, rows = logits.expand(n, -1).contiguous(), n
        if eos:
            logits[:, eos] = float("-inf")
        if temperature != 1.0:
            logits = logits / temperature
        step_ids = draw_tokens(torch.softmax(logits, dim=-1), token_draw)
        written.append(step_ids)
    return torch.cat(written, dim=1)


class ArchitectureGenerator(Sampler):
    """A prior (causal LM + its tokenizer) and the VQ-VAE (+ processor) that decodes the codes it writes.

    Load with :meth:`from_pretrained`; sample with :meth:`generate` (see :class:`~.sampler.Sampler`), whose
    options here are ``temperature``, ``top_k``, ``top_p`` and ``constrained`` (only well-formed code strings: code
    tokens at code positions, then eos; for a text prior the same grammar on the LLM's own tokens).
    """

    def __init__(
        self,
        prior: PreTrainedModel,
        tokenizer: Any,
        vqvae: ArchVQVAEModel,
        processor: ArchVQVAEProcessor,
        info: PriorInfo,
        token_draw: str = "multinomial",
    ):
        _check_writes_codes(info)
        _check_vqvae_matches(info, vqvae)
        check_token_draw(token_draw)
        self.token_draw = token_draw
        self.prior, self.tokenizer, self.vqvae, self.processor, self.info = (
            prior,
            tokenizer,
            vqvae,
            processor,
            info,
        )
        self._decoded_rows: dict[bytes, DecodedCell] = {}  # code row → cell, within one generate call
        self._grammars: dict[tuple[str, int], TextCodeGrammarLogitsProcessor] = {}

    @classmethod
    def from_pretrained(
        cls,
        prior: str | Path,
        vqvae: str | Path | None = None,
        device: str | torch.device | None = None,
        token_draw: str = "multinomial",
        **hub_kwargs: Any,
    ) -> ArchitectureGenerator:
        """Load a prior folder (or Hub repo; ``hub_kwargs``: ``subfolder``, ``revision``, ``token``, ...) and its
        VQ-VAE (``vqvae`` defaults to the one the prior names). ``token_draw`` is how unconstrained code rows are
        drawn (:data:`TOKEN_DRAWS`).

        A ``revision`` is resolved once to a commit, and every file of the repo (the prior, ``archllm_prior.json``,
        the VQ-VAE in its subfolder) is read at that commit with the same ``token``.
        """
        hub_kwargs = pin_revision(prior, **hub_kwargs)
        model, tokenizer, info = load_prior(prior, device=device, **hub_kwargs)
        _check_writes_codes(info)
        return cls(
            model,
            tokenizer,
            *load_prior_vqvae(prior, info, vqvae, device, **hub_kwargs),
            info,
            token_draw=token_draw,
        )

    @property
    def space(self) -> SearchSpace:
        return self.processor.space

    @property
    def device(self) -> torch.device:
        return self.prior.device

    def to(self, device: str | torch.device) -> ArchitectureGenerator:
        self.prior.to(device)
        self.vqvae.to(device)
        return self

    def draw(
        self,
        n: int,
        temperature: float = 1.0,
        top_k: int | None = None,
        top_p: float | None = None,
        constrained: bool = False,
        prompt: str | None = None,
    ) -> Draw:
        """``n`` samples (see :meth:`Sampler.draw`); ``prompt`` replaces a text prior's own prompt for this draw
        (e.g. a :func:`performance_prompt`)."""
        prompt = self._prompt_ids(prompt)
        if self.info.format == "codes" and top_k is None and top_p is None and not constrained:
            ids = sample_fixed_length(
                self.prior, prompt, n, self.vqvae.config.code_length, temperature, self.token_draw
            )
        else:
            ids = sample_token_ids(
                self.prior,
                prompt,
                n,
                temperature,
                top_k,
                top_p,
                self._grammar(len(prompt)) if constrained else None,
                **self._length_kwargs(),
            )
        return self._decode(ids)

    def generate(self, num_samples: int, **kwargs: Any) -> list[dict[str, Any]]:
        """See :meth:`Sampler.generate`. Within one call, a code row drawn again is decoded only once.

        ``temperature``, ``constrained`` and ``without_replacement`` that are not given (or None) come from the
        prior's ``generation_config`` (a released checkpoint records its recommended settings there), else 1.0,
        False and False.
        """
        return list(self.iter_generate(num_samples, **kwargs))

    def iter_generate(self, num_samples: int, **kwargs: Any) -> Iterator[dict[str, Any]]:
        """:meth:`generate`, one record at a time (checked before anything is drawn)."""
        kwargs.update({k: v for k, v in self.recommended_sampling().items() if kwargs.get(k) is None})
        records = super().iter_generate(num_samples, **kwargs)
        return self._with_row_cache(records)

    def _with_row_cache(self, records: Iterator[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        self._decoded_rows = {}
        try:
            yield from records
        finally:
            self._decoded_rows = {}

    def recommended_sampling(self) -> dict[str, Any]:
        """``temperature``, ``constrained`` and ``without_replacement`` as the prior's generation config sets them."""
        return sampling_defaults(self.prior.generation_config)

    # --- helpers --------------------------------------------------------------------------------------------------
    def _prompt_ids(self, prompt: str | None = None) -> list[int]:
        """The token ids samples start from: bos for a code-token prior; ``prompt`` (by default the prior's own) for
        a text prior."""
        if self.info.format == "codes":
            if prompt is not None:
                raise ValueError("a prompt needs a prior that writes the codes as text (format 'text')")
            return [self.tokenizer.bos_token_id]
        return self.tokenizer(prompt or self.info.prompt)["input_ids"]

    def _grammar(self, prompt_length: int) -> LogitsProcessor:
        if self.info.format == "text":
            key = ("text", prompt_length)
            if key not in self._grammars:  # building one reads the whole vocabulary: once per generator
                self._grammars[key] = TextCodeGrammarLogitsProcessor(
                    self.tokenizer,
                    prompt_length,
                    self.vqvae.config.code_length,
                    self.vqvae.config.codebook_size,
                )
            return self._grammars[key].reset()
        offset = self.processor.tokenizer.code_token_offset
        code_ids = list(range(offset, offset + self.vqvae.config.codebook_size))
        return CodeGrammarLogitsProcessor(
            code_ids, self.tokenizer.eos_token_id, prompt_length, self.vqvae.config.code_length
        )

    def _length_kwargs(self) -> dict[str, int]:
        """A code-token prior writes exactly ``code_length`` tokens (eos is suppressed before, not needed after);
        a text prior writes until eos, at most ``generation_config.max_new_tokens`` tokens, and never fewer than the
        longest code string takes in one token per character (so constrained decoding is never cut short)."""
        config = self.vqvae.config
        if self.info.format == "codes":
            return {"min_new_tokens": config.code_length, "max_new_tokens": config.code_length}
        longest = config.code_length * (len(str(config.codebook_size - 1)) + 1) + 1  # " c" per code, then eos
        return {"max_new_tokens": max(self.prior.generation_config.max_new_tokens or 0, longest)}

    def _decode(self, ids: torch.Tensor) -> Draw:
        """Generated token ids → (decoded cells, code strings). A code-token prior's rows of code tokens only are
        decoded straight from the ids; the rest go through their text, so a stray token is named in the reason."""
        n = ids.shape[0]
        texts: list[str | None] = [None] * n
        decoded: list[DecodedCell | None] = [None] * n
        if self.info.format == "codes":
            codes = ids - self.processor.tokenizer.code_token_offset
            clean = ((codes >= 0) & (codes < self.vqvae.config.codebook_size)).all(dim=1)
            rows = clean.nonzero().flatten().tolist()
            if rows:
                clean_codes = codes[rows].cpu()
                for i, text, result in zip(
                    rows,
                    self.processor.codes_to_text(clean_codes),
                    self.processor.decode(self.vqvae, clean_codes, cache=self._decoded_rows),
                ):
                    texts[i], decoded[i] = text, result
        rest = [i for i in range(n) if texts[i] is None]
        if rest:
            # code format: keep special tokens so a stray one is named; text format: drop eos/pad
            strings = self.tokenizer.batch_decode(
                ids[rest].tolist(), skip_special_tokens=self.info.format != "codes"
            )
            strings = [s.strip() for s in strings]
            decoded_rest = self.processor.decode_text(self.vqvae, strings, cache=self._decoded_rows)
            for i, text, result in zip(rest, strings, decoded_rest):
                texts[i], decoded[i] = text, result
        return decoded, texts  # type: ignore[return-value]


def performance_prompt(prompt: str, bucket: int, num_buckets: int) -> str:
    """The prompt of a text prior conditioned on a performance bucket (0 the worst, ``num_buckets - 1`` the best):
    Arch-LLM's route to search, learned by fine-tuning on labelled cells."""
    if not 0 <= bucket < num_buckets:
        raise ValueError(f"bucket must be in [0, {num_buckets}), got {bucket}")
    return f"{prompt.rstrip(':').rstrip()} with performance {bucket + 1} of {num_buckets}:"


def load_prior_vqvae(
    prior: str | Path,
    info: PriorInfo,
    vqvae: str | Path | None = None,
    device: str | torch.device | None = None,
    **hub_kwargs: Any,
) -> tuple[ArchVQVAEModel, ArchVQVAEProcessor]:
    """The VQ-VAE (and processor) of the prior at ``prior``: ``vqvae`` when given, else the one its info names,
    found relative to the prior's own folder or repo.

    A VQ-VAE in the prior's repo is read with all of ``hub_kwargs`` (the prior's ``revision`` included); one
    elsewhere (``vqvae``, or another repo the info names) with its ``token``, ``cache_dir`` and
    ``local_files_only`` only: the prior's revision means nothing in another repo."""
    subfolder = hub_kwargs.pop("subfolder", "")
    elsewhere = {k: v for k, v in hub_kwargs.items() if k != "revision"}
    if vqvae is not None:
        return load_vqvae(vqvae, device=device, **(elsewhere if not Path(str(vqvae)).is_dir() else {}))
    path, kwargs = prior_vqvae(prior, info, subfolder)
    if path != str(prior):
        return load_vqvae(path, device=device, **elsewhere)
    return load_vqvae(path, device=device, **{**hub_kwargs, **kwargs})


def _check_vqvae_matches(info: PriorInfo, vqvae: ArchVQVAEModel) -> None:
    config = vqvae.config
    expected = (info.space, info.space_kwargs, info.code_length, info.codebook_size)
    actual = (config.space, dict(config.space_kwargs or {}), config.code_length, config.codebook_size)
    if expected != actual:
        raise ValueError(
            f"the prior was trained on the codes of another VQ-VAE: (space, space_kwargs, code_length, "
            f"codebook_size) is {expected} in the prior and {actual} in the VQ-VAE"
        )


def _check_writes_codes(info: PriorInfo) -> None:
    if info.format not in ("codes", "text"):
        raise ValueError(
            f"a {info.format!r} prior writes no codes, so it is no generator's prior; sample it with TextLMSampler"
        )


__all__ = [
    "TOKEN_DRAWS",
    "ArchitectureGenerator",
    "CodeGrammarLogitsProcessor",
    "draw_tokens",
    "load_prior_vqvae",
    "performance_prompt",
    "sample_fixed_length",
    "sample_token_ids",
]
