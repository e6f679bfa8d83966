"""What every sampler shares: the sample record, seeding, and the batch loop with or without replacement.

A release repo ships this module as it is (``sampler.py``, see :mod:`archllm_hf.release.remote_code`), so its remote
pipeline draws through the same loop as the package: it imports nothing of the package but the search-space base.

A sampler draws batches of :class:`~archllm_hf.spaces.DecodedCell` results (valid or not) with the text it wrote
for each; :meth:`Sampler.generate` turns them into sample records, one JSON-ready dict per sample:

``cell`` (native form), ``id`` (canonical id), ``isomorphism_id``, ``valid``, ``reason`` (why not valid) and
``codes`` (what the sampler wrote: the code string of a code prior, the cell text of a text LM, else None).
"""

from __future__ import annotations

import math
import numbers
from abc import ABC, abstractmethod
from collections.abc import Iterator
from typing import Any

import torch
from tqdm.auto import tqdm

from .base import DecodedCell, SearchSpace

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

    def generate(self, num_samples: int, *args: Any, **kwargs: Any) -> list[dict[str, Any]]:
        """Draw and decode ``num_samples`` cells; one sample record per sample (see :func:`sample_record`).

        The arguments are those of :meth:`iter_generate`, which yields the same records one by one (for writing
        them as they come).
        """
        return list(self.iter_generate(num_samples, *args, **kwargs))

    def iter_generate(
        self,
        num_samples: int,
        batch_size: int = 2000,
        without_replacement: bool = False,
        max_draws: int | None = None,
        seed: int | None = None,
        progress: bool = False,
        temperature: float = 1.0,
        **options: Any,
    ) -> Iterator[dict[str, Any]]:
        """:meth:`generate`, one record at a time. The arguments are checked before anything is drawn.

        ``seed`` seeds torch before the first draw. ``options`` go to :meth:`draw` (for a language model:
        ``top_k``, ``top_p``, ``constrained``).

        ``without_replacement=True`` gives ``num_samples`` *distinct* samples: no valid cell (canonical id) and no
        invalid text twice (invalid samples without text, e.g. the VGAE's graphs, are all kept). That is the
        sampler's distribution conditioned on not repeating an earlier sample: draws that repeat one are discarded.
        At most ``max_draws`` draws (default ``100 * num_samples``) are made before a ``RuntimeError`` says the
        sampler cannot give that many.
        """
        check_sampling(
            self.space,
            num_samples,
            batch_size=batch_size,
            without_replacement=without_replacement,
            temperature=temperature,
            top_k=options.get("top_k"),
            top_p=options.get("top_p"),
            seed=seed,
        )
        return self._records(
            num_samples, batch_size, without_replacement, max_draws, seed, progress, temperature, options
        )

    def _records(
        self,
        num_samples: int,
        batch_size: int,
        without_replacement: bool,
        max_draws: int | None,
        seed: int | None,
        progress: bool,
        temperature: float,
        options: dict[str, Any],
    ) -> Iterator[dict[str, Any]]:
        max_draws = 100 * num_samples if max_draws is None else max_draws
        if seed is not None:
            torch.manual_seed(seed)
        seen: set[tuple[bool, str | None]] = set()
        draws = 0
        count = 0
        with tqdm(total=num_samples, desc="generating", unit="cell", disable=not progress) as bar:
            while count < num_samples:
                if without_replacement and draws >= max_draws:
                    raise RuntimeError(
                        f"sampling without replacement: only {count:,} distinct samples in {draws:,} draws "
                        f"(asked for {num_samples:,}); ask for fewer samples, raise the temperature, or raise "
                        "max_draws"
                    )
                n = batch_size if without_replacement else min(batch_size, num_samples - count)
                decoded, texts = self.draw(n, temperature=temperature, **options)
                draws += len(decoded)
                before = count
                for result, text in zip(decoded, texts):
                    if count == num_samples:
                        break
                    if without_replacement and (result.valid or text is not None):
                        key = (True, result.id) if result.valid else (False, text)
                        if key in seen:
                            continue
                        seen.add(key)
                    count += 1
                    yield sample_record(self.space, result, text)
                bar.update(count - before)


def sampling_defaults(generation_config: Any) -> dict[str, Any]:
    """``temperature``, ``constrained`` and ``without_replacement`` as a prior's generation config sets them (a
    released checkpoint records its recommended settings there), else 1.0, False and False."""
    return {
        "temperature": float(getattr(generation_config, "temperature", None) or 1.0),
        "constrained": bool(getattr(generation_config, "constrained", False)),
        "without_replacement": bool(getattr(generation_config, "without_replacement", False)),
    }


MAX_SAMPLES = 10_000_000
"""The most samples one generation call may ask for (records of a larger request would not fit in memory)."""

SEED_RANGE = (-(2**63), 2**64 - 1)
"""The seeds ``torch.manual_seed`` takes (beyond them it fails with "Overflow when unpacking long long")."""


def check_sampling(
    space: SearchSpace,
    num_samples: Any,
    batch_size: Any = 1,
    without_replacement: bool = False,
    temperature: Any = 1.0,
    top_k: Any = None,
    top_p: Any = None,
    seed: Any = None,
) -> None:
    """Refuse, before anything is drawn, a request that is malformed or cannot be met.

    Raises:
        ValueError: a count is not an int in range (``num_samples`` at most :data:`MAX_SAMPLES`, and, without
            replacement, at most the space's number of cells), ``temperature`` is not a finite number > 0,
            ``top_k`` is not an int > 0, ``top_p`` is not in (0, 1], or ``seed`` is not None or an int that
            torch takes (:data:`SEED_RANGE`).
    """
    _check_int("num_samples", num_samples, 0, MAX_SAMPLES)
    _check_int("batch_size", batch_size, 1, None)
    limit = space.num_cells
    if without_replacement and limit is not None and num_samples > limit:
        raise ValueError(
            f"cannot draw {num_samples:,} distinct samples without replacement: {space.name} has only "
            f"{limit:,} cells; ask for at most {limit:,}, or sample with replacement"
        )
    if not _is_real(temperature) or not math.isfinite(temperature) or temperature <= 0:
        raise ValueError(f"temperature must be a finite number > 0, got {temperature!r}")
    if top_k is not None:
        _check_int("top_k", top_k, 1, None)
    if top_p is not None and (not _is_real(top_p) or not 0 < top_p <= 1):
        raise ValueError(f"top_p must be in (0, 1], got {top_p!r}")
    if seed is not None:
        _check_int("seed", seed, *SEED_RANGE)


def _is_real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _check_int(name: str, value: Any, low: int, high: int | None) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an int, got {value!r}")
    if value < low or (high is not None and value > high):
        bound = f">= {low:,}" if high is None else f"in [{low:,}, {high:,}]"
        raise ValueError(f"{name} must be {bound}, got {value:,}")


__all__ = [
    "MAX_SAMPLES",
    "SEED_RANGE",
    "Draw",
    "Sampler",
    "check_sampling",
    "sample_record",
    "sampling_defaults",
]
