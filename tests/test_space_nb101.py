"""NAS-Bench-101 space: official hash compatibility, pruning/validity, graph encoding, text form, enumeration.

The reference for the hash is ``nasbench_pytorch.model.graph_util`` (a copy of google-research/nasbench's
``graph_util.py``), an implementation independent of ours.
"""

from __future__ import annotations

import ast
import itertools
import json
import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from archllm_hf.errors import InvalidCellError
from archllm_hf.spaces import NB101Cell, NB101Space, get_space
from archllm_hf.spaces.nb101 import (
    HASH_OPS,
    NB101Enumeration,
    _full_dag_masks,
    _sample_rows,
    enumerate_nb101,
    enumeration_cache_path,
    hash_cell,
    nb101_hash,
    nb101_hashes,
    path_vertices,
    prune,
)

graph_util = pytest.importorskip("nasbench_pytorch.model.graph_util")

SPACE = NB101Space()
ZC_OPS = ("input", "output", "maxpool3x3", "conv1x1-bn-relu", "conv3x3-bn-relu")  # NASLib's op codes
C3, C1, MP = "conv3x3-bn-relu", "conv1x1-bn-relu", "maxpool3x3"


def reference_hash(cell: NB101Cell) -> str:
    """``graph_util.hash_module`` on the cell as given (callers prune first)."""
    labeling = [-1] + [HASH_OPS.index(op) for op in cell.ops[1:-1]] + [-2]
    return graph_util.hash_module(np.array(cell.matrix, dtype=np.int8), labeling)


# --- strategies ------------------------------------------------------------------------------------


@st.composite
def upper_triangular(draw, min_n: int = 1, max_n: int = 8, p: float | None = None) -> list[list[int]]:
    n = draw(st.integers(min_n, max_n))
    p = draw(st.floats(0.1, 0.9)) if p is None else p
    r = random.Random(draw(st.integers(0, 2**32 - 1)))
    return [[int(i < j and r.random() < p) for j in range(n)] for i in range(n)]


@st.composite
def cells(draw, min_n: int = 2, max_n: int = 9, any_ops: bool = False) -> NB101Cell:
    """Well-formed cells: input first, output last, 3-op interior (any known op names if ``any_ops``)."""
    matrix = draw(upper_triangular(min_n, max_n))
    n = len(matrix)
    if any_ops:
        ops = draw(st.lists(st.sampled_from(("input", "output", *HASH_OPS)), min_size=n, max_size=n))
    else:
        ops = ["input", *draw(st.lists(st.sampled_from(HASH_OPS), min_size=n - 2, max_size=n - 2)), "output"]
    return NB101Cell(matrix, ops)


@st.composite
def valid_cells(draw) -> NB101Cell:
    cell = prune(draw(cells(2, 9)))
    if cell is None or not SPACE.validate(cell):
        cell = SPACE.random_cell(random.Random(draw(st.integers(0, 2**32 - 1))))
    return cell


# --- the official hash -------------------------------------------------------------------------------


def test_readme_example_hash() -> None:
    matrix = [
        [0, 1, 1, 1, 0, 1, 0],
        [0, 0, 0, 0, 0, 0, 1],
        [0, 0, 0, 0, 0, 0, 1],
        [0, 0, 0, 0, 1, 0, 0],
        [0, 0, 0, 0, 0, 0, 1],
        [0, 0, 0, 0, 0, 0, 1],
        [0] * 7,
    ]
    cell = NB101Cell(matrix, ["input", C1, C3, C3, C3, MP, "output"])
    # the hash printed in the NAS-Bench-101 README for this spec
    assert SPACE.canonical_id(cell) == "28cfc7874f6d200472e1a9dcd8650aa0" == reference_hash(cell)


def test_hash_matches_naslib_dummy_records(shared_data) -> None:
    records = json.loads((shared_data / "nb101" / "naslib_nb101_dummy.json").read_text())
    assert len(records) == 30
    for official_hash, record in records.items():
        cell = NB101Cell(record["module_adjacency"], record["module_operations"])
        assert SPACE.validate(cell)
        assert SPACE.canonical_id(cell) == official_hash
        assert nb101_hash(cell.matrix, cell.labeling()) == official_hash


def test_hash_matches_reference_on_naslib_zc_subset(shared_data) -> None:
    data = json.loads((shared_data / "nb101" / "naslib_zc_nasbench101_subset.json").read_text())
    keys = list(data["nasbench101"]["cifar10"])
    assert len(keys) == 500
    ids = set()
    for key in keys:
        code = ast.literal_eval(key)
        assert len(code) == 56
        matrix = np.array(code[:49]).reshape(7, 7)
        cell = NB101Cell(matrix, [ZC_OPS[i] for i in code[49:]])
        assert SPACE.validate(cell), SPACE.validate(cell).reason
        pruned = prune(cell)
        assert SPACE.canonical_id(cell) == reference_hash(pruned)
        ids.add(SPACE.canonical_id(cell))
    assert len(ids) == 292


@settings(max_examples=150, deadline=None)
@given(upper_triangular(1, 8), st.data())
def test_fast_hash_equals_graph_util(matrix, data) -> None:
    n = len(matrix)
    labeling = data.draw(st.lists(st.integers(-2, 4), min_size=n, max_size=n))
    expected = graph_util.hash_module(np.array(matrix, dtype=np.int8), labeling)
    assert nb101_hash(matrix, labeling) == expected
    assert nb101_hash(np.array(matrix, dtype=np.int64), labeling) == expected


@settings(max_examples=100, deadline=None)
@given(valid_cells(), st.randoms(use_true_random=False))
def test_canonical_id_invariant_under_isomorphic_relabeling(cell, rnd) -> None:
    m, n = cell.matrix, cell.num_vertices
    # a random topological order: input stays first and output last (the only source and sink)
    indegree = [sum(m[u][v] for u in range(n)) for v in range(n)]
    ready, order = [0], []
    while ready:
        v = ready.pop(rnd.randrange(len(ready)))
        order.append(v)
        for w in range(v + 1, n):
            if m[v][w]:
                indegree[w] -= 1
                if indegree[w] == 0:
                    ready.append(w)
    assert order[0] == 0 and order[-1] == n - 1 and sorted(order) == list(range(n))
    relabeled = NB101Cell([[m[a][b] for b in order] for a in order], [cell.ops[a] for a in order])
    assert SPACE.canonical_id(relabeled) == SPACE.canonical_id(cell)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 8), st.integers(1, 12), st.integers(0, 2**32), st.booleans())
def test_batched_hash_equals_graph_util(n, graphs, seed, dag) -> None:
    rng = np.random.default_rng(seed)
    matrices = (rng.random((graphs, n, n)) < rng.uniform(0.1, 0.9)).astype(np.int8)
    if dag:
        matrices = np.triu(matrices, 1)  # else: any 0/1 matrix, cycles and self-loops included
    labelings = rng.integers(-2, 5, (graphs, n))
    expected = [graph_util.hash_module(m, labels.tolist()) for m, labels in zip(matrices, labelings)]
    assert nb101_hashes(matrices, labelings) == expected
    assert nb101_hashes(matrices.astype(bool), labelings.astype(np.int8)) == expected


def test_batched_hash_input_errors() -> None:
    assert nb101_hashes(np.zeros((0, 3, 3)), np.zeros((0, 3), dtype=int)) == []
    with pytest.raises(InvalidCellError, match="shapes"):
        nb101_hashes(np.zeros((2, 3, 3)), np.zeros((2, 4), dtype=int))
    with pytest.raises(InvalidCellError, match="integers"):
        nb101_hashes(np.zeros((2, 3, 3)), np.zeros((2, 3)))


def test_ids_are_memoized_per_space_object_but_not_pickled() -> None:
    import pickle

    space = NB101Space()
    cells = space.sample(20, seed=4)
    ids = [space.canonical_id(c) for c in cells]
    assert [space.canonical_id(c) for c in cells] == ids == [reference_hash(prune(c)) for c in cells]
    assert any(key.startswith("_cache_") for key in vars(space))
    clone = pickle.loads(pickle.dumps(space))
    assert not any(key.startswith("_cache_") for key in vars(clone))
    assert [clone.validate(c).id for c in cells] == ids


def test_path_vertices() -> None:
    matrix = [[0, 1, 1, 0, 0], [0, 0, 0, 0, 1], [0, 0, 0, 0, 0], [0, 0, 0, 0, 1], [0] * 5]
    assert path_vertices(matrix) == SPACE.path_vertices(np.array(matrix)) == [0, 1, 4]
    assert path_vertices([[0, 0], [0, 0]]) == []


def test_different_cells_have_different_ids() -> None:
    base = NB101Cell([[0, 1, 0], [0, 0, 1], [0, 0, 0]], ["input", C3, "output"])
    other_op = NB101Cell([[0, 1, 0], [0, 0, 1], [0, 0, 0]], ["input", C1, "output"])
    skip = NB101Cell([[0, 1, 1], [0, 0, 1], [0, 0, 0]], ["input", C3, "output"])
    assert len({SPACE.canonical_id(c) for c in (base, other_op, skip)}) == 3


# --- pruning and validity ----------------------------------------------------------------------------


def test_prune_drops_dangling_vertices_like_nasbench() -> None:
    # vertex 2 has no out-edge, vertex 3 has no in-edge: both are off every input-output path
    matrix = [[0, 1, 1, 0, 0], [0, 0, 0, 0, 1], [0, 0, 0, 0, 0], [0, 0, 0, 0, 1], [0] * 5]
    cell = NB101Cell(matrix, ["input", C3, MP, C1, "output"])
    pruned = prune(cell)
    assert pruned == NB101Cell([[0, 1, 0], [0, 0, 1], [0, 0, 0]], ["input", C3, "output"])
    assert SPACE.canonical_id(cell) == reference_hash(pruned)
    assert prune(pruned) is pruned


def test_validate_reasons() -> None:
    def reason(matrix, ops):
        validity = SPACE.validate(NB101Cell(matrix, ops))
        assert not validity
        return validity.reason

    assert "cannot reach" in reason([[0, 0], [0, 0]], ["input", "output"])
    assert "cannot reach" in reason([[0, 1, 0], [0, 0, 0], [0, 0, 0]], ["input", C3, "output"])
    chain8 = [[int(j == i + 1) for j in range(8)] for i in range(8)]
    assert "8 vertices" in reason(chain8, ["input", *[C3] * 6, "output"])
    dense6 = [[int(i < j) for j in range(6)] for i in range(6)]  # 15 edges
    assert "15 edges" in reason(dense6, ["input", *[C3] * 4, "output"])
    assert "first vertex" in reason([[0, 1], [0, 0]], [C3, "output"])
    assert "last vertex" in reason([[0, 1], [0, 0]], ["input", MP])
    assert "interior vertex 1" in reason([[0, 1, 0], [0, 0, 1], [0, 0, 0]], ["input", "input", "output"])
    with pytest.raises(InvalidCellError, match="15 edges"):
        SPACE.canonical_id(NB101Cell(dense6, ["input", *[C3] * 4, "output"]))


def test_edge_limit_applies_after_pruning() -> None:
    # 10 edges before pruning; the dangling vertex 5 carries 2 of them, leaving 8
    edges = {(0, 1), (0, 2), (0, 3), (1, 2), (2, 3), (3, 6), (1, 6), (2, 6), (0, 5), (4, 5)}
    m = [[int((i, j) in edges) for j in range(7)] for i in range(7)]
    cell = NB101Cell(m, ["input", C3, C1, MP, C3, C3, "output"])
    assert cell.num_edges == 10 and SPACE.validate(cell)
    assert prune(cell).num_vertices == 5 and prune(cell).num_edges == 8


def test_random_cells_are_valid_pruned_and_seeded() -> None:
    draws = [SPACE.random_cell(random.Random(seed)) for seed in range(200)]
    for cell in draws:
        assert SPACE.validate(cell) and prune(cell) is cell
    assert draws == [SPACE.random_cell(random.Random(seed)) for seed in range(200)]
    assert len({SPACE.canonical_id(c) for c in SPACE.sample(50, seed=3)}) == 50


# --- graph encoding and text form --------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(cells(2, 9, any_ops=True))
def test_graph_round_trip(cell) -> None:
    pruned = prune(cell)
    if pruned is None or pruned.num_vertices > 7:
        with pytest.raises(InvalidCellError):
            SPACE.to_graph(cell)
        return
    graph = SPACE.to_graph(cell)
    n = pruned.num_vertices
    assert graph.adjacency.shape == (7, 7) and graph.adjacency.dtype == np.int8
    assert not (graph.adjacency.astype(bool) & ~SPACE.adjacency_mask()).any()
    assert graph.mask.tolist() == [True] * (n - 1) + [False] * (7 - n) + [True]
    assert SPACE.node_vocab[graph.ops[6]] == pruned.ops[-1]
    assert SPACE.from_graph(graph.adjacency, graph.ops) == pruned
    decoded = SPACE.decode_graph(graph.adjacency, graph.ops)
    assert decoded.valid == bool(SPACE.validate(cell))
    if decoded.valid:
        assert decoded.id == SPACE.canonical_id(cell)


def test_from_graph_keeps_unpruned_and_misplaced_vertices() -> None:
    adjacency = np.zeros((7, 7), dtype=np.int64)
    adjacency[0, 6] = adjacency[2, 3] = 1
    ops = np.array([1, 0, 3, 5, 0, 0, 1])  # input, pad, conv3x3, output, pad, pad, input
    cell = SPACE.from_graph(adjacency, ops)
    assert cell.ops == ("input", C3, "output", "input")
    assert cell.matrix[0][3] == 1 and cell.matrix[1][2] == 1
    assert "last vertex" in SPACE.validate(cell).reason


@settings(max_examples=100, deadline=None)
@given(cells(2, 9, any_ops=True))
def test_text_round_trip(cell) -> None:
    text = SPACE.format(cell)
    assert "\n" not in text and SPACE.parse(text) == cell
    assert text == SPACE.format(SPACE.parse(text))


def test_cell_accepts_arrays_and_bools() -> None:
    expected = NB101Cell([[0, 1], [0, 0]], ["input", "output"])
    assert NB101Cell(np.array([[0, 1], [0, 0]], dtype=np.uint8), np.array(["input", "output"])) == expected
    assert NB101Cell([[False, True], [False, False]], ("input", "output")) == expected
    assert hash(expected) == hash(NB101Cell(((0, 1), (0, 0)), ("input", "output")))
    assert get_space("nb101").parse('{"matrix": [[0, 1], [0, 0]], "ops": ["input", "output"]}') == expected


# --- malformed input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("matrix", "ops", "message"),
    [
        ([[0, 1, 0], [0, 0, 1]], ["input", C3, "output"], "square"),
        ([[0, 1], [1, 0]], ["input", "output"], "upper triangular"),
        ([[1, 1], [0, 0]], ["input", "output"], "upper triangular"),
        ([[0, 2], [0, 0]], ["input", "output"], "0 or 1"),
        ([[0.0, 1.0], [0.0, 0.0]], ["input", "output"], "integers"),
        (np.array([[0, 1], [0, 0]], dtype=np.float32), ["input", "output"], "integers"),
        ([[0, 1, 1], [0, 0], [0, 0, 0]], ["input", C3, "output"], "rectangular"),
        ([[0, 1], [0, 0]], ["input", "conv5x5"], "unknown op 'conv5x5'"),
        ([[0, 1], [0, 0]], ["input", C3, "output"], "3 entries but the matrix has 2"),
        ([[0, 1], [0, 0]], "io", "sequence of op names"),
        ([[0, 1], [0, 0]], ["input", 3], "ops\\[1\\] must be a string"),
        ([[0]], ["input"], "at least 2 vertices"),
    ],
)
def test_malformed_cells_raise(matrix, ops, message) -> None:
    with pytest.raises(InvalidCellError, match=message):
        NB101Cell(matrix, ops)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{matrix: 1}", "not valid JSON"),
        ("[1, 2]", "JSON object"),
        ('{"matrix": [[0, 1], [0, 0]]}', "lacks key.*'ops'"),
        ('{"matrix": [[0, 1], [0, 0]], "ops": ["input", "output"], "x": 1}', "unexpected JSON key.*'x'"),
        ('{"matrix": [[0, 1], [0, 0]], "ops": "input output"}', "'ops' must be a list"),
        ('{"matrix": [[0, 1.0], [0, 0]], "ops": ["input", "output"]}', "integers"),
    ],
)
def test_parse_errors(text, message) -> None:
    with pytest.raises(InvalidCellError, match=message):
        SPACE.parse(text)


def test_from_graph_errors() -> None:
    adjacency = np.zeros((7, 7), dtype=np.int8)
    adjacency[0, 6] = adjacency[0, 3] = 1
    ops = np.array([1, 0, 0, 0, 0, 0, 5])
    with pytest.raises(InvalidCellError, match=r"<pad> slot\(s\) \[3\] have edges"):
        SPACE.from_graph(adjacency, ops)
    with pytest.raises(InvalidCellError, match="strictly upper triangular"):
        SPACE.from_graph(adjacency.T, ops)
    with pytest.raises(InvalidCellError, match="at least 2 vertices"):
        SPACE.from_graph(np.zeros((7, 7), dtype=np.int8), np.array([1, 0, 0, 0, 0, 0, 0]))
    assert not SPACE.decode_graph(adjacency, ops).valid


def test_nb101_hash_input_errors() -> None:
    with pytest.raises(InvalidCellError, match="2 entries but the matrix has 3"):
        nb101_hash(np.zeros((3, 3), dtype=int), [-1, -2])
    with pytest.raises(InvalidCellError, match="integers"):
        nb101_hash([[0, 1], [0, 0]], [-1.0, -2.0])
    with pytest.raises(InvalidCellError, match="cannot reach"):
        hash_cell(NB101Cell([[0, 0], [0, 0]], ["input", "output"]))


# --- enumeration -------------------------------------------------------------------------------------


def reference_enumeration(max_vertices: int) -> dict[str, tuple[list[list[int]], list[int]]]:
    """nasbench's generate_graphs.py loop, built from the official graph_util functions (slow; small V)."""
    seen: dict[str, tuple[list[list[int]], list[int]]] = {}
    for n in range(2, max_vertices + 1):
        for bits in range(2 ** (n * (n - 1) // 2)):
            matrix = np.fromfunction(graph_util.gen_is_edge_fn(bits), (n, n), dtype=np.int8)
            if not graph_util.is_full_dag(matrix) or graph_util.num_edges(matrix) > 9:
                continue
            for interior in itertools.product(range(3), repeat=n - 2):
                labeling = [-1, *interior, -2]
                key = graph_util.hash_module(matrix, labeling)
                seen.setdefault(key, (matrix.astype(int).tolist(), labeling))
    return seen


@pytest.fixture(scope="module")
def enum5(tmp_path_factory) -> tuple[NB101Enumeration, object]:
    cache_dir = tmp_path_factory.mktemp("nb101cache")
    return enumerate_nb101(max_vertices=5, workers=2, cache_dir=cache_dir), cache_dir


def test_full_dag_masks_match_official_filter() -> None:
    for n in range(2, 7):
        expected = []
        for bits in range(2 ** (n * (n - 1) // 2)):
            matrix = np.fromfunction(graph_util.gen_is_edge_fn(bits), (n, n), dtype=np.int8)
            if graph_util.is_full_dag(matrix) and graph_util.num_edges(matrix) <= 9:
                expected.append(bits)
        assert list(_full_dag_masks(n, 9)) == expected


def test_enumeration_v5_matches_reference_generator(enum5) -> None:
    enumeration, _ = enum5
    reference = reference_enumeration(5)
    assert len(enumeration) == len(reference) == 2532
    assert enumeration.hash_strings() == list(reference)
    for cell, (matrix, labeling) in zip(enumeration.cells(), reference.values()):
        assert [list(row) for row in cell.matrix] == matrix and cell.labeling() == labeling
        assert SPACE.validate(cell)
    assert enumeration.num_labeled == sum(len(_full_dag_masks(n, 9)) * 3 ** (n - 2) for n in range(2, 6))


def test_enumeration_cache_and_workers(enum5) -> None:
    enumeration, cache_dir = enum5
    path = enumeration_cache_path(5, 9, cache_dir)
    assert path.exists() and not list(path.parent.glob("*.tmp"))
    reloaded = enumerate_nb101(max_vertices=5, workers=1, cache_dir=cache_dir)
    single = enumerate_nb101(max_vertices=5, workers=1, cache_dir=cache_dir, use_cache=False)
    for other in (reloaded, single):
        for field in ("hashes", "num_vertices", "edge_bits", "interior_labels"):
            assert np.array_equal(getattr(other, field), getattr(enumeration, field))
        assert other.num_labeled == enumeration.num_labeled
    path.write_bytes(b"not an npz file")
    assert np.array_equal(
        enumerate_nb101(max_vertices=5, workers=1, cache_dir=cache_dir).hashes, enumeration.hashes
    )


def test_uniform_sampling(enum5, tmp_path) -> None:
    enumeration, _ = enum5
    drawn = _sample_rows(enumeration, 100, seed=1)
    assert drawn == _sample_rows(enumeration, 100, seed=1)
    assert len({SPACE.canonical_id(c) for c in drawn}) == 100
    assert set(map(SPACE.canonical_id, drawn)) <= set(enumeration.hash_strings())
    with pytest.raises(FileNotFoundError, match="compute=True"):
        NB101Space(cache_dir=tmp_path).sample_uniform(3)


def test_record_and_pickle() -> None:
    import pickle

    cell = NB101Cell([[0, 1, 1, 0], [0, 0, 0, 1], [0, 0, 0, 1], [0, 0, 0, 0]], ["input", C1, MP, "output"])
    record = SPACE.to_record(cell)
    assert record["adjacency"] == [list(row) for row in cell.matrix]
    assert record["operations"] == list(cell.ops)
    assert (record["num_vertices"], record["num_edges"], record["id"]) == (4, 4, reference_hash(cell))
    assert pickle.loads(pickle.dumps(cell)) == cell
