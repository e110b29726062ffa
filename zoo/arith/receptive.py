"""Receptive field and effective stride: the one recurrence every path uses.

Per spatial axis, ``r' = r + (k - 1) * j`` and ``j' = j * s`` for a window of ``k`` sliding by
``s``. Up-sampling layers (UpSampling, transposed convolutions) divide the stride instead, so it
may be a fraction; each output then sees ``ceil(k / s)`` input positions. A nested Sequential
applies its layers' windows one after another; where branches meet, the widest wins.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

from zoo.arith.step import Step
from zoo.specification.catalog import split_ref


@dataclass
class Field:
    """Receptive field and effective stride per spatial axis, or None once the grid is gone."""

    rf: list[int] | None
    jump: list[Fraction] | None

    def after(self, step: Step) -> Field:
        """The field after ``step``: its window's recurrence; a nested Sequential's layers one by one."""
        if step.sequence:
            out = self
            for _, inner in step.inner:
                out = out.after(inner)
            return out
        if step.graph is not None:  # a nested functional model: its graph, branches merged
            fields = {"input": self}
            for name, inner in step.inner:
                # a layer's second output (lstm:1) has its layer's field
                fields[name] = Field.merge([fields[split_ref(i)[0]] for i in step.graph[name]]).after(inner)
            return fields[step.output or step.inner[-1][0]]
        if self.rf is None or self.jump is None or step.window == "flat":
            return Field(None, None)
        if step.window is None or isinstance(step.window, str):
            return Field(list(self.rf), list(self.jump))
        rf, jump = list(self.rf), list(self.jump)
        for i, (k, s) in enumerate(step.window):
            if step.upsample:  # each output sees ceil(k / s) input positions
                rf[i] += math.ceil((math.ceil(k / s) - 1) * jump[i])
                jump[i] /= s
            else:
                rf[i] += math.ceil((k - 1) * jump[i])
                jump[i] *= s
        return Field(rf, jump)

    @staticmethod
    def merge(fields: Sequence[Field]) -> Field:
        """Where branches meet, the output sees the widest of them (per axis).

        A branch without a grid (globally pooled: squeeze-and-excitation's scale that
        multiplies the feature map) does not widen the field, as in google-research's
        receptive-field library; only when every branch lost its grid is the field gone.
        """
        fields = [f for f in fields if f.rf is not None and f.jump is not None] or list(fields[:1])
        if any(f.rf is None or f.jump is None for f in fields):
            return Field(None, None)
        rfs = [f.rf for f in fields if f.rf is not None]
        jumps = [f.jump for f in fields if f.jump is not None]
        return Field([max(axis) for axis in zip(*rfs)], [max(axis) for axis in zip(*jumps)])

    def values(self) -> tuple[tuple[int, ...] | None, tuple[int | Fraction, ...] | None]:
        if self.rf is None or self.jump is None:
            return None, None
        return tuple(self.rf), tuple(int(j) if j.denominator == 1 else j for j in self.jump)

    @staticmethod
    def of_input(spatial: int) -> Field:
        """The model's input: every position sees itself (no field at all without spatial axes)."""
        return Field([1] * spatial, [Fraction(1)] * spatial) if spatial else Field(None, None)
