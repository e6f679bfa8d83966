"""Shared helpers of the model tests: tiny configs, graph batches of valid cells, a short training loop.

Test files import them as ``from fixtures import ...`` (``tests/`` has no ``__init__.py``, so pytest puts the
folder on ``sys.path``). The one-torch-thread fixture lives in ``conftest.py`` (``one_torch_thread``).

Everything here goes through the models' ``forward`` only (no ``encode`` / ``decode``), so it works for every
graph model of the package: inputs ``adjacency [B, N, N]`` long, ``ops [B, N]`` long, ``node_mask [B, N]``
bool; outputs with ``loss``, ``op_logits`` and ``adjacency_logits``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from archllm_hf.models.arch2vec import Arch2VecConfig
from archllm_hf.models.arch_vqvae import ArchVQVAEConfig
from archllm_hf.spaces import SearchSpace, get_space

SPACE_NAMES: tuple[str, ...] = ("nb101", "nb201", "darts")

# Tiny architectures: a forward/backward on a handful of cells takes milliseconds on one CPU thread.
TINY_VQVAE: dict[str, Any] = {
    "hidden_size": 16,
    "num_encoder_layers": 2,
    "num_decoder_layers": 1,
    "num_attention_heads": 2,
    "code_dim": 8,
    "codebook_size": 16,
    "dropout": 0.0,
}
TINY_ARCH2VEC: dict[str, Any] = {"hidden_size": 16, "latent_dim": 4, "num_gin_layers": 2}
TINY_DNGO: dict[str, Any] = {"hidden_size": 16, "epochs": 10}
"""A small, short DNGO (``archllm_hf.search.bayesian.DNGOConfig`` fields); the rest is arch2vec's."""
TINY_RL: dict[str, Any] = {"hidden_size": 8, "update_every": 4}
"""A small policy updated often (``archllm_hf.search.reinforce.ReinforceSearch`` options)."""
TINY_PRIOR: dict[str, Any] = {
    "epochs": 1,
    "batch_size": 64,
    "learning_rate": 3e-3,
    "hidden_size": 16,
    "num_layers": 1,
    "num_heads": 2,
}
"""``PriorTrainingConfig`` fields of a one-epoch prior of a few thousand parameters."""


def as_space(space: SearchSpace | str, **space_kwargs: Any) -> SearchSpace:
    """``space`` itself, or the space called ``space`` built with ``space_kwargs``."""
    if isinstance(space, str):
        return get_space(space, **space_kwargs)
    if space_kwargs:
        raise TypeError("space_kwargs only apply to a space given by name")
    return space


def tiny_vqvae_config(
    space: SearchSpace | str = "nb201", *, space_kwargs: Mapping[str, Any] | None = None, **overrides: Any
) -> ArchVQVAEConfig:
    """:data:`TINY_VQVAE` config for ``space`` (a space or its name); ``overrides`` change any field."""
    return ArchVQVAEConfig.for_space(
        as_space(space, **dict(space_kwargs or {})), **{**TINY_VQVAE, **overrides}
    )


def tiny_arch2vec_config(
    space: SearchSpace | str = "nb201", *, space_kwargs: Mapping[str, Any] | None = None, **overrides: Any
) -> Arch2VecConfig:
    """:data:`TINY_ARCH2VEC` config for ``space`` (a space or its name); ``overrides`` change any field."""
    space = as_space(space, **dict(space_kwargs or {}))
    return Arch2VecConfig.for_space(
        space, space_kwargs=dict(space.space_kwargs), **{**TINY_ARCH2VEC, **overrides}
    )


def cell_graphs(space: SearchSpace, cells: Sequence[Any]) -> dict[str, torch.Tensor]:
    """The graph encodings of ``cells`` stacked into model inputs: ``adjacency [B, N, N]`` long, ``ops [B, N]``
    long and ``node_mask [B, N]`` bool (from ``space.to_graph``)."""
    graphs = [space.to_graph(cell) for cell in cells]
    n = space.num_nodes
    if not graphs:
        return {
            "adjacency": torch.zeros(0, n, n, dtype=torch.long),
            "ops": torch.zeros(0, n, dtype=torch.long),
            "node_mask": torch.zeros(0, n, dtype=torch.bool),
        }
    return {
        "adjacency": torch.from_numpy(np.stack([g.adjacency for g in graphs]).astype(np.int64)),
        "ops": torch.from_numpy(np.stack([g.ops for g in graphs]).astype(np.int64)),
        "node_mask": torch.from_numpy(np.stack([g.mask for g in graphs]).astype(bool)),
    }


def graph_batch(space: SearchSpace | str, num_cells: int, seed: int = 0) -> dict[str, torch.Tensor]:
    """Model inputs of ``num_cells`` distinct valid cells drawn with ``space.sample(num_cells, seed=seed)``."""
    space = as_space(space)
    return cell_graphs(space, space.sample(num_cells, seed=seed))


@torch.no_grad()
def reconstruct(model: nn.Module, graphs: Mapping[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """The graphs an eval-mode ``forward`` reconstructs: ``adjacency`` (logit > 0 on the strict upper
    triangle; the VQ-VAE's disallowed entries hold the dtype's minimum) and ``ops`` (argmax of the op logits).
    The model's train/eval mode is restored."""
    was_training = model.training
    model.eval()
    try:
        out = model(**graphs, return_loss=False, return_dict=True)
    finally:
        model.train(was_training)
    return (out.adjacency_logits > 0).long().triu(1), out.op_logits.argmax(-1)


def reconstructs(model: nn.Module, graphs: Mapping[str, torch.Tensor]) -> bool:
    """Whether :func:`reconstruct` gives back every graph of ``graphs`` exactly."""
    adjacency, ops = reconstruct(model, graphs)
    return torch.equal(adjacency, graphs["adjacency"].long()) and torch.equal(ops, graphs["ops"].long())


def train_until_reconstructed(
    model: nn.Module,
    graphs: Mapping[str, torch.Tensor],
    max_steps: int = 1500,
    lr: float = 1e-2,
    check_every: int = 50,
) -> int:
    """Full-batch Adam on ``graphs`` until :func:`reconstructs` holds (checked every ``check_every`` steps).

    Returns the number of steps taken, or ``max_steps + 1`` if the model never reconstructed the batch. The
    model is left in eval mode. Seed (``torch.manual_seed``) before building the model for a repeatable run.
    """
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    try:
        for step in range(1, max_steps + 1):
            loss = model(**graphs, return_dict=True).loss
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            if step % check_every == 0 and reconstructs(model, graphs):
                return step
        return max_steps + 1
    finally:
        model.eval()


__all__ = [
    "SPACE_NAMES",
    "TINY_ARCH2VEC",
    "TINY_DNGO",
    "TINY_PRIOR",
    "TINY_RL",
    "TINY_VQVAE",
    "as_space",
    "cell_graphs",
    "fake_measure_proxies",
    "graph_batch",
    "reconstruct",
    "reconstructs",
    "tiny_arch2vec_config",
    "tiny_text_prior",
    "tiny_vqvae_config",
    "train_until_reconstructed",
    "use_tiny_graph_predictor",
]


TINY_PREDICTOR: dict[str, Any] = {"epochs": 1.0, "min_steps": 20, "batch_size": 16}
"""``PredictorTrainingConfig`` fields of a fit that takes a fraction of a second."""


def fake_measure_proxies(module: nn.Module, names: Sequence[str], **_: Any) -> dict[str, float]:
    """A stand-in for ``archllm_hf.networks.proxies.measure_proxies`` that takes microseconds: each proxy a
    different function of the network's parameter count (deterministic, finite, varying between cells)."""
    size = float(sum(p.numel() for p in module.parameters()))
    return {name: size ** (1.0 + 0.1 * index) for index, name in enumerate(names)}


def use_tiny_graph_predictor(space: str = "nb201", monkeypatch: Any = None) -> None:
    """Make the graph predictor cheap for the rest of the test (or process, without ``monkeypatch``): fake proxy
    measurement, 40 cells to pretrain on, an 8-wide network and a tiny per-round fit in the generative search."""
    import dataclasses

    from archllm_hf import presets
    from archllm_hf.networks import proxies

    settings = presets.PRESETS[space]
    tiny = dataclasses.replace(
        settings,
        proxy_samples=40,
        graph_predictor_model={**settings.graph_predictor_model, "hidden_size": 8},
        search_graph_predictor=dataclasses.replace(settings.search_graph_predictor, **TINY_PREDICTOR),
        search_predictor=dataclasses.replace(settings.search_predictor, **TINY_PREDICTOR),
    )
    if monkeypatch is None:
        presets.PRESETS[space] = tiny
        proxies.measure_proxies = fake_measure_proxies
    else:
        monkeypatch.setitem(presets.PRESETS, space, tiny)
        monkeypatch.setattr(proxies, "measure_proxies", fake_measure_proxies)


def tiny_run(root: Any, space: str = "nb201", num_cells: int = 256, vqvae_steps: int = 0) -> Any:
    """A run folder ``root`` of ``space``: a tiny VQ-VAE in ``root/vqvae`` and a prior over its codes in
    ``root/prior``, trained for one epoch on ``num_cells`` cells (sampled, for the spaces too large to enumerate
    quickly); returns ``root``. The VQ-VAE is untrained (its decodes are mostly invalid cells) unless
    ``vqvae_steps`` > 0: then it is trained for at most that many steps to reconstruct 64 cells
    (:func:`train_until_reconstructed`), after which a good share of its decodes are valid cells."""
    from pathlib import Path

    import datasets

    from archllm_hf._hub import save_vqvae
    from archllm_hf.data import build_cells_dataset
    from archllm_hf.models.arch_vqvae import ArchVQVAEModel
    from archllm_hf.presets import PriorTrainingConfig
    from archllm_hf.training.prior import train_prior

    root = Path(root)
    torch.manual_seed(0)
    vqvae = ArchVQVAEModel(tiny_vqvae_config(space, num_encoder_layers=1))
    if vqvae_steps > 0:
        train_until_reconstructed(vqvae, graph_batch(space, 64), max_steps=vqvae_steps)
    save_vqvae(vqvae.eval(), root / "vqvae")
    full = build_cells_dataset(space, num_samples=None if space == "nb201" else 2 * num_cells, progress=False)
    cells = datasets.DatasetDict(
        {name: split.select(range(min(len(split), num_cells))) for name, split in full.items()}
    )
    train_prior(
        root / "vqvae",
        root / "prior",
        dataset=cells,
        config=PriorTrainingConfig(**TINY_PRIOR),
        progress=False,
    )
    return root


def tiny_nb201_prior(root: Any, num_cells: int = 256, vqvae_steps: int = 0) -> Any:
    """The prior folder of :func:`tiny_run` for NB201."""
    return tiny_run(root, "nb201", num_cells, vqvae_steps) / "prior"


def tiny_causal_lm(path: Any) -> None:
    """A small GPT-2 with a byte-level BPE tokenizer trained here, standing in for a pretrained LLM."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    corpus = [" ".join(str((i * 7 + j) % 16) for j in range(8)) for i in range(200)] + [
        "Architecture codes:"
    ] * 5
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    bpe.train_from_iterator(corpus, trainers.BpeTrainer(vocab_size=300, special_tokens=["<|endoftext|>"]))
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=bpe, eos_token="<|endoftext|>", bos_token="<|endoftext|>"
    )
    tokenizer.save_pretrained(path)
    config = GPT2Config(
        vocab_size=len(tokenizer),
        n_embd=32,
        n_layer=1,
        n_head=2,
        n_positions=64,
        bos_token_id=tokenizer.eos_token_id,
        eos_token_id=tokenizer.eos_token_id,
    )
    GPT2LMHeadModel(config).save_pretrained(path)


def tiny_text_prior(root: Any) -> Any:
    """A text prior (:func:`tiny_causal_lm` fine-tuned on the codes of 64 NB201 cells of an untrained tiny VQ-VAE),
    as the conditional_llm searcher needs: ``root / "prior"``."""
    import datasets

    from archllm_hf._hub import save_vqvae
    from archllm_hf.data import build_cells_dataset
    from archllm_hf.models.arch_vqvae import ArchVQVAEModel
    from archllm_hf.presets import PriorTrainingConfig
    from archllm_hf.training.prior import train_prior

    tiny_causal_lm(root / "base")
    torch.manual_seed(0)
    save_vqvae(ArchVQVAEModel(tiny_vqvae_config("nb201")).eval(), root / "vqvae")
    full = build_cells_dataset("nb201", progress=False)
    cells = datasets.DatasetDict({k: v.select(range(64)) for k, v in full.items()})
    config = PriorTrainingConfig(base_model=str(root / "base"), epochs=1, batch_size=16, learning_rate=1e-3)
    train_prior(root / "vqvae", root / "prior", dataset=cells, config=config, progress=False)
    return root / "prior"


def tiny_vgae(folder: Path) -> Path:
    """An untrained tiny arch2vec VGAE folder, as ``bo`` and ``rl`` need (its embedding is all they use)."""
    from archllm_hf._hub import save_vgae
    from archllm_hf.models.arch2vec import Arch2VecModel

    torch.manual_seed(0)
    save_vgae(Arch2VecModel(tiny_arch2vec_config("nb201")).eval(), folder)
    return folder


def tiny_gguf_llama(folder: Path) -> Path:
    """A tiny random Llama causal LM written as one GGUF file, ``folder / "tiny-llama.gguf"``, standing in for a
    llama.cpp export such as SmolLM2's. Load it with ``from_pretrained(folder, gguf_file="tiny-llama.gguf")``.

    The tokenizer is a byte-level BPE (``tokenizer.ggml.model = "gpt2"``): three special tokens laid out as in
    SmolLM2 (``<|endoftext|>`` 0 = unk/pad, ``<|im_start|>`` 1 = bos, ``<|im_end|>`` 2 = eos; the loader copies
    these ids into the model config too, and no BOS is added when encoding), then all 256 bytes (byte ``b`` is
    token ``3 + b``, so any text encodes and every digit is one token), then a few merges that touch no digit or
    space. Weights are float32 (GGML F32, nothing quantised), random with a fixed seed, the output head tied to
    the embedding (no ``output.weight``), and q/k permuted the way llama.cpp's converter does, which
    transformers undoes on loading.
    """
    import gguf
    from transformers.convert_slow_tokenizer import bytes_to_unicode

    hidden, layers, heads, intermediate, context = 32, 2, 2, 64, 128
    head_dim = hidden // heads

    byte_tokens = [bytes_to_unicode()[b] for b in range(256)]
    merges = ["Ġ c", "Ġc o", "Ġco d", "Ġcod e", "e s", "r e"]
    merged = [left + right for left, right in (merge.split(" ") for merge in merges)]
    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
    tokens = specials + byte_tokens + merged
    token_types = [gguf.TokenType.CONTROL] * len(specials) + [gguf.TokenType.NORMAL] * (
        len(tokens) - len(specials)
    )

    rng = np.random.default_rng(0)

    def normal(*shape: int) -> np.ndarray:
        return (0.02 * rng.standard_normal(shape)).astype(np.float32)

    def llama_cpp_permute(weights: np.ndarray, n_head: int) -> np.ndarray:
        # convert_hf_to_gguf.py's LlamaModel.permute; LlamaTensorProcessor._reverse_permute_weights undoes it
        return (
            weights.reshape(n_head, 2, weights.shape[0] // n_head // 2, *weights.shape[1:])
            .swapaxes(1, 2)
            .reshape(weights.shape)
        )

    path = Path(folder) / "tiny-llama.gguf"
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = gguf.GGUFWriter(str(path), "llama")  # writes general.architecture
    writer.add_name("tiny-llama")
    writer.add_file_type(gguf.LlamaFileType.ALL_F32)
    writer.add_context_length(context)
    writer.add_embedding_length(hidden)
    writer.add_block_count(layers)
    writer.add_feed_forward_length(intermediate)
    writer.add_head_count(heads)
    writer.add_head_count_kv(heads)
    writer.add_rope_dimension_count(head_dim)
    writer.add_rope_freq_base(10000.0)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_vocab_size(len(tokens))
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("smollm")
    writer.add_token_list(tokens)
    writer.add_token_types(token_types)
    writer.add_token_merges(merges)
    writer.add_bos_token_id(1)
    writer.add_eos_token_id(2)
    writer.add_unk_token_id(0)
    writer.add_pad_token_id(0)
    writer.add_add_bos_token(False)

    # Arrays in torch's [out_features, in_features] order: GGUFWriter reverses the shape into ggml's order itself.
    writer.add_tensor("token_embd.weight", normal(len(tokens), hidden))
    for block in range(layers):
        prefix = f"blk.{block}."
        writer.add_tensor(prefix + "attn_norm.weight", np.ones(hidden, dtype=np.float32))
        writer.add_tensor(prefix + "attn_q.weight", llama_cpp_permute(normal(hidden, hidden), heads))
        writer.add_tensor(prefix + "attn_k.weight", llama_cpp_permute(normal(hidden, hidden), heads))
        writer.add_tensor(prefix + "attn_v.weight", normal(hidden, hidden))
        writer.add_tensor(prefix + "attn_output.weight", normal(hidden, hidden))
        writer.add_tensor(prefix + "ffn_norm.weight", np.ones(hidden, dtype=np.float32))
        writer.add_tensor(prefix + "ffn_gate.weight", normal(intermediate, hidden))
        writer.add_tensor(prefix + "ffn_up.weight", normal(intermediate, hidden))
        writer.add_tensor(prefix + "ffn_down.weight", normal(hidden, intermediate))
    writer.add_tensor("output_norm.weight", np.ones(hidden, dtype=np.float32))

    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def run_offline_python(script: str, tmp_path: Path) -> dict:
    """Run ``script`` in a fresh interpreter, offline, with its own HF home and no ``PYTHONPATH`` (so remote code is
    read as a user without this checkout would); the last line it prints, as JSON."""
    import json
    import os
    import subprocess
    import sys

    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf_home"), "PYTHONPATH": ""}
    proc = subprocess.run(
        [sys.executable, "-c", script],
        check=False,
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])
