"""The ``zoo`` command line.

Exit status: 0 success; 1 a check found a disagreement; 2 bad input (an unknown name, a bad spec,
a bad option), with the message on stderr and no traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from zoo.cli.commands import EXIT_CRASH, EXIT_DISAGREE, EXIT_OK, EXIT_USAGE
from zoo.cli.parser import parser
from zoo.specification.errors import SpecError

__all__ = ["EXIT_CRASH", "EXIT_DISAGREE", "EXIT_OK", "EXIT_USAGE", "main", "parser"]


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return int(args.func(args))
    except SpecError as exc:
        print(f"zoo: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
