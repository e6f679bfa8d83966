"""The common model checks (``model_tester.py``) on every graph model: the VQ-VAE on each search space (and
once with graph codes) and arch2vec's VGAE on each search space, all tiny (``fixtures.py``)."""

from __future__ import annotations

import functools

import pytest
from fixtures import SPACE_NAMES, graph_batch, tiny_arch2vec_config, tiny_vqvae_config
from model_tester import ModelTester, ModelTesterMixin

from archllm_hf.models.arch2vec import Arch2VecModel
from archllm_hf.models.arch_vqvae import ArchVQVAEModel

pytestmark = pytest.mark.usefixtures("one_torch_thread")

# No model has a parameter that legitimately gets no gradient, so ``parameters_without_grad`` stays empty
# everywhere (the VQ-VAE's ``encoder.graph_projection`` only exists, and is then used, with graph codes).
TESTERS = [
    *(
        ModelTester(
            name=f"vqvae-{space}",
            model_class=ArchVQVAEModel,
            make_config=functools.partial(tiny_vqvae_config, space),
            make_inputs=functools.partial(graph_batch, space),
        )
        for space in SPACE_NAMES
    ),
    ModelTester(
        name="vqvae-nb201-graph-codes",
        model_class=ArchVQVAEModel,
        make_config=functools.partial(tiny_vqvae_config, "nb201", codes_per_node=2, num_graph_codes=2),
        make_inputs=functools.partial(graph_batch, "nb201"),
    ),
    *(
        ModelTester(
            name=f"arch2vec-{space}",
            model_class=Arch2VecModel,
            make_config=functools.partial(tiny_arch2vec_config, space),
            make_inputs=functools.partial(graph_batch, space),
        )
        for space in SPACE_NAMES
    ),
]


@pytest.fixture(params=TESTERS, ids=[tester.name for tester in TESTERS])
def model_tester(request: pytest.FixtureRequest) -> ModelTester:
    return request.param


class TestModelCommon(ModelTesterMixin):
    """Runs every :class:`ModelTesterMixin` check on every entry of :data:`TESTERS`."""
