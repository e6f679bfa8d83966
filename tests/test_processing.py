"""ArchVQVAEProcessor: cells ↔ graph tensors ↔ codes ↔ code text through a tiny, briefly trained NB201 VQ-VAE; bad
codes and bad text never raise; the space and tokenizer are checked against the model."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from fixtures import tiny_vqvae_config, train_until_reconstructed
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from archllm_hf.errors import InvalidCellError
from archllm_hf.models.arch_vqvae import (
    ArchCodeTokenizer,
    ArchVQVAEConfig,
    ArchVQVAEModel,
    ArchVQVAEProcessor,
)
from archllm_hf.spaces import DARTSSpace, DecodedCell, NB101Space, NB201Cell, NB201Space

pytestmark = pytest.mark.usefixtures("one_torch_thread")

SPACE = NB201Space()
CELLS = SPACE.sample(8, seed=0)


def make_processor(config: ArchVQVAEConfig, space=SPACE) -> ArchVQVAEProcessor:
    tokenizer = ArchCodeTokenizer(codebook_size=config.codebook_size, code_length=config.code_length)
    return ArchVQVAEProcessor(space, tokenizer, config)


@pytest.fixture(scope="module")
def model(one_torch_thread) -> ArchVQVAEModel:
    """A tiny NB201 VQ-VAE trained until it reconstructs ``CELLS``."""
    torch.manual_seed(0)
    model = ArchVQVAEModel(tiny_vqvae_config(SPACE))
    processor = make_processor(model.config)
    if train_until_reconstructed(model, processor(CELLS)) > 1500:
        pytest.fail("tiny NB201 model did not learn to reconstruct 8 cells")
    return model.eval()


@pytest.fixture(scope="module")
def processor(model) -> ArchVQVAEProcessor:
    return make_processor(model.config)


@pytest.fixture(scope="module")
def untrained() -> tuple[ArchVQVAEModel, ArchVQVAEProcessor]:
    torch.manual_seed(0)
    model = ArchVQVAEModel(tiny_vqvae_config(SPACE, num_encoder_layers=1)).eval()
    return model, make_processor(model.config)


def test_call_stacks_the_space_encoding(processor) -> None:
    tensors = processor(CELLS[:3])
    assert set(tensors) == {"adjacency", "ops", "node_mask"}
    assert tensors["adjacency"].shape == (3, 8, 8) and tensors["adjacency"].dtype == torch.long
    assert tensors["ops"].shape == (3, 8) and tensors["ops"].dtype == torch.long
    assert tensors["node_mask"].dtype == torch.bool
    for row, cell in enumerate(CELLS[:3]):
        graph = SPACE.to_graph(cell)
        assert tensors["adjacency"][row].tolist() == graph.adjacency.tolist()
        assert tensors["ops"][row].tolist() == graph.ops.tolist()
        assert tensors["node_mask"][row].tolist() == graph.mask.tolist()
    empty = processor([])
    assert empty["adjacency"].shape == (0, 8, 8) and empty["ops"].shape == (0, 8)
    with pytest.raises(InvalidCellError):
        processor(["not a cell"])


def test_cells_round_trip_through_text(model, processor) -> None:
    texts = processor.cells_to_text(model, CELLS)
    assert len(texts) == len(CELLS) and all(isinstance(t, str) for t in texts)
    assert all(len(processor.tokenizer.text_to_codes(t)) == 8 for t in texts)
    decoded = processor.decode_text(model, texts)
    assert [d.cell for d in decoded] == CELLS
    assert all(d.valid and d.id == SPACE.canonical_id(c) for d, c in zip(decoded, CELLS))
    assert processor.decode_text(model, texts[0]) == decoded[:1]  # a single string
    assert model.training is False


def test_batching_does_not_change_results(model, processor) -> None:
    codes = processor.encode(model, CELLS)
    assert codes.shape == (8, 8) and codes.dtype == torch.long
    assert torch.equal(processor.encode(model, CELLS, batch_size=3), codes)
    assert torch.equal(model.encode(**processor(CELLS)).codes, codes)
    assert processor.decode(model, codes, batch_size=3) == processor.decode(model, codes)
    assert processor.encode(model, []).shape == (0, 8)
    assert processor.cells_to_text(model, []) == []


def test_each_distinct_row_is_decoded_once(model, processor, monkeypatch) -> None:
    codes = processor.encode(model, CELLS[:2])
    rows = torch.cat([codes, codes, codes[:1]])
    seen = []
    decode = model.decode
    monkeypatch.setattr(model, "decode", lambda c, **kw: seen.append(len(c)) or decode(c, **kw))
    results = processor.decode(model, rows)
    assert seen == [2]
    assert [r.cell for r in results] == [CELLS[0], CELLS[1], CELLS[0], CELLS[1], CELLS[0]]


def test_decode_text_reports_bad_text_and_bad_graphs(model, processor) -> None:
    good = processor.cells_to_text(model, CELLS[:1])[0]
    texts = [good, "", "1 2 3", " ".join(["99"] * 8), " ".join(["x"] * 8), None, 7]
    results = processor.decode_text(model, texts)
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
    for result in processor.decode_text(model, processor.codes_to_text(all_codes)):
        assert result.valid == (result.reason is None)
        if result.valid:
            assert isinstance(result.cell, NB201Cell)


def test_decode_gives_one_result_per_row_with_reasons(untrained) -> None:
    model, processor = untrained
    length = model.config.code_length
    good = [1] * length
    rows = [
        good,
        good[:-1],
        [*good[:-1], 16],
        [*good[:-1], -1],
        [*good[:-1], 1.5],
        [*good[:-1], True],
        "1 2 3",
        None,
    ]
    results = processor.decode(model, rows)
    assert len(results) == 8 and all(isinstance(r, DecodedCell) for r in results)
    reasons = [r.reason for r in results[1:]]
    assert not any(r.valid for r in results[1:])
    assert f"expected {length} codes, got {length - 1}" in reasons[0]
    assert "outside the codebook" in reasons[1] and "outside the codebook" in reasons[2]
    assert "not an integer" in reasons[3]
    assert "boolean" in reasons[4]
    assert "got a str" in reasons[5]
    assert "sequence of integers" in reasons[6]
    assert processor.decode(model, []) == []
    assert len(processor.decode(model, torch.tensor(good))) == 1  # one 1-D sequence
    assert len(processor.decode(model, torch.ones(3, length, dtype=torch.int32))) == 3
    assert "1-D" in processor.decode(model, torch.ones(2, 2, 2, dtype=torch.long))[0].reason
    assert "integer" in processor.decode(model, torch.ones(2, length))[0].reason
    assert len(processor.decode(model, np.ones((2, length), dtype=np.int64))) == 2
    assert "integer" in processor.decode(model, np.ones((2, length)))[1].reason
    out_of_range = processor.decode(model, torch.tensor([good, [*good[:-1], 20]]))  # the vectorised path
    assert out_of_range[1].reason == f"code 20 at position {length - 1} is outside the codebook [0, 16)"
    assert out_of_range[0] == processor.decode(model, [good])[0]


def test_decode_matches_the_model_and_the_space(untrained) -> None:
    model, processor = untrained
    codes = torch.randint(0, 16, (5, model.config.code_length))
    graphs = model.decode(codes)
    expected = [SPACE.decode_graph(a.numpy(), o.numpy()) for a, o in zip(graphs.adjacency, graphs.ops)]
    assert processor.decode(model, codes) == expected
    assert processor.decode(model, codes.tolist(), batch_size=2) == expected


def test_space_and_tokenizer_must_match_the_config() -> None:
    config = tiny_vqvae_config(SPACE)
    tokenizer = ArchCodeTokenizer(codebook_size=16, code_length=8)
    with pytest.raises(ValueError, match="built for the space 'nb201'"):
        ArchVQVAEProcessor(NB101Space(), tokenizer, config)
    darts = tiny_vqvae_config(DARTSSpace(ops="arch2vec"))
    with pytest.raises(ValueError, match="does not match"):
        ArchVQVAEProcessor(DARTSSpace(), ArchCodeTokenizer(codebook_size=16, code_length=22), darts)
    ArchVQVAEProcessor(DARTSSpace(ops="arch2vec"), ArchCodeTokenizer(codebook_size=16, code_length=22), darts)
    with pytest.raises(ValueError, match="codebook_size"):
        ArchVQVAEProcessor(SPACE, ArchCodeTokenizer(codebook_size=8), config)
    with pytest.raises(ValueError, match="code_length"):
        ArchVQVAEProcessor(SPACE, ArchCodeTokenizer(codebook_size=16, code_length=3), config)


def test_save_and_load(processor, model, tmp_path) -> None:
    model.save_pretrained(tmp_path)
    processor.save_pretrained(tmp_path)
    loaded = ArchVQVAEProcessor.from_pretrained(tmp_path, SPACE)
    assert loaded.tokenizer.codebook_size == 16 and loaded.tokenizer.code_length == 8
    assert loaded.cells_to_text(model, CELLS) == processor.cells_to_text(model, CELLS)


def test_invalid_cells_raise(model, processor) -> None:
    with pytest.raises(InvalidCellError):
        processor.cells_to_text(model, ["|nor_conv_3x3~0|"])


_scalars = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.integers(min_value=0, max_value=15),
    st.floats(allow_nan=True),
    st.booleans(),
    st.none(),
    st.text(max_size=3),
)
_rows = st.one_of(
    st.lists(_scalars, max_size=12), st.lists(st.integers(0, 15), min_size=8, max_size=8), _scalars
)


@st.composite
def _tensors(draw) -> torch.Tensor:
    shape = draw(st.lists(st.integers(0, 6), max_size=3))
    values = draw(st.lists(st.integers(-3, 40), min_size=math.prod(shape), max_size=math.prod(shape)))
    dtype = draw(
        st.sampled_from([torch.long, torch.int32, torch.uint8, torch.float32, torch.bool, torch.int8])
    )
    return torch.tensor(values, dtype=torch.long).reshape(shape).to(dtype)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(codes=st.one_of(st.lists(_rows, max_size=5), _rows, _tensors()))
def test_decode_never_raises(untrained, codes) -> None:
    model, processor = untrained
    results = processor.decode(model, codes)
    assert isinstance(results, list)
    for result in results:
        assert isinstance(result, DecodedCell)
        assert result.valid or result.reason


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    texts=st.lists(
        st.one_of(
            st.text(max_size=30),
            st.lists(st.integers(-2, 20), max_size=10).map(lambda codes: " ".join(map(str, codes))),
        ),
        max_size=6,
    )
)
def test_decode_text_never_raises(model, processor, texts) -> None:
    results = processor.decode_text(model, texts)
    assert len(results) == len(texts)
    for result in results:
        assert isinstance(result, DecodedCell)
        assert result.valid or result.reason
