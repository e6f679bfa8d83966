"""NAS on NB201 with every searcher, the same seeds for each, under two protocols, on CIFAR-10, CIFAR-100 and
ImageNet16-120: random search, regularized evolution, local search, arch2vec-style BO, and ours (the sequence-model
search with the code prior) with its ablations.

    python benchmarks/search.py --quick                                  # CPU, minutes
    python benchmarks/search.py --prior runs/nb201/prior                 # the full run (25 seeds, 200 queries)

P1: the objective is the 12-epoch validation accuracy, the figure the 200-epoch test accuracy of the cell with the
best objective. P2: the objective and the figure are the 200-epoch test accuracy (the best found). Models: the prior
given by ``--prior`` (its VQ-VAE is the one it names) and the VGAE given by ``--vgae``, or trained into ``--work``.
Each run is kept in ``--work`` and reused, so the benchmark resumes run by run; ``--protocols``, ``--datasets`` and
``--searchers`` split it between processes, and every process must be given the same ``--seeds``, ``--budget`` and
``--searcher-budget``. Once every run is there (``--min-seeds N``: at once, with the rows that have N seeds), writes
``benchmarks/results/search-nb201[-quick].json`` and a PNG of the curves; ``python benchmarks/render_readme.py`` puts
them in the README.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from _common import RESULTS

from archllm_hf.evaluation.search import DATASETS, PROTOCOLS, SEARCHERS, SearchBenchmark, plot_search
from archllm_hf.utils import atomic_write_json


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="2 seeds, 50 queries, CIFAR-10, short training")
    parser.add_argument("--prior", type=Path, default=None, help="a trained NB201 prior (default: train one)")
    parser.add_argument("--vgae", type=Path, default=None, help="a trained NB201 VGAE (default: train one)")
    parser.add_argument("--metrics-dir", type=Path, default=Path("../shared/data/nb201"))
    parser.add_argument("--work", type=Path, default=Path("runs/search-benchmark"))
    parser.add_argument("--seeds", type=int, default=25)
    parser.add_argument("--budget", type=int, default=200)
    parser.add_argument(
        "--searcher-budget",
        action="append",
        default=[],
        metavar="NAME=N",
        help="a smaller budget for one searcher, e.g. bo=100 (its DNGO refits after every query); repeatable",
    )
    parser.add_argument("--protocols", nargs="+", choices=list(PROTOCOLS), default=list(PROTOCOLS))
    parser.add_argument("--searchers", nargs="+", choices=list(SEARCHERS), default=list(SEARCHERS))
    parser.add_argument("--datasets", nargs="+", choices=list(DATASETS), default=list(DATASETS))
    parser.add_argument("--device", default=None)
    parser.add_argument(
        "--proxy-cache",
        type=Path,
        default=None,
        help="the NB201 proxies ours pretrains on (default: WORK/full/proxies-nb201.jsonl, WORK/quick/... with "
        "--quick; measured once)",
    )
    parser.add_argument(
        "--min-seeds",
        type=int,
        default=None,
        help="write the JSON now, with every row that has at least this many seeds (each says how many; the "
        "incomplete rows are listed under 'missing'), instead of once every run is there",
    )
    args = parser.parse_args()
    searcher_budgets = {}
    for item in args.searcher_budget:
        name, _, number = item.partition("=")
        if name not in SEARCHERS or not number.isdigit() or int(number) < 1:
            parser.error(
                f"--searcher-budget takes NAME=N with NAME one of {', '.join(SEARCHERS)}, got {item!r}"
            )
        searcher_budgets[name] = int(number)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    benchmark = SearchBenchmark(
        work=args.work,
        metrics_dir=args.metrics_dir,
        prior=args.prior,
        vgae=args.vgae,
        seeds=args.seeds,
        budget=args.budget,
        searcher_budgets=searcher_budgets,
        protocols=args.protocols,
        searchers=args.searchers,
        datasets=args.datasets,
        quick=args.quick,
        device=args.device,
        proxy_cache=args.proxy_cache,
        min_seeds=args.min_seeds,
    )
    result = benchmark.run()
    if result is None:
        print(
            "some runs are still missing (other --protocols/--searchers); the JSON is written once all are there"
        )
        return
    stem = f"search-nb201{'-quick' if args.quick else ''}"
    atomic_write_json(RESULTS / f"{stem}.json", result)
    plot_search(result, RESULTS / f"{stem}.png")
    print(f"wrote {RESULTS / stem}.json")


if __name__ == "__main__":
    main()
