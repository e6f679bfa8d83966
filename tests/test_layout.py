"""Data flows one way: the model folders import nothing of the package outside themselves (so they ship as remote
code), the search-space semantics import no other floor, and ``training/`` never samples or scores."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from conftest import REPO_ROOT

PACKAGE = REPO_ROOT / "src" / "archllm_hf"


def imports(path: Path) -> list[tuple[str, int]]:
    """``(module, level)`` of every import in a file (level > 0 for relative imports), with ``importlib`` and
    ``__import__`` calls reported as imports of ``"importlib"``."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(alias.name, 0) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            found.append((node.module or "", node.level))
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "__import__":
            found.append(("importlib", 0))
    return found


MODEL_FILES = sorted((PACKAGE / "models").rglob("*.py"))


@pytest.mark.parametrize("path", MODEL_FILES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_model_folders_are_self_contained(path):
    for module, level in imports(path):
        assert level <= 1, f"{path.name} imports {'.' * level}{module} from outside its folder"
        assert not module.startswith("archllm_hf"), f"{path.name} imports {module}"
        assert module.split(".")[0] != "importlib", f"{path.name} imports modules dynamically"


@pytest.mark.parametrize("path", sorted((PACKAGE / "spaces").glob("*.py")), ids=lambda p: p.name)
def test_spaces_import_only_the_ground_floor(path):
    for module, level in imports(path):
        if level == 2:  # from ..X
            assert module in ("errors", "utils"), f"spaces/{path.name} imports ..{module}"
        assert not module.startswith("archllm_hf"), f"spaces/{path.name} imports {module}"


@pytest.mark.parametrize("path", sorted((PACKAGE / "training").glob("*.py")), ids=lambda p: p.name)
def test_training_only_trains(path):
    for module, level in imports(path):
        if level == 2:
            assert module.split(".")[0] not in (
                "generation",
                "scoring",
                "search",
                "evaluation",
                "pipelines",
                "run",
                "cli",
            )


@pytest.mark.parametrize("path", sorted((PACKAGE / "search").glob("*.py")), ids=lambda p: p.name)
def test_search_comes_after_generation_and_before_the_benchmarks(path):
    for module, level in imports(path):
        if level == 2:
            assert module.split(".")[0] not in ("evaluation", "pipelines", "run", "cli"), (
                f"search/{path.name}"
            )


@pytest.mark.parametrize("script", sorted((REPO_ROOT / "benchmarks").glob("*.py")), ids=lambda p: p.name)
def test_the_benchmark_scripts_import(script, monkeypatch):
    import importlib.util

    monkeypatch.syspath_prepend(str(script.parent))
    spec = importlib.util.spec_from_file_location(f"benchmark_{script.stem}", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # the scripts only run under ``if __name__ == "__main__"``
    assert module.__doc__


def test_the_benchmark_scripts_are_thin():
    for script in (REPO_ROOT / "benchmarks").glob("*.py"):
        if script.name != "render_readme.py":
            assert len(script.read_text().splitlines()) < 120, (
                f"{script.name}: move its logic into the package"
            )
