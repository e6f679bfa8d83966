"""Sample code sequences from a prior and decode them into cells through the VQ-VAE.

A generated string that does not decode to a valid cell is reported as invalid (with the reason), never raised.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from tqdm.auto import tqdm
from transformers import (
    AutoModel,
    AutoModelForCausalLM,
    AutoTokenizer,
    LogitsProcessor,
    LogitsProcessorList,
    PreTrainedModel,
)

from .models.arch_vqvae.tokenization_arch_vqvae import CodeParse
from .spaces import DecodedCell, SearchSpace, get_space

PRIOR_INFO_NAME = "archllm_prior.json"
"""File in a prior folder that says how to prompt it and parse what it writes (see ``training.prior``)."""


class CodeGrammarLogitsProcessor(LogitsProcessor):
    """Constrained mode: allow only code tokens at the ``code_length`` code positions, and only eos after them."""

    def __init__(self, code_token_ids: list[int], eos_token_id: int, prompt_length: int, code_length: int):
        self.code_token_ids = torch.as_tensor(code_token_ids, dtype=torch.long)
        self.eos_token_id = eos_token_id
        self.prompt_length = prompt_length
        self.code_length = code_length

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        position = input_ids.shape[1] - self.prompt_length
        allowed = torch.zeros(scores.shape[-1], dtype=torch.bool, device=scores.device)
        if position < self.code_length:
            allowed[self.code_token_ids.to(scores.device)] = True
        else:
            allowed[self.eos_token_id] = True
        return scores.masked_fill(~allowed, float("-inf"))


@dataclass
class ArchitectureGenerator:
    """A prior (causal LM + its tokenizer), the VQ-VAE that decodes its codes, and the space of the cells."""

    prior: PreTrainedModel
    tokenizer: Any
    vqvae: PreTrainedModel
    code_tokenizer: Any
    space: SearchSpace
    info: dict[str, Any]

    @classmethod
    def from_pretrained(
        cls, prior: str | Path, vqvae: str | Path | None = None, device: str | torch.device | None = None
    ) -> ArchitectureGenerator:
        """Load a prior folder and its VQ-VAE (``vqvae`` defaults to the path recorded in the prior)."""
        prior = Path(prior)
        info_path = prior / PRIOR_INFO_NAME
        if not info_path.is_file():
            raise FileNotFoundError(f"{prior} is not an archllm prior folder (no {PRIOR_INFO_NAME})")
        info = json.loads(info_path.read_text())
        vqvae = Path(vqvae or info["vqvae"])
        model = AutoModelForCausalLM.from_pretrained(str(prior))
        vq = AutoModel.from_pretrained(str(vqvae))
        generator = cls(
            prior=model,
            tokenizer=AutoTokenizer.from_pretrained(str(prior)),
            vqvae=vq,
            code_tokenizer=AutoTokenizer.from_pretrained(str(vqvae)),
            space=get_space(vq.config.space, **dict(vq.config.space_kwargs or {})),
            info=info,
        )
        return generator.to(device) if device is not None else generator

    def to(self, device: str | torch.device) -> ArchitectureGenerator:
        self.prior.to(device)
        self.vqvae.to(device)
        return self

    @property
    def device(self) -> torch.device:
        return next(self.prior.parameters()).device

    def _prompt_ids(self) -> list[int]:
        if self.info["format"] == "codes":
            return [self.tokenizer.bos_token_id]
        return self.tokenizer(self.info["prompt"])["input_ids"]

    def _grammar(self, prompt_length: int) -> CodeGrammarLogitsProcessor:
        if self.info["format"] != "codes":
            raise ValueError(
                "constrained sampling needs a prior trained on the code tokenizer (format 'codes')"
            )
        vocab = self.tokenizer.get_vocab()
        code_ids = [vocab[str(code)] for code in range(self.info["codebook_size"])]
        return CodeGrammarLogitsProcessor(
            code_ids, self.tokenizer.eos_token_id, prompt_length, self.info["code_length"]
        )

    def _length_kwargs(self) -> dict[str, int]:
        """A code-token prior writes exactly ``code_length`` tokens (eos is suppressed before, not needed after);
        a text prior writes until eos, at most ``generation_config.max_new_tokens`` tokens."""
        if self.info["format"] == "codes":
            length = self.info["code_length"]
            return {"min_new_tokens": length, "max_new_tokens": length}
        return {"max_new_tokens": self.prior.generation_config.max_new_tokens}

    def _check_sampling(self, num_samples: int, batch_size: int, temperature: float) -> None:
        if num_samples < 0 or batch_size <= 0:
            raise ValueError(f"need num_samples >= 0 and batch_size > 0, got {num_samples} and {batch_size}")
        if temperature <= 0:
            raise ValueError(f"temperature must be > 0, got {temperature}")

    def _sample_batch(
        self,
        n: int,
        temperature: float = 1.0,
        top_k: int | None = None,
        top_p: float | None = None,
        constrained: bool = False,
    ) -> tuple[list[str], list[CodeParse]]:
        """``n`` samples from the prior (seeded by the caller): their code strings and the parsed codes."""
        self.prior.eval()
        prompt = torch.as_tensor([self._prompt_ids()], dtype=torch.long, device=self.device)
        processors = LogitsProcessorList([self._grammar(prompt.shape[1])] if constrained else [])
        with torch.no_grad():
            out = self.prior.generate(
                prompt.expand(n, -1),
                attention_mask=torch.ones(n, prompt.shape[1], dtype=torch.long, device=self.device),
                do_sample=True,
                temperature=temperature,
                top_k=top_k if top_k is not None else 0,
                top_p=top_p if top_p is not None else 1.0,
                logits_processor=processors,
                **self._length_kwargs(),
            )
        return self._parse_generated(out[:, prompt.shape[1] :])

    def _parse_generated(self, ids: torch.Tensor) -> tuple[list[str], list[CodeParse]]:
        """Generated token ids → (code strings, parsed codes). A code-token prior's rows that hold only code tokens
        are read straight from the ids; everything else goes through the text and the code tokenizer's parser."""
        texts: list[str | None] = [None] * ids.shape[0]
        parsed: list[CodeParse | None] = [None] * ids.shape[0]
        if self.info["format"] == "codes":
            codes = ids - self.code_tokenizer.code_token_offset
            clean = ((codes >= 0) & (codes < self.info["codebook_size"])).all(dim=1).tolist()
            for i, row in enumerate(codes.tolist()):
                if clean[i]:
                    texts[i] = " ".join(map(str, row))
                    parsed[i] = CodeParse(row, True, None)
        rest = [i for i, text in enumerate(texts) if text is None]
        if rest:
            # code format: keep special tokens so a stray one is named in the reason; text format: drop eos/pad
            decoded = self.tokenizer.batch_decode(
                ids[rest].tolist(), skip_special_tokens=self.info["format"] != "codes"
            )
            for i, text in zip(rest, decoded):
                texts[i] = text.strip()
                parsed[i] = self.code_tokenizer.text_to_codes(texts[i])
        return texts, parsed  # type: ignore[return-value]

    def sample_texts(
        self,
        num_samples: int,
        batch_size: int = 2000,
        progress: bool = False,
        **sampling: Any,
    ) -> list[str]:
        """Sample ``num_samples`` code-number strings (``"12 305 7 41"``; possibly malformed when unconstrained).

        ``sampling``: ``temperature`` (1.0), ``top_k``, ``top_p``, ``constrained`` (False), ``seed``.
        """
        self._check_sampling(num_samples, batch_size, sampling.get("temperature", 1.0))
        _seed_from(sampling)
        texts: list[str] = []
        with tqdm(total=num_samples, desc="sampling", unit="cell", disable=not progress) as bar:
            while len(texts) < num_samples:
                batch, _ = self._sample_batch(min(batch_size, num_samples - len(texts)), **sampling)
                texts += batch
                bar.update(len(batch))
        return texts

    @torch.no_grad()
    def decode_texts(self, texts: list[str], batch_size: int = 8192) -> list[DecodedCell]:
        """Code-number strings → cells through the VQ-VAE; malformed text gives an invalid result with a reason."""
        return self._decode_parsed([self.code_tokenizer.text_to_codes(text) for text in texts], batch_size)

    @torch.no_grad()
    def _decode_parsed(self, parsed: list[CodeParse], batch_size: int = 8192) -> list[DecodedCell]:
        results: list[DecodedCell | None] = [
            None if p.valid else DecodedCell(None, False, f"malformed code string: {p.reason}")
            for p in parsed
        ]
        distinct = list(dict.fromkeys(tuple(p.codes) for p in parsed if p.valid))  # decode each sequence once
        decoded: dict[tuple[int, ...], DecodedCell] = {}
        for start in range(0, len(distinct), batch_size):
            rows = distinct[start : start + batch_size]
            codes = torch.as_tensor(rows, dtype=torch.long, device=self.vqvae.device)
            adjacency, ops = self.vqvae.decode_graphs(codes)
            adjacency, ops = adjacency.cpu().numpy(), ops.cpu().numpy()
            for k, row in enumerate(rows):
                decoded[row] = self.space.decode_graph(adjacency[k], ops[k])
        for i, p in enumerate(parsed):
            if p.valid:
                results[i] = decoded[tuple(p.codes)]
        return results  # type: ignore[return-value]

    def generate(
        self,
        num_samples: int,
        batch_size: int = 2000,
        without_replacement: bool = False,
        max_draws: int | None = None,
        progress: bool = False,
        **sampling: Any,
    ) -> list[dict[str, Any]]:
        """Sample and decode ``num_samples`` cells; one JSON-ready record per sample (see :func:`sample_record`).

        ``sampling``: ``temperature`` (1.0), ``top_k``, ``top_p``, ``constrained`` (False), ``seed``.

        ``without_replacement=True`` returns ``num_samples`` *distinct* samples: no valid cell (canonical id) and no
        invalid code string twice. That is the prior's distribution conditioned on not repeating an earlier sample:
        draws that repeat one are discarded. A small space needs it (10,000 iid draws from NB201's 15,625 cells
        repeat about a quarter of the time even from a perfect prior). At most ``max_draws`` draws (default
        ``100 * num_samples``) are made before a ``RuntimeError`` says the prior cannot give that many.
        """
        self._check_sampling(num_samples, batch_size, sampling.get("temperature", 1.0))
        max_draws = 100 * num_samples if max_draws is None else max_draws
        _seed_from(sampling)
        records: list[dict[str, Any]] = []
        seen: set[tuple[bool, str]] = set()
        draws = 0
        with tqdm(total=num_samples, desc="generating", unit="cell", disable=not progress) as bar:
            while len(records) < num_samples:
                if without_replacement and draws >= max_draws:
                    raise RuntimeError(
                        f"sampling without replacement: the prior gave only {len(records):,} distinct samples in "
                        f"{draws:,} draws (asked for {num_samples:,}); ask for fewer samples, raise the "
                        "temperature, or raise max_draws"
                    )
                n = batch_size if without_replacement else min(batch_size, num_samples - len(records))
                texts, parsed = self._sample_batch(n, **sampling)
                draws += len(texts)
                before = len(records)
                for text, result in zip(texts, self._decode_parsed(parsed)):
                    if len(records) == num_samples:
                        break
                    if without_replacement:
                        key = (True, result.id) if result.valid else (False, text)
                        if key in seen:
                            continue
                        seen.add(key)
                    records.append(sample_record(self.space, text, result))
                bar.update(len(records) - before)
        return records


def _seed_from(sampling: dict[str, Any]) -> None:
    """Take ``seed`` out of the sampling options and seed torch with it (when given)."""
    seed = sampling.pop("seed", None)
    if seed is not None:
        torch.manual_seed(seed)


def sample_record(space: SearchSpace, codes: str, decoded: DecodedCell) -> dict[str, Any]:
    """One generated sample: native cell form, canonical id, isomorphism id, validity and reason, code string."""
    cell = decoded.cell
    isomorphism_id = None
    if decoded.valid:
        isomorphism_id = space.isomorphism_id(cell) if space.has_isomorphism_classes else decoded.id
    return {
        "cell": space.to_native(cell) if cell is not None else None,
        "id": decoded.id,
        "isomorphism_id": isomorphism_id,
        "valid": decoded.valid,
        "reason": decoded.reason,
        "codes": codes,
    }


__all__ = ["PRIOR_INFO_NAME", "ArchitectureGenerator", "CodeGrammarLogitsProcessor", "sample_record"]
