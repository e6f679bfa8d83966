"""The VQ-VAE decoder in bfloat16: does it decode the cells float32 decodes, and how much faster is it?

    python benchmarks/decoder_precision.py                      # the three released checkpoints, 100,000 rows each

For each released checkpoint (``hub/archvq-SPACE``), the prior samples ``--rows`` code rows (iid, temperature 1.0,
seed 0) and each distinct row is decoded three ways: float32, bfloat16 alone (``torch.autocast``), and the fast
path the package generates with (``ArchVQVAEModel.decode(fast=True)``: bfloat16, and float32 again for the rows with
a decision within ``FAST_DECODE_MARGIN``). Records the share of rows each decodes as float32 does, the share decoded
again, bfloat16's largest logit error, and the seconds of float32 and of the fast path (one torch thread unless
``--threads``; timings are only comparable on an otherwise idle machine). Writes
``benchmarks/results/decoder-precision.json``.
"""

from __future__ import annotations

import argparse

import torch
from _common import RESULTS, provenance

from archllm_hf.evaluation.speed import decoder_agreement
from archllm_hf.generation import ArchitectureGenerator
from archllm_hf.utils import atomic_write_json

SPACES = ("nb201", "nb101", "darts")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--spaces", nargs="+", choices=SPACES, default=list(SPACES))
    parser.add_argument("--rows", type=int, default=100_000, help="code rows sampled per space")
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    started = provenance()
    spaces = {}
    for space in args.spaces:
        generator = ArchitectureGenerator.from_pretrained(f"hub/archvq-{space}")
        spaces[space] = {"checkpoint": f"hub/archvq-{space}", **decoder_agreement(generator, args.rows)}
        print(space, spaces[space])
    atomic_write_json(
        RESULTS / "decoder-precision.json", {"benchmark": "decoder_precision", **started, "spaces": spaces}
    )
    print(f"wrote {RESULTS / 'decoder-precision.json'}")


if __name__ == "__main__":
    main()
