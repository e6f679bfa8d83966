"""What every search space does the same way: batch decoding agrees with decoding row by row (the shared checks
run once per batch), and ``validate`` returns the one result type."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archllm_hf.spaces import DARTSSpace, DecodedCell, NB101Space, NB201Space, get_space

# --- batch decoding ----------------------------------------------------------------------------------------
KINDS = ("valid", "random", "corrupt")
SPACES = {
    "nb101": NB101Space(),
    "nb201": NB201Space(),
    "darts": DARTSSpace(),
    "darts-arch2vec": DARTSSpace(ops="arch2vec"),
}
POOLS = {name: [space.to_graph(cell) for cell in space.sample(64, seed=5)] for name, space in SPACES.items()}
every_space = pytest.mark.parametrize("name", list(SPACES))


def mixed_batch(name: str, kinds: list[str], seed: int) -> tuple[np.ndarray, np.ndarray]:
    """One graph per kind: ``valid`` (an exact encoding), ``random`` (0/1 on the allowed entries, random op
    ids) or ``corrupt`` (an encoding with entries anywhere set to 0/1/2 and op ids set in [-1, num_ops])."""
    rng = np.random.default_rng(seed)
    space, pool = SPACES[name], POOLS[name]
    n, mask = space.num_nodes, space.adjacency_mask()
    adjacency, ops = [], []
    for kind in kinds:
        graph = pool[rng.integers(len(pool))]
        a, o = graph.adjacency.astype(np.int64), graph.ops.copy()
        if kind == "random":
            a, o = (rng.random((n, n)) < 0.3) & mask, rng.integers(0, space.num_ops, n)
        elif kind == "corrupt":
            allowed = np.argwhere(mask)
            for _ in range(rng.integers(1, 4)):
                i, j = rng.integers(n, size=2) if rng.random() < 0.3 else allowed[rng.integers(len(allowed))]
                a[i, j] = rng.integers(0, 3) if rng.random() < 0.2 else 1 - a[i, j]
            if rng.random() < 0.5:
                o[rng.integers(n)] = rng.integers(-1, space.num_ops + 1)
        adjacency.append(np.asarray(a, dtype=np.int64))
        ops.append(np.asarray(o, dtype=np.int64))
    return np.stack(adjacency), np.stack(ops)


def assert_batch_matches_rows(name: str, adjacency: np.ndarray, ops: np.ndarray) -> list:
    """``decode_graphs`` equals ``decode_graph`` row by row (on another space object: no shared memo), valid
    rows carry ``canonical_id`` and invalid cells the reason ``validate`` gives."""
    space = SPACES[name]
    batch = get_space(space.name, **space.space_kwargs).decode_graphs(adjacency, ops)
    rows = get_space(space.name, **space.space_kwargs)
    assert len(batch) == len(adjacency)
    for a, o, decoded in zip(adjacency, ops, batch):
        assert decoded == rows.decode_graph(a, o)
        assert bool(decoded) == decoded.valid == (decoded.id is not None)
        if decoded.valid:
            assert decoded.id == rows.canonical_id(decoded.cell)
        elif decoded.cell is not None:
            assert rows.validate(decoded.cell) == decoded
    return batch


@every_space
@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(KINDS), min_size=1, max_size=24), st.integers(0, 2**32))
def test_decode_graphs_equals_decode_graph_per_row(name: str, kinds: list[str], seed: int) -> None:
    adjacency, ops = mixed_batch(name, kinds, seed)
    assert_batch_matches_rows(name, adjacency, ops)


@every_space
def test_decode_graphs_on_a_large_mixed_batch(name: str) -> None:
    kinds = list(KINDS) * 100
    adjacency, ops = mixed_batch(name, kinds, seed=1)
    batch = assert_batch_matches_rows(name, adjacency, ops)
    assert sum(d.valid for d in batch) >= 100  # the batch paths (memo misses computed together) are exercised
    for dtype in (np.int8, np.uint8):
        assert_batch_matches_rows(name, adjacency[:40].astype(dtype), ops[:40].astype(dtype))
    assert_batch_matches_rows(name, adjacency[:40] != 0, ops[:40])
    assert_batch_matches_rows(
        name, adjacency[:5].astype(np.float32), ops[:5]
    )  # every row: "must hold integers"
    assert_batch_matches_rows(name, adjacency[:5, :-1, :-1], ops[:5])  # every row: wrong shape
    assert_batch_matches_rows(name, adjacency[:5], ops[:5, :-1])


@every_space
def test_decode_graphs_needs_two_batches_of_equal_length(name: str) -> None:
    space = SPACES[name]
    adjacency, ops = mixed_batch(name, ["valid"] * 3, seed=0)
    with pytest.raises(ValueError, match="same B"):
        space.decode_graphs(adjacency, ops[:2])
    with pytest.raises(ValueError, match="same B"):
        space.decode_graphs(np.int64(0), ops)
    assert space.decode_graphs(adjacency[:0], ops[:0]) == []


@every_space
def test_validate_returns_a_decoded_cell(name: str) -> None:
    space = SPACES[name]
    cell = space.sample(1, seed=2)[0]
    result = space.validate(cell)
    assert result and result.valid and result.cell == cell and result.reason is None
    assert result.id == space.canonical_id(cell)
    failure = space.invalid("malformed code text")
    assert not failure and failure.cell is None and failure.id is None
    assert failure.reason == "malformed code text"
    assert space.invalid("why", cell) == DecodedCell(cell, False, "why")


@every_space
def test_from_native_inverts_to_native(name: str) -> None:
    import json

    from archllm_hf.errors import InvalidCellError

    space = SPACES[name]
    for cell in space.sample(5, seed=3):
        native = json.loads(json.dumps(space.to_native(cell)))  # as a sample record stores it
        assert space.from_native(native) == cell
    with pytest.raises(InvalidCellError, match="native cell form"):
        space.from_native(["not", "a", "cell"])
