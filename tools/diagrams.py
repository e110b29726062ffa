"""Redraw the README's pictures with ``zoo diagram`` itself (needs Graphviz: see ``zoo diagram --help``).

    python tools/diagrams.py             # writes docs/unet_small.svg and docs/resnet50_blocks.svg
    python tools/diagrams.py --out DIR   # the same pictures into DIR

Each picture is one ``zoo diagram`` command line, run through ``zoo.cli.main``: what
the README shows is exactly what the command draws.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the working tree's zoo, also without an install

from zoo.cli import main  # noqa: E402

# file name in docs/ -> the command's arguments
PICTURES = {
    "unet_small.svg": ["unet_small"],
    "resnet50_blocks.svg": ["resnet50", "--detail", "blocks"],
}


def run(out: Path) -> int:
    for file, argv in PICTURES.items():
        status = main(["diagram", *argv, "-o", str(out / file)])
        if status:
            return status
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs", help="folder to write to (default: docs/)")
    sys.exit(run(parser.parse_args().out))
