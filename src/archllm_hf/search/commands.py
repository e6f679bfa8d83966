"""What ``archllm search`` and ``archllm train-predictor`` do, as functions."""

from __future__ import annotations

import json
import random
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from ..presets import PREDICTOR_KINDS
from ..spaces import get_space
from ..utils import atomic_write_json, atomic_write_jsonl, check_output_folder, folder_lock
from . import make_searcher
from .base import SearchResult, check_search_seed
from .oracles import Oracle, ProxyOracle, TableOracle


SEARCH_INFO = "search.json"
"""The identity of the search an output folder holds (algorithm, space, seed, oracle, models); budget aside."""
_RUN_FILES = ("history.jsonl", "summary.json", "curve.png", SEARCH_INFO)


def run_search(
    space: str,
    metrics: Sequence[str | Path] | None,
    objective: str | None,
    algorithm: str,
    budget: int,
    out: str | Path,
    report: str | None = None,
    prior: str | Path | None = None,
    vgae: str | Path | None = None,
    seed: int = 0,
    device: str | None = None,
    progress: bool = True,
    proxy: str | None = None,
    overwrite: bool = False,
    predictor: str = "graph",
    proxy_cache: str | Path | None = None,
) -> SearchResult:
    """Search ``space`` with a table oracle over ``metrics`` (maximising the column ``objective``), or with the
    data-free ``proxy`` of each cell's network (``params``, ``flops``, ``synflow``, ...; SynFlow's objective is its
    ``log10``, the column ``log10_synflow``: see :class:`~archllm_hf.search.oracles.ProxyOracle`), and write
    ``out/history.jsonl``, ``out/summary.json`` and ``out/curve.png``.

    The output folder is checked before any work and locked while the search runs (a second search into it is
    refused). ``history.jsonl`` grows as the queries happen (one flushed line each), so an interrupted search keeps
    its queries; running the same search (same settings and seed) again resumes it: the recorded queries are
    repeated from the file and checked, then the search goes on. A folder holding another search (another seed,
    algorithm, oracle, ...) is refused unless ``overwrite``, which starts afresh.

    ``predictor`` ranks the generative searcher's proposals (:func:`~archllm_hf.search.make_searcher`; ours, the
    graph predictor, measures the space's proxies into ``proxy_cache`` on first use).
    """
    if proxy is not None and (metrics or objective is not None or report is not None):
        raise ValueError("a proxy search uses no table: leave out metrics, objective and report")
    if proxy is None and (not metrics or objective is None):
        raise ValueError("search with metrics files and an objective column, or with a proxy: one of the two")
    from ..networks.proxies import proxy_objective

    check_search_seed(seed)
    out = check_output_folder(out)
    identity = {
        "algorithm": algorithm,
        "space": space,
        "seed": seed,
        "objective": objective if proxy is None else proxy_objective(proxy),
        "report": report,
        "proxy": proxy,
        "metrics": [Path(m).name for m in metrics or ()],
        "prior": None if prior is None else str(prior),
        "vgae": None if vgae is None else str(vgae),
        "predictor": predictor if algorithm == "generative" else None,
    }
    out.mkdir(parents=True, exist_ok=True)
    with folder_lock(out):
        recorded = _recorded_history(out, identity, budget, overwrite)
        if proxy is not None:
            oracle: Oracle = ProxyOracle(get_space(space), proxy)
        else:
            oracle = TableOracle.from_files(get_space(space), metrics, objective, report)
        searcher = make_searcher(
            algorithm,
            prior=prior,
            vgae=vgae,
            device=device,
            predictor=predictor,
            proxy_cache=proxy_cache,
            progress=progress,
        )
        atomic_write_json(out / SEARCH_INFO, identity)
        with _history_log(out / "history.jsonl", recorded) as record:
            result = searcher.search(
                oracle, budget, seed=seed, progress=progress, recorder=record, replay=recorded
            )
        result.save(out)
    return result


def _recorded_history(
    out: Path, identity: dict[str, Any], budget: int, overwrite: bool
) -> list[dict[str, Any]]:
    """The queries an earlier run of this same search left in ``out`` (to resume), after the checks; with
    ``overwrite``, the earlier run's files are removed and nothing is resumed."""
    present = [name for name in _RUN_FILES if (out / name).exists()]
    if overwrite or not present:
        for name in present:
            (out / name).unlink()
        return []
    info_path = out / SEARCH_INFO
    earlier = None
    if info_path.is_file():
        try:
            earlier = json.loads(info_path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError):
            earlier = None
    if isinstance(earlier, dict):  # a setting an older version did not record had its default, None
        earlier = {**dict.fromkeys(identity), **earlier}
    if earlier != identity:
        differs = (
            sorted(k for k in {*identity, *earlier} if earlier.get(k) != identity.get(k))
            if isinstance(earlier, dict)
            else []
        )
        what = f" (it differs in {', '.join(differs)})" if differs else ""
        raise FileExistsError(
            f"{out} holds another search's results{what}; choose another --out, or pass --overwrite to replace "
            "them"
        )
    history = _read_history(out / "history.jsonl")
    if len(history) > budget:
        raise ValueError(
            f"{out} already holds {len(history):,} queries of this search; a budget of {budget:,} would drop "
            "some: give a budget of at least that, or --overwrite"
        )
    return history


def _read_history(path: Path) -> list[dict[str, Any]]:
    """The complete records of a history file; a last line cut short by an interruption is dropped."""
    if not path.is_file():
        return []
    lines = path.read_text(encoding="utf-8").split("\n")
    records = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            if number == len(lines):  # no newline after it: the write was interrupted
                break
            raise ValueError(
                f"{path}:{number}: not a history record; pass --overwrite to start afresh"
            ) from None
        if not (
            isinstance(record, dict)
            and record.get("step") == len(records) + 1
            and isinstance(record.get("id"), str)
            and isinstance(record.get("objective"), (int, float))
        ):
            raise ValueError(
                f"{path}:{number}: not record {len(records) + 1} of a search history; pass --overwrite"
            )
        records.append(record)
    return records


@contextmanager
def _history_log(path: Path, recorded: list[dict[str, Any]]) -> Iterator[Callable[[dict[str, Any]], None]]:
    """A function appending one record to ``path`` as a flushed line; the file starts as the recorded records."""
    atomic_write_jsonl(path, recorded)
    with path.open("a", encoding="utf-8") as handle:

        def record(row: dict[str, Any]) -> None:
            handle.write(json.dumps(row) + "\n")
            handle.flush()

        yield record


def default_proxy_cache(space: str) -> Path:
    """Where the proxies of a space's cells are cached unless a command is told otherwise."""
    from huggingface_hub import constants

    return Path(constants.HF_HOME) / "archllm_hf" / f"proxies-{space}.jsonl"


def make_predictor(
    kind: str,
    space: str | None = None,
    prior: str | Path | None = None,
    proxy_cache: str | Path | None = None,
    work: str | Path | None = None,
    device: str | None = None,
    progress: bool = False,
) -> Any:
    """An unfitted predictor of ``kind`` (:data:`PREDICTOR_KINDS`): ``code`` kinds read ``prior``'s codes, the
    others ``space``'s graphs; ours pretrains on the space's proxies (measured into ``proxy_cache``, once) and
    keeps the pretrained weights in ``work`` when given."""
    from .graph_predictor import build_graph_predictor
    from .predictors import ArchPredictor, GINPredictor, ProxyMLPPredictor

    if kind not in PREDICTOR_KINDS:
        raise ValueError(f"unknown predictor {kind!r}; choose from {', '.join(PREDICTOR_KINDS)}")
    if kind.startswith("code"):
        if prior is None:
            raise ValueError(f"the {kind} predictor reads a prior's codes: give prior")
        return ArchPredictor.from_prior(prior, pretrained=kind == "code", device=device)
    if space is None:
        raise ValueError(f"the {kind} predictor needs the search space")
    search_space = get_space(space)
    if kind == "gin":
        return GINPredictor(search_space)
    cache = Path(proxy_cache) if proxy_cache is not None else default_proxy_cache(space)
    pretrained_dir = Path(work) / f"graph-pretrained-{space}" if work is not None else None
    ours = build_graph_predictor(
        search_space, cache, pretrained=kind == "graph", pretrained_dir=pretrained_dir, progress=progress
    )
    if kind.startswith("graph"):
        return ours
    if kind == "gin_proxies":
        return GINPredictor(search_space, features=ours.features)
    return ProxyMLPPredictor(ours.features)


def train_predictor(
    metrics: Sequence[str | Path],
    label: str,
    out: str | Path,
    kind: str = "graph",
    space: str | None = None,
    prior: str | Path | None = None,
    num_cells: int | None = None,
    seed: int = 0,
    proxy_cache: str | Path | None = None,
    device: str | None = None,
    progress: bool = False,
) -> dict[str, Any]:
    """Fit a predictor (:func:`make_predictor`) on the ``label`` column of ``metrics`` and save it to ``out``.

    ``num_cells`` trains on that many random cells of the table (seeded) and reports Kendall τ and Spearman ρ on
    the rest; None trains on every cell. Returns the summary also written to ``out/predictor_summary.json``.
    """
    from scipy.stats import kendalltau, spearmanr

    predictor = make_predictor(kind, space, prior, proxy_cache, Path(out).parent, device, progress)
    oracle = TableOracle.from_files(predictor.space, metrics, label)
    cells = oracle.candidates()
    if num_cells is not None and not 2 <= num_cells <= len(cells):
        raise ValueError(
            f"num_cells must be in [2, {len(cells):,}] (the table's cells with {label}), got {num_cells}"
        )
    order = list(range(len(cells)))
    random.Random(seed).shuffle(order)
    train = order[: num_cells or len(cells)]
    test = order[len(train) :]

    def labels(rows: list[int]) -> np.ndarray:
        return np.array([oracle.value(predictor.space.canonical_id(cells[i]), label) for i in rows])

    predictor.config.seed = seed
    predictor.fit([cells[i] for i in train], labels(train))
    predictor.save_pretrained(out)
    summary: dict[str, Any] = {
        "predictor": predictor.name,
        "space": predictor.space.name,
        "label": label,
        "num_train_cells": len(train),
        "seed": seed,
    }
    if test:
        predicted = predictor.predict([cells[i] for i in test])
        truth = labels(test)
        summary.update(
            num_test_cells=len(test),
            kendall_tau=float(kendalltau(predicted, truth)[0]),
            spearman_rho=float(spearmanr(predicted, truth)[0]),
        )
    atomic_write_json(Path(out) / "predictor_summary.json", summary)
    return summary


def read_cells(path: str | Path, space: Any) -> list[Any]:
    """The cells of a file: one per line, either the space's text form or a JSON object whose ``"cell"`` holds it
    (what ``archllm generate`` writes). Blank lines are skipped; a line the space rejects is an error naming it."""
    from ..errors import InvalidCellError

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"cells file not found: {path}")
    cells = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as err:
        raise ValueError(f"{path} is not UTF-8 text ({err.reason} at byte {err.start})") from None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        text = line.strip()
        if text.startswith("{") and '"cell"' in text:
            try:
                native = json.loads(text)["cell"]
            except (json.JSONDecodeError, KeyError):
                raise ValueError(f'{path}:{number}: not a JSON object with a "cell"') from None
            text = native if isinstance(native, str) else json.dumps(native)
        try:
            cells.append(space.check(space.parse(text)))
        except InvalidCellError as err:
            raise InvalidCellError(f"{path}:{number}: {err}") from None
    if not cells:
        raise ValueError(f"{path} holds no cells")
    return cells


def predict_cells(
    predictor_path: str | Path,
    cells_path: str | Path,
    space: str | None = None,
    proxy_cache: str | Path | None = None,
    device: str | None = None,
) -> list[dict[str, Any]]:
    """``{"cell", "id", "prediction"}`` for every cell of ``cells_path`` (:func:`read_cells`), in order, from the
    saved predictor at ``predictor_path`` (a folder or a Hub repo id)."""
    from .predictors import load_predictor

    predictor = load_predictor(predictor_path, space=space, proxy_cache=proxy_cache, device=device)
    if proxy_cache is None and getattr(predictor, "features", None) is not None:
        predictor.features.cache = default_proxy_cache(predictor.space.name)
    cells = read_cells(cells_path, predictor.space)
    values = predictor.predict(cells)
    return [
        {
            "cell": predictor.space.format(cell),
            "id": predictor.space.canonical_id(cell),
            "prediction": float(value),
        }
        for cell, value in zip(cells, values)
    ]


__all__ = [
    "PREDICTOR_KINDS",
    "default_proxy_cache",
    "make_predictor",
    "predict_cells",
    "read_cells",
    "run_search",
    "train_predictor",
]
