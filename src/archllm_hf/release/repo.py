"""Turn a trained run into a Hub model repo folder, and publish it.

``release_run("runs/nb201", "hub/archvq-nb201")`` writes::

    OUT/README.md                   the model card (rendered from hub_cards/model_card.md)
    OUT/config.json                 the prior (a stock LlamaForCausalLM) + ``custom_pipelines`` (remote pipeline)
    OUT/generation_config.json      the recommended sampling settings (temperature, constrained, without_replacement)
    OUT/model.safetensors           the prior's weights
    OUT/tokenizer.json, tokenizer_config.json   the code tokenizer (``auto_map``: remote code)
    OUT/archllm_prior.json          how to prompt the prior; its VQ-VAE is the subfolder ``vqvae``
    OUT/training_summary.json       how the prior was trained
    OUT/evaluation.json             the checkpoint's measured quality (when given; the card quotes it)
    OUT/samples.png                 a contact sheet of 8 cells the released checkpoint generates (seed 0, recommended
                                    settings; the card shows it)
    OUT/*.py                        remote code (:mod:`.remote_code`): the pipeline, the VQ-VAE's modules, the
                                    search-space interface, the repo's one space, the errors module
    OUT/vqvae/                      the VQ-VAE: config.json (``auto_map`` naming the root's modules),
                                    model.safetensors, code tokenizer, reconstruction.json, training_summary.json;
                                    no code (transformers reads a subfolder's remote code from the repo root)

With the package, ``pipeline("architecture-generation", model=OUT)``, ``ArchitectureGenerator.from_pretrained(OUT)``
and ``AutoModel.from_pretrained(OUT, subfolder="vqvae")`` load it; without it, the same with
``trust_remote_code=True`` (the pipeline then needs no task: ``pipeline(model=OUT, trust_remote_code=True)``).
Weights are safetensors only; nothing in the folder names a local path.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
from transformers import AutoModelForCausalLM

from .._hub import PRIOR_INFO_NAME, SUMMARY_NAME, PriorInfo, load_vqvae, prior_vqvae, read_prior_info
from ..models.arch_vqvae import ArchCodeTokenizer, ArchVQVAEConfig, ArchVQVAEModel
from ..presets import preset
from ..utils import atomic_directory
from .card import EVALUATION_NAME, SAMPLES_KEY, SAMPLES_NAME, render_model_card
from .remote_code import REMOTE_PIPELINE_FILE, remote_code_files

REMOTE_PIPELINE_TASK = "archvq-generation"
"""The task name of the repo's remote pipeline in ``config.json``'s ``custom_pipelines``. It differs from the
package's ``architecture-generation`` on purpose: transformers prefers a repo's custom pipeline over the registered
one and then demands ``trust_remote_code=True``, so a shared name would break ``pipeline("architecture-generation",
model=REPO_ID)`` for package users. Without the package, ``pipeline(model=REPO_ID, trust_remote_code=True)`` infers
this task (the repo's only custom pipeline)."""
VQVAE_SUBFOLDER = "vqvae"
_LOCAL_KEYS = ("resumed_from",)  # summary keys that may hold a local path
RELEASE_PATTERNS = ["*.py", "*.json", "*.md", "*.safetensors", "*.png", "vqvae/*"]
"""What a release writes; a push deletes the repo's other files matching them (``.gitattributes`` is kept)."""
SHEET_CELLS = 8
SHEET_SEED = 0
SHEET_MAX_SAMPLES = 64
"""The samples sheet draws the first :data:`SHEET_CELLS` valid cells of ``generate(n, seed=SHEET_SEED)``, ``n`` the
first of 8, 16, 32, ... that gives as many (at most this; a checkpoint with fewer valid cells in this many samples
gets a sheet of those it has, and none without any)."""
_SHEET_DPI = 100


def release_run(
    run_dir: str | Path,
    out_dir: str | Path,
    repo_id: str | None = None,
    evaluation: str | Path | dict[str, Any] | None = None,
    dataset_repo_id: str | None = None,
    force: bool = False,
) -> Path:
    """Write the release repo of ``run_dir`` (a folder with ``prior/`` and the VQ-VAE it names, as ``archllm run``
    or ``archllm train-prior`` leave it) to ``out_dir``, replacing what is there as a whole.

    Args:
        repo_id: the Hub id the card's snippets use (default ``archllm-hf/archvq-<space>``).
        evaluation: the checkpoint's measured quality (``evaluate_release``'s result, or the path of its JSON); the
            card's ``model-index`` and tables are read from it. Without it the card says the checkpoint is not
            evaluated.
        dataset_repo_id: the cells dataset repo named in the card (default ``archllm-hf/nas-bench-cells``).
        force: replace ``out_dir`` even when it holds files that are not an earlier model release.

    Raises:
        FileExistsError: ``out_dir`` is a file, or a non-empty folder that is not a model release (without
            ``force``).
    """
    prior_dir = Path(run_dir) / "prior"
    _check_apart(Path(run_dir), Path(out_dir))
    _check_replaceable(Path(out_dir), "model", force)
    if not prior_dir.is_dir():
        raise FileNotFoundError(
            f"{run_dir} has no prior/ folder; train one with `archllm run` or `archllm train-prior`"
        )
    info = read_prior_info(prior_dir)
    if info.format != "codes":
        raise ValueError(
            f"{prior_dir} is a {info.format!r} prior; `archllm release` ships code priors (format 'codes') only"
        )
    vqvae_path, vqvae_kwargs = prior_vqvae(prior_dir, info)
    vqvae, _ = load_vqvae(vqvae_path, **vqvae_kwargs)
    prior = AutoModelForCausalLM.from_pretrained(str(prior_dir))
    settings = recommended_sampling(info.space)
    prior.generation_config.do_sample = True
    for key, value in settings.items():  # ``update`` would skip the two keys transformers does not know
        setattr(prior.generation_config, key, value)
    if isinstance(evaluation, (str, Path)):
        evaluation = json.loads(Path(evaluation).read_text())
    repo_id = repo_id or f"archllm-hf/archvq-{info.space}"

    with atomic_directory(out_dir) as tmp:
        tokenizer = _code_tokenizer(vqvae)
        with _remote_code_classes():
            prior.save_pretrained(tmp)
            tokenizer.save_pretrained(tmp)
            vqvae.save_pretrained(tmp / VQVAE_SUBFOLDER)
            tokenizer.save_pretrained(tmp / VQVAE_SUBFOLDER)
        _add_custom_pipeline(tmp / "config.json")
        _write_remote_code(tmp, info.space)
        released = PriorInfo(**{**info.to_dict(), "vqvae": VQVAE_SUBFOLDER})
        (tmp / PRIOR_INFO_NAME).write_text(json.dumps(released.to_dict(), indent=2) + "\n")
        _copy_summary(prior_dir / SUMMARY_NAME, tmp / SUMMARY_NAME)
        vqvae_source = Path(vqvae_path) / vqvae_kwargs.get("subfolder", "")
        _copy_summary(vqvae_source / SUMMARY_NAME, tmp / VQVAE_SUBFOLDER / SUMMARY_NAME)
        if (vqvae_source / "reconstruction.json").is_file():
            shutil.copyfile(
                vqvae_source / "reconstruction.json", tmp / VQVAE_SUBFOLDER / "reconstruction.json"
            )
        if evaluation is not None:
            (tmp / EVALUATION_NAME).write_text(json.dumps(evaluation, indent=2) + "\n")
        write_samples_sheet(tmp)
        render_model_card(tmp, repo_id=repo_id, dataset_repo_id=dataset_repo_id)
    return Path(out_dir)


def write_samples_sheet(folder: str | Path) -> Path | None:
    """Draw cells the release folder's checkpoint generates into ``folder/samples.png`` (a contact sheet titled by
    the samples' positions; see :data:`SHEET_MAX_SAMPLES`), generated on the CPU at the recommended settings with a
    fixed seed (the global torch random state is left as it was), so a checkpoint always gives the same bytes. The
    PNG's text entry :data:`~.card.SAMPLES_KEY` records how; the card's caption is read from it. Returns the path,
    or None when no sample is valid (no sheet is written)."""
    import torch

    from ..generation import ArchitectureGenerator
    from ..visualization import contact_sheet, save_figure

    folder = Path(folder)
    generator = ArchitectureGenerator.from_pretrained(folder, device="cpu")
    space = generator.space
    num_samples = SHEET_CELLS
    with torch.random.fork_rng(devices=[]):
        while True:
            samples = generator.generate(num_samples, seed=SHEET_SEED)
            shown = [i for i, sample in enumerate(samples) if sample["valid"]][:SHEET_CELLS]
            if len(shown) == SHEET_CELLS or num_samples >= SHEET_MAX_SAMPLES:
                break
            num_samples = min(2 * num_samples, SHEET_MAX_SAMPLES)
    if not shown:
        return None
    figure = contact_sheet(
        space,
        [space.from_native(samples[i]["cell"]) for i in shown],
        titles=[f"#{i}" for i in shown],
        columns=2 if space.name == "darts" else 4,
    )
    made = {
        "seed": SHEET_SEED,
        "num_samples": num_samples,
        "shown": shown,
        **generator.recommended_sampling(),
    }
    return save_figure(
        figure,
        folder / SAMPLES_NAME,
        dpi=_SHEET_DPI,
        metadata={SAMPLES_KEY: json.dumps(made, sort_keys=True)},
    )


def release_dataset(dataset_dir: str | Path, out_dir: str | Path, repo_id: str, force: bool = False) -> Path:
    """Copy a cells dataset folder (``archllm data build``'s output) to ``out_dir`` as a dataset repo whose card
    names ``repo_id``. Benchmark metric columns are refused: their tables' licences do not all allow shipping them
    (the NATS table has none), so metrics stay a join on the user's side."""
    from ..data.repo import BUILD_INFO, COLUMN_DOCS, render_dataset_card

    dataset_dir = Path(dataset_dir)
    _check_apart(dataset_dir, Path(out_dir))
    _check_replaceable(Path(out_dir), "dataset", force)
    configs = sorted(p.parent for p in dataset_dir.glob(f"*/{BUILD_INFO}"))
    if not configs:
        raise FileNotFoundError(
            f"{dataset_dir} holds no dataset config (no */{BUILD_INFO}); build it with `archllm data build`"
        )
    for config in configs:
        files = sorted(config.glob("*.parquet"))
        if not files:
            raise FileNotFoundError(f"{config} holds no parquet file; rebuild it with `archllm data build`")
        columns = pq.read_schema(files[0]).names
        metrics = [c for c in columns if c not in COLUMN_DOCS]
        if metrics:
            raise ValueError(
                f"{config} has benchmark metric columns {metrics}; a released dataset ships cells only (rebuild "
                "it without --metrics and join the metrics on your side)"
            )
    with atomic_directory(out_dir) as tmp:
        for config in configs:
            shutil.copytree(config, tmp / config.name)
        render_dataset_card(tmp, repo_id=repo_id)
    return Path(out_dir)


def recommended_sampling(space: str) -> dict[str, Any]:
    """The sampling settings a released checkpoint of ``space`` records in its ``generation_config.json``."""
    space_preset = preset(space)
    return {
        "temperature": space_preset.recommended_temperature,
        "constrained": True,
        "without_replacement": space_preset.without_replacement,
    }


def push_release(
    folder: str | Path,
    repo_id: str,
    repo_type: str = "model",
    private: bool = False,
    token: str | None = None,
) -> str:
    """Upload a release folder (``create_repo`` + ``upload_folder``; needs network and a token); returns the
    commit URL. The dataset repo goes through :func:`archllm_hf.data.repo.upload_dataset_repo`."""
    if repo_type == "dataset":
        from ..data.repo import upload_dataset_repo

        return upload_dataset_repo(folder, repo_id, private=private, token=token)
    from huggingface_hub import HfApi

    api = HfApi(token=token)
    api.create_repo(repo_id, repo_type=repo_type, private=private, exist_ok=True)
    info = api.upload_folder(
        repo_id=repo_id,
        folder_path=str(folder),
        commit_message="Release (archllm-hf)",
        delete_patterns=RELEASE_PATTERNS,  # the repo ends up as the folder: files a new release dropped go too
    )
    return str(info)


# --- helpers ---------------------------------------------------------------------------------------------------------
def _check_apart(source: Path, out: Path) -> None:
    """The release replaces ``out`` as a whole: it must be neither ``source`` nor inside it, nor hold it."""
    source, out = source.resolve(), out.resolve()
    if out == source or source in out.parents or out in source.parents:
        raise ValueError(
            f"--out {out} overlaps {source}; the release replaces --out as a whole: write it elsewhere"
        )


_RELEASE_MARKERS = {"model": (PRIOR_INFO_NAME, "config.json", "README.md"), "dataset": ("README.md",)}


def _check_replaceable(out: Path, kind: str, force: bool) -> None:
    """A release replaces ``out`` as a whole: refuse a file, the current folder (or one holding it), and, unless
    ``force``, a non-empty folder that is not an earlier ``kind`` release (``archllm release`` output only)."""
    resolved = out.resolve()
    if not resolved.name:
        raise ValueError(f"--out {out} is the root folder; write the release into a folder of its own")
    if resolved == Path.cwd().resolve() or resolved in Path.cwd().resolve().parents:
        raise ValueError(
            f"--out {out} is the current folder (or holds it); the release replaces --out as a whole: "
            "name a folder of its own"
        )
    if not resolved.exists() and not resolved.is_symlink():
        return
    if not resolved.is_dir():
        raise FileExistsError(f"--out {out} is a file; the release writes a folder there")
    entries = sorted(p.name for p in resolved.iterdir())
    if not entries or force:
        return
    if not _is_release(resolved, kind, entries):
        shown = ", ".join(entries[:5]) + (", ..." if len(entries) > 5 else "")
        raise FileExistsError(
            f"--out {out} is a non-empty folder that is not an archllm {kind} release (it holds {shown}); "
            "the release replaces --out as a whole, so it refuses to delete those files: choose a new or empty "
            "folder, or pass --force (force=True) to replace it"
        )


def _is_release(folder: Path, kind: str, entries: list[str]) -> bool:
    """Whether ``folder`` looks like what an earlier release of ``kind`` wrote, and holds nothing else."""
    if not all((folder / name).is_file() for name in _RELEASE_MARKERS[kind]):
        return False
    if kind == "model":
        allowed = (".gitattributes", VQVAE_SUBFOLDER)
        return all(
            name in allowed
            or (folder / name).is_file()
            and name.endswith((".py", ".json", ".md", ".safetensors", ".png"))
            for name in entries
        )
    from ..data.repo import BUILD_INFO

    configs = [name for name in entries if (folder / name / BUILD_INFO).is_file()]
    return bool(configs) and all(name in (".gitattributes", "README.md", *configs) for name in entries)


def _write_remote_code(folder: Path, space: str) -> None:
    """Replace the code ``save_pretrained`` copied (into the root and ``vqvae/``) by the repo's remote code, at the
    root only."""
    for stale in [*folder.glob("*.py"), *(folder / VQVAE_SUBFOLDER).glob("*.py")]:
        stale.unlink()
    for name, text in remote_code_files(space).items():
        (folder / name).write_text(text)


def _add_custom_pipeline(config_path: Path) -> None:
    config = json.loads(config_path.read_text())
    config["custom_pipelines"] = {
        REMOTE_PIPELINE_TASK: {
            "impl": f"{REMOTE_PIPELINE_FILE[:-3]}.ArchVQVAEGenerationPipeline",
            "pt": ["AutoModelForCausalLM"],
            "type": "text",
        }
    }
    config_path.write_text(json.dumps(config, indent=2, sort_keys=True) + "\n")


def _code_tokenizer(vqvae: ArchVQVAEModel) -> ArchCodeTokenizer:
    """A fresh code tokenizer (a loaded one would save how it was loaded, e.g. ``local_files_only``)."""
    return ArchCodeTokenizer(codebook_size=vqvae.config.codebook_size, code_length=vqvae.config.code_length)


def _copy_summary(source: Path, target: Path) -> None:
    if source.is_file():
        summary = {k: v for k, v in json.loads(source.read_text()).items() if k not in _LOCAL_KEYS}
        target.write_text(json.dumps(summary, indent=2) + "\n")


@contextmanager
def _remote_code_classes() -> Iterator[None]:
    """Within the block, saving the VQ-VAE and the code tokenizer writes ``auto_map`` and copies their code
    (``register_for_auto_class``); the classes are restored afterwards, so later saves stay package-native."""
    classes = (ArchVQVAEConfig, ArchVQVAEModel, ArchCodeTokenizer)
    before = [cls.__dict__.get("_auto_class", _UNSET) for cls in classes]
    ArchVQVAEConfig.register_for_auto_class("AutoConfig")
    ArchVQVAEModel.register_for_auto_class("AutoModel")
    ArchCodeTokenizer.register_for_auto_class("AutoTokenizer")
    try:
        yield
    finally:
        for cls, value in zip(classes, before):
            if value is _UNSET:
                delattr(cls, "_auto_class")
            else:
                cls._auto_class = value


_UNSET = object()

__all__ = [
    "REMOTE_PIPELINE_FILE",
    "REMOTE_PIPELINE_TASK",
    "VQVAE_SUBFOLDER",
    "push_release",
    "recommended_sampling",
    "release_dataset",
    "release_run",
    "remote_code_files",
    "write_samples_sheet",
]
