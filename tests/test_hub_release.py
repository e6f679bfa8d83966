"""The download path, for real: tiny release repos of every space and the dataset repo, written with ``archllm
release``, committed to git and served by a local Hub (olah on 127.0.0.1, see ``hub_server.py``), load by repo id
in fresh processes with empty caches: with the package (pipeline, Auto classes, ``ArchitectureGenerator``, ``archllm
generate``, ``load_dataset``) and without it (``trust_remote_code=True``)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import torch
from fixtures import tiny_run
from hub_server import LocalHub, git_commit_folder, hub_env

from archllm_hf.cli import main as cli
from archllm_hf.generation import ArchitectureGenerator

SPACES = ("nb101", "nb201", "darts")
ORG = "test-org"
DATASET_ID = f"{ORG}/nas-bench-cells"
PINNED_ID = f"{ORG}/archvq-pinned"
NUM = 12
BLOCK_PACKAGE = (
    "import sys\nsys.modules['archllm_hf'] = None  # an environment where the package cannot be imported\n"
)

WITH_PACKAGE = """
import json, sys
import datasets, torch
import archllm_hf
from transformers import AutoModel, AutoModelForCausalLM, AutoTokenizer, pipeline
from archllm_hf.generation import ArchitectureGenerator
from archllm_hf.models.arch_vqvae import ArchCodeTokenizer, ArchVQVAEModel

org, num = sys.argv[1], int(sys.argv[2])
out = {}
for space in ("nb101", "nb201", "darts"):
    repo = f"{org}/archvq-{space}"
    vqvae = AutoModel.from_pretrained(repo, subfolder="vqvae")
    prior = AutoModelForCausalLM.from_pretrained(repo)
    out[space] = {
        "pipeline": pipeline("architecture-generation", model=repo)(num_samples=num, seed=0),
        "generator": ArchitectureGenerator.from_pretrained(repo).generate(num, seed=0),
        "vqvae_is_native": isinstance(vqvae, ArchVQVAEModel),
        "tokenizer_is_native": isinstance(AutoTokenizer.from_pretrained(repo, subfolder="vqvae"), ArchCodeTokenizer),
        "weights": [float(sum(p.detach().double().sum() for p in m.parameters())) for m in (prior, vqvae)],
        "dataset": datasets.load_dataset(f"{org}/nas-bench-cells", space, split="train")["id"][:5],
    }
print(json.dumps(out))
"""

WITHOUT_PACKAGE = """
import sys
sys.modules["archllm_hf"] = None  # an environment where the package cannot be imported
import json
from transformers import AutoModel, AutoTokenizer, pipeline

org, num = sys.argv[1], int(sys.argv[2])
out = {}
for space in ("nb101", "nb201", "darts"):
    repo = f"{org}/archvq-{space}"
    vqvae = AutoModel.from_pretrained(repo, subfolder="vqvae", trust_remote_code=True)
    tokenizer = AutoTokenizer.from_pretrained(repo, subfolder="vqvae", trust_remote_code=True)
    out[space] = {
        "pipeline": pipeline(model=repo, trust_remote_code=True)(num_samples=num, seed=0),
        "classes": [type(vqvae).__module__, type(tokenizer).__module__],
        "weights": float(sum(p.detach().double().sum() for p in vqvae.parameters())),
    }
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def mirrors(tmp_path_factory) -> Path:
    from archllm_hf.data import build_cells_dataset, write_dataset_config

    root = tmp_path_factory.mktemp("release")
    mirrors = root / "mirrors"
    for space in SPACES:
        repo = mirrors / "models" / ORG / f"archvq-{space}"
        run = tiny_run(root / "runs" / space, space)
        assert (
            cli(["release", "--run", str(run), "--out", str(repo), "--repo-id", f"{ORG}/archvq-{space}"]) == 0
        )
        git_commit_folder(repo)
        cells = build_cells_dataset(space, num_samples=80, progress=False)
        write_dataset_config(cells, root / "data", space)
    make_pinned_repo(local(mirrors, "nb201"), mirrors / "models" / PINNED_ID)
    dataset_repo = mirrors / "datasets" / DATASET_ID
    assert (
        cli(["release", "--dataset", str(root / "data"), "--out", str(dataset_repo), "--repo-id", DATASET_ID])
        == 0
    )
    git_commit_folder(dataset_repo)
    return mirrors


def make_pinned_repo(release: Path, repo: Path) -> None:
    """``repo``: a git repo whose first commit (tagged ``v1``) is ``release`` and whose second, on ``main``, moves
    the VQ-VAE to another subfolder, halves the prior's weights and makes both remote-code entry points raise: a
    load pinned to ``v1`` that read any file of ``main`` would fail or differ."""
    import shutil

    from safetensors.torch import load_file, save_file

    shutil.copytree(release, repo)
    git_commit_folder(repo)
    subprocess.run(["git", "-C", str(repo), "tag", "v1"], check=True)
    (repo / "vqvae").rename(repo / "vqvae-v2")
    info = json.loads((repo / "archllm_prior.json").read_text())
    (repo / "archllm_prior.json").write_text(json.dumps({**info, "vqvae": "vqvae-v2"}))
    weights = load_file(repo / "model.safetensors")
    save_file({k: v * 0.5 for k, v in weights.items()}, repo / "model.safetensors", metadata={"format": "pt"})
    for name in ("pipeline_arch_vqvae.py", "modeling_arch_vqvae.py"):
        path = repo / name
        path.write_text(path.read_text() + '\nraise ImportError("the code of main, not of v1")\n')
    git_commit_folder(repo)


def commit_of(repo: Path, revision: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), "rev-parse", revision], check=True, capture_output=True, text=True
    )
    return done.stdout.strip()


@pytest.fixture(scope="module")
def hub(mirrors) -> Iterator[LocalHub]:
    with LocalHub(mirrors) as hub:
        yield hub


def run_script(script: str, hub: LocalHub, home: Path, *args: str) -> str:
    """Run ``python -c script *args`` against the local Hub with ``home`` as its HF_HOME; its stdout (it must succeed)."""
    done = subprocess.run(
        [sys.executable, "-c", script, *args],
        check=False,
        env=hub_env(hub.endpoint, home),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return done.stdout


def run_child(script: str, hub: LocalHub, home: Path, *args: str) -> dict:
    """:func:`run_script` (with ``ORG NUM`` when no ``args``), whose last line of output is JSON."""
    return json.loads(run_script(script, hub, home, *(args or (ORG, str(NUM)))).strip().splitlines()[-1])


def local(mirrors: Path, space: str) -> Path:
    return mirrors / "models" / ORG / f"archvq-{space}"


def weights(model: torch.nn.Module) -> float:
    return float(sum(p.detach().double().sum() for p in model.parameters()))


@pytest.fixture(scope="module")
def with_package(hub, tmp_path_factory) -> dict:
    return run_child(WITH_PACKAGE, hub, tmp_path_factory.mktemp("home"))


@pytest.fixture(scope="module")
def without_package(hub, tmp_path_factory) -> dict:
    return run_child(WITHOUT_PACKAGE, hub, tmp_path_factory.mktemp("home"))


@pytest.mark.parametrize("space", SPACES)
def test_every_artifact_loads_by_repo_id_with_the_package(with_package, mirrors, space):
    got = with_package[space]
    generator = ArchitectureGenerator.from_pretrained(local(mirrors, space))
    expected = generator.generate(NUM, seed=0)  # the repo's recommended settings, from the served files
    assert got["pipeline"] == expected and got["generator"] == expected
    assert got["vqvae_is_native"] and got["tokenizer_is_native"]
    assert got["weights"] == pytest.approx([weights(generator.prior), weights(generator.vqvae)], rel=1e-12)


@pytest.mark.parametrize("space", SPACES)
def test_the_dataset_repo_loads_by_repo_id(with_package, mirrors, space):
    import datasets

    served = datasets.load_dataset(str(mirrors / "datasets" / DATASET_ID), space, split="train")
    assert with_package[space]["dataset"] == list(served["id"][:5])


@pytest.mark.parametrize("space", SPACES)
def test_remote_code_loads_by_repo_id_without_the_package(without_package, mirrors, space):
    got = without_package[space]
    generator = ArchitectureGenerator.from_pretrained(local(mirrors, space))
    assert got["pipeline"] == generator.generate(NUM, seed=0)
    assert all(module.startswith("transformers_modules.") for module in got["classes"])
    assert got["weights"] == pytest.approx(weights(generator.vqvae), rel=1e-12)


def test_the_generate_example_runs_by_repo_id(hub, tmp_path):
    example = Path(__file__).resolve().parent.parent / "examples" / "generate_from_hub.py"  # run by repo id
    done = subprocess.run(
        [sys.executable, str(example), "--repo-id", f"{ORG}/archvq-darts", "--num", "3"],
        env=hub_env(hub.endpoint, tmp_path / "home"),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    rows = [json.loads(line) for line in done.stdout.strip().splitlines()]
    assert len(rows) == 3 and all(set(row) == {"valid", "id", "cell", "codes"} for row in rows)


def test_archllm_generate_takes_a_repo_id(hub, tmp_path):
    out = tmp_path / "samples.jsonl"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "archllm_hf.cli",
            "generate",
            "--prior",
            f"{ORG}/archvq-nb201",
            "--num",
            "7",
            "--out",
            str(out),
            "--quiet",
        ],
        env=hub_env(hub.endpoint, tmp_path / "home"),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 7 and len({r["id"] for r in rows if r["valid"]}) == sum(r["valid"] for r in rows)


@pytest.mark.parametrize("with_the_package", [True, False])
def test_the_cards_usage_snippets_run_as_written(hub, mirrors, tmp_path, with_the_package):
    """The card's two ``python`` blocks, run by repo id through the local Hub: the package's pipeline, and plain
    transformers with the repo's remote code (in a process where the package cannot be imported)."""
    card = (local(mirrors, "nb201") / "README.md").read_text()
    package_block, remote_block = re.findall(r"```python\n(.*?)```", card, flags=re.DOTALL)
    assert f'model="{ORG}/archvq-nb201"' in package_block and "trust_remote_code=True" in remote_block
    script = package_block if with_the_package else BLOCK_PACKAGE + remote_block + "print(len(samples))\n"
    last = (
        run_script(script, hub, tmp_path / "home").strip().splitlines()[-1]
    )  # the package block prints a cell and whether it is valid
    assert last.endswith((" True", " False")) if with_the_package else last == "8"


PINNED_WITH_PACKAGE = """
import json, sys
import archllm_hf
from transformers import pipeline
from archllm_hf.generation import ArchitectureGenerator

repo, revision, num = sys.argv[1], sys.argv[2], int(sys.argv[3])
pinned = ArchitectureGenerator.from_pretrained(repo, revision=revision)
latest = ArchitectureGenerator.from_pretrained(repo)
print(json.dumps({
    "generator": pinned.generate(num, seed=0),
    "pipeline": pipeline("architecture-generation", model=repo, revision=revision)(num_samples=num, seed=0),
    "weights": [float(sum(p.detach().double().sum() for p in g.prior.parameters())) for g in (pinned, latest)],
}))
"""

PINNED_WITHOUT_PACKAGE = """
import sys
sys.modules["archllm_hf"] = None  # an environment where the package cannot be imported
import json
from transformers import pipeline

repo, revision, num = sys.argv[1], sys.argv[2], int(sys.argv[3])
print(json.dumps({"pipeline": pipeline(model=repo, revision=revision, trust_remote_code=True)(num_samples=num, seed=0)}))
"""


@pytest.mark.parametrize("revision", ["v1", "commit"])
@pytest.mark.parametrize("with_the_package", [True, False])
def test_a_pinned_revision_reaches_every_file_of_the_load(hub, mirrors, tmp_path, revision, with_the_package):
    """Issue 24.2: ``revision=`` (a tag, or a commit) pins the prior, ``archllm_prior.json``, the VQ-VAE and the remote
    code to that commit, with and without the package; the newer ``main`` would fail (its remote code raises, its
    VQ-VAE is elsewhere) or differ (its prior's weights are halved)."""
    repo = mirrors / "models" / PINNED_ID
    if revision == "commit":
        revision = commit_of(repo, "v1")
    script = PINNED_WITH_PACKAGE if with_the_package else PINNED_WITHOUT_PACKAGE
    got = run_child(script, hub, tmp_path / "home", PINNED_ID, revision, str(NUM))
    expected = ArchitectureGenerator.from_pretrained(local(mirrors, "nb201")).generate(NUM, seed=0)  # = v1
    assert got["pipeline"] == expected
    if with_the_package:
        assert got["generator"] == expected
        pinned, latest = got["weights"]
        assert latest == pytest.approx(pinned / 2, rel=1e-9) and pinned != pytest.approx(0.0)
