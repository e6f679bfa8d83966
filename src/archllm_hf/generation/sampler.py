"""What every sampler shares: the sample record, seeding, and the batch loop with or without replacement.

A sampler draws batches of :class:`~archllm_hf.spaces.DecodedCell` results (valid or not) with the text it wrote
for each; :meth:`Sampler.generate` turns them into sample records, one JSON-ready dict per sample:

``cell`` (native form), ``id`` (canonical id), ``isomorphism_id``, ``valid``, ``reason`` (why not valid) and
``codes`` (what the sampler wrote: the code string of a code prior, the cell text of a text LM, else None).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any

import torch
from tqdm.auto import tqdm

from ..spaces import DecodedCell, SearchSpace

Draw = tuple[list[DecodedCell], list[str | None]]
"""One batch: the decoded samples and, for each, the text the sampler wrote (or None)."""


def sample_record(space: SearchSpace, decoded: DecodedCell, text: str | None = None) -> dict[str, Any]:
    """One generated sample as a JSON-ready dict (see :meth:`~archllm_hf.spaces.SearchSpace.sample_record`)."""
    return space.sample_record(decoded, text)


class Sampler(ABC):
    """A source of cells of ``space``; subclasses implement :meth:`draw`."""

    space: SearchSpace

    @abstractmethod
    def draw(self, n: int, temperature: float = 1.0, **options: Any) -> Draw:
        """``n`` samples from the sampler's current random state."""

    def generate(
        self,
        num_samples: int,
        batch_size: int = 2000,
        without_replacement: bool = False,
        max_draws: int | None = None,
        seed: int | None = None,
        progress: bool = False,
        temperature: float = 1.0,
        **options: Any,
    ) -> list[dict[str, Any]]:
        """Draw and decode ``num_samples`` cells; one sample record per sample (see :func:`sample_record`).

        ``seed`` seeds torch before the first draw. ``options`` go to :meth:`draw` (for a language model:
        ``top_k``, ``top_p``, ``constrained``).

        ``without_replacement=True`` returns ``num_samples`` *distinct* samples: no valid cell (canonical id) and no
        invalid text twice (invalid samples without text, e.g. the VGAE's graphs, are all kept). That is the sampler's distribution conditioned on not repeating an earlier sample:
        draws that repeat one are discarded. At most ``max_draws`` draws (default ``100 * num_samples``) are made
        before a ``RuntimeError`` says the sampler cannot give that many.
        """
        if num_samples < 0 or batch_size <= 0:
            raise ValueError(f"need num_samples >= 0 and batch_size > 0, got {num_samples} and {batch_size}")
        if temperature <= 0:
            raise ValueError(f"temperature must be > 0, got {temperature}")
        max_draws = 100 * num_samples if max_draws is None else max_draws
        if seed is not None:
            torch.manual_seed(seed)
        records: list[dict[str, Any]] = []
        seen: set[tuple[bool, str | None]] = set()
        draws = 0
        with tqdm(total=num_samples, desc="generating", unit="cell", disable=not progress) as bar:
            while len(records) < num_samples:
                if without_replacement and draws >= max_draws:
                    raise RuntimeError(
                        f"sampling without replacement: only {len(records):,} distinct samples in {draws:,} draws "
                        f"(asked for {num_samples:,}); ask for fewer samples, raise the temperature, or raise "
                        "max_draws"
                    )
                n = batch_size if without_replacement else min(batch_size, num_samples - len(records))
                decoded, texts = self.draw(n, temperature=temperature, **options)
                draws += len(decoded)
                before = len(records)
                for result, text in zip(decoded, texts):
                    if len(records) == num_samples:
                        break
                    if without_replacement and (result.valid or text is not None):
                        key = (True, result.id) if result.valid else (False, text)
                        if key in seen:
                            continue
                        seen.add(key)
                    records.append(sample_record(self.space, result, text))
                bar.update(len(records) - before)
        return records


__all__ = ["Draw", "Sampler", "sample_record"]
