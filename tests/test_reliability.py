"""Issue 23, "nothing lost, nothing wrong, nothing hangs": bad input through the CLI and the Python API ends in a
clear error before any work, never in a wrong result, a hang, a traceback or lost files."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from conftest import REPO_ROOT
from fixtures import tiny_nb201_prior

from archllm_hf.cli import main as cli
from archllm_hf.data import build_cells_dataset, load_cells_repo, write_dataset_config
from archllm_hf.data.metrics import load_metric_table
from archllm_hf.generation.baselines import UniformSampler
from archllm_hf.spaces import get_space
from archllm_hf.utils import atomic_save_figure, folder_lock

pytestmark = pytest.mark.usefixtures("one_torch_thread")

ARCH = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|none~1|nor_conv_1x1~2|"
NATS_HEADER = "ArchitectureString,CIFAR10TestAccuracy200Epochs,CIFAR100TestAccuracy200Epochs,ImageNetTestAccuracy200Epochs"


def error_of(args: list[str], capsys) -> str:
    """Run the CLI, check that it ended in one clear error (status 2, no traceback), and return the message."""
    assert cli(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("archllm: error: ") and "Traceback" not in err
    return err


# --- 2: archllm evaluate judges the cells, not the file ----------------------------------------------------------


def test_evaluate_rejudges_every_cell(tmp_path, capsys):
    samples = tmp_path / "samples.jsonl"
    samples.write_text(json.dumps({"cell": "garbage", "id": "g", "valid": True}) + "\n")
    assert cli(["evaluate", str(samples), "--space", "nb201"]) == 0
    assert json.loads(capsys.readouterr().out)["validity"] == 0.0

    samples.write_text(json.dumps({"cell": ARCH, "id": ARCH, "valid": True}) + "\n")
    assert cli(["evaluate", str(samples), "--space", "darts"]) == 0
    assert json.loads(capsys.readouterr().out)["validity"] == 0.0
    assert cli(["evaluate", str(samples), "--space", "nb201"]) == 0
    assert json.loads(capsys.readouterr().out)["validity"] == 1.0

    samples.write_text("")
    assert "no samples" in error_of(["evaluate", str(samples), "--space", "nb201"], capsys)


def test_evaluate_names_a_training_ids_file_that_is_not_utf8(tmp_path, capsys):
    samples = tmp_path / "samples.jsonl"
    samples.write_text(json.dumps({"cell": ARCH}) + "\n")
    ids = tmp_path / "train-ids.txt"
    ids.write_bytes(f"{ARCH}\ncaf\xe9\n".encode("latin-1"))
    err = error_of(["evaluate", str(samples), "--space", "nb201", "--train-ids", str(ids)], capsys)
    assert "train-ids.txt: not UTF-8 text" in err
    ids.write_text(f"{ARCH}\n")
    assert cli(["evaluate", str(samples), "--space", "nb201", "--train-ids", str(ids)]) == 0
    assert json.loads(capsys.readouterr().out)["novelty"] == 0.0


# --- 3: impossible requests are refused up front -----------------------------------------------------------------


def test_data_build_refuses_more_cells_than_the_space_has(tmp_path, capsys):
    out = tmp_path / "data"
    err = error_of(
        ["data", "build", "--space", "nb201", "--num-samples", "100000", "--out", str(out), "-q"], capsys
    )
    assert "has 15,625" in err
    args = ["data", "build", "--space", "darts", "--num-samples", "1000000000", "--out", str(out), "-q"]
    assert "limit of 5,000,000" in error_of(args, capsys)
    assert not out.exists()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"num_samples": 20_000, "without_replacement": True}, "has only 15,625 cells"),
        ({"num_samples": 1_000_000_000}, "num_samples must be in"),
        ({"num_samples": 2.5}, "num_samples must be an int"),
        ({"num_samples": 10, "top_p": 1.5}, r"top_p must be in \(0, 1\]"),
        ({"num_samples": 10, "temperature": math.nan}, "temperature must be a finite number"),
        ({"num_samples": 10, "batch_size": 0}, "batch_size must be"),
        ({"num_samples": 10, "seed": 2**64}, "seed must be in"),  # torch: "Overflow when unpacking long long"
        ({"num_samples": 10, "seed": 1.5}, "seed must be an int"),
    ],
)
def test_generation_refuses_impossible_or_malformed_requests(kwargs, message):
    sampler = UniformSampler(get_space("nb201"))
    with pytest.raises(ValueError, match=message):
        sampler.iter_generate(**kwargs)  # refused before anything is drawn


def test_pipeline_num_samples_must_be_an_int(tmp_path):
    from transformers import pipeline

    prior = tiny_nb201_prior(tmp_path / "models", num_cells=64)
    pipe = pipeline("architecture-generation", model=str(prior), device="cpu")
    with pytest.raises(ValueError, match="num_samples must be an int"):
        pipe(num_samples=2.5)
    with pytest.raises(ValueError, match="top_p"):
        pipe(num_samples=3, top_p=1.5)
    assert len(pipe(num_samples=3, seed=0)) == 3


# --- 5: outputs are checked before the work starts ---------------------------------------------------------------


def test_generate_and_search_check_their_output_first(tmp_path, capsys, shared_data):
    folder = tmp_path / "a-folder"
    folder.mkdir()
    # the prior does not exist: the --out error comes first, before anything is loaded
    err = error_of(
        ["generate", "--prior", str(tmp_path / "no-prior"), "--num", "5", "--out", str(folder)], capsys
    )
    assert "is a folder" in err
    file = tmp_path / "a-file"
    file.write_text("x")
    # --draw (the drawings' folder) is checked before the work too, not after the samples are drawn
    args = ["generate", "--prior", str(tmp_path / "no-prior"), "--num", "5"]
    args += ["--out", str(tmp_path / "s.jsonl")]
    err = error_of([*args, "--draw", str(file)], capsys)
    assert "--draw" in err and "is a file" in err
    assert "is a file, not a folder" in error_of([*args, "--draw", str(file / "sheets")], capsys)
    args = ["search", "--space", "nb201", "--metrics", str(shared_data / "nb201/nats_tss_test_acc_200ep.csv")]
    args += ["--objective", "cifar10_test_acc_200ep", "--algorithm", "random", "--budget", "3", "-q"]
    assert "is a file" in error_of([*args, "--out", str(file)], capsys)
    assert "is a file, not a folder" in error_of([*args, "--out", str(file / "sub")], capsys)


# --- 7 and 9: metrics tables ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("bad", ["nan", "inf", "-inf", "NaN"])
def test_metrics_refuse_non_finite_values(tmp_path, bad):
    table = tmp_path / "nats.csv"
    table.write_text(f"{NATS_HEADER}\n{ARCH},{bad},70.0,40.0\n")
    with pytest.raises(ValueError, match="not a finite number"):
        load_metric_table(get_space("nb201"), table)
    darts = get_space("darts")
    key = darts.format_compact(darts.sample(1, seed=0)[0])
    path = tmp_path / "darts.json"
    path.write_text(json.dumps({"cifar10": {key: {"val_accuracy": float(bad)}}}))  # NaN / Infinity in JSON
    with pytest.raises(ValueError, match="not a finite number"):
        load_metric_table(darts, path)


def test_metrics_table_with_a_byte_order_mark_is_read(tmp_path):
    table = tmp_path / "nats.csv"
    table.write_bytes(("\ufeff" + f"{NATS_HEADER}\n{ARCH},93.5,70.0,40.0\n").encode("utf-8"))
    values = load_metric_table(get_space("nb201"), table).values
    assert values[ARCH]["cifar10_test_acc_200ep"] == 93.5


def test_metrics_errors_name_the_file_and_stay_short(tmp_path):
    space = get_space("nb201")
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes(f"{NATS_HEADER}\n{ARCH},93.5,70.0,40.0 caf\xe9\n".encode("latin-1"))
    with pytest.raises(ValueError, match=r"latin1\.csv: not UTF-8"):
        load_metric_table(space, latin1)
    huge = tmp_path / "huge.csv"
    huge.write_text(f"{NATS_HEADER}\n{'x' * 200_000},1,2,3\n")  # one field over csv's 128 KB limit
    with pytest.raises(ValueError, match=r"huge\.csv") as info:
        load_metric_table(space, huge)
    assert len(str(info.value)) < 1000
    long_arch = tmp_path / "long.csv"
    long_arch.write_text(f"{NATS_HEADER}\n|{'none~0' * 20_000}|,1,2,3\n")
    with pytest.raises(ValueError, match="chars") as info:
        load_metric_table(space, long_arch)
    assert len(str(info.value)) < 1000  # the 1 MB string is not echoed whole
    darts_json = tmp_path / "darts.json"
    darts_json.write_text('{"cifar10": {"[[(0, 1)]]": {"no_accuracy": 1}}}')
    with pytest.raises(ValueError, match=r"darts\.json"):
        load_metric_table(get_space("darts"), darts_json)


# --- 8 and 9: tracebacks and misleading errors become clear errors ------------------------------------------------


def test_cli_clear_errors(tmp_path, capsys):
    import torch

    if not torch.cuda.is_available():  # a CPU-only torch (the AssertionError of before)
        args = ["generate", "--prior", "p", "--num", "1", "--out", str(tmp_path / "o"), "--device", "cuda"]
        assert "no CUDA" in error_of(args, capsys)
    assert "not a torch device" in error_of(
        ["generate", "--prior", "p", "--num", "1", "--out", str(tmp_path / "o"), "--device", "gpu9"], capsys
    )
    args = ["build-net", "--space", "nb201", "--cell", ARCH]
    assert "--input-size must be in [1, 1024]" in error_of([*args, "--input-size", "100000"], capsys)
    missing = str(tmp_path / "runs" / "prior")
    err = error_of(["generate", "--prior", missing, "--num", "1", "--out", str(tmp_path / "o")], capsys)
    assert "no such folder" in err and "Hub connection" not in err
    err = error_of(["build-net", "--space", "nb201", "--cell", "|" + "x" * 1_000_000], capsys)
    assert len(err) < 2000


def test_ctrl_c_while_importing_is_one_line(tmp_path):
    """A KeyboardInterrupt raised while the package imports (simulated by an import hook) is no traceback.
    (``archllm --help`` no longer imports transformers, so the hook interrupts the import of the command line.)"""
    script = (
        "import sys\n"
        "class Interrupt:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'archllm_hf.cli':\n"
        "            raise KeyboardInterrupt\n"
        "sys.meta_path.insert(0, Interrupt())\n"
        "import archllm_cli\n"
        "sys.exit(archllm_cli.main())\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, "--help"], capture_output=True, text=True, cwd=tmp_path
    )
    assert done.returncode == 130 and done.stderr.strip() == "archllm: interrupted"


def test_a_reader_that_is_gone_is_no_error(tmp_path):
    """``archllm evaluate FILE | head -0`` in a real process: the pipe's reader is gone before the command prints; it
    ends quietly with 141 (the status a shell reports for SIGPIPE), no traceback and nothing on stderr."""
    samples = tmp_path / "samples.jsonl"
    samples.write_text(json.dumps({"cell": ARCH}) + "\n")
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT / "src"), "HF_HUB_OFFLINE": "1"}
    argv = [sys.executable, "-m", "archllm_cli", "evaluate", str(samples), "--space", "nb201"]
    process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=tmp_path)
    process.stdout.close()  # the reader goes away before the command has written anything
    err = process.stderr.read().decode()
    assert process.wait(timeout=300) == 141 and err == ""


def test_broken_pipe_while_printing_exits_quietly(monkeypatch, capsys):
    """``archllm ... | head -1``: the reader going away is not reported as an error."""
    import archllm_hf.cli as cli_module

    def broken(args, argv):
        raise BrokenPipeError

    monkeypatch.setattr(cli_module, "_silence_stdout", lambda: None)  # keep pytest's stdout
    monkeypatch.setattr(cli_module, "_cmd_evaluate", broken)
    assert cli(["evaluate", "x", "--space", "nb201"]) == 141
    assert capsys.readouterr().err == ""


# --- 4 and 6: one folder, one run; nothing lost -----------------------------------------------------------------


def test_atomic_save_figure_uses_a_unique_temporary_name(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    other = tmp_path / ".curve.png.tmp.png"  # the fixed temporary name of before: another run's file
    other.write_text("another run's figure")
    fig, _ = plt.subplots()
    atomic_save_figure(fig, tmp_path / "curve.png")
    assert other.read_text() == "another run's figure"
    assert sorted(p.name for p in tmp_path.iterdir()) == [".curve.png.tmp.png", "curve.png"]


@pytest.mark.parametrize("umask,mode", [(0o022, 0o644), (0o077, 0o600)])
def test_atomic_writes_give_the_mode_open_would(tmp_path, umask, mode):
    """A file written through a temporary one has the mode a plain ``open()`` gives under the umask (the
    temporary file's 0600 must not stick to results, samples and figures)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from archllm_hf.utils import atomic_write_json, atomic_writer

    previous = os.umask(umask)
    try:
        atomic_write_json(tmp_path / "result.json", {"a": 1})
        with atomic_writer(tmp_path / "samples.jsonl") as handle:
            handle.write("{}\n")
        fig, _ = plt.subplots()
        atomic_save_figure(fig, tmp_path / "curve.png")
        with open(tmp_path / "plain.txt", "w") as handle:
            handle.write("x")
    finally:
        os.umask(previous)
    modes = {p.name: p.stat().st_mode & 0o777 for p in tmp_path.iterdir()}
    assert modes == dict.fromkeys(["result.json", "samples.jsonl", "curve.png", "plain.txt"], mode)


def search_args(shared_data: Path, out: Path, seed: int, budget: int = 12) -> list[str]:
    return [
        "search", "--space", "nb201", "--metrics", str(shared_data / "nb201/nats_tss_test_acc_200ep.csv"),
        "--objective", "cifar10_test_acc_200ep", "--algorithm", "evolution", "--budget", str(budget),
        "--seed", str(seed), "--out", str(out), "-q",
    ]  # fmt: skip


def test_a_search_folder_in_use_is_refused(tmp_path, capsys, shared_data):
    out = tmp_path / "out"
    with folder_lock(out):
        assert "in use by another archllm run" in error_of(search_args(shared_data, out, 0), capsys)
    assert not (out / "history.jsonl").exists()
    assert cli(search_args(shared_data, out, 0)) == 0


HOLD_LOCK = """import sys
from archllm_hf.utils import folder_lock
with folder_lock(sys.argv[1]):
    print("held", flush=True)
    sys.stdin.read()  # until the test closes stdin
"""


def test_a_search_folder_another_process_holds_is_refused(tmp_path, capsys, shared_data):
    """Two runs at once: a second process holds --out (as a running search does); this search is refused at once
    and writes nothing; once the other process is done, the folder is free."""
    out = tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT / "src")}
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(out)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert holder.stdout.readline() == "held\n"
        assert "in use by another archllm run" in error_of(search_args(shared_data, out, 0), capsys)
        assert sorted(p.name for p in out.iterdir()) == [
            ".archllm.lock"
        ]  # the holder's lock, nothing of ours
    finally:
        holder.stdin.close()
        holder.wait(timeout=60)
    assert holder.returncode == 0
    assert cli(search_args(shared_data, out, 0)) == 0
    assert len((out / "history.jsonl").read_text().splitlines()) == 12


@contextmanager
def interrupted_after(queries: int) -> Iterator[None]:
    """Inside the block, a search is interrupted (Ctrl-C) when it asks for its query number ``queries + 1``."""
    from archllm_hf.search import base

    original = base.SearchRun.query

    def interrupted(self, cell):  # noqa: ANN001, ANN202
        if len(self.history) == queries:
            raise KeyboardInterrupt
        return original(self, cell)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(base.SearchRun, "query", interrupted)
        yield


def test_an_interrupted_search_keeps_its_queries_and_resumes(tmp_path, capsys, shared_data):
    reference = tmp_path / "reference"
    assert cli(search_args(shared_data, reference, 5)) == 0
    expected = (reference / "history.jsonl").read_text()

    out = tmp_path / "out"
    with interrupted_after(7):
        assert cli(search_args(shared_data, out, 5)) == 130
    kept = (out / "history.jsonl").read_text().splitlines()
    assert len(kept) == 7 and kept == expected.splitlines()[:7]  # written as the queries happened

    assert cli(search_args(shared_data, out, 5)) == 0  # the same search again resumes it
    assert (out / "history.jsonl").read_text() == expected
    capsys.readouterr()
    err = error_of(search_args(shared_data, out, 6), capsys)  # another seed: refused, files kept
    assert "another search's results (it differs in seed)" in err
    assert (out / "history.jsonl").read_text() == expected
    assert cli([*search_args(shared_data, out, 6), "--overwrite"]) == 0
    assert (out / "history.jsonl").read_text() != expected


def test_a_search_an_older_version_recorded_resumes(tmp_path, capsys, shared_data):
    """A setting an older version did not record (the predictor, say) counts as its default, None: the search
    resumes; a setting recorded with another value is named in the refusal."""
    out = tmp_path / "out"
    with interrupted_after(4):
        assert cli(search_args(shared_data, out, 5)) == 130
    info = json.loads((out / "search.json").read_text())
    assert info.pop("predictor") is None
    (out / "search.json").write_text(json.dumps(info))  # as the previous version wrote it
    assert cli(search_args(shared_data, out, 5)) == 0
    assert len((out / "history.jsonl").read_text().splitlines()) == 12
    info["seed"], info["extra"] = 5, "x"
    (out / "search.json").write_text(json.dumps(info))
    capsys.readouterr()
    assert "(it differs in extra)" in error_of(search_args(shared_data, out, 5), capsys)


def test_a_killed_data_build_leaves_nothing_that_stays_or_uploads(tmp_path):
    out = tmp_path / "data"
    cells = build_cells_dataset("nb201", num_samples=40, progress=False)
    stale = out / ".nb201.k1ll3d.tmp"  # what a killed build leaves
    stale.mkdir(parents=True)
    (stale / "train-00000-of-00001.parquet").write_bytes(b"partial")
    write_dataset_config(cells, out, "nb201")
    assert not stale.exists()
    assert sorted(p.name for p in out.iterdir()) == ["README.md", "nb201"]
    assert load_cells_repo(out, "nb201")["train"].num_rows == cells["train"].num_rows


def test_a_killed_builds_temporary_folder_is_never_uploaded(tmp_path):
    """``data build --push-to-hub`` sends the configs' files, never a killed build's ``.nb201.XXXX.tmp/`` (the
    patterns given to ``upload_folder`` applied to the folder as huggingface_hub applies them)."""
    from unittest import mock

    from huggingface_hub.utils import filter_repo_objects

    from archllm_hf.data.repo import upload_dataset_repo

    out = tmp_path / "data"
    write_dataset_config(build_cells_dataset("nb201", num_samples=40, progress=False), out, "nb201")
    stale = out / ".nb201.k1ll3d.tmp"  # a build killed after this one's rename would leave it
    stale.mkdir()
    (stale / "train-00000-of-00001.parquet").write_bytes(b"partial")
    with (
        mock.patch("huggingface_hub.HfApi.create_repo"),
        mock.patch("huggingface_hub.HfApi.upload_folder", return_value="https://example/commit") as upload,
    ):
        upload_dataset_repo(out, "me/cells")
    kwargs = upload.call_args.kwargs
    files = [p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()]
    sent = filter_repo_objects(
        files, allow_patterns=kwargs.get("allow_patterns"), ignore_patterns=kwargs.get("ignore_patterns")
    )
    assert sorted(sent) == ["README.md"] + sorted(f"nb201/{p.name}" for p in (out / "nb201").iterdir())


def test_the_console_script_entry_point_is_thin():
    text = (REPO_ROOT / "pyproject.toml").read_text()
    assert 'archllm = "archllm_cli:main"' in text


def test_the_readme_quotes_the_robustness_results():
    """The README's Reliability section quotes ``benchmarks/results/robustness.json``: its headline counts, and every
    quoted message or output in its table's outcome column is one that a case of the results file printed."""
    import re

    result = json.loads((REPO_ROOT / "benchmarks" / "results" / "robustness.json").read_text())
    section = (REPO_ROOT / "README.md").read_text().split("\n## Reliability\n", 1)[1].split("\n## ", 1)[0]
    outcomes = result["outcomes"]
    headline = (
        f"**{result['as_expected']} of {result['num_cases']} cases as expected, {outcomes['clear error']} clear "
        f"errors and {outcomes['ok']} correct results"
    )
    assert headline in " ".join(section.split())
    assert set(outcomes) == {"clear error", "ok"}  # no traceback, hang, wrong result or unclear ending
    assert f"torch {result['torch']}" in section and (result["gpu"] is None) == ("(CPU," in section)
    printed = [text for case in result["cases"] for text in (case["message"], case.get("output")) if text]
    rows = [line for line in section.splitlines() if line.startswith("| ") and not line.startswith("| input")]
    assert len(rows) >= 5
    for row in rows:
        outcome = row.strip("| ").split(" | ")[-1]
        code = re.findall(r"`([^`]+)`", outcome)
        quoted = re.findall(r'"([^"]+)"', re.sub(r"`[^`]+`", "", outcome))
        assert code or quoted, row
        for snippet in code + quoted:
            assert any(snippet in text for text in printed), f"{snippet!r} is printed by no case"
