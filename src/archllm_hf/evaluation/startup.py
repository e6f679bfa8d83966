"""Start-up time of the command line and the package: fresh processes, timed from outside.

:func:`measure_startup` runs each command ``repeats`` times, in rounds (one run of every command per round, so that a
change in machine load hits all of them alike), and reports the median wall time of each. The reference is
``python -c "import transformers"``: ``archllm --help`` and ``import archllm_hf`` should cost about as much as
transformers' top-level import, or less (the goal is ``--help`` within 1.5 times of it).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

GOAL_RATIO = 1.5
"""``archllm --help`` should take at most this many times ``python -c "import transformers"``."""


def startup_commands(python: str | None = None) -> dict[str, list[str]]:
    """The timed commands, by name: the ``archllm`` console script beside ``python`` (``--help``), and two imports."""
    python = python or sys.executable
    script = Path(python).parent / "archllm"
    if not script.is_file():
        raise FileNotFoundError(f"no archllm console script beside {python}; install the package (pip install -e .)")
    return {
        "archllm --help": [str(script), "--help"],
        'python -c "import archllm_hf"': [python, "-c", "import archllm_hf"],
        'python -c "import transformers"': [python, "-c", "import transformers"],
    }


def _wall_time(command: Sequence[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({done.returncode}): {done.stderr[-2000:]}")
    return seconds


def measure_startup(repeats: int = 5, python: str | None = None) -> dict[str, Any]:
    """Median wall time (s) of each start-up command over ``repeats`` fresh processes, and the ratios to
    ``import transformers``."""
    if repeats < 1:
        raise ValueError(f"repeats must be at least 1, got {repeats}")
    commands = startup_commands(python)
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    load_before = os.getloadavg()[0]
    for command in commands.values():  # one untimed run each: the file cache is warm for every command alike
        _wall_time(command, env)
    runs: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(repeats):
        for name, command in commands.items():
            runs[name].append(_wall_time(command, env))
    medians = {name: statistics.median(times) for name, times in runs.items()}
    reference = medians['python -c "import transformers"']
    help_ratio = medians["archllm --help"] / reference
    return {
        "repeats": repeats,
        "median_s": {name: round(value, 3) for name, value in medians.items()},
        "runs_s": {name: [round(t, 3) for t in times] for name, times in runs.items()},
        "ratio_to_import_transformers": {name: round(value / reference, 2) for name, value in medians.items()},
        "goal": f"archllm --help within {GOAL_RATIO}x of python -c 'import transformers'",
        "goal_met": help_ratio <= GOAL_RATIO,
        "niceness": os.nice(0),  # the machine may have been busy: these three numbers only compare with each other
        "load_average_1min": {"before": round(load_before, 2), "after": round(os.getloadavg()[0], 2)},
    }


__all__ = ["GOAL_RATIO", "measure_startup", "startup_commands"]
