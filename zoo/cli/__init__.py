"""The ``zoo`` command line.

Exit status: 0 success; 1 a check found a disagreement; 2 bad input (an unknown name, a bad spec,
a bad option), with the message on stderr and no traceback.

Conventions: a reader that stops early (``zoo list | head -2``) ends the command quietly with
status 0; ``-o -`` is standard output; nothing from TensorFlow on stderr unless ``-v``; colour
only on a terminal and never with ``NO_COLOR``.
"""

from __future__ import annotations

import io
import os
import sys
from collections.abc import Sequence

from zoo.cli import quiet
from zoo.cli.commands import EXIT_CRASH, EXIT_DISAGREE, EXIT_OK, EXIT_USAGE
from zoo.cli.parser import parser
from zoo.specification.errors import SpecError

__all__ = ["EXIT_CRASH", "EXIT_DISAGREE", "EXIT_OK", "EXIT_USAGE", "main", "parser"]


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    quiet.setup(verbose=args.verbose)
    try:
        try:
            code = int(args.func(args))
        except SpecError as exc:
            print(f"zoo: error: {exc}", file=sys.stderr)
            code = EXIT_USAGE
        sys.stdout.flush()  # a closed pipe shows here, not at the interpreter's exit
        return code
    except BrokenPipeError:
        _stdout_to_devnull()
        return EXIT_OK


def _stdout_to_devnull() -> None:
    """The reader went away (``zoo list | head -2``): what is left unwritten goes nowhere, so that
    Python's own flush at exit does not fail again (the documented way, Python's signal docs)."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, ValueError, io.UnsupportedOperation):
        return  # not a file (a test's capture): nothing will flush it at exit
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, fd)
    os.close(devnull)
