"""The size of ``zoo import --blocks`` beside the flat import and zoo's hand-written family file,
for every keras.applications architecture; and the time recognition takes.

    python tools/import_sizes.py table [--only ResNet50,MobileNetV2] [--readme]
    python tools/import_sizes.py bench [--model NASNetLarge] [--repeat 5]

``table``: each architecture built by keras.applications (``weights=None``), imported flat and with
``--blocks`` (``zoo.from_keras(model, blocks=True)``: both are built again and compared with the
model, so a row is only printed for an import that rebuilds the same model), and the sizes
(:func:`zoo.specification.recognise.size`: non-blank, non-comment lines, and YAML nodes) of the
two files and of the family file in specs/ that describes it (for all its variants, with its
parameters, rules and weights: a file a person wrote). ``--readme`` rewrites the table between the
README's ``<!-- import-sizes -->`` markers. Minutes: forty models are built three times each.
``table --families``: only the hand-written files' columns of the README's table measured again
(after a family file is rewritten: no model is built).

``bench``: recognition alone (:func:`zoo.specification.recognise.recognise` on the flat import's
data, its expansion check included) on NASNetLarge (1,040 layers), against
``keras.saving.load_model`` of the same model's ``.keras`` file, measured side by side, alternating;
medians and their ratio. Target (issue 24): recognition within 5 s on the project's 2-core machine.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BEGIN, END = "<!-- import-sizes -->", "<!-- /import-sizes -->"


def table(only: list[str] | None) -> list[str]:
    import keras

    import zoo
    from zoo.specification import catalog, recognise

    rows = [
        "| keras.applications | layers | flat import (lines / nodes) | `--blocks` (lines / nodes) | blocks "
        "| hand-written family file (lines / nodes) | `--blocks` / hand-written (lines) |",
        "|---|---:|---:|---:|---:|---|---:|",
    ]
    for kind, model_name in catalog.APPLICATIONS.items():
        if only and kind not in only:
            continue
        keras.utils.clear_session()
        started = time.perf_counter()
        model = getattr(keras.applications, kind)(weights=None)
        spec = zoo.from_keras(model, blocks=True)
        flat = getattr(spec, "flat_yaml", "") or spec.to_yaml()
        ours = recognise.size(spec.to_yaml())
        theirs_file = catalog.BASE_FILES[model_name]
        theirs = recognise.size((ROOT / "specs" / f"{theirs_file}.yaml").read_text(encoding="utf-8"))
        count = len(re.findall(r"^  [A-Za-z0-9_]+:$", spec.to_yaml().split("\nlayers:")[0], re.M))
        flat_size = recognise.size(flat)
        rows.append(
            f"| {kind} | {len(spec.layers)} | {flat_size[0]} / {flat_size[1]} | {ours[0]} / {ours[1]} "
            f"| {count} | {theirs_file}.yaml: {theirs[0]} / {theirs[1]} | {ours[0] / theirs[0]:.2f} |"
        )
        print(rows[-1], f"({time.perf_counter() - started:.0f} s)", file=sys.stderr, flush=True)
    return rows


def readme_section(begin: str, end: str) -> str:
    """The README's text between two markers (a generated table)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    return text[text.index(begin) + len(begin) : text.index(end)].strip("\n")


def write_readme_section(begin: str, end: str, section: str) -> None:
    """The README with ``section`` between its two markers instead of what was there."""
    readme = ROOT / "README.md"
    text = readme.read_text(encoding="utf-8")
    start, stop = text.index(begin) + len(begin), text.index(end)
    readme.write_text(text[:start] + "\n" + section + "\n" + text[stop:], encoding="utf-8")


def families() -> None:
    """The README's table with its hand-written family files measured again (the imports' columns
    as they are)."""
    from zoo.specification import recognise

    rows = []
    for row in readme_section(BEGIN, END).splitlines():
        cells = row.split(" | ")
        found = re.fullmatch(r"(\w+)\.yaml: \d+ / \d+", cells[5]) if len(cells) == 7 else None
        if found:
            lines, nodes = recognise.size((ROOT / "specs" / f"{found[1]}.yaml").read_text(encoding="utf-8"))
            ours = int(cells[3].split(" / ")[0])
            cells[5], cells[6] = f"{found[1]}.yaml: {lines} / {nodes}", f"{ours / lines:.2f} |"
        rows.append(" | ".join(cells))
    write_readme_section(BEGIN, END, "\n".join(rows))


def bench(model_name: str, repeat: int) -> None:
    import keras

    from zoo.keras import importer
    from zoo.specification import recognise

    model = getattr(keras.applications, model_name)(weights=None)
    data = importer.spec_data(model)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "model.keras"
        model.save(path)
        times: dict[str, list[float]] = {"recognise": [], "load_model": []}
        for _ in range(repeat):
            t = time.perf_counter()
            out = recognise.recognise(data)
            times["recognise"].append(time.perf_counter() - t)
            keras.utils.clear_session()
            t = time.perf_counter()
            keras.saving.load_model(path, compile=False)
            times["load_model"].append(time.perf_counter() - t)
    ours, theirs = statistics.median(times["recognise"]), statistics.median(times["load_model"])
    print(
        f"{model_name}: {len(data['layers'])} layers, {recognise.block_count(out)} blocks; recognition "
        f"{ours:.2f} s (median of {repeat}), keras load_model of its .keras file {theirs:.2f} s: "
        f"ratio {ours / theirs:.2f}; target: recognition within 5 s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    t = sub.add_parser("table")
    t.add_argument("--only", default=None, help="comma-separated keras.applications names")
    t.add_argument("--readme", action="store_true", help="rewrite the README's table")
    t.add_argument(
        "--families", action="store_true", help="measure only the hand-written files again, in the README"
    )
    b = sub.add_parser("bench")
    b.add_argument("--model", default="NASNetLarge")
    b.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    if args.command == "bench":
        bench(args.model, args.repeat)
        return
    if args.families:
        families()
        return
    rows = table(args.only.split(",") if args.only else None)
    text = "\n".join(rows)
    print(text)
    if args.readme:
        write_readme_section(BEGIN, END, text)


if __name__ == "__main__":
    main()
