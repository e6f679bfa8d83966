"""cells ↔ code text through a (tiny, briefly trained) NB201 VQ-VAE; graph tensors; never-raising decoding."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from archllm_hf.codes import cells_to_codes, cells_to_text, graphs_to_tensors, text_to_cells
from archllm_hf.errors import InvalidCellError
from archllm_hf.models.arch_vqvae import ArchCodeTokenizer, ArchVQVAEConfig, ArchVQVAEModel
from archllm_hf.spaces import DARTSSpace, DecodedCell, NB201Cell, NB201Space, get_space

SPACE = NB201Space()
CELLS = SPACE.sample(8, seed=0)
TINY = dict(
    hidden_size=16,
    num_encoder_layers=2,
    num_decoder_layers=1,
    num_attention_heads=2,
    code_dim=8,
    codebook_size=16,
    dropout=0.0,
)


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def model() -> ArchVQVAEModel:
    """A tiny NB201 VQ-VAE trained until it reconstructs ``CELLS``."""
    torch.manual_seed(0)
    model = ArchVQVAEModel(ArchVQVAEConfig.for_space(SPACE, **TINY))
    batch = graphs_to_tensors(SPACE, CELLS)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    model.train()
    for step in range(1, 1501):
        loss = model(**batch).loss
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        if step % 50 == 0:
            adjacency, ops = model.decode_graphs(model.encode(**batch))
            if torch.equal(adjacency, batch["adjacency"]) and torch.equal(ops, batch["ops"]):
                return model.eval()
    pytest.fail("tiny NB201 model did not learn to reconstruct 8 cells")


@pytest.fixture(scope="module")
def tokenizer(model) -> ArchCodeTokenizer:
    return ArchCodeTokenizer(codebook_size=model.config.codebook_size, code_length=model.config.code_length)


def test_graphs_to_tensors_stacks_the_space_encoding() -> None:
    tensors = graphs_to_tensors(SPACE, CELLS[:3])
    assert set(tensors) == {"adjacency", "ops", "node_mask"}
    assert tensors["adjacency"].shape == (3, 8, 8) and tensors["adjacency"].dtype == torch.long
    assert tensors["ops"].shape == (3, 8) and tensors["ops"].dtype == torch.long
    assert tensors["node_mask"].dtype == torch.bool
    for row, cell in enumerate(CELLS[:3]):
        graph = SPACE.to_graph(cell)
        assert tensors["adjacency"][row].tolist() == graph.adjacency.tolist()
        assert tensors["ops"][row].tolist() == graph.ops.tolist()
        assert tensors["node_mask"][row].tolist() == graph.mask.tolist()
    empty = graphs_to_tensors(SPACE, [])
    assert empty["adjacency"].shape == (0, 8, 8) and empty["ops"].shape == (0, 8)
    with pytest.raises(InvalidCellError):
        graphs_to_tensors(SPACE, ["not a cell"])


def test_for_space_and_model_space() -> None:
    config = ArchVQVAEConfig.for_space(SPACE, **TINY)
    assert (config.space, config.num_nodes, config.node_vocab) == ("nb201", 8, list(SPACE.node_vocab))
    assert config.adjacency_mask == SPACE.adjacency_mask().astype(int).tolist()
    assert config.space_kwargs == {}
    darts = DARTSSpace(ops="arch2vec")
    darts_config = ArchVQVAEConfig.for_space(darts, **TINY)
    assert darts_config.space_kwargs == {"ops": "arch2vec"}
    rebuilt = ArchVQVAEModel(darts_config).space
    assert repr(rebuilt) == repr(darts) and rebuilt.node_vocab == darts.node_vocab
    assert repr(get_space(config.space, **config.space_kwargs)) == repr(SPACE)


def test_cells_round_trip_through_text(model, tokenizer) -> None:
    texts = cells_to_text(CELLS, model, tokenizer)
    assert len(texts) == len(CELLS) and all(isinstance(t, str) for t in texts)
    assert all(tokenizer.text_to_codes(t).valid for t in texts)
    decoded = text_to_cells(texts, model, tokenizer)
    assert [d.cell for d in decoded] == CELLS
    assert all(d.valid and d.id == SPACE.canonical_id(c) for d, c in zip(decoded, CELLS))
    assert text_to_cells(texts[0], model, tokenizer) == decoded[:1]  # a single string
    assert model.training is False


def test_batching_does_not_change_results(model, tokenizer) -> None:
    codes = cells_to_codes(CELLS, model)
    assert cells_to_codes(CELLS, model, batch_size=3) == codes
    assert model.encode_cells(CELLS).tolist() == codes
    texts = tokenizer.codes_to_text(codes)
    assert text_to_cells(texts, model, tokenizer, batch_size=3) == text_to_cells(texts, model, tokenizer)


def test_text_to_cells_reports_bad_text_and_bad_graphs(model, tokenizer) -> None:
    good = cells_to_text(CELLS[:1], model, tokenizer)[0]
    length = model.config.code_length
    texts = [good, "", "1 2 3", " ".join(["99"] * length), " ".join(["x"] * length), None, 7]
    results = text_to_cells(texts, model, tokenizer)
    assert len(results) == len(texts) and all(isinstance(r, DecodedCell) for r in results)
    assert results[0].valid and results[0].cell == CELLS[0]
    assert all(
        not r.valid and r.cell is None and r.reason.startswith("malformed code text") for r in results[1:]
    )
    assert "expected 8 codes" in results[2].reason
    assert "outside the codebook" in results[3].reason
    assert "must be a string" in results[5].reason
    # every well-formed code sequence decodes to a graph; NB201 rejects the ones off its template
    all_codes = torch.arange(16).repeat(8, 1).T  # [16, 8]: the same code everywhere
    decoded = text_to_cells(tokenizer.codes_to_text(all_codes), model, tokenizer)
    for result in decoded:
        assert result.valid == (result.reason is None)
        if result.valid:
            assert isinstance(result.cell, NB201Cell)


def test_tokenizer_must_match_the_model(model) -> None:
    with pytest.raises(ValueError, match="codebook_size"):
        text_to_cells(["1"], model, ArchCodeTokenizer(codebook_size=8))
    with pytest.raises(ValueError, match="code_length"):
        cells_to_text(CELLS, model, ArchCodeTokenizer(codebook_size=16, code_length=3))


def test_invalid_cells_raise_in_cells_to_text(model, tokenizer) -> None:
    with pytest.raises(InvalidCellError):
        cells_to_text(["|nor_conv_3x3~0|"], model, tokenizer)
    assert cells_to_text([], model, tokenizer) == []


@settings(max_examples=150, deadline=None)
@given(
    texts=st.lists(
        st.one_of(
            st.text(max_size=30),
            st.lists(st.integers(-2, 20), max_size=10).map(lambda codes: " ".join(map(str, codes))),
        ),
        max_size=6,
    )
)
def test_text_to_cells_never_raises(model, tokenizer, texts) -> None:
    results = text_to_cells(texts, model, tokenizer)
    assert len(results) == len(texts)
    for result in results:
        assert isinstance(result, DecodedCell)
        assert result.valid or result.reason
