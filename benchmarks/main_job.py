"""Time and score the main job (``archllm run``): dataset → VQ-VAE → prior → 10,000 samples → report.

    python benchmarks/main_job.py --space nb201 [--device cuda]

Writes ``benchmarks/results/run-<space>.json`` (the report plus provenance and wall time) and
``benchmarks/results/run-<space>-temperature.png``. With ``--keep DIR`` the run resumes whatever ``DIR`` already holds:
a VQ-VAE or prior placed in ``DIR/vqvae`` or ``DIR/prior`` beforehand is reused, and the report says so
(``vqvae_reused``, ``prior_reused``, with the training summary of each).
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

from _common import RESULTS, provenance

from archllm_hf.run import run_main_job
from archllm_hf.utils import atomic_write_json


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--space", choices=["nb101", "nb201", "darts"], default="nb201")
    parser.add_argument("--device", default=None)
    parser.add_argument("--num-samples", type=int, default=10_000)
    parser.add_argument("--keep", default=None, help="keep the run folder here (default: a temp dir)")
    args = parser.parse_args()
    started = provenance()  # the code as it was when the run began
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(args.keep) if args.keep else Path(tmp) / args.space
        start = time.perf_counter()
        report = run_main_job(
            args.space, out, num_samples=args.num_samples, device=args.device, progress=False
        )
        wall = time.perf_counter() - start
        shutil.copyfile(out / "temperature.png", RESULTS / f"run-{args.space}-temperature.png")
    atomic_write_json(
        RESULTS / f"run-{args.space}.json",
        {"benchmark": "main_job", **started, "wall_seconds": wall, **report},
    )
    print(json.dumps({"wall_seconds": round(wall, 1), **report["scores"], **report["generation"]}, indent=2))


if __name__ == "__main__":
    main()
