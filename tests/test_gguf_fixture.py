"""The GGUF fixture: a tiny Llama written with ``gguf.GGUFWriter`` loads through transformers' GGUF path, offline."""

from __future__ import annotations

import gguf
import numpy as np
import pytest
import torch
from fixtures import tiny_gguf_llama
from transformers import AutoModelForCausalLM, AutoTokenizer, LlamaForCausalLM

pytestmark = pytest.mark.usefixtures("one_torch_thread")

GGUF_NAME = "tiny-llama.gguf"


def test_tiny_gguf_llama_loads_as_llama_with_byte_level_tokenizer(tmp_path):
    path = tiny_gguf_llama(tmp_path)
    assert path == tmp_path / GGUF_NAME and path.is_file()

    model = AutoModelForCausalLM.from_pretrained(tmp_path, gguf_file=GGUF_NAME)
    tokenizer = AutoTokenizer.from_pretrained(tmp_path, gguf_file=GGUF_NAME)

    assert type(model) is LlamaForCausalLM
    config = model.config
    assert model.dtype == torch.float32
    assert 16 <= config.hidden_size <= 32 and config.num_hidden_layers in (1, 2)
    assert config.num_attention_heads == 2 and config.head_dim == config.hidden_size // 2
    assert config.vocab_size == len(tokenizer) == model.get_input_embeddings().weight.shape[0]
    assert 256 < config.vocab_size < 512

    # digits and spaces are single byte-level tokens, and the text comes back exactly
    text = " 12 305 7"
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    assert tokenizer.convert_ids_to_tokens(ids) == ["Ġ", "1", "2", "Ġ", "3", "0", "5", "Ġ", "7"]
    assert tokenizer.decode(ids) == text
    prompt = "Architecture codes:"
    assert tokenizer.decode(tokenizer(prompt, add_special_tokens=False)["input_ids"]) == prompt

    assert tokenizer.bos_token_id is not None and tokenizer.eos_token_id is not None
    assert tokenizer.bos_token_id != tokenizer.eos_token_id
    assert (config.bos_token_id, config.eos_token_id) == (tokenizer.bos_token_id, tokenizer.eos_token_id)
    assert model.generation_config.eos_token_id == tokenizer.eos_token_id

    # the loader undid llama.cpp's q/k permutation, so writing it back gives the file's tensors
    stored = {tensor.name: np.array(tensor.data) for tensor in gguf.GGUFReader(path).tensors}
    heads = config.num_attention_heads
    for name, module in (("attn_q", "q_proj"), ("attn_k", "k_proj")):
        weight = getattr(model.model.layers[0].self_attn, module).weight.detach().numpy()
        permuted = (
            weight.reshape(heads, 2, weight.shape[0] // heads // 2, -1).swapaxes(1, 2).reshape(weight.shape)
        )
        np.testing.assert_array_equal(permuted, stored[f"blk.0.{name}.weight"])
    np.testing.assert_array_equal(
        model.get_input_embeddings().weight.detach().numpy(), stored["token_embd.weight"]
    )

    inputs = tokenizer(prompt + text, return_tensors="pt")
    with torch.no_grad():
        logits = model(**inputs).logits
    assert logits.shape == (1, inputs["input_ids"].shape[1], config.vocab_size)
    assert torch.isfinite(logits).all()

    prompt_length = inputs["input_ids"].shape[1]
    generated = model.generate(**inputs, max_new_tokens=3, do_sample=False)
    assert generated.shape[0] == 1 and prompt_length < generated.shape[1] <= prompt_length + 3
    assert torch.equal(generated[0, :prompt_length], inputs["input_ids"][0])
