"""No transformers load report on the user's console when the package loads its own models: no "Loading weights" bar
and no "MISSING ... newly initialized" table, while a plain transformers load in the same process still shows them
(the silencing is scoped to the package's loads). Each check runs in a fresh process, with progress bars left on."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

from conftest import REPO_ROOT

RELEASE = str(REPO_ROOT / "hub" / "archvq-nb201")
REPORT_MARKS = (
    "Loading weights",
    "LOAD REPORT",
    "MISSING",
    "newly initialized",
    "not sharded",
    "Writing model",
)


def stderr_of(code: str) -> tuple[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("HF_HUB_DISABLE_PROGRESS_BARS", "TRANSFORMERS_VERBOSITY")
    }
    env.update(HF_HUB_OFFLINE="1", OMP_NUM_THREADS="1")
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, env=env, timeout=300
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return done.stdout, done.stderr


def test_pipeline_and_generator_loads_are_quiet_but_a_plain_load_is_not():
    stdout, stderr = stderr_of(
        f"""
        import sys
        import archllm_hf
        from transformers import AutoModelForCausalLM, pipeline
        from archllm_hf.generation import ArchitectureGenerator

        samples = pipeline("architecture-generation", model={RELEASE!r})(num_samples=2, seed=0)
        ArchitectureGenerator.from_pretrained({RELEASE!r})
        print(len(samples), flush=True)
        print("--- plain load ---", file=sys.stderr, flush=True)
        AutoModelForCausalLM.from_pretrained({RELEASE!r})
        """
    )
    ours, plain = stderr.split("--- plain load ---")
    assert stdout.strip() == "2"
    assert not [mark for mark in REPORT_MARKS if mark in ours], ours[-3000:]
    assert "Loading weights" in plain  # the user's own loads keep transformers' defaults


def test_the_code_predictor_head_is_built_without_a_missing_keys_report():
    _, stderr = stderr_of(
        f"""
        import sys
        import archllm_hf
        from archllm_hf.search.predictors import ArchPredictor
        from transformers import AutoModelForSequenceClassification

        ArchPredictor.from_prior({RELEASE!r})
        print("--- plain load ---", file=sys.stderr, flush=True)
        AutoModelForSequenceClassification.from_pretrained({RELEASE!r}, num_labels=1)
        """
    )
    ours, plain = stderr.split("--- plain load ---")
    assert not [mark for mark in REPORT_MARKS if mark in ours], ours[-3000:]
    assert "MISSING" in plain and "score.weight" in plain


def test_quiet_loading_leaves_transformers_as_it_found_it():
    import logging

    from transformers.utils import logging as hf_logging

    from archllm_hf.utils import quiet_loading

    def hook(factory, args, kwargs):  # noqa: ANN001
        return factory(*args, **kwargs)

    previous = hf_logging.set_tqdm_hook(hook)
    try:
        logger = logging.getLogger("transformers.modeling_utils")
        filters, level = list(logger.filters), logger.level
        with quiet_loading():
            assert len(logger.filters) == len(filters) + 1
        assert hf_logging.set_tqdm_hook(hook) is hook  # our hook is back
        assert logger.filters == filters and logger.level == level
    finally:
        hf_logging.set_tqdm_hook(previous)


def test_info_verbosity_keeps_the_reports():
    _, stderr = stderr_of(
        f"""
        import archllm_hf
        import transformers
        transformers.logging.set_verbosity_info()
        from archllm_hf.search.predictors import ArchPredictor
        ArchPredictor.from_prior({RELEASE!r})
        """
    )
    assert "score.weight" in stderr


def test_graph_predictor_loads_and_saves_are_quiet(tmp_path):
    _, stderr = stderr_of(
        f"""
        import sys
        sys.path.insert(0, {str(REPO_ROOT / "tests")!r})
        from fixtures import TINY_PREDICTOR, use_tiny_graph_predictor
        from archllm_hf.presets import PredictorTrainingConfig
        from archllm_hf.search.graph_predictor import build_graph_predictor
        from archllm_hf.search.predictors import load_predictor
        from archllm_hf.spaces import get_space

        use_tiny_graph_predictor("nb201")
        space, cache, folder = get_space("nb201"), {str(tmp_path / "p.jsonl")!r}, {str(tmp_path / "pre")!r}
        build_graph_predictor(space, cache, pretrained_dir=folder)  # pretrains and saves
        ours = build_graph_predictor(  # loads the pretrained weights
            space, cache, pretrained_dir=folder, config=PredictorTrainingConfig(**TINY_PREDICTOR), ensemble=2
        )
        cells = space.sample(12, seed=0)
        ours.fit(cells, list(range(12))).save_pretrained({str(tmp_path / "fitted")!r})
        load_predictor({str(tmp_path / "fitted")!r}, proxy_cache=cache).predict(cells)
        """
    )
    assert not [mark for mark in REPORT_MARKS if mark in stderr], stderr[-3000:]
