"""The archllm-hf demo: generate cells from a released checkpoint, and search NAS-Bench-201 live.

Run locally with ``pip install -e ".[demo]"`` and ``python app/app.py``; the folder ``app/`` is a Hugging Face
Space as it is. :func:`build_demo` returns the ``gr.Blocks`` (tests pass tiny priors). Everything about cells,
scores and searches comes from :mod:`archllm_hf`; this file only wires the widgets.
"""

from __future__ import annotations

import io
import json
import tempfile
import threading
from collections.abc import Iterator, Mapping, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import gradio as gr
import pandas as pd
from PIL import Image

import archllm_hf  # noqa: F401  (registers the Auto classes)
from archllm_hf.data import load_metric_table
from archllm_hf.data.build import space_cells
from archllm_hf.data.splits import split_for_id
from archllm_hf.generation import ArchitectureGenerator
from archllm_hf.networks.proxies import PROXIES, num_parameters
from archllm_hf.presets import preset
from archllm_hf.scoring import score_samples
from archllm_hf.search import Oracle, SearchResult, TableOracle, make_searcher
from archllm_hf.search.oracles import Evaluation, ProxyOracle
from archllm_hf.spaces import SearchSpace, get_space
from archllm_hf.utils import atomic_write_jsonl
from archllm_hf.visualization import cell_to_image, contact_sheet, figure_png

SPACES: tuple[str, ...] = ("nb101", "nb201", "darts")
_HUB = Path(__file__).resolve().parent.parent / "hub"


def default_priors() -> dict[str, str]:
    """The released checkpoint of each space: the repo's copy in ``hub/`` when there is one (a clone; shown
    relative to the working directory when under it), else its Hub repo id (the Space)."""
    priors = {}
    for name in SPACES:
        folder = _HUB / f"archvq-{name}"
        if not folder.is_dir():
            priors[name] = f"archllm-hf/archvq-{name}"
        elif folder.is_relative_to(Path.cwd()):
            priors[name] = str(folder.relative_to(Path.cwd()))
        else:
            priors[name] = str(folder)
    return priors


_CURVE_COLUMNS = ["query", "best", "searcher"]
SEARCHERS: dict[str, str] = {"ours (generative)": "generative", "evolution": "evolution", "random": "random"}
MAX_SAMPLES = 64


class DemoError(Exception):
    """Bad input, shown in the page as a message."""


@lru_cache(maxsize=4)
def _generator(prior: str) -> ArchitectureGenerator:
    try:
        return ArchitectureGenerator.from_pretrained(prior)
    except Exception as err:  # any failure to load is the user's folder / repo id being no prior
        raise DemoError(f"{prior!r} is not a prior folder or repo id this app can load: {err}") from None


@lru_cache(maxsize=3)
def _sampled_training_cells(space_name: str) -> frozenset[str]:
    """Canonical ids of the sampled training split of a space too large to enumerate (built once, as
    ``build_cells_dataset`` builds it for training)."""
    space = get_space(space_name)
    return frozenset(
        cell_id
        for cell_id in map(space.canonical_id, space_cells(space, progress=False))
        if split_for_id(cell_id) == "train"
    )


def _training_ids(space: SearchSpace, ids: Sequence[str]) -> set[str]:
    """Which of ``ids`` are in the training split the released checkpoints were trained on (the default cells
    dataset: the whole space for NB101 and NB201, split by canonical id; sampled cells for DARTS)."""
    if preset(space.name).num_cells is None:
        return {cell_id for cell_id in ids if split_for_id(cell_id) == "train"}
    return set(ids) & _sampled_training_cells(space.name)


def _message(text: str) -> str:
    gr.Warning(text)
    return f"**Error:** {text}"


def generate(
    prior: str,
    num_samples: float,
    temperature: float,
    constrained: bool,
    seed: float | None = 0,
    progress: gr.Progress = gr.Progress(),
) -> tuple[Any, list[Any], pd.DataFrame, str]:
    """One batch: the contact sheet, one drawing per valid cell, the table and the scores."""
    empty = pd.DataFrame(columns=["#", "cell", "id", "valid", "parameters", "reason"])
    try:
        prior = (prior or "").strip()
        if not prior:
            raise DemoError("choose a prior: a space's checkpoint, a folder or a Hub repo id")
        if not (num_samples and 1 <= int(num_samples) <= MAX_SAMPLES):
            raise DemoError(f"the number of samples must be between 1 and {MAX_SAMPLES}, got {num_samples}")
        if not temperature or temperature <= 0:
            raise DemoError(f"the temperature must be positive, got {temperature}")
        n = int(num_samples)
        progress(0.0, desc="loading the prior")
        generator = _generator(prior)
        space = generator.space
        progress(0.1, desc=f"sampling {n} {space.name} cells")
        samples = generator.generate(
            n,
            batch_size=max(n, 64),
            temperature=float(temperature),
            constrained=constrained,
            seed=None if seed is None else int(seed),
        )
        rows, cells, titles = [], [], []
        for i, sample in progress.tqdm(list(enumerate(samples)), desc="building the networks"):
            parameters = None
            if sample["valid"]:
                cell = space.from_native(sample["cell"])
                parameters = int(num_parameters(space.to_module(cell)))
                cells.append(cell)
                titles.append(f"#{i}")
            native = sample["cell"]
            cell_text = "" if native is None else native if isinstance(native, str) else json.dumps(native)
            rows.append(
                [i, cell_text, sample["id"] or "", sample["valid"], parameters, sample["reason"] or ""]
            )
        sampled = preset(space.name).num_cells  # a sampled training set is drawn on the space's first batch
        first_time = f"scoring (the first time: {sampled:,} training cells)" if sampled else "scoring"
        progress(0.7, desc=first_time)
        valid_ids = [s["id"] for s in samples if s["valid"]]
        scores = score_samples(samples, train_ids=_training_ids(space, valid_ids), space=space)
        progress(0.8, desc="drawing")
        sheet = contact_sheet(space, cells, titles=titles) if cells else None
        sheet_image = _png_to_pil(figure_png(sheet, dpi=100)) if sheet is not None else None
        gallery = [(cell_to_image(space, cell, dpi=100), title) for cell, title in zip(cells, titles)]
        summary = (
            f"**{space.name}**, {n} samples: validity **{scores['validity']:.0%}**, "
            f"uniqueness **{scores['uniqueness']:.0%}**, novelty **{scores['novelty']:.0%}** "
            f"(distinct valid cells not in the training split)"
        )
        return sheet_image, gallery, pd.DataFrame(rows, columns=empty.columns), summary
    except DemoError as err:
        return None, [], empty, _message(str(err))
    except Exception as err:  # noqa: BLE001  the page shows every failure as a message, never a traceback
        return None, [], empty, _message(f"{type(err).__name__}: {err}")


def _png_to_pil(data: bytes) -> Any:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


class _Watched(Oracle):
    """An oracle that records every new evaluation, so the page can plot a search while it runs."""

    def __init__(self, inner: Oracle):
        super().__init__(inner.space, inner.objective, inner.report)
        self.inner, self.values = inner, []  # type: ignore[var-annotated]

    def query(self, cell: Any) -> Evaluation:
        evaluation = self.inner.query(cell)
        self.values.append(evaluation.objective)
        return evaluation

    def reset(self) -> None:
        self.inner.reset()
        self.values = []

    def candidates(self) -> list[Any] | None:
        return self.inner.candidates()

    def contains(self, cell_id: str) -> bool:
        return self.inner.contains(cell_id)

    def _evaluate(self, cell_id: str, cell: Any) -> Evaluation:  # query() is delegated whole
        raise NotImplementedError


def _oracle(table: str | None, objective: str | None, proxy: str) -> Oracle:
    space = get_space("nb201")
    if table:
        try:
            metrics = load_metric_table(space, table)
        except (ValueError, OSError, KeyError, UnicodeDecodeError) as err:
            raise DemoError(_not_a_table(table, err)) from None
        columns = metrics.columns
        if not columns:
            raise DemoError(f"{Path(table).name} has no metric columns")
        column = objective if objective in columns else columns[0]
        try:
            return TableOracle(space, metrics, column)
        except ValueError as err:
            raise DemoError(str(err)) from None
    return ProxyOracle(space, proxy)


def _not_a_table(table: str, err: Exception) -> str:
    name = Path(table).name
    return f"{name} is not a NAS-Bench-201 metrics table: {str(err).replace(str(table), name)}"


def table_columns(table: str | None) -> Any:
    """The objective choices of an uploaded table (a message when it is no metrics table)."""
    if not table:
        return gr.update(choices=[], value=None)
    try:
        columns = load_metric_table(get_space("nb201"), table).columns
    except Exception as err:  # noqa: BLE001
        gr.Warning(_not_a_table(table, err))
        return gr.update(choices=[], value=None)
    return gr.update(choices=columns, value=columns[0] if columns else None)


def search(
    table: str | None,
    objective: str | None,
    proxy: str,
    searchers: list[str],
    budget: float,
    prior: str,
    seed: float,
) -> Iterator[tuple[Any, str | None, str]]:
    """Run each chosen searcher in turn, yielding the best-so-far curves as they fill in, then
    history.jsonl."""
    curves = _with_curve(pd.DataFrame(columns=_CURVE_COLUMNS), "", [])
    try:
        if not searchers:
            raise DemoError("choose at least one searcher")
        if budget is None or int(budget) != budget or budget < 1:
            raise DemoError(f"the budget must be a whole number of queries, at least 1; got {budget}")
        if "ours (generative)" in searchers and not (prior or "").strip():
            raise DemoError("ours (generative) needs an NB201 prior: a folder or a Hub repo id")
        oracle = _Watched(_oracle(table, objective, proxy))
        results: list[SearchResult] = []
        for label in searchers:
            algorithm = SEARCHERS[label]
            # The demo ranks ours' proposals with the code predictor: it answers in seconds, where the default
            # graph predictor first measures the proxies of all 15,625 NB201 cells (about 45 CPU-minutes).
            options = {"prior": prior.strip(), "predictor": "code"} if algorithm == "generative" else {}
            searcher = make_searcher(algorithm, **options)
            outcome: dict[str, Any] = {}

            def run(searcher: Any = searcher, outcome: dict[str, Any] = outcome) -> None:
                try:
                    outcome["result"] = searcher.search(oracle, int(budget), seed=int(seed or 0))
                except Exception as err:  # noqa: BLE001  reported in the page below
                    outcome["error"] = err

            worker = threading.Thread(target=run, daemon=True)
            worker.start()
            while worker.is_alive():
                worker.join(0.5)
                live = _with_curve(curves, label, oracle.values)
                yield _figure(live, oracle.objective), None, f"running {label}: {len(oracle.values)} queries"
            if "error" in outcome:
                raise DemoError(f"{label}: {type(outcome['error']).__name__}: {outcome['error']}")
            results.append(outcome["result"])
            curves = _with_curve(curves, label, [r["objective"] for r in outcome["result"].history])
        out = Path(tempfile.mkdtemp(prefix="archllm-search-")) / "history.jsonl"
        atomic_write_jsonl(
            out, [{"algorithm": r.algorithm, **record} for r in results for record in r.history]
        )
        best = "; ".join(
            f"{label}: best {r.objective} {r.best['objective']:.4g}" for label, r in zip(searchers, results)
        )
        yield _figure(curves, oracle.objective), str(out), f"done ({int(budget)} queries each). {best}"
    except DemoError as err:
        yield None, None, _message(str(err))
    except Exception as err:  # noqa: BLE001
        yield None, None, _message(f"{type(err).__name__}: {err}")


def _figure(curves: pd.DataFrame, objective: str) -> Any:
    """The best-so-far curve of each searcher (a matplotlib figure; gr.LinePlot keeps the series of its first
    value only)."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(8, 3.6), layout="constrained")
    axes = figure.add_subplot()
    for label, colour in zip(SEARCHERS, ("#d62728", "#1f77b4", "#7f7f7f")):
        curve = curves[curves["searcher"] == label]
        if len(curve):
            axes.plot(curve["query"], curve["best"], label=label, color=colour, drawstyle="steps-post")
    axes.set_xlabel("queries")
    axes.set_ylabel(f"best {objective}")
    axes.grid(alpha=0.3)
    if len(curves):
        axes.legend(loc="lower right")
    return figure


def _with_curve(curves: pd.DataFrame, label: str, values: Sequence[float]) -> pd.DataFrame:
    """``curves`` and the best-so-far curve of ``values`` (the objectives in query order) under ``label``."""
    points, best = curves.to_dict("records"), float("-inf")
    for step, value in enumerate(list(values), start=1):
        best = max(best, float(value))
        points.append({"query": step, "best": best, "searcher": label})
    return pd.DataFrame(points, columns=_CURVE_COLUMNS).astype({"query": int, "best": float})


def build_demo(priors: Mapping[str, str] | None = None, search_prior: str | None = None) -> gr.Blocks:
    """The demo's page. ``priors``: the checkpoint offered for each space (default :func:`default_priors`);
    ``search_prior``: the NB201 prior of ours in the Search tab (default: the NB201 one of ``priors``)."""
    priors = dict(default_priors() if priors is None else priors)
    search_prior = search_prior or priors.get("nb201", "")
    with gr.Blocks(title="archllm-hf demo") as demo:
        gr.Markdown(
            "# archllm-hf\nA VQ-VAE turns NAS cells into short code strings; a language model over the codes "
            "generates new cells (NAS-Bench-101, NAS-Bench-201, DARTS)."
        )
        with gr.Tab("Generate"):
            with gr.Row():
                prior = gr.Dropdown(
                    list(priors.values()),
                    value=next(iter(priors.values()), None),
                    allow_custom_value=True,
                    label="prior (a space's checkpoint, or type a folder / Hub repo id)",
                    elem_id="prior",
                )
                count = gr.Slider(1, MAX_SAMPLES, value=8, step=1, label="samples", elem_id="num-samples")
                temperature = gr.Slider(0.1, 2.0, value=0.75, step=0.05, label="temperature")
                constrained = gr.Checkbox(value=True, label="constrained decoding")
                generate_seed = gr.Number(value=0, label="seed", precision=0, elem_id="generate-seed")
            run_generate = gr.Button("Generate", variant="primary", elem_id="generate")
            scores = gr.Markdown(elem_id="scores")
            sheet = gr.Image(label="contact sheet", type="pil", elem_id="sheet")
            gallery = gr.Gallery(
                label="cells", columns=4, height="auto", object_fit="contain", elem_id="cells"
            )
            table = gr.Dataframe(
                label="samples", elem_id="samples", column_widths=["4%", "38%", "30%", "7%", "10%", "11%"]
            )
            run_generate.click(
                generate,
                [prior, count, temperature, constrained, generate_seed],
                [sheet, gallery, table, scores],
            )
        with gr.Tab("Search (NB201)"):
            with gr.Row():
                metrics = gr.File(
                    label="metrics table (.csv / .json); none: data-free proxy",
                    type="filepath",
                    elem_id="metrics",
                )
                objective = gr.Dropdown([], label="objective column", allow_custom_value=False)
                proxy = gr.Dropdown(list(PROXIES), value="params", label="proxy (without a table)")
            with gr.Row():
                chosen = gr.CheckboxGroup(
                    list(SEARCHERS), value=list(SEARCHERS), label="searchers", elem_id="searchers"
                )
                budget = gr.Number(value=20, label="budget (queries)", precision=0, elem_id="budget")
                seed = gr.Number(value=0, label="seed", precision=0)
                search_prior_box = gr.Textbox(search_prior, label="prior of ours (NB201)")
            run_search = gr.Button("Search", variant="primary", elem_id="search")
            status = gr.Markdown(elem_id="status")
            plot = gr.Plot(label="best so far", elem_id="curves")
            history = gr.File(label="history.jsonl", elem_id="history")
            metrics.change(table_columns, metrics, objective)
            run_search.click(
                search,
                [metrics, objective, proxy, chosen, budget, search_prior_box, seed],
                [plot, history, status],
            )
    return demo


if __name__ == "__main__":
    build_demo().queue().launch()
