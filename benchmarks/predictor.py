"""Accuracy predictors: Kendall τ and Spearman ρ on the test cells after training on a few labelled cells, 10 seeds.

    python benchmarks/predictor.py --space nb201 --quick                        # CPU, minutes
    python benchmarks/predictor.py --space nb201 --prior hub/archvq-nb201       # the full NB201 run
    python benchmarks/predictor.py --space nb101                                 # NASLib's NB101 subset
    python benchmarks/predictor.py --space darts                                 # NASLib's NB301 subset

NB201: the TNASP split (78 / 156 / 469 / 781 / 1,563 training cells, the rest of the space as the test set), the
200-epoch test accuracies of the three datasets. NB101 / DARTS: 100 training cells of NASLib's subsets, the rest as
the test set. Ours (the proxy-pretrained graph predictor) and its ablations, the GIN (also with the proxies), an MLP
on the proxies, every proxy alone, and on NB201 the code predictor (from the prior and from scratch) and arch2vec.

Each fit's result is kept in ``--work`` and reused, so the benchmark resumes fit by fit, and several processes can
share one ``--work`` with different ``--predictors`` / ``--datasets``; ``--gather`` then writes the JSON from what is
there. The proxies of the space are measured once into ``--proxy-cache`` (resumable).
Writes ``benchmarks/results/predictor-SPACE[-quick].json`` and a PNG.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import torch
from _common import RESULTS

from archllm_hf.evaluation.prediction import PREDICTORS, PredictorBenchmark, plot_prediction
from archllm_hf.utils import atomic_write_json


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--space", choices=("nb201", "nb101", "darts"), default="nb201")
    parser.add_argument("--quick", action="store_true", help="2 seeds, the two smallest sizes, the first dataset")
    parser.add_argument("--prior", type=Path, default=None, help="a trained NB201 prior (default: train one)")
    parser.add_argument("--vgae", type=Path, default=None, help="a trained NB201 VGAE (default: train one)")
    parser.add_argument("--metrics-dir", type=Path, default=None, help="default: ../shared/data/SPACE")
    parser.add_argument("--work", type=Path, default=Path("runs/predictor-benchmark"))
    parser.add_argument("--proxy-cache", type=Path, default=None, help="default: WORK/SPACE/proxies.jsonl")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--datasets", nargs="+", default=None, help="default: all of the space's")
    parser.add_argument("--sizes", nargs="+", type=int, default=None, help="training sizes (default: the space's)")
    parser.add_argument("--predictors", nargs="+", choices=list(PREDICTORS), default=list(PREDICTORS))
    parser.add_argument("--gather", action="store_true", help="fit nothing; write the JSON from the fits in --work")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1: run processes side by side)")
    parser.add_argument("--device", default=None)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    torch.set_num_threads(args.threads)
    benchmark = PredictorBenchmark(
        space=args.space,
        work=args.work,
        metrics_dir=args.metrics_dir,
        proxy_cache=args.proxy_cache,
        prior=args.prior,
        vgae=args.vgae,
        seeds=args.seeds,
        datasets=args.datasets,
        sizes=args.sizes,
        predictors=args.predictors,
        quick=args.quick,
        device=args.device,
        fit=not args.gather,
    )
    result = benchmark.run()
    if result is None:
        print("no predictor has all its fits yet")
        return
    if not args.gather and (result["not_measured"] or set(args.predictors) != set(PREDICTORS) or args.sizes):
        print("these fits are done; once every predictor's are, run with --gather to write the JSON")
        return
    stem = f"predictor-{args.space}{'-quick' if args.quick else ''}"
    atomic_write_json(RESULTS / f"{stem}.json", result)
    plot_prediction(result, RESULTS / f"{stem}.png")
    print(f"wrote {RESULTS / stem}.json")


if __name__ == "__main__":
    main()
