"""Checks every graph model of the package must pass, in the spirit of transformers' ``ModelTesterMixin``.

A :class:`ModelTester` describes one model setting: the model class, how to build its (tiny) config and a
batch of inputs, and the trainable parameters that legitimately get no gradient. :class:`ModelTesterMixin`
holds the checks as test methods; a ``Test*`` class mixes it in and provides a ``model_tester`` fixture that
yields the :class:`ModelTester` (``tests/test_model_common.py`` parametrises it over every model).

The checks use ``forward`` only: inputs ``adjacency [B, N, N]`` long, ``ops [B, N]`` long, ``node_mask [B, N]``
bool, and the ``return_loss`` / ``return_dict`` arguments. Every other method is model-specific.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
import torch
from transformers import AutoModel, PreTrainedConfig, PreTrainedModel
from transformers.utils import ModelOutput

import archllm_hf  # noqa: F401  (registers the Auto classes)

Inputs = dict[str, torch.Tensor]


@dataclasses.dataclass(frozen=True)
class ModelTester:
    """One model setting for :class:`ModelTesterMixin`.

    Args:
        name: test id, e.g. ``"vqvae-nb201"``.
        model_class: the ``PreTrainedModel`` subclass under test.
        make_config: builds a fresh tiny config.
        make_inputs: ``make_inputs(batch_size, seed)`` gives forward inputs of ``batch_size`` graphs.
        parameters_without_grad: names (as in ``named_parameters``) of trainable parameters that one
            forward/backward legitimately leaves without a gradient (e.g. an unused projection).
        batch_size: batch size of the default inputs.
    """

    name: str
    model_class: type[PreTrainedModel]
    make_config: Callable[[], PreTrainedConfig]
    make_inputs: Callable[[int, int], Inputs]
    parameters_without_grad: frozenset[str] = frozenset()
    batch_size: int = 4

    def config(self, **changes: Any) -> PreTrainedConfig:
        """A fresh config; ``changes`` set attributes after construction (e.g. ``return_dict=False``)."""
        config = self.make_config()
        for key, value in changes.items():
            setattr(config, key, value)
        return config

    def model(self, seed: int = 0, config: PreTrainedConfig | None = None) -> PreTrainedModel:
        """A model built after ``torch.manual_seed(seed)`` (in train mode, as ``PreTrainedModel`` leaves it
        when built from a config)."""
        torch.manual_seed(seed)
        return self.model_class(config if config is not None else self.config())

    def inputs(self, batch_size: int | None = None, seed: int = 0) -> Inputs:
        """Forward inputs of ``batch_size`` (default :attr:`batch_size`) graphs; fresh copies on every call."""
        key = (self.name, batch_size or self.batch_size, seed)
        if key not in _INPUT_CACHE:
            _INPUT_CACHE[key] = self.make_inputs(key[1], seed)
        return {name: tensor.clone() for name, tensor in _INPUT_CACHE[key].items()}


_INPUT_CACHE: dict[tuple[str, int, int], Inputs] = {}


# --- helpers ------------------------------------------------------------------------------------------------
def eval_outputs(model: PreTrainedModel, inputs: Mapping[str, torch.Tensor], **kwargs: Any) -> ModelOutput:
    """``model(**inputs, return_dict=True, **kwargs)`` in eval mode without gradients (mode restored)."""
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            return model(**inputs, return_dict=True, **kwargs)
    finally:
        model.train(was_training)


def training_step(model: PreTrainedModel, inputs: Mapping[str, torch.Tensor], lr: float = 1e-2) -> None:
    """One SGD step in train mode, so that weights and buffers (running statistics, codebooks) are no longer
    their initial values."""
    model.train()
    loss = model(**inputs, return_dict=True).loss
    loss.backward()
    with torch.no_grad():
        for parameter in model.parameters():
            if parameter.grad is not None:
                parameter -= lr * parameter.grad
    model.zero_grad(set_to_none=True)


def assert_outputs_equal(first: ModelOutput, second: ModelOutput) -> None:
    """Same keys and bit-identical tensors."""
    assert list(first.keys()) == list(second.keys())
    for key in first:
        a, b = first[key], second[key]
        if isinstance(a, torch.Tensor):
            assert a.dtype == b.dtype and a.shape == b.shape, key
            assert torch.equal(a, b), key
        else:
            assert a == b, key


def assert_state_dicts_equal(first: PreTrainedModel, second: PreTrainedModel) -> None:
    """Same keys, dtypes and bit-identical tensors (parameters and buffers)."""
    a, b = first.state_dict(), second.state_dict()
    assert list(a) == list(b)
    for key in a:
        assert a[key].dtype == b[key].dtype, key
        assert torch.equal(a[key], b[key]), key


def _loss_fields(output: ModelOutput) -> list[str]:
    return [f.name for f in dataclasses.fields(output) if f.name == "loss" or f.name.endswith("_loss")]


# --- the checks ---------------------------------------------------------------------------------------------
class ModelTesterMixin:
    """Common checks; the test class must provide a ``model_tester`` fixture giving a :class:`ModelTester`."""

    def test_forward_returns_a_model_output_with_loss_first(self, model_tester: ModelTester) -> None:
        model = model_tester.model()
        out = model(**model_tester.inputs(), return_dict=True)
        assert isinstance(out, ModelOutput)
        assert dataclasses.fields(out)[0].name == "loss"
        assert next(iter(out.keys())) == "loss"
        assert out.loss.dim() == 0 and out.loss.dtype.is_floating_point and torch.isfinite(out.loss)
        assert out.loss.requires_grad
        assert out.to_tuple()[0] is out.loss

    def test_return_dict_false_gives_a_tuple_starting_with_the_loss(self, model_tester: ModelTester) -> None:
        inputs = model_tester.inputs()
        model = model_tester.model().eval()
        expected = eval_outputs(model, inputs)
        with torch.no_grad():
            as_tuple = model(**inputs, return_dict=False)
        assert type(as_tuple) is tuple and len(as_tuple) == len(expected)
        assert torch.equal(as_tuple[0], expected.loss)
        for value, key in zip(as_tuple, expected.keys()):
            assert torch.equal(value, expected[key]), key
        # without an explicit argument, forward follows config.return_dict
        default_tuple = model_tester.model(config=model_tester.config(return_dict=False)).eval()
        with torch.no_grad():
            default = default_tuple(**inputs)
        assert type(default) is tuple and torch.equal(default[0], expected.loss)

    def test_return_loss_false_computes_no_loss(self, model_tester: ModelTester) -> None:
        inputs = model_tester.inputs()
        model = model_tester.model().eval()
        with_loss = eval_outputs(model, inputs)
        without = eval_outputs(model, inputs, return_loss=False)
        assert without.loss is None
        for name in _loss_fields(without):
            assert getattr(without, name) is None, name
        for key in without:  # the other outputs do not depend on return_loss
            assert torch.equal(without[key], with_loss[key]), key

    def test_save_and_load_are_bit_identical(self, model_tester: ModelTester, tmp_path: Path) -> None:
        inputs = model_tester.inputs()
        model = model_tester.model()
        training_step(model, inputs)  # move weights and buffers off the values _init_weights would give
        model.eval()
        model.save_pretrained(tmp_path)
        assert (tmp_path / "model.safetensors").is_file()
        expected = eval_outputs(model, inputs)
        for loader in (model_tester.model_class, AutoModel):
            loaded = loader.from_pretrained(tmp_path)
            assert type(loaded) is model_tester.model_class, loader
            assert not loaded.training
            assert_state_dicts_equal(model, loaded)
            assert_outputs_equal(expected, eval_outputs(loaded, inputs))

    def test_every_trainable_parameter_gets_a_finite_gradient(self, model_tester: ModelTester) -> None:
        model = model_tester.model()
        model.train()
        torch.manual_seed(0)
        model(**model_tester.inputs(), return_dict=True).loss.backward()
        trainable = {name: p for name, p in model.named_parameters() if p.requires_grad}
        assert trainable
        without = {name for name, p in trainable.items() if p.grad is None}
        assert without == set(model_tester.parameters_without_grad)
        for name, parameter in trainable.items():
            if parameter.grad is not None:
                assert torch.isfinite(parameter.grad).all(), name
        assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in trainable.values())

    def test_config_round_trips_through_dict_and_json(self, model_tester: ModelTester) -> None:
        config = model_tester.config()
        config_class = type(config)
        assert config_class is model_tester.model_class.config_class
        as_dict = config.to_dict()
        from_dict = config_class.from_dict(as_dict)
        assert type(from_dict) is config_class and from_dict.to_dict() == as_dict
        from_json = config_class.from_dict(json.loads(config.to_json_string()))
        assert from_json.to_dict() == as_dict
        assert from_json.to_diff_dict() == config.to_diff_dict()

    @pytest.mark.parametrize("batch_size", [1, 3])
    def test_small_batches_work(self, model_tester: ModelTester, batch_size: int) -> None:
        inputs = {name: tensor[:batch_size] for name, tensor in model_tester.inputs(3).items()}
        model = model_tester.model()
        out = model(**inputs, return_dict=True)  # train mode (batch statistics, sampling, EMA updates)
        assert torch.isfinite(out.loss)
        out.loss.backward()
        evaluated = eval_outputs(model, inputs)
        assert torch.isfinite(evaluated.loss)
        per_graph = {key: value for key, value in evaluated.items() if value.dim() > 0}
        assert {"op_logits", "adjacency_logits"} <= set(per_graph)
        for key, value in per_graph.items():
            assert value.shape[0] == batch_size, key
        # in eval mode each graph's outputs do not depend on the rest of the batch
        if batch_size > 1:
            alone = eval_outputs(model, {name: tensor[:1] for name, tensor in inputs.items()})
            for key, value in per_graph.items():
                assert torch.allclose(alone[key].double(), value[:1].double(), atol=1e-5), key

    def test_seeded_models_give_identical_eval_outputs(self, model_tester: ModelTester) -> None:
        inputs = model_tester.inputs()
        first, second = model_tester.model(seed=0), model_tester.model(seed=0)
        assert_state_dicts_equal(first, second)
        expected = eval_outputs(first, inputs)
        assert_outputs_equal(expected, eval_outputs(second, inputs))
        assert_outputs_equal(expected, eval_outputs(first, inputs))  # eval forward changes nothing
        other = model_tester.model(seed=1).state_dict()
        assert any(not torch.equal(value, other[key]) for key, value in first.state_dict().items())


__all__ = [
    "Inputs",
    "ModelTester",
    "ModelTesterMixin",
    "assert_outputs_equal",
    "assert_state_dicts_equal",
    "eval_outputs",
    "training_step",
]
