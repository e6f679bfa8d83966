"""Shared fixtures. Tests run offline and read benchmark data from ``../shared/data`` beside the repo.

Shared tiny configs, graph batches and the "train until reconstructed" loop are in ``fixtures.py``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("ARCHLLM_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Folder with the NAS-Bench fixture files (see ``../shared/data/SOURCES.md``)."""
    if not SHARED_DATA.is_dir():
        raise FileNotFoundError(
            f"benchmark fixture data not found at {SHARED_DATA}; set ARCHLLM_SHARED_DATA to the shared/data folder"
        )
    return SHARED_DATA


@pytest.fixture(scope="module")
def one_torch_thread() -> Iterator[None]:
    """Run a test module on one torch thread (tiny models run several times faster that way, and the machine
    is shared); the previous thread count comes back afterwards. Opt in per module with
    ``pytestmark = pytest.mark.usefixtures("one_torch_thread")``."""
    import torch  # here, so that test modules without torch do not pay for importing it

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


@pytest.fixture
def render_readme(monkeypatch: pytest.MonkeyPatch) -> Any:
    """``benchmarks/render_readme.py``, imported afresh (tests patch its loader)."""
    monkeypatch.syspath_prepend(str(REPO_ROOT / "benchmarks"))
    monkeypatch.delitem(sys.modules, "render_readme", raising=False)
    import render_readme

    return render_readme


@pytest.fixture(scope="session", autouse=True)
def cells_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """The Arrow files of every ``build_cells_dataset`` of the session (and of the processes it starts) go to a
    folder of the session, which pytest removes with its old temporary folders, not to the user's datasets cache."""
    folder = tmp_path_factory.mktemp("cells_cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ARCHLLM_CELLS_CACHE", str(folder))
        yield folder
