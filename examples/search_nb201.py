"""Search NAS-Bench-201 with the generator, against regularized evolution, on the same budget and seed.

    python examples/search_nb201.py --prior hub/archvq-nb201 --metrics nats_tss_test_acc_200ep.csv --budget 100

The objective is a column of an NB201 accuracy table you have (the tables' licences keep them out of this package);
each distinct cell queried costs one unit of budget. The generative searcher samples new cells from the prior,
fine-tunes the prior on the best cells found so far and ranks its proposals with an accuracy predictor:
``--predictor graph`` (the default) is ours, pretrained on zero-cost proxies of every NB201 cell, which its first
run measures into ``--proxy-cache`` (about 45 minutes on one CPU core; later runs reuse them); ``--predictor code``
reads the prior's codes and needs no proxies.
"""

from __future__ import annotations

import argparse

from archllm_hf.presets import SEARCH_PREDICTORS
from archllm_hf.search import TableOracle, make_searcher
from archllm_hf.spaces import get_space


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--prior", default="hub/archvq-nb201", help="release repo id or prior folder")
    parser.add_argument("--metrics", action="append", required=True, help="NB201 metrics file (repeatable)")
    parser.add_argument("--objective", default="cifar10_test_acc_200ep", help="column to maximise")
    parser.add_argument("--budget", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--predictor", choices=SEARCH_PREDICTORS, default="graph", help="ranks the proposals")
    parser.add_argument(
        "--proxy-cache", default=None, help="cache of NB201's proxies (default: under HF_HOME)"
    )
    args = parser.parse_args()

    oracle = TableOracle.from_files(get_space("nb201"), args.metrics, args.objective)
    for algorithm in ("generative", "evolution"):
        searcher = make_searcher(
            algorithm, prior=args.prior, predictor=args.predictor, proxy_cache=args.proxy_cache, progress=True
        )
        result = searcher.search(oracle, args.budget, seed=args.seed, progress=False)
        print(f"{algorithm:>10}: best {args.objective} {result.best['objective']:.2f} ({result.best['id']})")


if __name__ == "__main__":
    main()
