"""Train the language-model prior over VQ-VAE code sequences with the ``Trainer`` API.

Two paths share this code:

* **default**: a small ``LlamaForCausalLM`` trained from scratch on the code tokenizer (``<bos> c1 … cL <eos>``);
* **Arch-LLM**: any causal LM (``base_model``: a Hub name or a local folder) fine-tuned with its own tokenizer on the
  codes written as plain numeric text after a short fixed prompt, optionally through LoRA (``peft``).

Either way the output folder loads with plain transformers (``AutoModelForCausalLM`` + ``AutoTokenizer``) and holds
``archllm_prior.json``, which tells the generator how to prompt the model and parse what it writes.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import datasets
import torch
from transformers import (
    AutoModel,
    AutoModelForCausalLM,
    AutoTokenizer,
    GenerationConfig,
    LlamaConfig,
    LlamaForCausalLM,
    PreTrainedModel,
    Trainer,
)

from ..generation import PRIOR_INFO_NAME
from ..models.arch_vqvae import ArchVQVAEModel
from ..spaces import get_space
from ..utils import atomic_files, set_seed
from .common import cosine_schedule, load_cells, train_resuming, training_arguments
from .graphs import graph_dataset

DEFAULT_PROMPT = "Architecture codes:"


@dataclass
class PriorTrainingConfig:
    """Size and schedule of the prior. ``base_model`` switches to the Arch-LLM fine-tuning path."""

    epochs: float = 10.0
    batch_size: int = 256
    learning_rate: float = 1e-3
    weight_decay: float = 0.01
    warmup_ratio: float = 0.05
    seed: int = 0
    hidden_size: int = 256
    num_layers: int = 4
    num_heads: int = 4
    base_model: str | None = None
    prompt: str = DEFAULT_PROMPT
    lora: bool = False
    lora_rank: int = 16


SPACE_DEFAULTS: dict[str, PriorTrainingConfig] = {
    "nb201": PriorTrainingConfig(epochs=24, batch_size=256, learning_rate=2e-3, hidden_size=64, num_layers=2),
    "nb101": PriorTrainingConfig(epochs=8, batch_size=512, learning_rate=2e-3, hidden_size=128, num_layers=2),
    "darts": PriorTrainingConfig(epochs=8, batch_size=512, learning_rate=2e-3, hidden_size=128, num_layers=2),
}


@torch.no_grad()
def encode_split(vqvae: ArchVQVAEModel, graphs: datasets.Dataset, batch_size: int = 4096) -> list[list[int]]:
    """Code sequences of every graph of a split (``graph_dataset`` output), in order."""
    vqvae.eval()
    device = next(vqvae.parameters()).device
    codes: list[list[int]] = []
    for start in range(0, len(graphs), batch_size):
        chunk = graphs[start : start + batch_size]
        codes += vqvae.encode(
            chunk["adjacency"].long().to(device),
            chunk["ops"].long().to(device),
            chunk["node_mask"].bool().to(device),
        ).tolist()
    return codes


def codes_to_text(codes: list[int]) -> str:
    """``[12, 305, 7]`` → ``"12 305 7"``: the code-number string both prior formats are trained on."""
    return " ".join(str(int(c)) for c in codes)


class CausalLMCollator:
    """Pads ``input_ids`` and builds ``labels`` that ignore padding and the prompt (``prompt_length`` tokens)."""

    def __init__(self, pad_token_id: int):
        self.pad_token_id = pad_token_id

    def __call__(self, examples: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        longest = max(len(e["input_ids"]) for e in examples)
        input_ids = torch.full((len(examples), longest), self.pad_token_id, dtype=torch.long)
        attention_mask = torch.zeros_like(input_ids)
        labels = torch.full_like(input_ids, -100)
        for row, example in enumerate(examples):
            ids = torch.as_tensor(example["input_ids"], dtype=torch.long)
            input_ids[row, : len(ids)] = ids
            attention_mask[row, : len(ids)] = 1
            labels[row, int(example.get("prompt_length", 0)) : len(ids)] = ids[
                int(example.get("prompt_length", 0)) :
            ]
        return {"input_ids": input_ids, "attention_mask": attention_mask, "labels": labels}


def _tokenize_codes(tokenizer, sequences: list[list[int]]) -> datasets.Dataset:
    """Default path: the code tokenizer adds ``<bos>``/``<eos>`` itself."""
    encoded = tokenizer([codes_to_text(c) for c in sequences])["input_ids"]
    return datasets.Dataset.from_dict({"input_ids": encoded, "prompt_length": [1] * len(encoded)})


def _tokenize_text(tokenizer, sequences: list[list[int]], prompt: str) -> datasets.Dataset:
    """Arch-LLM path: ``prompt`` + ``" 12 305 7"`` + eos, in the base model's own tokenizer."""
    prompt_ids = tokenizer(prompt)["input_ids"]
    bodies = tokenizer([" " + codes_to_text(c) for c in sequences], add_special_tokens=False)["input_ids"]
    encoded = [prompt_ids + body + [tokenizer.eos_token_id] for body in bodies]
    return datasets.Dataset.from_dict(
        {"input_ids": encoded, "prompt_length": [len(prompt_ids)] * len(encoded)}
    )


def scratch_llama(tokenizer, config: PriorTrainingConfig, code_length: int) -> LlamaForCausalLM:
    llama = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=config.hidden_size,
        intermediate_size=4 * config.hidden_size,
        num_hidden_layers=config.num_layers,
        num_attention_heads=config.num_heads,
        num_key_value_heads=config.num_heads,
        max_position_embeddings=max(16, code_length + 2),
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        tie_word_embeddings=True,
    )
    return LlamaForCausalLM(llama)


def _base_model(config: PriorTrainingConfig):
    tokenizer = AutoTokenizer.from_pretrained(config.base_model)
    if tokenizer.eos_token_id is None:
        raise ValueError(
            f"the tokenizer of {config.base_model} has no eos token; the prior needs one to stop"
        )
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = (
            tokenizer.eos_token
        )  # labels come from the attention mask, so eos is still learned
    model = AutoModelForCausalLM.from_pretrained(config.base_model)
    if config.lora:
        try:
            from peft import LoraConfig, get_peft_model
        except ImportError as err:
            raise ImportError("LoRA fine-tuning needs peft: pip install 'archllm-hf[lora]'") from err
        model = get_peft_model(
            model, LoraConfig(task_type="CAUSAL_LM", r=config.lora_rank, lora_alpha=2 * config.lora_rank)
        )
    return model, tokenizer


def fit_causal_lm(
    model: PreTrainedModel,
    tokenizer: Any,
    train_data: datasets.Dataset,
    eval_data: datasets.Dataset,
    config: PriorTrainingConfig,
    out_dir: Path,
    device: str | None,
    progress: bool,
    resume: bool,
) -> tuple[Trainer, Any, float, dict[str, float], str | None]:
    """Train a causal LM on ``input_ids``/``prompt_length`` rows with ``config``'s schedule (cosine, warm-up),
    resuming from ``out_dir/checkpoints``; returns the trainer, its train output, the seconds it took, the final
    eval metrics and the checkpoint resumed from. Shared by the code prior and the direct-LM baseline."""
    args = training_arguments(
        out_dir,
        seed=config.seed,
        device=device,
        progress=progress,
        **cosine_schedule(config, eval_batch_size=max(config.batch_size, 512)),
    )
    trainer = Trainer(
        model=model,
        args=args,
        train_dataset=train_data,
        eval_dataset=eval_data,
        data_collator=CausalLMCollator(tokenizer.pad_token_id),
        processing_class=tokenizer,
    )
    train_output, train_seconds, last = train_resuming(trainer, out_dir, resume)
    return trainer, train_output, train_seconds, trainer.evaluate(), last


def train_prior(
    vqvae_dir: str | Path,
    out_dir: str | Path,
    dataset: str | Path | datasets.DatasetDict | None = None,
    config: PriorTrainingConfig | None = None,
    device: str | None = None,
    resume: bool = True,
    progress: bool = True,
    num_samples: int | None = None,
) -> dict[str, Any]:
    """Train the prior on the training split's code sequences and save it to ``out_dir``.

    Args:
        vqvae_dir: a folder written by :func:`~archllm_hf.training.vqvae.train_vqvae`.
        out_dir: output folder (loads with ``AutoModelForCausalLM``/``AutoTokenizer``); checkpoints go to
            ``out_dir/checkpoints`` and training resumes from the newest one.
        dataset: the cells dataset (``DatasetDict`` or dataset repo folder); rebuilt deterministically when None.
        config: size and schedule; the space's defaults when None.
        device: ``"cpu"``, ``"cuda"``...; the Trainer's choice when None.
        resume: continue from the newest checkpoint if there is one.
        progress: show progress bars.
        num_samples: cells to sample when rebuilding a dataset for a space that is not enumerated.
    """
    vqvae = AutoModel.from_pretrained(str(vqvae_dir))
    code_tokenizer = AutoTokenizer.from_pretrained(str(vqvae_dir))
    space = get_space(vqvae.config.space, **dict(vqvae.config.space_kwargs or {}))
    config = config or SPACE_DEFAULTS.get(space.name, PriorTrainingConfig())
    out_dir = Path(out_dir)
    set_seed(config.seed)

    cells = load_cells(space, dataset, num_samples=num_samples, progress=progress)
    if device is not None:
        vqvae.to(device)
    train_codes = encode_split(vqvae, graph_dataset(space, cells["train"]))
    eval_codes = encode_split(vqvae, graph_dataset(space, cells["validation"]))
    code_length = vqvae.config.code_length

    if config.base_model is None:
        tokenizer = code_tokenizer
        model: PreTrainedModel = scratch_llama(tokenizer, config, code_length)
        train_data, eval_data = (
            _tokenize_codes(tokenizer, train_codes),
            _tokenize_codes(tokenizer, eval_codes),
        )
        prior_format, max_new_tokens = "codes", code_length + 1
    else:
        model, tokenizer = _base_model(config)
        train_data = _tokenize_text(tokenizer, train_codes, config.prompt)
        eval_data = _tokenize_text(tokenizer, eval_codes, config.prompt)
        longest = max(len(ids) - n for ids, n in zip(train_data["input_ids"], train_data["prompt_length"]))
        prior_format, max_new_tokens = "text", longest + 4

    fit = fit_causal_lm(model, tokenizer, train_data, eval_data, config, out_dir, device, progress, resume)
    trainer, train_output, train_seconds, eval_metrics, last = fit

    model = trainer.model
    if config.lora:
        model = model.merge_and_unload()
    model.generation_config = GenerationConfig(
        do_sample=True,
        max_new_tokens=max_new_tokens,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    info = {
        "format": prior_format,
        "prompt": config.prompt if prior_format == "text" else None,
        "space": space.name,
        "space_kwargs": dict(vqvae.config.space_kwargs or {}),
        "code_length": code_length,
        "codebook_size": vqvae.config.codebook_size,
        "vqvae": str(vqvae_dir),
        "base_model": config.base_model,
    }
    summary = {
        "space": space.name,
        "device": str(trainer.args.device),
        "train_seconds": train_seconds,
        "train_steps": train_output.global_step,
        "train_loss": train_output.training_loss,
        "eval_loss": eval_metrics.get("eval_loss"),
        "num_train_sequences": len(train_codes),
        "num_parameters": sum(p.numel() for p in model.parameters()),
        "training_config": asdict(config),
        "resumed_from": last,
    }
    save_causal_lm(out_dir, model, tokenizer, {PRIOR_INFO_NAME: info, "training_summary.json": summary})
    return summary


def save_causal_lm(out_dir: Path, model: PreTrainedModel, tokenizer: Any, files: dict[str, dict]) -> None:
    """Write model, tokenizer and the JSON ``files`` into ``out_dir`` at once (nothing half-written)."""
    with atomic_files(out_dir) as tmp:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        for name, content in files.items():
            (tmp / name).write_text(json.dumps(content, indent=2) + "\n")


__all__ = [
    "DEFAULT_PROMPT",
    "PRIOR_INFO_NAME",
    "SPACE_DEFAULTS",
    "CausalLMCollator",
    "PriorTrainingConfig",
    "codes_to_text",
    "encode_split",
    "fit_causal_lm",
    "save_causal_lm",
    "train_prior",
]
