"""``Summary`` and ``Row``: the one currency of the formula engine, Keras and the goldens.

Comparing two engines is ``==`` on summaries. Only the table's columns take part
(name, type, output shape, params, trainable params, trainable flag, totals);
the formula engine's extras (MACs, receptive field, effective stride) ride along
with ``compare=False`` because Keras has no opinion on them.

This module never imports Keras; ``zoo.keras.introspect.summary_of`` reads a built model
into the same types.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

Shape = tuple[int | None, ...]
Stride = tuple[int | Fraction, ...]


@dataclass(frozen=True)
class Row:
    """One layer of a summary, as Keras's ``model.summary()`` shows it."""

    name: str
    type: str
    output_shape: Shape  # with None for the batch axis
    params: int
    trainable: bool
    trainable_params: int  # of ``params``; the rest are non-trainable (frozen, BN statistics)
    connected_to: tuple[str, ...] = ()  # the layers it takes ("input": the model's input)
    macs: int | None = field(default=None, compare=False)
    receptive_field: tuple[int, ...] | None = field(default=None, compare=False)
    effective_stride: Stride | None = field(default=None, compare=False)

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
        """Human-readable lines saying where two summaries differ; empty when equal."""
        out = []
        a, b = labels
        for i in range(max(len(self.rows), len(other.rows))):
            left = self.rows[i] if i < len(self.rows) else None
            right = other.rows[i] if i < len(other.rows) else None
            if left != right:
                out.append(f"row {i}: {a}: {_row_text(left)}")
                out.append(f"{' ' * len(f'row {i}')}  {b}: {_row_text(right)}")
        for total in ("total_params", "trainable_params", "non_trainable_params"):
            x, y = getattr(self, total), getattr(other, total)
            if x != y:
                out.append(f"{total}: {a}={x:,} {b}={y:,}")
        return out

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
                }
                for r in self.rows
            ],
            "total_params": self.total_params,
            "trainable_params": self.trainable_params,
            "non_trainable_params": self.non_trainable_params,
        }


def _row_text(row: Row | None) -> str:
    if row is None:
        return "(no row)"
    return (
        f"{row.name} ({row.type}) {format_shape(row.output_shape)} params={row.params:,} "
        f"trainable_params={row.trainable_params:,} trainable={row.trainable} "
        f"connected_to={list(row.connected_to)}"
    )


def format_shape(shape: Shape) -> str:
    inner = ", ".join("None" if d is None else str(d) for d in shape)
    return f"({inner},)" if len(shape) == 1 else f"({inner})"


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
    if has_extras and summary.macs is not None:
        out.append(f"MACs per sample: {summary.macs:,}")
    return "\n".join(out) + "\n"
