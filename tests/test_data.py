"""The cells dataset: schema, deterministic splits, metric joins, the repo folder, the CLI."""

from __future__ import annotations

import csv
import hashlib
import json
from unittest import mock

import datasets
import pytest

from archllm_hf.cli import main as cli_main
from archllm_hf.data import SPLITS, build_cells_dataset, split_for_id, write_dataset_config
from archllm_hf.data.repo import upload_dataset_repo
from archllm_hf.spaces import get_space

CORE_COLUMNS = ["id", "adjacency", "operations", "num_vertices", "num_edges"]


@pytest.fixture(scope="module")
def nb201_cells(shared_data) -> datasets.DatasetDict:
    return build_cells_dataset(
        "nb201", metrics=shared_data / "nb201" / "nats_tss_test_acc_200ep.csv", progress=False
    )


def test_split_is_a_function_of_the_id_with_90_5_5_proportions(nb201_cells):
    sizes = {split: nb201_cells[split].num_rows for split in SPLITS}
    assert sum(sizes.values()) == 15_625
    for split in SPLITS:
        assert all(split_for_id(cell_id) == split for cell_id in nb201_cells[split]["id"])
    # 15,625 independent draws: each share lies within ~4 standard deviations of its target.
    assert abs(sizes["train"] / 15_625 - 0.90) < 0.01
    assert abs(sizes["validation"] / 15_625 - 0.05) < 0.008
    ids = [cell_id for split in SPLITS for cell_id in nb201_cells[split]["id"]]
    assert len(set(ids)) == len(ids)


def test_split_uses_md5_buckets():
    for cell_id in (
        "a",
        "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|",
        "28cfc7874f6d200472e1a9dcd8650aa0",
    ):
        bucket = int(hashlib.md5(cell_id.encode()).hexdigest()[:16], 16) % 100
        expected = "train" if bucket < 90 else "validation" if bucket < 95 else "test"
        assert split_for_id(cell_id) == expected


def test_schema_and_rows_match_the_space(nb201_cells):
    space = get_space("nb201")
    train = nb201_cells["train"]
    assert train.column_names[:5] == CORE_COLUMNS
    assert train.features["adjacency"].feature.feature.dtype == "int8"
    for row in train.select(range(50)):
        cell = space.parse(row["arch_str"])
        assert row["id"] == space.canonical_id(cell)
        graph = space.to_graph(cell)
        assert row["adjacency"] == graph.adjacency.tolist()
        assert row["operations"] == [space.node_vocab[i] for i in graph.ops]
        assert row["num_edges"] == sum(map(sum, row["adjacency"]))
        assert row["unique_str"] == space.isomorphism_id(cell)
        assert space.from_record(row) == cell


def test_metric_columns_equal_the_csv_values(nb201_cells, shared_data):
    with open(shared_data / "nb201" / "nats_tss_test_acc_200ep.csv", newline="") as handle:
        table = {row["ArchitectureString"]: row for row in csv.DictReader(handle)}
    for row in nb201_cells["test"]:
        source = table[row["arch_str"]]
        assert row["cifar10_test_acc_200ep"] == pytest.approx(float(source["CIFAR10TestAccuracy200Epochs"]))
        assert row["imagenet16_test_acc_200ep"] == pytest.approx(
            float(source["ImageNetTestAccuracy200Epochs"])
        )
    disconnected = [row for split in SPLITS for row in nb201_cells[split] if not row["connected"]]
    assert len(disconnected) == 341
    assert {round(row["cifar10_test_acc_200ep"], 6) for row in disconnected} == {10.0}


def test_nb101_metrics_from_naslib_records(shared_data):
    from archllm_hf.data import load_metrics

    path = shared_data / "nb101" / "naslib_nb101_dummy.json"
    metrics = load_metrics(get_space("nb101"), path)
    records = json.loads(path.read_text())
    assert set(metrics) == set(records)
    some_hash, record = next(iter(records.items()))
    runs = record["computed"]["108"]
    expected = sum(run["final_test_accuracy"] for run in runs) / len(runs)
    assert metrics[some_hash]["test_accuracy_108ep"] == pytest.approx(expected)


def test_repo_folder_loads_with_load_dataset(nb201_cells, tmp_path):
    write_dataset_config(nb201_cells, tmp_path, "nb201", {"command": "archllm data build --space nb201"})
    assert datasets.get_dataset_config_names(str(tmp_path)) == ["nb201"]
    loaded = datasets.load_dataset(str(tmp_path), "nb201")
    assert {split: loaded[split].num_rows for split in SPLITS} == {s: nb201_cells[s].num_rows for s in SPLITS}
    assert loaded["test"]["id"][:] == nb201_cells["test"]["id"][:]
    card = (tmp_path / "README.md").read_text()
    assert (
        "config_name: nb201" in card
        and "NAS-Bench-201" in card
        and "@inproceedings{ying2019nasbench101" in card
    )


def test_second_config_keeps_the_first_and_card_lists_both(nb201_cells, tmp_path):
    write_dataset_config(nb201_cells, tmp_path, "nb201")
    darts = build_cells_dataset("darts", num_samples=300, progress=False)
    write_dataset_config(darts, tmp_path, "darts", {"num_samples": 300, "seed": 0})
    assert sorted(datasets.get_dataset_config_names(str(tmp_path))) == ["darts", "nb201"]
    loaded = datasets.load_dataset(str(tmp_path), "darts", split="train")
    assert loaded.column_names[:5] == CORE_COLUMNS and "genotype" in loaded.column_names
    assert "300 unique uniform samples" in (tmp_path / "README.md").read_text()


def test_failed_write_leaves_the_existing_config_untouched(nb201_cells, tmp_path):
    write_dataset_config(nb201_cells, tmp_path, "nb201")
    before = sorted(p.name for p in (tmp_path / "nb201").iterdir())
    with mock.patch.object(datasets.Dataset, "to_parquet", side_effect=OSError("disk full")):
        with pytest.raises(OSError, match="disk full"):
            write_dataset_config(nb201_cells, tmp_path, "nb201")
    assert sorted(p.name for p in (tmp_path / "nb201").iterdir()) == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
    assert (
        datasets.load_dataset(str(tmp_path), "nb201", split="test").num_rows == nb201_cells["test"].num_rows
    )


def test_cli_build_writes_a_loadable_folder(tmp_path, capsys):
    assert cli_main(["data", "build", "--space", "nb201", "--out", str(tmp_path), "-q"]) == 0
    assert "15,625" in capsys.readouterr().out
    loaded = datasets.load_dataset(str(tmp_path), "nb201")
    assert loaded["train"].column_names[:6] == [*CORE_COLUMNS, "arch_str"]
    info = json.loads((tmp_path / "nb201" / "build_info.json").read_text())
    assert info["command"].startswith("archllm data build --space nb201")


def test_cli_reports_bad_input_clearly(tmp_path, capsys):
    assert (
        cli_main(["data", "build", "--space", "nb201", "--out", str(tmp_path), "--metrics", "nope.csv"]) == 2
    )
    assert "metrics file not found" in capsys.readouterr().err
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,2\n")
    assert (
        cli_main(["data", "build", "--space", "nb201", "--out", str(tmp_path / "o"), "--metrics", str(bad)])
        == 2
    )
    assert "ArchitectureString" in capsys.readouterr().err


def test_upload_goes_through_upload_folder(tmp_path):
    with (
        mock.patch("huggingface_hub.HfApi.create_repo") as create_repo,
        mock.patch("huggingface_hub.HfApi.upload_folder", return_value="https://example/commit") as upload,
    ):
        assert upload_dataset_repo(tmp_path, "me/cells") == "https://example/commit"
    assert create_repo.call_args.kwargs["repo_type"] == "dataset"
    assert (
        upload.call_args.kwargs["repo_id"] == "me/cells" and upload.call_args.kwargs["repo_type"] == "dataset"
    )


def test_load_cells_repo_reads_each_folder_not_a_cache_of_another(tmp_path):
    """``datasets.load_dataset`` caches a local folder by its name and config: two folders called ``data`` would
    share one entry. ``load_cells_repo`` reads the folder itself."""
    from archllm_hf.data import build_cells_dataset, load_cells_repo, write_dataset_config

    sizes = {}
    for name, num in (("a", 40), ("b", 60)):
        cells = build_cells_dataset("darts", num_samples=num, seed=1, progress=False)
        write_dataset_config(cells, tmp_path / name / "data", "darts")
        sizes[name] = {split: cells[split].num_rows for split in cells}
    for name in ("a", "b"):
        loaded = load_cells_repo(tmp_path / name / "data", "darts")
        assert {split: loaded[split].num_rows for split in loaded} == sizes[name]
    with pytest.raises(FileNotFoundError, match="nb201/train"):
        load_cells_repo(tmp_path / "a" / "data", "nb201")


def test_cli_builds_the_whole_dataset_repo_in_one_command(tmp_path, capsys):
    from archllm_hf.cli import main as cli
    from archllm_hf.data import load_cells_repo

    assert (
        cli(["data", "build", "--space", "all", "--out", str(tmp_path), "--num-samples", "60", "--quiet"])
        == 0
    )
    for space in ("nb101", "nb201", "darts"):
        assert sum(split.num_rows for split in load_cells_repo(tmp_path, space).values()) == 60
    assert "config_name: darts" in (tmp_path / "README.md").read_text()
    assert cli(["data", "build", "--space", "all", "--out", str(tmp_path), "--metrics", "x.csv"]) == 2
    assert "belong to one space" in capsys.readouterr().err
