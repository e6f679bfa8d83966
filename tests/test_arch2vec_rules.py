"""arch2vec's validity rules for decoded graphs (``archllm_hf.spaces.arch2vec_rules``)."""

from __future__ import annotations

import numpy as np
import pytest

from archllm_hf.spaces import get_space
from archllm_hf.spaces.arch2vec_rules import arch2vec_valid, arch2vec_valid_cells


def _ids(space, labels):
    return np.array([space.node_vocab.index(label) for label in labels])


# --- NAS-Bench-201: labels only ----------------------------------------------------------------------------
def test_nb201_arch2vec_validity_is_laxer_than_decode_graph():
    space = get_space("nb201")
    graph = space.to_graph(space.sample(1, seed=0)[0])
    assert arch2vec_valid(space, graph.adjacency, graph.ops)
    assert space.decode_graph(graph.adjacency, graph.ops).valid
    ops = graph.ops.copy()
    ops[1] = space.node_vocab.index("input")  # node 1 is not checked by arch2vec
    assert arch2vec_valid(space, graph.adjacency, ops)
    assert not space.decode_graph(graph.adjacency, ops).valid
    empty = np.zeros_like(graph.adjacency)  # arch2vec ignores the adjacency
    assert arch2vec_valid(space, empty, graph.ops) and not space.decode_graph(empty, graph.ops).valid
    for node, label in ((0, "none"), (7, "none"), (3, "output"), (6, "<pad>")):
        bad = graph.ops.copy()
        bad[node] = space.node_vocab.index(label)
        assert not arch2vec_valid(space, graph.adjacency, bad), (node, label)


# --- NAS-Bench-101: nasbench's is_valid(ModelSpec) with every slot a vertex --------------------------------
def test_nb101_arch2vec_validity_prunes_before_checking():
    space = get_space("nb101")
    labels = ["input", "conv3x3-bn-relu", "maxpool3x3", "conv1x1-bn-relu", "<pad>", "<pad>", "output"]
    adjacency = np.zeros((7, 7), dtype=np.int64)
    adjacency[0, 1] = adjacency[1, 6] = 1
    adjacency[2, 3] = 1  # dangling vertices 2 and 3: pruned away, so still valid
    ops = _ids(space, labels)
    assert arch2vec_valid(space, adjacency, ops) and space.decode_graph(adjacency, ops).valid
    on_path = adjacency.copy()
    on_path[1, 4] = on_path[4, 6] = 1  # a <pad> vertex on an input-output path is not an op
    assert not arch2vec_valid(space, on_path, ops)
    disconnected = np.zeros((7, 7), dtype=np.int64)
    disconnected[0, 1] = 1
    assert not arch2vec_valid(space, disconnected, ops)
    too_many = np.triu(np.ones((7, 7), dtype=np.int64), 1)  # 21 edges after pruning (> 9)
    assert not arch2vec_valid(space, too_many, _ids(space, ["input"] + ["conv3x3-bn-relu"] * 5 + ["output"]))
    wrong_end = ops.copy()
    wrong_end[6] = space.node_vocab.index("conv3x3-bn-relu")
    assert not arch2vec_valid(space, adjacency, wrong_end)


def test_nb101_pad_slots_at_the_ends_of_a_path_are_invalid():
    space = get_space("nb101")
    adjacency = np.zeros((7, 7), dtype=np.int64)
    adjacency[0, 1] = adjacency[1, 6] = 1
    middle = ["conv3x3-bn-relu"] + ["maxpool3x3"] * 4
    assert arch2vec_valid(space, adjacency, _ids(space, ["input", *middle, "output"]))
    assert not arch2vec_valid(space, adjacency, _ids(space, ["<pad>", *middle, "output"]))
    assert not arch2vec_valid(space, adjacency, _ids(space, ["input", *middle, "<pad>"]))
    assert not arch2vec_valid(space, adjacency.T, _ids(space, ["input", *middle, "output"]))  # not triu
    float_adjacency = adjacency.astype(np.float32)  # arch2vec's decoder output: 0.0/1.0 is accepted
    assert arch2vec_valid(space, float_adjacency, _ids(space, ["input", *middle, "output"]))


def test_nb101_arch2vec_validity_agrees_with_strict_decoding_on_real_cells():
    space = get_space("nb101")
    for cell in space.sample(50, seed=2):
        graph = space.to_graph(cell)
        assert arch2vec_valid(space, graph.adjacency, graph.ops)
        assert space.decode_graph(graph.adjacency, graph.ops).valid


# --- DARTS: is_valid_darts per 11-node block ----------------------------------------------------------------
def test_darts_arch2vec_validity_applies_the_block_rules_to_both_cells():
    space = get_space("darts")
    graph = space.to_graph(space.sample(1, seed=0)[0])
    assert arch2vec_valid(space, graph.adjacency, graph.ops)
    assert arch2vec_valid_cells(space, graph.adjacency, graph.ops) == (True, True)
    for off in (0, 11):
        no_input = graph.adjacency.copy()
        no_input[off : off + 2, off + 2] = 0  # op-node 2 loses its input from {c_k-2, c_k-1}
        assert not arch2vec_valid(space, no_input, graph.ops), off
        assert arch2vec_valid_cells(space, no_input, graph.ops) == (off != 0, off == 0)
        wrong_label = graph.ops.copy()
        wrong_label[off + 10] = space.node_vocab.index("c_k-1")
        assert not arch2vec_valid(space, graph.adjacency, wrong_label), off
        pad_label = graph.ops.copy()
        pad_label[off + 5] = space.node_vocab.index("<pad>")
        assert not arch2vec_valid(space, graph.adjacency, pad_label), off
    no_output_edges = graph.adjacency.copy()
    no_output_edges[:, 10] = no_output_edges[:, 21] = 0  # edges into the outputs are not checked by arch2vec
    assert arch2vec_valid(space, no_output_edges, graph.ops)
    assert not space.decode_graph(no_output_edges, graph.ops).valid


def test_darts_arch2vec_validity_on_hand_made_graphs():
    space = get_space("darts", ops="arch2vec")
    ops = _ids(space, ["c_k-2", "c_k-1", *["none", "sep_conv_3x3"] * 4, "output"] * 2)  # `none` is allowed
    adjacency = np.zeros((22, 22), dtype=np.int64)
    for off in (0, 11):
        adjacency[off, off + 2 : off + 10] = 1  # every op-node takes c_k-2 (no output edges: not checked)
    assert arch2vec_valid(space, adjacency, ops)
    assert not space.decode_graph(adjacency, ops).valid  # strict decoding needs the output edges

    def with_edge(i: int, j: int) -> np.ndarray:
        changed = adjacency.copy()
        changed[i, j] = 1
        return changed

    assert arch2vec_valid(space, with_edge(4, 5), ops)  # inside a pair: allowed
    assert arch2vec_valid(space, with_edge(3, 7), ops)  # pair 2 from an earlier node: allowed
    assert arch2vec_valid(space, with_edge(12, 20), ops)  # across the cells: arch2vec has a single block
    # "no input from a later node" can only fire on entries below the diagonal (arch2vec decodes triu(1))
    assert not arch2vec_valid(space, with_edge(5, 2), ops)  # pair 0 fed by node 5 (>= 4)
    assert arch2vec_valid(space, with_edge(3, 2), ops)  # the sibling of the pair (< 4) is not "later"
    assert not arch2vec_valid(space, with_edge(11 + 9, 11 + 7), ops)  # reduce cell, pair 2 fed by node 9
    assert arch2vec_valid(space, with_edge(10, 8), ops)  # the last pair has no "later" rule
    orphan = adjacency.copy()
    orphan[11, 11 + 9] = 0  # reduce cell: op-node 9 has no input at all
    assert not arch2vec_valid(space, orphan, ops)


def test_darts_none_is_allowed_by_arch2vec_even_in_the_7_op_space():
    space = get_space("darts")
    ops = _ids(space, ["c_k-2", "c_k-1", *["sep_conv_3x3"] * 8, "output"] * 2)
    adjacency = np.zeros((22, 22), dtype=np.int64)
    for off in (0, 11):
        adjacency[off, off + 2 : off + 10] = 1
    assert arch2vec_valid(space, adjacency, ops)
    wide = get_space("darts", ops="arch2vec")
    none_ops = _ids(wide, ["c_k-2", "c_k-1", *["none"] * 8, "output"] * 2)
    assert arch2vec_valid(wide, adjacency, none_ops)


# --- errors -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["nb101", "nb201", "darts"])
def test_malformed_arrays_raise_value_error(name):
    space = get_space(name)
    graph = space.to_graph(space.sample(1, seed=0)[0])
    with pytest.raises(ValueError, match="expected adjacency"):
        arch2vec_valid(space, graph.adjacency[:-1, :-1], graph.ops)
    with pytest.raises(ValueError, match="expected adjacency"):
        arch2vec_valid(space, graph.adjacency, graph.ops[:-1])
    with pytest.raises(ValueError, match="op ids must be in"):
        arch2vec_valid(space, graph.adjacency, graph.ops + space.num_ops)


def test_nb101_non_binary_adjacency_raises():
    space = get_space("nb101")
    graph = space.to_graph(space.sample(1, seed=0)[0])
    with pytest.raises(ValueError, match="0 or 1"):
        arch2vec_valid(space, graph.adjacency * 2, graph.ops)


def test_rules_are_per_space():
    for name in ("nb101", "nb201"):
        space = get_space(name)
        graph = space.to_graph(space.sample(1, seed=0)[0])
        with pytest.raises(TypeError, match="DARTS"):
            arch2vec_valid_cells(space, graph.adjacency, graph.ops)

    class OtherSpace:
        name = "other"

    with pytest.raises(TypeError, match="no arch2vec validity rule for space 'other'"):
        arch2vec_valid(OtherSpace(), np.zeros((2, 2)), np.zeros(2))  # type: ignore[arg-type]
