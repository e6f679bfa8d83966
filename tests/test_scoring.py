"""Generation scores: every output against hand-derived counts, edge cases, the isomorphism variants on
NAS-Bench-201, the cell/JSONL front ends and the ``evaluate`` metric wrapper."""

from __future__ import annotations

import json
import re
import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archllm_hf.scoring import (
    METRIC_NAME,
    METRIC_PATH,
    score_cells,
    score_generation,
    score_jsonl,
    score_samples,
    training_reference,
)
from archllm_hf.spaces import NB201Space, SearchSpace, get_space

# Two NB201 arch strings in one isomorphism class (node 2 = x + conv1x1(x) either way), and one outside it.
ARCH_A = "|skip_connect~0|+|skip_connect~0|nor_conv_1x1~1|+|skip_connect~0|skip_connect~1|nor_conv_1x1~2|"
ARCH_B = "|skip_connect~0|+|nor_conv_1x1~0|skip_connect~1|+|skip_connect~0|skip_connect~1|nor_conv_1x1~2|"
ARCH_C = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|"

RATE_KEYS = (
    "validity",
    "uniqueness",
    "valid_unique_rate",
    "novelty",
    "valid_unique_novel_rate",
    "uniqueness_iso",
    "valid_unique_rate_iso",
    "novelty_iso",
    "valid_unique_novel_rate_iso",
)


class PlainNB201(NB201Space):
    """NB201 without isomorphism classes (the base-class isomorphism_id), to test the non-coarse path."""

    isomorphism_id = SearchSpace.isomorphism_id
    has_isomorphism_classes = False


@pytest.fixture(scope="module")
def nb201() -> NB201Space:
    return get_space("nb201")


@pytest.fixture(scope="module")
def iso(nb201):
    """arch string -> isomorphism id; checks the fixture's premise (A ~ B, C elsewhere)."""
    ids = {arch: nb201.isomorphism_id(nb201.parse(arch)) for arch in (ARCH_A, ARCH_B, ARCH_C)}
    assert ids[ARCH_A] == ids[ARCH_B] != ids[ARCH_C]
    return ids


# --- score_generation: hand-computed counts ------------------------------------------------------------


def test_every_output_from_its_counts():
    # 10 samples, 7 valid, 5 distinct valid ids (a b c d e), 2 of them (d e) in the training set.
    ids = ["a", "b", "c", "d", "e", "a", "b", None, "", None]
    train = {"d", "e", "not-generated"}
    n, v, u, k = 10, 7, 5, 3
    scores = score_generation(ids, train_ids=train)
    assert scores == {
        "num_generated": n,
        "num_valid": v,
        "num_unique_valid": u,
        "validity": v / n,
        "uniqueness": u / v,
        "valid_unique_rate": u / n,
        "num_novel": k,
        "novelty": k / u,
        "valid_unique_novel_rate": k / n,
    }
    assert scores["validity"] == 0.7 and scores["novelty"] == 0.6


def test_explicit_flags_override_ids_and_ids_of_invalid_samples_are_ignored():
    # "x" is flagged invalid (e.g. a decoded but invalid cell): it counts in N only.
    scores = score_generation(["a", "x", "a", "b"], [True, False, True, True], train_ids=["x"])
    assert (scores["num_generated"], scores["num_valid"], scores["num_unique_valid"]) == (4, 3, 2)
    assert scores["num_novel"] == 2  # "x" being in train does not matter, it is not valid


def test_missing_inputs_leave_their_keys_out():
    scores = score_generation(["a", "b"])
    assert not {"num_novel", "novelty", "valid_unique_novel_rate"} & scores.keys()
    assert not any(key.endswith("_iso") for key in scores)
    assert all(isinstance(value, (int, float)) for value in scores.values())


@pytest.mark.parametrize("make", [list, set, tuple, lambda ids: (i for i in ids), dict.fromkeys])
def test_train_ids_accept_any_iterable_of_str(make):
    assert score_generation(["a", "b", "c"], train_ids=make(["b", "z"]))["num_novel"] == 2


def test_nothing_generated_gives_zero_rates():
    scores = score_generation([], train_ids=["a"], isomorphism_ids=[], train_isomorphism_ids=["a"])
    assert scores["num_generated"] == scores["num_valid"] == scores["num_novel"] == 0
    assert all(scores[key] == 0.0 for key in RATE_KEYS)


def test_nothing_valid_gives_zero_rates_not_nan():
    scores = score_generation(
        [None, "", None], train_ids=["a"], isomorphism_ids=[None, "", "junk"], train_isomorphism_ids=[]
    )
    assert (scores["num_generated"], scores["num_valid"], scores["num_unique_valid"]) == (3, 0, 0)
    assert all(scores[key] == 0.0 for key in RATE_KEYS)


def test_everything_in_train_gives_zero_novelty_but_full_uniqueness():
    scores = score_generation(["a", "b"], train_ids=["a", "b"])
    assert scores["uniqueness"] == 1.0 and scores["novelty"] == 0.0 and scores["num_novel"] == 0


# --- score_generation: errors -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"ids": ["a", "b"], "valid": [True]}, ValueError, "valid has 1 entries but there are 2"),
        ({"ids": ["a", "b"], "isomorphism_ids": ["x"]}, ValueError, "isomorphism_ids has 1 entries"),
        ({"ids": ["a", None], "valid": [True, True]}, ValueError, "sample 1 is flagged valid but has no id"),
        ({"ids": ["a", ""], "valid": [True, True]}, ValueError, "sample 1 is flagged valid"),
        ({"ids": ["a"], "isomorphism_ids": [None]}, ValueError, "sample 0 is valid but has no isomorphism"),
        ({"ids": ["a", "a"], "isomorphism_ids": ["x", "y"]}, ValueError, "two isomorphism ids"),
        ({"ids": ["a"], "train_isomorphism_ids": ["x"]}, ValueError, "needs isomorphism_ids"),
        ({"ids": ["a", 3]}, TypeError, r"ids\[1\] must be a str or None"),
        ({"ids": ["a"], "valid": ["yes"]}, TypeError, r"valid\[0\] must be a bool"),
        ({"ids": ["a"], "valid": [None]}, TypeError, r"valid\[0\] must be a bool"),
        ({"ids": ["a"], "train_ids": "abc"}, TypeError, "not a single str"),
    ],
)
def test_bad_inputs_raise_clear_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        score_generation(**kwargs)


# --- isomorphism variants on NAS-Bench-201 ------------------------------------------------------------


def test_two_arch_strings_in_one_class_count_once_under_iso(iso):
    ids = [ARCH_A, ARCH_B, ARCH_C, ARCH_A, None]
    iso_ids = [iso.get(arch) if arch else None for arch in ids]
    scores = score_generation(
        ids, isomorphism_ids=iso_ids, train_ids=[ARCH_B], train_isomorphism_ids=[iso[ARCH_B]]
    )
    n, v, u, u_iso = 5, 4, 3, 2
    assert (scores["num_unique_valid"], scores["num_unique_valid_iso"]) == (u, u_iso)
    assert scores["uniqueness"] == u / v and scores["uniqueness_iso"] == u_iso / v
    assert scores["valid_unique_rate"] == u / n and scores["valid_unique_rate_iso"] == u_iso / n
    # B is in train, so A is novel as an arch string but not as a class; only C is a new class.
    assert (scores["num_novel"], scores["num_novel_iso"]) == (2, 1)
    assert scores["novelty"] == 2 / u and scores["novelty_iso"] == 1 / u_iso
    assert scores["valid_unique_novel_rate_iso"] == 1 / n


def test_iso_novelty_needs_train_class_ids(iso):
    scores = score_generation([ARCH_A], isomorphism_ids=[iso[ARCH_A]], train_ids=[ARCH_A])
    assert "num_unique_valid_iso" in scores and "novelty_iso" not in scores and "novelty" in scores


# --- score_samples -------------------------------------------------------------------------------------


def _records(iso):
    return [
        {"id": ARCH_A, "valid": True, "isomorphism_id": iso[ARCH_A]},
        {"id": None, "valid": False, "isomorphism_id": None, "reason": "graph is not an array"},
        {"id": ARCH_B, "valid": True, "isomorphism_id": iso[ARCH_B]},
        {"id": ARCH_C, "valid": False, "isomorphism_id": None},  # an invalid sample's id is ignored
        {"id": ARCH_A, "valid": True, "isomorphism_id": iso[ARCH_A]},
    ]


def test_score_samples_matches_score_generation(iso):
    ids = [ARCH_A, None, ARCH_B, ARCH_C, ARCH_A]
    classes = [iso[ARCH_A], None, iso[ARCH_B], None, iso[ARCH_A]]
    flags = [True, False, True, False, True]
    scores = score_samples(_records(iso), train_ids=[ARCH_C], train_isomorphism_ids=[iso[ARCH_A]])
    expected = score_generation(
        ids, flags, isomorphism_ids=classes, train_ids=[ARCH_C], train_isomorphism_ids=[iso[ARCH_A]]
    )
    assert scores == expected
    assert (scores["num_valid"], scores["num_unique_valid"], scores["num_unique_valid_iso"]) == (3, 2, 1)
    assert scores["num_novel_iso"] == 0 and scores["num_novel"] == 2
    assert score_samples(_records(iso), isomorphism=True) == score_generation(
        ids, flags, isomorphism_ids=classes
    )


def test_score_samples_has_iso_keys_only_when_asked(iso):
    plain = score_samples(_records(iso), train_ids=[ARCH_A])
    assert not any(key.endswith("_iso") for key in plain)
    assert (plain["num_valid"], plain["num_unique_valid"], plain["num_novel"]) == (3, 2, 1)
    with pytest.raises(ValueError, match="sample 0 is valid but has no isomorphism id"):
        score_samples([{"id": ARCH_A, "valid": True}], isomorphism=True)


def test_training_reference_reads_the_split(nb201, iso):
    import datasets

    split = datasets.Dataset.from_dict({"id": [ARCH_A, ARCH_C], "arch_str": [ARCH_A, ARCH_C]})
    reference = training_reference(nb201, split)
    assert reference == {"train_ids": {ARCH_A, ARCH_C}, "train_isomorphism_ids": {iso[ARCH_A], iso[ARCH_C]}}
    with_column = split.add_column(nb201.isomorphism_column, ["a", "c"])
    assert training_reference(nb201, with_column)["train_isomorphism_ids"] == {"a", "c"}
    assert training_reference(PlainNB201(), split)["train_isomorphism_ids"] is None


# --- score_jsonl --------------------------------------------------------------------------------------


def _write_jsonl(path: Path, records: list[object]) -> Path:
    path.write_text("".join(json.dumps(record) + "\n" for record in records))
    return path


def test_score_jsonl_judges_each_cell_itself(tmp_path, nb201, iso):
    """Issue 23.2: the file's ``valid``, ``id`` and ``isomorphism_id`` are not trusted; each cell is re-parsed."""
    records = [
        {"cell": ARCH_A, "id": ARCH_A, "isomorphism_id": iso[ARCH_A], "valid": True, "reason": None},
        {"cell": None, "id": None, "isomorphism_id": None, "valid": False, "reason": "bad graph"},
        {"cell": ARCH_B, "id": "lies", "valid": False},  # valid after all: its cell parses
        {"cell": ARCH_C},
        {"cell": "garbage", "id": "g", "valid": True},  # invalid after all
    ]
    path = _write_jsonl(tmp_path / "samples.jsonl", records)
    path.write_text(path.read_text() + "\n   \n")  # blank lines are skipped
    expected = score_generation(
        [ARCH_A, None, ARCH_B, ARCH_C, None],
        isomorphism_ids=[iso[ARCH_A], None, iso[ARCH_B], iso[ARCH_C], None],
        train_ids=[ARCH_A],
        train_isomorphism_ids=[iso[ARCH_A]],
    )
    scores = score_jsonl(path, nb201, train_ids=[ARCH_A], train_isomorphism_ids=[iso[ARCH_A]])
    assert scores == expected and scores["num_generated"] == 5 and scores["num_valid"] == 3
    assert scores["num_unique_valid_iso"] == 2
    assert score_jsonl(path, "nb201", train_ids=[ARCH_A], train_isomorphism_ids=[iso[ARCH_A]]) == expected
    assert "uniqueness_iso" not in score_jsonl(path, PlainNB201())


def test_score_jsonl_with_the_wrong_space_scores_nothing_valid(tmp_path):
    path = _write_jsonl(tmp_path / "s.jsonl", [{"cell": ARCH_A, "id": ARCH_A, "valid": True}])
    assert score_jsonl(path, "darts")["validity"] == 0.0
    assert score_jsonl(path, "nb101")["validity"] == 0.0
    assert score_jsonl(path, "nb201")["validity"] == 1.0


def test_score_jsonl_reads_nb101_native_cells(tmp_path):
    nb101 = get_space("nb101")
    cell = nb101.sample(1, seed=3)[0]
    path = _write_jsonl(tmp_path / "s.jsonl", [{"cell": nb101.to_native(cell)}, {"cell": nb101.format(cell)}])
    scores = score_jsonl(path, nb101, train_ids=[nb101.canonical_id(cell)])
    assert (scores["num_valid"], scores["num_unique_valid"], scores["num_novel"]) == (2, 1, 0)


@pytest.mark.parametrize("content", ["", "\n  \n"])
def test_score_jsonl_refuses_an_empty_file(tmp_path, nb201, content):
    path = tmp_path / "empty.jsonl"
    path.write_text(content)
    with pytest.raises(ValueError, match="empty.jsonl: no samples"):
        score_jsonl(path, nb201)


@pytest.mark.parametrize(
    ("bad_line", "match"),
    [
        ('{"cell": "a", "valid": tru}', "not valid JSON"),
        ('["a", true]', "expected a JSON object"),
        ('{"valid": true, "id": "a"}', 'missing "cell"'),
        ("[" * 100_000, "not valid JSON|nested too deeply"),
    ],
)
def test_score_jsonl_names_the_malformed_line(tmp_path, nb201, bad_line, match):
    path = tmp_path / "samples.jsonl"
    path.write_text(f'{{"cell": "{ARCH_A}"}}\n\n' + bad_line + '\n{"cell": null}\n')
    with pytest.raises(ValueError, match=match) as info:
        score_jsonl(path, PlainNB201())
    assert f"{path}:3:" in str(info.value)


def test_score_jsonl_names_a_file_that_is_not_utf8(tmp_path, nb201):
    path = tmp_path / "latin1.jsonl"
    path.write_bytes(b'{"cell": "caf\xe9"}\n')
    with pytest.raises(ValueError, match="latin1.jsonl: not UTF-8"):
        score_jsonl(path, nb201)


def test_score_jsonl_missing_file(tmp_path, nb201):
    with pytest.raises(FileNotFoundError, match="nope.jsonl"):
        score_jsonl(tmp_path / "nope.jsonl", nb201)


# --- property -----------------------------------------------------------------------------------------

_ids = st.one_of(st.none(), st.just(""), st.sampled_from("abcdef"))


@settings(max_examples=200, deadline=None)
@given(
    samples=st.lists(_ids, max_size=30),
    train=st.sets(st.sampled_from("abcdefgh"), max_size=8),
    classes=st.dictionaries(st.sampled_from("abcdef"), st.sampled_from("XYZ"), min_size=6),
)
def test_rates_are_bounded_and_consistent(samples, train, classes):
    iso_ids = [classes[s] if s else None for s in samples]
    scores = score_generation(
        samples,
        train_ids=train,
        isomorphism_ids=iso_ids,
        train_isomorphism_ids={classes.get(t, "W") for t in train},
    )
    assert all(0.0 <= scores[key] <= 1.0 for key in RATE_KEYS)
    assert math.isclose(scores["valid_unique_rate"], scores["validity"] * scores["uniqueness"])
    assert math.isclose(scores["valid_unique_rate_iso"], scores["validity"] * scores["uniqueness_iso"])
    assert math.isclose(scores["valid_unique_novel_rate"], scores["valid_unique_rate"] * scores["novelty"])
    assert scores["num_novel"] <= scores["num_unique_valid"] <= scores["num_valid"] <= scores["num_generated"]
    assert scores["num_novel_iso"] <= scores["num_unique_valid_iso"] <= scores["num_unique_valid"]


# --- the evaluate metric ------------------------------------------------------------------------------


def test_metric_folder_layout():
    folder = Path(METRIC_PATH)
    assert folder.name == METRIC_NAME
    assert (folder / f"{METRIC_NAME}.py").is_file() and (folder / "README.md").is_file()
    assert not (folder / "__init__.py").exists()
    for line in (folder / f"{METRIC_NAME}.py").read_text().splitlines():  # evaluate's import scanner
        assert not (line.startswith("import ") and "," in line), line


@pytest.fixture()
def evaluate():
    return pytest.importorskip("evaluate")


def test_metric_compute_equals_score_generation(evaluate, iso):
    predictions = [ARCH_A, ARCH_B, "", ARCH_C, ARCH_A, ""]
    iso_ids = [iso.get(p, "") for p in predictions]
    kwargs = {"train_ids": [ARCH_C], "isomorphism_ids": iso_ids, "train_isomorphism_ids": [iso[ARCH_C]]}
    metric = evaluate.load(METRIC_PATH, keep_in_memory=True)
    result = metric.compute(predictions=predictions, **kwargs)
    assert result == score_generation(predictions, **kwargs)
    assert result["num_unique_valid_iso"] == 2 and result["num_novel"] == 2


def test_metric_add_batch_equals_compute_at_once(evaluate):
    predictions = ["a", "", "b", "a", "c", "", "d", "a"]
    metric = evaluate.load(METRIC_PATH, keep_in_memory=True)
    at_once = metric.compute(predictions=predictions, train_ids=["d"])
    metric = evaluate.load(METRIC_PATH, keep_in_memory=True)
    for start in range(0, len(predictions) - 1, 3):
        metric.add_batch(predictions=predictions[start : min(start + 3, len(predictions) - 1)])
    metric.add(prediction=predictions[-1])
    assert metric.compute(train_ids=["d"]) == at_once == score_generation(predictions, train_ids=["d"])


def test_metric_isomorphism_config_accumulates_class_ids(evaluate, iso):
    metric = evaluate.load(METRIC_PATH, "isomorphism", keep_in_memory=True)
    metric.add_batch(predictions=[ARCH_A, ""], isomorphism_ids=[iso[ARCH_A], ""])
    metric.add_batch(predictions=[ARCH_B, ARCH_C], isomorphism_ids=[iso[ARCH_B], iso[ARCH_C]])
    result = metric.compute(train_isomorphism_ids=[iso[ARCH_C]])
    assert result == score_generation(
        [ARCH_A, "", ARCH_B, ARCH_C],
        isomorphism_ids=[iso[ARCH_A], "", iso[ARCH_B], iso[ARCH_C]],
        train_isomorphism_ids=[iso[ARCH_C]],
    )
    assert (result["num_unique_valid"], result["num_unique_valid_iso"], result["num_novel_iso"]) == (3, 2, 1)


def test_metric_unknown_config(evaluate):
    with pytest.raises(ValueError, match="unknown arch_generation config"):
        evaluate.load(METRIC_PATH, "nope", keep_in_memory=True)


def test_score_samples_with_a_space_rejudges_the_records(nb201, iso):
    records = [
        {"cell": ARCH_A, "id": "x", "valid": False},
        {"cell": "garbage", "id": "g", "valid": True},
        {"cell": None, "id": None, "valid": False},
    ]
    scores = score_samples(records, space=nb201)
    assert scores == score_cells([ARCH_A, "garbage", None], nb201)
    assert (scores["num_valid"], scores["num_unique_valid_iso"]) == (1, 1)
    with pytest.raises(ValueError, match='sample 0 has no "cell"'):
        score_samples([{"id": ARCH_A, "valid": True}], space=nb201)


@pytest.mark.parametrize("space", ["nb201", "nb101", "darts"])
def test_metric_space_config_judges_cell_text(evaluate, space):
    """Issue 23.11: one config per space whose predictions are cell text; validity, ids and novelty computed."""
    space_obj = get_space(space)
    cells = [space_obj.format(cell) for cell in space_obj.sample(3, seed=1)]
    predictions = [cells[0], cells[1], cells[0], "garbage", "", cells[2]]
    metric = evaluate.load(METRIC_PATH, space, keep_in_memory=True)
    metric.add_batch(predictions=predictions[:2])
    metric.add_batch(predictions=predictions[2:])
    result = metric.compute(train_cells=[cells[2]])
    assert result == score_cells(predictions, space, train_cells=[cells[2]])
    assert (result["num_generated"], result["num_valid"], result["num_unique_valid"]) == (6, 4, 3)
    assert result["num_novel"] == 2
    assert ("num_unique_valid_iso" in result) == (space == "nb201")
    ids = [space_obj.canonical_id(space_obj.parse(c)) for c in cells]
    assert metric.compute(predictions=predictions, train_ids=ids[:1])["num_novel"] == 2


def test_metric_space_config_sees_through_a_foreign_space(evaluate):
    metric = evaluate.load(METRIC_PATH, "darts", keep_in_memory=True)
    assert metric.compute(predictions=[ARCH_A, ARCH_B])["validity"] == 0.0
    ids = evaluate.load(METRIC_PATH, "ids", keep_in_memory=True)
    assert ids.compute(predictions=[ARCH_A, ""]) == score_generation([ARCH_A, ""])


def test_score_cells_refuses_invalid_training_cells(nb201):
    with pytest.raises(ValueError, match="train_cells\\[1\\] is not a valid nb201 cell"):
        score_cells([ARCH_A], nb201, train_cells=[ARCH_B, "junk"])


def test_every_scorer_of_the_package_is_the_metrics_space_config(evaluate, nb201, tmp_path):
    """Issue 23.11: ``archllm evaluate`` (score_jsonl), the benchmarks (MethodContext.score, the same call as the main
    job's and the release evaluation's) and the metric's ``nb201`` config give the same scores for the same cells,
    whatever the records say about themselves."""
    import datasets

    from archllm_hf.data import build_cells_dataset
    from archllm_hf.evaluation.generation import GenerationBenchmark, MethodContext

    full = build_cells_dataset("nb201", progress=False)
    cells = datasets.DatasetDict({name: split.select(range(50)) for name, split in full.items()})
    train_cell = nb201.format(nb201.from_record(cells["train"][0]))
    records = [
        {"cell": ARCH_A, "id": "x", "valid": False},  # valid (a training cell), flagged invalid
        {"cell": "garbage", "id": "g", "valid": True},  # invalid, flagged valid
        {"cell": ARCH_B, "id": ARCH_B, "valid": True},  # ARCH_A's isomorphism class
        {"cell": train_cell, "id": "new", "valid": True},  # a training cell
        {"cell": ARCH_C, "id": ARCH_A, "valid": True},  # another cell's id
    ]
    context = MethodContext(nb201, cells, GenerationBenchmark())
    train_ids = context.reference["train_ids"]
    assert nb201.canonical_id(nb201.parse(ARCH_A)) in train_ids  # the premise: A trains, B and C are new
    assert not {nb201.canonical_id(nb201.parse(arch)) for arch in (ARCH_B, ARCH_C)} & train_ids
    metric = evaluate.load(METRIC_PATH, "nb201", keep_in_memory=True)
    expected = metric.compute(predictions=[r["cell"] for r in records], **context.reference)
    assert (expected["num_valid"], expected["num_unique_valid"], expected["num_novel"]) == (4, 4, 2)
    assert (expected["num_unique_valid_iso"], expected["num_novel_iso"]) == (
        3,
        1,
    )  # A ~ B; only C's class is new
    assert context.score(records) == expected
    samples = tmp_path / "samples.jsonl"
    samples.write_text("".join(json.dumps(r) + "\n" for r in records))
    assert score_jsonl(samples, "nb201", **context.reference) == expected


# --- the two rules: ours (strict) and arch2vec's (lenient), on hand-made decodes -------------------------------
def _nb201_decodes():
    """Six NB201 decodes whose verdicts are known: (adjacency, ops, strict valid, arch2vec valid)."""
    import numpy as np

    space = get_space("nb201")
    a, b = (space.to_graph(cell) for cell in space.sample(2, seed=11))
    vocab = space.node_vocab.index
    node1_input = a.ops.copy()
    node1_input[1] = vocab("input")  # arch2vec never checks node 1
    no_input = a.ops.copy()
    no_input[0] = vocab("none")  # node 0 must be the input under both rules
    return space, [
        (a.adjacency, a.ops, True, True),
        (b.adjacency, b.ops, True, True),
        (a.adjacency, a.ops, True, True),  # a repeat
        (a.adjacency, node1_input, False, True),
        (np.zeros_like(a.adjacency), b.ops, False, True),  # arch2vec ignores the adjacency
        (a.adjacency, no_input, False, False),
    ]


def test_score_graphs_strict_and_arch2vec_rules_on_known_nb201_decodes():
    import numpy as np

    from archllm_hf.scoring import score_graphs

    space, decodes = _nb201_decodes()
    adjacency = np.stack([d[0] for d in decodes])
    ops = np.stack([d[1] for d in decodes])
    strict = score_graphs(adjacency, ops, space)
    lenient = score_graphs(adjacency, ops, space, rule="arch2vec")
    assert strict["num_valid"] == sum(d[2] for d in decodes) == 3
    assert strict["num_unique_valid"] == 2 and strict["valid_unique_rate"] == pytest.approx(2 / 6)
    assert lenient["num_valid"] == sum(d[3] for d in decodes) == 5
    # a, b, a's labels with node 1 = input, b's labels without edges: 4 distinct unpruned graphs
    assert lenient["num_unique_valid"] == 4 and lenient["uniqueness"] == pytest.approx(4 / 5)
    assert "novelty" not in lenient and "uniqueness_iso" not in lenient  # arch2vec computes neither
    assert "uniqueness_iso" in strict
    with pytest.raises(ValueError, match="unknown rule"):
        score_graphs(adjacency, ops, space, rule="loose")
    with pytest.raises(ValueError, match="op vectors"):
        score_graphs(adjacency, ops[:2], space)


def test_arch2vec_rule_counts_nb101_graphs_that_prune_to_one_cell_as_distinct():
    import numpy as np

    from archllm_hf.scoring import score_graphs

    space = get_space("nb101")
    vocab = space.node_vocab.index
    ops = np.array(
        [
            vocab(x)
            for x in ["input", "conv3x3-bn-relu", "maxpool3x3", "conv1x1-bn-relu", "<pad>", "<pad>", "output"]
        ]
    )
    path = np.zeros((7, 7), dtype=np.int64)
    path[0, 1] = path[1, 6] = 1
    dangling = path.copy()
    dangling[2, 3] = 1  # vertices 2 and 3 hang off nothing: pruned away, the same cell
    sink = path.copy()
    sink[0, 6] = 1  # another cell
    adjacency, op_rows = np.stack([path, dangling, sink]), np.stack([ops] * 3)
    strict = score_graphs(adjacency, op_rows, space)
    lenient = score_graphs(adjacency, op_rows, space, rule="arch2vec")
    assert strict["num_valid"] == 3 and strict["num_unique_valid"] == 2  # official hash of the pruned cell
    assert lenient["num_valid"] == 3 and lenient["num_unique_valid"] == 3  # hash of the unpruned graph


def test_score_samples_and_cells_under_arch2vec_rule():
    from archllm_hf.scoring import score_cells, score_samples

    space, decodes = _nb201_decodes()
    records = []
    for adjacency, ops, strict_valid, _ in decodes:
        decoded = space.decode_graph(adjacency, ops)
        records.append(
            {**space.sample_record(decoded), "graph": {"adjacency": adjacency.tolist(), "ops": ops.tolist()}}
        )
    lenient = score_samples(records, space=space, rule="arch2vec")
    assert (lenient["num_valid"], lenient["num_unique_valid"]) == (5, 4)
    assert score_samples(records, space=space)["num_valid"] == 3  # strict: the record's graph is not used
    # without their graphs only the cells are left: a cell the space rejects has no graph and is invalid
    cells_only = [{"cell": r["cell"]} for r in records]
    assert score_samples(cells_only, space=space, rule="arch2vec")["num_valid"] == 3
    texts = [space.format(space.parse(r["cell"])) if r["cell"] else "garbage" for r in records]
    assert score_cells(texts, space, rule="arch2vec")["num_unique_valid"] == 2
    with pytest.raises(ValueError, match="needs the space"):
        score_samples(records, rule="arch2vec")
    with pytest.raises(ValueError, match='neither a "graph" nor a "cell"'):
        score_samples([{"id": "x"}], space=space, rule="arch2vec")


def test_score_jsonl_and_the_cli_under_arch2vec_rule(tmp_path, capsys):
    from archllm_hf.cli import main

    space, decodes = _nb201_decodes()
    path = tmp_path / "samples.jsonl"
    lines = []
    for adjacency, ops, _, _ in decodes:
        decoded = space.decode_graph(adjacency, ops)
        record = space.sample_record(decoded)
        lines.append(json.dumps({**record, "graph": {"adjacency": adjacency.tolist(), "ops": ops.tolist()}}))
    path.write_text("\n".join(lines) + "\n")
    lenient = score_jsonl(path, "nb201", rule="arch2vec")
    assert (lenient["num_valid"], lenient["num_unique_valid"]) == (5, 4)  # the lines' raw graphs are judged
    assert score_jsonl(path, "nb201")["num_valid"] == 3
    assert main(["evaluate", str(path), "--space", "nb201", "--rule", "arch2vec"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed == lenient


def test_metric_takes_the_rule_in_space_configs(evaluate):
    cells = [ARCH_A, ARCH_B, ARCH_A, "garbage"]
    metric = evaluate.load(METRIC_PATH, "nb201", keep_in_memory=True)
    lenient = metric.compute(predictions=cells, rule="arch2vec")
    assert lenient == score_cells(cells, "nb201", rule="arch2vec")
    assert (lenient["num_valid"], lenient["num_unique_valid"]) == (3, 2)
    with pytest.raises(ValueError, match="space config"):
        evaluate.load(METRIC_PATH, keep_in_memory=True).compute(predictions=["a"], rule="arch2vec")


@pytest.mark.parametrize(
    "graph,message",
    [
        ({"ops": [0] * 8}, '"graph" must be {"adjacency": 8 x 8 integers, "ops": 8 integers}'),
        ("x", '"graph" must be {"adjacency": 8 x 8 integers'),
        ({"adjacency": [[0] * 8] * 8, "ops": ["conv"] * 8}, '"graph" must be'),
        (
            {"adjacency": [[0] * 7] * 7, "ops": [0] * 7},
            '"graph" must be {"adjacency": 8 x 8 integers, "ops": 8 integers}; got adjacency (7, 7) and ops (7,)',
        ),
    ],
)
def test_a_malformed_raw_graph_is_a_clear_error_naming_its_line(tmp_path, graph, message):
    samples = tmp_path / "samples.jsonl"
    samples.write_text(
        json.dumps({"cell": ARCH_A}) + "\n" + json.dumps({"cell": None, "graph": graph}) + "\n"
    )
    with pytest.raises(ValueError, match=re.escape(f"{samples}:2: {message}")):
        score_jsonl(samples, "nb201", rule="arch2vec")
    with pytest.raises(ValueError, match=re.escape(f"sample 0: {message}")):
        score_samples([{"cell": None, "graph": graph}], space="nb201", rule="arch2vec")
