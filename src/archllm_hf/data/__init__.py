"""The NAS-Bench cells as a ``datasets`` repo: build, split, write, upload."""

from .build import build_cells_dataset, default_cells_cache, features_for, iter_space_cells, space_cells
from .metrics import MetricTable, load_metric_table, load_metrics, load_nb201_metrics
from .repo import load_cells_repo, render_dataset_card, upload_dataset_repo, write_dataset_config
from .splits import SPLITS, arch2vec_split, split_for_id

__all__ = [
    "SPLITS",
    "arch2vec_split",
    "build_cells_dataset",
    "default_cells_cache",
    "features_for",
    "iter_space_cells",
    "MetricTable",
    "load_cells_repo",
    "load_metric_table",
    "load_metrics",
    "load_nb201_metrics",
    "render_dataset_card",
    "space_cells",
    "split_for_id",
    "upload_dataset_repo",
    "write_dataset_config",
]
