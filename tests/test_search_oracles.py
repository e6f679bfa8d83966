"""Oracles: the NB201 tables (200-epoch and 12-epoch), the NB101 NASLib fixture, datasets with metric columns, and
a user's own function; distinct-query counting and every bad input."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from archllm_hf.data import build_cells_dataset, load_metric_table
from archllm_hf.errors import InvalidCellError
from archllm_hf.search import CallableOracle, CellNotInTableError, TableOracle
from archllm_hf.spaces import get_space

NATS = "nb201/nats_tss_test_acc_200ep.csv"
MINIBENCH = "nb201/minibench_hp12_accs.csv"
NB101_DUMMY = "nb101/naslib_nb101_dummy.json"


@pytest.fixture(scope="module")
def nb201_files(shared_data: Path) -> list[Path]:
    return [shared_data / NATS, shared_data / MINIBENCH]


@pytest.fixture(scope="module")
def nb201_oracle(nb201_files) -> TableOracle:
    return TableOracle.from_files("nb201", nb201_files, "cifar10_valid_acc_12ep", "cifar10_test_acc_200ep")


def test_the_two_nb201_tables_merge_by_canonical_id(nb201_files):
    table = load_metric_table(get_space("nb201"), nb201_files)
    assert len(table.values) == 15_625 and len(table.cells) == 15_625
    assert {
        f"{d}_{s}_acc_12ep" for d in ("cifar10", "cifar100", "imagenet16") for s in ("valid", "test")
    } <= set(table.columns)
    assert {"cifar10_test_acc_200ep", "cifar100_test_acc_200ep", "imagenet16_test_acc_200ep"} <= set(
        table.columns
    )
    row = table.values[
        "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~2|"
    ]
    assert row["cifar10_test_acc_12ep"] == pytest.approx(88.22)
    assert row["cifar10_valid_acc_12ep"] == pytest.approx(82.83399999)
    assert row["cifar10_test_acc_200ep"] == pytest.approx(93.66, abs=1e-6)
    assert max(r["cifar10_test_acc_200ep"] for r in table.values.values()) == pytest.approx(94.3733, abs=1e-4)


def test_a_column_given_by_two_files_is_an_error(shared_data):
    with pytest.raises(ValueError, match="given by both"):
        load_metric_table(get_space("nb201"), [shared_data / NATS, shared_data / NATS])


def test_the_oracle_counts_distinct_queries(nb201_oracle):
    nb201_oracle.reset()
    space = nb201_oracle.space
    first, second = space.sample(2, seed=1)
    answer = nb201_oracle.query(first)
    assert answer.id == space.canonical_id(first) and answer.report is not None
    assert nb201_oracle(first) == answer
    assert nb201_oracle.num_queries == 1
    nb201_oracle.query(second)
    assert nb201_oracle.num_queries == 2 and nb201_oracle.is_queried(answer.id)
    assert nb201_oracle.size == 15_625
    nb201_oracle.reset()
    assert nb201_oracle.num_queries == 0


def test_unknown_columns_are_named(nb201_files):
    with pytest.raises(ValueError, match="unknown objective column 'cifar10_acc'.*cifar10_test_acc_200ep"):
        TableOracle.from_files("nb201", nb201_files, "cifar10_acc")
    with pytest.raises(ValueError, match="unknown report column"):
        TableOracle.from_files("nb201", nb201_files, "cifar10_test_acc_200ep", report="nope")


def test_nb101_fixture_and_a_cell_missing_from_it(shared_data):
    oracle = TableOracle.from_files(
        "nb101", shared_data / NB101_DUMMY, "test_accuracy_108ep", "validation_accuracy_108ep"
    )
    assert oracle.size == 30
    cell = oracle.candidates()[0]
    evaluation = oracle.query(cell)
    assert 0 < evaluation.objective < 1 and 0 < evaluation.report < 1
    space = oracle.space
    outside = next(c for c in space.iter_samples(seed=0) if not oracle.contains(space.canonical_id(c)))
    with pytest.raises(CellNotInTableError, match="has no 'test_accuracy_108ep' value in the table"):
        oracle.query(outside)
    assert oracle.num_queries == 1


def test_malformed_tables_raise_clear_errors(tmp_path):
    space = get_space("nb201")
    header = "arch,cellstr,cifar10-test,cifar10-val,cifar100-test,cifar100-val,imagenet-test,imagenet-val\n"
    bad_value = tmp_path / "bad_value.csv"
    bad_value.write_text(header + "0,|none~0|+|none~0|none~1|+|none~0|none~1|none~2|,x,1,1,1,1,1\n")
    with pytest.raises(ValueError, match="line 2: column cifar10-test is not a finite number"):
        load_metric_table(space, bad_value)
    nan_value = tmp_path / "nan_value.csv"
    nan_value.write_text(header + "0,|none~0|+|none~0|none~1|+|none~0|none~1|none~2|,nan,1,1,1,1,1\n")
    with pytest.raises(ValueError, match="not a finite number: 'nan'"):
        load_metric_table(space, nan_value)
    bad_cell = tmp_path / "bad_cell.csv"
    bad_cell.write_text(header + "0,|conv~0|,1,1,1,1,1,1\n")
    with pytest.raises(InvalidCellError, match="line 2"):
        load_metric_table(space, bad_cell)
    missing = tmp_path / "missing.csv"
    missing.write_text("arch,cellstr,cifar10-test\n")
    with pytest.raises(ValueError, match="lacks column"):
        load_metric_table(space, missing)
    not_json = tmp_path / "records.json"
    not_json.write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        load_metric_table(get_space("nb101"), not_json)
    with pytest.raises(FileNotFoundError):
        load_metric_table(space, tmp_path / "nothing.csv")


def test_an_oracle_over_the_metric_columns_of_the_cells_dataset(shared_data):
    dataset = build_cells_dataset("nb201", num_samples=300, metrics=[shared_data / NATS], progress=False)
    oracle = TableOracle.from_dataset("nb201", dataset, "cifar100_test_acc_200ep")
    assert oracle.size == 300
    reference = TableOracle.from_files("nb201", shared_data / NATS, "cifar100_test_acc_200ep")
    cell = oracle.candidates()[7]
    assert oracle.query(cell).objective == reference.query(cell).objective
    with pytest.raises(ValueError, match="unknown objective column"):
        TableOracle.from_dataset("nb201", dataset, "cifar10_valid_acc_12ep")


def test_callable_oracle_calls_once_per_cell_and_checks_what_it_gets():
    space = get_space("darts")
    calls = []

    def evaluate(cell):
        calls.append(cell)
        return float(sum(op.startswith("sep") for op, _ in cell.normal)), 1.0

    oracle = CallableOracle(space, evaluate, report="constant")
    cell = space.random_cell(random.Random(0))
    assert oracle.query(cell) == oracle.query(cell)
    assert len(calls) == 1 and oracle.num_queries == 1 and oracle.size is None
    with pytest.raises(TypeError, match=r"\(objective, report\) pairs"):
        CallableOracle(space, lambda cell: 1.0, report="r").query(cell)
    with pytest.raises(TypeError, match="expected a number"):
        CallableOracle(space, lambda cell: "high").query(cell)
    with pytest.raises(ValueError, match="NaN"):
        CallableOracle(space, lambda cell: float("nan")).query(cell)
    with pytest.raises(InvalidCellError):
        oracle.query("not a cell")
