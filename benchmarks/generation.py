"""Side by side, on the same split with the same metric: our VQ-VAE + prior, arch2vec's VGAE, uniform sampling from
the space's grammar, and a direct LM over the cells' own text.

    python benchmarks/generation.py --space nb201 --quick          # CPU, minutes
    python benchmarks/generation.py --space all --device cuda      # the full run

Per space and method: reconstruction (where the method reconstructs), validity, uniqueness, novelty and
valid_unique_rate at 10,000 samples (temperature 1.0, iid), a temperature sweep for the language models, training
time and generation throughput. Trained models and each method's result go to ``--work`` (default
``runs/benchmark``); when the script runs again, finished methods are reused and interrupted training resumes from
its last checkpoint (``--fresh`` measures everything again). ``--methods`` measures some methods only, so that
several processes can share one ``--work``; ``--leave-out`` neither runs nor waits for some (the JSON lists those
without a result as ``left_out``). Once every other method has a result, writes
``benchmarks/results/generation-<space>[-quick].json`` and a PNG beside it; ``python benchmarks/render_readme.py``
turns them into the README table.
"""

from __future__ import annotations

import argparse
import logging

import datasets
from _common import RESULTS

from archllm_hf.evaluation.generation import (
    METHODS,
    GenerationBenchmark,
    default_methods,
    plot_generation,
)
from archllm_hf.utils import atomic_write_json


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--space", choices=["nb101", "nb201", "darts", "all"], default="nb201")
    parser.add_argument("--device", default=None)
    parser.add_argument(
        "--quick", action="store_true", help="short schedules (and 20,000 DARTS cells) for a CPU"
    )
    parser.add_argument(
        "--work", default="runs/benchmark", help="where trained models go and are reused from"
    )
    parser.add_argument(
        "--fresh",
        action="store_true",
        help="measure every method again instead of reusing the results an earlier run left in --work",
    )
    parser.add_argument(
        "--methods",
        nargs="+",
        choices=list(METHODS),
        default=None,
        help="measure only these (several processes or machines can share one --work); the JSON is written "
        "once every method has a result (default: all; --quick leaves out pretrained_llm and matched_prior unless "
        "named)",
    )
    parser.add_argument(
        "--leave-out",
        nargs="+",
        choices=list(METHODS),
        default=(),
        help="do not run or wait for these methods: the JSON keeps a result an earlier run left in --work and "
        "lists the others as left_out (a row too slow for this machine, to be measured by a later run)",
    )
    parser.add_argument("--batch-size", type=int, default=2000, help="samples per batch when sampling")
    parser.add_argument(
        "--sweep-samples", type=int, default=2000, help="samples per temperature of the sweep"
    )
    args = parser.parse_args()
    if set(args.methods or ()) & set(args.leave_out):
        parser.error("a method cannot be both measured (--methods) and left out (--leave-out)")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    datasets.disable_progress_bars()
    benchmark = GenerationBenchmark(
        work=args.work,
        quick=args.quick,
        device=args.device,
        methods=args.methods or [m for m in default_methods(args.quick) if m not in args.leave_out],
        fresh=args.fresh,
        batch_size=args.batch_size,
        sweep_samples=args.sweep_samples,
        left_out=args.leave_out,
    )
    for name in ["nb201", "nb101", "darts"] if args.space == "all" else [args.space]:
        result = benchmark.run_space(name)
        if result is not None:
            stem = f"generation-{name}{'-quick' if args.quick else ''}"
            atomic_write_json(RESULTS / f"{stem}.json", result)
            plot_generation(result, RESULTS / f"{stem}.png")
            print(f"wrote {RESULTS / stem}.json")


if __name__ == "__main__":
    main()
