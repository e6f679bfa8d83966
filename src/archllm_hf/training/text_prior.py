"""The direct language-model baseline: a causal LM over the cells' own text, with no VQ-VAE in between.

Each training cell is written in its space's native text form (:meth:`SearchSpace.format`: the NB201 arch string,
NB101 ``{"matrix": ..., "ops": ...}``, the DARTS genotype) and split into tokens by a BPE tokenizer learned from the
training texts, with as many tokens as the code prior has codes (512 by default), so that the two language models
have the same vocabulary size. A ``LlamaForCausalLM`` of the same size and schedule as the code prior
(:data:`~archllm_hf.training.prior.SPACE_DEFAULTS`) learns it. Samples are parsed back with
:meth:`SearchSpace.decode_text`. Comparing it with the code prior shows what the discrete VQ codes buy.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import datasets
import torch
from tokenizers import Tokenizer, decoders, models, processors, trainers
from tqdm.auto import tqdm
from transformers import (
    AutoModelForCausalLM,
    AutoTokenizer,
    GenerationConfig,
    PreTrainedTokenizerFast,
)

from ..generation import sample_record
from ..spaces import SearchSpace, get_space
from ..utils import set_seed
from .common import load_cells
from .prior import SPACE_DEFAULTS, PriorTrainingConfig, fit_causal_lm, save_causal_lm, scratch_llama

TEXT_PRIOR_INFO_NAME = "archllm_text_prior.json"
SPECIAL_TOKENS = ("<pad>", "<bos>", "<eos>", "<unk>")
DEFAULT_TEXT_VOCAB_SIZE = 512
"""The direct LM's vocabulary: the codebook size of the NB101 and DARTS VQ-VAEs."""
TOKENIZER_TRAINING_TEXTS = 20_000
"""The BPE merges are learned from this many training texts, evenly spaced over the split (splits can be ordered,
NB101's by cell size), which takes seconds rather than minutes on DARTS."""


def cell_text_tokenizer(
    texts: list[str], vocab_size: int = DEFAULT_TEXT_VOCAB_SIZE
) -> PreTrainedTokenizerFast:
    """Character-level BPE learned from ``texts`` (at most ``vocab_size`` tokens, specials included), with
    ``<bos> ... <eos>`` added; a text is one word, so merges may span punctuation and whitespace, and decoding
    concatenates the pieces back into the exact text."""
    if not texts:
        raise ValueError("cell_text_tokenizer needs at least one text")
    backend = Tokenizer(models.BPE(unk_token="<unk>"))
    backend.decoder = decoders.Fuse()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=list(SPECIAL_TOKENS),
        initial_alphabet=sorted(set().union(*map(set, texts))),
        show_progress=False,
    )
    stride = -(-len(texts) // TOKENIZER_TRAINING_TEXTS)  # ceil: at most TOKENIZER_TRAINING_TEXTS texts
    backend.train_from_iterator(texts[::stride], trainer)
    vocab = backend.get_vocab()
    backend.post_processor = processors.TemplateProcessing(
        single="<bos> $A <eos>", special_tokens=[("<bos>", vocab["<bos>"]), ("<eos>", vocab["<eos>"])]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=backend, pad_token="<pad>", bos_token="<bos>", eos_token="<eos>", unk_token="<unk>"
    )


def cell_texts(space: SearchSpace, split: datasets.Dataset, progress: bool = False) -> list[str]:
    """Native text of every cell of a dataset split."""
    if space.text_column is not None:
        return list(split[space.text_column])
    rows = tqdm(split, desc=f"{space.name} cells to text", disable=not progress)
    return [space.format(space.from_record(row)) for row in rows]


def train_text_prior(
    space: SearchSpace | str,
    out_dir: str | Path,
    dataset: str | Path | datasets.DatasetDict | None = None,
    config: PriorTrainingConfig | None = None,
    device: str | None = None,
    resume: bool = True,
    progress: bool = True,
    num_samples: int | None = None,
    vocab_size: int = DEFAULT_TEXT_VOCAB_SIZE,
) -> dict[str, Any]:
    """Train the direct LM on the training split's cell texts and save it to ``out_dir``.

    ``config`` defaults to the code prior's settings for the space (same size and schedule); ``base_model`` and
    ``lora`` are not used here. ``vocab_size`` bounds the BPE vocabulary (:func:`cell_text_tokenizer`). The folder
    loads with plain ``AutoModelForCausalLM`` / ``AutoTokenizer``.
    """
    space = get_space(space) if isinstance(space, str) else space
    config = config or SPACE_DEFAULTS.get(space.name, PriorTrainingConfig())
    out_dir = Path(out_dir)
    set_seed(config.seed)
    cells = load_cells(space, dataset, num_samples=num_samples, progress=progress)
    train_texts = cell_texts(space, cells["train"], progress)
    tokenizer = cell_text_tokenizer(train_texts, vocab_size)
    train_ids = tokenizer(train_texts)["input_ids"]
    eval_ids = tokenizer(cell_texts(space, cells["validation"], progress))["input_ids"]
    longest = max(len(ids) for ids in train_ids)
    model = scratch_llama(tokenizer, config, longest)

    def as_dataset(ids: list[list[int]]) -> datasets.Dataset:
        return datasets.Dataset.from_dict({"input_ids": ids, "prompt_length": [1] * len(ids)})

    fit = fit_causal_lm(
        model,
        tokenizer,
        as_dataset(train_ids),
        as_dataset(eval_ids),
        config,
        out_dir,
        device,
        progress,
        resume,
    )
    trainer, train_output, train_seconds, eval_metrics, last = fit

    model = trainer.model
    model.generation_config = GenerationConfig(
        do_sample=True,
        max_new_tokens=longest,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    info = {"format": "cell_text", "space": space.name, "space_kwargs": space.space_kwargs}
    summary = {
        "space": space.name,
        "device": str(trainer.args.device),
        "train_seconds": train_seconds,
        "train_steps": train_output.global_step,
        "train_loss": train_output.training_loss,
        "eval_loss": eval_metrics.get("eval_loss"),
        "num_train_sequences": len(train_ids),
        "longest_sequence": longest,
        "vocab_size": len(tokenizer),
        "num_parameters": sum(p.numel() for p in model.parameters()),
        "training_config": asdict(config),
        "resumed_from": last,
    }
    save_causal_lm(out_dir, model, tokenizer, {TEXT_PRIOR_INFO_NAME: info, "training_summary.json": summary})
    return summary


@torch.no_grad()
def generate_text_cells(
    prior_dir: str | Path,
    num_samples: int,
    batch_size: int = 2000,
    temperature: float = 1.0,
    seed: int | None = None,
    device: str | None = None,
) -> list[dict[str, Any]]:
    """Sample ``num_samples`` cell texts from a direct LM and parse them; records as :func:`sample_record`
    writes them (the ``codes`` field holds the generated text)."""
    if num_samples < 0 or batch_size <= 0 or temperature <= 0:
        raise ValueError(
            f"need num_samples >= 0, batch_size > 0 and temperature > 0; got {num_samples}, {batch_size}, "
            f"{temperature}"
        )
    prior_dir = Path(prior_dir)
    info_path = prior_dir / TEXT_PRIOR_INFO_NAME
    if not info_path.is_file():
        raise FileNotFoundError(f"{prior_dir} is not a direct-LM folder (no {TEXT_PRIOR_INFO_NAME})")
    info = json.loads(info_path.read_text())
    space = get_space(info["space"], **info["space_kwargs"])
    model = AutoModelForCausalLM.from_pretrained(str(prior_dir)).eval()
    tokenizer = AutoTokenizer.from_pretrained(str(prior_dir))
    if device is not None:
        model.to(device)
    if seed is not None:
        torch.manual_seed(seed)
    records: list[dict[str, Any]] = []
    while len(records) < num_samples:
        n = min(batch_size, num_samples - len(records))
        prompt = torch.full((n, 1), tokenizer.bos_token_id, dtype=torch.long, device=model.device)
        out = model.generate(
            prompt, attention_mask=torch.ones_like(prompt), do_sample=True, temperature=temperature, top_k=0
        )
        for text in tokenizer.batch_decode(out[:, 1:].tolist(), skip_special_tokens=True):
            records.append(sample_record(space, text, space.decode_text(text)))
    return records


__all__ = [
    "DEFAULT_TEXT_VOCAB_SIZE",
    "TEXT_PRIOR_INFO_NAME",
    "cell_text_tokenizer",
    "cell_texts",
    "generate_text_cells",
    "train_text_prior",
]
