"""Golden summaries: the file format, the checks a golden must pass, atomic writing.

A golden is a spec's summary table written down, one layer per line, so a diff
says exactly which layer changed:

    rows:
      - [conv2d, Conv2D, [null, 62, 62, 32], 896, 896, true]

Before a golden may be written, the summary must agree with the formula engine
and with the spec's ``expect:`` (what the tutorial printed): a golden alone could
pin a wrong number forever.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from zoo.spec.catalog import MODEL_INPUT
from zoo.spec.errors import KeyPath, SpecError, format_key, show
from zoo.spec.model import Spec
from zoo.arith.summary import Row, Summary

COLUMNS = ("name", "type", "output_shape", "params", "trainable_params", "trainable")
GRAPH_COLUMNS = (*COLUMNS, "connected_to")  # only where the model is not a plain chain


def dumps(summary: Summary, header: str | None = None) -> str:
    """The golden text of a summary (deterministic, width-independent)."""
    if header is None:
        header = (
            f"Golden summary of zoo spec {summary.name!r}: checked against Keras and the formula\n"
            f"engine by tests/test_goldens.py. Regenerate: zoo golden regen {summary.name}"
        )
    graph = not summary.is_chain
    lines = [
        *(f"# {line}" for line in header.splitlines()),
        f"name: {summary.name}",
        f"columns: [{', '.join(GRAPH_COLUMNS if graph else COLUMNS)}]",
        "rows:",
    ]
    for r in summary.rows:
        cells = [r.name, r.type, json.dumps(list(r.output_shape)), str(r.params),
                 str(r.trainable_params), "true" if r.trainable else "false"]  # fmt: skip
        if graph:
            cells.append(f"[{', '.join(r.connected_to)}]")
        lines.append(f"  - [{', '.join(cells)}]")
    lines += [
        f"total_params: {summary.total_params}",
        f"trainable_params: {summary.trainable_params}",
        f"non_trainable_params: {summary.non_trainable_params}",
    ]
    return "\n".join(lines) + "\n"


def loads(text: str, label: str = "<golden>") -> Summary:
    """A golden summary from its text; a damaged one is a SpecError naming ``label`` and the line."""
    data = parse_yaml(text, label)
    if not isinstance(data, dict):
        raise damaged(label, text, (), "a golden summary is a mapping of name, columns, rows and the totals")
    for key in ("name", "rows", "total_params", "trainable_params", "non_trainable_params"):
        if key not in data:
            raise damaged(label, text, (), f"missing {key}:")
    if not isinstance(data["rows"], list):
        raise damaged(label, text, ("rows",), "must be a list of rows")
    rows, previous = [], MODEL_INPUT
    for i, cells in enumerate(data["rows"]):
        if not _is_row(cells):
            form = f"[{', '.join(GRAPH_COLUMNS)}] (the last only in a graph's golden)"
            raise damaged(label, text, ("rows", i), f"a row is {form}. Received: {show(cells)}")
        n, t, shape, p, tp, tr = cells[:6]
        connected = tuple(cells[6]) if len(cells) > 6 else (previous,)  # a chain's golden omits it
        rows.append(Row(name=n, type=t, output_shape=tuple(shape), params=p, trainable_params=tp,
                        trainable=tr, connected_to=connected))  # fmt: skip
        previous = n
    for key in ("name", "total_params", "trainable_params", "non_trainable_params"):
        if not (isinstance(data[key], str) if key == "name" else _is_count(data[key])):
            raise damaged(label, text, (key,), f"must be {'a name' if key == 'name' else 'a count'}. "
                          f"Received: {show(data[key])}")  # fmt: skip
    return Summary(data["name"], tuple(rows), data["total_params"], data["trainable_params"],
                   data["non_trainable_params"])  # fmt: skip


def _is_count(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def _is_row(cells: Any) -> bool:
    if not isinstance(cells, list) or len(cells) not in (6, 7):
        return False
    n, t, shape, p, tp, tr = cells[:6]
    connected = cells[6] if len(cells) == 7 else []
    return (isinstance(n, str) and isinstance(t, str) and isinstance(shape, list)
            and all(d is None or _is_count(d) for d in shape) and _is_count(p) and _is_count(tp)
            and isinstance(tr, bool) and isinstance(connected, list)
            and all(isinstance(c, str) for c in connected))  # fmt: skip


# ---------------------------------------------------------------- reading goldens, damaged or not


def parse_yaml(text: str, label: str, loader: Any = yaml.SafeLoader) -> Any:
    """A golden's YAML, or a SpecError naming the file and the line where it stops being YAML."""
    try:
        return yaml.load(text, Loader=loader)  # a safe loader: SafeLoader or CSafeLoader
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        what = " ".join(str(p) for p in (exc.context, exc.problem) if p)
        line = mark.line + 1 if mark else None
        raise damaged(label, text, None, f"not valid YAML: {what}", line=line) from None
    except (yaml.YAMLError, ValueError, TypeError, KeyError, ArithmeticError, RecursionError) as exc:
        raise damaged(label, text, None, f"not valid YAML: {exc}") from None


def damaged(label: str, text: str, where: KeyPath | None, what: str, *, line: int | None = None) -> SpecError:
    """A golden that cannot be read: the file, the line of ``where``, and how to get a good one back."""
    name = Path(label).name.split(".")[0]
    if line is None and where is not None:
        line = _line_of(text, where)
    what += f"; the golden is damaged: restore it from version control, or run zoo golden regen {name}"
    return SpecError(what, file=label, line=line, key=format_key(where or ()) or None)


def _line_of(text: str, where: KeyPath) -> int | None:
    """The line of key path ``where`` in YAML ``text`` (of its nearest ancestor that exists)."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except (yaml.YAMLError, RecursionError):
        return None
    line = node.start_mark.line + 1 if node is not None else None
    for part in where:
        if isinstance(node, yaml.MappingNode):
            node = next((v for k, v in node.value if getattr(k, "value", None) == part), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
        else:
            node = None
        if node is None:
            break
        line = node.start_mark.line + 1
    return line


def read(path: Path, parse: Callable[[str, str], Any]) -> Any:
    """Golden file ``path`` parsed by ``parse(text, label)``; an unreadable file is a SpecError."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SpecError(f"cannot read golden: {exc.strerror}", file=str(path)) from None
    except UnicodeDecodeError as exc:
        what = f"not UTF-8 text: byte {exc.object[exc.start]:#04x} at offset {exc.start}"
        raise damaged(str(path), "", None, what, line=exc.object[: exc.start].count(b"\n") + 1) from None
    return parse(text, str(path))


def expect_problems(spec: Spec, summary: Summary) -> list[str]:
    """Where ``summary`` contradicts what the spec's ``expect:`` records; empty when it doesn't."""
    out = []
    expect = spec.expect
    for total in ("total_params", "trainable_params", "non_trainable_params"):
        want = expect.get(total)
        if want is not None and getattr(summary, total) != want:
            out.append(f"{total}: expect says {want:,}, summary has {getattr(summary, total):,}")
    layers = expect.get("layers", ())
    if len(layers) > len(summary.rows):
        out.append(f"expect lists {len(layers)} layers, summary has {len(summary.rows)}")
    for i, (want, row) in enumerate(zip(layers, summary.rows)):
        for key, have in (("name", row.name), ("output_shape", row.output_shape),
                          ("params", row.params)):  # fmt: skip
            if want.get(key) is not None and want[key] != have:
                out.append(f"layers[{i}] ({row.name}).{key}: expect says {want[key]}, "
                           f"summary has {have}")  # fmt: skip
    return out


def problems(spec: Spec, keras_summary: Summary, formula_summary: Summary) -> list[str]:
    """Everything that forbids pinning ``keras_summary`` as the spec's golden."""
    out = [f"expect: {p}" for p in expect_problems(spec, keras_summary)]
    out += [
        f"formula vs keras: {d}" for d in formula_summary.diff(keras_summary, labels=("formula", "keras"))
    ]
    return out


def path_for(folder: Path, name: str) -> Path:
    return folder / f"{name}.yml"


def _witnesses(name: str) -> tuple[Summary, list[str], Any]:
    """Keras's summary of a registered spec, where it disagrees with the formula engine or
    expect:, and the spec's fingerprint (zoo.fingerprint, seeded weights). Where the fingerprint
    runs at the spec's own input, one seeded model serves both (weights do not change a summary)."""
    import zoo  # the API builds the models; golden itself stays framework-free
    from zoo.keras import fingerprint
    from zoo.keras import introspect

    spec = zoo.spec(name)
    formula_s = zoo.summary(spec, engine="formula")  # the spec as written must be valid
    if fingerprint.input_shape_for(name) == tuple(spec.input):
        model = zoo.build(spec, weights="seeded", compile=False)
        keras_s = introspect.summary_of(model, order=[layer.name for layer in spec.layers])
        fp = fingerprint.of_model(model, name, spec.input)
    else:
        keras_s, fp = zoo.summary(spec, engine="keras"), fingerprint.take(name)
    return keras_s, problems(spec, keras_s, formula_s), fp


def _unpinnable(fp: Any) -> list[str]:
    """Why a fingerprint may not be pinned: non-finite numbers are no evidence."""
    bad = [lp.name for lp in fp.layers if not all(math.isfinite(v) for v in lp.numbers())]
    return [f"fingerprint: non-finite outputs (nan or inf) at {', '.join(bad[:5])}"] if bad else []


def regenerate(
    names: list[str], folder: Path, progress: Callable[[str], None] | None = None
) -> tuple[list[Path], dict[str, list[str]]]:
    """Check every spec, then write all their goldens; returns (written paths, refusals by name).

    Each spec has two goldens: its summary and its fingerprint. Nothing is written unless
    every spec passes: Keras's summary must agree with the formula engine and with the spec's
    ``expect:``, and the fingerprint must be finite. Unchanged files are not rewritten.
    A fingerprint within tolerance of its golden is left as it is: the golden records the
    numbers it was made with, not the last backend's rounding.
    """
    from zoo.keras import fingerprint

    texts: dict[Path, str] = {}
    refused = {}
    for name in names:
        if progress is not None:
            progress(name)
        keras_s, found, fp = _witnesses(name)
        found += _unpinnable(fp)
        if found:
            refused[name] = found
            continue
        texts[path_for(folder, name)] = dumps(keras_s)
        fp_path = fingerprint.path_for(folder, name)
        if fp_path.is_file():
            try:
                pinned = read(fp_path, fingerprint.loads)
            except SpecError:  # a damaged one is rewritten
                pinned = None
            if pinned is not None and fingerprint.compare(pinned, fp) is None:
                continue
        texts[fp_path] = fingerprint.dumps(fp)
    if refused:
        return [], refused
    written = []
    for path, text in texts.items():
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            write_atomic(path, text)
            written.append(path)
    return written, {}


def verify(name: str, folder: Path | None) -> list[str]:
    """Formula vs Keras vs expect vs the goldens in ``folder`` (summary and fingerprint):
    every disagreement, as lines."""
    from zoo.keras import fingerprint

    keras_s, found, fp = _witnesses(name)
    if folder is not None:
        path = path_for(folder, name)
        if not path.is_file():
            found.append(f"golden: missing {path}; create it with `zoo golden regen {name}`")
        else:
            pinned = read(path, loads)
            found += [f"golden vs keras: {d}" for d in pinned.diff(keras_s, labels=("golden", "keras"))]
        fp_path = fingerprint.path_for(folder, name)
        if not fp_path.is_file():
            found.append(f"fingerprint: missing {fp_path}; create it with `zoo golden regen {name}`")
        else:
            drift = fingerprint.compare(read(fp_path, fingerprint.loads), fp)
            if drift is not None:
                found.append(f"fingerprint vs {fingerprint.backend_label()}: {drift}")
    return found


def write_atomic(path: Path, text: str) -> None:
    """Write via a temporary file in the same folder and a rename: old or new, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
