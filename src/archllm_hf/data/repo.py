"""Write a Hub-ready dataset repo folder: one parquet config per space plus a ``README.md`` dataset card.

Layout::

    DIR/README.md                      # card with YAML `configs:` (rendered from hub_cards/dataset_card.md)
    DIR/<config>/train-00000-of-00001.parquet
    DIR/<config>/validation-00000-of-00001.parquet
    DIR/<config>/test-00000-of-00001.parquet
    DIR/<config>/build_info.json       # how the config was built (read back to render the card)

``datasets.load_dataset(DIR, "<config>")`` loads it; :func:`upload_dataset_repo` publishes it.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import datasets
import pyarrow as pa
import pyarrow.parquet as pq
from huggingface_hub import DatasetCard, DatasetCardData

from .. import __version__
from ..utils import atomic_directory, atomic_write_text, folder_lock, remove_stale_temporaries
from .splits import SPLITS

SPACE_TITLES = {"nb101": "NAS-Bench-101", "nb201": "NAS-Bench-201", "darts": "DARTS"}
CONFIG_ORDER = ("nb101", "nb201", "darts")
COLUMN_DOCS = {
    "id": "canonical id (NB101: official hash; NB201: arch string; DARTS: canonical genotype id)",
    "adjacency": "adjacency matrix of the cell graph, `adjacency[i][j] = 1` for an edge i → j (i < j)",
    "operations": "label of every vertex of the cell graph, in the order of `adjacency`",
    "num_vertices": "number of vertices of the cell graph",
    "num_edges": "number of edges of the cell graph",
    "arch_str": "NB201 arch string, e.g. `\\|nor_conv_3x3~0\\|+\\|none~0\\|skip_connect~1\\|+...`",
    "genotype": "DARTS `Genotype(normal=..., normal_concat=..., reduce=..., reduce_concat=...)` text",
    "unique_str": "NB201 unique string: the isomorphism class (6,466 classes)",
    "connected": "whether the output is reachable from the input through non-`none` edges (false for 341 cells)",
    "proxy_params": "trainable parameters of the cell's benchmark network (`space.to_module`)",
    "proxy_flops": "FLOPs of one 32x32 forward pass of the cell's benchmark network",
    "proxy_synflow": "SynFlow score of the cell's benchmark network (data-free)",
}
"""Descriptions of the known columns; any other column is a benchmark metric joined by canonical id."""
BUILD_INFO = "build_info.json"


@dataclass
class ConfigSummary:
    name: str
    title: str
    splits: dict[str, int]
    command: str
    metrics: list[str] | None
    selection: str

    @property
    def total(self) -> int:
        return sum(self.splits.values())


def write_dataset_config(
    dataset: datasets.DatasetDict, out_dir: str | Path, config: str, build_info: dict[str, Any] | None = None
) -> Path:
    """Write one config (``out_dir/<config>/<split>-00000-of-00001.parquet``) and re-render the card.

    The config folder is written under a temporary name and swapped in whole, so an interrupted build never leaves
    a half-written config; other configs already in ``out_dir`` are kept.
    """
    missing = [split for split in SPLITS if split not in dataset]
    if missing:
        raise ValueError(f"dataset lacks split(s) {missing}; expected {list(SPLITS)}")
    out_dir = Path(out_dir)
    with folder_lock(out_dir):  # one build at a time; so what a killed build left can go
        remove_stale_temporaries(out_dir, config)
        with atomic_directory(out_dir / config) as tmp:
            for split in SPLITS:
                dataset[split].to_parquet(str(tmp / f"{split}-00000-of-00001.parquet"))
            info = {"config": config, "num_rows": {s: dataset[s].num_rows for s in SPLITS}, **(build_info or {})}
            (tmp / BUILD_INFO).write_text(json.dumps(info, indent=2) + "\n")
        render_dataset_card(out_dir)
    return out_dir


def load_cells_repo(source: str | Path, config: str) -> datasets.DatasetDict:
    """One config of a cells dataset repo: a local folder (read straight from its parquet files) or a Hub repo id.

    A local folder does not go through ``datasets.load_dataset``, whose cache keys a local folder by its name and
    the config, not by its content: two folders called ``data`` with an ``nb201`` config would share one cache entry,
    and the second would silently load the first's rows.
    """
    folder = Path(source)
    if not folder.is_dir():
        return datasets.load_dataset(str(source), config)
    splits = {}
    for split in SPLITS:
        files = sorted((folder / config).glob(f"{split}-*.parquet"))
        if not files:
            raise FileNotFoundError(
                f"{folder} has no {config}/{split}-*.parquet; write it with `archllm data build`"
            )
        table = pa.concat_tables([pq.read_table(f) for f in files])
        if (
            table.num_columns == 0
        ):  # an empty split is written without columns; its features are in the metadata
            table = datasets.Features.from_arrow_schema(table.schema).arrow_schema.empty_table()
        splits[split] = datasets.Dataset(table)
    return datasets.DatasetDict(splits)


def render_dataset_card(out_dir: str | Path, repo_id: str = "archllm-hf/nas-bench-cells") -> Path:
    """(Re)write ``out_dir/README.md`` from the template, describing every config folder present."""
    out_dir = Path(out_dir)
    summaries = [_summary(out_dir / name) for name in CONFIG_ORDER if (out_dir / name / BUILD_INFO).is_file()]
    if not summaries:
        raise FileNotFoundError(f"no dataset config folders with {BUILD_INFO} in {out_dir}")
    configs_yaml = [
        {
            "config_name": s.name,
            "data_files": [{"split": split, "path": f"{s.name}/{split}-*.parquet"} for split in SPLITS],
            **({"default": True} if i == 0 else {}),
        }
        for i, s in enumerate(summaries)
    ]
    total = sum(s.total for s in summaries)
    card_data = DatasetCardData(
        license="apache-2.0",
        pretty_name="NAS-Bench cells (archllm-hf)",
        tags=["neural-architecture-search", "nas-bench-101", "nas-bench-201", "darts", "graphs"],
        task_categories=["graph-ml"],
        size_categories=[_size_category(total)],
        configs=configs_yaml,
    )
    schema = pq.read_schema(out_dir / summaries[0].name / f"{SPLITS[0]}-00000-of-00001.parquet")
    features = datasets.Features.from_arrow_schema(schema)
    columns = [
        {
            "name": name,
            "dtype": _dtype_name(feature),
            "doc": COLUMN_DOCS.get(name, "benchmark metric, joined by canonical id (null where absent)"),
        }
        for name, feature in features.items()
    ]
    template = resources.files("archllm_hf.hub_cards").joinpath("dataset_card.md").read_text()
    card = DatasetCard.from_template(
        card_data,
        template_str=template,
        configs=summaries,
        columns=columns,
        version=__version__,
        repo_id=repo_id,
    )
    atomic_write_text(out_dir / "README.md", str(card))
    return out_dir / "README.md"


def upload_dataset_repo(
    out_dir: str | Path, repo_id: str, private: bool = False, token: str | None = None
) -> str:
    """Publish the folder as a Hub dataset repo (needs network and a token); returns the commit URL."""
    from huggingface_hub import HfApi

    api = HfApi(token=token)
    api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
    info = api.upload_folder(
        repo_id=repo_id,
        folder_path=str(out_dir),
        repo_type="dataset",
        commit_message="Upload NAS-Bench cells (archllm-hf)",
        allow_patterns=["README.md", "*/*.parquet", f"*/{BUILD_INFO}"],
        ignore_patterns=[".*", ".*/*"],  # a killed build's temporary folder (.nb201.XXXX.tmp/) never goes up
        delete_patterns=["*/*.parquet", f"*/{BUILD_INFO}"],  # configs and shards a new build dropped go too
    )
    return str(info)


def _summary(config_dir: Path) -> ConfigSummary:
    info = json.loads((config_dir / BUILD_INFO).read_text())
    name = config_dir.name
    if info.get("num_samples"):
        selection = f"{info['num_samples']:,} unique uniform samples (seed {info.get('seed', 0)})"
    else:
        selection = "full enumeration"
    command = info.get("command") or f"archllm data build --space {name}"
    return ConfigSummary(
        name=name,
        title=SPACE_TITLES.get(name, name),
        splits={s: int(info["num_rows"][s]) for s in SPLITS},
        command=command,
        metrics=_as_list(info.get("metrics")),
        selection=selection,
    )


def _dtype_name(feature: Any) -> str:
    if isinstance(feature, datasets.Value):
        return feature.dtype
    if isinstance(feature, (datasets.List, datasets.Sequence)):
        return f"list[{_dtype_name(feature.feature)}]"
    return type(feature).__name__


def _size_category(n: int) -> str:
    for bound, label in (
        (1_000, "n<1K"),
        (10_000, "1K<n<10K"),
        (100_000, "10K<n<100K"),
        (1_000_000, "100K<n<1M"),
    ):
        if n < bound:
            return label
    return "1M<n<10M"


def build_command(argv: list[str]) -> str:
    """The CLI command line recorded in ``build_info.json`` (paths as given)."""
    return "archllm " + " ".join(shlex.quote(a) for a in argv)


def _as_list(metrics: str | list[str] | None) -> list[str] | None:
    """Metric files of a build; builds before several files were allowed recorded a single path."""
    if metrics is None or isinstance(metrics, list):
        return metrics
    return [metrics]


__all__ = [
    "build_command",
    "load_cells_repo",
    "render_dataset_card",
    "upload_dataset_repo",
    "write_dataset_config",
]
