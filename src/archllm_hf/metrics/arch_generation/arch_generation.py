"""evaluate metric ``arch_generation``: validity, uniqueness and novelty of generated architectures.

A thin wrapper around :func:`archllm_hf.scoring.score_generation`; see that module for every output key.
Load it with ``evaluate.load(archllm_hf.scoring.METRIC_PATH)``.
"""

import datasets
import evaluate

from archllm_hf.scoring import score_generation

_DESCRIPTION = """
Scores a batch of generated neural architectures (no references): validity (valid / generated), uniqueness
(distinct valid / valid), novelty (distinct valid ids not in the training ids / distinct valid), the headline
valid_unique_rate (distinct valid / generated) and, given isomorphism-class ids (NAS-Bench-201's unique
string), the same under isomorphism classes (keys ending in _iso). Rates with a zero denominator are 0.0.
"""

_KWARGS_DESCRIPTION = """
Args:
    predictions (`list` of `str`): one canonical architecture id per generated sample; "" (or None) marks an
        invalid sample.
    isomorphism_ids (`list` of `str`, *optional*): one isomorphism-class id per sample ("" for invalid ones).
        A compute() keyword in the default config; a per-sample input column (usable with add/add_batch)
        in the "isomorphism" config: evaluate.load(path, "isomorphism").
    train_ids (`list` of `str`, *optional*): canonical ids of the training set; enables num_novel, novelty and
        valid_unique_novel_rate.
    train_isomorphism_ids (`list` of `str`, *optional*): isomorphism ids of the training set; enables
        num_novel_iso, novelty_iso and valid_unique_novel_rate_iso (needs isomorphism_ids).
Returns:
    `dict`: num_generated, num_valid, num_unique_valid (counts) and validity, uniqueness, valid_unique_rate
    (floats in [0, 1]); plus the novelty keys and the _iso keys when their inputs are given.
Examples:
    >>> metric = evaluate.load(METRIC_PATH, keep_in_memory=True)
    >>> metric.compute(predictions=["a", "a", "b", ""], train_ids=["b"])["valid_unique_rate"]
    0.5
"""

_CITATION = ""

_CONFIGS = ("default", "isomorphism")


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class ArchGeneration(evaluate.Metric):
    """Validity / uniqueness / novelty of generated architectures (predictions = canonical ids)."""

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

    def _compute(self, predictions, isomorphism_ids=None, train_ids=None, train_isomorphism_ids=None):
        return score_generation(
            predictions,
            train_ids=train_ids,
            isomorphism_ids=isomorphism_ids,
            train_isomorphism_ids=train_isomorphism_ids,
        )
