"""Generate cells from a released checkpoint, by Hub repo id (or by the path of a copy of the repo).

    python examples/generate_from_hub.py --repo-id archllm-hf/archvq-nb201 --num 8
    python examples/generate_from_hub.py --repo-id hub/archvq-nb201 --num 8   # the copy committed in this repo

The repo's recommended sampling settings (its generation_config.json) apply unless you pass others.
"""

from __future__ import annotations

import argparse
import json

from transformers import pipeline

import archllm_hf  # noqa: F401  (registers the "architecture-generation" task)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repo-id", default="archllm-hf/archvq-nb201", help="Hub repo id or local folder")
    parser.add_argument("--num", type=int, default=8)
    parser.add_argument("--temperature", type=float, default=None, help="default: the repo's recommendation")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    generate = pipeline("architecture-generation", model=args.repo_id)
    for sample in generate(num_samples=args.num, temperature=args.temperature, seed=args.seed):
        print(json.dumps({k: sample[k] for k in ("valid", "id", "cell", "codes")}))


if __name__ == "__main__":
    main()
