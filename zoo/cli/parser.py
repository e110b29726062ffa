"""The ``zoo`` command line's arguments: one small function per command, one table of commands."""

from __future__ import annotations

import argparse
import difflib
import os
from collections.abc import Callable
from pathlib import Path

from zoo import diagram
from zoo.cli import commands, completion, tour

GOLDENS_HELP = "golden folder (default: ./tests/goldens when it exists); golden regen makes it where missing"


def _overrides(s: argparse.ArgumentParser) -> None:
    s.add_argument("--input-shape", metavar="H,W,C", help="another input shape, e.g. 96,96,3")
    s.add_argument(
        "--set",
        action="append",
        metavar="KEY=VALUE",
        help="a keras.applications argument of a family's model, e.g. include_top=false, "
        "pooling=avg, classes=10, alpha=0.5, data_format=channels_first (repeatable)",
    )


def _names(s: argparse.ArgumentParser) -> None:
    s.add_argument("names", nargs="*", metavar="NAME", help="default: every spec")
    s.add_argument("--goldens", type=Path, default=None, help=GOLDENS_HELP)


def _check(s: argparse.ArgumentParser) -> None:
    _names(s)
    s.add_argument(
        "--json",
        action="store_true",
        help="one JSON document: each spec's status, its lines, its fingerprint's margin to the "
        "tolerance (to put runs on two releases side by side)",
    )


def _import(s: argparse.ArgumentParser) -> None:
    s.add_argument(
        "file", type=Path, help="a .keras file, a legacy .h5 model file, or a model.to_json() file"
    )
    s.add_argument("-o", "--output", type=Path, default=None, help="the spec file to write (default: stdout)")
    s.add_argument("--name", default=None, help="the spec's name (default: the model's, made a valid name)")
    s.add_argument(
        "--opaque",
        action="store_true",
        help="keep a keras.layers class zoo's catalogue lacks as an Opaque layer: Keras's output shape "
        "and parameters, marked unchecked in every summary, golden and diagram",
    )
    s.add_argument(
        "--blocks",
        action="store_true",
        help="write the model's repeated blocks as blocks: with parameters, repeat: and name templates "
        "(a family file); built again and compared as the flat import is",
    )


def _list(s: argparse.ArgumentParser) -> None:
    s.add_argument("pattern", nargs="?", help="fnmatch pattern, e.g. 'conv2d*'")


def _show(s: argparse.ArgumentParser) -> None:
    s.add_argument("name")
    s.add_argument(
        "--expanded",
        action="store_true",
        help="the layers after expansion, each with the block, instance and line it came from",
    )
    _overrides(s)


def _summary(s: argparse.ArgumentParser) -> None:
    from zoo import ENGINES

    s.add_argument("names", nargs="*", metavar="NAME")
    s.add_argument("--all", action="store_true", help="every spec in the registry")
    s.add_argument(
        "--engine",
        choices=ENGINES,
        default="keras",
        help="keras builds the model; formula computes it (adds MACs and receptive field)",
    )
    s.add_argument("--format", choices=("text", "json", "yaml"), default="text")
    _keras_version(s)
    _overrides(s)


def _keras_version(s: argparse.ArgumentParser) -> None:
    s.add_argument(
        "--keras-version",
        metavar="X.Y.Z",
        help="the formula engine computes as this Keras release does (default: the installed one); "
        "see docs/compatibility.md for the rules that changed between releases",
    )


def _name_and_overrides(s: argparse.ArgumentParser) -> None:
    s.add_argument("name")
    _overrides(s)


def _explain(s: argparse.ArgumentParser) -> None:
    s.add_argument("name")
    _keras_version(s)
    _overrides(s)


def _diagram(s: argparse.ArgumentParser) -> None:
    s.add_argument("name")
    s.add_argument(
        "-o",
        "--output",
        type=Path,
        default=None,
        metavar="FILE",
        help="write to FILE, its folders made where missing (default, or -: standard output); its "
        "suffix (.svg, .png, .dot) sets the format",
    )
    s.add_argument(
        "--format",
        choices=diagram.FORMATS,
        default=None,
        help="default: from FILE's suffix, else dot; svg and png need Graphviz (apt-get install "
        "graphviz, pip install graphviz)",
    )
    s.add_argument(
        "--detail",
        choices=diagram.DETAILS,
        default="layers",
        help="layers: every layer, block instances as boxes around them; blocks: each innermost "
        "block instance as one node (ResNet50: stem, 16 blocks, head); stages: each outermost one",
    )
    s.add_argument("--arithmetic", action="store_true", help="each layer's worked formula, as `zoo explain`")
    _overrides(s)


def _golden(s: argparse.ArgumentParser) -> None:
    actions = s.add_subparsers(dest="golden_command", required=True, metavar="ACTION")
    g = actions.add_parser("regen", help="write goldens (refused if Keras, formula or expect disagree)")
    _verbose(g, default=argparse.SUPPRESS)
    _names(g)
    g.set_defaults(func=commands.cmd_golden_regen)
    g = actions.add_parser("check", help="compare goldens with Keras and the formula engine")
    _verbose(g, default=argparse.SUPPRESS)
    _check(g)
    g.set_defaults(func=commands.cmd_check)


def _run(s: argparse.ArgumentParser) -> None:
    s.add_argument("name")
    s.add_argument("--seed", type=at_least(0), default=0, help="the seed of weights, data and shuffling")
    s.add_argument("--epochs", type=at_least(1), default=None, help="default: the spec's fit.epochs")
    s.add_argument("--samples", type=at_least(1), default=None, help="default: the spec's data.samples")
    s.add_argument("--batch-size", type=at_least(1), default=None, help="default: the spec's fit.batch_size")
    s.add_argument(
        "--weights",
        type=weights_option,
        default="spec",
        help="imagenet, none, seeded (zoo's deterministic weights), or a file path (default: the spec's "
        "own); imagenet and a file apply to a model with pretrained weights (a family's or a base's)",
    )
    s.add_argument(
        "--devices",
        type=at_least(1),
        default=None,
        help="data-parallel fit over N devices (GPUs, or N logical CPUs): a MirroredStrategy "
        "on TensorFlow, keras.distribution.DataParallel on JAX",
    )
    s.add_argument("--rows", type=at_least(0), default=5, help="prediction rows to print")
    s.add_argument("--quiet", action="store_true", help="no progress bar")


def at_least(low: int) -> Callable[[str], int]:
    """An argparse type: an integer no smaller than ``low`` (argparse says which option, exit 2)."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"takes an integer. Received: {text!r}") from None
        if value < low:
            wanted = "a positive integer" if low == 1 else f"an integer >= {low}"
            raise argparse.ArgumentTypeError(f"takes {wanted}. Received: {value}")
        return value

    parse.__name__ = f"integer >= {low}"  # what argparse calls the type in its own messages
    return parse


WEIGHTS_WORDS = ("spec", "imagenet", "none", "seeded")


def weights_option(text: str) -> str:
    """``--weights``: one of WEIGHTS_WORDS or a file that exists (a misspelt word is not a file)."""
    if text in WEIGHTS_WORDS:
        return text
    path = Path(text)
    if path.is_file():
        return text
    if path.exists():
        raise argparse.ArgumentTypeError(f"{text!r} is not a file (a weights file: .h5 or .weights.h5)")
    close = difflib.get_close_matches(text.lower(), WEIGHTS_WORDS, n=1, cutoff=0.6)
    if close and not any(sep in text for sep in ("/", os.sep)):
        raise argparse.ArgumentTypeError(
            f"{text!r} is neither a file nor one of {', '.join(WEIGHTS_WORDS)}; did you mean {close[0]!r}?"
        )
    raise argparse.ArgumentTypeError(
        f"weights file not found: {text!r} (looked for {path.absolute()}). "
        f"Valid: a weights file's path, or one of {', '.join(WEIGHTS_WORDS)}"
    )


def _weights(s: argparse.ArgumentParser) -> None:
    s.add_argument("action", choices=("install", "path"))
    s.add_argument(
        "model", help="a keras.applications model's zoo name: vgg16, resnet50, efficientnet_b0, ..."
    )
    s.add_argument("file", nargs="?", help="for install: a weights file obtained elsewhere")
    s.add_argument("--top", action="store_true", help="the file with the classifier (default: without it)")


def _completion(s: argparse.ArgumentParser) -> None:
    install = "; ".join(f"{shell}: {how}" for shell, how in completion.INSTALL.items())
    s.add_argument("shell", choices=completion.SHELLS, help=f"the shell; to install it, {install}")


def _verbose(s: argparse.ArgumentParser, default: object) -> None:
    """``-v`` before or after the command; a command's own leaves the global one's value alone."""
    s.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        default=default,
        help="leave TensorFlow's start-up lines, its warnings and zoo's notes on",
    )


Command = tuple[
    str, str, Callable[[argparse.ArgumentParser], None], Callable[[argparse.Namespace], int] | None
]


def _tour(s: argparse.ArgumentParser) -> None:
    s.add_argument("--goldens", type=Path, default=None, help=GOLDENS_HELP)


COMMANDS: list[Command] = [
    (
        "tour",
        "the tutorial's examples checked by three witnesses, then the zoo from the formula engine",
        _tour,
        tour.cmd_tour,
    ),
    ("list", "spec names with a one-line description", _list, commands.cmd_list),
    ("show", "print a spec's YAML, or with --expanded its flat layer list", _show, commands.cmd_show),
    ("summary", "summary table of one, several or --all specs", _summary, commands.cmd_summary),
    ("schema", "print the JSON Schema of the spec format (for editors)", lambda s: None, commands.cmd_schema),
    (
        "explain",
        "the arithmetic of every layer, numbers filled in",
        _explain,
        commands.cmd_explain,
    ),
    (
        "diagram",
        "a picture of the model from the formula engine (DOT, SVG, PNG)",
        _diagram,
        commands.cmd_diagram,
    ),
    ("check", "formula vs Keras vs golden for each spec, one line each", _check, commands.cmd_check),
    (
        "import",
        "a Keras model file as a spec that rebuilds the same model (checked before it is written)",
        _import,
        commands.cmd_import,
    ),
    ("golden", "regenerate or check golden summary files", _golden, None),
    ("run", "the tutorial cell: compile, fit on dummy data, predict", _run, commands.cmd_run),
    ("weights", "pretrained ImageNet weights in Keras's cache", _weights, commands.cmd_weights),
    (
        "completion",
        "a shell completion script for zoo (bash, zsh, fish)",
        _completion,
        completion.cmd_completion,
    ),
]


def parser() -> argparse.ArgumentParser:
    from zoo import __version__

    p = argparse.ArgumentParser(
        prog="zoo",
        description="The CNN tutorial's Keras examples as YAML specs, with their arithmetic.",
        epilog="Exit status: 0 ok, 1 a check disagreed, 2 bad input.",
    )
    p.add_argument("--version", action="version", version=f"zoo {__version__}")
    _verbose(p, default=False)
    p.set_defaults(root_parser=p)  # for zoo completion, which walks it
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, help_text, arguments, func in COMMANDS:
        s = sub.add_parser(name, help=help_text)
        _verbose(s, default=argparse.SUPPRESS)
        arguments(s)
        if func is not None:
            s.set_defaults(func=func)
    return p
