"""Accuracy predictors: the code predictor (from the pretrained prior and from scratch), the GIN and arch2vec + MLP.
Fit, predict, refit from the initial weights, save and load, and bad input."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest
import torch
from fixtures import TINY_ARCH2VEC, TINY_PREDICTOR, tiny_arch2vec_config, tiny_nb201_prior
from scipy.stats import kendalltau

from archllm_hf.models.arch2vec import Arch2VecModel
from archllm_hf.presets import PredictorTrainingConfig
from archllm_hf.search.predictors import (
    Arch2VecEmbedder,
    Arch2VecMLPPredictor,
    ArchPredictor,
    GINPredictor,
    normal_scores,
)
from archllm_hf.spaces import get_space

pytestmark = pytest.mark.usefixtures("one_torch_thread")
TINY = PredictorTrainingConfig(**TINY_PREDICTOR)


@pytest.fixture(scope="module")
def prior_dir(tmp_path_factory):
    return tiny_nb201_prior(tmp_path_factory.mktemp("predictor"))


@pytest.fixture(scope="module")
def cells_and_labels():
    """NB201 cells labelled by a function of their ops that a predictor can learn: convolutions minus zeros."""
    space = get_space("nb201")
    cells = list(space.enumerate())
    random.Random(0).shuffle(cells)
    cells = cells[:600]
    labels = np.array(
        [sum(op.startswith("nor_conv") for op in c.ops) - 2 * c.ops.count("none") for c in cells]
    )
    return cells, labels.astype(float)


def test_the_code_predictor_is_the_priors_transformer_with_a_regression_head(prior_dir):
    from transformers import AutoModelForCausalLM

    predictor = ArchPredictor.from_prior(prior_dir, config=TINY)
    assert type(predictor.model).__name__ == "LlamaForSequenceClassification"
    assert predictor.model.config.num_labels == 1 and predictor.model.config.problem_type == "regression"
    prior = AutoModelForCausalLM.from_pretrained(prior_dir)
    embeddings = prior.get_input_embeddings().weight
    assert torch.equal(predictor.model.get_input_embeddings().weight, embeddings)
    scratch = ArchPredictor.from_prior(prior_dir, pretrained=False, config=TINY)
    assert not torch.equal(scratch.model.get_input_embeddings().weight, embeddings)
    assert (predictor.name, scratch.name) == ("code_pretrained", "code_scratch")


def test_the_code_predictor_learns_refits_from_its_initial_weights_and_reloads(
    prior_dir, cells_and_labels, tmp_path
):
    cells, labels = cells_and_labels
    config = PredictorTrainingConfig(epochs=10, min_steps=150, batch_size=32, learning_rate=3e-3)
    predictor = ArchPredictor.from_prior(prior_dir, config=config)
    predictor.fit(cells[:400], labels[:400])
    first = predictor.predict(cells[400:])
    assert first.shape == (200,) and np.isfinite(first).all()
    assert kendalltau(first, labels[400:])[0] > 0.3
    predictor.fit(cells[:400], labels[:400])
    assert np.allclose(predictor.predict(cells[400:]), first, atol=1e-5), (
        "a refit must start from the same weights"
    )
    predictor.save_pretrained(tmp_path / "predictor")
    loaded = ArchPredictor.from_pretrained(tmp_path / "predictor")
    assert np.allclose(loaded.predict(cells[400:]), first, atol=1e-5)


def test_the_from_scratch_predictor_draws_its_weights_from_the_fit_seed(prior_dir, cells_and_labels):
    cells, labels = cells_and_labels
    scratch = ArchPredictor.from_prior(prior_dir, pretrained=False, config=TINY)
    predictions = {}
    for seed in (0, 1, 0):
        scratch.config.seed = seed
        predictions.setdefault(seed, []).append(scratch.fit(cells[:50], labels[:50]).predict(cells[50:80]))
    assert np.allclose(predictions[0][0], predictions[0][1], atol=1e-5)
    assert not np.allclose(predictions[0][0], predictions[1][0], atol=1e-3)


@pytest.mark.parametrize("kind", ["gin", "arch2vec_mlp"])
def test_baseline_predictors_learn(cells_and_labels, kind):
    cells, labels = cells_and_labels
    space = get_space("nb201")
    config = PredictorTrainingConfig(epochs=20, min_steps=200, batch_size=32)
    if kind == "gin":
        predictor = GINPredictor(space, hidden_size=32, num_layers=2, config=config)
    else:
        torch.manual_seed(0)
        vgae = Arch2VecModel(tiny_arch2vec_config("nb201", **{**TINY_ARCH2VEC, "latent_dim": 8}))
        predictor = Arch2VecMLPPredictor(Arch2VecEmbedder(vgae, space), hidden_size=32, config=config)
    predicted = predictor.fit(cells[:400], labels[:400]).predict(cells[400:])
    assert kendalltau(predicted, labels[400:])[0] > 0.4
    again = predictor.fit(cells[:400], labels[:400]).predict(cells[400:])
    assert np.allclose(again, predicted, atol=1e-5)


def test_the_arch2vec_embedding_is_the_mean_of_the_posterior_means():
    space = get_space("nb201")
    torch.manual_seed(0)
    vgae = Arch2VecModel(tiny_arch2vec_config("nb201", **TINY_ARCH2VEC)).eval()
    cells = space.sample(3, seed=0)
    adjacency, ops, _ = space.to_graphs(cells)
    with torch.no_grad():
        expected = vgae.encode_mean(torch.as_tensor(adjacency).long(), torch.as_tensor(ops)).mean(1).numpy()
    assert np.allclose(Arch2VecEmbedder(vgae, space)(cells), expected, atol=1e-6)


def test_labels_become_normal_scores_of_their_ranks():
    scores = normal_scores(np.array([10.0, 93.0, 94.0, 91.0]))
    assert list(np.argsort(scores)) == [0, 3, 1, 2] and abs(scores.mean()) < 1e-9


def test_bad_input(prior_dir, cells_and_labels):
    cells, labels = cells_and_labels
    predictor = GINPredictor(get_space("nb201"), config=TINY)
    with pytest.raises(RuntimeError, match="fit the gin predictor before predicting"):
        predictor.predict(cells[:3])
    with pytest.raises(ValueError, match="3 cells and labels of shape"):
        predictor.fit(cells[:3], labels[:4])
    with pytest.raises(ValueError, match="finite"):
        predictor.fit(cells[:3], [1.0, float("nan"), 2.0])
    with pytest.raises(ValueError, match="at least 2 training cells"):
        predictor.fit(cells[:1], labels[:1])
    with pytest.raises(FileNotFoundError, match="not an archllm predictor folder"):
        ArchPredictor.from_pretrained(prior_dir)


def test_the_benchmark_gathers_scoped_ablations_only_where_they_are_measured(tmp_path):
    from archllm_hf.evaluation.prediction import SPACE_BENCHMARKS, PredictorBenchmark

    benchmark = PredictorBenchmark(
        space="nb201", work=tmp_path, seeds=2, predictors=["proxy_params", "graph_no_proxy_input"], fit=False
    )
    nb201 = SPACE_BENCHMARKS["nb201"]
    assert nb201.measures("graph_no_proxy_input", "cifar10", 156)
    assert not nb201.measures("graph_no_proxy_input", "cifar100", 156)
    assert not nb201.measures("graph_no_proxy_input", "cifar10", 469)
    assert nb201.measures("proxy_params", "imagenet16", 1563)
    fit = {"kendall_tau": 0.5, "spearman_rho": 0.7, "fit_seconds": 1.0, "test_cells": 10}
    for dataset in benchmark.datasets:
        for size in benchmark.sizes:
            for seed in range(2):
                benchmark._run_path(dataset, "proxy_params", size, seed).parent.mkdir(
                    parents=True, exist_ok=True
                )
                benchmark._run_path(dataset, "proxy_params", size, seed).write_text(json.dumps(fit))
    for size, seeds in ((78, 2), (156, 1)):
        for seed in range(seeds):
            benchmark._run_path("cifar10", "graph_no_proxy_input", size, seed).write_text(json.dumps(fit))

    result = benchmark.aggregate(None, {}, 15625)

    assert result["not_measured"] == ["cifar10/graph_no_proxy_input/156: 1 of 2 seeds"]
    assert set(result["results"]["cifar10"]["graph_no_proxy_input"]) == {"78", "156"}
    assert "graph_no_proxy_input" not in result["results"]["cifar100"]
    assert "measured on cifar10 at 78, 156 cells only" in result["predictors"]["graph_no_proxy_input"]
    assert result["predictors"]["proxy_params"] == "this proxy alone, no fit"
