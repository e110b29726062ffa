"""The ``zoo`` command line.

Exit status: 0 success; 1 a check found a disagreement; 2 bad input (an unknown
name, a bad spec, a bad option), with the message on stderr and no traceback.
"""

from __future__ import annotations

import argparse
import functools
import json
import logging
import sys
from pathlib import Path
from typing import Any

import zoo
from zoo.arith.summary import render
from zoo.cli import quiet
from zoo.specification.errors import SpecError
from zoo.specification.files import MODEL_FILES, write_atomic

# success; a check found a disagreement; bad input; zoo itself failed (a bug: please report it)
EXIT_OK, EXIT_DISAGREE, EXIT_USAGE, EXIT_CRASH = 0, 1, 2, 3


SPEC_FILES = (".yaml", ".yml")


def is_file_target(target: str) -> bool:
    """Whether a command's NAME is a file: a spec (``.yaml``) or a Keras model (``.keras``, ...)."""
    return target.lower().endswith(MODEL_FILES + SPEC_FILES)


def resolve(target: str) -> str | zoo.Spec:
    """A NAME as the API takes it: a spec's name, or the spec of a file (a Keras model file is
    imported, and checked to rebuild the same model, as `zoo import` does)."""
    return file_spec(target) if is_file_target(target) else target


def file_spec(target: str) -> zoo.Spec:
    """The spec of a spec file, or of a Keras model file (imported and checked, as `zoo import` does)."""
    if target.lower().endswith(SPEC_FILES):
        return zoo.Spec.from_file(target)
    quiet.import_framework()
    from zoo.keras import importer

    # a layer the catalogue lacks is kept as Keras gives it: every face marks its row unchecked.
    # Layer by layer: a summary of the file costs little beyond Keras's loading (`zoo import`, which
    # writes a spec, rebuilds the model and compares it whole)
    return importer.from_keras(importer.load(target), opaque=True, check="layers")


def _targets(args: argparse.Namespace, configurations: bool = False) -> list[str]:
    """The names a command works on: those given, or every model (and, where goldens are concerned,
    the configurations with goldens of their own: ``efficientnet_b0@imagenet``)."""
    if getattr(args, "all", False) or not args.names:
        if configurations:
            from zoo.golden import check

            return check.pinned(zoo.default_registry())
        return zoo.names()
    for name in args.names:
        if not is_file_target(name):
            zoo.default_registry().path(name)  # unknown names fail before any work, with did-you-mean
    return list(args.names)


def cmd_list(args: argparse.Namespace) -> int:
    """The examples with their descriptions, then each family's models with their parameter counts.

    A file that cannot be read (a broken spec on ZOO_SPEC_PATH) is reported on stderr beside the
    others, which are still listed (status 2); with a pattern, only the specs it matches are read
    whole. A pattern that matches nothing says so (status 1)."""
    import fnmatch

    from zoo.specification.model import Spec

    registry = zoo.default_registry()
    files, problems = registry.scan()
    names = [n for n in sorted(files) if args.pattern is None or fnmatch.fnmatchcase(n, args.pattern)]
    specs: dict[str, Spec] = {}
    for name in names:
        try:  # through the registry (its cache, its checks) unless a broken file makes it refuse all
            specs[name] = zoo.spec(name) if not problems else _spec_of_file(files[name], name)
        except SpecError as exc:
            problems.append(exc)
    names = [n for n in names if n in specs]
    width = max((len(n) for n in names), default=0)
    for name in names:
        if specs[name].family is None:
            print(f"{name.ljust(width)}  {specs[name].description}")
    families: dict[str, list[str]] = {}
    for name in names:
        family = specs[name].family
        if family is not None:
            families.setdefault(family, []).append(name)
    for family, members in sorted(families.items()):
        first = specs[members[0]]
        print(f"\nfamily {family} ({first.path.name if first.path else family}): {first.description}")
        path = files[members[0]]
        order = [n for n, p in files.items() if p == path]  # the family file's order: b0 ... b7, s, m, l
        for name in sorted(members, key=order.index):
            params = zoo.summary(specs[name], engine="formula").total_params
            print(f"  {name.ljust(width)}  {params:>13,} params")
    sys.stdout.flush()
    for problem in problems:
        print(f"zoo: error: {problem}", file=sys.stderr)
    if problems:
        return EXIT_USAGE
    if not names and args.pattern is not None:
        print(f"zoo: no spec name matches {args.pattern!r} (`zoo list` shows them all)", file=sys.stderr)
        return EXIT_DISAGREE
    return EXIT_OK


def _spec_of_file(path: Path, name: str) -> zoo.Spec:
    """``name``'s spec read from its file, as the registry reads it, where the registry refuses."""
    spec = zoo.Spec.from_file(path, name=name)
    if spec.name != name:
        raise spec.origin.error(
            ("name",),
            "the spec's name must match its file name",
            received={"name": spec.name},
            valid=repr(name),
        )
    return spec


MODEL_CLASSES = {
    "sequential": "keras.Sequential (a chain of layers, as the tutorial's cells build)",
    "functional": "a functional keras.Model",
}


def overrides_of(args: argparse.Namespace) -> dict[str, Any]:
    """``--input-shape 96,96,3`` and ``--set include_top=false`` as keyword overrides."""
    import yaml

    out: dict[str, Any] = {}
    for item in getattr(args, "set", None) or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise SpecError(f"--set takes KEY=VALUE. Received: {item!r}")
        try:
            out[key] = yaml.safe_load(value)
        except yaml.YAMLError:
            raise SpecError(f"--set {key}: not a YAML value. Received: {value!r}") from None
    if getattr(args, "input_shape", None):
        try:
            out["input_shape"] = [int(x) for x in args.input_shape.split(",")]
        except ValueError:
            raise SpecError(
                f"--input-shape takes integers like 96,96,3. Received: {args.input_shape!r}"
            ) from None
    return out


def cmd_show(args: argparse.Namespace) -> int:
    spec = zoo.spec(args.name, **overrides_of(args))
    print(f"# zoo.build({args.name!r}) gives {MODEL_CLASSES[spec.model]}")
    if not args.expanded:
        print(zoo.default_registry().path(args.name).read_text(encoding="utf-8"), end="")
        return EXIT_OK
    print(expanded_text(spec), end="")
    return EXIT_OK


def expanded_text(spec: zoo.Spec) -> str:
    """The flat layer list of a spec, each line saying which block, instance and line it came from."""
    from zoo.specification.errors import format_key
    from zoo.specification.provenance import ExpandedSource

    source = spec.origin
    lines = [f"# {spec.name}: {len(spec.layers)} layers, input {list(spec.input)}"]
    if isinstance(source, ExpandedSource) and source.variant_text:
        lines.append(f"# {source.variant_text}")
    for layer in spec.layers:
        args = ", ".join(f"{k}: {_yaml_value(v)}" for k, v in layer.keras_args.items())
        takes = (
            ""
            if layer.inputs == ((spec.layers[layer.index - 1].name,) if layer.index else ("input",))
            else f"  <- {', '.join(layer.inputs)}"
        )
        lines.append(f"{layer.name}: {layer.kind} {{{args}}}{takes}")
        if isinstance(source, ExpandedSource):
            prov = source.provenance[layer.index]
            uses = " in ".join(f"{u.instance} ({u.block})" for u in reversed(prov.chain))
            lines.append(
                f"    # line {source.line_of(prov.path)}: {format_key(prov.path)}"
                + (f", in {uses}" if uses else "")
            )
    return "\n".join(lines) + "\n"


def _yaml_value(value: Any) -> str:
    if isinstance(value, tuple):
        return "[" + ", ".join(_yaml_value(v) for v in value) + "]"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def cmd_summary(args: argparse.Namespace) -> int:
    if not args.names and not args.all:
        raise SpecError("name a spec or pass --all (see `zoo list`)")
    targets = _targets(args)
    overrides = overrides_of(args)
    if args.keras_version is not None and args.engine != "formula":
        raise SpecError(
            f"--keras-version is for the formula engine; the keras engine is the installed Keras. "
            f"Received: --engine {args.engine} --keras-version {args.keras_version}"
        )
    if args.engine == "keras":
        quiet.import_framework()
    version = {"keras_version": args.keras_version} if args.engine == "formula" else {}
    specs = [resolve(name) for name in targets]
    results = [zoo.summary(spec, engine=args.engine, **version, **overrides) for spec in specs]
    if args.format == "json":
        print(json.dumps([s.to_dict() for s in results], indent=2))
        return EXIT_OK
    if args.format == "yaml":
        import yaml

        print(yaml.safe_dump([s.to_dict() for s in results], sort_keys=False), end="")
        return EXIT_OK
    for i, (target, s) in enumerate(zip(specs, results)):
        if i:
            print()
        spec = target if isinstance(target, zoo.Spec) else zoo.spec(target)
        print(f"# {spec.name}: {spec.description}")
        if spec.citation:
            print(f"# {spec.citation}")
        print(render(s), end="")
    return EXIT_OK


def cmd_schema(args: argparse.Namespace) -> int:
    from zoo.specification.schema import json_schema

    print(json.dumps(json_schema(), indent=2))
    return EXIT_OK


def cmd_explain(args: argparse.Namespace) -> int:
    target = resolve(args.name)
    print(zoo.explain(target, keras_version=args.keras_version, **overrides_of(args)), end="")
    return EXIT_OK


def golden_folder(args: argparse.Namespace, *, to_write: bool = False) -> Path | None:
    """--goldens, else ./tests/goldens when it exists (a zoo checkout), else None. A folder to write
    goldens into may not exist yet: it is made when the first golden is written, not before."""
    if args.goldens is not None:
        if args.goldens.exists() and not args.goldens.is_dir():
            raise SpecError("--goldens names a file, not a folder", file=str(args.goldens))
        if not args.goldens.is_dir() and not to_write:
            raise SpecError("golden folder not found", file=str(args.goldens))
        return Path(args.goldens)
    default = Path("tests") / "goldens"
    return default if default.is_dir() else None


def required_golden_folder(args: argparse.Namespace, *, to_write: bool = False) -> Path:
    folder = golden_folder(args, to_write=to_write)
    if folder is None:
        raise SpecError("no golden folder: pass --goldens DIR (zoo's own are in tests/goldens)")
    return folder


class _Progress:
    """Progress over specs: a bar on a terminal (tqdm, on stderr), else one line per spec."""

    def __init__(self, total: int, desc: str) -> None:
        self.total, self.count = total, 0
        self.bar: Any = None
        if sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(
                total=total, desc=desc, unit="spec", file=sys.stderr, leave=False, dynamic_ncols=True
            )

    def start(self, name: str) -> None:
        """A spec's work begins: the bar names it; without a bar, a line says so."""
        self.count += 1
        if self.bar is not None:
            self.bar.set_postfix_str(name)
        elif self.total > 1:
            print(f"zoo: {name} ({self.count}/{self.total})", file=sys.stderr, flush=True)

    def say(self, line: str) -> None:
        """A result line on stdout, above the bar when there is one."""
        if self.bar is not None:
            self.bar.write(line, file=sys.stdout)
        else:
            print(line, flush=True)

    def done(self) -> None:
        if self.bar is not None:
            self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def cmd_check(args: argparse.Namespace) -> int:
    """Formula vs Keras vs expect vs goldens (summary and fingerprint) for each spec: one line per spec,
    one line per change below it, a total. A spec that cannot be checked does not stop the others.

    Exit status: 0 every spec agrees; 1 a disagreement; 2 a spec could not be made (bad input);
    3 zoo crashed on one (a bug). With ``--json``, one JSON document instead of the lines."""
    from zoo.golden import check

    folder = required_golden_folder(args) if args.command == "golden" else golden_folder(args)
    names = _targets(args, configurations=True)
    quiet.import_framework()
    progress = _Progress(len(names), "checking")
    found = []
    try:
        for name in names:
            progress.start(name)
            if is_file_target(name):
                # a user's model file has no golden in zoo's own folder: its goldens are compared
                # where --goldens names them (`zoo golden regen FILE --goldens DIR` writes them)
                own = folder if args.goldens is not None else None
                verdict = check.verdict(functools.partial(file_spec, name), own, label=name)
            else:
                verdict = check.verdict(name, folder)
            found.append(verdict)
            if not args.json:
                progress.say(
                    f"{verdict.status.upper() if verdict.status != 'ok' else 'ok':<6} {verdict.name}"
                )
                for line in verdict.lines:
                    progress.say(f"       {line}")
            progress.done()
    finally:
        progress.close()
    counts = {status: sum(v.status == status for v in found) for status in check.STATUSES}
    if args.json:
        from zoo.keras import introspect

        document = {
            "frameworks": introspect.frameworks(),
            "goldens": str(folder) if folder else None,
            "counts": counts,
            "specs": [v.to_dict() for v in found],
        }
        print(json.dumps(document, indent=2))
    else:
        print(", ".join(f"{n} {status}" for status, n in counts.items() if n or status in ("ok", "differ")))
        if folder is None:
            print("(no golden folder given or found: goldens not compared)")
    if counts["crash"]:
        return EXIT_CRASH
    if counts["error"]:
        return EXIT_USAGE
    return EXIT_DISAGREE if counts["differ"] else EXIT_OK


def cmd_golden_regen(args: argparse.Namespace) -> int:
    from zoo.golden import check

    folder = required_golden_folder(args, to_write=True)
    names = _targets(args, configurations=True)
    quiet.import_framework()
    progress = _Progress(len(names), "regenerating")

    def step(name: str) -> None:
        if progress.count:
            progress.done()
        progress.start(name)

    try:
        written, refused = check.regenerate(
            [functools.partial(file_spec, n) if is_file_target(n) else n for n in names],
            folder,
            progress=step,
        )
        progress.done()
    finally:
        progress.close()
    if refused:
        for name, found in refused.items():
            print(f"refused {name}:", file=sys.stderr)
            for line in found:
                print(f"    {line}", file=sys.stderr)
        print("nothing was written", file=sys.stderr)
        return EXIT_DISAGREE
    for path in written:
        print(f"wrote {path}")
    print(f"{len(names)} checked, {len(written)} changed")
    return EXIT_OK


def cmd_run(args: argparse.Namespace) -> int:
    """The tutorial cell: summary, Keras's progress bar, prediction shape and first rows.

    zoo.run's notes (the frozen-base fast path taken, or why not) are shown where the model has a
    frozen or pretrained part for them to be about, or with -v. Keras's progress bar, coloured, on a
    terminal; elsewhere (or with NO_COLOR) one plain line per epoch."""
    from zoo.keras import training

    spec = zoo.spec(args.name)
    if args.weights not in ("spec", "none", "seeded"):  # imagenet, or a file
        if not _has_pretrained_weights(spec):
            raise SpecError(
                f"--weights {args.weights}: {spec.name} has no pretrained weights to load (it is neither a "
                "keras.applications model nor has a pretrained base). Valid here: none, seeded, spec",
                file=spec.origin.label,
            )
    if args.weights != "spec":
        spec = spec.with_weights(None if args.weights in ("none", "seeded") else args.weights)
    if args.devices:
        training.split_cpu_for_jax(args.devices)  # read by JAX (if it is the backend) when it starts
    quiet.import_framework()  # after the checks above: bad input is refused without loading TensorFlow
    strategy = training.data_parallel(args.devices) if args.devices else None
    _show_run_notes(quiet.verbose() or _has_frozen_part(spec))
    # the formula engine's table (equal to Keras's, as the tests check): run builds the model once
    print(render(zoo.summary(spec, engine="formula")), end="")
    result = zoo.run(
        spec,
        seed=args.seed,
        epochs=args.epochs,
        samples=args.samples,
        batch_size=args.batch_size,
        verbose=0 if args.quiet else 1 if quiet.colour(sys.stdout) else 2,
        strategy=strategy,
        weights="seeded" if args.weights == "seeded" else zoo.SPEC_WEIGHTS,
    )
    p = result.predictions
    print(f"predictions: shape {p.shape}; first rows:")
    import numpy as np

    with np.printoptions(precision=4, suppress=True, linewidth=100):
        print(p[: args.rows])
    return EXIT_OK


def _has_frozen_part(spec: zoo.Spec) -> bool:
    """A pretrained base, or a layer frozen (what zoo.run's fast-path notes are about)."""
    return _has_pretrained_weights(spec) or any(
        not layer.resolved()["trainable"] or layer.args.get("trainable_from") for layer in spec.layers
    )


class _Stderr(logging.StreamHandler):
    """A handler writing to whatever ``sys.stderr`` is when a record comes (a test's capture too)."""

    @property
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, value: Any) -> None:
        pass


def _show_run_notes(show: bool) -> None:
    """zoo.run's notes (the ``zoo`` logger, at INFO) on stderr as ``zoo: ...`` lines, or not at all."""
    log = logging.getLogger("zoo")
    if not any(isinstance(h, _Stderr) for h in log.handlers):
        handler = _Stderr()
        handler.setFormatter(logging.Formatter("zoo: %(message)s"))
        log.addHandler(handler)
        log.propagate = False  # once, not again through the root logger's handlers
    log.setLevel(logging.INFO if show else logging.WARNING)


def _has_pretrained_weights(spec: zoo.Spec) -> bool:
    """A family's model (its weights: argument), or a spec with a pretrained base (a layer taking weights)."""
    return spec.family is not None or any("weights" in layer.catalog.args for layer in spec.layers)


def cmd_weights(args: argparse.Namespace) -> int:
    from zoo.keras import weights

    wf = weights.imagenet_file(args.model, args.top)
    if args.action == "path":
        print(weights.cache_path(wf))
        return EXIT_OK
    if not args.file:
        raise SpecError("`zoo weights install MODEL FILE` needs the FILE to copy")
    target = weights.install(args.model, args.file, args.top)
    checked = f"{wf.algorithm} checked" if wf.file_hash else "Keras publishes no hash for it: not checked"
    print(f"installed {args.file} -> {target} ({checked})")
    return EXIT_OK


STDOUT = Path("-")  # -o -: standard output, as everywhere a file is written


def cmd_import(args: argparse.Namespace) -> int:
    """A Keras model file as a spec: built again and compared with the model before it is written."""
    quiet.import_framework()
    from zoo.keras import importer

    model = importer.load(args.file)
    spec = importer.from_keras(model, name=args.name, opaque=args.opaque, blocks=args.blocks)
    text = spec.to_yaml()
    if args.output is None or args.output == STDOUT:
        print(text, end="")
        return EXIT_OK
    write_atomic(args.output, text)
    opaque = [layer.name for layer in spec.layers if layer.kind == "Opaque"]
    note = f"; unchecked by the formula engine: {', '.join(opaque)}" if opaque else ""
    if args.blocks:
        note += _blocks_note(spec)
    print(
        f"wrote {args.output}: {len(spec.layers)} layers; built again, it is the same model{note}",
        file=sys.stderr,
    )
    return EXIT_OK


def _blocks_note(spec: Any) -> str:
    """What ``--blocks`` found: the blocks and the file's size beside the flat import's."""
    sizes = getattr(spec, "sizes", None)
    if sizes is None:
        return "; no repeated blocks found: written flat"
    ours, flat = sizes()["blocks"], sizes()["flat"]
    return f"; {ours[0]} lines with blocks (flat: {flat[0]})"


def cmd_diagram(args: argparse.Namespace) -> int:
    """A picture of the model from the formula engine: DOT text, or SVG/PNG through Graphviz."""
    from zoo import diagram

    to_stdout = args.output is None or args.output == STDOUT
    fmt = diagram.output_format(None if to_stdout else args.output, args.format)
    if fmt == "png" and (args.output is None or sys.stdout.isatty()):
        raise SpecError("PNG is binary: name a file with -o FILE.png, or redirect -o - to one")
    text = diagram.dot(
        resolve(args.name), detail=args.detail, arithmetic=args.arithmetic, **overrides_of(args)
    )
    data = diagram.render(text, fmt)  # before anything is written: a failed render leaves no file
    if to_stdout:
        binary = getattr(sys.stdout, "buffer", None)
        if binary is None:  # a text-only stream (a test's StringIO): text formats only
            if fmt == "png":
                raise SpecError("PNG is binary: standard output here takes text only; use -o FILE.png")
            print(data.decode("utf-8"), end="")
            return EXIT_OK
        sys.stdout.flush()
        binary.write(data)  # bytes as rendered: PNG, or UTF-8 text
        binary.flush()
        return EXIT_OK
    write_atomic(args.output, data)  # its folders are made where missing
    print(f"wrote {args.output}")
    return EXIT_OK
