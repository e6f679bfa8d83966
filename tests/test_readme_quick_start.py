"""The README's quick start runs as written on a fresh clone: its Python block from the repository root and its
command-line block in a folder holding a copy of ``hub/archvq-nb201``, offline, with an empty Hugging Face cache."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import REPO_ROOT

from archllm_hf.spaces import get_space

MARKER = "<!-- quick-start -->"


def quick_start_blocks() -> tuple[str, list[str]]:
    """The quick start's Python block (right after the marker) and the lines of the bash block after it."""
    readme = (REPO_ROOT / "README.md").read_text()
    assert readme.count(MARKER) == 1, f"README.md must hold one {MARKER}"
    after = readme.split(MARKER, 1)[1]
    python = re.match(r"\s*```python\n(.*?)```", after, flags=re.S)
    assert python, f"no python block right after {MARKER}"
    bash = re.search(r"```bash\n(.*?)```", after[python.end() :], flags=re.S)
    assert bash, "no command-line block after the quick start's python block"
    return python.group(1), [line for line in bash.group(1).splitlines() if line.strip()]


def fresh_env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "TRANSFORMERS_"))}
    return {**env, "HF_HUB_OFFLINE": "1", "HF_HOME": str(home), "OMP_NUM_THREADS": "1"}


def test_the_python_quick_start_runs_from_the_repository_root(tmp_path):
    code, _ = quick_start_blocks()
    assert "hub/archvq-nb201" in code
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO_ROOT,
        env=fresh_env(tmp_path / "hf_home"),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    lines = done.stdout.strip().splitlines()
    assert len(lines) == 4, done.stdout
    space = get_space("nb201")
    for line in lines:
        valid, cell = line.split(" ", 1)
        assert valid == "True"
        assert space.validate(space.parse(cell)).valid
    assert "Loading weights" not in done.stderr and "LOAD REPORT" not in done.stderr


def test_the_command_line_quick_start_runs(tmp_path):
    _, commands = quick_start_blocks()
    shutil.copytree(REPO_ROOT / "hub" / "archvq-nb201", tmp_path / "hub" / "archvq-nb201")
    script = Path(sys.executable).parent / "archllm"
    outputs = []
    for line in commands:
        argv = shlex.split(line)
        assert argv[0] == "archllm", line
        done = subprocess.run(
            [str(script), *argv[1:]],
            cwd=tmp_path,
            env=fresh_env(tmp_path / "hf_home"),
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, f"{line}: {done.stderr[-4000:]}"
        outputs.append(done.stdout)
    rows = [json.loads(row) for row in (tmp_path / "samples.jsonl").read_text().splitlines()]
    assert len(rows) == 100 and {row["valid"] for row in rows} <= {True, False}
    scores = json.loads(outputs[-1])
    assert scores["num_generated"] == 100 and scores["validity"] > 0.9
