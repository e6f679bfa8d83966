"""`data build` and `archllm generate` stream their records to disk (issue 23, defect 3): the same rows as the
records of the cells, batch after batch on disk while the build runs, and no temporary file left in any case."""

from __future__ import annotations

import json
from pathlib import Path
from unittest import mock

import datasets
import pyarrow as pa
import pytest

from archllm_hf.cli import main as cli_main
from archllm_hf.data import SPLITS, build_cells_dataset, features_for, space_cells, split_for_id
from archllm_hf.data import build as build_module
from archllm_hf.spaces import get_space


def expected_rows(space_name: str, num_samples: int | None, seed: int, metrics: dict | None = None):
    """The rows of each split computed here, independently of the build: the records of ``space_cells``."""
    space = get_space(space_name)
    columns = sorted({column for values in (metrics or {}).values() for column in values})
    rows: dict[str, list[dict]] = {split: [] for split in SPLITS}
    for cell in space_cells(space, num_samples=num_samples, seed=seed, progress=False):
        record = space.to_record(cell)
        record.update({column: (metrics or {}).get(record["id"], {}).get(column) for column in columns})
        rows[split_for_id(record["id"])].append(record)
    extra = {name: datasets.Value(dtype) for name, dtype in space.extra_columns().items()}
    return rows, features_for(space, columns, extra)


def entries(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


@pytest.mark.parametrize(
    ("space", "num_samples"), [("nb201", 40), ("nb101", 60), ("darts", 80), ("darts", 3)]
)
def test_streamed_build_equals_the_records_of_the_cells(space, num_samples, tmp_path):
    # batches of 7 rows: every split is written in several batches, and a 3-cell build leaves splits empty
    with mock.patch.object(build_module, "WRITE_BATCH_SIZE", 7):
        built = build_cells_dataset(
            space, num_samples=num_samples, seed=5, progress=False, cache_dir=tmp_path
        )
    rows, features = expected_rows(space, num_samples, seed=5)
    assert list(built) == list(SPLITS)
    for split in SPLITS:
        assert built[split].features == features
        assert built[split].column_names == list(features)  # an empty split keeps its columns
        assert built[split].to_list() == rows[split]
    assert any(not rows[split] for split in SPLITS) == (num_samples == 3)


def test_streamed_build_joins_metrics_by_id_and_keeps_nulls(tmp_path):
    space = get_space("nb201")
    cells = space_cells(space, num_samples=30, seed=1, progress=False)
    metrics = {space.canonical_id(cell): {"acc": float(k)} for k, cell in enumerate(cells[::2])}
    built = build_cells_dataset(
        space, num_samples=30, seed=1, metrics=metrics, progress=False, cache_dir=tmp_path
    )
    rows, _ = expected_rows("nb201", 30, 1, metrics)
    assert {split: built[split].to_list() for split in SPLITS} == rows
    with pytest.raises(ValueError, match="no nb201 cell matched any of the 1 metric records"):
        build_cells_dataset(space, num_samples=30, seed=1, metrics={"nope": {"acc": 1.0}}, cache_dir=tmp_path)


def test_build_holds_no_list_of_records_and_writes_batches_as_it_goes(tmp_path):
    """Rows reach the split files while cells are still being encoded; no split is made from a list of rows."""
    space = get_space("darts")
    batch = 10
    encode = type(space).to_record
    on_disk: list[tuple[int, int]] = []  # (records made so far, rows readable from the files then)

    def to_record(self, cell):
        record = encode(self, cell)
        made = len(on_disk) + 1
        (folder,) = [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
        rows = 0
        for split in SPLITS:
            path = folder / f"{split}.arrow"
            if path.stat().st_size:  # the schema goes out with a split's first batch
                with pa.OSFile(str(path)) as handle:
                    rows += sum(b.num_rows for b in pa.ipc.open_stream(handle))  # the batches written so far
        on_disk.append((made, rows))
        return record

    def refuse(*args, **kwargs):
        raise AssertionError("a split was built from a list of rows held in memory")

    with (
        mock.patch.object(build_module, "WRITE_BATCH_SIZE", batch),
        mock.patch.object(type(space), "to_record", to_record),
        mock.patch.object(datasets.Dataset, "from_list", refuse),
        mock.patch.object(datasets.Dataset, "from_dict", refuse),
    ):
        built = build_cells_dataset(space, num_samples=200, progress=False, cache_dir=tmp_path)
    assert sum(built[split].num_rows for split in SPLITS) == 200
    # before the k-th record is written, all but at most one unfinished batch a split are on disk
    for made, rows in on_disk:
        assert made - 1 - rows < len(SPLITS) * batch
    assert on_disk[-1][1] >= 200 - len(SPLITS) * batch


def _fail_after(space_name: str, count: int, error: BaseException):
    space_type = type(get_space(space_name))
    encode = space_type.to_record
    made = []

    def to_record(self, cell):
        if len(made) == count:
            raise error
        made.append(cell)
        return encode(self, cell)

    return mock.patch.object(space_type, "to_record", to_record)


def test_temporary_files_are_gone_after_success_and_after_an_error(tmp_path):
    cache = tmp_path / "cache"
    built = build_cells_dataset("darts", num_samples=50, progress=False, cache_dir=cache)
    (folder,) = entries(cache)  # the build's own folder, renamed into place whole: nothing temporary
    assert folder.startswith("darts-") and not folder.startswith(".")
    assert entries(cache / folder) == ["test.arrow", "train.arrow", "validation.arrow"]
    assert all(Path(f["filename"]).parent == cache / folder for f in built["train"].cache_files)
    for error in (RuntimeError("disk on fire"), KeyboardInterrupt()):
        with _fail_after("darts", 30, error), pytest.raises(type(error)):
            build_cells_dataset("darts", num_samples=50, progress=False, cache_dir=cache)
        assert entries(cache) == [folder]


def test_cli_build_leaves_no_files_beside_its_output(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv(build_module.CELLS_CACHE_ENV, str(tmp_path / "cells"))
    out = tmp_path / "out"
    argv = ["data", "build", "--space", "darts", "--num-samples", "40", "--out", str(out), "-q"]
    assert cli_main(argv) == 0
    assert entries(tmp_path / "cells") == []
    assert entries(out) == ["README.md", "darts"]
    written = sorted(entries(out / "darts"))
    with _fail_after("darts", 20, KeyboardInterrupt()):
        assert cli_main([*argv, "--seed", "1"]) == 130
    assert "interrupted" in capsys.readouterr().err
    assert entries(tmp_path / "cells") == []
    assert entries(out) == ["README.md", "darts"] and entries(out / "darts") == written


class _Generator:
    """Stands in for a prior: yields ``count`` records, then fails, checking the output file as it goes."""

    def __init__(self, out: Path, count: int):
        self.space = get_space("nb201")
        self.out, self.count = out, count
        self.seen_on_disk: list[str] = []

    def iter_generate(self, num_samples, **kwargs):
        cells = space_cells(self.space, num_samples=self.count, progress=False)
        for k, cell in enumerate(cells):
            yield {
                "cell": self.space.format(cell),
                "id": self.space.canonical_id(cell),
                "valid": True,
                "k": k,
            }
        (partial,) = self.out.parent.glob(f".{self.out.name}.*.tmp")
        self.seen_on_disk = partial.read_text().split("\n")[:-1]  # complete lines only
        raise RuntimeError("the prior broke")


def test_generate_writes_records_to_its_file_as_they_come(tmp_path, capsys):
    out = tmp_path / "samples.jsonl"
    fake = _Generator(out, count=300)  # about 40 kB of records, several times a write buffer
    with mock.patch("archllm_hf.generation.ArchitectureGenerator.from_pretrained", return_value=fake):
        assert cli_main(["generate", "--prior", "p", "--num", "1000", "--out", str(out), "-q"]) == 2
    assert "the prior broke" in capsys.readouterr().err
    assert len(fake.seen_on_disk) >= 200  # on disk while the generator still ran, in order
    assert [json.loads(line)["k"] for line in fake.seen_on_disk] == list(range(len(fake.seen_on_disk)))
    assert list(tmp_path.iterdir()) == []  # a failed run leaves neither the file nor its temporary


def test_proxy_columns_stream_with_the_rows(tmp_path):
    """With proxies the cells (not the records) are listed first for the proxy cache; the rows are the same."""
    from archllm_hf.data.proxies import proxy_table

    space = get_space("nb201")
    with mock.patch.object(build_module, "WRITE_BATCH_SIZE", 2):
        built = build_cells_dataset(
            space, num_samples=6, seed=2, proxies=["params"], progress=False, cache_dir=tmp_path
        )
    cells = space_cells(space, num_samples=6, seed=2, progress=False)
    values = {
        cell_id: {"proxy_params": row["params"]}
        for cell_id, row in proxy_table(space, cells, ["params"]).items()
    }
    rows, features = expected_rows("nb201", 6, 2, values)
    assert {split: built[split].to_list() for split in SPLITS} == rows
    assert built["train"].features == features


def test_builds_go_to_the_cells_cache_by_default(tmp_path, monkeypatch):
    monkeypatch.setenv(build_module.CELLS_CACHE_ENV, str(tmp_path / "cells"))
    built = build_cells_dataset("nb201", num_samples=5, progress=False)
    (folder,) = entries(tmp_path / "cells")
    assert Path(built["train"].cache_files[0]["filename"]).parent == tmp_path / "cells" / folder
    monkeypatch.delenv(build_module.CELLS_CACHE_ENV)
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path / "hf")
    assert build_module.default_cells_cache() == tmp_path / "hf" / "archllm_cells"


def test_the_same_build_replaces_its_files_and_another_gets_its_own(tmp_path):
    cache = tmp_path / "cache"
    first = build_cells_dataset("nb201", num_samples=30, progress=False, cache_dir=cache)
    rows = first["train"].to_list()
    again = build_cells_dataset("nb201", num_samples=30, progress=False, cache_dir=cache)
    assert len(entries(cache)) == 1  # replaced, not added
    assert again["train"].to_list() == rows
    assert first["train"].to_list() == rows  # a dataset of the replaced files still reads them
    build_cells_dataset("nb201", num_samples=30, seed=1, progress=False, cache_dir=cache)
    build_cells_dataset("nb201", num_samples=31, progress=False, cache_dir=cache)
    assert len(entries(cache)) == 3 and not [name for name in entries(cache) if name.startswith(".")]
