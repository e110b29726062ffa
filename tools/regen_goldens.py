"""Regenerate golden summaries: ``python tools/regen_goldens.py [NAMES]`` (default: every spec).

The same as ``zoo golden regen [NAMES]`` with this checkout's ``tests/goldens``:
each golden is Keras's summary of the spec, written only when the formula engine
agrees with it row by row and it matches the spec's ``expect:``. Every requested
spec is checked before any file is written, and each file is written atomically,
so a refusal or an interruption leaves every golden old or new, never half-written.
Exit status: 0 written, 1 refused (nothing written), 2 bad input.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from zoo.cli import main  # noqa: E402
from zoo.golden.check import regenerate  # noqa: E402,F401  (re-exported for scripts and tests)

GOLDENS = ROOT / "tests" / "goldens"

if __name__ == "__main__":
    sys.exit(main(["golden", "regen", "--goldens", str(GOLDENS), *sys.argv[1:]]))
