"""Shared fixtures. Tests run offline and read benchmark data from ``../shared/data`` beside the repo."""

from __future__ import annotations

import os
from pathlib import Path

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
