"""The ``archllm`` console script's entry point, outside the package on purpose.

``archllm --help`` imports only the package's light modules (no torch, no transformers), but a command imports torch
and transformers when it runs (seconds). A Ctrl-C during an import here ends in one line and exit status 130, never a
traceback, since the script's entry point does not live inside the package being imported.
"""

from __future__ import annotations

import sys


def main() -> int:
    try:
        from archllm_hf.cli import main as run
    except KeyboardInterrupt:
        print("archllm: interrupted", file=sys.stderr)
        return 130
    return run()


if __name__ == "__main__":
    raise SystemExit(main())
