"""``Summary`` and ``Row``: the one currency of the formula engine, Keras and the goldens.

Comparing two engines is ``==`` on summaries. Only the table's columns take part
(name, type, output shape, params, trainable params, trainable flag, totals);
the formula engine's extras (MACs, receptive field, effective stride) ride along
with ``compare=False`` because Keras has no opinion on them.

This module never imports Keras; ``zoo.keras.introspect.summary_of`` reads a built model
into the same types.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from zoo.specification import keras_versions

Shape = tuple[int | None, ...]
# a row's output: a shape, or a layer's several outputs, one shape each (an LSTM with return_state)
OutputShape = Shape | tuple[Shape, ...]
Stride = tuple[int | Fraction, ...]


@dataclass(frozen=True)
class Row:
    """One layer of a summary, as Keras's ``model.summary()`` shows it."""

    name: str
    type: str
    output_shape: OutputShape  # with None for the batch axis
    params: int
    trainable: bool
    trainable_params: int  # of ``params``; the rest are non-trainable (frozen, BN statistics)
    connected_to: tuple[str, ...] = ()  # the layers it takes ("input": the model's input)
    macs: int | None = field(default=None, compare=False)
    receptive_field: tuple[int, ...] | None = field(default=None, compare=False)
    effective_stride: Stride | None = field(default=None, compare=False)
    # Keras's changes between releases this layer depends on (zoo.specification.keras_versions ids)
    keras_changes: tuple[str, ...] = field(default=(), compare=False)
    # an opaque layer (zoo import --opaque): shape and parameters as Keras gave them, not computed
    unchecked: bool = field(default=False, compare=False)

    @property
    def non_trainable_params(self) -> int:
        return self.params - self.trainable_params


@dataclass(frozen=True)
class Summary:
    """A model's summary table and totals."""

    name: str
    rows: tuple[Row, ...]
    total_params: int
    trainable_params: int
    non_trainable_params: int
    # the frameworks a summary read from Keras (or pinned in a golden) was made with, e.g.
    # "tensorflow 2.21.0, keras 3.15.1"; empty for the formula engine's; never compared
    made_with: str = field(default="", compare=False)

    @classmethod
    def from_rows(cls, name: str, rows: Iterable[Row]) -> Summary:
        rows = tuple(rows)
        trainable = sum(r.trainable_params for r in rows)
        total = sum(r.params for r in rows)
        return cls(name, rows, total, trainable, total - trainable)

    @property
    def is_chain(self) -> bool:
        """True when each row takes the previous row's output, the first the model's one input."""
        if not self.rows or len(self.rows[0].connected_to) != 1:
            return False
        return all(r.connected_to == (p.name,) for p, r in zip(self.rows, self.rows[1:]))

    @property
    def macs(self) -> int | None:
        total = 0
        for r in self.rows:
            if r.macs is None:
                return None
            total += r.macs
        return total

    def row(self, name: str) -> Row:
        for r in self.rows:
            if r.name == name:
                return r
        raise KeyError(name)

    def diff(self, other: Summary, labels: tuple[str, str] = ("left", "right")) -> list[str]:
        """Where two summaries differ, one line per change (see :func:`differences`); empty when equal."""
        return differences({labels[0]: self, labels[1]: other})

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "rows": [
                {
                    "name": r.name,
                    "type": r.type,
                    "output_shape": list(r.output_shape),
                    "params": r.params,
                    "trainable_params": r.trainable_params,
                    "trainable": r.trainable,
                    "connected_to": list(r.connected_to),
                    **({"macs": r.macs} if r.macs is not None else {}),
                    **({"receptive_field": list(r.receptive_field)} if r.receptive_field is not None else {}),
                    **(
                        {"effective_stride": [str(s) for s in r.effective_stride]}
                        if r.effective_stride is not None
                        else {}
                    ),
                    **({"unchecked": True} if r.unchecked else {}),
                }
                for r in self.rows
            ],
            "total_params": self.total_params,
            "trainable_params": self.trainable_params,
            "non_trainable_params": self.non_trainable_params,
        }


def format_shape(shape: OutputShape) -> str:
    """``(None, 10, 64)``; a layer's several outputs as Keras's summary lists them:
    ``[(None, 10, 64), (None, 64), (None, 64)]``."""
    if several_outputs(shape):
        return "[" + ", ".join(format_shape(s) for s in shape if isinstance(s, tuple)) + "]"
    inner = ", ".join("None" if d is None else str(d) for d in shape)
    return f"({inner},)" if len(shape) == 1 else f"({inner})"


def several_outputs(shape: Any) -> bool:
    """Whether a row's output shape is a layer's several outputs (a tuple of shapes)."""
    return bool(shape) and all(isinstance(s, tuple) for s in shape)


def _axes(values: tuple[Any, ...] | None) -> str:
    if values is None:
        return "-"
    return "x".join(str(v) for v in values)


def render(summary: Summary, *, title: str | None = None) -> str:
    """A fixed, terminal-independent table with thousands separators.

    Columns for MACs and receptive field appear when the summary has them
    (the formula engine's summaries do).
    """
    has_extras = any(r.macs is not None for r in summary.rows)
    graph = not summary.is_chain
    header = ["Layer (type)", "Output Shape", "Param #", "Trainable"]
    if has_extras:
        header += ["MACs", "RF", "Stride"]
    if graph:
        header += ["Connected to"]
    table = []
    for r in summary.rows:
        cells = [
            f"{r.name} ({r.type})",
            format_shape(r.output_shape),
            f"{r.params:,}",
            "yes" if r.trainable else "no",
        ]
        if has_extras:
            cells += [
                f"{r.macs:,}" if r.macs is not None else "-",
                _axes(r.receptive_field),
                _axes(r.effective_stride),
            ]
        if graph:
            cells.append(", ".join(r.connected_to))
        table.append(cells)
    widths = [max(len(c[i]) for c in [header, *table]) for i in range(len(header))]
    right = {2, 4}  # numbers align right

    def line(cells: list[str]) -> str:
        return "  ".join(
            c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths))
        ).rstrip()

    rule = "-" * len(line(header))
    out = [f'Model: "{summary.name}"' + (f"  {title}" if title else ""), rule, line(header), rule]
    out += [line(c) for c in table]
    out += [
        rule,
        f"Total params: {summary.total_params:,}",
        f"Trainable params: {summary.trainable_params:,}",
        f"Non-trainable params: {summary.non_trainable_params:,}",
    ]
    unchecked = [r.name for r in summary.rows if r.unchecked]
    if has_extras and summary.macs is not None:
        out.append(
            f"MACs per sample: {summary.macs:,}" + (" (unchecked layers not counted)" if unchecked else "")
        )
    if unchecked:
        out.append(
            "Unchecked by the formula engine (output shape and parameters as Keras gave them at import): "
            + ", ".join(unchecked)
        )
    return "\n".join(out) + "\n"


def differences(rows: Mapping[str, Summary | None]) -> list[str]:
    """One line per change between the summaries of several witnesses ({label: summary}): for each row
    that differs, which witnesses say what, only the columns that differ."""
    present = {label: s for label, s in rows.items() if s is not None}
    out = []
    for i in range(max(len(s.rows) for s in present.values())):
        said = {label: s.rows[i] if i < len(s.rows) else None for label, s in present.items()}
        line = _one_change(f"row {i}", said)
        if line:
            out.append(line)
    for total in ("total_params", "trainable_params", "non_trainable_params"):
        values = {label: getattr(s, total) for label, s in present.items()}
        if len(set(values.values())) > 1:
            out.append(f"{total}: " + "; ".join(f"{_who(ls)} {v:,}" for v, ls in _groups(values)))
    return out


_COLUMNS = ("name", "type", "output_shape", "params", "trainable_params", "trainable", "connected_to")


def _one_change(where: str, said: dict[str, Row | None]) -> str | None:
    if len({row for row in said.values()}) == 1:
        return None
    rows = [row for row in said.values() if row is not None]
    name = rows[0].name if rows else "?"
    columns = [c for c in _COLUMNS if len({_cell(row, c) for row in said.values()}) > 1]

    def text(row: Row | None) -> str:
        if row is None:
            return "no such row"
        return ", ".join(f"{c} {_cell(row, c)}" for c in columns)

    grouped = _groups({label: text(row) for label, row in said.items()})
    line = f"{where} {name}: " + "; ".join(f"{_who(labels)} {value}" for value, labels in grouped)
    changed = sorted({c for row in rows for c in row.keras_changes})
    if changed:
        line += " (" + "; ".join(keras_versions.change(c).history() for c in changed) + ")"
    return line


def _who(labels: list[str]) -> str:
    return " and ".join(labels) + (" say" if len(labels) > 1 else " says")


def _cell(row: Row | None, column: str) -> Any:
    if row is None:
        return None
    value = getattr(row, column)
    return format_shape(value) if column == "output_shape" else value


def _groups(values: dict[str, Any]) -> list[tuple[Any, list[str]]]:
    """The witnesses grouped by what they say, the largest group first."""
    groups: dict[Any, list[str]] = {}
    for label, value in values.items():
        groups.setdefault(value, []).append(label)
    return sorted(groups.items(), key=lambda kv: -len(kv[1]))
