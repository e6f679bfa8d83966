"""``archllm release``: a trained run becomes a Hub repo folder that loads by path with and without the package."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import REPO_ROOT
from fixtures import tiny_run, tiny_vqvae_config
from huggingface_hub import ModelCard

from archllm_hf.cli import main as cli
from archllm_hf.evaluation.release import repo_sizes
from archllm_hf.generation import ArchitectureGenerator
from archllm_hf.release import (
    REMOTE_PIPELINE_TASK,
    model_index,
    recommended_sampling,
    release_dataset,
    release_run,
    remote_code_files,
)
from archllm_hf.spaces import get_space

BLOCK_PACKAGE = "import sys; sys.modules['archllm_hf'] = None  # an environment without the package\n"


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    return tiny_run(tmp_path_factory.mktemp("run"), "nb201")


@pytest.fixture(scope="module")
def repo(run, tmp_path_factory):
    out = tmp_path_factory.mktemp("hub") / "archvq-nb201"
    assert cli(["release", "--run", str(run), "--out", str(out), "--repo-id", "test-org/archvq-nb201"]) == 0
    return out


def card_metadata(path: Path) -> dict:
    return yaml.safe_load(path.read_text().split("---")[1])


def test_release_folder_holds_weights_configs_code_and_card(repo, run):
    files = {str(p.relative_to(repo)) for p in repo.rglob("*") if p.is_file()}
    assert {"model.safetensors", "vqvae/model.safetensors", "config.json", "vqvae/config.json"} <= files
    assert {"tokenizer.json", "vqvae/tokenizer.json", "generation_config.json", "archllm_prior.json"} <= files
    assert {"README.md", "pipeline_arch_vqvae.py", "modeling_arch_vqvae.py", "spaces.py", "nb201.py"} <= files
    assert not [f for f in files if f.startswith(("nb101", "darts"))] and not [
        f for f in files if f.startswith("vqvae/") and f.endswith(".py")
    ]
    assert not [f for f in files if f.endswith((".bin", ".pt", ".pth", ".pkl")) or "checkpoint" in f]
    for path in repo.rglob("*"):  # no local path leaks into the repo
        if path.suffix in (".json", ".md"):
            assert str(run) not in path.read_text() and str(repo.parent) not in path.read_text(), path
    assert json.loads((repo / "archllm_prior.json").read_text())["vqvae"] == "vqvae"
    generation = json.loads((repo / "generation_config.json").read_text())
    assert {k: generation[k] for k in ("temperature", "constrained", "without_replacement")} == (
        recommended_sampling("nb201")
    )
    config = json.loads((repo / "config.json").read_text())
    assert config["custom_pipelines"][REMOTE_PIPELINE_TASK]["impl"].startswith("pipeline_arch_vqvae.")
    vqvae_config = json.loads((repo / "vqvae" / "config.json").read_text())
    assert vqvae_config["auto_map"]["AutoModel"] == "modeling_arch_vqvae.ArchVQVAEModel"
    for folder in (repo, repo / "vqvae"):
        tokenizer_config = json.loads((folder / "tokenizer_config.json").read_text())
        assert tokenizer_config["auto_map"]["AutoTokenizer"][0] == "tokenization_arch_vqvae.ArchCodeTokenizer"
        assert "local_files_only" not in tokenizer_config


def test_release_leaves_later_saves_package_native(repo, tmp_path):
    from archllm_hf.models.arch_vqvae import ArchVQVAEModel

    ArchVQVAEModel(tiny_vqvae_config("nb201")).save_pretrained(tmp_path)
    assert "auto_map" not in json.loads((tmp_path / "config.json").read_text())
    assert not list(tmp_path.glob("*.py"))


def test_card_metadata_without_evaluation(repo):
    meta = card_metadata(repo / "README.md")
    assert meta["library_name"] == "transformers" and meta["license"] == "apache-2.0"
    assert {"architecture-generation", "neural-architecture-search", "vq-vae", "nas-bench-201"} <= set(
        meta["tags"]
    )
    assert "model-index" not in meta and meta["pipeline_tag"] == "graph-ml"
    assert "Not evaluated yet" in (repo / "README.md").read_text()
    text = (repo / "README.md").read_text()  # linked papers (the Hub links arXiv pages) and their BibTeX
    for arxiv_id in ("2503.22063", "2006.06936", "2001.00326"):
        assert f"[arXiv:{arxiv_id}](https://arxiv.org/abs/{arxiv_id})" in text and f"{{{arxiv_id}}}" in text
    assert "```bibtex\n@misc{archllm2025," in text and "@inproceedings{dong2020nasbench201," in text
    assert "1902.09635" not in text  # only this repo's space is cited


def test_card_model_index_equals_the_evaluation(run, tmp_path):
    from archllm_hf.evaluation.release import evaluate_release

    out = release_run(run, tmp_path / "repo", repo_id="test-org/archvq-nb201")
    evaluation = {**evaluate_release(out, num_samples=40, batch_size=40), "command": "test"}
    assert evaluation["recommended"]["settings"] == recommended_sampling("nb201")
    assert evaluation["raw_iid"]["settings"]["temperature"] == 1.0
    (tmp_path / "evaluation.json").write_text(json.dumps(evaluation))
    release_run(run, out, repo_id="test-org/archvq-nb201", evaluation=tmp_path / "evaluation.json")
    card = ModelCard.load(out / "README.md")
    measured = {(r.task_type, r.metric_type): r.metric_value for r in card.data.eval_results}
    expected = {(r.task_type, r.metric_type): r.metric_value for r in model_index(evaluation, "nb201", "x/y")}
    assert measured == expected and len(measured) == 5
    # percentages, rounded as the card's tables quote them
    validity = evaluation["recommended"]["scores"]["validity"]
    assert measured[("architecture-generation", "validity")] == round(100 * validity, 2)
    assert f"{validity:.2%}" == f"{measured[('architecture-generation', 'validity')]:.2f}%"
    assert json.loads((out / "evaluation.json").read_text()) == evaluation
    text = (out / "README.md").read_text()
    assert f"{evaluation['raw_iid']['scores']['validity']:.2%}" in text


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    """A tiny run whose VQ-VAE reconstructs: a good share of its samples are valid cells (the untrained one of
    ``run`` gives none)."""
    return tiny_run(tmp_path_factory.mktemp("trained-run"), "nb201", vqvae_steps=300)


def test_release_draws_the_first_valid_samples_into_a_png_the_card_shows(trained_run, tmp_path):
    import torch
    from PIL import Image

    from archllm_hf.release.card import SAMPLES_KEY

    torch.manual_seed(123)
    before = torch.random.get_rng_state()
    out = release_run(trained_run, tmp_path / "repo", repo_id="test-org/archvq-nb201")
    assert torch.equal(torch.random.get_rng_state(), before)  # the sheet's seed leaves the caller's RNG alone
    sheet = out / "samples.png"
    assert sheet.read_bytes().startswith(b"\x89PNG\r\n\x1a\n") and 10_000 < sheet.stat().st_size < 2_000_000
    with Image.open(sheet) as image:
        image.verify()  # chunks and checksums
    with Image.open(sheet) as image:
        image.load()  # the pixels decode
        assert image.format == "PNG" and image.width > 1000 and image.height > 300  # 4 columns, 2 rows
        assert len(image.getcolors(maxcolors=1 << 16) or range(1 << 16)) > 2  # drawn on, not blank
        made = json.loads(image.text[SAMPLES_KEY])
    assert {k: made[k] for k in recommended_sampling("nb201")} == recommended_sampling("nb201")
    # the first 8 valid samples of the recorded call, drawn by the repo's own checkpoint
    samples = ArchitectureGenerator.from_pretrained(out).generate(made["num_samples"], seed=made["seed"])
    assert made["seed"] == 0 and made["shown"] == [i for i, s in enumerate(samples) if s["valid"]][:8]
    assert (
        len(made["shown"]) == 8 and made["num_samples"] > 8
    )  # this tiny checkpoint also writes invalid ones
    text = (out / "README.md").read_text()
    assert "![8 cells generated by this checkpoint](samples.png)" in text
    caption = next(line for line in text.splitlines() if line.startswith("*The first 8 valid cells"))
    assert (
        f"`generate(num_samples={made['num_samples']}, seed=0)`" in caption and "temperature 0.75" in caption
    )
    # released again (over the first release: its sheet does not make the folder a non-release, and elsewhere),
    # the checkpoint gives the same bytes
    first = sheet.read_bytes()
    again = release_run(trained_run, out, repo_id="test-org/archvq-nb201")
    other = release_run(trained_run, tmp_path / "other", repo_id="test-org/archvq-nb201")
    assert (again / "samples.png").read_bytes() == first == (other / "samples.png").read_bytes()


def test_release_without_a_valid_sample_has_no_sheet(repo):
    assert not (repo / "samples.png").exists()  # the untrained VQ-VAE decodes no valid cell in 64 samples
    assert "## Samples" not in (repo / "README.md").read_text()


def test_generator_defaults_to_the_recommended_settings(repo):
    generator = ArchitectureGenerator.from_pretrained(repo)
    assert generator.recommended_sampling() == recommended_sampling("nb201")
    samples = generator.generate(200, seed=0)
    assert len({s["id"] for s in samples if s["valid"]}) == sum(s["valid"] for s in samples)  # no repeats
    assert all(re.fullmatch(r"\d+( \d+){7}", s["codes"]) for s in samples)  # constrained: codes only


def test_package_pipeline_loads_a_release_by_path(repo):
    from transformers import AutoModel, AutoModelForCausalLM, AutoTokenizer, pipeline

    from archllm_hf.models.arch_vqvae import ArchCodeTokenizer, ArchVQVAEModel

    generate = pipeline("architecture-generation", model=str(repo))
    assert len(generate(num_samples=5, seed=0)) == 5
    assert isinstance(AutoModel.from_pretrained(repo, subfolder="vqvae"), ArchVQVAEModel)
    assert isinstance(AutoTokenizer.from_pretrained(repo, subfolder="vqvae"), ArchCodeTokenizer)
    assert AutoModelForCausalLM.from_pretrained(repo).config.model_type == "llama"


REMOTE_SCRIPT = (
    BLOCK_PACKAGE
    + """
import json
from transformers import AutoModel, AutoTokenizer, pipeline
repo, n = sys.argv[1], int(sys.argv[2])
generate = pipeline(model=repo, trust_remote_code=True)
samples = generate(num_samples=n, seed=0)
vqvae = AutoModel.from_pretrained(repo, subfolder="vqvae", trust_remote_code=True)
tokenizer = AutoTokenizer.from_pretrained(repo, subfolder="vqvae", trust_remote_code=True)
print(json.dumps({"samples": samples, "vqvae": type(vqvae).__module__, "ids": tokenizer("3 4")["input_ids"]}))
"""
)


def run_remote(repo: Path, n: int, home: Path) -> dict:
    env = {"HF_HOME": str(home), "HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-c", REMOTE_SCRIPT, str(repo), str(n)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_remote_code_without_the_package_matches_the_package(repo, tmp_path):
    out = run_remote(repo, 50, tmp_path / "home")
    assert out["vqvae"].startswith("transformers_modules.") and out["ids"] == [1, 7, 8, 2]
    # the same draws as the package's generator at the same settings, and the package agrees on every cell
    expected = ArchitectureGenerator.from_pretrained(repo).generate(50, seed=0)
    assert out["samples"] == expected
    space = get_space("nb201")
    for sample in out["samples"]:
        if sample["valid"]:
            assert space.validate(space.parse(sample["cell"])).valid


def test_remote_code_runs_another_repos_vqvae_only_with_consent(repo, tmp_path):
    import shutil

    elsewhere = tmp_path / "repo"
    shutil.copytree(repo, elsewhere)
    info_file = elsewhere / "archllm_prior.json"
    info = json.loads(info_file.read_text())
    info_file.write_text(json.dumps({**info, "vqvae": "someone-else/their-vqvae"}))
    env = {"HF_HOME": str(tmp_path / "home"), "HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"}
    script = (
        BLOCK_PACKAGE
        + "\nfrom transformers import pipeline\npipeline(model=sys.argv[1], trust_remote_code=True)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(elsewhere)], capture_output=True, text=True, env=env, timeout=300
    )
    assert done.returncode != 0
    assert "names the VQ-VAE of another repo, 'someone-else/their-vqvae'" in done.stderr
    assert "trust_vqvae_repo=True" in done.stderr


REFUSALS_SCRIPT = (
    BLOCK_PACKAGE
    + """
import json
from transformers import pipeline
generate = pipeline(model=sys.argv[1], trust_remote_code=True)
outcomes = []
for kwargs in (
    {"num_samples": 2.5, "seed": 0},
    {"num_samples": 2.5, "seed": 0, "without_replacement": False},
    {"num_samples": 20_000, "without_replacement": True},
    {"num_samples": 3, "seed": 2**64},
    {"num_samples": 3, "temperature": float("nan")},
    {"num_samples": 3, "batch_size": 0},
    {"num_samples": 3, "seed": 0},
):
    try:
        outcomes.append(len(generate(**kwargs)))
    except ValueError as err:
        outcomes.append(str(err))
print(json.dumps(outcomes))
"""
)


def test_committed_remote_pipeline_refuses_malformed_requests_before_drawing(tmp_path):
    """Issue 23.3 / 23.7 for the repos' own pipeline (no package): ``num_samples=2.5`` gave 1,872 samples,
    ``20_000`` distinct NB201 cells drew for minutes; each malformed request is now one clear ValueError."""
    env = {"HF_HOME": str(tmp_path / "home"), "HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin"}
    repo = REPO_ROOT / "hub" / "archvq-nb201"
    done = subprocess.run(
        [sys.executable, "-c", REFUSALS_SCRIPT, str(repo)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    outcomes = json.loads(done.stdout.strip().splitlines()[-1])
    expected = [
        "num_samples must be an int",
        "num_samples must be an int",
        "nb201 has only 15,625 cells",
        "seed must be in",
        "temperature must be a finite number > 0",
        "batch_size must be >= 1",
    ]
    assert len(outcomes) == len(expected) + 1
    for outcome, message in zip(outcomes, expected):
        assert isinstance(outcome, str) and message in outcome, outcome
    assert outcomes[-1] == 3


@pytest.mark.parametrize("space", ["nb101", "nb201", "darts"])
def test_committed_checkpoint_generates_valid_cells_without_the_package(space, tmp_path):
    repo = REPO_ROOT / "hub" / f"archvq-{space}"
    out = run_remote(repo, 100, tmp_path / "home")
    assert sum(s["valid"] for s in out["samples"]) >= 99
    # the repo's own code draws what the package draws (and the package what was recorded: see below)
    assert out["samples"] == ArchitectureGenerator.from_pretrained(repo).generate(100, seed=0)


@pytest.mark.parametrize("space", ["nb101", "nb201", "darts"])
def test_remote_code_is_flat_complete_and_one_space(space):
    from archllm_hf.release.remote_code import SHIPPED_CORE, SHIPPED_SPACES

    files = remote_code_files(space)
    own = {Path(source).name for source in SHIPPED_SPACES[space]}
    assert f"{space}.py" in own and not {f"{other}.py" for other in SHIPPED_SPACES} - {f"{space}.py"} & own
    assert set(files) == {*SHIPPED_CORE, *own, "spaces.py"}
    for name, text in files.items():
        assert not re.search(r"^\s*from \.\.", text, flags=re.MULTILINE), name
        for module in re.findall(r"^\s*from \.(\w+) import", text, flags=re.MULTILINE):
            assert f"{module}.py" in files, f"{name} imports .{module}, which the repo lacks"
        assert "archllm_hf" not in re.findall(r"^\s*(?:from|import) (\w+)", text, flags=re.MULTILINE), name
    with pytest.raises(ValueError, match="no remote code for search space 'nb301'"):
        remote_code_files("nb301")


def test_release_refuses_a_text_prior(run, tmp_path):
    import shutil

    copy = tmp_path / "run"
    shutil.copytree(run, copy)
    info = json.loads((copy / "prior" / "archllm_prior.json").read_text())
    info.update(format="text", prompt="Codes:")
    (copy / "prior" / "archllm_prior.json").write_text(json.dumps(info))
    with pytest.raises(ValueError, match="code priors"):
        release_run(copy, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_release_dataset_ships_cells_and_refuses_metric_columns(tmp_path):
    from archllm_hf.data import build_cells_dataset, load_cells_repo, write_dataset_config

    cells = build_cells_dataset("darts", num_samples=60, progress=False)
    write_dataset_config(cells, tmp_path / "data", "darts")
    out = release_dataset(tmp_path / "data", tmp_path / "repo", repo_id="test-org/cells")
    assert "test-org/cells" in (out / "README.md").read_text()
    assert load_cells_repo(out, "darts")["train"].num_rows == cells["train"].num_rows

    with_metric = cells.map(lambda row: {"cifar10_test_acc_200ep": 1.0})
    write_dataset_config(with_metric, tmp_path / "data2", "darts")
    with pytest.raises(ValueError, match="metric columns"):
        release_dataset(tmp_path / "data2", tmp_path / "repo2", repo_id="test-org/cells")


def test_release_cli_errors(tmp_path, capsys):
    assert cli(["release", "--out", str(tmp_path / "x")]) == 2
    assert "one of --run" in capsys.readouterr().err
    assert cli(["release", "--run", str(tmp_path / "nothing"), "--out", str(tmp_path / "x")]) == 2
    assert "has no prior/ folder" in capsys.readouterr().err
    assert cli(["release", "--run", "x", "--out", str(tmp_path / "x"), "--push-to-hub"]) == 2
    assert "needs --repo-id" in capsys.readouterr().err


@pytest.mark.parametrize("space", ["nb101", "nb201", "darts"])
def test_committed_cards_quote_their_benchmark_json(space, tmp_path):
    import shutil

    from archllm_hf.release import render_model_card

    repo = REPO_ROOT / "hub" / f"archvq-{space}"
    result = json.loads((REPO_ROOT / "benchmarks" / "results" / f"release-{space}.json").read_text())
    card = ModelCard.load(repo / "README.md")
    in_card = {(r.task_type, r.metric_type): r.metric_value for r in card.data.eval_results}
    dataset = card.data.datasets[0]
    assert in_card == {
        (r.task_type, r.metric_type): r.metric_value for r in model_index(result, space, dataset)
    }
    evaluation = json.loads((repo / "evaluation.json").read_text())
    assert evaluation == {
        k: v for k, v in result.items() if k not in ("benchmark", "repo_files", "repo_bytes")
    }
    sizes = repo_sizes(
        repo
    )  # the recorded sizes are those of the committed folder (`release.py --sizes-only`)
    assert (result["repo_files"], result["repo_bytes"]) == (sizes["repo_files"], sizes["repo_bytes"])
    text = (repo / "README.md").read_text()  # the sheet: 8 samples, all valid, those of the card's snippet
    assert "![8 cells generated by this checkpoint](samples.png)" in text
    assert (
        "*The 8 cells of `generate(num_samples=8, seed=0)` (the snippet above) at the recommended settings"
        in text
    )
    copy = shutil.copytree(repo, tmp_path / "copy")  # the committed card is what the template renders
    render_model_card(copy, repo_id=f"archllm-hf/archvq-{space}", dataset_repo_id=dataset)
    assert (copy / "README.md").read_text() == (repo / "README.md").read_text()


def test_release_refuses_a_folder_of_user_files_and_leaves_no_temporary_folder(
    run, tmp_path, monkeypatch, capsys
):
    """Issue 23.1: a non-empty folder that is not a release is refused (its files kept) unless --force; ``--out .``
    is refused clearly; no ``.*.tmp`` folder is left behind."""
    user = tmp_path / "v"
    user.mkdir()
    (user / "notes.txt").write_text("keep\n")
    assert cli(["release", "--run", str(run), "--out", str(user)]) == 2
    assert "not an archllm model release" in capsys.readouterr().err
    assert (user / "notes.txt").read_text() == "keep\n"

    monkeypatch.chdir(user)
    assert cli(["release", "--run", str(run), "--out", "."]) == 2
    assert "current folder" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["v"]  # nothing left beside it
    assert sorted(p.name for p in user.iterdir()) == ["notes.txt"]

    monkeypatch.chdir(tmp_path)
    assert cli(["release", "--run", str(run), "--out", "v/../v", "--force"]) == 0
    assert not (user / "notes.txt").exists() and (user / "archllm_prior.json").is_file()
    assert cli(["release", "--run", str(run), "--out", "v"]) == 0  # an earlier release is replaced
    assert sorted(p.name for p in tmp_path.iterdir()) == ["v"]

    (tmp_path / "file").write_text("x")
    assert cli(["release", "--run", str(run), "--out", "file", "--force"]) == 2
    assert "is a file" in capsys.readouterr().err


@pytest.mark.parametrize("space", ["nb101", "nb201", "darts"])
def test_committed_repos_carry_the_packages_remote_code(space):
    """Every code file of a committed repo is what the package generates now (transformers' ``check_copies``, for
    our copies): no stale file, no extra ``.py`` file, and no ``.py`` under ``vqvae/`` (transformers reads a
    subfolder's remote code from the root)."""
    repo = REPO_ROOT / "hub" / f"archvq-{space}"
    expected = remote_code_files(space)
    shipped = {str(p.relative_to(repo)) for p in repo.rglob("*.py")}
    fix = f"regenerate {repo} with `archllm release` (see release.remote_code)"
    assert shipped == set(expected), (
        f"{fix}: extra {sorted(shipped - set(expected))}, missing {sorted(set(expected) - shipped)}"
    )
    stale = [name for name, text in expected.items() if (repo / name).read_text() != text]
    assert not stale, f"{fix}: {stale} differ"
    for config in ("config.json", "tokenizer_config.json"):
        auto_map = json.loads((repo / "vqvae" / config).read_text())["auto_map"]
        for reference in auto_map.values():
            for name in [reference] if isinstance(reference, str) else [r for r in reference if r]:
                assert f"{name.split('.')[0]}.py" in expected, name


@pytest.mark.parametrize("space", ["nb101", "nb201", "darts"])
def test_committed_repo_equals_a_fresh_release_of_its_checkpoint(space, tmp_path):
    """Released again from its own checkpoint (the repo as a run's prior), a committed repo comes back file for file:
    weights, configs, card, remote code (the saving transformers version aside)."""
    import shutil

    repo = REPO_ROOT / "hub" / f"archvq-{space}"
    shutil.copytree(repo, tmp_path / "run" / "prior")
    dataset = ModelCard.load(repo / "README.md").data.datasets[0]
    out = release_run(
        tmp_path / "run",
        tmp_path / "out",
        repo_id=f"archllm-hf/archvq-{space}",
        evaluation=repo / "evaluation.json",
        dataset_repo_id=dataset,
    )

    def files(folder):
        return {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()}

    assert files(out) == files(repo) and "samples.png" in files(repo)
    for name in sorted(files(repo)):
        if name.endswith(".json"):
            fresh, committed = (json.loads((f / name).read_text()) for f in (out, repo))
            for data in (fresh, committed):
                data.pop("transformers_version", None)
            assert fresh == committed, name
        elif name.endswith(
            ".png"
        ):  # pixels depend on the installed matplotlib and FreeType: compare what was drawn
            from PIL import Image

            with Image.open(out / name) as fresh, Image.open(repo / name) as committed:
                assert fresh.text == committed.text and fresh.size == committed.size, name
        else:
            assert (out / name).read_bytes() == (repo / name).read_bytes(), name


COMMITTED_SAMPLES = json.loads((Path(__file__).parent / "committed_samples.json").read_text())


@pytest.mark.parametrize("space", ["nb101", "nb201", "darts"])
def test_committed_checkpoint_gives_the_samples_recorded_before_its_code_was_cut(space):
    recorded = COMMITTED_SAMPLES["samples"][space]
    generator = ArchitectureGenerator.from_pretrained(REPO_ROOT / "hub" / f"archvq-{space}")
    samples = generator.generate(COMMITTED_SAMPLES["num_samples"], seed=COMMITTED_SAMPLES["seed"])
    assert [[s["codes"], s["id"], s["valid"]] for s in samples] == recorded
