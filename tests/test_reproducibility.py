"""Issue 23.12: the same command and seed give a byte-identical history.jsonl (and samples file) in fresh processes,
whatever their PYTHONHASHSEED, for every searcher of ``archllm search`` (random, evolution, local, bo, generative
ranking with ours or with the code predictor, rl, conditional_llm) and for ``archllm generate``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO_ROOT
from fixtures import tiny_nb201_prior, tiny_text_prior, tiny_vgae

CHILD = """
import sys
sys.path.insert(0, {tests!r})
from fixtures import use_tiny_graph_predictor
from archllm_hf.cli import main

# tiny predictors for speed (the searcher still builds its predictor through make_searcher)
use_tiny_graph_predictor("nb201")
out, prior, text_prior, vgae, nats = sys.argv[1:6]
search = ["search", "--space", "nb201", "--metrics", nats, "--objective", "cifar10_test_acc_200ep", "-q",
          "--seed", "9110"]
for algorithm in ("random", "evolution", "local"):
    assert main([*search, "--algorithm", algorithm, "--budget", "12", "--out", f"{{out}}/{{algorithm}}"]) == 0
generative = [*search, "--algorithm", "generative", "--prior", prior, "--budget", "25"]
assert main([*generative, "--proxy-cache", f"{{out}}/proxies.jsonl", "--out", f"{{out}}/gen"]) == 0
assert main([*generative, "--predictor", "code", "--out", f"{{out}}/gen-code"]) == 0
# bo: 16 random cells, then 4 rounds that fit its model; conditional_llm: 10 random cells, then a fine-tuned round
assert main([*search, "--algorithm", "bo", "--vgae", vgae, "--budget", "20", "--out", f"{{out}}/bo"]) == 0
assert main([*search, "--algorithm", "rl", "--vgae", vgae, "--budget", "20", "--out", f"{{out}}/rl"]) == 0
assert main([*search, "--algorithm", "conditional_llm", "--prior", text_prior, "--budget", "20",
             "--out", f"{{out}}/conditional"]) == 0
assert main(["generate", "--prior", prior, "--num", "40", "--seed", "9110", "--out", f"{{out}}/samples.jsonl",
             "-q"]) == 0
"""


@pytest.mark.slow
def test_searches_and_generation_are_byte_identical_across_processes(tmp_path, shared_data):
    prior = tiny_nb201_prior(tmp_path / "models")
    text_prior, vgae = tiny_text_prior(tmp_path / "text"), tiny_vgae(tmp_path / "vgae")
    nats = str(shared_data / "nb201/nats_tss_test_acc_200ep.csv")
    script = CHILD.format(tests=str(REPO_ROOT / "tests"))
    outs = []
    for hash_seed in ("1", "2"):
        out = tmp_path / f"hash{hash_seed}"
        env = {
            **os.environ,
            "PYTHONHASHSEED": hash_seed,
            "HF_HUB_OFFLINE": "1",
            "OMP_NUM_THREADS": "1",
            "PYTHONPATH": str(REPO_ROOT / "src"),
        }
        done = subprocess.run(
            [sys.executable, "-c", script, str(out), str(prior), str(text_prior), str(vgae), nats],
            env=env,
            capture_output=True,
            text=True,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        outs.append(out)
    searches = ("random", "evolution", "local", "gen", "gen-code", "bo", "rl", "conditional")
    files = [Path(name, "history.jsonl") for name in searches]
    files.append(Path("samples.jsonl"))
    for name in files:
        first, second = ((out / name).read_bytes() for out in outs)
        assert first and first == second, f"{name} differs between the two processes"


def test_transformers_set_seed_draws_what_the_packages_own_seeding_drew():
    """The training functions and predictors seed with ``transformers.set_seed``; for every seed they use (0 to
    2**32 - 1) it draws what the package's own ``set_seed`` (Python, NumPy, torch) drew before."""
    import random

    import numpy as np
    import torch
    from transformers import set_seed

    def draws() -> tuple[float, float, float]:
        return random.random(), float(np.random.random()), float(torch.rand(1))

    for seed in (0, 7, 2**32 - 1):
        set_seed(seed)
        ours = draws()
        random.seed(seed)
        np.random.seed(seed % 2**32)
        torch.manual_seed(seed)
        assert draws() == ours
