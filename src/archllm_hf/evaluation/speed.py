"""Generation throughput of a trained prior + VQ-VAE: sample + decode + validate + canonical id, end to end, and where
the time goes (sampling the prior, VQ-VAE decoding, the space's validation and ids with the sample records)."""

from __future__ import annotations

import statistics
import time
from collections.abc import Sequence
from typing import Any

import torch

from ..generation import ArchitectureGenerator, sample_fixed_length, sample_record
from ..generation.generator import TOKEN_DRAWS
from ..scoring import score_samples


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def _code_rows(generator: ArchitectureGenerator, n: int) -> torch.Tensor:
    """``n`` code rows sampled iid at temperature 1 from a code-token prior (the current random state, the
    generator's ``token_draw``), on the CPU, less those with a token outside the codebook (generation parses those
    as text)."""
    vqvae = generator.vqvae
    codes = sample_fixed_length(
        generator.prior, generator._prompt_ids(), n, vqvae.config.code_length, token_draw=generator.token_draw
    )
    codes = codes - generator.processor.tokenizer.code_token_offset
    return codes[((codes >= 0) & (codes < vqvae.config.codebook_size)).all(dim=1)].cpu()


def _check_codes_prior(generator: ArchitectureGenerator, measure: str) -> None:
    if generator.info.format != "codes":
        raise ValueError(
            f"{measure}: measured for code-token priors only, got a {generator.info.format!r} prior"
        )


def time_shares(
    generator: ArchitectureGenerator, num: int, batch_size: int, seed: int = 0
) -> dict[str, float]:
    """Seconds spent in each stage of generating ``num`` cells iid at temperature 1 (code-token priors).

    ``sampling``: the prior's autoregressive sampling; ``vqvae_decoding``: the VQ-VAE decoder over the code rows not
    decoded before in this pass (as :meth:`ArchitectureGenerator.generate` does); ``validation_and_ids``: the
    space's batch decode (validity, canonical id) and the sample records.
    """
    _check_codes_prior(generator, "time shares")
    torch.manual_seed(seed)
    seconds = {"sampling": 0.0, "vqvae_decoding": 0.0, "validation_and_ids": 0.0}
    space, vqvae = generator.space, generator.vqvae
    seen: set[bytes] = set()
    for start in range(0, num, batch_size):
        tick = time.perf_counter()
        distinct = torch.unique(_code_rows(generator, min(batch_size, num - start)), dim=0)
        _sync(generator.device)
        seconds["sampling"] += time.perf_counter() - tick
        tick = time.perf_counter()
        keys = [row.tobytes() for row in distinct.numpy()]
        new = [k for k, key in enumerate(keys) if key not in seen]
        seen.update(keys)
        if not new:  # every code row of the batch was decoded before (or none was a code row)
            continue
        graphs = vqvae.decode(distinct[new].to(vqvae.device), fast=True)
        adjacency, ops = graphs.adjacency.cpu().numpy(), graphs.ops.cpu().numpy()
        _sync(generator.device)
        seconds["vqvae_decoding"] += time.perf_counter() - tick
        tick = time.perf_counter()
        for decoded in space.decode_graphs(adjacency, ops):
            sample_record(space, decoded)
        seconds["validation_and_ids"] += time.perf_counter() - tick
    return seconds


IID = {"temperature": 1.0, "constrained": False, "without_replacement": False}
"""What the speed is measured at, whatever the prior's generation config recommends (a released checkpoint's
recommended settings may be constrained, at another temperature, or without replacement)."""


def measure_speed(
    generator: ArchitectureGenerator, batch_sizes: list[int], num: int, repeats: int = 3
) -> list[dict[str, Any]]:
    """For each batch size: one untimed warm-up call, then ``repeats`` timed calls of ``num`` cells (iid,
    temperature 1.0, unconstrained); best and median cells/s, and the time shares of one more pass."""
    points = []
    for batch_size in batch_sizes:
        generator.generate(min(batch_size, num), batch_size=batch_size, seed=0, **IID)
        seconds = []
        samples: list[dict[str, Any]] = []
        for repeat in range(repeats):
            _sync(generator.device)
            start = time.perf_counter()
            samples = generator.generate(num, batch_size=batch_size, seed=1 + repeat, **IID)
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


def decoder_agreement(
    generator: ArchitectureGenerator, num_rows: int, seed: int = 0, batch_size: int = 10_000
) -> dict[str, Any]:
    """The VQ-VAE's fast decoding (bfloat16, float32 near a decision) against float32 on the distinct code rows
    among ``num_rows`` that the prior samples (iid, temperature 1.0, from ``seed``).

    Returns the rows, the share of them whose graphs bfloat16 alone and the fast path decode as float32 does, the
    share the fast path decodes again in float32, bfloat16's largest error on an allowed adjacency logit or an op
    logit, the margin, and the seconds of float32 and of the fast path.
    """
    from ..models.arch_vqvae.modeling_arch_vqvae import FAST_DECODE_MARGIN

    _check_codes_prior(generator, "decoder agreement")
    torch.manual_seed(seed)
    vqvae = generator.vqvae
    rows = [
        _code_rows(generator, min(batch_size, num_rows - start)) for start in range(0, num_rows, batch_size)
    ]
    distinct = torch.unique(torch.cat(rows), dim=0)
    allowed = vqvae._allowed(vqvae.device)
    counts = {"bfloat16": 0, "fast": 0, "decoded_again": 0}
    seconds = {"float32": 0.0, "fast": 0.0}
    max_error = 0.0
    for start in range(0, len(distinct), batch_size):
        codes = distinct[start : start + batch_size].to(vqvae.device)
        tick = time.perf_counter()
        exact = vqvae.decode(codes)
        seconds["float32"] += time.perf_counter() - tick
        tick = time.perf_counter()
        fast = vqvae.decode(codes, fast=True)
        seconds["fast"] += time.perf_counter() - tick
        with torch.autocast(vqvae.device.type, dtype=torch.bfloat16):
            bf16 = vqvae.decode(codes)
        for name, out in (("bfloat16", bf16), ("fast", fast)):
            same = (out.adjacency == exact.adjacency).flatten(1).all(-1) & (out.ops == exact.ops).all(-1)
            counts[name] += int(same.sum())
        counts["decoded_again"] += int((fast.op_logits == exact.op_logits).flatten(1).all(-1).sum())
        op_error = (bf16.op_logits.float() - exact.op_logits).abs().max().item()
        edge_error = (bf16.adjacency_logits.float() - exact.adjacency_logits)[:, allowed].abs().max().item()
        max_error = max(max_error, op_error, edge_error if allowed.any() else 0.0)
    total = len(distinct)
    return {
        "sampled_rows": num_rows,
        "distinct_rows": total,
        "agreement_bfloat16_alone": counts["bfloat16"] / total,
        "agreement_fast": counts["fast"] / total,
        "decoded_again_share": counts["decoded_again"] / total,
        "max_bfloat16_logit_error": max_error,
        "margin": FAST_DECODE_MARGIN,
        "seconds": seconds,
        "speedup": seconds["float32"] / seconds["fast"] if seconds["fast"] else None,
        "torch_threads": torch.get_num_threads(),
    }


def token_draw_quality(
    generator: ArchitectureGenerator,
    num_samples: int,
    seeds: Sequence[int],
    reference: dict[str, Any] | None = None,
    batch_size: int = 2000,
) -> dict[str, Any]:
    """The generator's scores under each of :data:`TOKEN_DRAWS`: ``num_samples`` iid samples at temperature 1 from
    each seed, scored by :func:`~archllm_hf.scoring.score_samples` (``reference``: the training ids that novelty
    needs, from :func:`~archllm_hf.scoring.training_reference`). Per draw: each seed's scores and their mean and
    sample standard deviation over the seeds, so the draws' difference can be set beside the seed-to-seed noise."""
    if not seeds or len(set(seeds)) != len(seeds):
        raise ValueError(f"need one or more distinct seeds, got {list(seeds)}")
    _check_codes_prior(generator, "token draw quality")
    keep = generator.token_draw
    result: dict[str, Any] = {}
    try:
        for token_draw in TOKEN_DRAWS:
            generator.token_draw = token_draw
            runs = [
                dict(
                    score_samples(
                        generator.generate(num_samples, batch_size=batch_size, seed=seed, **IID),
                        space=generator.space,
                        **(reference or {}),
                    )
                )
                for seed in seeds
            ]
            keys = [k for k in QUALITY_KEYS if k in runs[0]]
            result[token_draw] = {
                "runs": [{"seed": seed, **run} for seed, run in zip(seeds, runs)],
                "mean": {k: statistics.fmean(run[k] for run in runs) for k in keys},
                "std": {k: statistics.stdev(run[k] for run in runs) if len(runs) > 1 else 0.0 for k in keys},
            }
    finally:
        generator.token_draw = keep
    return result


QUALITY_KEYS = ("validity", "uniqueness", "novelty", "valid_unique_rate")

__all__ = ["QUALITY_KEYS", "decoder_agreement", "measure_speed", "time_shares", "token_draw_quality"]
