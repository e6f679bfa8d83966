"""ArchVQVAEProcessor: cells ↔ graph tensors ↔ codes ↔ code-number text, for one ArchVQVAE and its search space.

The one place that joins the model to a search space. The space is handed in by the caller (anything with the
``SearchSpace`` interface: ``to_graphs``, ``decode_graphs``, ``invalid``, ``num_nodes``, ``node_vocab``,
``adjacency_mask``), so this module imports no space and, like the rest of the folder, ships as remote code.

    >>> processor = ArchVQVAEProcessor(space, tokenizer, config=model.config)
    >>> texts = processor.cells_to_text(model, cells)   # one "12 305 7 41" string per cell
    >>> processor.decode_text(model, texts)             # one DecodedCell per string, never raises
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from transformers import LogitsProcessor

from .configuration_arch_vqvae import ArchVQVAEConfig
from .tokenization_arch_vqvae import ArchCodeTokenizer, check_code_row


class ArchVQVAEProcessor:
    """Turns cells into the model's inputs and codes back into cells, with ``space`` as the one source of semantics.

    Args:
        space: the search space of the cells (``archllm_hf.spaces.space_of(config)``).
        tokenizer: the code tokenizer (``ArchCodeTokenizer``) of the model's codebook.
        config: the model's config; when given, the space and the tokenizer are checked against it (same graph
            encoding, same codebook size and code length) and a ``ValueError`` says what differs.
    """

    def __init__(self, space: Any, tokenizer: ArchCodeTokenizer, config: ArchVQVAEConfig | None = None):
        self.space = space
        self.tokenizer = tokenizer
        if config is not None:
            check_space(space, config)
            check_tokenizer(tokenizer, config)

    @classmethod
    def from_pretrained(cls, path: str | Path, space: Any, **kwargs: Any) -> ArchVQVAEProcessor:
        """The processor of a saved VQ-VAE folder (or Hub repo): its tokenizer and config, and ``space``."""
        tokenizer = ArchCodeTokenizer.from_pretrained(path, **kwargs)
        return cls(space, tokenizer, ArchVQVAEConfig.from_pretrained(path, **kwargs))

    def save_pretrained(self, path: str | Path) -> None:
        """Save the tokenizer (the space is not saved: :meth:`from_pretrained` takes it again, and
        ``archllm_hf._hub.load_vqvae`` rebuilds it from the model config)."""
        self.tokenizer.save_pretrained(str(path))

    # --- cells → tensors → codes → text -------------------------------------------------------------------------
    def __call__(self, cells: Sequence[Any]) -> dict[str, torch.Tensor]:
        """Graph tensors of ``cells``: ``adjacency [B, N, N]`` long, ``ops [B, N]`` long, ``node_mask [B, N]`` bool
        (the keyword arguments of the model's ``forward`` and ``encode``). Raises the space's error for a cell it
        cannot encode."""
        adjacency, ops, node_mask = self.space.to_graphs(cells)
        return {
            "adjacency": torch.from_numpy(adjacency).long(),
            "ops": torch.from_numpy(ops).long(),
            "node_mask": torch.from_numpy(node_mask),
        }

    @torch.no_grad()
    def encode(self, model: Any, cells: Sequence[Any], batch_size: int = 4096) -> torch.LongTensor:
        """Codes ``[len(cells), code_length]`` of ``cells``, computed in batches in eval mode."""
        cells = list(cells)
        chunks = [
            model.encode(**self(cells[start : start + batch_size])).codes.cpu()
            for start in range(0, len(cells), batch_size)
        ]
        return torch.cat(chunks) if chunks else torch.zeros(0, model.config.code_length, dtype=torch.long)

    def codes_to_text(self, codes: Any) -> list[str]:
        """One code-number string per row of ``codes`` (``[B, L]`` tensor, array or list of lists); a single 1-D
        sequence gives a list of one. Raises ``ValueError`` for codes the tokenizer cannot write."""
        if len(codes) == 0:
            return []
        texts = self.tokenizer.codes_to_text(codes)
        return [texts] if isinstance(texts, str) else texts

    def cells_to_text(self, model: Any, cells: Sequence[Any], batch_size: int = 4096) -> list[str]:
        """One code-number string per cell (``"12 305 7 41"``)."""
        return self.codes_to_text(self.encode(model, cells, batch_size=batch_size))

    # --- text → codes → graphs → cells ---------------------------------------------------------------------------
    @torch.no_grad()
    def decode(
        self, model: Any, codes: Any, batch_size: int = 8192, cache: dict[bytes, Any] | None = None
    ) -> list[Any]:
        """One ``DecodedCell`` per code row; never raises on bad codes.

        ``codes`` is a 2-D batch (tensor, array or nested lists; rows may be ragged) or one 1-D sequence. Rows of
        the wrong length, with non-integers or with codes outside the codebook come back invalid with the reason,
        and so do graphs the space rejects. Each distinct row is decoded once; with ``cache`` (a dict the caller
        keeps for one model), rows decoded by earlier calls are not decoded again.
        """
        rows, reasons = _checked_rows(codes, model.config.code_length, model.config.codebook_size)
        results: list[Any] = [None if reason is None else self.space.invalid(reason) for reason in reasons]
        good = [i for i, reason in enumerate(reasons) if reason is None]
        if not good:
            return results
        distinct, inverse = torch.unique(rows[good], dim=0, return_inverse=True)
        keys = [row.tobytes() for row in distinct.numpy()]
        cache = {} if cache is None else cache
        missing = [k for k, key in enumerate(keys) if key not in cache]
        for start in range(0, len(missing), batch_size):
            chunk = missing[start : start + batch_size]
            graphs = model.decode(distinct[chunk].to(model.device), fast=True)
            decoded = self.space.decode_graphs(graphs.adjacency.cpu().numpy(), graphs.ops.cpu().numpy())
            cache.update(zip((keys[k] for k in chunk), decoded))
        for i, k in zip(good, inverse.tolist()):
            results[i] = cache[keys[k]]
        return results

    def decode_text(
        self,
        model: Any,
        texts: str | Sequence[Any],
        batch_size: int = 8192,
        cache: dict[bytes, Any] | None = None,
    ) -> list[Any]:
        """One ``DecodedCell`` per code string (a single string gives a list of one); never raises on bad text.
        ``cache`` as in :meth:`decode`."""
        if isinstance(texts, str) or not isinstance(texts, Iterable):
            texts = [texts]  # a single text, or something that is no text at all (one bad text)
        texts = list(texts)
        rows: list[Any] = []
        for text in texts:
            try:
                rows.append(self.tokenizer.text_to_codes(text))
            except ValueError as err:
                rows.append(f"malformed code text: {err}")
        good = [i for i, row in enumerate(rows) if not isinstance(row, str)]
        decoded = (
            self.decode(model, [rows[i] for i in good], batch_size=batch_size, cache=cache) if good else []
        )
        results = [self.space.invalid(row) if isinstance(row, str) else None for row in rows]
        for i, result in zip(good, decoded):
            results[i] = result
        return results


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


# --- checks ---------------------------------------------------------------------------------------------------
def check_space(space: Any, config: ArchVQVAEConfig) -> None:
    """Raise ``ValueError`` unless ``space`` has the graph encoding ``config`` was built for."""
    mask = [[int(bool(v)) for v in row] for row in np.asarray(space.adjacency_mask()).tolist()]
    if getattr(space, "name", None) != config.space:
        raise ValueError(f"the model was built for the space {config.space!r}, got {space!r}")
    if (space.num_nodes, list(space.node_vocab), mask) != (
        config.num_nodes,
        list(config.node_vocab),
        config.adjacency_mask,
    ):
        raise ValueError(
            f"the search space {space!r} does not match the graph encoding the model was built for "
            f"(config.space={config.space!r}, space_kwargs={config.space_kwargs}): num_nodes, node_vocab or "
            "adjacency_mask differ"
        )


def check_tokenizer(tokenizer: ArchCodeTokenizer, config: ArchVQVAEConfig) -> None:
    """Raise ``ValueError`` unless ``tokenizer`` describes the model's codes (codebook size, code length)."""
    if tokenizer.codebook_size != config.codebook_size:
        raise ValueError(
            f"tokenizer codebook_size ({tokenizer.codebook_size}) != model codebook_size ({config.codebook_size})"
        )
    if tokenizer.code_length not in (None, config.code_length):
        raise ValueError(
            f"tokenizer code_length ({tokenizer.code_length}) != model code_length ({config.code_length})"
        )


def _checked_rows(codes: Any, code_length: int, codebook_size: int) -> tuple[torch.Tensor, list[str | None]]:
    """Untrusted code rows → (``[B, code_length]`` long tensor, one reason per row: None when well-formed).

    A signed-integer tensor or array of the right width is checked in one vectorised pass; anything else row by row.
    """
    if _is_signed_int_batch(codes) and codes.ndim == 2 and codes.shape[1] == code_length:
        tensor = torch.as_tensor(codes).long().cpu()
        inside = ((tensor >= 0) & (tensor < codebook_size)).all(dim=1).tolist()
        if all(inside):
            return tensor, [None] * len(inside)
    rows = [check_code_row(row, codebook_size, code_length) for row in _code_rows(codes)]
    tensor = torch.tensor(
        [row if reason is None else [0] * code_length for row, reason in rows], dtype=torch.long
    )
    return tensor.reshape(len(rows), code_length), [reason for _, reason in rows]


def _is_signed_int_batch(codes: Any) -> bool:
    if isinstance(codes, torch.Tensor):
        return codes.dtype in (torch.int8, torch.int16, torch.int32, torch.int64)
    return isinstance(codes, np.ndarray) and np.issubdtype(codes.dtype, np.signedinteger)


def _is_scalar(value: Any) -> bool:
    if isinstance(value, (str, bytes)):
        return False
    if getattr(value, "ndim", None) == 0:
        return True
    return not isinstance(value, Iterable)


def _code_rows(codes: Any) -> list[Any]:
    """Rows of a batch of code sequences as given; anything that is no batch becomes one (bad) row."""
    ndim = getattr(codes, "ndim", None)
    if isinstance(ndim, int) and hasattr(codes, "tolist"):  # torch tensor or numpy array
        if ndim == 1:
            return [codes.tolist()]  # tolist keeps floats and bools recognisable as such
        if ndim == 2:
            return codes.tolist()
        return [codes]
    if isinstance(codes, (str, bytes, Mapping)) or not isinstance(codes, Iterable):
        return [codes]
    items = list(codes)
    if items and all(_is_scalar(item) for item in items):
        return [items]
    return items


__all__ = ["ArchVQVAEProcessor", "CodeGrammarLogitsProcessor", "check_space", "check_tokenizer"]
