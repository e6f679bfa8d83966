"""arch2vec's VGAE baseline: config, model, loss terms, save/load, sampling, arch2vec validity, training."""

from __future__ import annotations

import json

import datasets
import numpy as np
import pytest
import torch
from transformers import AutoConfig, AutoModel

from archllm_hf._registration import register_auto_classes
from archllm_hf.codes import graphs_to_tensors
from archllm_hf.models.arch2vec import Arch2VecConfig, Arch2VecModel, Arch2VecOutput
from archllm_hf.spaces import get_space
from archllm_hf.training.graphs import collate_graphs
from archllm_hf.training.vgae import (
    ARCH2VEC_EPOCHS,
    arch2vec_graph_hash,
    arch2vec_sampling_metrics,
    arch2vec_uniqueness,
    arch2vec_validity,
    generate_vgae,
    posterior_stats,
    sample_graphs,
    space_of,
    train_vgae,
    vgae_reconstruction_metrics,
)

TINY = {"hidden_size": 16, "latent_dim": 4, "num_gin_layers": 2}


def tiny_model(space_name: str = "nb201", seed: int = 0, **space_kwargs) -> tuple[Arch2VecModel, object]:
    space = get_space(space_name, **space_kwargs)
    torch.manual_seed(seed)
    config = Arch2VecConfig.for_space(space, space_kwargs=space_kwargs, **TINY)
    return Arch2VecModel(config), space


def batch_of(space, n: int = 6, seed: int = 0) -> dict[str, torch.Tensor]:
    return collate_graphs(graphs_to_tensors(space, space.sample(n, seed=seed)))


# --- config -------------------------------------------------------------------------------------------------
def test_config_for_space_describes_the_graph_encoding():
    space = get_space("darts", ops="arch2vec")
    config = Arch2VecConfig.for_space(space, space_kwargs={"ops": "arch2vec"})
    assert config.model_type == "archllm_arch2vec"
    assert (config.num_nodes, config.hidden_size, config.num_gin_layers, config.latent_dim) == (
        22,
        128,
        4,
        16,
    )
    assert config.dropout == 0.3
    assert config.node_vocab == list(space.node_vocab)
    assert np.array_equal(np.array(config.adjacency_mask, dtype=bool), space.adjacency_mask())
    assert space_of(config).node_vocab == space.node_vocab


def test_default_config_is_nb201():
    config, space = Arch2VecConfig(), get_space("nb201")
    assert config.node_vocab == list(space.node_vocab)
    assert np.array_equal(np.array(config.adjacency_mask, dtype=bool), space.adjacency_mask())


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"num_nodes": 7}, "adjacency_mask must be 7 x 7"),
        ({"node_vocab": ["input", "output"]}, "must start with '<pad>'"),
        ({"adjacency_mask": [[1] * 8 for _ in range(8)]}, "strictly upper triangular"),
        ({"dropout": 1.0}, "dropout must be in"),
        ({"latent_dim": 0}, "latent_dim must be a positive integer"),
        ({"hidden_size": "128"}, "hidden_size"),
    ],
)
def test_config_rejects_inconsistent_values_with_clear_errors(kwargs, message):
    with pytest.raises(Exception, match=message):
        Arch2VecConfig(**kwargs)


# --- model --------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(("space_name", "space_kwargs"), [("nb101", {}), ("nb201", {}), ("darts", {})])
def test_forward_backward_gives_finite_loss_terms_and_gradients(space_name, space_kwargs):
    model, space = tiny_model(space_name, **space_kwargs)
    batch = batch_of(space)
    out = model(**batch)
    assert isinstance(out, Arch2VecOutput) and list(out.keys())[0] == "loss"
    for term in (out.loss, out.ops_loss, out.adjacency_loss, out.kl_loss):
        assert term.dim() == 0 and torch.isfinite(term)
    assert torch.allclose(out.loss, out.ops_loss + out.adjacency_loss + out.kl_loss)
    n, vocab = space.num_nodes, len(space.node_vocab)
    assert out.mu.shape == out.logvar.shape == (6, n, 4)
    assert out.op_probs.shape == (6, n, vocab) and out.adjacency_probs.shape == (6, n, n)
    out.loss.backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert all(g is not None and torch.isfinite(g).all() for g in grads)
    assert any(g.abs().sum() > 0 for g in grads)


def test_forward_without_loss_and_input_errors():
    model, space = tiny_model()
    batch = batch_of(space)
    out = model(**batch, return_loss=False)
    assert out.loss is None and out.mu is not None
    with pytest.raises(ValueError, match="op ids must be in"):
        model(batch["adjacency"], batch["ops"] + 100)
    with pytest.raises(ValueError, match="adjacency must have shape"):
        model(batch["adjacency"][:, :5, :5], batch["ops"])


def test_loss_terms_follow_arch2vec_scaling():
    """KL: -0.5/(B·N) · mean_{b,n} Σ_d (1 + 2 logvar − mu² − exp(logvar)²); adjacency BCE over the strict
    upper triangle averaged over the full B·N·N matrix; ops BCE averaged over B·N·C."""
    model, space = tiny_model()
    model.eval()  # z = mu and no dropout, so the terms can be recomputed from the outputs
    batch = batch_of(space, n=5)
    out = model(**batch)
    b, n = batch["ops"].shape
    mu, logvar = out.mu.double(), out.logvar.double()
    per_node = (1 + 2 * logvar - mu**2 - torch.exp(logvar) ** 2).sum(-1)
    expected_kl = -0.5 / (b * n) * per_node.mean()
    assert torch.allclose(out.kl_loss.double(), expected_kl, rtol=1e-5)
    # the same value is the KL of N(mu, exp(logvar)^2) from N(0, 1), per node, divided by B·N once more
    std = torch.exp(logvar)
    kl = torch.distributions.kl_divergence(
        torch.distributions.Normal(mu, std), torch.distributions.Normal(0.0, 1.0)
    )
    assert torch.allclose(out.kl_loss.double(), kl.sum(-1).mean() / (b * n), rtol=1e-5)

    probs = out.adjacency_probs.double().triu(1)
    target = batch["adjacency"].double().triu(1)
    full = torch.nn.functional.binary_cross_entropy(probs, target)  # arch2vec: BCELoss on triu(1) of both
    assert torch.allclose(out.adjacency_loss.double(), full, rtol=1e-5)
    one_hot = torch.nn.functional.one_hot(batch["ops"], len(space.node_vocab)).double()
    ops_bce = torch.nn.functional.binary_cross_entropy(out.op_probs.double(), one_hot)
    assert torch.allclose(out.ops_loss.double(), ops_bce, rtol=1e-5)


def test_reparameterisation_uses_exp_logvar_as_std():
    model, _ = tiny_model()
    mu, logvar = torch.zeros(20000, 8, 4), torch.full((20000, 8, 4), np.log(2.0), dtype=torch.float32)
    model.train()
    z = model.reparameterize(mu, logvar)
    assert abs(float(z.std()) - 2.0) < 0.05  # std exp(logvar) = 2, not exp(logvar / 2) = 1.41
    model.eval()
    assert torch.equal(model.reparameterize(mu, logvar), mu)


def test_decode_thresholds_the_raw_strict_upper_triangle():
    model, _ = tiny_model()
    z = torch.zeros(8, 4)
    z[0, 0] = z[5, 0] = 1.0  # only nodes 0 and 5 overlap: 0 -> 5 is not an NB201 template edge
    z[3, 1] = z[6, 1] = -1.0  # 3 -> 6 is one
    adjacency, ops = model.decode(z)
    assert adjacency.dtype == torch.long and adjacency.shape == (1, 8, 8) and ops.shape == (1, 8)
    assert adjacency[0].nonzero().tolist() == [[0, 5], [3, 6]]


def test_save_and_auto_load_are_bit_identical_including_posterior_stats(tmp_path):
    register_auto_classes()
    register_auto_classes()  # idempotent
    model, space = tiny_model()
    batch = batch_of(space, n=12)
    mean, std = model.posterior_stats([batch])
    assert model.has_posterior_stats and int(model.num_posterior_cells) == 12
    assert torch.equal(model.latent_mean, mean) and torch.equal(model.latent_std, std)
    model.save_pretrained(tmp_path)
    assert json.loads((tmp_path / "config.json").read_text())["model_type"] == "archllm_arch2vec"
    assert isinstance(AutoConfig.from_pretrained(tmp_path), Arch2VecConfig)
    loaded = AutoModel.from_pretrained(tmp_path)
    assert isinstance(loaded, Arch2VecModel)
    original, restored = model.state_dict(), loaded.state_dict()
    assert original.keys() == restored.keys()
    assert {"latent_mean", "latent_std", "num_posterior_cells"} <= set(restored)
    for key in original:
        assert torch.equal(original[key], restored[key]), key
    model.eval()
    loaded.eval()
    assert torch.equal(model(**batch).loss, loaded(**batch).loss)


def test_posterior_stats_are_the_mean_and_std_of_mu_over_cells():
    model, space = tiny_model()
    batch = batch_of(space, n=10)
    model.train()
    mean, std = model.posterior_stats(
        [{k: v[:4] for k, v in batch.items()}, {k: v[4:] for k, v in batch.items()}]
    )
    assert model.training  # mode restored
    model.eval()
    with torch.no_grad():
        mu = model.encode_mean(batch["adjacency"], batch["ops"])
    assert mean.shape == std.shape == (8, 4)
    assert torch.allclose(mean, mu.mean(0), atol=1e-6) and torch.allclose(std, mu.std(0), atol=1e-6)
    with pytest.raises(ValueError, match="at least 2 cells"):
        model.posterior_stats([{k: v[:1] for k, v in batch.items()}])


def test_sampling_rescales_by_posterior_stats_and_is_seeded():
    model, _ = tiny_model()
    model.latent_mean.copy_(torch.arange(32, dtype=torch.float32).reshape(8, 4))
    model.latent_std.fill_(0.5)
    model.num_posterior_cells.fill_(100)
    z = model.sample_latents(4000, torch.Generator().manual_seed(1))
    assert z.shape == (4000, 8, 4)
    assert torch.allclose(z.mean(0), model.latent_mean, atol=0.05)
    assert torch.allclose(z.std(0), model.latent_std, atol=0.05)
    first = model.sample(50, torch.Generator().manual_seed(7))
    again = model.sample(50, torch.Generator().manual_seed(7))
    other = model.sample(50, torch.Generator().manual_seed(8))
    assert all(torch.equal(a, b) for a, b in zip(first, again))
    assert not all(torch.equal(a, b) for a, b in zip(first, other))


def test_generate_vgae_and_sample_graphs_are_reproducible():
    model, space = tiny_model()
    adjacency, ops = sample_graphs(model, 20, seed=3)
    again = sample_graphs(model, 20, seed=3)
    assert np.array_equal(adjacency, again[0]) and np.array_equal(ops, again[1])
    decoded = generate_vgae(model, space, num_samples=20, seed=3)
    assert len(decoded) == 20
    assert [d.valid for d in decoded] == [space.decode_graph(a, o).valid for a, o in zip(adjacency, ops)]


# --- arch2vec validity and uniqueness -----------------------------------------------------------------------
def _ids(space, labels):
    return np.array([space.node_vocab.index(label) for label in labels])


def test_nb201_arch2vec_validity_is_laxer_than_decode_graph():
    space = get_space("nb201")
    graph = space.to_graph(space.sample(1, seed=0)[0])
    assert (
        space.arch2vec_valid(graph.adjacency, graph.ops)
        and space.decode_graph(graph.adjacency, graph.ops).valid
    )
    ops = graph.ops.copy()
    ops[1] = space.node_vocab.index("input")  # node 1 is not checked by arch2vec
    assert arch2vec_validity(space, graph.adjacency, ops)
    assert not space.decode_graph(graph.adjacency, ops).valid
    empty = np.zeros_like(graph.adjacency)  # arch2vec ignores the adjacency
    assert space.arch2vec_valid(empty, graph.ops) and not space.decode_graph(empty, graph.ops).valid
    for node, label in ((0, "none"), (7, "none"), (3, "output"), (6, "<pad>")):
        bad = graph.ops.copy()
        bad[node] = space.node_vocab.index(label)
        assert not space.arch2vec_valid(graph.adjacency, bad), (node, label)
    with pytest.raises(ValueError):
        space.arch2vec_valid(graph.adjacency[:7, :7], graph.ops)


def test_nb101_arch2vec_validity_prunes_before_checking():
    space = get_space("nb101")
    labels = ["input", "conv3x3-bn-relu", "maxpool3x3", "conv1x1-bn-relu", "<pad>", "<pad>", "output"]
    adjacency = np.zeros((7, 7), dtype=np.int64)
    adjacency[0, 1] = adjacency[1, 6] = 1
    adjacency[2, 3] = 1  # dangling vertices 2 and 3: pruned away, so still valid
    ops = _ids(space, labels)
    assert space.arch2vec_valid(adjacency, ops) and space.decode_graph(adjacency, ops).valid
    on_path = adjacency.copy()
    on_path[1, 4] = on_path[4, 6] = 1  # a <pad> vertex on an input-output path is not an op
    assert not space.arch2vec_valid(on_path, ops)
    disconnected = np.zeros((7, 7), dtype=np.int64)
    disconnected[0, 1] = 1
    assert not space.arch2vec_valid(disconnected, ops)
    too_many = np.triu(np.ones((7, 7), dtype=np.int64), 1)  # 21 edges after pruning (> 9)
    assert not space.arch2vec_valid(too_many, _ids(space, ["input"] + ["conv3x3-bn-relu"] * 5 + ["output"]))
    wrong_end = ops.copy()
    wrong_end[6] = space.node_vocab.index("conv3x3-bn-relu")
    assert not space.arch2vec_valid(adjacency, wrong_end)


def test_nb101_arch2vec_validity_agrees_with_strict_decoding_on_real_cells():
    space = get_space("nb101")
    for cell in space.sample(50, seed=2):
        graph = space.to_graph(cell)
        assert space.arch2vec_valid(graph.adjacency, graph.ops)
        assert space.decode_graph(graph.adjacency, graph.ops).valid


def test_darts_arch2vec_validity_applies_the_block_rules_to_both_cells():
    space = get_space("darts")
    graph = space.to_graph(space.sample(1, seed=0)[0])
    assert space.arch2vec_valid(graph.adjacency, graph.ops)
    assert space.arch2vec_valid_cells(graph.adjacency, graph.ops) == (True, True)
    for off in (0, 11):
        no_input = graph.adjacency.copy()
        no_input[off : off + 2, off + 2] = 0  # op-node 2 loses its input from {c_k-2, c_k-1}
        assert not space.arch2vec_valid(no_input, graph.ops), off
        assert space.arch2vec_valid_cells(no_input, graph.ops) == (off != 0, off == 0)
        wrong_label = graph.ops.copy()
        wrong_label[off + 10] = space.node_vocab.index("c_k-1")
        assert not space.arch2vec_valid(graph.adjacency, wrong_label), off
        pad_label = graph.ops.copy()
        pad_label[off + 5] = space.node_vocab.index("<pad>")
        assert not space.arch2vec_valid(graph.adjacency, pad_label), off
    no_output_edges = graph.adjacency.copy()
    no_output_edges[:, 10] = no_output_edges[:, 21] = 0  # edges into the outputs are not checked by arch2vec
    assert space.arch2vec_valid(no_output_edges, graph.ops)
    assert not space.decode_graph(no_output_edges, graph.ops).valid


def test_darts_arch2vec_validity_on_hand_made_graphs():
    space = get_space("darts", ops="arch2vec")
    ops = _ids(space, ["c_k-2", "c_k-1", *["none", "sep_conv_3x3"] * 4, "output"] * 2)  # `none` is allowed
    adjacency = np.zeros((22, 22), dtype=np.int64)
    for off in (0, 11):
        adjacency[off, off + 2 : off + 10] = 1  # every op-node takes c_k-2 (no output edges: not checked)
    assert space.arch2vec_valid(adjacency, ops)
    assert not space.decode_graph(adjacency, ops).valid  # strict decoding needs the output edges

    def with_edge(i: int, j: int) -> np.ndarray:
        changed = adjacency.copy()
        changed[i, j] = 1
        return changed

    assert space.arch2vec_valid(with_edge(4, 5), ops)  # inside a pair: allowed
    assert space.arch2vec_valid(with_edge(3, 7), ops)  # pair 2 from an earlier node: allowed
    assert space.arch2vec_valid(with_edge(12, 20), ops)  # across the cells: arch2vec has a single block
    # "no input from a later node" can only fire on entries below the diagonal (arch2vec decodes triu(1))
    assert not space.arch2vec_valid(with_edge(5, 2), ops)  # pair 0 fed by node 5 (>= 4)
    assert space.arch2vec_valid(with_edge(3, 2), ops)  # the sibling of the pair (< 4) is not "later"
    assert not space.arch2vec_valid(
        with_edge(11 + 9, 11 + 7), ops
    )  # reduce cell, pair 2 fed by node 9 (>= 8)
    assert space.arch2vec_valid(with_edge(10, 8), ops)  # the last pair has no "later" rule
    orphan = adjacency.copy()
    orphan[11, 11 + 9] = 0  # reduce cell: op-node 9 has no input at all
    assert not space.arch2vec_valid(orphan, ops)


def test_arch2vec_uniqueness_counts_distinct_unpruned_graphs_among_valid_ones():
    space = get_space("nb201")
    graphs = [space.to_graph(cell) for cell in space.sample(3, seed=5)]
    adjacency = [g.adjacency for g in graphs] + [graphs[0].adjacency, np.zeros((8, 8), dtype=np.int8)]
    ops = [g.ops for g in graphs] + [graphs[0].ops, graphs[1].ops]
    invalid = graphs[2].ops.copy()
    invalid[0] = 0
    adjacency.append(graphs[2].adjacency)
    ops.append(invalid)
    # valid: 3 distinct cells, a repeat of the first, cell 2 without edges (another unpruned graph); 1 invalid
    metrics = arch2vec_sampling_metrics(space, adjacency, ops)
    assert metrics["num_valid"] == 5 and metrics["num_unique"] == 4
    assert metrics["validity"] == pytest.approx(5 / 6) and metrics["uniqueness"] == pytest.approx(4 / 5)
    assert arch2vec_uniqueness(space, adjacency, ops) == pytest.approx(4 / 5)
    assert arch2vec_graph_hash(adjacency[0], ops[0]) == arch2vec_graph_hash(adjacency[3], ops[3])
    assert arch2vec_uniqueness(space, [], []) == 0.0


# --- training -----------------------------------------------------------------------------------------------
def tiny_nb201_dataset() -> datasets.DatasetDict:
    space = get_space("nb201")
    records = [space.to_record(cell) for cell in space.sample(96, seed=3)]
    return datasets.DatasetDict(
        {
            "train": datasets.Dataset.from_list(records[:64]),
            "validation": datasets.Dataset.from_list(records[64:80]),
            "test": datasets.Dataset.from_list(records[80:]),
        }
    )


def test_arch2vec_epochs_per_space():
    assert ARCH2VEC_EPOCHS == {"nb101": 8, "nb201": 10, "darts": 10}


def test_train_vgae_tiny_run_saves_loads_and_resumes(tmp_path):
    register_auto_classes()
    cells = tiny_nb201_dataset()
    kwargs = dict(
        dataset=cells, batch_size=32, device="cpu", progress=False, model_kwargs=TINY, num_generated=50
    )
    summary = train_vgae("nb201", tmp_path, epochs=2, **kwargs)
    assert summary["train_steps"] == 4 and summary["resumed_from"] is None
    assert summary["num_train_cells"] == 64 and summary["test"]["num_cells"] == 16
    for key in ("op_accuracy", "adjacency_accuracy", "exact_match"):
        assert 0.0 <= summary["test"][key] <= 1.0
    generation = summary["generation"]
    assert generation["num_samples"] == 50 and generation["strict"]["num_generated"] == 50
    assert generation["arch2vec"]["num_valid"] == round(50 * generation["arch2vec"]["validity"])
    # arch2vec's validity is looser than the strict one, never stricter
    assert generation["strict"]["num_valid"] <= generation["arch2vec"]["num_valid"]
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == ["checkpoint-2", "checkpoint-4"]
    for name in ("config.json", "model.safetensors", "training_summary.json", "reconstruction.json"):
        assert (tmp_path / name).is_file(), name

    model = AutoModel.from_pretrained(tmp_path)
    assert isinstance(model, Arch2VecModel) and int(model.num_posterior_cells) == 64
    space = get_space("nb201")
    from archllm_hf.training.graphs import graph_dataset

    train_graphs = graph_dataset(space, cells["train"])
    stored = model.latent_mean.clone(), model.latent_std.clone()
    mean, std = posterior_stats(model, train_graphs)
    assert torch.allclose(stored[0], mean) and torch.allclose(stored[1], std)
    test_graphs = graph_dataset(space, cells["test"])
    assert vgae_reconstruction_metrics(model, test_graphs) == pytest.approx(summary["test"])
    assert json.loads((tmp_path / "training_summary.json").read_text())["train_steps"] == 4

    resumed = train_vgae("nb201", tmp_path, epochs=3, **kwargs)
    assert resumed["resumed_from"] is not None and resumed["resumed_from"].endswith("checkpoint-4")
    assert resumed["train_steps"] == 6
