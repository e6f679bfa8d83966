"""evaluate metric ``arch_generation``: validity, uniqueness and novelty of generated architectures.

A thin wrapper around :mod:`archllm_hf.scoring`; see that module for every output key. Configs:

* ``nb201``, ``nb101``, ``darts`` (``evaluate.load(METRIC_PATH, "nb201")``): predictions are the generated cells'
  text (what ``space.parse`` reads); the metric parses each, applies the space's validity rules and computes the
  canonical and isomorphism ids and the novelty itself (:func:`archllm_hf.scoring.score_cells`).
* ``ids`` (also ``default``) and ``isomorphism``: predictions are canonical ids chosen by the caller, ``""`` for
  an invalid sample (:func:`archllm_hf.scoring.score_generation`); the metric only counts.
"""

import datasets
import evaluate

from archllm_hf.scoring import score_cells, score_generation
from archllm_hf.spaces import SPACE_NAMES

_DESCRIPTION = """
Scores a batch of generated neural architectures (no references): validity (valid / generated), uniqueness
(distinct valid / valid), novelty (distinct valid ids not in the training ids / distinct valid), the headline
valid_unique_rate (distinct valid / generated) and, given isomorphism-class ids (NAS-Bench-201's unique
string), the same under isomorphism classes (keys ending in _iso). Rates with a zero denominator are 0.0.
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions (`list` of `str`): in a space config ("nb201", "nb101", "darts"): one generated cell per sample,
        as text (NB201 arch string, NB101 JSON, DARTS genotype), judged by the space; in the "ids" config
        (default) and "isomorphism": one canonical architecture id per sample, "" (or None) for an invalid one.
    train_cells (`list` of `str`, *optional*, space configs): the training cells as text; their ids are computed
        (alternative to train_ids and train_isomorphism_ids).
    isomorphism_ids (`list` of `str`, *optional*): one isomorphism-class id per sample ("" for invalid ones).
        A compute() keyword in the default config; a per-sample input column (usable with add/add_batch)
        in the "isomorphism" config: evaluate.load(path, "isomorphism").
    train_ids (`list` of `str`, *optional*): canonical ids of the training set; enables num_novel, novelty and
        valid_unique_novel_rate.
    train_isomorphism_ids (`list` of `str`, *optional*): isomorphism ids of the training set; enables
        num_novel_iso, novelty_iso and valid_unique_novel_rate_iso (needs isomorphism_ids).
    rule (`str`, *optional*, space configs): "strict" (ours, default) or "arch2vec" (its own lenient validity
        and uniqueness, judged on each cell's graph encoding; no novelty or _iso keys).
Returns:
    `dict`: num_generated, num_valid, num_unique_valid (counts) and validity, uniqueness, valid_unique_rate
    (floats in [0, 1]); plus the novelty keys and the _iso keys when their inputs are given.
Examples:
    >>> metric = evaluate.load(METRIC_PATH, keep_in_memory=True)
    >>> metric.compute(predictions=["a", "a", "b", ""], train_ids=["b"])["valid_unique_rate"]
    0.5
    >>> metric = evaluate.load(METRIC_PATH, "nb201", keep_in_memory=True)
    >>> metric.compute(predictions=["|none~0|+|none~0|none~1|+|none~0|none~1|none~2|", "garbage"])["validity"]
    0.5
"""

_CITATION = ""

_ID_CONFIGS = ("default", "ids", "isomorphism")
_CONFIGS = (*_ID_CONFIGS, *SPACE_NAMES)


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class ArchGeneration(evaluate.Metric):
    """Validity / uniqueness / novelty of generated architectures (predictions: cell text in a space config,
    canonical ids in the ``ids`` and ``isomorphism`` configs)."""

    def _info(self):
        if self.config_name not in _CONFIGS:
            raise ValueError(f"unknown arch_generation config {self.config_name!r}; choose from {_CONFIGS}")
        columns = {"predictions": datasets.Value("string")}
        if self.config_name == "isomorphism":
            columns["isomorphism_ids"] = datasets.Value("string")
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features(columns),
            reference_urls=[],
        )

    def _compute(
        self,
        predictions,
        isomorphism_ids=None,
        train_ids=None,
        train_isomorphism_ids=None,
        train_cells=None,
        rule="strict",
    ):
        if rule != "strict" and self.config_name not in SPACE_NAMES:
            raise ValueError(f"rule={rule!r} judges cells and needs a space config, not {self.config_name!r}")
        if self.config_name in SPACE_NAMES:
            if isomorphism_ids is not None:
                raise ValueError(f"the {self.config_name} config computes isomorphism ids itself; drop them")
            return score_cells(
                predictions,
                self.config_name,
                train_ids=train_ids,
                train_cells=train_cells,
                train_isomorphism_ids=train_isomorphism_ids,
                rule=rule,
            )
        if train_cells is not None:
            raise ValueError(
                f"train_cells needs a space config (evaluate.load(path, 'nb201'), ...), not {self.config_name!r}"
            )
        return score_generation(
            predictions,
            train_ids=train_ids,
            isomorphism_ids=isomorphism_ids,
            train_isomorphism_ids=train_isomorphism_ids,
        )
