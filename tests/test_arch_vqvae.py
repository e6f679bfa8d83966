"""ArchVQVAE: config, forward/backward, EMA codebook, encode/decode, save/load, remote code, decode fuzz.

Synthetic graphs on 5 node slots (tiny models: ``fixtures.TINY_VQVAE``) except where a real search space is
needed to turn graphs into cells (NB201). The checks every model passes (output layout, ``return_dict`` /
``return_loss``, save/load, gradients, batch sizes, seeding) run on real spaces in ``test_model_common.py``.
"""

from __future__ import annotations

import json
import math
import random
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch
from fixtures import TINY_VQVAE, run_offline_python, train_until_reconstructed
from huggingface_hub.errors import StrictDataclassClassValidationError, StrictDataclassFieldValidationError
from transformers import AutoConfig, AutoModel

from archllm_hf import _registration
from archllm_hf.models.arch_vqvae import (
    ArchCodeTokenizer,
    ArchVQVAEConfig,
    ArchVQVAEModel,
    ArchVQVAEOutput,
)

N = 5
VOCAB = ["<pad>", "in", "a", "b", "out"]
UPPER = [[int(j > i) for j in range(N)] for i in range(N)]
SRC = Path(__file__).resolve().parents[1] / "src"


pytestmark = pytest.mark.usefixtures("one_torch_thread")


def make_config(**overrides) -> ArchVQVAEConfig:
    """A tiny config (``fixtures.TINY_VQVAE``) for the synthetic 5-slot graphs; ``overrides`` change fields."""
    fields = {"space": "synthetic", "num_nodes": N, "node_vocab": VOCAB, "adjacency_mask": UPPER}
    return ArchVQVAEConfig(**{**fields, **TINY_VQVAE, **overrides})


def random_graphs(count: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """DAGs with 3..N used slots (unused slots padded at the end): input first, output last, random edges."""
    rng = random.Random(seed)
    adjacency = torch.zeros(count, N, N, dtype=torch.long)
    ops = torch.zeros(count, N, dtype=torch.long)
    for b in range(count):
        used = rng.randint(3, N)
        ops[b, 0], ops[b, used - 1] = 1, 4
        for i in range(1, used - 1):
            ops[b, i] = rng.randint(2, 3)
        for i in range(used):
            for j in range(i + 1, used):
                adjacency[b, i, j] = int(rng.random() < 0.5)
    return adjacency, ops


@pytest.fixture(scope="module")
def data() -> tuple[torch.Tensor, torch.Tensor]:
    return random_graphs(8, seed=0)


@pytest.fixture(scope="module")
def trained(data) -> ArchVQVAEModel:
    torch.manual_seed(0)
    model = ArchVQVAEModel(make_config())
    adjacency, ops = data
    steps = train_until_reconstructed(model, {"adjacency": adjacency, "ops": ops})
    assert steps <= 1500, "tiny model did not learn to reconstruct 8 graphs"
    return model.eval()


# --- config -------------------------------------------------------------------------------------------------
def test_config_code_length_and_defaults() -> None:
    config = make_config(codes_per_node=2, num_graph_codes=3)
    assert config.code_length == N * 2 + 3
    assert config.num_ops == len(VOCAB)
    assert config.model_type == "archllm_vqvae"
    default = ArchVQVAEConfig(space="s", num_nodes=N, node_vocab=VOCAB, adjacency_mask=UPPER)
    assert (default.hidden_size, default.num_encoder_layers, default.codebook_size) == (128, 4, 512)
    assert default.code_length == N and default.space_kwargs == {}


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"space": ""}, "for_space"),
        ({"num_nodes": 4}, "4x4 matrix"),
        ({"adjacency_mask": [row[:4] for row in UPPER]}, "5x5 matrix"),
        ({"adjacency_mask": [[1] + row[1:] for row in UPPER]}, "strictly upper triangular"),
        ({"adjacency_mask": [[2] * N] * N}, "0 or 1"),
        ({"node_vocab": ["in", "a"]}, "<pad>"),
        ({"node_vocab": ["<pad>", "a", "a"]}, "duplicate"),
        ({"hidden_size": 15}, "divisible"),
        ({"codebook_size": 0}, "codebook_size must be positive"),
        ({"num_graph_codes": -1}, "num_graph_codes"),
        ({"ema_decay": 1.0}, "ema_decay"),
        ({"dead_code_threshold": 1.5}, "dead_code_threshold"),
        ({"dropout": 1.0}, "dropout"),
    ],
)
def test_config_rejects_bad_values_with_clear_errors(overrides, message) -> None:
    with pytest.raises(StrictDataclassClassValidationError, match=message):
        make_config(**overrides)


def test_config_checks_field_types() -> None:
    with pytest.raises(StrictDataclassFieldValidationError, match="hidden_size"):
        make_config(hidden_size="16")


def test_config_round_trips_and_writes_every_architecture_field(tmp_path: Path) -> None:
    config = make_config(space_kwargs={"ops": "x"}, num_graph_codes=2)
    config.save_pretrained(tmp_path)
    saved = json.loads((tmp_path / "config.json").read_text())
    assert saved["model_type"] == "archllm_vqvae"
    assert saved["hidden_size"] == 16 and saved["codes_per_node"] == 1  # default values are written too
    loaded = AutoConfig.from_pretrained(tmp_path)
    assert type(loaded) is ArchVQVAEConfig
    assert loaded.to_diff_dict() == config.to_diff_dict()
    assert loaded.code_length == N + 2


class _FakeSpace:
    name = "fake"
    num_nodes = N
    node_vocab = tuple(VOCAB)
    space_kwargs = {"ops": "v2"}  # noqa: RUF012

    def adjacency_mask(self):
        return np.triu(np.ones((N, N), dtype=bool), 1)


def test_for_space_reads_the_space() -> None:
    config = ArchVQVAEConfig.for_space(_FakeSpace(), hidden_size=32, num_attention_heads=2)
    assert (config.space, config.num_nodes, config.node_vocab) == ("fake", N, VOCAB)
    assert config.adjacency_mask == UPPER
    assert config.space_kwargs == {"ops": "v2"}
    assert config.hidden_size == 32
    assert ArchVQVAEConfig.for_space(_FakeSpace(), space_kwargs={}).space_kwargs == {}
    with pytest.raises(TypeError, match="from the space"):
        ArchVQVAEConfig.for_space(_FakeSpace(), num_nodes=3)
    with pytest.raises(TypeError, match="SearchSpace"):
        ArchVQVAEConfig.for_space(object())


# --- registration -------------------------------------------------------------------------------------------
def test_auto_classes_are_registered_idempotently() -> None:
    _registration.register_auto_classes()
    _registration.register_auto_classes()
    config = make_config()
    assert type(AutoModel.from_config(config)) is ArchVQVAEModel
    fields = {k: v for k, v in config.to_diff_dict().items() if k != "model_type"}
    assert type(AutoConfig.for_model("archllm_vqvae", **fields)) is ArchVQVAEConfig
    from transformers.models.auto.tokenization_auto import TOKENIZER_MAPPING

    assert TOKENIZER_MAPPING[ArchVQVAEConfig] is ArchCodeTokenizer


# --- forward / backward / EMA -------------------------------------------------------------------------------
def test_forward_outputs(data) -> None:
    torch.manual_seed(0)
    model = ArchVQVAEModel(make_config(codes_per_node=2, num_graph_codes=1))
    adjacency, ops = data
    out = model(adjacency, ops)
    assert isinstance(out, ArchVQVAEOutput)
    assert next(iter(out.keys())) == "loss"
    assert out.codes.shape == (8, model.config.code_length) and out.codes.dtype == torch.long
    assert out.op_logits.shape == (8, N, len(VOCAB))
    assert out.adjacency_logits.shape == (8, N, N)
    assert torch.allclose(out.loss, out.op_loss + out.adjacency_loss + out.commitment_loss)
    assert 1.0 <= out.perplexity <= model.config.codebook_size
    disallowed = ~torch.tensor(UPPER, dtype=torch.bool)
    assert (out.adjacency_logits[:, disallowed] == torch.finfo(out.adjacency_logits.dtype).min).all()
    as_tuple = model(adjacency, ops, return_dict=False)
    assert isinstance(as_tuple, tuple) and len(as_tuple) == 8


def test_space_without_edges_has_zero_adjacency_loss(data) -> None:
    model = ArchVQVAEModel(make_config(adjacency_mask=[[0] * N for _ in range(N)]))
    out = model(torch.zeros(8, N, N, dtype=torch.long), data[1])
    assert out.adjacency_loss == 0 and torch.isfinite(out.loss)
    assert (model.decode(out.codes).adjacency == 0).all()


def test_gradients_reach_the_encoder_and_codebook_is_not_a_parameter(data) -> None:
    torch.manual_seed(0)
    model = ArchVQVAEModel(make_config())
    model(*data).loss.backward()
    encoder_grads = [p.grad for p in model.encoder.parameters()]
    assert all(g is not None for g in encoder_grads)
    assert model.encoder.op_embeddings.weight.grad.abs().sum() > 0
    assert model.encoder.layers[0].mlp[0].weight.grad.abs().sum() > 0
    parameter_names = {name for name, _ in model.named_parameters()}
    assert not any(name.startswith("quantizer.") for name in parameter_names)
    assert {"quantizer.codebook", "quantizer.ema_count", "quantizer.ema_weight"} <= set(model.state_dict())


def test_codebook_changes_in_train_mode_only(data) -> None:
    torch.manual_seed(0)
    model = ArchVQVAEModel(make_config())
    model.train()
    model(*data)  # first step: every code restarts from encoder outputs
    state = {k: v.clone() for k, v in model.quantizer.state_dict().items()}
    model.eval()
    model(*data)
    assert all(torch.equal(state[k], v) for k, v in model.quantizer.state_dict().items())
    model.train()
    model(*data)
    assert not torch.equal(state["codebook"], model.quantizer.codebook)
    assert not torch.equal(state["ema_count"], model.quantizer.ema_count)


def test_first_training_step_initialises_every_code_from_encoder_outputs(data) -> None:
    torch.manual_seed(0)
    model = ArchVQVAEModel(make_config(dead_code_threshold=0.0))
    assert model.quantizer.ema_count.sum() == 0
    model.train()
    model(*data)
    # every code restarted with count 1, then one EMA step: count = decay * 1 + (1 - decay) * assignments
    assert (model.quantizer.ema_count >= model.config.ema_decay - 1e-6).all()


def test_dead_codes_restart_and_live_codes_do_not(data) -> None:
    torch.manual_seed(0)
    model = ArchVQVAEModel(make_config(dead_code_threshold=0.5))
    model.train()
    for _ in range(3):
        model(*data)
    quantizer = model.quantizer
    dead = torch.zeros(16, dtype=torch.bool)
    dead[:4] = True
    with torch.no_grad():
        quantizer.ema_count[dead] = 0.01
        quantizer.ema_count[~dead] = 5.0
    before = quantizer.codebook.clone()
    model(*data)
    assert (quantizer.ema_count[dead] >= model.config.ema_decay - 1e-6).all()  # reset to 1, then decayed once
    assert not torch.equal(before[dead], quantizer.codebook[dead])
    decay = model.config.ema_decay
    assert (
        quantizer.ema_count[~dead] >= 5.0 * decay - 1e-6
    ).all()  # not restarted: 5 * decay + (1 - decay) * n


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda a, o: (a, o[:, :4]), "ops must have shape"),
        (lambda a, o: (a[:, :4], o), "adjacency must have shape"),
        (lambda a, o: (a, o.float()), "ops must hold integers"),
        (lambda a, o: (a, o + 10), "op ids must be in"),
        (lambda a, o: (a * 2, o), "0 or 1"),
        (lambda a, o: (a + torch.eye(N, dtype=torch.long), o), "outside config.adjacency_mask"),
    ],
)
def test_forward_rejects_malformed_graphs(data, change, message) -> None:
    model = ArchVQVAEModel(make_config())
    with pytest.raises(ValueError, match=message):
        model(*change(*data))
    with pytest.raises(ValueError, match=message):
        model.encode(*change(*data))


def test_node_mask_shape_is_checked(data) -> None:
    with pytest.raises(ValueError, match="node_mask"):
        ArchVQVAEModel(make_config())(*data, node_mask=torch.ones(8, N - 1, dtype=torch.bool))


# --- encode / decode ----------------------------------------------------------------------------------------
def test_encode_is_deterministic_and_leaves_the_model_alone(data) -> None:
    torch.manual_seed(0)
    model = ArchVQVAEModel(make_config(dropout=0.3))
    model.train()
    model(*data)
    state = {k: v.clone() for k, v in model.state_dict().items()}
    encoded = model.encode(*data)
    codes = encoded.codes
    assert codes.shape == (8, N) and codes.dtype == torch.long
    assert encoded.latents.shape == (8, N, model.config.code_dim)
    assert torch.equal(codes, model.encode(*data).codes)
    assert torch.equal(codes, model.encode(*data, return_dict=False)[0])
    assert model.training
    assert all(torch.equal(state[k], v) for k, v in model.state_dict().items())
    assert not codes.requires_grad and not encoded.latents.requires_grad


def test_decode_output_and_checks(data) -> None:
    model = ArchVQVAEModel(
        make_config(adjacency_mask=[[int(j == i + 1) for j in range(N)] for i in range(N)])
    )
    codes = torch.randint(0, 16, (6, N))
    decoded = model.decode(codes)
    adjacency, ops = decoded.adjacency, decoded.ops
    assert adjacency.shape == (6, N, N) and ops.shape == (6, N)
    assert adjacency.dtype == ops.dtype == torch.long
    assert decoded.op_logits.shape == (6, N, len(VOCAB)) and decoded.adjacency_logits.shape == (6, N, N)
    assert torch.equal(ops, decoded.op_logits.argmax(-1))
    assert (adjacency[:, ~torch.tensor(model.config.adjacency_mask, dtype=torch.bool)] == 0).all()
    as_tuple = model.decode(codes, return_dict=False)
    assert torch.equal(as_tuple[0], adjacency) and torch.equal(as_tuple[1], ops)
    with pytest.raises(ValueError, match="shape"):
        model.decode(codes[:, :3])
    with pytest.raises(ValueError, match=r"\[0, 16\)"):
        model.decode(codes + 16)
    with pytest.raises(ValueError, match="integer"):
        model.decode(codes.float())


def test_fast_decode_gives_the_graphs_of_float32(monkeypatch) -> None:
    from archllm_hf.models.arch_vqvae import modeling_arch_vqvae

    torch.manual_seed(0)
    model = ArchVQVAEModel(make_config()).eval()
    for (
        parameter
    ) in model.decoder.parameters():  # logits of a few units, so that bfloat16's error can flip some
        parameter.data.mul_(4.0)
    codes = torch.randint(0, 16, (512, N))
    exact = model.decode(codes)
    fast = model.decode(codes, fast=True)
    assert torch.equal(fast.adjacency, exact.adjacency) and torch.equal(fast.ops, exact.ops)
    disallowed = ~torch.tensor(model.config.adjacency_mask, dtype=torch.bool)
    assert (fast.adjacency_logits[:, disallowed] == torch.finfo(torch.float32).min).all()
    assert fast.op_logits.dtype == fast.adjacency_logits.dtype == torch.float32

    monkeypatch.setattr(modeling_arch_vqvae, "FAST_DECODE_MARGIN", 0.0)  # bfloat16 alone flips some decisions
    bf16 = model.decode(codes, fast=True)
    assert not (torch.equal(bf16.adjacency, exact.adjacency) and torch.equal(bf16.ops, exact.ops))
    allowed = ~disallowed
    error = max(
        (bf16.op_logits - exact.op_logits).abs().max().item(),
        (bf16.adjacency_logits - exact.adjacency_logits)[:, allowed].abs().max().item(),
    )
    monkeypatch.setattr(modeling_arch_vqvae, "FAST_DECODE_MARGIN", 2 * error)  # twice bfloat16's error here
    some = model.decode(codes, fast=True)
    assert torch.equal(some.adjacency, exact.adjacency) and torch.equal(some.ops, exact.ops)
    redone = (some.op_logits == exact.op_logits).flatten(1).all(-1)
    assert 0 < redone.sum() < len(codes)  # only the rows near a decision were decoded again
    monkeypatch.setattr(modeling_arch_vqvae, "FAST_DECODE_MARGIN", math.inf)  # every row decoded again
    again = model.decode(codes, fast=True)
    assert torch.equal(again.op_logits, exact.op_logits)
    assert torch.equal(again.adjacency_logits, exact.adjacency_logits)


def test_trained_model_reconstructs_its_graphs(trained, data) -> None:
    adjacency, ops = data
    codes = trained.encode(adjacency, ops).codes
    assert len({tuple(row) for row in codes.tolist()}) == len(codes)  # distinct graphs, distinct codes
    decoded = trained.decode(codes)
    assert torch.equal(decoded.adjacency, adjacency)
    assert torch.equal(decoded.ops, ops)
    assert torch.equal(trained(adjacency, ops).codes, codes)


# --- save / load --------------------------------------------------------------------------------------------
def test_save_pretrained_round_trip_is_bit_identical(trained, data, tmp_path: Path) -> None:
    trained.save_pretrained(tmp_path)
    assert (tmp_path / "model.safetensors").is_file()
    assert not (tmp_path / "pytorch_model.bin").exists()
    loaded = AutoModel.from_pretrained(tmp_path)
    assert type(loaded) is ArchVQVAEModel and not loaded.training
    original, reloaded = trained.state_dict(), loaded.state_dict()
    assert original.keys() == reloaded.keys()
    assert all(torch.equal(original[k], reloaded[k]) for k in original)
    assert loaded.quantizer.ema_count.sum() > 0  # not re-initialised by _init_weights
    a, b = trained(*data), loaded(*data)
    for key in ("loss", "codes", "op_logits", "adjacency_logits"):
        assert torch.equal(a[key], b[key]), key


def test_remote_code_loads_without_the_package(trained, data, tmp_path: Path, monkeypatch) -> None:
    for cls, auto in ((ArchVQVAEConfig, "AutoConfig"), (ArchVQVAEModel, "AutoModel")):
        monkeypatch.setattr(cls, "_auto_class", None)  # restored after the test
        cls.register_for_auto_class(auto)
    folder = tmp_path / "remote"
    trained.save_pretrained(folder)
    assert {"configuration_arch_vqvae.py", "modeling_arch_vqvae.py"} <= {p.name for p in folder.iterdir()}
    assert json.loads((folder / "config.json").read_text())["auto_map"]["AutoModel"] == (
        "modeling_arch_vqvae.ArchVQVAEModel"
    )
    adjacency, ops = data
    script = textwrap.dedent(
        f"""
        import json, sys
        sys.modules["archllm_hf"] = None  # the package must not be needed
        import torch
        from transformers import AutoModel
        model = AutoModel.from_pretrained({str(folder)!r}, trust_remote_code=True)
        codes = model.encode(torch.tensor({adjacency.tolist()}), torch.tensor({ops.tolist()})).codes
        decoded = model.decode(codes)
        print(json.dumps({{
            "module": type(model).__module__,
            "codes": codes.tolist(),
            "adjacency": decoded.adjacency.tolist(),
            "ops": decoded.ops.tolist(),
        }}))
        """
    )
    result = run_offline_python(script, tmp_path)
    assert result["module"].startswith("transformers_modules.")
    assert result["codes"] == trained.encode(adjacency, ops).codes.tolist()
    assert result["adjacency"] == adjacency.tolist() and result["ops"] == ops.tolist()


def test_trainer_reports_eval_loss(data, tmp_path: Path) -> None:
    from datasets import Dataset
    from transformers import Trainer, TrainingArguments

    adjacency, ops = data
    dataset = Dataset.from_dict(
        {"adjacency": adjacency.tolist(), "ops": ops.tolist(), "node_mask": (ops != 0).tolist()}
    ).with_format("torch")
    args = TrainingArguments(
        output_dir=str(tmp_path),
        per_device_eval_batch_size=3,
        report_to="none",
        use_cpu=True,
        disable_tqdm=True,
    )
    metrics = Trainer(model=ArchVQVAEModel(make_config()), args=args, eval_dataset=dataset).evaluate()
    assert metrics["eval_loss"] > 0
