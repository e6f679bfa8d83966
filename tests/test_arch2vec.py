"""arch2vec's VGAE baseline: config, model, loss terms, save/load, sampling, arch2vec validity, training.

The checks every model passes (output layout, ``return_dict`` / ``return_loss``, save/load, gradients, batch
sizes, seeding) are in ``test_model_common.py``; this file tests what is arch2vec's own.
"""

from __future__ import annotations

import json

import datasets
import numpy as np
import pytest
import torch
from fixtures import TINY_ARCH2VEC, graph_batch, tiny_arch2vec_config
from transformers import AutoConfig, AutoModel

from archllm_hf._registration import register_auto_classes
from archllm_hf.data import arch2vec_split
from archllm_hf.generation import VGAESampler
from archllm_hf.models.arch2vec import Arch2VecConfig, Arch2VecModel, Arch2VecOutput
from archllm_hf.presets import preset
from archllm_hf.scoring import score_graphs
from archllm_hf.spaces import SearchSpace, get_space
from archllm_hf.spaces.arch2vec_rules import arch2vec_graph_hash
from archllm_hf.training.graphs import graph_dataset
from archllm_hf.training.vgae import (
    PUBLISHED,
    REDESIGNED,
    VGAETrainingConfig,
    posterior_stats,
    train_vgae,
    vgae_reconstruction_metrics,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")


def tiny_model(space_name: str = "nb201", seed: int = 0, **space_kwargs) -> tuple[Arch2VecModel, SearchSpace]:
    """A tiny model (``fixtures.TINY_ARCH2VEC``) built after ``torch.manual_seed(seed)``, and its space."""
    space = get_space(space_name, **space_kwargs)
    torch.manual_seed(seed)
    return Arch2VecModel(tiny_arch2vec_config(space)), space


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
    assert get_space(config.space, **config.space_kwargs).node_vocab == space.node_vocab


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
@pytest.mark.parametrize(
    ("space_name", "space_kwargs"), [("nb101", {}), ("nb201", {}), ("darts", {"ops": "arch2vec"})]
)
def test_forward_outputs_loss_terms_logits_and_posterior(space_name, space_kwargs):
    model, space = tiny_model(space_name, **space_kwargs)
    out = model(**graph_batch(space, 6))
    assert isinstance(out, Arch2VecOutput)
    assert list(out.keys()) == [
        "loss",
        "op_loss",
        "adjacency_loss",
        "kl_loss",
        "op_logits",
        "adjacency_logits",
        "mu",
        "logvar",
    ]
    for term in (out.loss, out.op_loss, out.adjacency_loss, out.kl_loss):
        assert term.dim() == 0 and torch.isfinite(term)
    assert torch.allclose(out.loss, out.op_loss + out.adjacency_loss + out.kl_loss)
    n, vocab = space.num_nodes, len(space.node_vocab)
    assert out.mu.shape == out.logvar.shape == (6, n, 4)
    assert out.op_logits.shape == (6, n, vocab) and out.adjacency_logits.shape == (6, n, n)
    model.eval()  # logits, not probabilities: the edge logits are z zᵀ with z = mu, unbounded
    out = model(**graph_batch(space, 6))
    assert torch.allclose(out.adjacency_logits, out.mu @ out.mu.transpose(-1, -2))


def test_forward_without_loss_and_input_errors():
    model, space = tiny_model()
    batch = graph_batch(space, 6)
    out = model(**batch, return_loss=False)
    assert out.loss is None and out.kl_loss is None and out.mu is not None and out.op_logits is not None
    with pytest.raises(ValueError, match="op ids must be in"):
        model(batch["adjacency"], batch["ops"] + 100)
    with pytest.raises(ValueError, match="adjacency must have shape"):
        model(batch["adjacency"][:, :5, :5], batch["ops"])


def test_loss_terms_follow_arch2vec_scaling():
    """KL: -0.5/(B·N) · mean_{b,n} Σ_d (1 + 2 logvar − mu² − exp(logvar)²); adjacency BCE over the strict
    upper triangle averaged over the full B·N·N matrix; ops BCE averaged over B·N·C."""
    model, space = tiny_model()
    model.eval()  # z = mu and no dropout, so the terms can be recomputed from the outputs
    batch = graph_batch(space, 5)
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

    probs = torch.sigmoid(out.adjacency_logits.double()).triu(1)
    target = batch["adjacency"].double().triu(1)
    full = torch.nn.functional.binary_cross_entropy(probs, target)  # arch2vec: BCELoss on triu(1) of both
    assert torch.allclose(out.adjacency_loss.double(), full, rtol=1e-5)
    one_hot = torch.nn.functional.one_hot(batch["ops"], len(space.node_vocab)).double()
    ops_bce = torch.nn.functional.binary_cross_entropy(torch.sigmoid(out.op_logits.double()), one_hot)
    assert torch.allclose(out.op_loss.double(), ops_bce, rtol=1e-5)


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
    batch = graph_batch(space, 12)
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
    batch = graph_batch(space, 10)
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


def test_vgae_sampler_is_reproducible_and_decodes_strictly():
    model, space = tiny_model()
    sampler = VGAESampler(model)
    records = sampler.generate(20, seed=3)
    assert len(records) == 20 and records == sampler.generate(20, seed=3)
    torch.manual_seed(3)
    adjacency, ops = sampler.draw_graphs(20)
    assert [r["valid"] for r in records] == [space.decode_graph(a, o).valid for a, o in zip(adjacency, ops)]


# --- arch2vec uniqueness (its validity rule: test_arch2vec_rules.py) ----------------------------------------
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
    metrics = score_graphs(adjacency, ops, space, rule="arch2vec")
    assert metrics["num_valid"] == 5 and metrics["num_unique_valid"] == 4
    assert metrics["validity"] == pytest.approx(5 / 6) and metrics["uniqueness"] == pytest.approx(4 / 5)
    assert arch2vec_graph_hash(adjacency[0], ops[0]) == arch2vec_graph_hash(adjacency[3], ops[3])
    empty = score_graphs(
        np.zeros((0, 8, 8), dtype=np.int8), np.zeros((0, 8), dtype=np.int64), space, rule="arch2vec"
    )
    assert empty["uniqueness"] == 0.0 and empty["num_generated"] == 0


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
    assert {name: preset(name).vgae_epochs for name in ("nb101", "nb201", "darts")} == {
        "nb101": 8,
        "nb201": 10,
        "darts": 10,
    }


def test_train_vgae_tiny_run_saves_loads_and_resumes(tmp_path):
    register_auto_classes()
    cells = tiny_nb201_dataset()
    kwargs = {
        "dataset": cells,
        "batch_size": 32,
        "device": "cpu",
        "progress": False,
        "model_kwargs": TINY_ARCH2VEC,
        "config": REDESIGNED,  # the project split and an eval pass for the statistics, checked below
    }
    summary = train_vgae("nb201", tmp_path, epochs=2, **kwargs)
    assert summary["train_steps"] == 4 and summary["resumed_from"] is None
    assert summary["num_train_cells"] == 64 and summary["test"]["num_cells"] == 16
    for key in ("op_accuracy", "adjacency_accuracy", "exact_match"):
        assert 0.0 <= summary["test"][key] <= 1.0
    assert sorted(p.name for p in (tmp_path / "checkpoints").iterdir()) == ["checkpoint-2", "checkpoint-4"]
    for name in ("config.json", "model.safetensors", "training_summary.json", "reconstruction.json"):
        assert (tmp_path / name).is_file(), name

    model = AutoModel.from_pretrained(tmp_path)
    assert isinstance(model, Arch2VecModel) and int(model.num_posterior_cells) == 64
    space = get_space("nb201")
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


# --- arch2vec's training protocol (VGAETrainingConfig) --------------------------------------------------------
def _record_training_modes(monkeypatch) -> list[bool]:
    """Patch ``reparameterize`` to record ``self.training`` on every training forward pass (grad enabled; the
    Trainer's evaluation runs without grad and is left out)."""
    modes: list[bool] = []
    original = Arch2VecModel.reparameterize

    def spy(self, mu, logvar):
        if torch.is_grad_enabled():
            modes.append(self.training)
        return original(self, mu, logvar)

    monkeypatch.setattr(Arch2VecModel, "reparameterize", spy)
    return modes


@pytest.mark.parametrize("quirk", [True, False])
def test_published_training_runs_in_eval_mode_after_the_first_epoch(tmp_path, monkeypatch, quirk):
    modes = _record_training_modes(monkeypatch)
    config = VGAETrainingConfig(eval_mode_after_first_epoch=quirk, split="project")
    kwargs = {"batch_size": 32, "device": "cpu", "progress": False, "model_kwargs": TINY_ARCH2VEC}
    summary = train_vgae("nb201", tmp_path, dataset=tiny_nb201_dataset(), epochs=3, config=config, **kwargs)
    assert summary["train_steps"] == 6 and len(modes) == 6  # 64 cells: 2 steps per epoch
    assert modes[:2] == [True, True]  # the first epoch trains in training mode either way
    assert modes[2:] == [not quirk] * 4  # then eval mode (no dropout, z = mu, BN frozen) with the quirk
    assert summary["training_config"]["eval_mode_after_first_epoch"] is quirk


def test_published_protocol_is_the_default_and_documented():
    assert PUBLISHED == VGAETrainingConfig()
    assert (
        PUBLISHED.eval_mode_after_first_epoch,
        PUBLISHED.split,
        PUBLISHED.posterior_stats,
        PUBLISHED.layout,
    ) == (
        True,
        "arch2vec",
        "last_epoch",
        "arch2vec",
    )
    assert not REDESIGNED.eval_mode_after_first_epoch and REDESIGNED.layout == "project"
    with pytest.raises(ValueError, match="layout"):
        VGAETrainingConfig(layout="mixed")
    with pytest.raises(ValueError, match="split"):
        VGAETrainingConfig(split="random")
    with pytest.raises(ValueError, match="posterior_stats"):
        VGAETrainingConfig(posterior_stats="first_epoch")
    with pytest.raises(TypeError, match="eval_mode_after_first_epoch"):
        VGAETrainingConfig(eval_mode_after_first_epoch=1)
    with pytest.raises(TypeError, match="VGAETrainingConfig"):
        train_vgae("nb201", "unused", dataset=tiny_nb201_dataset(), config={"split": "arch2vec"})


def test_posterior_stats_come_from_the_last_epoch_unless_resumed_past_it(tmp_path, monkeypatch):
    kwargs = {"batch_size": 32, "device": "cpu", "progress": False, "model_kwargs": TINY_ARCH2VEC}
    cells = tiny_nb201_dataset()
    summary = train_vgae("nb201", tmp_path, dataset=cells, epochs=2, **kwargs)
    assert summary["posterior_stats_from"] == "last_epoch"
    assert summary["num_train_cells"] == 86  # arch2vec's split: the first 90 % of 96 cells by NB201 index
    model = AutoModel.from_pretrained(tmp_path)
    assert int(model.num_posterior_cells) == 86
    # the last epoch's mu (moving weights, eval mode) are not one pass of the final model
    train_graphs = graph_dataset(get_space("nb201"), arch2vec_split(get_space("nb201"), cells)["train"])
    mean, _ = model.posterior_stats(
        ({"adjacency": b["adjacency"], "ops": b["ops"]} for b in [train_graphs[:]]), store=False
    )
    assert not torch.allclose(mean, model.latent_mean)
    # nothing left to train: no sums, so the statistics fall back to one eval pass
    again = train_vgae("nb201", tmp_path, dataset=cells, epochs=2, **kwargs)
    assert again["posterior_stats_from"] == "eval_pass"
    reloaded = AutoModel.from_pretrained(tmp_path)
    assert torch.allclose(reloaded.latent_mean, mean, atol=1e-6)


def test_stats_from_sums_matches_posterior_stats_and_checks_shapes():
    model, space = tiny_model()
    graphs = graph_batch(space, 20)
    model.eval()
    mu = model.encode(graphs["adjacency"], graphs["ops"])[0].double()
    mean, std = model.stats_from_sums(mu.sum(0), (mu * mu).sum(0), 20, store=False)
    expected = model.posterior_stats([graphs], store=False)
    assert torch.allclose(mean, expected[0], atol=1e-6) and torch.allclose(std, expected[1], atol=1e-6)
    assert torch.allclose(std, mu.std(0).float(), atol=1e-5)
    with pytest.raises(ValueError, match="shape"):
        model.stats_from_sums(mu.sum(0)[:1], (mu * mu).sum(0), 20)
    with pytest.raises(ValueError, match="at least 2"):
        model.stats_from_sums(mu[0], mu[0] * mu[0], 1)


def test_arch2vec_split_nb201_is_the_first_90_percent_by_index():
    space = get_space("nb201")
    cells = tiny_nb201_dataset()
    split = arch2vec_split(space, cells)
    every = sorted(
        space.index(space.from_record(r)) for name in ("train", "validation", "test") for r in cells[name]
    )
    train = [space.index(space.from_record(r)) for r in split["train"]]
    held = [space.index(space.from_record(r)) for r in split["test"]]
    assert train == every[:86] and held == every[86:]
    assert [r["id"] for r in split["validation"]] == [r["id"] for r in split["test"]]


def test_arch2vec_split_elsewhere_holds_out_validation_and_test():
    space = get_space("nb101")
    records = [space.to_record(cell) for cell in space.sample(30, seed=1)]
    cells = datasets.DatasetDict(
        {
            "train": datasets.Dataset.from_list(records[:20]),
            "validation": datasets.Dataset.from_list(records[20:25]),
            "test": datasets.Dataset.from_list(records[25:]),
        }
    )
    split = arch2vec_split(space, cells)
    assert list(split["train"]["id"]) == list(cells["train"]["id"])
    assert list(split["test"]["id"]) == list(cells["validation"]["id"]) + list(cells["test"]["id"])
    with pytest.raises(ValueError, match="missing: test"):
        arch2vec_split(
            space, datasets.DatasetDict({"train": cells["train"], "validation": cells["validation"]})
        )


def test_op_accuracy_real_leaves_out_pad_slots():
    model, space = tiny_model("nb101")
    graphs = graph_dataset(
        space, datasets.Dataset.from_list([space.to_record(c) for c in space.sample(40, seed=2)])
    )
    metrics = vgae_reconstruction_metrics(model, graphs)
    ops = graphs[:]["ops"]
    with torch.no_grad():
        model.eval()
        _, predicted = model.decode(model.encode_mean(graphs[:]["adjacency"].long(), ops))
    real = ops != 0
    assert bool((~real).any())  # some cells have fewer than 7 vertices
    assert metrics["op_accuracy_real"] == pytest.approx(float((predicted == ops)[real].double().mean()))
    assert metrics["op_accuracy"] == pytest.approx(float((predicted == ops).double().mean()))


# --- arch2vec's layout: all-zero <pad> rows, NB101 padded after the output ------------------------------------
def test_zero_pad_rows_drops_the_pad_column():
    space = get_space("nb101", padding="after_output")
    torch.manual_seed(0)
    model = Arch2VecModel(tiny_arch2vec_config(space, zero_pad_rows=True))
    assert model.config.num_labels_out == len(space.node_vocab) - 1
    assert model.decoder.ops.out_features == len(space.node_vocab) - 1
    assert model.encoder.layers[0].mlp.fc1.in_features == len(space.node_vocab) - 1
    graphs = graph_batch(space, 64, seed=1)
    one_hot = model._one_hot(graphs["ops"])
    pads = graphs["ops"] == 0
    assert bool(pads.any())  # some sampled cells have fewer than 7 vertices
    assert bool((one_hot[pads] == 0).all()) and bool((one_hot[~pads].sum(-1) == 1).all())
    _, ops = model.sample(50, torch.Generator().manual_seed(0))
    assert int(ops.min()) >= 1  # <pad> is never decoded
    out = model(graphs["adjacency"], graphs["ops"])
    assert out.op_logits.shape[-1] == len(space.node_vocab) - 1 and torch.isfinite(out.loss)


def test_nb101_after_output_padding_is_arch2vecs_layout_and_decodes_back():
    ours, theirs = get_space("nb101"), get_space("nb101", padding="after_output")
    assert theirs.space_kwargs == {"padding": "after_output"} and ours.space_kwargs == {}
    cell = next(c for c in ours.sample(50, seed=4) if c.num_vertices < 7)
    n = cell.num_vertices
    graph = theirs.to_graph(cell)
    labels = [theirs.node_vocab[i] for i in graph.ops]
    assert labels[n - 1] == "output" and labels[n:] == ["<pad>"] * (7 - n)
    assert not graph.adjacency[n:].any() and not graph.adjacency[:, n:].any()
    assert ours.to_graph(cell).ops[6] == ours.node_vocab.index("output")
    for space in (ours, theirs):
        decoded = space.decode_graph(graph.adjacency, graph.ops)
        assert decoded.valid and decoded.id == ours.canonical_id(cell)
    with pytest.raises(ValueError, match="padding"):
        get_space("nb101", padding="middle")


def test_published_layout_trains_arch2vecs_graphs(tmp_path):
    space = get_space("nb101")
    records = [space.to_record(cell) for cell in space.sample(48, seed=6)]
    cells = datasets.DatasetDict(
        {
            "train": datasets.Dataset.from_list(records[:40]),
            "validation": datasets.Dataset.from_list(records[40:44]),
            "test": datasets.Dataset.from_list(records[44:]),
        }
    )
    kwargs = {"batch_size": 16, "device": "cpu", "progress": False, "model_kwargs": TINY_ARCH2VEC}
    summary = train_vgae("nb101", tmp_path / "pub", dataset=cells, epochs=1, **kwargs)
    model = AutoModel.from_pretrained(tmp_path / "pub")
    assert model.config.zero_pad_rows and model.config.space_kwargs == {"padding": "after_output"}
    assert summary["training_config"]["layout"] == "arch2vec"
    redesigned = train_vgae("nb101", tmp_path / "red", dataset=cells, epochs=1, config=REDESIGNED, **kwargs)
    model = AutoModel.from_pretrained(tmp_path / "red")
    assert not model.config.zero_pad_rows and model.config.space_kwargs == {}
    assert redesigned["num_train_cells"] == 40


def test_exact_match_ignores_the_labels_of_unused_slots():
    space = get_space("nb101", padding="after_output")
    torch.manual_seed(0)
    model = Arch2VecModel(tiny_arch2vec_config(space, zero_pad_rows=True)).eval()
    graphs = graph_dataset(
        space, datasets.Dataset.from_list([space.to_record(c) for c in space.sample(30, seed=2)])
    )
    everything = graphs[:]
    adjacency, ops = everything["adjacency"].long(), everything["ops"]
    with torch.no_grad():
        pred_adjacency, pred_ops = model.decode(model.encode_mean(adjacency, ops))
    real = ops != 0
    upper = torch.ones(7, 7, dtype=torch.bool).triu(1)
    expected = ((pred_ops == ops) | ~real).all(-1) & (pred_adjacency[:, upper] == adjacency[:, upper]).all(-1)
    assert vgae_reconstruction_metrics(model, graphs)["exact_match"] == pytest.approx(
        float(expected.double().mean())
    )


def test_darts_normal_cell_graph_is_arch2vecs_and_decodes_with_reduce_equal_to_normal():
    from archllm_hf.spaces.arch2vec_rules import arch2vec_layout, arch2vec_valid, arch2vec_valid_cells

    both, normal = get_space("darts"), get_space("darts", cells="normal")
    assert normal.num_nodes == 11 and normal.space_kwargs == {"ops": "darts", "cells": "normal"}
    assert get_space("darts", **normal.space_kwargs).num_nodes == 11
    assert arch2vec_layout(both).space_kwargs == normal.space_kwargs
    assert arch2vec_layout(get_space("nb201")).name == "nb201"
    cell = both.sample(1, seed=8)[0]
    graph, two = normal.to_graph(cell), both.to_graph(cell)
    assert np.array_equal(graph.adjacency, two.adjacency[:11, :11]) and np.array_equal(
        graph.ops, two.ops[:11]
    )
    assert np.array_equal(normal.adjacency_mask(), both.adjacency_mask()[:11, :11])
    decoded = normal.decode_graph(graph.adjacency, graph.ops)
    assert decoded.valid and decoded.cell.normal == cell.normal and decoded.cell.reduce == cell.normal
    assert arch2vec_valid(normal, graph.adjacency, graph.ops)
    assert arch2vec_valid_cells(normal, graph.adjacency, graph.ops) == (True, True)
    bad = graph.ops.copy()
    bad[10] = normal.node_vocab.index("c_k-2")
    assert not normal.decode_graph(graph.adjacency, bad).valid and not arch2vec_valid(
        normal, graph.adjacency, bad
    )
    with pytest.raises(ValueError, match="graph cells"):
        get_space("darts", cells="reduce")


def test_published_darts_vgae_models_the_normal_cell(tmp_path):
    space = get_space("darts")
    records = [space.to_record(cell) for cell in space.sample(40, seed=9)]
    cells = datasets.DatasetDict(
        {
            "train": datasets.Dataset.from_list(records[:32]),
            "validation": datasets.Dataset.from_list(records[32:36]),
            "test": datasets.Dataset.from_list(records[36:]),
        }
    )
    kwargs = {"batch_size": 16, "device": "cpu", "progress": False, "model_kwargs": TINY_ARCH2VEC}
    summary = train_vgae("darts", tmp_path, dataset=cells, epochs=1, **kwargs)
    model = AutoModel.from_pretrained(tmp_path)
    assert model.config.num_nodes == 11 and model.config.space_kwargs["cells"] == "normal"
    assert summary["num_train_cells"] == 32  # DARTS: the project's train split stands in for arch2vec's
    sampler = VGAESampler(model)
    assert sampler.space.num_nodes == 11  # samples decode as arch2vec's normal-cell graphs
    for record in sampler.generate(16, seed=0):
        if record["valid"]:  # a decoded normal cell is the reduce cell too
            cell = sampler.space.decode_native(record["cell"]).cell
            assert cell.reduce == cell.normal
