"""Time a full NAS-Bench-101 enumeration (423,624 unique cells) and write the numbers as JSON.

    python benchmarks/enumerate_nb101.py [--workers N] [--cache-dir DIR] [--cache] [--out FILE]

By default (``--no-cache``) the enumeration runs from scratch in a fresh temporary cache folder (inside
``--cache-dir`` if given), including writing the cache file, and the folder is removed afterwards. With
``--cache`` the cache in ``--cache-dir`` (default ``$ARCHLLM_CACHE`` or ``~/.cache/archllm_hf``) is reused.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from archllm_hf.spaces.nb101 import NUM_UNIQUE_CELLS, enumerate_nb101, enumeration_cache_path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=None, help="processes (default: os.cpu_count())")
    parser.add_argument("--cache-dir", type=Path, default=None, help="cache folder (see module docstring)")
    parser.add_argument(
        "--no-cache",
        dest="no_cache",
        action="store_true",
        default=True,
        help="enumerate from scratch in a fresh temporary cache folder (default)",
    )
    parser.add_argument(
        "--cache", dest="no_cache", action="store_false", help="reuse the cache in --cache-dir"
    )
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/enumerate_nb101.json"))
    parser.add_argument("--progress", action="store_true", help="show a progress bar")
    args = parser.parse_args(argv)

    if args.no_cache:
        if args.cache_dir is not None:
            args.cache_dir.mkdir(parents=True, exist_ok=True)
        cache_dir = Path(tempfile.mkdtemp(prefix="nb101-enum-", dir=args.cache_dir))
    else:
        cache_dir = args.cache_dir
    cache_file = enumeration_cache_path(cache_dir=cache_dir)
    cache_hit = cache_file.exists()
    try:
        start = time.perf_counter()
        result = enumerate_nb101(workers=args.workers, progress=args.progress, cache_dir=cache_dir)
        wall = time.perf_counter() - start
        start = time.perf_counter()
        reloaded = enumerate_nb101(cache_dir=cache_dir)
        reload_wall = time.perf_counter() - start
        cache_bytes = cache_file.stat().st_size
    finally:
        if args.no_cache:
            shutil.rmtree(cache_dir, ignore_errors=True)

    count = len(result)
    sizes, per_size = np.unique(result.num_vertices, return_counts=True)
    report = {
        "benchmark": "enumerate_nb101",
        "timestamp": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "wall_s": round(wall, 3),
        "count": count,
        "expected_count": NUM_UNIQUE_CELLS,
        "count_ok": count == NUM_UNIQUE_CELLS,
        "num_labeled_graphs": result.num_labeled,
        "unique_by_num_vertices": {int(v): int(c) for v, c in zip(sizes, per_size)},
        "workers": args.workers or os.cpu_count(),
        "cpu_count": os.cpu_count(),
        "from_scratch": not cache_hit,
        "cache_reload_s": round(reload_wall, 3),
        "cache_reload_identical": bool(np.array_equal(reloaded.hashes, result.hashes)),
        "cache_file_bytes": cache_bytes,
        "python": sys.version.split()[0],
        "numpy": np.__version__,
        "platform": platform.platform(),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=args.out.parent, prefix=args.out.name, suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        json.dump(report, f, indent=2)
        f.write("\n")
    os.replace(tmp, args.out)
    print(json.dumps(report, indent=2))
    if count != NUM_UNIQUE_CELLS:
        print(f"ERROR: expected {NUM_UNIQUE_CELLS} unique cells, got {count}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
