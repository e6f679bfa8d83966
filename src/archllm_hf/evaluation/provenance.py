"""Provenance recorded with every benchmark result: package version, git commit, device, command."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any


def provenance() -> dict[str, Any]:
    """What measured a result: versions, the git commit of the code (and whether ``src`` had uncommitted changes),
    the command line, CPU, torch threads and GPU."""
    import torch

    from .. import __version__

    here = Path(__file__).parent
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True, cwd=here
        ).stdout.strip()
        status = subprocess.run(
            ["git", "status", "--porcelain", "--", "."], capture_output=True, text=True, cwd=here.parent
        )
        dirty = bool(status.stdout.strip())
    except (OSError, subprocess.CalledProcessError):  # e.g. a copy of the tree without .git (GPU machine)
        commit, dirty = os.environ.get("ARCHLLM_GIT_COMMIT"), None
    cuda = torch.cuda.is_available()
    return {
        "archllm_hf": __version__,
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


__all__ = ["provenance"]
