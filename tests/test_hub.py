"""The hub helper: how folders name each other (portable references), and saving that never leaves half a folder."""

from __future__ import annotations

import json

import pytest

from archllm_hf._hub import is_saved, read_summary, reference, resolve, save_folder


def test_a_local_folder_is_named_relative_to_the_one_that_refers_to_it(tmp_path):
    (tmp_path / "run" / "vqvae").mkdir(parents=True)
    assert reference(tmp_path / "run" / "vqvae", tmp_path / "run" / "prior") == "../vqvae"
    assert reference(tmp_path / "run" / "vqvae", tmp_path / "run") == "vqvae"
    assert reference("org/archvq-nb201", tmp_path / "run" / "prior") == "org/archvq-nb201"


def test_references_resolve_against_a_folder_or_a_repo(tmp_path):
    (tmp_path / "run" / "vqvae").mkdir(parents=True)
    (tmp_path / "run" / "prior").mkdir()
    prior = tmp_path / "run" / "prior"
    assert resolve("../vqvae", prior) == (str(prior / "../vqvae"), {})
    assert resolve("org/archvq-nb201", prior) == ("org/archvq-nb201", {})  # not a local folder: a repo id
    with pytest.raises(FileNotFoundError, match="not a folder"):
        resolve("../missing", prior)
    with pytest.raises(FileNotFoundError, match="not a folder"):
        resolve("vqvae", prior)  # a plain name is a relative path, never looked up elsewhere
    # relative to a Hub repo: a relative path is a subfolder of that repo, anything else with a slash another repo
    assert resolve("vqvae", "org/archvq-nb201") == ("org/archvq-nb201", {"subfolder": "vqvae"})
    assert resolve("../vqvae", "org/archvq-nb201", "prior") == ("org/archvq-nb201", {"subfolder": "vqvae"})
    assert resolve("org/other", "org/archvq-nb201") == ("org/other", {})
    with pytest.raises(ValueError, match="outside the repo"):
        resolve("../vqvae", "org/archvq-nb201")


def test_save_folder_moves_everything_in_at_once_and_keeps_other_files(tmp_path):
    out = tmp_path / "model"
    (out / "checkpoints").mkdir(parents=True)

    def write(tmp):
        (tmp / "config.json").write_text("{}")
        (tmp / "model.safetensors").write_bytes(b"weights")

    save_folder(out, write, summary={"train_seconds": 1.5})
    assert is_saved(out, "vqvae") and (out / "checkpoints").is_dir()
    assert read_summary(out) == {"train_seconds": 1.5}
    assert read_summary(tmp_path / "nowhere") == {}

    def fail(tmp):
        (tmp / "config.json").write_text('{"new": true}')
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        save_folder(out, fail)
    assert json.loads((out / "config.json").read_text()) == {}  # the old folder is untouched
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no staging left behind
    assert not is_saved(tmp_path / "empty", "prior")
