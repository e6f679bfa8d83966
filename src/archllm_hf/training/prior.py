"""Train the language-model prior over VQ-VAE code sequences with the ``Trainer`` API.

Two paths share this code:

* **default**: a small ``LlamaForCausalLM`` trained from scratch on the code tokenizer (``<bos> c1 … cL <eos>``);
* **Arch-LLM**: any causal LM (``base_model``: a Hub name or a local folder) fine-tuned with its own tokenizer on the
  codes written as plain numeric text after a short fixed prompt, optionally through LoRA (``peft``).

Either way the output folder loads with plain transformers (``AutoModelForCausalLM`` + ``AutoTokenizer``) and holds
``archllm_prior.json`` (:class:`archllm_hf._hub.PriorInfo`), which tells the generator how to prompt the model, how to
read what it writes and where its VQ-VAE is (a path relative to the prior folder).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import datasets
import torch
from transformers import (
    GenerationConfig,
    LlamaConfig,
    LlamaForCausalLM,
    PreTrainedModel,
    Trainer,
    TrainerCallback,
    set_seed,
)

from .._hub import PriorInfo, load_vqvae, reference, save_prior
from ..presets import PriorTrainingConfig, preset
from .common import (
    cosine_schedule,
    load_cells,
    padding_collator,
    train_resuming,
    training_arguments,
    training_summary,
)
from .graphs import split_cells
from .llm import load_base_model


class CausalLMCollator:
    """Pads ``input_ids`` on the right (:func:`padding_collator`) and builds ``labels`` that ignore padding and the
    prompt (each example's ``prompt_length`` tokens)."""

    def __init__(self, tokenizer: PreTrainedTokenizerBase):
        self.pad = padding_collator(tokenizer)

    def __call__(self, examples: list[dict[str, Any]]) -> dict[str, torch.Tensor]:
        batch = self.pad([{"input_ids": example["input_ids"]} for example in examples])
        input_ids = batch["input_ids"]
        labels = torch.full_like(input_ids, -100)
        for row, example in enumerate(examples):
            start, end = int(example.get("prompt_length", 0)), len(example["input_ids"])
            labels[row, start:end] = input_ids[row, start:end]
        return {"input_ids": input_ids, "attention_mask": batch["attention_mask"], "labels": labels}


def _tokenize_codes(tokenizer, texts: list[str]) -> datasets.Dataset:
    """Default path: the code tokenizer adds ``<bos>``/``<eos>`` itself."""
    encoded = tokenizer(texts)["input_ids"]
    return datasets.Dataset.from_dict({"input_ids": encoded, "prompt_length": [1] * len(encoded)})


def tokenize_text(tokenizer, texts: list[str], prompt: str) -> datasets.Dataset:
    """Arch-LLM path: ``prompt`` + ``" 12 305 7"`` + eos, in the base model's own tokenizer."""
    prompt_ids = tokenizer(prompt)["input_ids"]
    bodies = tokenizer([" " + text for text in texts], add_special_tokens=False)["input_ids"]
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
    model, tokenizer = load_base_model(config.base_model, config.gguf_file)
    if tokenizer.eos_token_id is None:
        raise ValueError(
            f"the tokenizer of {config.base_model} has no eos token; the prior needs one to stop"
        )
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = (
            tokenizer.eos_token
        )  # labels come from the attention mask, so eos is still learned
    if config.lora:
        try:
            from peft import LoraConfig, get_peft_model
        except ImportError as err:
            raise ImportError("LoRA fine-tuning needs peft: pip install 'archllm-hf[llm]'") from err
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
    stage: str = "prior",
    callbacks: Sequence[TrainerCallback] = (),
) -> tuple[Trainer, Any, float, dict[str, float], str | None]:
    """Train a causal LM on ``input_ids``/``prompt_length`` rows with ``config``'s schedule (cosine, warm-up),
    resuming from ``out_dir/checkpoints``; returns the trainer, its train output, the seconds it took, the final
    eval metrics and the checkpoint resumed from. Shared by the code prior and the direct-LM baseline.
    ``callbacks`` join the Trainer's (e.g. one that stops training at a time limit)."""
    args = training_arguments(
        out_dir,
        seed=config.seed,
        device=device,
        progress=progress,
        **cosine_schedule(
            replace(config, learning_rate=config.resolved_learning_rate()),
            eval_batch_size=max(config.batch_size, 512),
        ),
        **({"save_strategy": "steps", "save_steps": config.save_steps} if config.save_steps else {}),
    )
    trainer = Trainer(
        model=model,
        args=args,
        train_dataset=train_data,
        eval_dataset=eval_data,
        data_collator=CausalLMCollator(tokenizer),
        processing_class=tokenizer,
        callbacks=list(callbacks),
    )
    train_output, train_seconds, last = train_resuming(trainer, out_dir, resume, stage=stage)
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
    callbacks: Sequence[TrainerCallback] = (),
) -> dict[str, Any]:
    """Train the prior on the training split's code sequences and save it to ``out_dir``.

    Args:
        vqvae_dir: a folder written by :func:`~archllm_hf.training.vqvae.train_vqvae`.
        out_dir: output folder (loads with ``AutoModelForCausalLM``/``AutoTokenizer``); checkpoints go to
            ``out_dir/checkpoints`` and training resumes from the newest one.
        dataset: the cells dataset (``DatasetDict`` or dataset repo folder); rebuilt deterministically when None.
        config: size and schedule; the space's preset (``archllm_hf.presets``) when None.
        device: ``"cpu"``, ``"cuda"``...; the Trainer's choice when None.
        resume: continue from the newest checkpoint if there is one.
        progress: show progress bars.
        num_samples: cells to sample when rebuilding a dataset for a space that is not enumerated.
        callbacks: ``TrainerCallback`` objects added to the Trainer's.
    """
    vqvae, processor = load_vqvae(vqvae_dir, device=device)
    space = processor.space
    config = config or preset(space.name).prior
    out_dir = Path(out_dir)
    set_seed(config.seed)

    cells = load_cells(space, dataset, num_samples=num_samples, progress=progress)
    train_texts = processor.cells_to_text(vqvae, split_cells(space, cells["train"]))
    eval_texts = processor.cells_to_text(vqvae, split_cells(space, cells["validation"]))
    code_length = vqvae.config.code_length

    if config.base_model is None:
        tokenizer = processor.tokenizer
        model: PreTrainedModel = scratch_llama(tokenizer, config, code_length)
        train_data, eval_data = (
            _tokenize_codes(tokenizer, train_texts),
            _tokenize_codes(tokenizer, eval_texts),
        )
        prior_format, max_new_tokens = "codes", code_length + 1
    else:
        model, tokenizer = _base_model(config)
        train_data = tokenize_text(tokenizer, train_texts, config.prompt)
        eval_data = tokenize_text(tokenizer, eval_texts, config.prompt)
        longest = max(len(ids) - n for ids, n in zip(train_data["input_ids"], train_data["prompt_length"]))
        prior_format, max_new_tokens = "text", longest + 4

    fit = fit_causal_lm(
        model,
        tokenizer,
        train_data,
        eval_data,
        config,
        out_dir,
        device,
        progress,
        resume,
        callbacks=callbacks,
    )
    model = fit[0].model
    if config.lora:
        model = model.merge_and_unload()
    info = PriorInfo(
        format=prior_format,
        space=space.name,
        space_kwargs=dict(vqvae.config.space_kwargs or {}),
        vqvae=reference(vqvae_dir, out_dir),
        code_length=code_length,
        codebook_size=vqvae.config.codebook_size,
        prompt=config.prompt if prior_format == "text" else None,
        base_model=config.base_model,
    )
    return save_causal_lm_prior(
        out_dir, model, tokenizer, info, fit, config, max_new_tokens, num_train_sequences=len(train_texts)
    )


def save_causal_lm_prior(
    out_dir: Path,
    model: PreTrainedModel,
    tokenizer: Any,
    info: PriorInfo,
    fit: tuple[Trainer, Any, float, dict[str, float], str | None],
    config: PriorTrainingConfig,
    max_new_tokens: int,
    **sizes: Any,
) -> dict[str, Any]:
    """Give a trained prior (the code prior or the direct LM) its sampling ``generation_config`` and save it with
    ``info`` and its training summary (returned): device, time, losses of ``fit`` (from :func:`fit_causal_lm`),
    ``sizes`` (the data's), the number of parameters and ``config``."""
    trainer, train_output, train_seconds, eval_metrics, last = fit
    model.generation_config = GenerationConfig(
        do_sample=True,
        max_new_tokens=max_new_tokens,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    summary = training_summary(
        {"space": info.space},
        trainer,
        train_output,
        train_seconds,
        last,
        asdict(config),
        eval_loss=eval_metrics.get("eval_loss"),
        **sizes,
        num_parameters=sum(p.numel() for p in model.parameters()),
    )
    save_prior(out_dir, model, tokenizer, info, summary)
    return summary


__all__ = [
    "CausalLMCollator",
    "PriorTrainingConfig",
    "fit_causal_lm",
    "save_causal_lm_prior",
    "scratch_llama",
    "tokenize_text",
    "train_prior",
]
