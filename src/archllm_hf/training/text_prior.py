"""The direct language-model baseline: a causal LM over the cells' own text, with no VQ-VAE in between.

Each training cell is written in its space's native text form (:meth:`SearchSpace.format`: the NB201 arch string,
NB101 ``{"matrix": ..., "ops": ...}``, the DARTS genotype) and split into tokens by a BPE tokenizer learned from the
training texts, with as many tokens as the code prior has codes (512 by default), so that the two language models
have the same vocabulary size. A ``LlamaForCausalLM`` of the same size and schedule as the code prior
(the space's preset in :mod:`archllm_hf.presets`) learns it. The folder is a prior of format ``cell_text``;
:class:`archllm_hf.generation.TextLMSampler` samples it. Comparing it with the code prior shows what the discrete VQ
codes buy.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import datasets
from tokenizers import Tokenizer, decoders, models, processors, trainers
from tqdm.auto import tqdm
from transformers import PreTrainedTokenizerFast, set_seed

from .._hub import PriorInfo
from ..presets import PriorTrainingConfig, preset
from ..spaces import SearchSpace, resolve_space
from .common import load_cells
from .prior import fit_causal_lm, save_causal_lm_prior, scratch_llama

SPECIAL_TOKENS = ("<pad>", "<bos>", "<eos>", "<unk>")
TOKENIZER_TRAINING_TEXTS = 20_000
"""The BPE merges are learned from this many training texts, evenly spaced over the split (splits can be ordered,
NB101's by cell size), which takes seconds rather than minutes on DARTS."""


def cell_text_tokenizer(texts: list[str], vocab_size: int = 512) -> PreTrainedTokenizerFast:
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
    vocab_size: int | None = None,
) -> dict[str, Any]:
    """Train the direct LM on the training split's cell texts and save it to ``out_dir``.

    ``config`` defaults to the code prior's settings for the space (same size and schedule); ``base_model`` and
    ``lora`` are not used here. ``vocab_size`` bounds the BPE vocabulary (:func:`cell_text_tokenizer`; the preset's
    ``text_vocab_size`` when None). The folder loads with plain ``AutoModelForCausalLM`` / ``AutoTokenizer``.
    """
    space = resolve_space(space)
    config = config or preset(space.name).prior
    vocab_size = vocab_size or preset(space.name).text_vocab_size
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
        stage="direct LM",
    )
    info = PriorInfo(format="cell_text", space=space.name, space_kwargs=space.space_kwargs)
    return save_causal_lm_prior(
        out_dir,
        fit[0].model,
        tokenizer,
        info,
        fit,
        config,
        max_new_tokens=longest,
        num_train_sequences=len(train_ids),
        longest_sequence=longest,
        vocab_size=len(tokenizer),
    )


__all__ = ["cell_text_tokenizer", "cell_texts", "train_text_prior"]
