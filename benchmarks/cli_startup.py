"""Start-up time of ``archllm --help``, ``python -c "import archllm_hf"`` and ``python -c "import transformers"``.

    python benchmarks/cli_startup.py [--repeats 5] [--out benchmarks/results/cli-startup.json]

Each command runs in ``--repeats`` fresh processes (in rounds, one run of each per round, after one untimed run of
each); the JSON holds the median wall times, every run and the ratio to importing transformers
(``archllm_hf.evaluation.startup``).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from _common import RESULTS, provenance

from archllm_hf.evaluation.startup import measure_startup
from archllm_hf.utils import atomic_write_json


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="fresh processes per command (default 5)")
    parser.add_argument("--out", type=Path, default=RESULTS / "cli-startup.json", help="the JSON to write")
    args = parser.parse_args()
    result = {"benchmark": "cli_startup", **measure_startup(args.repeats), "provenance": provenance()}
    atomic_write_json(args.out, result)
    print(json.dumps({k: result[k] for k in ("median_s", "ratio_to_import_transformers", "goal_met")}, indent=2))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
