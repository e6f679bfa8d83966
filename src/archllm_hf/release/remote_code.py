"""The remote code a release repo ships: which of the package's modules, declared once, for one search space.

A repo of space ``S`` carries, flat at its root, exactly :data:`SHIPPED_CORE` (the remote pipeline, the sampling loop
it shares with the package's samplers, the VQ-VAE's four modules, the search-space interface and the errors module), the modules of ``S`` (:data:`SHIPPED_SPACES`) and a
``spaces.py`` that imports that one space (:func:`spaces_module`). Nothing else: transformers reads the remote code
of a ``subfolder=`` load from the repo root (``get_class_from_dynamic_module`` drops ``subfolder``), so
``vqvae/config.json``'s ``auto_map`` names the root modules and ``vqvae/`` holds no ``.py`` file.

Each shipped file is the package's own source, flattened: a relative import of another shipped module names it by
its name in the repo (``from ..errors import`` becomes ``from .errors import``, ``from ..spaces.base import`` becomes
``from .base import``); a shipped module may import no other module of the package. ``tests/test_release.py`` regenerates every committed
``hub/archvq-*`` code file with :func:`remote_code_files` and fails on any difference, missing or extra file.
"""

from __future__ import annotations

import re
from pathlib import Path

PACKAGE_ROOT = Path(__file__).resolve().parents[1]
"""The ``archllm_hf`` folder: the shipped files' paths below are relative to it."""

REMOTE_PIPELINE_FILE = "pipeline_arch_vqvae.py"
SPACES_FILE = "spaces.py"

SHIPPED_CORE: dict[str, str] = {
    REMOTE_PIPELINE_FILE: "release/remote/pipeline_arch_vqvae.py",
    "sampler.py": "generation/sampler.py",
    "configuration_arch_vqvae.py": "models/arch_vqvae/configuration_arch_vqvae.py",
    "modeling_arch_vqvae.py": "models/arch_vqvae/modeling_arch_vqvae.py",
    "processing_arch_vqvae.py": "models/arch_vqvae/processing_arch_vqvae.py",
    "tokenization_arch_vqvae.py": "models/arch_vqvae/tokenization_arch_vqvae.py",
    "base.py": "spaces/base.py",
    "errors.py": "errors.py",
}
"""``{name in the repo: path in the package}`` of the files every release repo ships, whatever its space."""

SHIPPED_SPACES: dict[str, tuple[str, ...]] = {
    "nb101": (
        "spaces/nb101.py",
        "spaces/nb101_cell.py",
        "spaces/nb101_hash.py",
        "spaces/nb101_enumeration.py",
    ),
    "nb201": ("spaces/nb201.py",),
    "darts": ("spaces/darts.py",),
}
"""``{space: paths in the package}`` of the modules a repo of that space ships, under their own names: the space's
module (``<space>.py``) first, then the modules it is built from."""

_SPACES_TEMPLATE = '''"""The search space of this repo, {space} (written by ``archllm release``): importing its module registers it
with ``base``, whose ``get_space`` and ``space_of`` the pipeline uses; the package's ``archllm_hf.spaces`` imports
all three spaces the same way."""

from .base import get_space, space_of
from .{space} import {class_name}

__all__ = ["{class_name}", "get_space", "space_of"]
'''


def remote_code_files(space: str) -> dict[str, str]:
    """The remote code of a release repo of ``space``: ``{file name at the repo root: text}``.

    Raises:
        ValueError: ``space`` is not a shipped search space.
        RuntimeError: a shipped module imports a module of the package that the repo does not ship (it could not
            run flat).
    """
    if space not in SHIPPED_SPACES:
        raise ValueError(
            f"no remote code for search space {space!r}; choose one of {', '.join(SHIPPED_SPACES)}"
        )
    shipped = {source: name for name, source in SHIPPED_CORE.items()}
    shipped.update({source: Path(source).name for source in SHIPPED_SPACES[space]})
    files = {name: _flattened(source, shipped) for source, name in shipped.items()}
    files[SPACES_FILE] = spaces_module(space)
    return files


def spaces_module(space: str) -> str:
    """The ``spaces.py`` of a repo of ``space``: it imports that one space (registering it) and re-exports
    ``get_space`` and ``space_of``."""
    from ..spaces.base import SPACE_CLASSES  # importing archllm_hf.spaces registered all three

    return _SPACES_TEMPLATE.format(space=space, class_name=SPACE_CLASSES[space].__name__)


_RELATIVE_IMPORT = re.compile(r"^(\s*)from (\.+)([\w.]*) import", flags=re.MULTILINE)


def _flattened(source: str, shipped: dict[str, str]) -> str:
    """The text of the package module at ``source`` with each relative import pointed at the shipped module's name
    in the repo (``shipped``: ``{path in the package: name in the repo}``). An import that already names a file at
    the repo's root (the remote pipeline is written for the repo) stays as it is."""
    at_root = {*shipped.values(), SPACES_FILE}

    def flat(match: re.Match[str]) -> str:
        indent, dots, module = match.groups()
        folder = Path(source).parents[len(dots) - 1]
        target = (folder / module.replace(".", "/")).with_suffix(".py").as_posix()
        if target not in shipped and dots == "." and f"{module}.py" in at_root:
            return match.group(0)
        if target not in shipped:
            raise RuntimeError(
                f"{source} imports {dots}{module}, which a release repo does not ship; it cannot run as flat "
                "remote code"
            )
        return f"{indent}from .{shipped[target][:-3]} import"

    return _RELATIVE_IMPORT.sub(flat, (PACKAGE_ROOT / source).read_text())


__all__ = [
    "REMOTE_PIPELINE_FILE",
    "SHIPPED_CORE",
    "SHIPPED_SPACES",
    "SPACES_FILE",
    "remote_code_files",
    "spaces_module",
]
