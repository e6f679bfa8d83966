"""What the benchmark scripts share: where results go, and the provenance recorded with each."""

from __future__ import annotations

from pathlib import Path

from archllm_hf.evaluation.provenance import provenance

RESULTS = Path(__file__).resolve().parent / "results"

__all__ = ["RESULTS", "provenance"]
