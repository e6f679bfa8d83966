"""The model card of a release repo, rendered from ``hub_cards/model_card.md`` and the files in the repo.

Every number in the card is read from a file: ``evaluation.json`` (the checkpoint's measured quality, written by
``benchmarks/release.py`` through :func:`archllm_hf.evaluation.release.evaluate_release`) and the training summaries.
``model-index`` holds the scores at the recommended settings and the held-out reconstruction as percentages, rounded
as the card's tables quote them (:data:`DECIMALS`), so the Hub shows the same figures as the card's text.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

from huggingface_hub import EvalResult, ModelCard, ModelCardData

from .. import __version__
from .._hub import PRIOR_INFO_NAME, SUMMARY_NAME
from ..data.repo import SPACE_TITLES
from ..spaces import get_space
from ..utils import atomic_write_text

EVALUATION_NAME = "evaluation.json"
SAMPLES_NAME = "samples.png"
"""The contact sheet of cells the released checkpoint generated (written by :func:`.repo.release_run`)."""
SAMPLES_KEY = "archllm-samples"
"""The PNG text entry of :data:`SAMPLES_NAME` recording how its cells were made (JSON: ``seed``, ``num_samples``,
``shown`` (the positions drawn), ``temperature``, ``constrained``, ``without_replacement``); the card's caption
is read from it."""
SPACE_TAGS = {"nb101": "nas-bench-101", "nb201": "nas-bench-201", "darts": "darts"}
GENERATION_METRICS = ("validity", "uniqueness", "novelty", "valid_unique_rate")
RECONSTRUCTION_METRIC = "exact_match"
PIPELINE_TAG = "graph-ml"
"""The Hub task the cards file the repos under (the prior alone is a ``LlamaForCausalLM``, which the Hub would file
under text generation; what the repo generates is cells, i.e. graphs)."""
DECIMALS = {"generation": 2, "reconstruction": 4}
"""Decimals of the percentages in ``model-index``: those of the card's tables (generation) and text (reconstruction,
which is often above 99.99 %)."""


def render_model_card(folder: str | Path, repo_id: str, dataset_repo_id: str | None = None) -> Path:
    """(Re)write ``folder/README.md`` from the files of a release folder."""
    folder = Path(folder)
    info = json.loads((folder / PRIOR_INFO_NAME).read_text())
    space = info["space"]
    evaluation = _read(folder / EVALUATION_NAME)
    dataset_repo_id = dataset_repo_id or "archllm-hf/nas-bench-cells"
    card_data = ModelCardData(
        license="apache-2.0",
        library_name="transformers",
        pipeline_tag=PIPELINE_TAG,
        tags=[
            "architecture-generation",
            "neural-architecture-search",
            "vq-vae",
            SPACE_TAGS[space],
            "archllm-hf",
        ],
        datasets=[dataset_repo_id],
        model_name=repo_id.split("/")[-1],
        eval_results=model_index(evaluation, space, dataset_repo_id) if evaluation else None,
    )
    generation_config = json.loads((folder / "generation_config.json").read_text())
    template = resources.files("archllm_hf.hub_cards").joinpath("model_card.md").read_text()
    card = ModelCard.from_template(
        card_data,
        template_str=template,
        repo_id=repo_id,
        dataset_repo_id=dataset_repo_id,
        space=space,
        space_title=SPACE_TITLES[space],
        info=info,
        settings={k: generation_config.get(k) for k in ("temperature", "constrained", "without_replacement")},
        evaluation=evaluation,
        rows=_score_rows(evaluation) if evaluation else [],
        prior=_read(folder / SUMMARY_NAME),
        vqvae=_read(folder / "vqvae" / SUMMARY_NAME),
        version=__version__,
        num_cells=get_space(space, **info.get("space_kwargs", {})).num_cells,
        sheet=_sheet(folder / SAMPLES_NAME),
    )
    path = folder / "README.md"
    atomic_write_text(path, str(card).rstrip("\n") + "\n")
    return path


def model_index(evaluation: dict[str, Any], space: str, dataset_repo_id: str) -> list[EvalResult]:
    """``model-index`` entries: the generation scores at the recommended settings and the held-out whole-cell
    reconstruction, each the value of ``evaluation`` as a percentage rounded to :data:`DECIMALS`."""
    common = {
        "dataset_type": dataset_repo_id,
        "dataset_name": f"{SPACE_TITLES[space]} cells",
        "dataset_config": space,
    }
    scores = evaluation["recommended"]["scores"]
    results = [
        EvalResult(
            task_type="architecture-generation",
            task_name="Architecture generation",
            dataset_split="train",
            metric_type=name,
            metric_name=f"{name}, % ({evaluation['recommended']['num_samples']:,} samples, recommended settings)",
            metric_value=_percent(scores[name], DECIMALS["generation"]),
            **common,
        )
        for name in GENERATION_METRICS
    ]
    results.append(
        EvalResult(
            task_type="architecture-reconstruction",
            task_name="Whole-cell reconstruction",
            dataset_split="test",
            metric_type=RECONSTRUCTION_METRIC,
            metric_name="whole-cell reconstruction, % (held-out test split)",
            metric_value=_percent(
                evaluation["reconstruction"][RECONSTRUCTION_METRIC], DECIMALS["reconstruction"]
            ),
            **common,
        )
    )
    return results


def _percent(fraction: float, decimals: int) -> float:
    if not 0.0 <= fraction <= 1.0:
        raise ValueError(f"a score must be a fraction in [0, 1], got {fraction!r}")
    return round(100.0 * fraction, decimals)


def _score_rows(evaluation: dict[str, Any]) -> list[dict[str, str]]:
    recommended, raw = evaluation["recommended"]["scores"], evaluation["raw_iid"]["scores"]
    return [
        {"metric": name, "recommended": f"{recommended[name]:.2%}", "raw": f"{raw[name]:.2%}"}
        for name in (*GENERATION_METRICS, *(["uniqueness_iso"] if "uniqueness_iso" in recommended else []))
    ]


def _sheet(path: Path) -> dict[str, str] | None:
    """The image link and the caption of the samples sheet at ``path`` (None without one), from its PNG text."""
    if not path.is_file():
        return None
    from PIL import Image

    with Image.open(path) as image:
        made = json.loads(image.text[SAMPLES_KEY])
    shown, total = len(made["shown"]), made["num_samples"]
    settings = ", ".join(
        [
            f"temperature {made['temperature']}",
            "constrained" if made["constrained"] else "unconstrained",
            "without replacement" if made["without_replacement"] else "iid draws",
        ]
    )
    call = f"`generate(num_samples={total}, seed={made['seed']})`"
    which = (
        f"The {shown} cells of {call} (the snippet above)"
        if shown == total
        else f"The first {shown} valid cells of {call}"
    )
    return {
        "file": path.name,
        "alt": f"{shown} cells generated by this checkpoint",
        "caption": (
            f"{which} at the recommended settings ({settings}), titled by their position in the batch; drawn "
            "with `archllm_hf.visualization.contact_sheet` at release."
        ),
    }


def _read(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text()) if path.is_file() else {}


__all__ = [
    "DECIMALS",
    "EVALUATION_NAME",
    "PIPELINE_TAG",
    "SAMPLES_KEY",
    "SAMPLES_NAME",
    "model_index",
    "render_model_card",
]
