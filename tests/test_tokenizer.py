"""ArchCodeTokenizer: vocabulary, encode/decode, code-text parsing, save/load, plain-transformers loading."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
import torch
from fixtures import run_offline_python
from hypothesis import given, settings
from hypothesis import strategies as st
from transformers import AutoTokenizer

from archllm_hf.models.arch_vqvae import ArchCodeTokenizer, ArchVQVAEConfig, ArchVQVAEModel

K, L = 16, 4
TEXTS = ["12 3 0 15", "1 1 1 1", "0 7 9 2"]


@pytest.fixture(scope="module")
def tok() -> ArchCodeTokenizer:
    return ArchCodeTokenizer(codebook_size=K, code_length=L)


def test_vocabulary_layout(tok) -> None:
    vocab = tok.get_vocab()
    assert len(tok) == len(vocab) == K + 4
    assert [vocab[t] for t in ("<pad>", "<bos>", "<eos>", "<unk>")] == [0, 1, 2, 3]
    assert (tok.pad_token_id, tok.bos_token_id, tok.eos_token_id, tok.unk_token_id) == (0, 1, 2, 3)
    assert all(vocab[str(code)] == code + tok.code_token_offset for code in range(K))


def test_encode_adds_bos_eos_and_decode_inverts(tok) -> None:
    ids = tok("12 3 0 15")["input_ids"]
    assert ids == [1, 16, 7, 4, 19, 2]
    assert tok.decode(ids, skip_special_tokens=True) == "12 3 0 15"
    assert tok.decode(ids) == "<bos> 12 3 0 15 <eos>"
    assert tok("  12\t3 \n0 15 ")["input_ids"] == ids  # any whitespace separates codes
    assert tok("12 99")["input_ids"] == [1, 16, 3, 2]  # unknown word -> <unk>
    batch = tok(TEXTS, padding=True, return_tensors="pt")
    assert batch["input_ids"].shape == (3, L + 2)


def test_codes_to_text(tok) -> None:
    assert tok.codes_to_text([12, 3, 0, 15]) == "12 3 0 15"
    assert tok.codes_to_text(torch.tensor([[12, 3, 0, 15], [1, 1, 1, 1]])) == ["12 3 0 15", "1 1 1 1"]
    assert tok.codes_to_text([[0, 7, 9, 2]]) == ["0 7 9 2"]
    for bad, message in (
        ([1, 2, 3], "expected 4 codes"),
        ([1, 2, 3, 16], "outside the codebook"),
        ([1, 2, 3, -1], "outside the codebook"),
        ([1, 2, 3, 1.0], "not an integer"),
        ([1, 2, 3, True], "boolean"),
        (torch.zeros(2, 2, 2, dtype=torch.long), "1-D or 2-D"),
    ):
        with pytest.raises(ValueError, match=message):
            tok.codes_to_text(bad)


def test_text_to_codes_accepts_well_formed_text(tok) -> None:
    expected = [12, 3, 0, 15]
    for text in (
        "12 3 0 15",
        "<bos> 12 3 0 15 <eos>",
        "<bos> 12 3 0 15",
        "12 3 0 15 <eos> <pad> <pad>",
        " 12  3 0 15\n",
    ):
        assert tok.text_to_codes(text) == expected, text


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("12 3 0", "expected 4 codes, got 3"),
        ("12 3 0 15 1", "expected 4 codes, got 5"),
        ("12 3 0 16", "outside the codebook [0, 16)"),
        ("12 3 0 99999999999999999999999", "outside the codebook"),
        ("12 3 0 -1", "not a code number"),
        ("12 3 0 1.5", "not a code number"),
        ("12 3 0 x", "not a code number"),
        ("12 3 0 ３", "not a code number"),  # full-width digit
        ("12 3 0 07", "leading zeros"),
        ("12\x1c3 0 15 1", "not a code number"),  # a separator Python splits on but the tokenizer does not
        ("12 3 0 \ud800", "cannot be tokenized"),  # lone surrogate
        ("12 <eos> 0 15", "special token <eos> inside"),
        ("12 3 <unk> 15", "special token <unk> inside"),
        ("<bos> <bos> 12 3 0 15", "special token <bos> inside"),
        ("12 3 <pad> 0 15", "special token <pad> inside"),
        ("", "no codes"),
        ("<bos> <eos>", "no codes"),
    ],
)
def test_text_to_codes_rejects_malformed_text_with_a_reason(tok, text, reason) -> None:
    with pytest.raises(ValueError) as error:
        tok.text_to_codes(text)
    assert reason in str(error.value)


def test_text_to_codes_rejects_non_strings(tok) -> None:
    for value in (None, 12, [1, 2, 3, 4], b"1 2 3 4"):
        with pytest.raises(ValueError, match="must be a string"):
            tok.text_to_codes(value)


def test_code_length_none_accepts_any_nonzero_length() -> None:
    tok = ArchCodeTokenizer(codebook_size=K)
    assert tok.text_to_codes("1") == [1]
    assert tok.text_to_codes("1 2 3 4 5 6") == [1, 2, 3, 4, 5, 6]
    with pytest.raises(ValueError, match="no codes"):
        tok.text_to_codes("")


def test_constructor_validation() -> None:
    with pytest.raises(ValueError, match="codebook_size"):
        ArchCodeTokenizer(codebook_size=0)
    with pytest.raises(ValueError, match="code_length"):
        ArchCodeTokenizer(codebook_size=4, code_length=0)
    with pytest.raises(ValueError, match="special tokens"):
        ArchCodeTokenizer(codebook_size=4, bos_token="7")
    with pytest.raises(ValueError, match="saved vocabulary"):
        ArchCodeTokenizer(codebook_size=4, vocab={"<pad>": 0, "<bos>": 1, "<eos>": 2, "<unk>": 3, "0": 4})


def test_save_and_auto_tokenizer_round_trip(tok, tmp_path: Path) -> None:
    tok.save_pretrained(tmp_path)
    assert (tmp_path / "tokenizer.json").is_file()
    saved = json.loads((tmp_path / "tokenizer_config.json").read_text())
    assert (saved["codebook_size"], saved["code_length"], saved["tokenizer_class"]) == (
        K,
        L,
        "ArchCodeTokenizer",
    )
    loaded = AutoTokenizer.from_pretrained(tmp_path)
    assert type(loaded) is ArchCodeTokenizer
    assert (loaded.codebook_size, loaded.code_length) == (K, L)
    assert loaded.get_vocab() == tok.get_vocab()
    assert loaded(TEXTS)["input_ids"] == tok(TEXTS)["input_ids"]
    assert loaded.text_to_codes("<bos> 1 2 3 4 <eos>") == [1, 2, 3, 4]


def test_auto_tokenizer_resolves_through_a_vqvae_config(tmp_path: Path) -> None:
    """The layout the VQ-VAE training writes: config.json (model_type archllm_vqvae) + tokenizer files."""
    config = ArchVQVAEConfig(
        space="s",
        num_nodes=2,
        node_vocab=["<pad>", "a"],
        adjacency_mask=[[0, 1], [0, 0]],
        hidden_size=8,
        num_encoder_layers=1,
        num_decoder_layers=1,
        num_attention_heads=2,
        code_dim=4,
        codebook_size=K,
    )
    ArchVQVAEModel(config).save_pretrained(tmp_path)
    ArchCodeTokenizer(codebook_size=K, code_length=config.code_length).save_pretrained(tmp_path)
    loaded = AutoTokenizer.from_pretrained(tmp_path)
    assert type(loaded) is ArchCodeTokenizer and loaded.code_length == 2


def test_tokenizer_json_loads_with_plain_transformers(tok, tmp_path: Path, monkeypatch) -> None:
    plain = tmp_path / "plain"
    tok.save_pretrained(plain)
    remote = tmp_path / "remote"
    monkeypatch.setattr(ArchCodeTokenizer, "_auto_class", None)  # restored after the test
    ArchCodeTokenizer.register_for_auto_class("AutoTokenizer")
    tok.save_pretrained(remote)
    assert (remote / "tokenization_arch_vqvae.py").is_file()
    script = textwrap.dedent(
        f"""
        import json, sys
        sys.modules["archllm_hf"] = None  # the package must not be needed
        from transformers import AutoTokenizer, TokenizersBackend
        texts = {TEXTS!r}
        auto = AutoTokenizer.from_pretrained({str(plain)!r})
        backend = TokenizersBackend.from_pretrained({str(plain)!r})
        remote = AutoTokenizer.from_pretrained({str(remote)!r}, trust_remote_code=True)
        ids = auto(texts)["input_ids"]
        print(json.dumps({{
            "auto_class": type(auto).__name__,
            "auto": ids,
            "backend": backend(texts)["input_ids"],
            "decoded": auto.decode(ids, skip_special_tokens=True),
            "special": [auto.pad_token_id, auto.bos_token_id, auto.eos_token_id, auto.unk_token_id],
            "remote_module": type(remote).__module__,
            "remote_parse": remote.text_to_codes("<bos> 1 2 3 4 <eos>"),
        }}))
        """
    )
    result = run_offline_python(script, tmp_path)
    expected = tok(TEXTS)["input_ids"]
    assert result["auto_class"] == "TokenizersBackend"
    assert result["auto"] == result["backend"] == expected
    assert result["decoded"] == TEXTS
    assert result["special"] == [0, 1, 2, 3]
    assert result["remote_module"].startswith("transformers_modules.")
    assert result["remote_parse"] == [1, 2, 3, 4]


# --- fuzz ---------------------------------------------------------------------------------------------------
_tokens = st.one_of(
    st.integers(0, K - 1).map(str),
    st.integers(-5, 10**30).map(str),
    st.sampled_from(
        ["<pad>", "<bos>", "<eos>", "<unk>", "00", "1e3", "0x1", "+1", "٣", "", "\x00", "1\x1c2", "\u2003"]
    ),
    st.text(max_size=4),
)
_code_texts = st.one_of(
    st.text(),
    st.lists(_tokens, max_size=8).map(" ".join),
    st.lists(st.integers(0, K - 1).map(str), min_size=L, max_size=L).map(" ".join),
)


@settings(max_examples=300, deadline=None)
@given(text=_code_texts)
def test_text_to_codes_raises_only_value_errors_and_parses_well_formed_text(tok, text) -> None:
    try:
        codes = tok.text_to_codes(text)
    except ValueError as error:
        assert str(error)
        return
    assert len(codes) == L and all(0 <= code < K for code in codes)
    assert tok.text_to_codes(tok.codes_to_text(codes)) == codes
    if "<" not in text:  # without explicit special tokens, the tokenizer sees the same codes
        ids = tok(text)["input_ids"]
        assert ids == [1, *(code + tok.code_token_offset for code in codes), 2]


@settings(max_examples=100, deadline=None)
@given(codes=st.lists(st.integers(0, K - 1), min_size=L, max_size=L))
def test_codes_text_ids_round_trip(tok, codes) -> None:
    text = tok.codes_to_text(codes)
    ids = tok(text)["input_ids"]
    assert tok.text_to_codes(tok.decode(ids)) == codes
    assert tok.text_to_codes(tok.decode(ids, skip_special_tokens=True)) == codes
