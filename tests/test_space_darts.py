"""DARTS space: text forms, validity, canonical ids, graph encoding and sampling."""

from __future__ import annotations

import itertools
import json
import random
import re

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from archllm_hf.errors import InvalidCellError
from archllm_hf.spaces import DARTSCell, DARTSSpace, get_space
from archllm_hf.spaces.darts import NASLIB_OPS, count_cells

SPACE = DARTSSpace()
A2V = DARTSSpace(ops="arch2vec")
NODES = (2, 3, 4, 5)
PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# DARTS' published DARTS_V2 genotype (as printed by its genotypes.py, with range(2, 6) concats).
DARTS_V2 = (
    "Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1), "
    "('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), ('dil_conv_3x3', 2)], "
    "normal_concat=range(2, 6), reduce=[('max_pool_3x3', 0), ('max_pool_3x3', 1), ('skip_connect', 2), "
    "('max_pool_3x3', 1), ('max_pool_3x3', 0), ('skip_connect', 2), ('skip_connect', 2), "
    "('max_pool_3x3', 1)], "
    "reduce_concat=range(2, 6))"
)


@pytest.fixture(scope="module")
def naslib_keys(shared_data) -> list[str]:
    with open(shared_data / "darts" / "naslib_zc_nasbench301_subset.json") as f:
        return list(json.load(f)["cifar10"])


# --- helpers: strategies and an independent equivalence oracle ------------------------------------------
@st.composite
def half_cells(draw, ops=NASLIB_OPS):
    """8 (op, input) pairs of a valid cell."""
    pairs = []
    for k in NODES:
        first = draw(st.integers(0, k - 1))
        second = draw(st.integers(0, k - 2))
        second += second >= first
        pairs += [(draw(st.sampled_from(ops)), first), (draw(st.sampled_from(ops)), second)]
    return tuple(pairs)


def node_pairs(pairs, k):
    return pairs[2 * k - 4], pairs[2 * k - 3]


def earlier_deps(pairs, k):
    return {node for _, node in node_pairs(pairs, k)} - {0, 1}


@st.composite
def relabelings(draw, pairs):
    """The same cell under a random order-respecting renaming of intermediate nodes and random pair swaps."""
    order, remaining = [], list(NODES)
    while remaining:
        k = draw(st.sampled_from([k for k in remaining if earlier_deps(pairs, k) <= set(order)]))
        order.append(k)
        remaining.remove(k)
    new = dict(zip(order, NODES)) | {0: 0, 1: 1}
    out = []
    for old in order:
        renamed = [(op, new[node]) for op, node in node_pairs(pairs, old)]
        out += reversed(renamed) if draw(st.booleans()) else renamed
    return tuple(out)


def equivalent(p, q) -> bool:
    """Brute force over all 24 renamings: does an order-respecting one take p to q (up to pair order)?"""
    target = [sorted(node_pairs(q, k)) for k in NODES]
    for order in itertools.permutations(NODES):
        new = dict(zip(order, NODES)) | {0: 0, 1: 1}
        if any(new[j] >= new[k] for k in NODES for j in earlier_deps(p, k)):
            continue
        if [sorted((op, new[n]) for op, n in node_pairs(p, old)) for old in order] == target:
            return True
    return False


def v2_cell() -> DARTSCell:
    return SPACE.parse(DARTS_V2)


# --- the NASLib fixture -----------------------------------------------------------------------------------
def test_naslib_genotypes_parse_validate_and_round_trip(naslib_keys):
    assert len(naslib_keys) == 725
    for key in naslib_keys:
        cell = SPACE.parse(key)
        assert SPACE.validate(cell), key
        assert SPACE.parse_compact(key) == cell
        assert SPACE.format_compact(cell) == key
        text = SPACE.format(cell)
        assert text.startswith("Genotype(normal=[(") and text.count("[2, 3, 4, 5]") == 2
        assert SPACE.parse(text) == cell
        graph = SPACE.to_graph(cell)
        assert SPACE.from_graph(graph.adjacency, graph.ops) == cell


def test_naslib_compact_pairs_are_input_then_op(naslib_keys):
    # Independent of our parser: read the raw tuples; the first entry is always an earlier node.
    for key in naslib_keys:
        for half in re.findall(r"\[([^\[\]]*)\]", key):
            pairs = [tuple(map(int, p)) for p in re.findall(r"\((\d+), (\d+)\)", half)]
            assert all(first < i // 2 + 2 for i, (first, _) in enumerate(pairs))
        cell = SPACE.parse(key)
        assert all(op in NASLIB_OPS for pairs in cell.cells() for op, _ in pairs)


def test_naslib_records_are_distinct_architectures(naslib_keys):
    assert len({SPACE.canonical_id(SPACE.parse(key)) for key in naslib_keys}) == len(naslib_keys)


# --- text forms -------------------------------------------------------------------------------------------
def test_genotype_text_variants_parse_alike():
    cell = v2_cell()
    assert cell.normal[7] == ("dil_conv_3x3", 2) and cell.reduce[0] == ("max_pool_3x3", 0)
    assert SPACE.parse(DARTS_V2.replace("'", '"')) == cell
    assert SPACE.parse(DARTS_V2.replace("range(2, 6)", "[2, 3, 4, 5]")) == cell
    assert SPACE.parse(DARTS_V2.replace(", ", ",\n    ") + "\n") == cell
    positional = re.sub(r"(normal|reduce)(_concat)?=", "", DARTS_V2)
    assert SPACE.parse(positional) == cell
    assert SPACE.parse(SPACE.format(cell)) == cell


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "expected 'Genotype"),
        ("Genotype[normal=[]]", "expected 'Genotype"),
        (DARTS_V2.replace("normal_concat=range(2, 6)", "normal_concat=[2, 3, 4]"), "normal_concat must be"),
        (DARTS_V2.replace("reduce_concat=range(2, 6)", "reduce_concat=range(2, 5)"), "reduce_concat must be"),
        (DARTS_V2.replace(", reduce_concat=range(2, 6)", ""), "missing field(s) reduce_concat"),
        (DARTS_V2.replace("reduce_concat=", "reduced_concat="), "unknown field 'reduced_concat'"),
        (DARTS_V2.replace("reduce_concat=", "normal_concat="), "given twice"),
        (DARTS_V2.replace("('sep_conv_3x3', 0), ", "", 1), "normal needs exactly 8"),
        (DARTS_V2.replace("('sep_conv_3x3', 0)", "(0, 'sep_conv_3x3')", 1), "op must be a string"),
        (DARTS_V2.replace("('sep_conv_3x3', 0)", "('sep_conv_3x3', '0')", 1), "input must be an int"),
        (DARTS_V2.replace("('sep_conv_3x3', 0)", "('sep_conv_3x3', 0, 1)", 1), "pair 0 must be an (op, in"),
        (DARTS_V2.replace("('sep_conv_3x3', 0)", "__import__('os').getcwd()", 1), "unexpected characters"),
        (DARTS_V2.replace("('sep_conv_3x3', 0)", "('sep_conv_3x3' 0)", 1), "not a Python literal"),
        (DARTS_V2.replace("normal=[", "normal=[[", 1), "unclosed bracket"),
        (DARTS_V2[:-1] + ", 7)", "unexpected positional argument"),
        ("[[(0, 0), (1, 5)]]", "must be [normal, reduce]"),
        ("[[(0, 0)] * 8, [(0, 0)] * 8]", "unexpected characters"),
        ("[[(0, 0), (1, 5)], [(0, 0), (1, 5)]]", "normal must be a list of 8"),
        ("[" + ", ".join(["[" + ", ".join(["(0, 7)"] * 8) + "]"] * 2) + "]", "op index must be in [0, 7)"),
        ("[" + ", ".join(["[" + ", ".join(["(0, 1, 2)"] * 8) + "]"] * 2) + "]", "must be an (input, op_idx)"),
        ("[[(0, 0), (1, 5)", "not a Python literal"),
    ],
)
def test_malformed_text_names_the_problem(text, problem):
    with pytest.raises(InvalidCellError, match=re.escape(problem)):
        SPACE.parse(text)


def test_parse_rejects_non_strings():
    with pytest.raises(InvalidCellError, match="must be a string"):
        SPACE.parse(None)  # type: ignore[arg-type]
    with pytest.raises(InvalidCellError, match="must be a string"):
        SPACE.parse_compact(b"[]")  # type: ignore[arg-type]


def test_cell_construction_checks_shape_and_normalizes():
    pairs = [["sep_conv_3x3", np.int64(0)], ("skip_connect", 1)] * 4
    cell = DARTSCell(pairs, tuple(map(tuple, pairs)))  # type: ignore[arg-type]
    assert cell.normal == cell.reduce and type(cell.normal[0]) is tuple and type(cell.normal[0][1]) is int
    assert hash(cell) == hash(DARTSCell(cell.normal, cell.reduce))
    for bad, problem in [
        (pairs[:7], "needs exactly 8"),
        ("sep_conv_3x3", "must be a sequence"),
        ([("sep_conv_3x3", True)] * 8, "input must be an int"),
        ([("sep_conv_3x3", 1.0)] * 8, "input must be an int"),
        ([(3, 1)] * 8, "op must be a string"),
        ([("sep_conv_3x3",)] * 8, "must be an (op, input) pair"),
    ]:
        with pytest.raises(InvalidCellError, match=re.escape(problem)):
            DARTSCell(cell.normal, bad)  # type: ignore[arg-type]


def test_format_compact_refuses_none():
    cell = A2V.parse(DARTS_V2.replace("('max_pool_3x3', 0)", "('none', 0)", 1))
    assert A2V.validate(cell)
    with pytest.raises(InvalidCellError, match="'none' has no index"):
        A2V.format_compact(cell)


# --- validity ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        ("('dil_conv_3x3', 2)", "('dil_conv_3x3', 5)", "normal cell, node 5: input 5 is not an earlier node"),
        ("('sep_conv_3x3', 0)", "('sep_conv_3x3', 2)", "normal cell, node 2: input 2 is not an earlier node"),
        ("('sep_conv_3x3', 0)", "('sep_conv_3x3', -1)", "input -1 is not an earlier node"),
        ("('sep_conv_3x3', 0)", "('sep_conv_3x3', 1)", "normal cell, node 2: both inputs are node 1"),
        ("('max_pool_3x3', 0)", "('conv_7x1_1x7', 0)", "reduce cell, node 2: unknown op 'conv_7x1_1x7'"),
    ],
)
def test_invalid_cells_are_refused_with_reasons(old, new, problem):
    cell = SPACE.parse(DARTS_V2.replace(old, new, 1))
    validity = SPACE.validate(cell)
    assert not validity and problem in validity.reason
    for method in (SPACE.canonical_id, SPACE.to_graph, SPACE.check):
        with pytest.raises(InvalidCellError, match=re.escape(problem)):
            method(cell)


def test_none_only_in_arch2vec_variant():
    cell = SPACE.parse(DARTS_V2.replace("('skip_connect', 0)", "('none', 0)"))
    assert "unknown op 'none'" in SPACE.validate(cell).reason
    assert A2V.validate(cell)
    graph = A2V.to_graph(cell)
    assert A2V.from_graph(graph.adjacency, graph.ops) == cell
    assert A2V.canonical_id(cell) != A2V.canonical_id(v2_cell())


def test_variants_and_registry():
    assert SPACE.name == "darts" and SPACE.text_column == "genotype" and SPACE.num_nodes == 22
    assert SPACE.node_vocab == ("<pad>", "c_k-2", "c_k-1", *NASLIB_OPS, "output")
    assert A2V.node_vocab == ("<pad>", "c_k-2", "c_k-1", "none", *NASLIB_OPS, "output")
    assert get_space("darts", ops="arch2vec").node_vocab == A2V.node_vocab
    with pytest.raises(ValueError, match="unknown DARTS op set"):
        DARTSSpace(ops="nb301")
    with pytest.raises(NotImplementedError):
        next(SPACE.enumerate())


# --- canonical id -----------------------------------------------------------------------------------------
@PROPERTY
@given(st.data())
def test_canonical_id_invariant_under_pair_swaps_and_relabelings(data):
    normal, reduce = data.draw(half_cells()), data.draw(half_cells())
    twin = DARTSCell(data.draw(relabelings(normal)), data.draw(relabelings(reduce)))
    assert SPACE.validate(twin)
    assert SPACE.canonical_id(twin) == SPACE.canonical_id(DARTSCell(normal, reduce))


@PROPERTY
@given(st.data())
def test_canonical_id_equal_exactly_for_equivalent_cells(data):
    cell = data.draw(half_cells(ops=NASLIB_OPS[:2]))  # few ops: mutations often land on a twin
    other = list(data.draw(relabelings(cell)))
    i = data.draw(st.integers(0, 7))
    op, node = other[i]
    other[i] = (data.draw(st.sampled_from(NASLIB_OPS[:2])), data.draw(st.integers(0, i // 2 + 1)))
    other = tuple(other)
    assume(SPACE.validate(DARTSCell(other, other)))
    same = SPACE.canonical_id(DARTSCell(cell, cell)) == SPACE.canonical_id(DARTSCell(other, other))
    assert same == equivalent(cell, other)


def test_canonical_id_separates_same_expression_different_wiring():
    # Nodes 2 and 3 compute the same expression; node 5 reads them crossed vs. like node 4. A per-node
    # expression string would merge these, but no renaming maps one onto the other.
    base = [("sep_conv_3x3", 0), ("skip_connect", 1)] * 2 + [("max_pool_3x3", 2), ("avg_pool_3x3", 3)]
    like = tuple(base + [("max_pool_3x3", 2), ("avg_pool_3x3", 3)])
    crossed = tuple(base + [("max_pool_3x3", 3), ("avg_pool_3x3", 2)])
    assert not equivalent(like, crossed)
    assert SPACE.canonical_id(DARTSCell(like, like)) != SPACE.canonical_id(DARTSCell(crossed, like))


def test_canonical_id_distinguishes_normal_from_reduce():
    cell = v2_cell()
    swapped = DARTSCell(cell.reduce, cell.normal)
    assert SPACE.canonical_id(cell) != SPACE.canonical_id(swapped)
    assert SPACE.canonical_id(cell).split("_") == SPACE.canonical_id(swapped).split("_")[::-1]


@PROPERTY
@given(half_cells(), half_cells())
def test_canonical_id_is_a_canonical_compact_form(normal, reduce):
    # The id's digits are the compact form of a member of the class: reading it back gives the same id.
    ident = SPACE.canonical_id(DARTSCell(normal, reduce))
    assert re.fullmatch(r"\d{16}_\d{16}", ident)
    halves = [[(int(h[j]), int(h[j + 1])) for j in range(0, 16, 2)] for h in ident.split("_")]
    assert SPACE.canonical_id(SPACE.parse_compact(str(halves))) == ident


@pytest.mark.parametrize("num_ops", [1, 2])
def test_exhaustive_small_op_sets_match_class_count(num_ops):
    # Every cell over num_ops ops (reduce fixed): the number of distinct ids equals the independent
    # Burnside-style count of count_cells, so ids neither split nor merge classes.
    fixed = v2_cell().normal
    ids = set()
    for inputs in itertools.product(*(itertools.combinations(range(k), 2) for k in NODES)):
        for ops in itertools.product(NASLIB_OPS[:num_ops], repeat=8):
            pairs = tuple((ops[i], inputs[i // 2][i % 2]) for i in range(8))
            ids.add(SPACE.canonical_id(DARTSCell(pairs, fixed)))
    assert len(ids) == count_cells(num_ops)
    assert SPACE.size() == count_cells(7) ** 2 and A2V.size() == count_cells(8) ** 2


# --- graph encoding ---------------------------------------------------------------------------------------
def expected_edges(cell: DARTSCell) -> set[tuple[int, int]]:
    edges = set()
    for off, pairs in ((0, cell.normal), (11, cell.reduce)):
        for i, (_, node) in enumerate(pairs):
            slot = off + 2 + i
            edges.add((slot, off + 10))
            sources = [node] if node < 2 else [2 + 2 * (node - 2), 3 + 2 * (node - 2)]
            edges.update((off + s, slot) for s in sources)
    return edges


def test_graph_encoding_follows_arch2vec_layout():
    rng = random.Random(3)
    union = np.zeros((22, 22), dtype=bool)
    for _ in range(400):
        cell = SPACE.random_cell(rng)
        graph = SPACE.to_graph(cell)
        assert graph.adjacency.dtype == np.int8 and graph.ops.dtype == np.int64 and graph.mask.all()
        assert set(zip(*map(list, np.nonzero(graph.adjacency)))) == expected_edges(cell)
        labels = [SPACE.node_vocab[i] for i in graph.ops]
        for off, pairs in ((0, cell.normal), (11, cell.reduce)):
            assert labels[off : off + 2] == ["c_k-2", "c_k-1"] and labels[off + 10] == "output"
            assert labels[off + 2 : off + 10] == [op for op, _ in pairs]
        union |= graph.adjacency.astype(bool)
    # every allowed entry is used by some cell, and no cell uses one outside the mask
    assert (union == SPACE.adjacency_mask()).all()
    assert not np.tril(SPACE.adjacency_mask()).any()
    assert not SPACE.adjacency_mask()[:11, 11:].any()


OP_NODE_2 = "graph node 2 (normal cell, op-node 0 of intermediate node 2)"
OP_NODE_5 = "graph node 5 (normal cell, op-node 1 of intermediate node 3)"
OP_NODE_9 = "graph node 9 (normal cell, op-node 1 of intermediate node 5)"


@pytest.mark.parametrize(
    ("edges", "labels", "problem"),
    [
        ({}, {0: "sep_conv_3x3"}, "graph node 0 must be 'c_k-2'"),
        ({}, {21: "<pad>"}, "reduce cell: graph node 21 must be 'output', got '<pad>'"),
        ({}, {5: "output"}, f"{OP_NODE_5} must carry an op label"),
        ({}, {5: "c_k-1"}, f"{OP_NODE_5} must carry an op label"),
        ({(5, 10): 0}, {}, f"{OP_NODE_5} has no edge to the output node 10"),
        ({(1, 2): 1}, {}, f"{OP_NODE_2} must have as predecessors exactly"),
        ({(0, 2): 0}, {}, f"{OP_NODE_2} must have as predecessors exactly"),
        ({(3, 9): 0}, {}, f"{OP_NODE_9} must have as predecessors exactly"),
        ({(3, 9): 0, (4, 9): 1}, {}, "got [2, 4]"),
        ({(0, 10): 1}, {}, "edge the space does not allow"),
        ({(9, 13): 1}, {}, "edge the space does not allow"),
        ({(10, 9): 1}, {}, "strictly upper triangular"),
        ({}, {3: 99}, "op ids must be in"),
    ],
)
def test_malformed_graphs_name_the_problem(edges, labels, problem):
    graph = SPACE.to_graph(v2_cell())
    adjacency, ops = graph.adjacency.copy(), graph.ops.copy()
    for (i, j), value in edges.items():
        adjacency[i, j] = value
    for i, label in labels.items():
        ops[i] = SPACE.node_vocab.index(label) if isinstance(label, str) else label
    with pytest.raises(InvalidCellError, match=re.escape(problem)):
        SPACE.from_graph(adjacency, ops)
    decoded = SPACE.decode_graph(adjacency, ops)
    assert not decoded.valid and decoded.cell is None and problem in decoded.reason


def test_graph_with_duplicate_inputs_decodes_to_an_invalid_cell():
    graph = SPACE.to_graph(v2_cell())
    adjacency, ops = graph.adjacency.copy(), graph.ops
    adjacency[0, 3], adjacency[1, 3] = 1, 0  # node 2's second op-node now also reads c_{k-2}
    cell = SPACE.from_graph(adjacency, ops)
    assert cell.normal[1] == ("sep_conv_3x3", 0)
    decoded = SPACE.decode_graph(adjacency, ops)
    assert decoded.cell == cell and not decoded.valid and "both inputs are node 0" in decoded.reason


def test_wrong_shapes_and_dtypes():
    adjacency, ops = SPACE.to_graph(v2_cell()).adjacency, SPACE.to_graph(v2_cell()).ops
    with pytest.raises(InvalidCellError, match="shape"):
        SPACE.from_graph(adjacency[:11, :11], ops[:11])
    with pytest.raises(InvalidCellError, match="integers"):
        SPACE.from_graph(adjacency.astype(float), ops)


@PROPERTY
@given(
    st.one_of(
        hnp.arrays(np.int64, (22, 22), elements=st.integers(-1, 2)),
        hnp.arrays(np.int8, (22, 22), elements=st.integers(0, 1)).map(lambda a: a * SPACE.adjacency_mask()),
        hnp.arrays(np.int64, hnp.array_shapes(min_dims=0, max_dims=3, max_side=23), elements=st.just(0)),
    ),
    st.one_of(
        hnp.arrays(np.int64, (22,), elements=st.integers(-1, SPACE.num_ops)),
        hnp.arrays(np.float32, (22,), elements=st.floats(0, 5, width=32)),
        st.just(SPACE.to_graph(SPACE.parse(DARTS_V2)).ops),
    ),
)
def test_decode_graph_never_raises(adjacency, ops):
    decoded = SPACE.decode_graph(adjacency, ops)
    assert decoded.valid == (decoded.id is not None)
    if decoded.valid:
        graph = SPACE.to_graph(decoded.cell)
        assert (graph.adjacency == adjacency).all() and (graph.ops == ops).all()
        assert decoded.id == SPACE.canonical_id(decoded.cell)


@PROPERTY
@given(half_cells(), half_cells(), st.data())
def test_decode_graph_of_perturbed_encodings(normal, reduce, data):
    cell = DARTSCell(normal, reduce)
    graph = SPACE.to_graph(cell)
    adjacency, ops = graph.adjacency.copy(), graph.ops.copy()
    allowed = list(zip(*np.nonzero(SPACE.adjacency_mask())))
    for i, j in data.draw(st.lists(st.sampled_from(allowed), max_size=3)):
        adjacency[i, j] ^= 1
    for i in data.draw(st.lists(st.integers(0, 21), max_size=2)):
        ops[i] = data.draw(st.integers(0, SPACE.num_ops - 1))
    decoded = SPACE.decode_graph(adjacency, ops)
    assert decoded.valid == (decoded.id is not None)
    if decoded.valid:  # a valid decode re-encodes to exactly the arrays it came from
        again = SPACE.to_graph(decoded.cell)
        assert (again.adjacency == adjacency).all() and (again.ops == ops).all()
    if (adjacency == graph.adjacency).all() and (ops == graph.ops).all():
        assert decoded.cell == cell and decoded.id == SPACE.canonical_id(cell)


@PROPERTY
@given(half_cells(ops=A2V.ops), half_cells(ops=A2V.ops))
def test_graph_round_trip_is_exact(normal, reduce):
    cell = DARTSCell(normal, reduce)
    graph = A2V.to_graph(cell)
    assert A2V.from_graph(graph.adjacency, graph.ops) == cell
    assert A2V.decode_graph(graph.adjacency, graph.ops).id == A2V.canonical_id(cell)
    record = A2V.to_record(cell)
    assert record["num_vertices"] == 22 and record["num_edges"] == len(expected_edges(cell))
    assert A2V.parse(record["genotype"]) == cell


# --- sampling ---------------------------------------------------------------------------------------------
def test_samples_are_valid_unique_and_seeded():
    cells = SPACE.sample(2000, seed=7)
    assert all(SPACE.validate(c) for c in cells)
    assert len({SPACE.canonical_id(c) for c in cells}) == 2000
    assert cells[:50] == SPACE.sample(50, seed=7) and cells[:50] != SPACE.sample(50, seed=8)


def test_random_cell_is_uniform_over_inputs_and_ops():
    rng = random.Random(0)
    cells = [A2V.random_cell(rng) for _ in range(3000)]
    inputs_of_node_3 = [frozenset(n for _, n in c.reduce[2:4]) for c in cells]
    for pair in ({0, 1}, {0, 2}, {1, 2}):
        assert 0.28 < inputs_of_node_3.count(frozenset(pair)) / len(cells) < 0.39
    ops = [op for c in cells for pairs in c.cells() for op, _ in pairs]
    for op in A2V.ops:
        assert 0.10 < ops.count(op) / len(ops) < 0.15  # 1/8 each
    first_inputs = [c.normal[6][1] for c in cells]  # node 5's first input: uniform over 0..4
    assert all(0.16 < first_inputs.count(n) / len(cells) < 0.24 for n in range(5))
