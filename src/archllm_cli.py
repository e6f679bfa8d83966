"""The ``archllm`` console script's entry point, outside the package on purpose.

Importing :mod:`archllm_hf` imports torch and transformers (seconds). A Ctrl-C in that time would end in a traceback
if the script's entry point lived inside the package; here it ends in one line and exit status 130.
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
