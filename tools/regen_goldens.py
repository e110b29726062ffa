"""Regenerate golden summaries: ``python tools/regen_goldens.py [NAMES]`` (default: every spec).

Each golden is Keras's summary of the spec, and is written only when the formula
engine agrees with it row by row and it matches the spec's ``expect:``. Every
requested spec is checked before any file is written, and each file is written
atomically, so a refusal or an interruption leaves every golden old or new, never
half-written. Exit status: 0 written, 1 refused (nothing written), 2 bad input.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import zoo  # noqa: E402
from zoo import golden  # noqa: E402

GOLDENS = ROOT / "tests" / "goldens"


def regenerate(names: list[str], folder: Path = GOLDENS) -> tuple[list[Path], dict[str, list[str]]]:
    """Check every name, then write all goldens; returns (written paths, refusals by name)."""
    texts, refused = {}, {}
    for name in names:
        spec = zoo.spec(name)
        keras_s = zoo.summary(spec, engine="keras")
        found = golden.problems(spec, keras_s, zoo.summary(spec, engine="formula"))
        if found:
            refused[name] = found
        else:
            texts[name] = golden.dumps(keras_s)
    if refused:
        return [], refused
    written = []
    for name, text in texts.items():
        path = folder / f"{name}.yml"
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            golden.write_atomic(path, text)
            written.append(path)
    return written, {}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("names", nargs="*", help="spec names (default: all)")
    p.add_argument("--goldens", type=Path, default=GOLDENS, help="golden folder")
    args = p.parse_args(argv)
    try:
        names = args.names or zoo.names()
        for name in names:
            zoo.default_registry().path(name)
        written, refused = regenerate(names, args.goldens)
    except zoo.SpecError as exc:
        print(f"regen_goldens: error: {exc}", file=sys.stderr)
        return 2
    if refused:
        for name, found in refused.items():
            print(f"refused {name}:", file=sys.stderr)
            for line in found:
                print(f"    {line}", file=sys.stderr)
        print("nothing was written", file=sys.stderr)
        return 1
    for path in written:
        print(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    print(f"{len(names)} checked, {len(written)} changed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
