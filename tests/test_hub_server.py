"""The local Hub for tests (tests/hub_server.py): olah serving git work trees, loaded by repo id from a fresh process.

A tiny Llama model + WordLevel tokenizer repo and a two-config parquet dataset repo are written here, served, and
loaded in a child process (empty HF_HOME, no offline switches) by ``from_pretrained``, ``hf_hub_download`` and
``load_dataset`` without a revision. The child refuses any connection that is not to 127.0.0.1.
"""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import hub_server
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import torch
from hub_server import LocalHub, git_commit_folder, hub_env

MODEL_ID = "test-org/tiny-lm"
DATASET_ID = "test-org/tiny-cells"
VOCAB = ["[PAD]", "[UNK]", "[BOS]", "[EOS]", "conv1x1", "conv3x3", "maxpool", "avgpool", "skip", "none"]
TEXT = "conv3x3 skip maxpool unknown-op none"
NOTES = "served from a git work tree\n"
ROWS = {
    "nb101": [{"cell": "conv3x3 maxpool", "accuracy": 0.91}, {"cell": "conv1x1 skip", "accuracy": 0.88}],
    "nb201": [
        {"cell": "skip none avgpool", "accuracy": 0.71},
        {"cell": "conv3x3 conv3x3 conv1x1", "accuracy": 0.93},
        {"cell": "none none none", "accuracy": 0.10},
    ],
}
DATASET_README = """\
---
configs:
- config_name: nb101
  data_files:
  - split: train
    path: nb101/train.parquet
- config_name: nb201
  data_files:
  - split: train
    path: nb201/train.parquet
---
# tiny-cells

Two tiny configs for the local hub test.
"""

# Runs in a fresh interpreter with hub_env(...): loads everything by repo id and writes what it got as JSON.
CHILD = textwrap.dedent(
    """
    import json
    import os
    import socket
    import sys

    refused = []
    _connect = socket.socket.connect


    def local_only(self, address):
        if self.family in (socket.AF_INET, socket.AF_INET6) and address[0] not in ("127.0.0.1", "::1"):
            refused.append(str(address))
            raise ConnectionRefusedError(f"the test allows 127.0.0.1 only, not {address}")
        return _connect(self, address)


    socket.socket.connect = local_only

    import datasets
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import RemoteEntryNotFoundError
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model_id, dataset_id, text, out = sys.argv[1:]
    home = os.path.realpath(os.environ["HF_HOME"])
    got = {}

    model = AutoModelForCausalLM.from_pretrained(model_id)
    got["model_class"] = type(model).__name__
    got["state_dict"] = {k: v.tolist() for k, v in model.state_dict().items()}

    tokenizer = AutoTokenizer.from_pretrained(model_id)
    got["vocab"] = tokenizer.get_vocab()
    got["ids"] = tokenizer(text)["input_ids"]
    got["special"] = [tokenizer.pad_token, tokenizer.unk_token, tokenizer.bos_token, tokenizer.eos_token]

    path = hf_hub_download(model_id, "extra/notes.txt")
    got["notes"] = open(path).read()
    got["notes_in_home"] = os.path.realpath(path).startswith(home)
    try:
        hf_hub_download(model_id, "extra/missing.txt")
        got["missing"] = None
    except RemoteEntryNotFoundError as error:
        got["missing"] = type(error).__name__

    got["rows"], got["dataset_files_in_home"] = {}, {}
    for config in ("nb101", "nb201"):
        dataset = datasets.load_dataset(dataset_id, config)
        got["rows"][config] = {split: dataset[split].to_list() for split in dataset}
        files = [f["filename"] for split in dataset for f in dataset[split].cache_files]
        got["dataset_files_in_home"][config] = bool(files) and all(
            os.path.realpath(f).startswith(home) for f in files
        )

    got["refused"] = refused
    with open(out, "w") as f:
        json.dump(got, f)
    """
)


def _write_model_repo(repo: Path) -> dict[str, torch.Tensor]:
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    repo.mkdir(parents=True)
    config = LlamaConfig(
        vocab_size=16,
        hidden_size=8,
        intermediate_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=1,
        max_position_embeddings=32,
        pad_token_id=0,
        bos_token_id=2,
        eos_token_id=3,
    )
    torch.manual_seed(0)
    model = LlamaForCausalLM(config)
    model.save_pretrained(repo)

    backend = Tokenizer(models.WordLevel({t: i for i, t in enumerate(VOCAB)}, unk_token="[UNK]"))
    backend.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend, pad_token="[PAD]", unk_token="[UNK]", bos_token="[BOS]", eos_token="[EOS]"
    )
    tokenizer.save_pretrained(repo)

    (repo / "extra").mkdir()
    (repo / "extra" / "notes.txt").write_text(NOTES)
    git_commit_folder(repo)
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


def _write_dataset_repo(repo: Path) -> None:
    for config, rows in ROWS.items():
        (repo / config).mkdir(parents=True)
        pq.write_table(pa.Table.from_pylist(rows), repo / config / "train.parquet")
    (repo / "README.md").write_text(DATASET_README)
    git_commit_folder(repo)


@pytest.fixture(scope="module")
def mirrors(tmp_path_factory) -> tuple[Path, dict[str, torch.Tensor]]:
    root = tmp_path_factory.mktemp("mirrors")
    weights = _write_model_repo(root / "models" / MODEL_ID)
    _write_dataset_repo(root / "datasets" / DATASET_ID)
    return root, weights


@pytest.fixture(scope="module")
def hub(mirrors) -> Iterator[LocalHub]:
    with LocalHub(mirrors[0]) as hub:
        yield hub
    assert not hub.running


@pytest.fixture(scope="module")
def loaded(hub, tmp_path_factory) -> dict:
    work = tmp_path_factory.mktemp("child")
    (work / "hf_home").mkdir()
    (work / "child.py").write_text(CHILD)
    out = work / "loaded.json"
    result = subprocess.run(
        [sys.executable, str(work / "child.py"), MODEL_ID, DATASET_ID, TEXT, str(out)],
        env=hub_env(hub.endpoint, work / "hf_home"),
        cwd=work,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    return json.loads(out.read_text())


def _get(hub: LocalHub, path: str, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", hub.port, timeout=10)
    try:
        conn.request(method, path)
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def test_the_model_loads_by_repo_id_with_the_weights_written(mirrors, loaded):
    _, weights = mirrors
    assert loaded["model_class"] == "LlamaForCausalLM"
    assert loaded["state_dict"].keys() == weights.keys()
    for name, tensor in weights.items():
        assert torch.equal(torch.tensor(loaded["state_dict"][name], dtype=tensor.dtype), tensor), name


def test_the_tokenizer_loads_by_repo_id(loaded):
    assert loaded["vocab"] == {t: i for i, t in enumerate(VOCAB)}
    assert loaded["ids"] == [VOCAB.index(t) if t in VOCAB else VOCAB.index("[UNK]") for t in TEXT.split()]
    assert loaded["special"] == ["[PAD]", "[UNK]", "[BOS]", "[EOS]"]


def test_hf_hub_download_fetches_files_and_reports_missing_ones(loaded):
    assert loaded["notes"] == NOTES
    assert loaded["notes_in_home"]  # downloaded into the child's empty HF_HOME, not found in some other cache
    assert (
        loaded["missing"] == "RemoteEntryNotFoundError"
    )  # the Hub's answer, not an offline LocalEntryNotFound


def test_load_dataset_without_a_revision_gives_each_config_its_rows(loaded):
    assert loaded["rows"] == {config: {"train": rows} for config, rows in ROWS.items()}
    assert loaded["dataset_files_in_home"] == {"nb101": True, "nb201": True}


def test_nothing_but_the_local_hub_was_contacted(loaded):
    assert loaded["refused"] == []


def test_the_middleware_answers_like_the_hub(hub, mirrors):
    head = subprocess.run(
        ["git", "-C", str(mirrors[0] / "models" / MODEL_ID), "rev-parse", "HEAD"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    status, _, body = _get(hub, f"/api/models/{MODEL_ID}")  # no revision: rewritten to .../revision/main
    assert status == 200 and json.loads(body)["sha"] == head
    status, _, body = _get(hub, f"/api/datasets/{DATASET_ID}")
    assert status == 200 and json.loads(body)["id"] == DATASET_ID

    for method in ("GET", "HEAD"):
        status, headers, body = _get(hub, f"/{MODEL_ID}/resolve/main/missing.json", method)
        assert (status, headers.get("x-error-code"), body) == (404, "EntryNotFound", b"")
    status, headers, _ = _get(hub, f"/api/models/{MODEL_ID}/tree/main/no-such-folder")
    assert (status, headers.get("x-error-code")) == (404, "EntryNotFound")
    status, _, _ = _get(
        hub, "/api/models/test-org/no-such-repo"
    )  # a missing repo stays "repository not found"
    assert status == 401


def test_git_commit_folder_commits_changes_on_main(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "a.txt").write_text("1")

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True
        ).stdout.strip()

    git_commit_folder(repo)
    assert git("rev-parse", "--abbrev-ref", "HEAD") == "main"
    first = git("rev-parse", "HEAD")
    git_commit_folder(repo)  # nothing changed: no new commit
    assert git("rev-parse", "HEAD") == first
    (repo / "a.txt").write_text("2")
    (repo / "b.txt").write_text("new")
    git_commit_folder(repo)
    assert git("rev-parse", "HEAD~1") == first
    assert git("status", "--porcelain") == ""
    assert git("show", "HEAD:a.txt") == "2" and git("show", "HEAD:b.txt") == "new"


def test_the_server_is_stopped_and_its_folder_removed_on_exit_and_on_failure(tmp_path, monkeypatch):
    started = []
    popen = subprocess.Popen

    def recording_popen(*args, **kwargs):
        started.append((popen(*args, **kwargs), Path(kwargs["cwd"])))
        return started[-1][0]

    monkeypatch.setattr(hub_server.subprocess, "Popen", recording_popen)
    with LocalHub(tmp_path) as hub:
        assert hub.running and _get(hub, "/api/models/test-org/none")[0] == 401
    process, folder = started[-1]
    assert process.poll() is not None and not folder.exists()

    hub = LocalHub(tmp_path, timeout=0)  # gives up at the first probe: the server is still starting
    with pytest.raises(RuntimeError, match="did not answer"):
        hub.__enter__()
    process, folder = started[-1]
    assert process.poll() is not None and not folder.exists() and not hub.running

    with pytest.raises(FileNotFoundError):
        LocalHub(tmp_path / "nowhere").__enter__()
