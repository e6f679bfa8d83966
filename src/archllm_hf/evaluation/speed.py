"""Generation throughput of a trained prior + VQ-VAE: sample + decode + validate + canonical id, end to end, and where
the time goes (sampling the prior, VQ-VAE decoding, the space's validation and ids with the sample records)."""

from __future__ import annotations

import statistics
import time
from typing import Any

import torch

from ..generation import ArchitectureGenerator, sample_fixed_length, sample_record


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def time_shares(
    generator: ArchitectureGenerator, num: int, batch_size: int, seed: int = 0
) -> dict[str, float]:
    """Seconds spent in each stage of generating ``num`` cells iid at temperature 1 (code-token priors).

    ``sampling``: the prior's autoregressive sampling; ``vqvae_decoding``: the VQ-VAE decoder over the code rows not
    decoded before in this pass (as :meth:`ArchitectureGenerator.generate` does); ``validation_and_ids``: the
    space's batch decode (validity, canonical id) and the sample records.
    """
    if generator.info.format != "codes":
        raise ValueError("time shares are measured for code-token priors")
    torch.manual_seed(seed)
    seconds = {"sampling": 0.0, "vqvae_decoding": 0.0, "validation_and_ids": 0.0}
    space, vqvae, offset = generator.space, generator.vqvae, generator.processor.tokenizer.code_token_offset
    prompt, length = generator._prompt_ids(), vqvae.config.code_length
    seen: set[bytes] = set()
    for start in range(0, num, batch_size):
        n = min(batch_size, num - start)
        tick = time.perf_counter()
        codes = sample_fixed_length(generator.prior, prompt, n, length) - offset
        clean = codes[
            ((codes >= 0) & (codes < vqvae.config.codebook_size)).all(dim=1)
        ]  # others: parsed as text
        distinct = torch.unique(clean.cpu(), dim=0)
        _sync(generator.device)
        seconds["sampling"] += time.perf_counter() - tick
        tick = time.perf_counter()
        keys = [row.tobytes() for row in distinct.numpy()]
        new = [k for k, key in enumerate(keys) if key not in seen]
        seen.update(keys)
        if not new:  # every code row of the batch was decoded before (or none was a code row)
            continue
        graphs = vqvae.decode(distinct[new].to(vqvae.device))
        adjacency, ops = graphs.adjacency.cpu().numpy(), graphs.ops.cpu().numpy()
        _sync(generator.device)
        seconds["vqvae_decoding"] += time.perf_counter() - tick
        tick = time.perf_counter()
        for decoded in space.decode_graphs(adjacency, ops):
            sample_record(space, decoded)
        seconds["validation_and_ids"] += time.perf_counter() - tick
    return seconds


def measure_speed(
    generator: ArchitectureGenerator, batch_sizes: list[int], num: int, repeats: int = 3
) -> list[dict[str, Any]]:
    """For each batch size: one untimed warm-up call, then ``repeats`` timed calls of ``num`` cells (iid,
    temperature 1.0, unconstrained); best and median cells/s, and the time shares of one more pass."""
    points = []
    for batch_size in batch_sizes:
        generator.generate(min(batch_size, num), batch_size=batch_size, seed=0)
        seconds = []
        samples: list[dict[str, Any]] = []
        for repeat in range(repeats):
            _sync(generator.device)
            start = time.perf_counter()
            samples = generator.generate(num, batch_size=batch_size, seed=1 + repeat)
            _sync(generator.device)
            seconds.append(time.perf_counter() - start)
        shares = time_shares(generator, num, batch_size)
        total = sum(shares.values())
        points.append(
            {
                "batch_size": batch_size,
                "cells": num,
                "seconds": seconds,
                "cells_per_second_best": num / min(seconds),
                "cells_per_second_median": num / statistics.median(seconds),
                "validity_last_call": sum(s["valid"] for s in samples) / max(len(samples), 1),
                "stage_seconds": shares,
                "stage_shares": {stage: value / total if total else 0.0 for stage, value in shares.items()},
            }
        )
    return points


__all__ = ["measure_speed", "time_shares"]
