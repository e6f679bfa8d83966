"""The distribution ships every package and the card templates, and the README keeps its two set-up commands."""

from __future__ import annotations

import re

import tomllib
from conftest import REPO_ROOT


def test_every_package_under_src_is_listed_in_pyproject():
    config = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    listed = set(config["tool"]["setuptools"]["packages"])
    on_disk = {
        ".".join(init.parent.relative_to(REPO_ROOT / "src").parts)
        for init in (REPO_ROOT / "src").rglob("__init__.py")
        if "metrics" not in init.parts  # evaluate metric folders ship as package data, not packages
    }
    assert on_disk - listed == set(), "add these packages to [tool.setuptools] packages"
    assert "archllm_hf.hub_cards" in listed


def test_card_templates_are_importable_package_data():
    from importlib import resources

    template = resources.files("archllm_hf.hub_cards").joinpath("dataset_card.md").read_text()
    assert "{{ card_data }}" in template


def _marked_commands(readme: str) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for marker, block in re.findall(r"<!-- (\S+-command) -->\s*```bash\n(.*?)```", readme, flags=re.S):
        found.setdefault(marker, []).append(block.strip())
    return found


def test_readme_has_exactly_two_setup_commands_and_ci_runs_the_test_one():
    readme = (REPO_ROOT / "README.md").read_text()
    commands = _marked_commands(readme)
    assert sorted(commands) == ["main-command", "test-command"]
    assert all(len(v) == 1 and "\n" not in v[0] for v in commands.values())
    ci_lines = (REPO_ROOT / ".ci" / "run").read_text().splitlines()
    assert commands["test-command"][0] in ci_lines  # CI runs the README's test command verbatim
