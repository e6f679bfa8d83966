"""The robustness probe of issue 23: bad input through the ``archllm`` command line (bad files, impossible requests,
outputs that cannot be written, a folder in use, ...), each case in a fresh process, each outcome put in a class
(ok, clear error, wrong result, traceback, hang, unclear; see ``archllm_hf.evaluation.robustness``).

    python benchmarks/robustness.py

Needs the committed ``hub/archvq-nb201`` release and the NB201 table in ``../shared/data``. Writes
``benchmarks/results/robustness.json``; the README's "Reliability" section quotes it.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from _common import RESULTS, provenance

from archllm_hf.evaluation.robustness import run_probe
from archllm_hf.utils import atomic_write_json

REPO_ROOT = Path(__file__).resolve().parent.parent
NATS = REPO_ROOT.parent / "shared" / "data" / "nb201" / "nats_tss_test_acc_200ep.csv"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--metrics", default=str(NATS), help="the NB201 200-epoch accuracy table")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds before a case counts as a hang")
    args = parser.parse_args()
    started = provenance()
    result = run_probe(REPO_ROOT, str(Path(args.metrics).resolve()), timeout=args.timeout)
    atomic_write_json(RESULTS / "robustness.json", {"benchmark": "robustness", **started, **result})
    for case in result["cases"]:
        mark = "  " if case["outcome"] == case["expected"] else "!!"
        print(f"{mark} [{case['defect']:>2}] {case['case']}: {case['outcome']} ({case['message'] or 'no message'})")
    print(f"{result['as_expected']} of {result['num_cases']} as expected; outcomes {result['outcomes']}")


if __name__ == "__main__":
    main()
