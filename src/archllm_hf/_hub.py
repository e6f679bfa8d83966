"""Every folder the package writes, described, saved and loaded in one place.

Folder kinds and what they hold:

* **VQ-VAE** (:func:`save_vqvae` / :func:`load_vqvae`): ``config.json``, ``model.safetensors``, the code tokenizer;
  loads as the model and its :class:`~archllm_hf.models.arch_vqvae.ArchVQVAEProcessor`.
* **prior** (:func:`save_prior` / :func:`load_prior`): a causal LM and its tokenizer, plus ``archllm_prior.json``
  (:class:`PriorInfo`), which says how to prompt it, how to read what it writes and where its VQ-VAE is. The code
  prior, an LLM fine-tuned on the codes and the direct-LM baseline over cell text are all priors.
* **VGAE** (:func:`save_vgae` / :func:`load_vgae`): the arch2vec baseline model.

Each may hold ``training_summary.json`` (:func:`read_summary`). Folders are portable: a prior names its VQ-VAE by a
path relative to itself (``../vqvae`` in a run folder, ``vqvae`` in a release repo) or by a Hub repo id, never by an
absolute local path, so a run folder that is moved or renamed still loads. Saving writes every file under a
temporary name and moves them in together, and only the main process writes when several train together.
"""

from __future__ import annotations

import json
import os
import posixpath
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

import torch
from transformers import AutoModel, AutoModelForCausalLM, AutoTokenizer, PreTrainedModel

from .models.arch2vec import Arch2VecModel
from .models.arch_vqvae import ArchCodeTokenizer, ArchVQVAEModel, ArchVQVAEProcessor
from .spaces import SearchSpace, space_of
from .utils import atomic_files, is_main_process, quiet_loading, wait_for_everyone

PRIOR_INFO_NAME = "archllm_prior.json"
PREDICTOR_INFO_NAME = "archllm_predictor.json"
SUMMARY_NAME = "training_summary.json"
PriorFormat = Literal["codes", "text", "cell_text"]


@dataclass(frozen=True)
class PriorInfo:
    """What a prior folder's ``archllm_prior.json`` says.

    Attributes:
        format: ``"codes"``: a model over the code tokenizer (``<bos> c1 … cL <eos>``); ``"text"``: a pretrained
            causal LM writing the code numbers as text after ``prompt``; ``"cell_text"``: the direct-LM baseline,
            writing the space's native cell text.
        space, space_kwargs: the search space (``get_space(space, **space_kwargs)``).
        vqvae: where the VQ-VAE is: a path relative to the prior folder, or a Hub repo id (None for
            ``cell_text``).
        code_length, codebook_size: the VQ-VAE's codes (None for ``cell_text``).
        prompt: the text before the codes (``text`` format only).
        base_model: the pretrained model that was fine-tuned (``text`` format only).
    """

    format: PriorFormat
    space: str
    space_kwargs: dict[str, Any] = field(default_factory=dict)
    vqvae: str | None = None
    code_length: int | None = None
    codebook_size: int | None = None
    prompt: str | None = None
    base_model: str | None = None

    def __post_init__(self) -> None:
        if self.format not in ("codes", "text", "cell_text"):
            raise ValueError(f"unknown prior format {self.format!r}; expected codes, text or cell_text")
        if self.format != "cell_text" and (self.vqvae is None or self.code_length is None):
            raise ValueError(f"a {self.format!r} prior must name its vqvae and code_length")
        if self.format == "text" and not self.prompt:
            raise ValueError("a 'text' prior needs its prompt")

    @classmethod
    def from_dict(cls, data: dict[str, Any], source: str = "archllm_prior.json") -> PriorInfo:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"{source}: unknown keys {unknown}")
        try:
            return cls(**data)
        except TypeError as err:
            raise ValueError(f"{source}: {err}") from None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def build_space(self) -> SearchSpace:
        return space_of(self)


# --- shared plumbing ----------------------------------------------------------------------------------------------
def save_folder(
    out_dir: str | Path, write: Callable[[Path], None], summary: dict[str, Any] | None = None
) -> Path:
    """Run ``write(tmp)`` and move what it wrote (and ``summary``) into ``out_dir`` at once; main process only.

    The files that mark a folder finished (``config.json``, ``archllm_prior.json``, ``training_summary.json``) go
    in last, so a crash while moving never leaves a folder that :func:`is_saved` or :func:`read_summary` take as
    finished.
    """
    out_dir = Path(out_dir)
    try:
        if is_main_process():
            with atomic_files(out_dir, last=("config.json", PRIOR_INFO_NAME, SUMMARY_NAME)) as tmp:
                write(tmp)
                if summary is not None:
                    (tmp / SUMMARY_NAME).write_text(json.dumps(summary, indent=2) + "\n")
    finally:  # the other processes must not wait for a main process that failed
        wait_for_everyone()
    return out_dir


def read_summary(folder: str | Path) -> dict[str, Any]:
    """The ``training_summary.json`` of a folder (empty when it has none)."""
    path = Path(folder) / SUMMARY_NAME
    return json.loads(path.read_text()) if path.is_file() else {}


def is_saved(folder: str | Path, kind: Literal["vqvae", "prior", "vgae"]) -> bool:
    """Whether ``folder`` holds a finished folder of that kind (what training writes last)."""
    folder = Path(folder)
    if kind == "prior":
        return (folder / PRIOR_INFO_NAME).is_file()
    return (folder / "model.safetensors").is_file() and (folder / "config.json").is_file()


def reference(target: str | Path, from_folder: str | Path) -> str:
    """How a folder written to ``from_folder`` names ``target``: a relative path when ``target`` is a local folder
    (POSIX separators), else ``target`` itself (a Hub repo id)."""
    if Path(target).is_dir():
        return Path(os.path.relpath(Path(target).resolve(), Path(from_folder).resolve())).as_posix()
    return str(target)


def resolve(reference_: str, from_folder: str | Path, subfolder: str = "") -> tuple[str, dict[str, Any]]:
    """Where a reference written by :func:`reference` into ``from_folder`` (a local folder, or a Hub repo id with
    an optional ``subfolder``) points: ``(path_or_repo_id, from_pretrained kwargs)``.

    A relative path resolves against the folder it was written into: a local folder, or a subfolder of the same
    Hub repo. A reference with a ``/`` that is not a relative path is another repo's id.
    """
    relative = reference_.startswith(".") or "/" not in reference_
    base = Path(str(from_folder))
    if base.is_dir():
        local = base / subfolder / reference_
        if local.is_dir():
            return str(local), {}
        if relative:
            raise FileNotFoundError(
                f"{base / subfolder} refers to {reference_!r}, which is not a folder ({local})"
            )
        return reference_, {}
    if not relative:
        return reference_, {}
    inside = posixpath.normpath(posixpath.join(subfolder, reference_))
    if inside == ".." or inside.startswith("../"):
        raise ValueError(
            f"{from_folder} refers to {reference_!r}, outside the repo; a released prior must name its VQ-VAE by a "
            "subfolder of its own repo or by another repo's id"
        )
    return str(from_folder), ({"subfolder": inside} if inside != "." else {})


def pin_revision(path: str | Path, **hub_kwargs: Any) -> dict[str, Any]:
    """``hub_kwargs`` with ``revision`` resolved, once, to the commit it names now (``HfApi.resolve_revision``), so
    that every file of one load (the prior, ``archllm_prior.json``, the VQ-VAE, its remote code) comes from that
    commit even if the repo moves on meanwhile. A local folder is left as it is. Offline, the commit recorded in the
    cache is used; if the revision cannot be resolved at all, it is left as given, and the loads that follow report
    why (as transformers does).
    """
    revision = hub_kwargs.get("revision")
    if revision is not None and not isinstance(revision, str):
        raise TypeError(
            f"revision must be a branch, tag or commit name (a str), got {type(revision).__name__}"
        )
    if Path(str(path)).is_dir() or _is_commit(revision):
        return hub_kwargs
    from huggingface_hub import HfApi, is_offline_mode

    try:
        resolved = HfApi().resolve_revision(
            str(path),
            revision=revision,
            token=hub_kwargs.get("token"),
            cache_dir=hub_kwargs.get("cache_dir"),
            local_files_only=bool(hub_kwargs.get("local_files_only")) or is_offline_mode(),
        )
    except Exception:  # noqa: BLE001 - not found, no access, offline and no cached ref: the loads below say which
        return hub_kwargs
    return {**hub_kwargs, "revision": resolved.resolved}


def _is_commit(revision: Any) -> bool:
    return (
        isinstance(revision, str) and len(revision) == 40 and all(c in "0123456789abcdef" for c in revision)
    )


def predictor_folder(
    path: str | Path,
    revision: str | None = None,
    token: str | bool | None = None,
    cache_dir: str | None = None,
) -> Path:
    """The local folder of a predictor: ``path`` itself, or a download of the Hub repo ``ORG/NAME`` it names."""
    local = Path(str(path))
    if local.is_dir():
        if not (local / PREDICTOR_INFO_NAME).is_file():
            raise FileNotFoundError(f"{local} is not an archllm predictor folder (no {PREDICTOR_INFO_NAME})")
        return local
    text = str(path)
    if text.startswith((".", "/", "~")) or text.count("/") != 1 or local.exists():
        raise FileNotFoundError(f"{text} is neither a predictor folder nor a Hub repo id (ORG/NAME)")
    from huggingface_hub import snapshot_download

    folder = Path(snapshot_download(text, revision=revision, token=token, cache_dir=cache_dir))
    if not (folder / PREDICTOR_INFO_NAME).is_file():
        raise FileNotFoundError(f"the Hub repo {text} holds no archllm predictor (no {PREDICTOR_INFO_NAME})")
    return folder


# --- VQ-VAE ----------------------------------------------------------------------------------------------------------
def save_vqvae(model: ArchVQVAEModel, out_dir: str | Path, summary: dict[str, Any] | None = None) -> Path:
    """Save model and code tokenizer (and ``summary``, with its held-out ``test`` figures as ``reconstruction.json``)."""
    tokenizer = ArchCodeTokenizer(
        codebook_size=model.config.codebook_size, code_length=model.config.code_length
    )

    def write(tmp: Path) -> None:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        if summary is not None and "test" in summary:
            (tmp / "reconstruction.json").write_text(json.dumps(summary["test"], indent=2) + "\n")

    return save_folder(out_dir, write, summary)


def load_vqvae(
    path: str | Path, device: str | torch.device | None = None, **hub_kwargs: Any
) -> tuple[ArchVQVAEModel, ArchVQVAEProcessor]:
    """The VQ-VAE of a folder or Hub repo (``hub_kwargs``: ``subfolder``, ``revision``, ...) and its processor,
    whose search space is rebuilt from the model config and checked against it."""
    with quiet_loading():
        model = AutoModel.from_pretrained(str(path), **hub_kwargs)
    if not isinstance(model, ArchVQVAEModel):
        raise ValueError(f"{path} holds a {type(model).__name__}, not an ArchVQVAE model")
    space = space_of(model.config)
    tokenizer = AutoTokenizer.from_pretrained(str(path), **hub_kwargs)
    processor = ArchVQVAEProcessor(space, tokenizer, model.config)
    if device is not None:
        model.to(device)
    return model.eval(), processor


# --- priors ----------------------------------------------------------------------------------------------------------
def save_prior(
    out_dir: str | Path,
    model: PreTrainedModel,
    tokenizer: Any,
    info: PriorInfo,
    summary: dict[str, Any] | None = None,
) -> Path:
    """Save a prior: model (with its ``generation_config``), tokenizer and ``archllm_prior.json``."""

    def write(tmp: Path) -> None:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        (tmp / PRIOR_INFO_NAME).write_text(json.dumps(info.to_dict(), indent=2) + "\n")

    return save_folder(out_dir, write, summary)


def check_folder_or_repo_id(path: str | Path, what: str = "prior") -> None:
    """Refuse a ``path`` that is neither a local folder nor a Hub repo id, naming it as a missing local path (not as
    a Hub failure): a file, or a name that cannot be a repo id (``runs/nb201/prior``, ``./prior``, ``/abs``)."""
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    local = Path(str(path))
    if local.is_dir():
        return
    if local.exists():
        raise NotADirectoryError(f"{what} {path} is a file; give the {what} folder (or a Hub repo id)")
    text = str(path)
    try:
        validate_repo_id(text)
        is_repo_id = not text.startswith((".", "~")) and text.count("/") <= 1
    except HFValidationError:
        is_repo_id = False
    if not is_repo_id:
        raise FileNotFoundError(f"{what} {path}: no such folder (and not a Hub repo id)")


def read_prior_info(path: str | Path, **hub_kwargs: Any) -> PriorInfo:
    """The :class:`PriorInfo` of a prior folder or Hub repo (``hub_kwargs``: ``subfolder``, ``revision``,
    ``cache_dir``, ``token``; others are ignored here)."""
    check_folder_or_repo_id(path, "prior")
    folder = Path(str(path)) / hub_kwargs.get("subfolder", "")
    if Path(str(path)).is_dir():
        file = folder / PRIOR_INFO_NAME
        if not file.is_file():
            raise FileNotFoundError(f"{folder} is not an archllm prior folder (no {PRIOR_INFO_NAME})")
    else:
        from huggingface_hub import hf_hub_download

        download = {
            k: v for k, v in hub_kwargs.items() if k in ("subfolder", "revision", "cache_dir", "token")
        }
        try:
            file = Path(hf_hub_download(str(path), PRIOR_INFO_NAME, **download))
        except Exception as err:  # offline, not found, no access: say that no local folder exists either
            reason = (str(err) or type(err).__name__).splitlines()[0]
            raise FileNotFoundError(
                f"prior {path}: no local folder of that name, and the Hub repo {str(path)!r} could not be read "
                f"({type(err).__name__}: {reason})"
            ) from err
    try:
        data = json.loads(file.read_text())
    except json.JSONDecodeError as err:
        raise ValueError(f"{file}: not valid JSON ({err})") from None
    return PriorInfo.from_dict(data, source=str(file))


def load_prior(
    path: str | Path, device: str | torch.device | None = None, **hub_kwargs: Any
) -> tuple[PreTrainedModel, Any, PriorInfo]:
    """A prior folder or Hub repo: ``(causal LM in eval mode, its tokenizer, its PriorInfo)``."""
    info = read_prior_info(path, **hub_kwargs)
    with quiet_loading():
        model = AutoModelForCausalLM.from_pretrained(str(path), **hub_kwargs)
    tokenizer = AutoTokenizer.from_pretrained(str(path), **hub_kwargs)
    if device is not None:
        model.to(device)
    return model.eval(), tokenizer, info


def prior_vqvae(path: str | Path, info: PriorInfo, subfolder: str = "") -> tuple[str, dict[str, Any]]:
    """Where the VQ-VAE of the prior at ``path`` (``subfolder`` of it) is (see :func:`resolve`)."""
    if info.vqvae is None:
        raise ValueError(f"the {info.format!r} prior at {path} has no VQ-VAE")
    return resolve(info.vqvae, path, subfolder)


# --- VGAE ------------------------------------------------------------------------------------------------------------
def save_vgae(model: Arch2VecModel, out_dir: str | Path, summary: dict[str, Any] | None = None) -> Path:
    """Save the arch2vec VGAE (posterior statistics included) and its summary."""

    def write(tmp: Path) -> None:
        model.save_pretrained(tmp)
        if summary is not None and "test" in summary:
            (tmp / "reconstruction.json").write_text(json.dumps(summary["test"], indent=2) + "\n")

    return save_folder(out_dir, write, summary)


def load_vgae(path: str | Path, device: str | torch.device | None = None, **hub_kwargs: Any) -> Arch2VecModel:
    check_folder_or_repo_id(path, "VGAE")
    with quiet_loading():
        model = AutoModel.from_pretrained(str(path), **hub_kwargs)
    if not isinstance(model, Arch2VecModel):
        raise ValueError(f"{path} holds a {type(model).__name__}, not an arch2vec VGAE")
    if device is not None:
        model.to(device)
    return model.eval()


__all__ = [
    "PRIOR_INFO_NAME",
    "SUMMARY_NAME",
    "PriorInfo",
    "check_folder_or_repo_id",
    "is_saved",
    "load_prior",
    "load_vgae",
    "load_vqvae",
    "pin_revision",
    "prior_vqvae",
    "read_prior_info",
    "read_summary",
    "reference",
    "resolve",
    "save_prior",
    "save_vgae",
    "save_vqvae",
]
