"""Label-free proxies (definitions, the resumable cache, the scaler), ours (the proxy-pretrained graph predictor),
saving and loading every predictor, and ``archllm predict`` / ``archllm train-predictor``."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest
import torch
from fixtures import TINY_PREDICTOR
from scipy.stats import kendalltau
from torch import nn

import archllm_hf.networks  # noqa: F401 - registers the network builders
from archllm_hf.cli import main as cli_main
from archllm_hf.data.proxies import ProxyFeatures, ProxyScaler, proxy_settings, proxy_table, read_proxy_cache
from archllm_hf.errors import InvalidCellError
from archllm_hf.models.arch_predictor import ArchPredictorConfig, ArchPredictorModel
from archllm_hf.networks import proxies as proxy_module
from archllm_hf.networks.proxies import PROXIES, grad_norm, jacov, measure_proxies, naswot, snip
from archllm_hf.presets import PredictorTrainingConfig
from archllm_hf.search.graph_predictor import GraphPredictor, pretrain_graph_predictor
from archllm_hf.search.predictors import GINPredictor, ProxyMLPPredictor, load_predictor
from archllm_hf.spaces import get_space

pytestmark = pytest.mark.usefixtures("one_torch_thread")
TINY = PredictorTrainingConfig(**TINY_PREDICTOR)
NAMES = list(PROXIES)


def toy_network(relu: bool = True) -> nn.Module:
    torch.manual_seed(0)
    layers = [nn.Flatten(), nn.Linear(12, 16)] + ([nn.ReLU()] if relu else []) + [nn.Linear(16, 3)]
    return nn.Sequential(*layers)


def probe_batch(batch: int, seed: int = 0, classes: int = 3) -> tuple[torch.Tensor, torch.Tensor]:
    """The random batch the random-input proxies are defined on: Gaussian images, then uniform labels."""
    generator = torch.Generator().manual_seed(seed)
    images = torch.randn(batch, 3, 2, 2, generator=generator)
    return images, torch.randint(classes, (batch,), generator=generator)


def test_naswot_is_the_log_determinant_of_the_activation_agreements():
    network = toy_network()
    images, _ = probe_batch(4)
    codes = (network[1](images.flatten(1)) > 0).double()
    kernel = codes @ codes.T + (1 - codes) @ (1 - codes).T
    expected = float(torch.linalg.slogdet(kernel)[1])
    assert np.isfinite(expected) and naswot(network, input_size=2, batch_size=4) == pytest.approx(expected)


def test_jacov_of_a_linear_network_sees_identical_jacobians():
    # f(x) = W2 W1 x: every image has the same input gradient, so the correlation matrix is all ones
    batch = 6
    eigenvalues = np.array([0.0] * (batch - 1) + [batch])
    expected = -np.sum(np.log(eigenvalues + 1e-5) + 1 / (eigenvalues + 1e-5))
    assert jacov(toy_network(relu=False), input_size=2, batch_size=batch) == pytest.approx(expected, rel=1e-6)


def test_grad_norm_and_snip_follow_their_definitions():
    network = toy_network()
    images, labels = probe_batch(8)
    reference = toy_network()
    nn.functional.cross_entropy(reference(images), labels).backward()
    weights = [reference[1].weight, reference[3].weight]
    assert grad_norm(network, input_size=2, batch_size=8) == pytest.approx(
        sum(w.grad.norm().item() for w in weights), rel=1e-6
    )
    assert snip(network, input_size=2, batch_size=8) == pytest.approx(
        sum((w * w.grad).abs().sum().item() for w in weights), rel=1e-6
    )


def test_measure_proxies_shares_passes_and_leaves_the_network_alone():
    space = get_space("nb201")
    network = space.to_module(
        space.parse(
            "|nor_conv_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|none~0|avg_pool_3x3~1|nor_conv_3x3~2|"
        ),
        cells_per_stage=1,
    )
    state = {k: v.clone() for k, v in network.state_dict().items()}
    together = measure_proxies(network, NAMES)
    assert list(together) == NAMES
    assert together == pytest.approx({name: PROXIES[name](network) for name in NAMES}, rel=1e-9)
    assert all(torch.equal(state[k], v) for k, v in network.state_dict().items()) and network.training
    with torch.no_grad():  # e.g. a predictor's predict() measuring a cell it has not seen
        assert measure_proxies(network, NAMES) == pytest.approx(together, rel=1e-9)
    with pytest.raises(ValueError, match="unknown proxies accuracy"):
        measure_proxies(network, ["params", "accuracy"])


def test_a_cell_without_a_path_to_its_output_has_a_finite_floor():
    space = get_space("nb201")
    dead = space.parse("|none~0|+|none~0|none~1|+|none~0|none~1|none~2|")
    values = measure_proxies(space.to_module(dead, cells_per_stage=1), ["naswot", "synflow"])
    assert values["naswot"] == 0.0 and np.isfinite(values["synflow"])


@pytest.fixture(scope="module")
def measured(tmp_path_factory):
    """40 NB201 cells, their proxies (cached), and labels a predictor can learn."""
    space = get_space("nb201")
    cells = list(space.enumerate())
    random.Random(1).shuffle(cells)
    cells = cells[:40]
    cache = tmp_path_factory.mktemp("proxies") / "nb201.jsonl"
    values = proxy_table(space, cells, cache=cache)
    labels = np.array(
        [sum(op.startswith("nor_conv") for op in c.ops) - 2 * c.ops.count("none") for c in cells]
    )
    return space, cells, values, cache, labels.astype(float)


def test_the_proxy_cache_resumes_and_refuses_other_settings(measured, monkeypatch, tmp_path):
    space, cells, values, cache, _ = measured
    copy = tmp_path / "cache.jsonl"
    copy.write_text(cache.read_text() + '{"id": "cut short by a kil')  # a killed run's unfinished line
    calls = []
    real = proxy_module.measure_proxies
    monkeypatch.setattr(proxy_module, "measure_proxies", lambda *a, **k: calls.append(1) or real(*a, **k))
    extra = next(c for c in space.enumerate() if space.canonical_id(c) not in values)
    again = proxy_table(space, [*cells[:5], extra], cache=copy)
    assert len(calls) == 1  # only the new cell was measured
    assert again[space.canonical_id(cells[0])] == values[space.canonical_id(cells[0])]
    assert len(read_proxy_cache(copy, proxy_settings(space))) == 41  # the cut line is gone, the new row is in
    with pytest.raises(ValueError, match="was measured with"):
        proxy_table(space, cells[:2], names=["params"], cache=copy)
    (tmp_path / "other.jsonl").write_text('{"id": "x"}\n')
    with pytest.raises(ValueError, match="not a proxy cache"):
        proxy_table(space, cells[:2], cache=tmp_path / "other.jsonl")
    with pytest.raises(ValueError, match="unknown proxies"):
        proxy_table(space, cells[:2], names=["params", "accuracy"])
    with pytest.raises(InvalidCellError):
        proxy_table(space, ["|nor_conv_3x3~0|+"])


def test_the_scaler_ranks_ties_and_values_that_are_not_finite():
    values = {str(i): {"a": float(i % 4), "b": 10.0**i} for i in range(40)}
    scaler = ProxyScaler.fit(values, ["a", "b"])
    rows = [
        {"a": 0, "b": 1},
        {"a": 3, "b": 1e39},
        {"a": 1.5, "b": float("-inf")},
        {"a": 9, "b": float("nan")},
    ]
    features = scaler.transform(rows)
    assert features.dtype == np.float32 and features.min() >= -1 and features.max() <= 1
    assert features[0, 1] == -1 and features[1, 1] == 1 and features[2, 1] == -1 and features[3, 1] == -1
    assert -1 < features[0, 0] < features[2, 0] < features[1, 0] < 1  # a tie takes the middle of its ranks
    assert np.array_equal(
        ProxyScaler.from_dict(json.loads(json.dumps(scaler.to_dict()))).transform(rows), features
    )
    with pytest.raises(KeyError, match="lack b"):
        scaler.transform([{"a": 1.0}])


def tiny_config(space, proxy_input: bool = True) -> ArchPredictorConfig:
    return ArchPredictorConfig(
        space=space.name,
        num_nodes=space.num_nodes,
        num_ops=space.num_ops,
        hidden_size=16,
        num_layers=1,
        proxy_names=NAMES,
        use_proxy_features=proxy_input,
    )


def test_pretraining_learns_the_proxies_from_the_graph_alone(measured):
    space, cells, values, _, _ = measured
    rows = [values[space.canonical_id(c)] for c in cells]
    scaler = ProxyScaler.fit(values, NAMES)
    config = tiny_config(space)
    targets = torch.as_tensor(scaler.transform(rows))
    adjacency, ops, mask = (torch.as_tensor(x) for x in space.to_graphs(cells))
    blank = torch.zeros(len(cells), len(NAMES))

    def loss(model: ArchPredictorModel) -> float:
        with torch.no_grad():
            return model(adjacency.float(), ops, mask, blank, proxy_targets=targets).loss.item()

    torch.manual_seed(0)
    before = loss(ArchPredictorModel(config))
    model = pretrain_graph_predictor(space, cells, rows, config, scaler, epochs=60, batch_size=16)
    assert loss(model) < 0.5 * before
    with pytest.raises(ValueError, match="proxy_names"):
        pretrain_graph_predictor(space, cells, rows, tiny_config(space).__class__(space="nb201"), scaler)


def test_ours_fits_from_its_pretrained_weights_saves_and_loads(measured, tmp_path):
    space, cells, values, cache, labels = measured
    scaler = ProxyScaler.fit(values, NAMES)
    features = ProxyFeatures(space, scaler, values, cache)
    config = tiny_config(space)
    pretrained = pretrain_graph_predictor(
        space, cells, [values[space.canonical_id(c)] for c in cells], config, scaler, epochs=2
    )
    ours = GraphPredictor(space, config, features, pretrained, config=TINY, ensemble=2)
    scratch = GraphPredictor(space, config, features, None, config=TINY, ensemble=2)
    assert (ours.name, scratch.name) == ("graph", "graph_scratch")
    ours.fit(cells[:30], labels[:30])
    scratch.fit(cells[:30], labels[:30])
    assert len(ours.members) == 2
    layer = "layers.0.mlp.0.weight"
    assert not torch.equal(ours.members[0].state_dict()[layer], scratch.members[0].state_dict()[layer])
    predicted = ours.predict(cells[30:])
    assert predicted.shape == (10,) and np.isfinite(predicted).all()

    ours.save_pretrained(tmp_path / "ours")
    loaded = load_predictor(tmp_path / "ours", space="nb201", proxy_cache=cache)
    assert isinstance(loaded, GraphPredictor) and loaded.name == "graph"
    assert np.allclose(loaded.predict(cells[30:]), predicted, atol=1e-5)
    with pytest.raises(ValueError, match="not of 'nb101'"):
        load_predictor(tmp_path / "ours", space="nb101")
    with pytest.raises(ValueError, match="finite"):
        ours.fit(cells[:3], [1.0, float("nan"), 2.0])
    with pytest.raises(InvalidCellError):
        ours.predict(["|nor_conv_3x3~0|+|bogus~0|"])
    with pytest.raises(RuntimeError, match="before saving"):
        GraphPredictor(space, config, features, None, config=TINY).save_pretrained(tmp_path / "unfitted")


def test_the_graph_network_learns_a_function_of_the_ops():
    space = get_space("nb201")
    cells = list(space.enumerate())
    random.Random(0).shuffle(cells)
    cells = cells[:400]
    labels = np.array(
        [sum(op.startswith("nor_conv") for op in c.ops) - 2 * c.ops.count("none") for c in cells]
    )
    config = tiny_config(space, proxy_input=False)
    fit = PredictorTrainingConfig(epochs=30, min_steps=100, batch_size=32, learning_rate=3e-3)
    predictor = GraphPredictor(space, config, None, None, config=fit, ensemble=1)
    predictor.fit(cells[:300], labels[:300])
    assert kendalltau(predictor.predict(cells[300:]), labels[300:])[0] > 0.6


@pytest.mark.parametrize("kind", ["gin", "gin_proxies", "proxy_mlp"])
def test_baselines_save_and_load(measured, tmp_path, kind):
    space, cells, values, cache, labels = measured
    features = ProxyFeatures(space, ProxyScaler.fit(values, NAMES), values, cache)
    predictor = {
        "gin": lambda: GINPredictor(space, config=TINY),
        "gin_proxies": lambda: GINPredictor(space, config=TINY, features=features),
        "proxy_mlp": lambda: ProxyMLPPredictor(features, config=TINY),
    }[kind]()
    assert predictor.name == kind
    predictor.fit(cells[:30], labels[:30])
    predictor.save_pretrained(tmp_path / kind)
    loaded = load_predictor(tmp_path / kind, proxy_cache=cache)
    assert type(loaded) is type(predictor) and loaded.name == kind
    assert np.allclose(loaded.predict(cells[30:]), predictor.predict(cells[30:]), atol=1e-6)


def test_cli_predict_writes_one_line_per_cell(measured, tmp_path, capsys):
    space, cells, _, _, labels = measured
    predictor = GINPredictor(space, config=TINY).fit(cells[:30], labels[:30])
    predictor.save_pretrained(tmp_path / "gin")
    lines = [space.format(cells[30]), "", json.dumps({"cell": space.format(cells[31]), "valid": True})]
    (tmp_path / "cells.txt").write_text("\n".join(lines) + "\n")
    out = tmp_path / "predictions.jsonl"
    assert (
        cli_main(
            [
                "predict",
                "--predictor",
                str(tmp_path / "gin"),
                "--cells",
                str(tmp_path / "cells.txt"),
                "--out",
                str(out),
            ]
        )
        == 0
    )
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in rows] == [space.canonical_id(cells[30]), space.canonical_id(cells[31])]
    assert np.allclose([r["prediction"] for r in rows], predictor.predict(cells[30:32]))

    (tmp_path / "bad.txt").write_text(space.format(cells[30]) + "\n|nor_conv_3x3~0|+\n")
    args = ["predict", "--predictor", str(tmp_path / "gin"), "--cells", str(tmp_path / "bad.txt")]
    assert cli_main(args) == 2 and "bad.txt:2" in capsys.readouterr().err
    args = ["predict", "--predictor", str(tmp_path / "gin"), "--cells", str(tmp_path / "cells.txt")]
    assert cli_main([*args, "--space", "darts"]) == 2 and "not of 'darts'" in capsys.readouterr().err
    args = ["predict", "--predictor", str(tmp_path / "nothing"), "--cells", str(tmp_path / "cells.txt")]
    assert cli_main(args) == 2 and "neither a predictor folder" in capsys.readouterr().err


def test_cli_trains_ours_by_default(measured, shared_data, tmp_path, monkeypatch):
    space, cells, values, cache, _ = measured
    from archllm_hf.search import graph_predictor

    rows = [values[space.canonical_id(c)] for c in cells]
    monkeypatch.setattr(graph_predictor, "space_proxies", lambda *a, **k: (cells, rows))
    monkeypatch.setitem(graph_predictor.preset("nb201").graph_predictor_model, "hidden_size", 8)
    nats = (shared_data / "nb201/nats_tss_test_acc_200ep.csv").read_text().splitlines()
    wanted = {space.format(c) for c in cells}
    table = tmp_path / "table.csv"  # the measured cells' rows alone, so that testing needs no new proxies
    table.write_text(
        "\n".join([nats[0], *(line for line in nats[1:] if any(w in line for w in wanted))]) + "\n"
    )
    out = tmp_path / "ours"
    args = ["train-predictor", "--space", "nb201", "--metrics", str(table)]
    args += ["--label", "cifar10_test_acc_200ep", "--num-cells", "30", "--out", str(out)]
    assert cli_main([*args, "--proxy-cache", str(cache)]) == 0
    summary = json.loads((out / "predictor_summary.json").read_text())
    assert summary["predictor"] == "graph" and summary["num_train_cells"] == 30
    assert summary["num_test_cells"] == 10 and -1 <= summary["kendall_tau"] <= 1
    assert (out / "archllm_predictor.json").is_file() and (out / "member-0" / "model.safetensors").is_file()
    assert (tmp_path / "graph-pretrained-nb201" / "config.json").is_file()  # pretrained once, kept beside


@pytest.mark.parametrize("kind", ["gin", "graph"])
def test_a_fit_leaves_the_callers_random_state_alone(measured, kind):
    space, cells, values, cache, labels = measured
    features = ProxyFeatures(space, ProxyScaler.fit(values, NAMES), values, cache)

    def draws() -> tuple:
        return torch.rand(3).tolist(), random.random(), float(np.random.rand())

    def seeded() -> None:
        torch.manual_seed(123)
        random.seed(1)
        np.random.seed(2)

    if kind == "gin":
        predictor = GINPredictor(space, config=TINY)
    else:
        predictor = GraphPredictor(space, tiny_config(space), features, None, config=TINY, ensemble=1)
    seeded()
    expected = draws()
    seeded()
    predictor.fit(cells[:30], labels[:30])
    assert draws() == expected


def test_ours_reads_live_graphs_when_its_config_says_so(measured, tmp_path):
    space, cells, values, cache, labels = measured
    features = ProxyFeatures(space, ProxyScaler.fit(values, NAMES), values, cache)
    live = ArchPredictorConfig(**{**tiny_config(space).to_dict(), "live_graph": True})
    full_graphs, live_graphs = space.to_graphs(cells)[0], space.to_graphs(cells, live_only=True)[0]
    assert (full_graphs != live_graphs).any()  # some of the 40 cells have a 'none' edge
    for config, expected in ((tiny_config(space), full_graphs), (live, live_graphs)):
        predictor = GraphPredictor(space, config, features, None, config=TINY, ensemble=1)
        assert np.array_equal(predictor._inputs(cells)[0].numpy(), expected)
    predictor = GraphPredictor(space, live, features, None, config=TINY, ensemble=1).fit(
        cells[:30], labels[:30]
    )
    predictor.save_pretrained(tmp_path / "live")
    loaded = load_predictor(tmp_path / "live", proxy_cache=cache)
    assert loaded.model_config.live_graph
    assert np.allclose(loaded.predict(cells[30:]), predictor.predict(cells[30:]), atol=1e-5)


def test_a_pretrained_folder_of_other_inputs_is_refused(measured, tmp_path, monkeypatch):
    space, cells, values, cache, _ = measured
    from archllm_hf.search import graph_predictor

    rows = [values[space.canonical_id(c)] for c in cells]
    monkeypatch.setattr(graph_predictor, "space_proxies", lambda *a, **k: (cells, rows))
    sizes = graph_predictor.preset("nb201").graph_predictor_model
    monkeypatch.setitem(sizes, "hidden_size", 8)
    folder = tmp_path / "pretrained"
    monkeypatch.setitem(sizes, "live_graph", False)
    graph_predictor.build_graph_predictor(space, cache, pretrained_dir=folder)
    monkeypatch.setitem(sizes, "live_graph", True)
    with pytest.raises(ValueError, match="another configuration"):
        graph_predictor.build_graph_predictor(space, cache, pretrained_dir=folder)
