"""Scores of generated architectures: validity, uniqueness, novelty, and their isomorphism variants.

:func:`score_cells` is the one judge of generated cells: it parses each cell's text with the space, applies the
space's validity rules, computes canonical and isomorphism ids itself, and counts them with
:func:`score_generation`. Every scorer goes through it: the ``evaluate`` metric's space configs
(``evaluate.load(METRIC_PATH, "nb201")``, likewise ``nb101`` and ``darts``), :func:`score_samples` given a space
(the main job, ``archllm generate``, the benchmarks) and :func:`score_jsonl` (``archllm evaluate``). What a sample
record says about itself (``valid``, ``id``) is not trusted. The metric's ``ids`` config (``default``) keeps the
older id-based scoring: the caller decides validity and ids, :func:`score_generation` only counts.

Outputs, with ``N`` = samples generated, ``V`` = valid samples, ``U`` = distinct canonical ids among the valid
samples and ``K`` = those of the ``U`` ids that are not training ids:

===========================  =========  ======================================================================
key                          value      meaning
===========================  =========  ======================================================================
``num_generated``            ``N``      samples scored
``num_valid``                ``V``      samples flagged valid
``num_unique_valid``         ``U``      distinct canonical ids among the valid samples
``validity``                 ``V / N``  share of the samples that are valid
``uniqueness``               ``U / V``  share of the valid samples that are distinct
``valid_unique_rate``        ``U / N``  distinct valid architectures per sample (the papers' headline number);
                                        equals ``validity * uniqueness``
``num_novel``                ``K``      distinct valid ids not in the training ids       (only with train ids)
``novelty``                  ``K / U``  share of the distinct valid ids that are new     (only with train ids)
``valid_unique_novel_rate``  ``K / N``  distinct valid new architectures per sample      (only with train ids)
===========================  =========  ======================================================================

With per-sample isomorphism-class ids (NAS-Bench-201's unique string; see
:meth:`archllm_hf.spaces.SearchSpace.isomorphism_id`) the same counts and rates are computed over classes
instead of canonical ids, under the same names with an ``_iso`` suffix: ``num_unique_valid_iso`` (``U_iso``),
``uniqueness_iso`` (``U_iso / V``), ``valid_unique_rate_iso`` (``U_iso / N``) and, when the training set's
class ids are given too, ``num_novel_iso`` (``K_iso``), ``novelty_iso`` (``K_iso / U_iso``) and
``valid_unique_novel_rate_iso`` (``K_iso / N``).

Two rules decide validity and uniqueness (``rule=``, in :func:`score_cells`, :func:`score_samples`,
:func:`score_jsonl` and :func:`score_graphs`):

* ``"strict"`` (ours, the default): a sample is valid iff it is exactly a cell of the space (a decoded graph must
  be the space's graph encoding of a valid cell, :meth:`~archllm_hf.spaces.SearchSpace.decode_graph`); distinct
  means a distinct canonical id (the official NB101 hash of the pruned cell, the NB201 arch string, ...).
* ``"arch2vec"`` (arch2vec's code, lenient, as published): validity by
  :func:`archllm_hf.spaces.arch2vec_rules.arch2vec_valid` (NB201: node labels only, node 1 unchecked, adjacency
  ignored; NB101: nasbench's ``is_valid`` after pruning; DARTS: its ``is_valid_darts``), distinct by
  :func:`~archllm_hf.spaces.arch2vec_rules.arch2vec_graph_hash` of the *unpruned* graph. arch2vec computes
  neither novelty nor isomorphism classes, so under this rule those keys are absent (training ids are not used).
  Its verdict needs the decoded graph: :func:`score_graphs` takes graphs, a sample record may carry its raw
  ``graph`` (``{"adjacency", "ops"}``); a cell given as text or native form is judged on its graph encoding, and
  one the space rejects has none, so it counts invalid.

Conventions:

* A rate whose denominator is 0 (nothing generated, nothing valid) is ``0.0``, never NaN or an error.
* Keys that cannot be computed (novelty without training ids, ``_iso`` keys without isomorphism ids) are
  **absent** rather than None, so every value in the result is a number and the dict can go straight to a
  logger.
* Ids of invalid samples are ignored; a sample flagged valid must have a non-empty id.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from importlib import resources
from os import PathLike
from pathlib import Path
from typing import Any, Literal

import numpy as np

from .spaces import DecodedCell, SearchSpace, resolve_space
from .spaces.arch2vec_rules import arch2vec_graph_hash, arch2vec_valid

METRIC_NAME = "arch_generation"
METRIC_PATH: str = str(resources.files("archllm_hf") / "metrics" / METRIC_NAME)
"""Folder of the ``evaluate`` metric wrapping :func:`score_generation`: ``evaluate.load(METRIC_PATH)``."""

Scores = dict[str, float | int]
Rule = Literal["strict", "arch2vec"]
RULES: tuple[str, ...] = ("strict", "arch2vec")
"""Validity / uniqueness rules: ours (strict) and arch2vec's (lenient); see the module docstring."""


def score_generation(
    ids: Iterable[str | None],
    valid: Iterable[bool] | None = None,
    *,
    train_ids: Iterable[str] | None = None,
    isomorphism_ids: Iterable[str | None] | None = None,
    train_isomorphism_ids: Iterable[str] | None = None,
) -> Scores:
    """Validity, uniqueness and novelty of generated samples (see the module docstring for every key).

    Args:
        ids: one canonical id per generated sample; None or ``""`` for an invalid sample.
        valid: one validity flag per sample; default: a sample is valid iff its id is not None/empty.
        train_ids: canonical ids of the training set (any iterable of str); enables the novelty keys.
        isomorphism_ids: one isomorphism-class id per sample (ignored for invalid samples); enables the
            ``_iso`` keys.
        train_isomorphism_ids: class ids of the training set; with ``isomorphism_ids``, enables
            ``num_novel_iso``, ``novelty_iso`` and ``valid_unique_novel_rate_iso``.

    Raises:
        ValueError: the per-sample inputs differ in length, a valid sample has no id (or no isomorphism id),
            one canonical id comes with two isomorphism ids, or ``train_isomorphism_ids`` comes without
            ``isomorphism_ids``.
        TypeError: an id is not a str/None, a flag is not a bool, or a training-id argument is a single str.
    """
    ids = list(ids)
    n = len(ids)
    has_id = [_has_id(sample_id, "ids", k) for k, sample_id in enumerate(ids)]
    flags = has_id if valid is None else _flags(valid, n)
    for k, (present, ok) in enumerate(zip(has_id, flags)):
        if ok and not present:
            raise ValueError(f"sample {k} is flagged valid but has no id")

    valid_ids = {sample_id for sample_id, ok in zip(ids, flags) if ok}
    num_valid = sum(flags)
    scores: Scores = {"num_generated": n, "num_valid": num_valid, "num_unique_valid": len(valid_ids)}
    scores.update(_rates(len(valid_ids), num_valid, n, ""))
    if train_ids is not None:
        scores.update(_novelty(valid_ids, _id_set(train_ids, "train_ids"), n, ""))

    if isomorphism_ids is None:
        if train_isomorphism_ids is not None:
            raise ValueError("train_isomorphism_ids needs isomorphism_ids (one per generated sample)")
        return scores
    iso = list(isomorphism_ids)
    if len(iso) != n:
        raise ValueError(f"isomorphism_ids has {len(iso)} entries but there are {n} samples (ids)")
    classes = _classes(ids, flags, iso)
    scores["num_unique_valid_iso"] = len(classes)
    scores.update(_rates(len(classes), num_valid, n, "_iso"))
    if train_isomorphism_ids is not None:
        scores.update(_novelty(classes, _id_set(train_isomorphism_ids, "train_isomorphism_ids"), n, "_iso"))
    return scores


def score_cells(
    cells: Iterable[Any],
    space: SearchSpace | str,
    *,
    train_ids: Iterable[str] | None = None,
    train_cells: Iterable[Any] | None = None,
    train_isomorphism_ids: Iterable[str] | None = None,
    isomorphism: bool | None = None,
    rule: Rule = "strict",
) -> Scores:
    """Scores of generated cells judged by ``space``: each cell is parsed (its text, or its JSON-ready native
    form) and validated, and its canonical and isomorphism ids are computed here.

    Args:
        cells: one cell per generated sample (``space.parse`` text, a native form such as NB101's
            ``{"matrix", "ops"}``, or None for a sample without a cell, which counts as invalid).
        space: the search space (or its name) whose rules decide validity.
        train_ids: canonical ids of the training set; enables the novelty keys.
        train_cells: the training cells themselves (text or native form), an alternative to ``train_ids`` (and
            to ``train_isomorphism_ids``); an invalid training cell is an error.
        train_isomorphism_ids: isomorphism-class ids of the training set.
        isomorphism: compute the ``_iso`` keys (default: the space has isomorphism classes coarser than its
            canonical ids, as NB201 has).
        rule: ``"strict"`` (ours) or ``"arch2vec"`` (its lenient rule, on each cell's graph encoding; the
            training and isomorphism arguments are then unused, see the module docstring).

    Raises:
        ValueError: both ``train_ids`` and ``train_cells`` are given, a training cell is not valid, or ``rule``
            is unknown.
    """
    space = resolve_space(space)
    _check_rule(rule)
    isomorphism = space.has_isomorphism_classes if isomorphism is None else isomorphism
    decoded = [space.decode_native(cell) for cell in cells]
    if rule == "arch2vec":
        return _score_arch2vec(space, [_encoding(space, result) for result in decoded])
    if train_cells is not None:
        if train_ids is not None:
            raise ValueError("give train_ids or train_cells, not both")
        if isinstance(train_cells, str):
            raise TypeError("train_cells must be an iterable of cells, not a single str")
        train = []
        for k, cell in enumerate(train_cells):
            result = space.decode_native(cell)
            if not result.valid:
                raise ValueError(f"train_cells[{k}] is not a valid {space.name} cell: {result.reason}")
            train.append(result)
        train_ids = [result.id for result in train]
        if isomorphism and train_isomorphism_ids is None:
            train_isomorphism_ids = [_isomorphism_id(space, result) for result in train]
    return _score_decoded(space, decoded, train_ids, train_isomorphism_ids, isomorphism)


def score_samples(
    samples: Iterable[dict[str, Any]],
    train_ids: Iterable[str] | None = None,
    train_isomorphism_ids: Iterable[str] | None = None,
    isomorphism: bool | None = None,
    *,
    space: SearchSpace | str | None = None,
    rule: Rule = "strict",
) -> Scores:
    """Scores of sample records (what the samplers of :mod:`archllm_hf.generation` and ``archllm generate`` emit).

    With ``space`` (what every caller in the package passes), each record's ``cell`` is judged again by
    :func:`score_cells`; its ``valid``, ``id`` and ``isomorphism_id`` are ignored. Without it, the record's own
    ``id``, ``valid`` and ``isomorphism_id`` are counted as given (the metric's id-based ``ids`` config).

    The ``_iso`` keys are computed when ``isomorphism`` is true, which it is by default for a space whose
    isomorphism classes are coarser than its canonical ids (NB201; elsewhere they would repeat the plain keys), or,
    without ``space``, when ``train_isomorphism_ids`` is given.

    ``rule="arch2vec"`` (needs ``space``) judges each record's raw ``graph`` (``{"adjacency", "ops"}``, the graph
    a decoder emitted) when it has one, else its ``cell``'s graph encoding, by arch2vec's lenient rule.
    """
    samples = list(samples)
    _check_rule(rule)
    if rule == "arch2vec":
        if space is None:
            raise ValueError("rule='arch2vec' judges graphs and needs the space")
        space = resolve_space(space)
        graphs = []
        for k, sample in enumerate(samples):
            if sample.get("graph") is not None:
                graphs.append(_raw_graph(sample["graph"], space, f"sample {k}"))
            elif "cell" in sample:
                graphs.append(_encoding(space, space.decode_native(sample["cell"])))
            else:
                raise ValueError(f'sample {k} has neither a "graph" nor a "cell" to judge')
        return _score_arch2vec(space, graphs)
    if space is not None:
        for k, sample in enumerate(samples):
            if "cell" not in sample:
                raise ValueError(f'sample {k} has no "cell" to judge (null for a sample without one)')
        return score_cells(
            [sample["cell"] for sample in samples],
            space,
            train_ids=train_ids,
            train_isomorphism_ids=train_isomorphism_ids,
            isomorphism=isomorphism,
        )
    isomorphism = train_isomorphism_ids is not None if isomorphism is None else isomorphism
    return score_generation(
        [s["id"] for s in samples],
        [s["valid"] for s in samples],
        train_ids=train_ids,
        isomorphism_ids=[s.get("isomorphism_id") for s in samples] if isomorphism else None,
        train_isomorphism_ids=train_isomorphism_ids,
    )


def _raw_graph(graph: Any, space: SearchSpace, where: str) -> tuple[np.ndarray, np.ndarray]:
    """A record's raw ``graph`` as (adjacency, ops) arrays, or a ``ValueError`` that says where and what is wrong:
    it must be ``{"adjacency": N x N integers, "ops": N integers}`` with N the space's node count."""
    n = space.num_nodes
    expected = f'{{"adjacency": {n} x {n} integers, "ops": {n} integers}}'
    if not isinstance(graph, dict) or not {"adjacency", "ops"} <= set(graph):
        raise ValueError(f'{where}: "graph" must be {expected}')
    try:
        adjacency = np.asarray(graph["adjacency"], dtype=np.int64)
        ops = np.asarray(graph["ops"], dtype=np.int64)
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f'{where}: "graph" must be {expected}') from None
    if adjacency.shape != (n, n) or ops.shape != (n,):
        raise ValueError(
            f'{where}: "graph" must be {expected}; got adjacency {adjacency.shape} and ops {ops.shape}'
        )
    return adjacency, ops


def score_graphs(
    adjacency: Any,
    ops: Any,
    space: SearchSpace | str,
    *,
    rule: Rule = "strict",
    train_ids: Iterable[str] | None = None,
    train_isomorphism_ids: Iterable[str] | None = None,
    isomorphism: bool | None = None,
) -> Scores:
    """Scores of decoded graphs (``adjacency [S, N, N]``, ``ops [S, N]`` label ids of the space's graph encoding,
    as a graph decoder emits them before any check) under ``rule``.

    ``"strict"`` decodes each with :meth:`~archllm_hf.spaces.SearchSpace.decode_graphs` and counts as
    :func:`score_cells` does (novelty and ``_iso`` keys as there); ``"arch2vec"`` applies arch2vec's lenient rule
    and its unpruned-graph hash (module docstring).

    Raises:
        ValueError: the two batches differ in length, a graph has the wrong shape, or ``rule`` is unknown.
    """
    space = resolve_space(space)
    _check_rule(rule)
    adjacency, ops = np.asarray(adjacency), np.asarray(ops)
    if len(adjacency) != len(ops):
        raise ValueError(f"got {len(adjacency)} adjacency matrices but {len(ops)} op vectors")
    if rule == "arch2vec":
        return _score_arch2vec(space, list(zip(adjacency, ops)))
    decoded = space.decode_graphs(adjacency, ops) if len(ops) else []
    isomorphism = space.has_isomorphism_classes if isomorphism is None else isomorphism
    return _score_decoded(space, decoded, train_ids, train_isomorphism_ids, isomorphism)


def training_reference(space: SearchSpace, train_split: Any) -> dict[str, set[str] | None]:
    """``train_ids`` (and, for a space with isomorphism classes, ``train_isomorphism_ids``) of a cells-dataset
    split, as keyword arguments of :func:`score_samples`."""
    columns = train_split.column_names
    iso = None
    if space.has_isomorphism_classes:
        if space.isomorphism_column in columns:
            iso = set(train_split[space.isomorphism_column])
        else:
            iso = {space.isomorphism_id(space.from_record(row)) for row in train_split}
    return {"train_ids": set(train_split["id"]), "train_isomorphism_ids": iso}


def score_jsonl(
    path: str | PathLike[str],
    space: SearchSpace | str,
    train_ids: Iterable[str] | None = None,
    train_isomorphism_ids: Iterable[str] | None = None,
    rule: Rule = "strict",
) -> Scores:
    """:func:`score_cells` of a JSONL file of generated samples (what ``archllm generate`` writes).

    Each non-blank line is a JSON object with ``"cell"``: the cell's text (or native form), or null for a sample
    without a cell. The cell is parsed and judged by ``space``; any ``"valid"``, ``"id"`` or ``"isomorphism_id"``
    the line carries is ignored (a file cannot vouch for itself). The ``_iso`` keys are computed for a space with
    isomorphism classes.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: the file holds no sample, is not UTF-8, or a line is not a JSON object with ``"cell"``; the
            message names the file (and line number).
    """
    space = resolve_space(space)
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"generated-samples file not found: {path}")
    cells: list[Any] = []
    graphs: list[Any] = []
    with path.open(encoding="utf-8") as handle:
        try:
            for lineno, line in enumerate(handle, start=1):
                if line.strip():
                    record = _parse_sample_line(line, f"{path}:{lineno}")
                    cells.append(record["cell"])
                    graph = record.get("graph")
                    if rule == "arch2vec" and graph is not None:
                        _raw_graph(graph, space, f"{path}:{lineno}")
                    graphs.append(graph)
        except UnicodeDecodeError as err:
            raise ValueError(f"{path}: not UTF-8 text ({err.reason} at byte {err.start})") from None
    if not cells:
        raise ValueError(f"{path}: no samples (the file is empty); nothing to score")
    if rule == "arch2vec":  # a line's raw "graph" (what a decoder emitted), if it has one, else its cell's
        records = [{"cell": cell, "graph": graph} for cell, graph in zip(cells, graphs)]
        return score_samples(records, space=space, rule=rule)
    return score_cells(
        cells, space, train_ids=train_ids, train_isomorphism_ids=train_isomorphism_ids, rule=rule
    )


# --- helpers -----------------------------------------------------------------------------------------


def _rate(numerator: int, denominator: int) -> float:
    return numerator / denominator if denominator else 0.0


def _rates(num_unique: int, num_valid: int, num_generated: int, suffix: str) -> Scores:
    scores: Scores = {}
    if not suffix:
        scores["validity"] = _rate(num_valid, num_generated)
    scores[f"uniqueness{suffix}"] = _rate(num_unique, num_valid)
    scores[f"valid_unique_rate{suffix}"] = _rate(num_unique, num_generated)
    return scores


def _novelty(distinct: set[str], train: set[str], num_generated: int, suffix: str) -> Scores:
    num_novel = len(distinct - train)
    return {
        f"num_novel{suffix}": num_novel,
        f"novelty{suffix}": _rate(num_novel, len(distinct)),
        f"valid_unique_novel_rate{suffix}": _rate(num_novel, num_generated),
    }


def _has_id(sample_id: object, what: str, index: int) -> bool:
    if sample_id is not None and not isinstance(sample_id, str):
        raise TypeError(f"{what}[{index}] must be a str or None, got {type(sample_id).__name__}")
    return bool(sample_id)


def _flags(valid: Iterable[bool], n: int) -> list[bool]:
    flags = list(valid)
    if len(flags) != n:
        raise ValueError(f"valid has {len(flags)} entries but there are {n} samples (ids)")
    for k, flag in enumerate(flags):
        if flag not in (True, False):  # also accepts numpy bools and 0/1
            raise TypeError(f"valid[{k}] must be a bool, got {flag!r}")
    return [bool(flag) for flag in flags]


def _id_set(train: Iterable[str], what: str) -> set[str]:
    if isinstance(train, str):
        raise TypeError(f"{what} must be an iterable of ids, not a single str")
    return set(train)


def _classes(ids: list[str | None], flags: list[bool], iso: list[str | None]) -> set[str]:
    """Distinct isomorphism ids of the valid samples, checking one class per canonical id."""
    class_of: dict[str, str] = {}
    for k, (sample_id, ok, iso_id) in enumerate(zip(ids, flags, iso)):
        if not ok:
            continue
        if not _has_id(iso_id, "isomorphism_ids", k):
            raise ValueError(f"sample {k} is valid but has no isomorphism id")
        seen = class_of.setdefault(sample_id, iso_id)  # type: ignore[arg-type]
        if seen != iso_id:
            raise ValueError(f"id {sample_id!r} comes with two isomorphism ids: {seen!r} and {iso_id!r}")
    return set(class_of.values())


def _isomorphism_id(space: SearchSpace, result: Any) -> str:
    return space.isomorphism_id(result.cell) if space.has_isomorphism_classes else result.id


def _parse_sample_line(line: str, where: str) -> dict[str, Any]:
    """One JSONL line's record (a JSON object with ``cell``)."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError as err:
        raise ValueError(f"{where}: not valid JSON ({err.msg} at column {err.colno})") from None
    except RecursionError:
        raise ValueError(f"{where}: JSON nested too deeply") from None
    if not isinstance(record, dict):
        raise ValueError(f"{where}: expected a JSON object, got {type(record).__name__}")
    if "cell" not in record:
        raise ValueError(f'{where}: missing "cell" (the cell\'s text; null for a sample without a cell)')
    return record


def _check_rule(rule: str) -> None:
    if rule not in RULES:
        raise ValueError(f"unknown rule {rule!r}; choose from {', '.join(RULES)}")


def _encoding(space: SearchSpace, result: Any) -> tuple[np.ndarray, np.ndarray] | None:
    """The graph encoding of a decoded cell, or None for a cell the space rejects (it has none)."""
    if not result.valid:
        return None
    graph = space.to_graph(result.cell)
    return graph.adjacency, graph.ops


def _score_decoded(
    space: SearchSpace,
    decoded: Sequence[DecodedCell],
    train_ids: Iterable[str] | None,
    train_isomorphism_ids: Iterable[str] | None,
    isomorphism: bool,
) -> Scores:
    """Our (strict) scores of decoded cells: their canonical ids, and isomorphism ids when ``isomorphism``."""
    return score_generation(
        [result.id if result.valid else None for result in decoded],
        [result.valid for result in decoded],
        train_ids=train_ids,
        isomorphism_ids=[_isomorphism_id(space, r) if r.valid else None for r in decoded]
        if isomorphism
        else None,
        train_isomorphism_ids=train_isomorphism_ids if isomorphism else None,
    )


def _score_arch2vec(space: SearchSpace, graphs: list[tuple[np.ndarray, np.ndarray] | None]) -> Scores:
    """arch2vec's validity and uniqueness of graphs (None: no graph, invalid), counted by :func:`score_generation`."""
    ids: list[str | None] = []
    for graph in graphs:
        valid = graph is not None and arch2vec_valid(space, *graph)
        ids.append(arch2vec_graph_hash(*graph) if valid else None)  # type: ignore[misc]
    return score_generation(ids)


__all__ = [
    "METRIC_NAME",
    "METRIC_PATH",
    "RULES",
    "Rule",
    "Scores",
    "score_cells",
    "score_generation",
    "score_graphs",
    "score_jsonl",
    "score_samples",
    "training_reference",
]
