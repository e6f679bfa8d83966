"""Score generated cells with the `evaluate` metric: validity, uniqueness, and novelty against a training split.

    python examples/score_with_evaluate.py --prior hub/archvq-nb201 --num 1000
    python examples/score_with_evaluate.py --prior ORG/NAME --dataset ORG/CELLS   # repos pushed with `archllm release`

Novelty needs the training cells: the train split of the cells dataset repo (a Hub id or a local folder written by
`archllm data build`); without --dataset the split is rebuilt locally, as training built it.
"""

from __future__ import annotations

import argparse
import json

import evaluate

from archllm_hf.data import build_cells_dataset, load_cells_repo
from archllm_hf.generation import ArchitectureGenerator
from archllm_hf.scoring import METRIC_PATH


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--prior", default="hub/archvq-nb201", help="release repo id or folder")
    parser.add_argument("--num", type=int, default=1000)
    parser.add_argument("--dataset", default=None, help="cells dataset repo id or folder (its train split)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    generator = ArchitectureGenerator.from_pretrained(args.prior)
    space = generator.space
    samples = generator.generate(args.num, seed=args.seed)
    if args.dataset:
        train = load_cells_repo(args.dataset, space.name)["train"]
    else:
        train = build_cells_dataset(space, progress=False)["train"]

    # the space config judges each cell's text itself (validity, canonical and isomorphism ids, novelty)
    metric = evaluate.load(METRIC_PATH, space.name, keep_in_memory=True)
    texts = [c if isinstance(c, str) else "" if c is None else json.dumps(c) for c in (s["cell"] for s in samples)]
    scores = metric.compute(predictions=texts, train_ids=list(train["id"]))
    print(json.dumps(scores, indent=2))


if __name__ == "__main__":
    main()
