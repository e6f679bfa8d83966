"""Generation throughput of a trained prior + VQ-VAE: sample + decode + validate + canonical id, end to end.

    python benchmarks/generation_speed.py --prior hub/archvq-nb201 --batch-sizes 1000 2000 5000 10000
    python benchmarks/generation_speed.py --run runs/nb101 --device cuda --batch-sizes 10000 50000 --num 200000

``--prior`` is a prior folder or repo id (a released checkpoint); ``--run`` an ``archllm run`` output folder (its
``prior/``). VQ-VAE decoding is the fast path generation uses (``decode(fast=True)``), recorded as
``vqvae_decoding``. One untimed warm-up call per batch size, then ``--repeats`` timed calls of ``--num`` cells
(temperature 1.0, unconstrained, iid); the best and the median are recorded, with the seconds spent in sampling,
VQ-VAE decoding and validation/ids. ``--token-draw inverse_cdf`` draws each token by one uniform number against
the cumulative probabilities instead of ``torch.multinomial`` (the same distribution, other draws). Writes
``benchmarks/results/speed-<space>-<device>.json`` (``speed-<space>-<device>-inverse_cdf.json`` for that draw).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from _common import RESULTS, provenance

from archllm_hf.evaluation.speed import measure_speed
from archllm_hf.generation import ArchitectureGenerator
from archllm_hf.generation.generator import TOKEN_DRAWS
from archllm_hf.utils import atomic_write_json


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--run", help="an `archllm run` output folder (its prior/)")
    source.add_argument("--prior", help="a prior folder or repo id, e.g. hub/archvq-nb101")
    parser.add_argument("--device", default=None)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1000, 2000, 5000, 10000])
    parser.add_argument("--num", type=int, default=20_000, help="cells per timed call")
    parser.add_argument("--repeats", type=int, default=3, help="timed calls per batch size")
    parser.add_argument(
        "--token-draw",
        choices=TOKEN_DRAWS,
        default="multinomial",
        help="how each token is drawn from the prior's distribution (default: multinomial)",
    )
    args = parser.parse_args()

    started = provenance()  # the code as it was when the run began
    prior = args.prior or Path(args.run) / "prior"
    generator = ArchitectureGenerator.from_pretrained(prior, device=args.device, token_draw=args.token_draw)
    points = measure_speed(generator, args.batch_sizes, args.num, args.repeats)
    for point in points:
        print(json.dumps(point))
    device = generator.device.type
    suffix = "" if args.token_draw == "multinomial" else f"-{args.token_draw}"
    atomic_write_json(
        RESULTS / f"speed-{generator.space.name}-{device}{suffix}.json",
        {
            "benchmark": "generation_speed",
            **started,
            "space": generator.space.name,
            "device": device,
            "measures": "sample + decode + validate + canonical id, end to end (temperature 1.0, iid)",
            "prior": str(prior),
            "vqvae_decoding": "fast",
            "token_draw": args.token_draw,
            "prior_parameters": generator.prior.num_parameters(),
            "points": points,
        },
    )


if __name__ == "__main__":
    main()
