"""NAS-Bench-201 space: text form, ids, connectivity, graph encoding, enumeration order vs the NATS table."""

from __future__ import annotations

import csv
import random
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from archllm_hf.data import load_nb201_metrics
from archllm_hf.errors import InvalidCellError
from archllm_hf.spaces import NB201Cell, NB201Space, get_space
from archllm_hf.spaces.nb201 import EDGES, OPS

CSV_NAME = "nb201/nats_tss_test_acc_200ep.csv"
SPACE = NB201Space()
VOCAB = SPACE.node_vocab

cells = st.tuples(*[st.sampled_from(OPS)] * 6).map(NB201Cell)


@pytest.fixture(scope="module")
def nats_rows(shared_data: Path) -> list[dict[str, str]]:
    with open(shared_data / CSV_NAME, newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def all_cells() -> list[NB201Cell]:
    return list(SPACE.enumerate())


def arch(*ops: str) -> str:
    return "|{}~0|+|{}~0|{}~1|+|{}~0|{}~1|{}~2|".format(*ops)


def cell_of(*ops: str) -> NB201Cell:
    return SPACE.parse(arch(*ops))


NO, SK, C1, C3, AP = OPS


# --- space attributes ------------------------------------------------------------------------------


def test_space_attributes() -> None:
    assert get_space("nb201").name == SPACE.name == "nb201"
    assert SPACE.text_column == "arch_str"
    assert SPACE.num_nodes == 8
    assert VOCAB == (
        "<pad>",
        "input",
        "none",
        "skip_connect",
        "nor_conv_1x1",
        "nor_conv_3x3",
        "avg_pool_3x3",
        "output",
    )


def test_adjacency_mask_is_the_arch2vec_template() -> None:
    expected = np.zeros((8, 8), dtype=bool)
    for src, targets in {0: (1, 2, 4), 1: (3, 5), 2: (6,), 3: (6,), 4: (7,), 5: (7,), 6: (7,)}.items():
        expected[src, list(targets)] = True
    assert SPACE.adjacency_mask().dtype == np.bool_
    np.testing.assert_array_equal(SPACE.adjacency_mask(), expected)


# --- the whole space against the NATS-Bench table --------------------------------------------------


def test_enumeration_order_matches_nb201_index_order(nats_rows, all_cells) -> None:
    assert len(all_cells) == len(nats_rows) == 5**6
    assert [SPACE.format(c) for c in all_cells] == [r["ArchitectureString"] for r in nats_rows]
    assert len(set(all_cells)) == len(all_cells)
    for i in (0, 1, 6111, len(all_cells) - 1):
        assert SPACE.index(all_cells[i]) == i
        assert SPACE.cell_at(i) == all_cells[i]
    with pytest.raises(IndexError):
        SPACE.cell_at(len(all_cells))


def test_isomorphism_id_equals_unique_string_column(nats_rows, all_cells) -> None:
    ours = [SPACE.isomorphism_id(c) for c in all_cells]
    mismatches = [(r["ArchitectureString"], o) for r, o in zip(nats_rows, ours) if o != r["UniqueString"]]
    assert mismatches == []
    assert len(set(ours)) == 6466
    assert len({SPACE.canonical_id(c) for c in all_cells}) == len(all_cells)


def test_disconnected_cells_are_exactly_the_chance_level_ones(nats_rows, all_cells) -> None:
    disconnected = {SPACE.format(c) for c in all_cells if not SPACE.is_connected(c)}
    assert len(disconnected) == 341
    chance = {r["ArchitectureString"] for r in nats_rows if float(r["CIFAR10TestAccuracy200Epochs"]) == 10.0}
    assert disconnected == chance


def test_every_cell_is_valid_including_disconnected(all_cells) -> None:
    assert all(SPACE.validate(c) for c in all_cells)
    assert not SPACE.validate("not a cell")  # type: ignore[arg-type]


def test_is_connected_examples() -> None:
    assert not SPACE.is_connected(NB201Cell(("none",) * 6))
    assert SPACE.is_connected(cell_of(NO, NO, NO, SK, NO, NO))
    # a path exists into node 2 only through node 1, which itself is cut off
    assert not SPACE.is_connected(cell_of(NO, NO, C3, NO, NO, SK))


# --- isomorphism id on hand-checkable examples -------------------------------------------------------


def test_isomorphism_id_skip_edge_makes_nodes_interchangeable() -> None:
    # With 0->1 a skip connection, node 1 equals node 0, so swapping the ops on the edges leaving
    # nodes 0 and 1 towards the same target computes the same function; the arch strings differ.
    # a: node2 = conv3(x0) + conv1(node1), node3 = avg(x0) + conv3(node1); b swaps each pair.
    a = cell_of(SK, C3, C1, AP, C3, NO)
    b = cell_of(SK, C1, C3, C3, AP, NO)
    assert SPACE.canonical_id(a) != SPACE.canonical_id(b)
    assert SPACE.isomorphism_id(a) == SPACE.isomorphism_id(b)
    # changing an op on a live path changes the function and the id
    c = cell_of(SK, C1, C3, C3, C3, NO)
    assert SPACE.isomorphism_id(c) != SPACE.isomorphism_id(a)


def test_isomorphism_id_ignores_ops_after_a_zero_node() -> None:
    # 0->1 is `none`, so node 1 is zero and the ops on 1->2 and 1->3 cannot matter: 25 cells, one id.
    ids = {SPACE.isomorphism_id(cell_of(NO, C3, x, SK, y, AP)) for x in OPS for y in OPS}
    assert len(ids) == 1


# --- text form ---------------------------------------------------------------------------------------


@given(cells)
def test_parse_format_round_trip(cell: NB201Cell) -> None:
    text = SPACE.format(cell)
    assert SPACE.parse(text) == cell
    assert SPACE.canonical_id(cell) == text
    assert text == arch(*cell.ops)


GOOD = arch(C3, SK, NO, AP, C1, SK)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "empty"),
        (" " + GOOD, "whitespace"),
        (GOOD.replace("+", " +", 1), "whitespace"),
        (GOOD + "\n", "whitespace"),
        (GOOD.rsplit("+", 1)[0], "expected 3 nodes"),
        (GOOD + "+|none~0|none~1|none~2|none~3|", "expected 3 nodes"),
        (GOOD.replace("+", "", 1), "expected 3 nodes"),
        (GOOD[1:], "must start and end with '|'"),
        (GOOD[:-1], "must start and end with '|'"),
        (GOOD.replace("|+|", "+|", 1), "must start and end with '|'"),
        ("|nor_conv_3x3~0|+|skip_connect~0|+|none~0|none~1|skip_connect~2|", "2 incoming edge(s), got 1"),
        ("|a~0|b~1|+|c~0|d~1|+|e~0|f~1|g~2|", "1 incoming edge(s), got 2"),
        (GOOD.replace("|none~1|", "|none~1||", 1), "2 incoming edge(s), got 3"),
        (GOOD.replace("none~1", "none1", 1), "must look like 'op~1'"),
        (GOOD.replace("none~1", "none~~1", 1), "must look like 'op~1'"),
        (GOOD.replace("none~1", "none~0", 1), "must end in '~1'"),
        (GOOD.replace("nor_conv_3x3~0", "nor_conv_3x3~1", 1), "must end in '~0'"),
        (GOOD.replace("none~1", "none~01", 1), "must end in '~1'"),
        (GOOD.replace("none~1", "none~", 1), "must end in '~1'"),
        (GOOD.replace("nor_conv_3x3", "conv3x3", 1), "unknown op 'conv3x3'"),
        (GOOD.replace("none", "None", 1), "unknown op 'None'"),
        (GOOD.replace("none~1", "~1", 1), "unknown op ''"),
    ],
)
def test_malformed_arch_strings_raise(text: str, problem: str) -> None:
    with pytest.raises(InvalidCellError, match="invalid NB201 arch string") as info:
        SPACE.parse(text)
    assert problem in str(info.value)


def test_parse_rejects_non_strings() -> None:
    with pytest.raises(InvalidCellError, match="must be a str"):
        SPACE.parse(None)  # type: ignore[arg-type]


@settings(max_examples=300)
@given(cells, st.data())
def test_parse_never_returns_a_silently_wrong_cell(cell: NB201Cell, data: st.DataObject) -> None:
    text = SPACE.format(cell)
    i = data.draw(st.integers(0, len(text)))
    j = data.draw(st.integers(i, min(len(text), i + 4)))
    mutated = text[:i] + data.draw(st.text(alphabet="|+~012 _nonecv", max_size=3)) + text[j:]
    try:
        parsed = SPACE.parse(mutated)
    except InvalidCellError:
        return
    assert SPACE.format(parsed) == mutated


@given(st.text(max_size=60))
def test_parse_arbitrary_text_raises_only_invalid_cell_error(text: str) -> None:
    try:
        parsed = SPACE.parse(text)
    except InvalidCellError:
        return
    assert SPACE.format(parsed) == text


def test_cell_construction_is_validated() -> None:
    assert NB201Cell(list(OPS) + ["none"]).ops == (*OPS, "none")  # type: ignore[arg-type]
    assert hash(NB201Cell(("none",) * 6)) == hash(NB201Cell(("none",) * 6))
    with pytest.raises(InvalidCellError, match="exactly 6 edge ops, got 5"):
        NB201Cell(("none",) * 5)
    with pytest.raises(InvalidCellError, match="unknown NB201 op 'conv' on edge 1->3"):
        NB201Cell(("none",) * 4 + ("conv", "none"))
    with pytest.raises(InvalidCellError, match="sequence"):
        NB201Cell("none")  # type: ignore[arg-type]
    with pytest.raises(InvalidCellError):
        SPACE.format(("none",) * 6)  # type: ignore[arg-type]


# --- graph encoding ----------------------------------------------------------------------------------


@given(cells)
def test_graph_round_trip(cell: NB201Cell) -> None:
    graph = SPACE.to_graph(cell)
    assert graph.adjacency.dtype == np.int8 and graph.ops.dtype == np.int64 and graph.mask.dtype == np.bool_
    np.testing.assert_array_equal(graph.adjacency.astype(bool), SPACE.adjacency_mask())
    assert graph.mask.all()
    labels = [VOCAB[i] for i in graph.ops]
    assert labels == ["input", *cell.ops, "output"]
    assert SPACE.from_graph(graph.adjacency, graph.ops) == cell
    decoded = SPACE.decode_graph(graph.adjacency, graph.ops)
    assert decoded.valid and decoded.cell == cell and decoded.id == SPACE.format(cell)


def test_to_record() -> None:
    cell = SPACE.parse(GOOD)
    record = SPACE.to_record(cell)
    assert record["id"] == record["arch_str"] == GOOD
    assert record["operations"] == ["input", *cell.ops, "output"]
    assert record["num_vertices"] == 8 and record["num_edges"] == int(SPACE.adjacency_mask().sum())


def _good_graph() -> tuple[np.ndarray, np.ndarray]:
    graph = SPACE.to_graph(SPACE.parse(GOOD))
    return graph.adjacency.copy(), graph.ops.copy()


def _missing_edge(adj, ops):
    adj[1, 5] = 0
    return adj, ops


def _extra_edge(adj, ops):
    adj[1, 2] = 1
    return adj, ops


def _set_op(node: int, label: str):
    def change(adj, ops):
        ops[node] = VOCAB.index(label)
        return adj, ops

    return change


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (_missing_edge, "lacks template edge(s) 1->5"),
        (_extra_edge, "edge the space does not allow"),
        (lambda a, o: (a.T.copy(), o), "strictly upper triangular"),
        (lambda a, o: (a * 2, o), "0 or 1"),
        (lambda a, o: (a.astype(float), o), "integers"),
        (lambda a, o: (a[:7, :7], o), "shape (8, 8)"),
        (lambda a, o: (a, o[:7]), "shape (8,)"),
        (lambda a, o: (a, o + 10), "op ids must be in"),
        (_set_op(0, "none"), "node 0 must be 'input', got 'none'"),
        (_set_op(7, "skip_connect"), "node 7 must be 'output', got 'skip_connect'"),
        (_set_op(3, "<pad>"), "node 3 must be one of"),
        (_set_op(4, "input"), "node 4 must be one of"),
        (_set_op(6, "output"), "got 'output'"),
    ],
)
def test_malformed_graphs_raise(change, problem: str) -> None:
    adjacency, ops = change(*_good_graph())
    with pytest.raises(InvalidCellError) as info:
        SPACE.from_graph(adjacency, ops)
    assert problem in str(info.value)
    decoded = SPACE.decode_graph(adjacency, ops)
    assert not decoded.valid and decoded.cell is None and problem in decoded.reason


adjacency_shapes = st.one_of(st.just((8, 8)), hnp.array_shapes(min_dims=0, max_dims=3, max_side=9))
ops_shapes = st.one_of(st.just((8,)), hnp.array_shapes(min_dims=0, max_dims=2, max_side=9))


@settings(max_examples=200)
@given(
    hnp.arrays(np.int64, adjacency_shapes, elements=st.integers(-2, 2)),
    hnp.arrays(np.int64, ops_shapes, elements=st.integers(-2, 9)),
)
def test_decode_graph_never_raises(adjacency: np.ndarray, ops: np.ndarray) -> None:
    decoded = SPACE.decode_graph(adjacency, ops)
    assert decoded.valid == (decoded.cell is not None)


@settings(max_examples=200)
@given(hnp.arrays(np.int64, (8,), elements=st.integers(0, len(VOCAB) - 1)))
def test_decode_graph_on_template_is_valid_iff_labels_are_legal(ops: np.ndarray) -> None:
    labels = [VOCAB[i] for i in ops]
    legal = labels[0] == "input" and labels[-1] == "output" and all(x in OPS for x in labels[1:-1])
    decoded = SPACE.decode_graph(SPACE.adjacency_mask().astype(np.int8), ops)
    assert decoded.valid == legal
    if legal:
        assert decoded.cell.ops == tuple(labels[1:-1])


# --- sampling ----------------------------------------------------------------------------------------


def test_random_cell_is_uniform_per_edge() -> None:
    rng = random.Random(0)
    draws = [SPACE.random_cell(rng) for _ in range(5000)]
    for edge in range(6):
        counts = Counter(c.ops[edge] for c in draws)
        assert set(counts) == set(OPS)
        assert all(abs(n / 5000 - 1 / 5) < 0.03 for n in counts.values())
    assert len(set(draws)) > 4000  # 5000 uniform draws from 15,625 give about 4,300 distinct cells


def test_sample_is_seeded_and_unique() -> None:
    first = SPACE.sample(300, seed=3)
    assert first == SPACE.sample(300, seed=3)
    assert len(set(first)) == 300


# --- metrics table -----------------------------------------------------------------------------------


def test_load_nb201_metrics(shared_data: Path, nats_rows, all_cells) -> None:
    metrics = load_nb201_metrics(shared_data / CSV_NAME)
    assert list(metrics) == [SPACE.canonical_id(c) for c in all_cells]
    row = nats_rows[6111]
    assert metrics[row["ArchitectureString"]] == {
        "cifar10_test_acc_200ep": float(row["CIFAR10TestAccuracy200Epochs"]),
        "cifar100_test_acc_200ep": float(row["CIFAR100TestAccuracy200Epochs"]),
        "imagenet16_test_acc_200ep": float(row["ImageNetTestAccuracy200Epochs"]),
    }


def test_load_nb201_metrics_errors(tmp_path: Path) -> None:
    header = "CIFAR10TestAccuracy200Epochs,CIFAR100TestAccuracy200Epochs,ArchitectureString\n"
    missing = tmp_path / "missing.csv"
    missing.write_text(header + f"90,70,{GOOD}\n")
    with pytest.raises(ValueError, match="lacks column.*ImageNetTestAccuracy200Epochs"):
        load_nb201_metrics(missing)

    header = header.replace(",Arch", ",ImageNetTestAccuracy200Epochs,Arch")
    bad_arch = tmp_path / "bad_arch.csv"
    bad_arch.write_text(header + f"90,70,40,{GOOD[:-1]}\n")
    with pytest.raises(InvalidCellError, match="line 2"):
        load_nb201_metrics(bad_arch)
    bad_value = tmp_path / "bad_value.csv"
    bad_value.write_text(header + f"90,x,40,{GOOD}\n")
    with pytest.raises(ValueError, match="CIFAR100TestAccuracy200Epochs is not a finite number"):
        load_nb201_metrics(bad_value)
    duplicate = tmp_path / "duplicate.csv"
    duplicate.write_text(header + f"90,70,40,{GOOD}\n91,71,41,{GOOD}\n")
    with pytest.raises(ValueError, match="line 3.*appears twice"):
        load_nb201_metrics(duplicate)


def test_live_graphs_keep_exactly_the_edges_on_a_signal_path() -> None:
    """Against the cell-level definition: an op node (one per cell edge) is live when its op is not ``none`` and
    both its cell nodes lie on an input→output path (``dead_nodes``); live edges join live nodes, input and
    output as in the full graph."""
    all_cells = list(SPACE.enumerate())
    full, ops, _ = SPACE.to_graphs(all_cells)
    live, live_ops, _ = SPACE.to_graphs(all_cells, live_only=True)
    assert (live_ops == ops).all() and (live <= full).all()
    output = SPACE.num_nodes - 1
    for row, cell in enumerate(all_cells):
        dead = set(SPACE.dead_nodes(cell))
        alive = {0, output} | {
            k + 1
            for k, ((src, dst), op) in enumerate(zip(EDGES, cell.ops))
            if op != "none" and not {src, dst} & dead
        }
        if dead == {0, 1, 2, 3}:
            alive = set()
        expected = full[row] * np.isin(np.arange(SPACE.num_nodes), sorted(alive))[:, None]
        expected = expected * np.isin(np.arange(SPACE.num_nodes), sorted(alive))[None, :]
        assert (live[row] == expected).all(), SPACE.format(cell)
        assert live[row].any() == SPACE.is_connected(cell)


@pytest.mark.parametrize("name", ["nb101", "darts"])
def test_live_graphs_of_spaces_without_zero_ops_are_the_graphs(name: str) -> None:
    space = get_space(name)
    cells = space.sample(100, seed=3)
    assert all((a == b).all() for a, b in zip(space.to_graphs(cells), space.to_graphs(cells, live_only=True)))
