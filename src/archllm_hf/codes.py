"""Cells ↔ code-number strings (``"12 305 7 41"``) through an ArchVQVAE and its code tokenizer, in one call.

    >>> texts = cells_to_text(cells, model, tokenizer)       # one string per cell
    >>> decoded = text_to_cells(texts, model, tokenizer)     # one DecodedCell per string, never raises

The search space comes from ``model.config`` (``model.space``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from .spaces import DecodedCell, SearchSpace


def graphs_to_tensors(space: SearchSpace, cells: Sequence[Any]) -> dict[str, torch.Tensor]:
    """Stacked graph encodings of ``cells``: ``adjacency [B, N, N]`` long, ``ops [B, N]`` long,
    ``node_mask [B, N]`` bool (the keyword arguments of ``ArchVQVAEModel.forward``/``encode``).

    Raises the space's :class:`~archllm_hf.errors.InvalidCellError` for a cell it cannot encode.
    """
    n = space.num_nodes
    graphs = [space.to_graph(cell) for cell in cells]
    adjacency = np.zeros((len(graphs), n, n), dtype=np.int64)
    ops = np.zeros((len(graphs), n), dtype=np.int64)
    node_mask = np.zeros((len(graphs), n), dtype=bool)
    for row, graph in enumerate(graphs):
        adjacency[row], ops[row], node_mask[row] = graph.adjacency, graph.ops, graph.mask
    return {
        "adjacency": torch.from_numpy(adjacency),
        "ops": torch.from_numpy(ops),
        "node_mask": torch.from_numpy(node_mask),
    }


def cells_to_codes(cells: Sequence[Any], model: Any, batch_size: int = 4096) -> list[list[int]]:
    """Code sequences of ``cells`` (cells of ``model``'s space), computed in batches in eval mode."""
    cells = list(cells)
    codes: list[list[int]] = []
    for start in range(0, len(cells), batch_size):
        tensors = graphs_to_tensors(model.space, cells[start : start + batch_size])
        codes += model.encode(**tensors).tolist()  # encode runs in eval mode under no_grad
    return codes


def cells_to_text(cells: Sequence[Any], model: Any, tokenizer: Any, batch_size: int = 4096) -> list[str]:
    """One code-number string per cell (``"12 305 7 41"``). Invalid cells raise ``InvalidCellError``."""
    _check_pair(model, tokenizer)
    codes = cells_to_codes(cells, model, batch_size=batch_size)
    return tokenizer.codes_to_text(codes) if codes else []


def text_to_cells(
    texts: str | Sequence[Any], model: Any, tokenizer: Any, batch_size: int = 4096
) -> list[DecodedCell]:
    """One :class:`DecodedCell` per code string; never raises on bad text.

    Malformed text (see ``ArchCodeTokenizer.text_to_codes``) and graphs the space rejects give ``valid=False``
    with the reason. A single string gives a list of one result.
    """
    _check_pair(model, tokenizer)
    texts = [texts] if isinstance(texts, str) else list(texts)
    parsed = [tokenizer.text_to_codes(text) for text in texts]
    results: list[DecodedCell | None] = [
        None if p.valid else DecodedCell(None, False, f"malformed code text: {p.reason}") for p in parsed
    ]
    good = [i for i, p in enumerate(parsed) if p.valid]
    with torch.no_grad():
        decoded = model.decode([parsed[i].codes for i in good], batch_size=batch_size) if good else []
    for i, result in zip(good, decoded):
        results[i] = result
    return results  # type: ignore[return-value]


def _check_pair(model: Any, tokenizer: Any) -> None:
    """The tokenizer must describe the model's codes (same codebook size and code length)."""
    config = model.config
    if tokenizer.codebook_size != config.codebook_size:
        raise ValueError(
            f"tokenizer codebook_size ({tokenizer.codebook_size}) != "
            f"model codebook_size ({config.codebook_size})"
        )
    if tokenizer.code_length not in (None, config.code_length):
        raise ValueError(
            f"tokenizer code_length ({tokenizer.code_length}) != model code_length ({config.code_length})"
        )


__all__ = ["cells_to_codes", "cells_to_text", "graphs_to_tensors", "text_to_cells"]
