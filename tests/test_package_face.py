"""The package's face: ``import archllm_hf`` is cheap and still registers everything with transformers, in either
import order; ``archllm --version``; every command-line option says what it does. Each check runs in a fresh process,
since the test session has long imported torch and transformers."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import textwrap

import pytest
from conftest import REPO_ROOT

RELEASE = str(REPO_ROOT / "hub" / "archvq-nb201")


def run_python(code: str) -> str:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, env=env, timeout=300
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return done.stdout.strip().splitlines()[-1]


def test_import_loads_neither_torch_nor_transformers():
    got = json.loads(
        run_python(
            """
            import json, sys
            import archllm_hf
            heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("torch", "transformers", "datasets"))
            print(json.dumps({"heavy": heavy, "pending": archllm_hf._registration.pending(),
                              "version": archllm_hf.__version__}))
            """
        )
    )
    assert got == {"heavy": [], "pending": ["auto", "pipeline"], "version": "0.1.0.dev0"}


def test_the_cli_parser_loads_neither_torch_nor_transformers():
    got = run_python(
        """
        import sys
        from archllm_hf.cli import build_parser
        build_parser()
        print(sorted(m for m in sys.modules if m.split(".")[0] in ("torch", "transformers")))
        """
    )
    assert got == "[]"


def test_pipeline_and_auto_classes_work_after_a_lazy_import():
    got = json.loads(
        run_python(
            f"""
            import json
            import archllm_hf
            from transformers import AutoConfig, AutoModel, AutoTokenizer, pipeline
            samples = pipeline("architecture-generation", model={RELEASE!r})(num_samples=3, seed=0)
            print(json.dumps({{
                "samples": len(samples), "valid": all(s["valid"] for s in samples),
                "config": type(AutoConfig.from_pretrained({RELEASE!r}, subfolder="vqvae")).__name__,
                "model": type(AutoModel.from_pretrained({RELEASE!r}, subfolder="vqvae")).__name__,
                "tokenizer": type(AutoTokenizer.from_pretrained({RELEASE!r}, subfolder="vqvae")).__name__,
                "pending": archllm_hf._registration.pending(),
            }}))
            """
        )
    )
    assert got == {
        "samples": 3,
        "valid": True,
        "config": "ArchVQVAEConfig",
        "model": "ArchVQVAEModel",
        "tokenizer": "ArchCodeTokenizer",
        "pending": [],
    }


def test_registration_when_transformers_came_first():
    got = run_python(
        f"""
        from transformers import AutoModel, pipeline
        import archllm_hf
        model = AutoModel.from_pretrained({RELEASE!r}, subfolder="vqvae")
        samples = pipeline("architecture-generation", model={RELEASE!r})(num_samples=2, seed=0)
        print(type(model).__name__, len(samples), archllm_hf._registration.pending())
        """
    )
    assert got == "ArchVQVAEModel 2 []"


def test_lazy_attributes_and_networks_on_first_use():
    got = run_python(
        """
        import sys
        import archllm_hf
        space = archllm_hf.get_space("nb201")
        before = "archllm_hf.networks" in sys.modules
        network = space.to_module(space.parse("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|"
                                              "+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|"))
        print(before, type(network).__name__, archllm_hf.ArchitectureGenerator.__name__,
              archllm_hf.networks.__name__)
        """
    )
    assert got == "False NB201Network ArchitectureGenerator archllm_hf.networks"


def test_an_unknown_attribute_is_an_attribute_error():
    import archllm_hf

    try:
        archllm_hf.no_such_thing  # noqa: B018
    except AttributeError as err:
        assert "no_such_thing" in str(err)
    else:
        raise AssertionError("archllm_hf.no_such_thing did not raise")


def test_archllm_version():
    done = subprocess.run(
        [sys.executable, "-m", "archllm_hf.cli", "--version"], capture_output=True, text=True, timeout=120
    )
    import archllm_hf

    assert done.returncode == 0 and done.stdout.strip() == f"archllm {archllm_hf.__version__}"


def _options_without_help(parser: argparse.ArgumentParser, path: str) -> list[str]:
    missing = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helped = {choice.dest for choice in action._choices_actions if choice.help}
            for name, sub in action.choices.items():
                if name not in helped:
                    missing.append(f"{path} {name} (the command)")
                missing += _options_without_help(sub, f"{path} {name}")
        elif not action.help or action.help == argparse.SUPPRESS:
            missing.append(f"{path} {'/'.join(action.option_strings) or action.dest}")
    return missing


def test_every_command_and_option_has_help():
    from archllm_hf.cli import build_parser

    assert _options_without_help(build_parser(), "archllm") == []


def test_a_failed_registration_warns_and_stays_pending(monkeypatch):
    from archllm_hf import _registration

    def fail() -> None:
        raise ImportError("no such class")

    monkeypatch.setattr(_registration, "_pending", [_registration._Pending("test", ("archllm_hf._registration",), fail)])
    with pytest.warns(RuntimeWarning, match="could not register its test classes"):
        _registration._run_due()
    assert _registration.pending() == ["test"]  # tried again on the next watched import
