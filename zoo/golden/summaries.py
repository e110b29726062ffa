"""Golden summaries: a spec's summary table written down, one layer per line, so a diff says exactly
which layer changed, and the checks a summary must pass before it may be pinned.

    rows:
      - [conv2d, Conv2D, [null, 62, 62, 32], 896, 896, true]

Before a golden may be written, the summary must agree with the formula engine and with the
spec's ``expect:`` (what the tutorial printed): a golden alone could pin a wrong number forever.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from zoo.arith.summary import Row, Summary
from zoo.golden.protocol import Kind, damaged, parse_yaml
from zoo.specification.catalog import MODEL_INPUT
from zoo.specification.errors import show
from zoo.specification.model import Spec

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
        *([f"made_with: {summary.made_with!r}"] if summary.made_with else []),
        f"columns: [{', '.join(GRAPH_COLUMNS if graph else COLUMNS)}]",
        "rows:",
    ]
    for r in summary.rows:
        cells = [
            r.name,
            r.type,
            json.dumps(list(r.output_shape)),
            str(r.params),
            str(r.trainable_params),
            "true" if r.trainable else "false",
        ]
        if graph:
            cells.append(f"[{', '.join(r.connected_to)}]")
        lines.append(f"  - [{', '.join(cells)}]")
    unchecked = [r.name for r in summary.rows if r.unchecked]
    if unchecked:  # opaque layers: their shape and parameters were Keras's at import, not computed
        lines.append(f"unchecked: [{', '.join(unchecked)}]")
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
        rows.append(
            Row(
                name=n,
                type=t,
                output_shape=_shape(shape),
                params=p,
                trainable_params=tp,
                trainable=tr,
                connected_to=connected,
            )
        )
        previous = n
    for key in ("name", "total_params", "trainable_params", "non_trainable_params"):
        if not (isinstance(data[key], str) if key == "name" else _is_count(data[key])):
            raise damaged(
                label,
                text,
                (key,),
                f"must be {'a name' if key == 'name' else 'a count'}. Received: {show(data[key])}",
            )
    unchecked = data.get("unchecked") or []
    if not (isinstance(unchecked, list) and all(isinstance(n, str) for n in unchecked)):
        raise damaged(label, text, ("unchecked",), "must be a list of layer names")
    rows = [dataclasses.replace(r, unchecked=True) if r.name in unchecked else r for r in rows]
    return Summary(
        data["name"],
        tuple(rows),
        data["total_params"],
        data["trainable_params"],
        data["non_trainable_params"],
        str(data.get("made_with") or ""),
    )


def _is_count(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def _is_shape(shape: Any) -> bool:
    return isinstance(shape, list) and all(d is None or _is_count(d) for d in shape)


def _shape(shape: list[Any]) -> tuple[Any, ...]:
    """A row's output shape from its golden: a shape, or a layer's several outputs' (lists of lists)."""
    return tuple(tuple(s) if isinstance(s, list) else s for s in shape)


def _is_row(cells: Any) -> bool:
    if not isinstance(cells, list) or len(cells) not in (6, 7):
        return False
    n, t, shape, p, tp, tr = cells[:6]
    connected = cells[6] if len(cells) == 7 else []
    return (
        isinstance(n, str)
        and isinstance(t, str)
        and (_is_shape(shape) or (bool(shape) and all(_is_shape(s) for s in shape)))
        and _is_count(p)
        and _is_count(tp)
        and isinstance(tr, bool)
        and isinstance(connected, list)
        and all(isinstance(c, str) for c in connected)
    )


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
        for key, have in (("name", row.name), ("output_shape", row.output_shape), ("params", row.params)):
            if want.get(key) is not None and want[key] != have:
                out.append(f"layers[{i}] ({row.name}).{key}: expect says {want[key]}, summary has {have}")
    return out


def problems(spec: Spec, keras_summary: Summary, formula_summary: Summary) -> list[str]:
    """Everything that forbids pinning ``keras_summary`` as the spec's golden."""
    out = [f"expect: {p}" for p in expect_problems(spec, keras_summary)]
    return out + formula_summary.diff(keras_summary, labels=("formula", "keras"))


KIND: Kind[Summary] = Kind(
    ".yml", dumps, loads, lambda golden, now: golden.diff(now, labels=("golden", "keras")), "golden"
)
