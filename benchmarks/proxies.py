"""Data-free proxies on NAS-Bench-201: the Spearman correlation of parameters, FLOPs and SynFlow, each computed on the
built network of the cells, with the 200-epoch test accuracies on CIFAR-10, CIFAR-100 and ImageNet16-120.

    python benchmarks/proxies.py                                   # params and FLOPs on all 15,625 cells
    python benchmarks/proxies.py --synflow-cells 1000              # and SynFlow on a seeded subset

Values are kept in ``--work`` (default ``runs/proxies``), one line per cell, so a run resumes where it stopped.
Writes ``benchmarks/results/proxies-nb201.json``; ``python benchmarks/render_readme.py`` renders its table.
"""

from __future__ import annotations

import argparse

from _common import RESULTS, provenance

from archllm_hf.evaluation.proxies import proxy_benchmark
from archllm_hf.utils import atomic_write_json

NATS = "../shared/data/nb201/nats_tss_test_acc_200ep.csv"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--metrics", default=NATS, help="the NB201 200-epoch accuracy table")
    parser.add_argument("--work", default="runs/proxies")
    parser.add_argument(
        "--synflow-cells", type=int, default=None, help="SynFlow on this many cells (default all)"
    )
    parser.add_argument("--proxies", nargs="+", default=["params", "flops", "synflow"])
    args = parser.parse_args()
    started = provenance()
    subsets = {"synflow": args.synflow_cells}
    result = proxy_benchmark(
        [args.metrics], args.work, {p: subsets.get(p) for p in args.proxies}, progress=True
    )
    atomic_write_json(RESULTS / "proxies-nb201.json", {"benchmark": "proxies", **started, **result})
    for proxy, r in result["proxies"].items():
        rho = ", ".join(f"{k.split('_')[0]} {v:.3f}" for k, v in r["spearman"].items())
        print(
            f"{proxy}: {r['num_cells']:,} cells, {r['seconds_per_cell'] * 1000:.0f} ms/cell; Spearman {rho}"
        )


if __name__ == "__main__":
    main()
