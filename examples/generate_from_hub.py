"""Generate cells from a released checkpoint: by default the NB201 release committed in this repository
(``hub/archvq-nb201``), or any Hub repo id or folder of one.

    python examples/generate_from_hub.py --num 8                          # hub/archvq-nb201, the committed copy
    python examples/generate_from_hub.py --repo-id ORG/NAME --num 8       # once `archllm release ... --push-to-hub
                                                                          #   --repo-id ORG/NAME` has uploaded it

The repo's recommended sampling settings (its generation_config.json) apply unless you pass others.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from transformers import pipeline

import archllm_hf  # noqa: F401  (registers the "architecture-generation" task)

COMMITTED_RELEASE = Path(__file__).resolve().parents[1] / "hub" / "archvq-nb201"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--repo-id",
        default=str(COMMITTED_RELEASE),
        help="Hub repo id or local folder (default: hub/archvq-nb201 of this repository)",
    )
    parser.add_argument("--num", type=int, default=8, help="samples to generate (default 8)")
    parser.add_argument("--temperature", type=float, default=None, help="default: the repo's recommendation")
    parser.add_argument("--seed", type=int, default=0, help="sampling seed (default 0)")
    args = parser.parse_args()

    generate = pipeline("architecture-generation", model=args.repo_id)
    for sample in generate(num_samples=args.num, temperature=args.temperature, seed=args.seed):
        print(json.dumps({k: sample[k] for k in ("valid", "id", "cell", "codes")}))


if __name__ == "__main__":
    main()
