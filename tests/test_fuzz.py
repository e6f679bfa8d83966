"""Issue 23: generated bad input through the CLI's argument parser, the metrics reader and the samples reader ends
in a clear error (or a correct result), never in a traceback or an unexpected exception type."""

from __future__ import annotations

import json
import math
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import archllm_hf.cli as cli_module
from archllm_hf.data.metrics import load_metric_table
from archllm_hf.errors import ArchLLMError
from archllm_hf.scoring import score_jsonl
from archllm_hf.spaces import get_space

ARCH = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|none~1|nor_conv_1x1~2|"
COMMANDS = [
    ["data", "build"], ["train-vqvae"], ["train-prior"], ["generate"], ["evaluate"], ["search"],
    ["train-predictor"], ["build-net"], ["fetch-llm"], ["release"], ["run"], ["nope"], [],
]  # fmt: skip
OPTIONS = [
    "--space", "--out", "--num-samples", "--num", "--prior", "--device", "--seed", "--budget", "--algorithm",
    "--metrics", "--objective", "--top-p", "--temperature", "--batch-size", "--cell", "--input-size", "--force",
    "--overwrite", "--without-replacement", "-q", "-v", "--help",
]  # fmt: skip
VALUES = [
    "nb201", "nb101", "darts", "all", "0", "-1", "2.5", "1e309", "nan", "inf", "100000", "cuda", "cuda:7", "cpu",
    "mps", "meta", "gpu", "", " ", ".", "..", "/", "random", "bo", "generative", "\x00", "é", "☃", ARCH, "x" * 300,
]  # fmt: skip


def _stub(args, argv):
    return 0


@pytest.fixture()
def stubbed_handlers(monkeypatch):
    """The parser and the checks before a handler run for real; the handlers (the work) are stubs."""
    for name in dir(cli_module):
        if name.startswith("_cmd_"):
            monkeypatch.setattr(cli_module, name, _stub)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    command=st.sampled_from(COMMANDS),
    tokens=st.lists(
        st.one_of(st.sampled_from(OPTIONS), st.sampled_from(VALUES), st.text(max_size=12)), max_size=8
    ),
)
def test_the_argument_parser_never_ends_in_a_traceback(stubbed_handlers, capsys, command, tokens):
    try:
        code = cli_module.main([*command, *tokens])
    except SystemExit as exit_:  # argparse: --help (0) or a usage error (2)
        code = exit_.code
    err = capsys.readouterr().err
    assert code in (0, 2), err
    assert "Traceback" not in err
    if code == 2:
        assert "error:" in err


def _csv_cells() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(["nan", "inf", "-inf", "", "1e309", "93.5", "x", '"', "1,2", ARCH, ARCH[:-1]]),
        st.text(max_size=20),
    )


@settings(max_examples=120, deadline=None)
@given(
    header=st.lists(
        st.sampled_from(
            [
                "ArchitectureString",
                "\ufeffArchitectureString",
                "CIFAR10TestAccuracy200Epochs",
                "CIFAR100TestAccuracy200Epochs",
                "ImageNetTestAccuracy200Epochs",
                "cellstr",
                "cifar10-val",
                "junk",
            ]
        ),
        max_size=5,
    ),
    rows=st.lists(st.lists(_csv_cells(), max_size=5), max_size=4),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "latin-1", "utf-16"]),
)
def test_the_nb201_metrics_reader_accepts_or_refuses_clearly(header, rows, encoding):
    text = "\n".join(",".join(row) for row in [header, *rows]) + "\n"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "table.csv"
        try:
            path.write_bytes(text.encode(encoding, errors="replace"))
        except UnicodeEncodeError:
            return
        _load_or_clear_error(get_space("nb201"), path)


_json = st.recursive(
    st.one_of(st.none(), st.booleans(), st.floats(), st.integers(), st.text(max_size=10)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=12,
)


@settings(max_examples=120, deadline=None)
@given(space=st.sampled_from(["nb101", "darts"]), data=_json)
def test_the_json_metrics_readers_accept_or_refuse_clearly(space, data):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "metrics.json"
        path.write_text(json.dumps(data))
        _load_or_clear_error(get_space(space), path)


def _load_or_clear_error(space, path: Path) -> None:
    try:
        table = load_metric_table(space, path)
    except (ValueError, ArchLLMError, FileNotFoundError) as err:
        assert str(err)
        assert len(str(err)) < 5000
        return
    for row in table.values.values():
        assert all(math.isfinite(value) for value in row.values())


@settings(max_examples=120, deadline=None)
@given(
    lines=st.lists(
        st.one_of(
            _json.map(json.dumps),
            st.fixed_dictionaries(
                {"cell": st.one_of(st.sampled_from([ARCH, ARCH[:-1], "", None]), _json)}
            ).map(json.dumps),
            st.text(max_size=30),
        ),
        max_size=6,
    ),
)
def test_the_samples_reader_scores_or_refuses_clearly(lines):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "samples.jsonl"
        path.write_text("\n".join(lines) + "\n")
        try:
            scores = score_jsonl(path, "nb201")
        except ValueError as err:
            assert str(err)
            return
    assert scores["num_generated"] >= 1
    assert 0.0 <= scores["validity"] <= 1.0


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(device=st.one_of(st.sampled_from(["gpu", "meta", "", "cuda:99", "xla", "\x00"]), st.text(max_size=8)))
def test_a_device_torch_cannot_use_is_never_a_silent_exit_0(stubbed_handlers, capsys, device):
    import torch

    try:
        parsed = torch.device(device)
        usable = parsed.type == "cpu" or (
            parsed.type == "cuda"
            and torch.cuda.is_available()
            and (parsed.index is None or parsed.index < torch.cuda.device_count())
        )
    except (RuntimeError, ValueError):
        usable = False
    code = cli_module.main(["generate", "--prior", "p", "--num", "1", "--out", "o", f"--device={device}"])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    if not usable:
        assert code == 2 and "--device" in err


SAMPLING_OPTIONS = ("--num", "--batch-size", "--temperature", "--top-k", "--top-p", "--seed")
NUMBERS = [
    "0", "1", "3", "-1", "2.5", "0.5", "1.5", "1e309", "nan", "inf", "-inf", "", "x", "10000001",
    "18446744073709551615", "18446744073709551616", "-9223372036854775808", "-9223372036854775809",
]  # fmt: skip


def _sampling_request_is_valid(options: dict[str, str]) -> bool:
    """Whether ``archllm generate`` should accept these options, from its documented rules (not from its code):
    --num an int in [0, 10,000,000], --batch-size an int >= 1, --temperature a finite number > 0, --top-k an
    int >= 1, --top-p in (0, 1], --seed an int torch takes ([-2**63, 2**64 - 1])."""
    if "--num" not in options:
        return False
    kinds = {"--temperature": float, "--top-p": float}
    try:
        values = {name: kinds.get(name, int)(text) for name, text in options.items()}
    except ValueError:
        return False  # argparse refuses it
    rules = {
        "--num": lambda v: 0 <= v <= 10_000_000,
        "--batch-size": lambda v: v >= 1,
        "--temperature": lambda v: math.isfinite(v) and v > 0,
        "--top-k": lambda v: v >= 1,
        "--top-p": lambda v: 0 < v <= 1,
        "--seed": lambda v: -(2**63) <= v <= 2**64 - 1,
    }
    return all(rules[name](value) for name, value in values.items())


@pytest.fixture(scope="module")
def tiny_prior(tmp_path_factory):
    from fixtures import tiny_nb201_prior

    return tiny_nb201_prior(tmp_path_factory.mktemp("prior"), num_cells=64)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(options=st.dictionaries(st.sampled_from(SAMPLING_OPTIONS), st.sampled_from(NUMBERS), max_size=6))
@example(options={"--num": "3", "--seed": "18446744073709551616"})  # past torch's seeds
@example(options={"--num": "3", "--top-p": "1.5", "--temperature": "nan"})
@example(options={"--num": "2.5"})
@example(options={"--num": "3", "--seed": "-9223372036854775808", "--top-k": "1", "--top-p": "0.5"})  # valid
def test_generate_accepts_exactly_the_valid_sampling_requests(tiny_prior, capsys, options):
    """``archllm generate`` run for real on a tiny prior: a valid request writes its samples (exit 0); any invalid
    number ends in one clear error line (exit 2) and no file, never a traceback or a silent exit 0."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "samples.jsonl"
        argv = ["generate", "--prior", str(tiny_prior), "--out", str(out), "-q"]
        argv += [f"{name}={value}" for name, value in options.items()]
        usage_error = False
        try:
            code = cli_module.main(argv)
        except (
            SystemExit
        ) as exit_:  # argparse: a value that is not a number, --num missing (usage + error line)
            code, usage_error = exit_.code, True
        err = capsys.readouterr().err
        assert "Traceback" not in err
        if _sampling_request_is_valid(options):
            assert code == 0, err
            assert len(out.read_text().splitlines()) == int(options["--num"])
        else:
            assert code == 2, err
            if usage_error:
                assert "archllm generate: error: " in err.strip().splitlines()[-1]
            else:
                assert err.startswith("archllm: error: ") and len(err.strip().splitlines()) == 1, err
            assert not out.exists()
