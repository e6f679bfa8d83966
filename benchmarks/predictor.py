"""Accuracy predictors on NB201: Kendall τ and Spearman ρ on the rest of the space after training on 78, 156, 469, 781
or 1,563 cells (10 seeds), for the 200-epoch test accuracy of each dataset. Ours (the code predictor from the
pretrained prior), the same network from scratch, a GIN, and arch2vec embeddings + MLP.

    python benchmarks/predictor.py --quick                          # CPU, minutes
    python benchmarks/predictor.py --prior runs/nb201/prior         # the full run

Models come from ``--prior`` / ``--vgae`` or are trained into ``--work``; each fit's result is kept there and reused.
Writes ``benchmarks/results/predictor-nb201[-quick].json`` and a PNG once every fit is there.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from _common import RESULTS

from archllm_hf.evaluation.prediction import PREDICTORS, PredictorBenchmark, plot_prediction
from archllm_hf.utils import atomic_write_json


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--quick", action="store_true", help="2 seeds, 78 and 156 cells, CIFAR-10, short training"
    )
    parser.add_argument("--prior", type=Path, default=None, help="a trained NB201 prior (default: train one)")
    parser.add_argument("--vgae", type=Path, default=None, help="a trained NB201 VGAE (default: train one)")
    parser.add_argument("--metrics-dir", type=Path, default=Path("../shared/data/nb201"))
    parser.add_argument("--work", type=Path, default=Path("runs/predictor-benchmark"))
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--predictors", nargs="+", choices=list(PREDICTORS), default=list(PREDICTORS))
    parser.add_argument("--device", default=None)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    benchmark = PredictorBenchmark(
        work=args.work,
        metrics_dir=args.metrics_dir,
        prior=args.prior,
        vgae=args.vgae,
        seeds=args.seeds,
        predictors=args.predictors,
        quick=args.quick,
        device=args.device,
    )
    result = benchmark.run()
    if result is None:
        print("some fits are still missing (other --predictors); the JSON is written once all are there")
        return
    stem = f"predictor-nb201{'-quick' if args.quick else ''}"
    atomic_write_json(RESULTS / f"{stem}.json", result)
    plot_prediction(result, RESULTS / f"{stem}.png")
    print(f"wrote {RESULTS / stem}.json")


if __name__ == "__main__":
    main()
