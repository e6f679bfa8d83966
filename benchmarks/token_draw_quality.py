"""What the inverse-CDF token draw does to generation quality: a released checkpoint's validity, uniqueness, novelty
and valid_unique_rate under ``torch.multinomial`` and under the inverse-CDF draw, each from several seeds, so the
difference between the draws can be set beside the seed-to-seed noise.

    python benchmarks/token_draw_quality.py --space nb201 nb101 darts --seeds 0 1 2

Samples ``--num-samples`` cells iid at temperature 1.0 from ``hub/archvq-<space>`` per seed and draw, scored against
the space's training split (:func:`archllm_hf.evaluation.speed.token_draw_quality`). Writes
``benchmarks/results/token-draw-<space>.json``.
"""

from __future__ import annotations

import argparse

from _common import RESULTS, provenance

from archllm_hf.data import build_cells_dataset
from archllm_hf.evaluation.speed import token_draw_quality
from archllm_hf.generation import ArchitectureGenerator
from archllm_hf.scoring import training_reference
from archllm_hf.utils import atomic_write_json


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--space", nargs="+", choices=["nb101", "nb201", "darts"], default=["nb201"])
    parser.add_argument(
        "--seeds", type=int, nargs="+", default=[0, 1, 2], help="sampling seeds (default 0 1 2)"
    )
    parser.add_argument("--num-samples", type=int, default=10_000, help="cells per seed and draw")
    parser.add_argument("--device", default=None, help="torch device (default cpu)")
    args = parser.parse_args()
    started = provenance()
    for space in args.space:
        prior = f"hub/archvq-{space}"
        generator = ArchitectureGenerator.from_pretrained(prior, device=args.device)
        cells = build_cells_dataset(space, progress=False)
        reference = training_reference(generator.space, cells["train"])
        result = token_draw_quality(generator, args.num_samples, args.seeds, reference)
        path = RESULTS / f"token-draw-{space}.json"
        atomic_write_json(
            path,
            {
                "benchmark": "token_draw_quality",
                **started,
                "space": space,
                "prior": prior,
                "num_samples": args.num_samples,
                "seeds": args.seeds,
                "sampling": "iid, temperature 1.0, unconstrained",
                "draws": result,
            },
        )
        for draw, scores in result.items():
            print(
                f"{space} {draw}: "
                + ", ".join(
                    f"{k} {100 * v:.2f} ± {100 * scores['std'][k]:.2f}" for k, v in scores["mean"].items()
                )
            )


if __name__ == "__main__":
    main()
