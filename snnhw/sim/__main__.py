"""python -m snnhw.sim BUILD_DIR [OPTIONS]: the same command as ``snnhw sim`` (see ``--help``).

Build directories' Makefiles call it through the interpreter of their environment, where the ``snnhw``
script may not be on PATH.
"""
from __future__ import annotations

import sys


def main(argv=None) -> int:
    from snnhw.cli import sim_main

    return sim_main(argv)


if __name__ == "__main__":
    sys.exit(main())
