"""``zoo tour``: what zoo is for, in half a minute.

First the tutorial's examples in the tutorial's order, each as the formula engine works it out
(shapes, parameters, MACs, receptive fields), then built by Keras and compared with its golden:
three witnesses that must agree row by row. Then the rest of the zoo, from the formula engine
alone (no Keras: a second or two for forty keras.applications models). Every line is printed as
it is made. Exit status 1 where a witness disagrees.
"""

from __future__ import annotations

import argparse
import time

import zoo
from zoo.arith.summary import render
from zoo.specification.errors import SpecError

# The tutorial's examples, in the tutorial's order: section 1's Conv1D and Conv2D cells, 2's
# MaxPooling2D, 3's UpSampling2D, 4's GlobalAveragePooling2D, 5's transfer learning with VGG16,
# then its closing arithmetic (tests/test_tour.py checks them against each spec's citation).
TUTORIAL = (
    "conv1d",
    "conv2d",
    "conv2d_same",
    "conv2d_stride2",
    "maxpooling2d",
    "upsampling2d",
    "global_average_pooling2d",
    "vgg16_transfer",
    "worked_example",
    "worked_example_2x2",
)


def _macs(n: int | None) -> str:
    if n is None:
        return "MACs open (input size open)"
    for unit, size in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if n >= size:
            return f"{n / size:6.2f} {unit}MACs"
    return f"{n:6d} MACs"


def say(line: str = "") -> None:
    print(line, flush=True)


def cmd_tour(args: argparse.Namespace) -> int:
    from zoo.cli import quiet
    from zoo.cli.commands import EXIT_DISAGREE, EXIT_OK, golden_folder
    from zoo.golden import check

    started = time.perf_counter()
    folder = golden_folder(args)
    registry = zoo.default_registry()
    tutorial = [name for name in TUTORIAL if name in registry.names()]
    say("zoo tour: the tutorial's examples, each worked out by the formula engine, built by Keras")
    say(
        "and compared with its golden"
        + ("" if folder is not None else " (no golden folder here: run it in a zoo checkout)")
        + "; then the rest of the zoo from the formula engine."
    )
    differ = []
    quiet.import_framework()
    for name in tutorial:
        spec = zoo.spec(name)
        clock = time.perf_counter()
        formula, verdict = check.summary_verdict(name, folder, registry)
        say()
        say(f"# {name}: {spec.description}")
        if spec.citation:
            say(f"# {spec.citation}")
        say(render(formula).rstrip("\n"))
        witnesses = "formula = keras" + (" = golden" if folder is not None else "")
        took = f"({time.perf_counter() - clock:.1f} s)"
        if verdict.status == "ok":
            say(f"ok: {witnesses}, row by row {took}")
        else:
            differ.append(name)
            say(f"DIFFER {took}:")
            for line in verdict.lines:
                say(f"    {line}")
    rest = [name for name in registry.names() if name not in TUTORIAL]
    say()
    say(f"The rest of the zoo ({len(rest)} models), from the formula engine alone:")
    width = max((len(n) for n in rest), default=0)
    for name in rest:
        try:
            s = zoo.summary(name, engine="formula")
        except SpecError as exc:
            differ.append(name)
            say(f"  {name.ljust(width)}  ERROR {exc}")
            continue
        macs = _macs(s.macs)
        say(f"  {name.ljust(width)}  {len(s.rows):4d} layers  {s.total_params:>12,} params  {macs}")
    say()
    total = time.perf_counter() - started
    say(
        f"{len(tutorial)} tutorial examples checked by three witnesses, {len(rest)} models computed, "
        f"in {total:.0f} s" + (f"; {len(differ)} disagree: {', '.join(differ)}" if differ else "")
    )
    say("Next: zoo explain conv2d_stride2 | zoo check | zoo diagram resnet50 -o resnet50.svg")
    return EXIT_DISAGREE if differ else EXIT_OK
