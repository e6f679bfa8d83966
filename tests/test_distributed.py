"""Two CPU processes over gloo: the VQ-VAE's EMA codebook under DDP, and training with ``accelerate launch``.

The worker code lives in ``distributed_worker.py``. Every process runs on one torch thread, and every wait is
bounded: every process group the test starts is stopped when one process fails or time runs out, and a hung rank
prints its stacks first.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest
import torch
from distributed_worker import RESTARTING_VQVAE

from archllm_hf.models.arch_vqvae import ArchVQVAEConfig, ArchVQVAEModel
from archllm_hf.models.arch_vqvae.modeling_arch_vqvae import ArchVQVAEVectorQuantizer
from archllm_hf.spaces import SearchSpace, get_space

WORKER = Path(__file__).resolve().parent / "distributed_worker.py"
WORLD_SIZE = 2
SPAWN_TIMEOUT_S = 300.0
HANG_MARGIN_S = 30.0
LAUNCH_TIMEOUT_S = 300.0
# rank 0 and rank 1 get batches of different sizes (6 and 4 cells), and different cells, at each step
BATCH_SIZES = (6, 4)
NUM_STEPS = 5


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def graph_batch(space: SearchSpace, cells: list[Any]) -> dict[str, torch.Tensor]:
    """Model inputs (``adjacency``, ``ops``, ``node_mask``) of ``cells``."""
    graphs = [space.to_graph(cell) for cell in cells]
    return {
        "adjacency": torch.stack([torch.as_tensor(g.adjacency, dtype=torch.long) for g in graphs]),
        "ops": torch.stack([torch.as_tensor(g.ops, dtype=torch.long) for g in graphs]),
        "node_mask": torch.stack([torch.as_tensor(g.mask, dtype=torch.bool) for g in graphs]),
    }


def run_bounded(commands: list[list[str]], timeout: float, what: str) -> list[str]:
    """Run ``commands`` side by side, each in its own process group with one torch thread, their output to files
    (a full pipe cannot block them); stop every group (:func:`stop_groups`) as soon as one exits non-zero or
    ``timeout`` seconds have passed, and fail with the output of each. Returns their outputs."""
    env = {
        **os.environ,
        "OMP_NUM_THREADS": "1",
        "CUDA_VISIBLE_DEVICES": "",
        "HF_HUB_OFFLINE": "1",
        "TOKENIZERS_PARALLELISM": "false",
        "PYTHONUNBUFFERED": "1",  # what a killed process printed is in its file
    }
    with tempfile.TemporaryDirectory() as logs:
        paths = [Path(logs) / f"{i}.log" for i in range(len(commands))]
        processes: list[subprocess.Popen] = []
        unfinished: list[int] = []
        try:
            for command, path in zip(commands, paths):
                with path.open("w") as log:
                    processes.append(
                        subprocess.Popen(
                            command, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
                        )
                    )
            deadline = time.monotonic() + timeout
            while True:
                codes = [process.poll() for process in processes]
                unfinished = [i for i, code in enumerate(codes) if code is None]
                failed = any(code not in (None, 0) for code in codes)
                if not unfinished or failed or time.monotonic() > deadline:
                    break
                time.sleep(0.2)
        finally:
            stop_groups(processes)
        outputs = [path.read_text(errors="replace") for path in paths]
    report = "\n".join(
        f"--- process {i} (exit {'killed' if i in unfinished else p.returncode}):\n{out[-4000:]}"
        for i, (p, out) in enumerate(zip(processes, outputs))
    )
    if any(process.returncode != 0 and i not in unfinished for i, process in enumerate(processes)):
        pytest.fail(f"{what} failed:\n{report}")
    if unfinished:
        pytest.fail(f"{what} did not finish within {timeout:.0f} s:\n{report}")
    return outputs


def stop_groups(processes: list[subprocess.Popen], grace: float = 10.0) -> None:
    """SIGTERM the process group of each of ``processes`` (a launcher such as torchrun then stops its workers, which
    run in sessions of their own), then SIGKILL what is left after ``grace`` seconds; wait for every process."""

    def signal_group(process: subprocess.Popen, sig: signal.Signals) -> None:
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:  # the group has no process left
            pass

    for process in processes:
        signal_group(process, signal.SIGTERM)
    end = time.monotonic() + grace
    for process in processes:
        try:
            process.wait(timeout=max(end - time.monotonic(), 0.0))
        except subprocess.TimeoutExpired:
            signal_group(process, signal.SIGKILL)
            process.wait()


def run_ranks(workdir: Path) -> None:
    """Run :func:`quantizer_sync_worker` as ``WORLD_SIZE`` processes, one a rank, started side by side; fail (and
    stop them) on error or after ``SPAWN_TIMEOUT_S``. A rank still running ``HANG_MARGIN_S`` before that prints its
    threads' stacks and exits, so that the failure says where it hung."""
    dump_at = str(time.time() + SPAWN_TIMEOUT_S - HANG_MARGIN_S)
    commands = [
        [
            sys.executable,
            str(WORKER),
            str(workdir),
            "--quantizer-sync",
            "--rank",
            str(rank),
            "--dump-at",
            dump_at,
        ]
        for rank in range(WORLD_SIZE)
    ]
    run_bounded(commands, SPAWN_TIMEOUT_S, f"the {WORLD_SIZE} gloo workers")


@pytest.fixture(scope="module")
def ddp_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[ArchVQVAEConfig, list[dict[str, Any]]]:
    """A tiny NB201 VQ-VAE trained for ``NUM_STEPS`` DDP steps on 2 processes, each with its own batches; the
    config and what each rank's quantizer did (see ``distributed_worker.quantizer_sync_worker``)."""
    space = get_space("nb201")
    config = ArchVQVAEConfig.for_space(space, **RESTARTING_VQVAE)
    torch.manual_seed(0)
    state = ArchVQVAEModel(config).state_dict()
    cells = space.sample(NUM_STEPS * sum(BATCH_SIZES), seed=0)
    batches, start = [], 0
    for _ in range(NUM_STEPS):
        per_rank = []
        for size in BATCH_SIZES:
            per_rank.append(graph_batch(space, cells[start : start + size]))
            start += size
        batches.append(per_rank)
    workdir = tmp_path_factory.mktemp("ddp")
    torch.save({"config": config.to_dict(), "state": state, "batches": batches}, workdir / "setup.pt")
    run_ranks(workdir)
    ranks = [torch.load(workdir / f"rank{r}.pt", weights_only=False) for r in range(WORLD_SIZE)]
    return config, ranks


def test_ddp_quantizer_buffers_are_identical_across_ranks(ddp_run) -> None:
    """After every DDP step, and after the calls where rank 1 or both ranks have no latents, the codebook, EMA
    counts and sums and the perplexity are the same on both ranks."""
    config, ranks = ddp_run
    assert [r["world_size"] for r in ranks] == [WORLD_SIZE] * WORLD_SIZE
    first, second = (r["steps"] for r in ranks)
    assert len(first) == len(second) == NUM_STEPS + 2
    code_length = config.code_length
    sizes = [(BATCH_SIZES[0] * code_length, BATCH_SIZES[1] * code_length)] * NUM_STEPS
    sizes += [(BATCH_SIZES[0] * code_length, 0), (0, 0)]
    for step, (a, b) in enumerate(zip(first, second)):
        assert (a["latents"].flatten(0, -2).shape[0], b["latents"].flatten(0, -2).shape[0]) == sizes[step]
        for name in ("codebook", "ema_count", "ema_weight"):
            assert torch.equal(a["before"][name], b["before"][name]), f"step {step}: {name} before"
            assert torch.equal(a["after"][name], b["after"][name]), f"step {step}: {name} differs"
            assert a["after"][name].dtype == torch.float32
        assert torch.equal(a["perplexity"], b["perplexity"]), f"step {step}: perplexity differs across ranks"
    # the run exercised restarts: every code on the first call, some dead codes on later calls
    assert first[0]["before"]["ema_count"].sum() == 0
    threshold = config.dead_code_threshold
    assert any((step["before"]["ema_count"] < threshold).any() for step in first[1:])
    assert not torch.equal(first[NUM_STEPS - 1]["after"]["codebook"], first[0]["before"]["codebook"])
    assert not torch.equal(first[-2]["after"]["ema_count"], first[-2]["before"]["ema_count"])
    assert all(torch.equal(first[-1]["after"][k], first[-1]["before"][k]) for k in first[-1]["before"])


def test_ddp_quantizer_step_equals_one_process_on_the_concatenated_batches(ddp_run) -> None:
    """Each DDP step (restarts, EMA counts and sums, codebook, perplexity) is what one process computes from
    the same state on rank 0's and rank 1's latents concatenated, with rank 0's random state."""
    config, ranks = ddp_run
    quantizer = ArchVQVAEVectorQuantizer(config).train()
    for step, per_rank in enumerate(zip(*(r["steps"] for r in ranks))):
        quantizer.load_state_dict(per_rank[0]["before"])
        latents = torch.cat([r["latents"] for r in per_rank])
        with torch.random.fork_rng(devices=[]):
            torch.set_rng_state(per_rank[0]["rng_state"])
            _, _, _, perplexity = quantizer(latents, return_loss=False)
        for name, expected in per_rank[0]["after"].items():
            actual = getattr(quantizer, name)
            assert torch.allclose(actual, expected, rtol=1e-5, atol=1e-6), f"step {step}: {name}"
        assert torch.allclose(perplexity, per_rank[0]["perplexity"], rtol=1e-5), f"step {step}: perplexity"


def accelerate_launch(out: Path) -> str:
    """``accelerate launch`` the worker script on 2 CPU processes; its output (the test fails on error or timeout).

    ``--cpu --num_processes 2`` would start one process (accelerate's multi-CPU path needs an MPI hostfile),
    so this launches through torchrun with ``--multi_gpu`` and hides any GPU: the worker trains with
    ``device="cpu"``, which makes the Trainer join a gloo process group.
    """
    command = [
        sys.executable,
        "-m",
        "accelerate.commands.launch",
        "--multi_gpu",
        "--num_processes",
        str(WORLD_SIZE),
        "--num_machines",
        "1",
        "--mixed_precision",
        "no",
        "--dynamo_backend",
        "no",
        "--main_process_port",
        str(free_port()),
        str(WORKER),
        str(out),
    ]
    return run_bounded([command], LAUNCH_TIMEOUT_S, "accelerate launch")[0]


@pytest.mark.slow
def test_accelerate_launch_trains_vqvae_and_prior_on_two_processes(tmp_path: Path) -> None:
    pytest.importorskip("accelerate")
    from transformers import AutoModel

    import archllm_hf  # noqa: F401  (registers the Auto classes)
    from archllm_hf.generation import ArchitectureGenerator

    accelerate_launch(tmp_path)
    reports = [json.loads((tmp_path / f"rank{r}.json").read_text()) for r in range(WORLD_SIZE)]
    assert [r["rank"] for r in reports] == list(range(WORLD_SIZE))
    assert all(r["world_size"] == WORLD_SIZE == r["env_world_size"] for r in reports)
    # the data was split between the ranks: one epoch takes ceil(cells / (64 * 2)) steps
    expected_steps = -(-reports[0]["num_train_cells"] // (64 * WORLD_SIZE))
    assert all(r["vqvae_train_steps"] == expected_steps for r in reports)
    # only the main process wrote: nothing staged or half-moved is left beside the files
    for folder in (tmp_path / "vqvae", tmp_path / "prior"):
        leftovers = sorted(p.name for p in folder.iterdir() if p.name.startswith("."))
        assert leftovers == [], f"{folder.name}: {leftovers}"
    model = AutoModel.from_pretrained(str(tmp_path / "vqvae"))
    assert isinstance(model, ArchVQVAEModel) and model.quantizer.ema_count.sum() > 0
    records = ArchitectureGenerator.from_pretrained(str(tmp_path / "prior")).generate(8, seed=0)
    assert len(records) == 8
