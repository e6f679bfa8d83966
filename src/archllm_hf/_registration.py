"""Registration of the package's models, tokenizer and pipeline task with transformers, without importing them early.

``import archllm_hf`` calls :func:`install`, which costs nothing: it imports neither torch nor transformers. The
registrations run when transformers' own registries come into use:

- the Auto classes (``AutoConfig``/``AutoModel``/``AutoTokenizer`` for the VQ-VAE, arch2vec and the graph predictor)
  once any of transformers' ``models.auto`` modules has been imported (``from transformers import AutoModel``);
- the ``architecture-generation`` pipeline task once ``transformers.pipelines`` has been imported
  (``from transformers import pipeline``).

transformers' registries hold classes, not names (``PIPELINE_REGISTRY.register_pipeline`` sets an attribute on the
pipeline class, ``AutoModel.register`` checks the model class), so the registration cannot be written down before
the classes are imported. Instead a finder on ``sys.meta_path`` watches the imports of torch, transformers and
``archllm_hf`` modules while a registration is pending, and runs it as soon as its trigger module is imported and no
module of torch, transformers or this package is half-initialised (transformers imports its ``models.auto`` modules
from deep inside other imports, where importing a model class would fail). The finder leaves ``sys.meta_path`` once
both registrations have run. If transformers is already imported, :func:`install` registers at once.

Registering again (a second call, a reload) is harmless.
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
import threading
import warnings
from collections.abc import Callable, Sequence
from types import ModuleType

PIPELINE_TASK = "architecture-generation"

_AUTO_TRIGGERS = (
    "transformers.models.auto.configuration_auto",
    "transformers.models.auto.modeling_auto",
    "transformers.models.auto.tokenization_auto",
)
_PIPELINE_TRIGGERS = ("transformers.pipelines",)
_WATCHED_PREFIXES = ("transformers", "torch", "archllm_hf")


def register_auto_classes() -> None:
    """Register ArchVQVAE (config, model, code tokenizer), arch2vec (config, model) and the graph predictor (config,
    model) with the Auto classes."""
    from transformers import AutoConfig, AutoModel, AutoTokenizer

    from .models.arch2vec import Arch2VecConfig, Arch2VecModel
    from .models.arch_predictor import ArchPredictorConfig, ArchPredictorModel
    from .models.arch_vqvae import ArchCodeTokenizer, ArchVQVAEConfig, ArchVQVAEModel

    AutoConfig.register(ArchVQVAEConfig.model_type, ArchVQVAEConfig, exist_ok=True)
    AutoModel.register(ArchVQVAEConfig, ArchVQVAEModel, exist_ok=True)
    AutoTokenizer.register(ArchVQVAEConfig, tokenizer_class=ArchCodeTokenizer, exist_ok=True)
    AutoConfig.register(Arch2VecConfig.model_type, Arch2VecConfig, exist_ok=True)
    AutoModel.register(Arch2VecConfig, Arch2VecModel, exist_ok=True)
    AutoConfig.register(ArchPredictorConfig.model_type, ArchPredictorConfig, exist_ok=True)
    AutoModel.register(ArchPredictorConfig, ArchPredictorModel, exist_ok=True)


def register_pipeline() -> None:
    """Register the ``architecture-generation`` task (prior: any ``AutoModelForCausalLM``)."""
    from transformers.pipelines import PIPELINE_REGISTRY

    from .pipelines.architecture_generation import ArchitectureGenerationPipeline, QuietAutoModelForCausalLM

    if PIPELINE_REGISTRY.supported_tasks.get(PIPELINE_TASK, {}).get("impl") is ArchitectureGenerationPipeline:
        return  # already registered: transformers would log "already registered. Overwriting"
    PIPELINE_REGISTRY.register_pipeline(
        PIPELINE_TASK,
        pipeline_class=ArchitectureGenerationPipeline,
        pt_model=QuietAutoModelForCausalLM,  # AutoModelForCausalLM, without the load report on the console
        type="text",
    )


class _Pending:
    """One registration waiting for its trigger modules."""

    def __init__(self, name: str, triggers: Sequence[str], register: Callable[[], None]) -> None:
        self.name = name
        self.triggers = tuple(triggers)
        self.register = register


_lock = threading.RLock()
_pending: list[_Pending] = []
_running = False
_executing: dict[str, int] = {}
"""Watched modules whose code is running now (imported through the finder, import not finished), with counts."""


def _fully_imported(name: str) -> bool:
    module = sys.modules.get(name)
    if module is None:
        return False
    spec = getattr(module, "__spec__", None)
    return not getattr(spec, "_initializing", False)


def _busy(finishing: str | None) -> bool:
    """Whether a module of torch, transformers or this package (other than ``finishing`` and the package itself, whose
    submodules may be imported while it initialises) is being imported."""
    if _executing:  # the quick answer, for the many modules that finish inside a longer import
        return True
    for name, module in list(sys.modules.items()):  # those that began before the finder was installed
        if name in (finishing, "archllm_hf") or name.split(".")[0] not in _WATCHED_PREFIXES:
            continue
        if getattr(getattr(module, "__spec__", None), "_initializing", False):
            return True
    return False


def _run_due(finishing: str | None = None) -> None:
    """Run every pending registration whose trigger is imported, unless an import it could collide with is running.

    The lock only guards the choice of what to run, never the imports the registrations do (another thread importing
    a watched module would otherwise wait on it while holding its module lock). A registration that fails goes back
    to the pending list, with a warning, rather than breaking the import of transformers that triggered it."""
    global _running
    with _lock:
        if _running or not _pending:
            return
        due = [p for p in _pending if any(_fully_imported(t) or t == finishing for t in p.triggers)]
        if not due or _busy(finishing):
            return
        _running = True
        for item in due:
            _pending.remove(item)
    try:
        for item in due:
            try:
                item.register()
            except Exception as err:  # noqa: BLE001 - reported, and retried on the next watched import
                with _lock:
                    _pending.append(item)
                warnings.warn(
                    f"archllm_hf could not register its {item.name} classes with transformers "
                    f"({type(err).__name__}: {err}); call archllm_hf._registration.register_auto_classes() and "
                    "register_pipeline() to see the traceback",
                    RuntimeWarning,
                    stacklevel=2,
                )
    finally:
        with _lock:
            _running = False
            if not _pending:
                _uninstall_finder()


class _Loader(importlib.abc.Loader):
    """Wraps a watched module's loader: after the module has run, run the registrations that are due."""

    def __init__(self, loader: importlib.abc.Loader) -> None:
        self._loader = loader

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self._loader.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        name = module.__name__
        with _lock:
            _executing[name] = _executing.get(name, 0) + 1
        try:
            self._loader.exec_module(module)
        finally:
            with _lock:
                if _executing[name] == 1:
                    del _executing[name]
                else:
                    _executing[name] -= 1
        _run_due(finishing=name)

    def __getattr__(self, name: str):  # get_resource_reader, get_source, is_package, ...
        return getattr(self._loader, name)


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname: str, path, target=None):  # noqa: ANN001 - the MetaPathFinder signature
        if not _pending or fullname.split(".")[0] not in _WATCHED_PREFIXES:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None:
                if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                    spec.loader = _Loader(spec.loader)
                return spec
        return None


_finder = _Finder()


def _uninstall_finder() -> None:
    if _finder in sys.meta_path:
        sys.meta_path.remove(_finder)


def install() -> None:
    """Arrange for the Auto classes and the pipeline task to be registered when transformers' registries are imported
    (now, if they already are). Cheap: imports nothing."""
    with _lock:
        names = {p.name for p in _pending}
        if "auto" not in names:
            _pending.append(_Pending("auto", _AUTO_TRIGGERS, register_auto_classes))
        if "pipeline" not in names:
            _pending.append(_Pending("pipeline", _PIPELINE_TRIGGERS, register_pipeline))
        if _finder not in sys.meta_path:
            sys.meta_path.insert(0, _finder)
    _run_due()


def pending() -> list[str]:
    """The registrations still waiting for their trigger (``"auto"``, ``"pipeline"``)."""
    return [p.name for p in _pending]


__all__ = ["PIPELINE_TASK", "install", "pending", "register_auto_classes", "register_pipeline"]
