"""Provenance recorded with every benchmark result: package version, git commit, device, command."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).resolve().parent / "results"


def provenance() -> dict[str, Any]:
    import torch

    import archllm_hf

    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).parent,
        ).stdout.strip()
        dirty = bool(
            subprocess.run(
                ["git", "status", "--porcelain", "--", "src"],
                capture_output=True,
                text=True,
                cwd=Path(__file__).parent,
            ).stdout.strip()
        )
    except (OSError, subprocess.CalledProcessError):  # e.g. a copy of the tree without .git (GPU machine)
        commit, dirty = os.environ.get("ARCHLLM_GIT_COMMIT"), None
    cuda = torch.cuda.is_available()
    return {
        "archllm_hf": archllm_hf.__version__,
        "git_commit": commit,
        "git_dirty_src": dirty,
        "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "cpu": platform.processor() or platform.machine(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "gpu": torch.cuda.get_device_name(0) if cuda else None,
    }
