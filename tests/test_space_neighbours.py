"""Local-search moves of every search space: ``neighbours`` (cells one op or one edge away) and ``mutate``."""

from __future__ import annotations

import random

import pytest

from archllm_hf.errors import InvalidCellError
from archllm_hf.spaces import (
    DARTSCell,
    DARTSSpace,
    NB101Cell,
    NB101Space,
    NB201Cell,
    NB201Space,
    SearchSpace,
    get_space,
)
from archllm_hf.spaces.darts import NASLIB_OPS
from archllm_hf.spaces.nb101 import nb101_hash, prune
from archllm_hf.spaces.nb201 import OPS as NB201_OPS

SPACES: dict[str, SearchSpace] = {
    "nb101": NB101Space(),
    "nb201": NB201Space(),
    "darts": DARTSSpace(),
    "darts-arch2vec": DARTSSpace(ops="arch2vec"),
}
SAMPLES = {name: space.sample(12, seed=3) for name, space in SPACES.items()}
every_space = pytest.mark.parametrize("name", list(SPACES))

C3, C1, MP = "conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3"
NB101_LABELS = {"input": -1, "output": -2, C3: 0, C1: 1, MP: 2}


def fresh(name: str) -> SearchSpace:
    """Another object of the same space (no memo shared with ``SPACES[name]``)."""
    space = SPACES[name]
    return get_space(space.name, **space.space_kwargs)


@every_space
def test_neighbours_are_valid_distinct_new_and_deterministic(name: str) -> None:
    space = SPACES[name]
    for cell in SAMPLES[name]:
        neighbours = space.neighbours(cell)
        assert neighbours
        ids = [space.validate(n).id for n in neighbours]
        assert None not in ids
        assert len(set(ids)) == len(ids)
        assert space.canonical_id(cell) not in ids
        assert space.neighbours(cell) == neighbours
        assert fresh(name).neighbours(cell) == neighbours


@every_space
def test_mutate_is_seeded_and_returns_a_neighbour(name: str) -> None:
    space = SPACES[name]
    cell = SAMPLES[name][0]

    def walk(seed: int) -> list:
        rng, current, path = random.Random(seed), cell, []
        for _ in range(8):
            current = space.mutate(current, rng)
            path.append(current)
        return path

    path = walk(7)
    assert path == walk(7)
    assert path != walk(8)
    previous = cell
    for current in path:
        assert current in space.neighbours(previous)
        previous = current
    drawn = {space.canonical_id(space.mutate(cell, random.Random(seed))) for seed in range(20)}
    assert len(drawn) > 1


class _Isolated(NB201Space):
    def neighbours(self, cell: NB201Cell) -> list[NB201Cell]:
        return []


def test_mutate_without_neighbours() -> None:
    cell = SAMPLES["nb201"][0]
    with pytest.raises(ValueError, match="no neighbours"):
        _Isolated().mutate(cell, random.Random(0))

    class Bare(NB201Space):
        neighbours = SearchSpace.neighbours

    with pytest.raises(NotImplementedError, match="nb201 defines no neighbours"):
        Bare().mutate(cell, random.Random(0))


OTHER_CELLS = {
    "nb101": SAMPLES["nb201"][0],
    "nb201": SAMPLES["darts"][0],
    "darts": SAMPLES["nb101"][0],
    "darts-arch2vec": SAMPLES["nb201"][0],
}
INVALID_CELLS = {
    "nb101": NB101Cell([[0, 1, 0], [0, 0, 0], [0, 0, 0]], ["input", C3, "output"]),  # output unreachable
    "darts": DARTSCell(
        [("skip_connect", 0), ("skip_connect", 0)] * 4, [("skip_connect", 0), ("skip_connect", 1)] * 4
    ),
    "darts-arch2vec": DARTSCell(
        [("bogus_op", 0), ("skip_connect", 1)] * 4, [("skip_connect", 0), ("none", 1)] * 4
    ),
}


@every_space
def test_bad_input_raises_invalid_cell_error(name: str) -> None:
    space = SPACES[name]
    bad = ["|none~0|+|none~0|none~1|+|none~0|none~1|none~2|", None, OTHER_CELLS[name]]
    if name in INVALID_CELLS:
        bad.append(INVALID_CELLS[name])
    for cell in bad:
        with pytest.raises(InvalidCellError):
            space.neighbours(cell)
        with pytest.raises(InvalidCellError):
            space.mutate(cell, random.Random(0))


# --- NB201 -------------------------------------------------------------------------------------------------
def test_nb201_neighbours_are_the_24_one_edge_changes() -> None:
    space = SPACES["nb201"]
    for cell in SAMPLES["nb201"]:
        neighbours = space.neighbours(cell)
        assert len(neighbours) == 24
        for n in neighbours:
            assert sum(a != b for a, b in zip(n.ops, cell.ops)) == 1
        expected = {
            space.canonical_id(c)
            for c in space.enumerate()
            if sum(a != b for a, b in zip(c.ops, cell.ops)) == 1
        }
        assert {space.canonical_id(n) for n in neighbours} == expected
    first = NB201Cell(("none",) * 6)
    assert space.neighbours(first)[:4] == [NB201Cell((op, *("none",) * 5)) for op in NB201_OPS[1:]]


# --- NB101 -------------------------------------------------------------------------------------------------
def test_nb101_neighbours_of_a_hand_made_cell() -> None:
    # 0 -> 1 -> 3 with a dangling vertex 2 (0 -> 2, no way on to the output)
    cell = NB101Cell([[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 0], [0, 0, 0, 0]], ["input", C3, MP, "output"])
    chain = [[0, 1, 0], [0, 0, 1], [0, 0, 0]]
    expected = [
        NB101Cell(chain, ["input", C1, "output"]),  # vertex 1's op (vertex 2's op changes nothing)
        NB101Cell(chain, ["input", MP, "output"]),
        NB101Cell([[0, 1, 1], [0, 0, 1], [0, 0, 0]], ["input", C3, "output"]),  # edge 0 -> 3 added
        NB101Cell(  # edge 2 -> 3 added: vertex 2 joins a path
            [[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 0]], ["input", C3, MP, "output"]
        ),
    ]  # removing 0 -> 1 or 1 -> 3 disconnects; removing 0 -> 2 or adding 1 -> 2 prunes back to the cell
    space = SPACES["nb101"]
    neighbours = space.neighbours(cell)
    assert neighbours == expected
    ids = [nb101_hash(c.matrix, [NB101_LABELS[op] for op in c.ops]) for c in expected]
    assert [space.canonical_id(n) for n in neighbours] == ids
    assert space.canonical_id(cell) not in ids


def test_nb101_neighbours_limit_edges() -> None:
    # 7 vertices, 9 edges: adding any edge breaks the limit, so only removals and op changes remain
    matrix = [[0] * 7 for _ in range(7)]
    for i, j in [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5), (5, 6), (0, 2), (0, 3), (0, 4)]:
        matrix[i][j] = 1
    cell = NB101Cell(matrix, ["input", C3, C3, C3, C3, C3, "output"])
    neighbours = SPACES["nb101"].neighbours(cell)
    op_moves = [n for n in neighbours if n.matrix == cell.matrix]
    assert len(op_moves) == 10  # 5 interior vertices x 2 other ops
    assert all(n.num_edges < 9 for n in neighbours if n.matrix != cell.matrix)
    assert len(neighbours) > len(op_moves)


def test_nb101_neighbours_differ_by_one_op_or_one_edge() -> None:
    space = SPACES["nb101"]
    for cell in SAMPLES["nb101"]:
        for n in space.neighbours(cell):
            assert prune(n) == n
            if n.num_vertices == cell.num_vertices:
                op_diffs = sum(a != b for a, b in zip(n.ops, cell.ops))
                edge_diffs = sum(a != b for r, s in zip(n.matrix, cell.matrix) for a, b in zip(r, s))
                assert op_diffs + edge_diffs == 1
            else:  # an edge was removed and pruning dropped the vertices it alone kept on a path
                assert n.num_vertices < cell.num_vertices and n.num_edges < cell.num_edges


# --- DARTS -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["darts", "darts-arch2vec"])
def test_darts_neighbours_change_one_pair(name: str) -> None:
    space = SPACES[name]
    for cell in SAMPLES[name]:
        for n in space.neighbours(cell):
            changed = [
                (old, new)
                for half, new_half in zip(cell.cells(), n.cells())
                for old, new in zip(half, new_half)
                if old != new
            ]
            assert len(changed) == 1
            (old_op, old_in), (new_op, new_in) = changed[0]
            assert (old_op != new_op) + (old_in != new_in) == 1


def test_darts_neighbour_count() -> None:
    # no two moves give the same network: 2 cells x (8 pairs x 6 other ops + 12 input moves)
    pairs = (
        ("max_pool_3x3", 0), ("avg_pool_3x3", 1),
        ("skip_connect", 0), ("sep_conv_3x3", 2),
        ("sep_conv_5x5", 1), ("dil_conv_3x3", 3),
        ("dil_conv_5x5", 2), ("max_pool_3x3", 4),
    )  # fmt: skip
    cell = DARTSCell(pairs, pairs)
    assert len(SPACES["darts"].neighbours(cell)) == 2 * (8 * (len(NASLIB_OPS) - 1) + 12)
    assert len(SPACES["darts-arch2vec"].neighbours(cell)) == 2 * (8 * len(NASLIB_OPS) + 12)
    # node 2's two inputs are 0 and 1: swapping one for the other would repeat an input
    node2 = [n for n in SPACES["darts"].neighbours(cell) if n.normal[:2] != pairs[:2]]
    assert all(n.normal[0][1] == 0 and n.normal[1][1] == 1 for n in node2)
    assert len(node2) == 2 * (len(NASLIB_OPS) - 1)
