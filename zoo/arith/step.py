"""What one layer does, as the arithmetic records it: its :class:`Step`, the shape helpers every
rule shares, and :class:`GeometryError`, which a rule raises where Keras would refuse the layer.

Shapes here have no batch axis (rows add ``None`` in front); a size Keras leaves open is
:data:`UNKNOWN`, which absorbs arithmetic. Nothing here imports a framework.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

Shape = tuple[Any, ...]  # sizes, each an int or UNKNOWN


class GeometryError(Exception):
    """Raised by a family function; the engine turns it into a SpecError at the layer."""

    def __init__(self, what: str, **received: Any) -> None:
        super().__init__(what)
        self.what, self.received = what, received


@dataclass
class Step:
    """What one layer does to the shape, plus the worked arithmetic for ``explain``."""

    shape: Shape
    params: int = 0
    macs: Any = 0  # an int, or UNKNOWN where the input's size is left open
    non_trainable: int = 0  # weights that never train (BatchNormalization's statistics)
    # per spatial axis: (k, s) of a window that slides forward, or None when the
    # layer keeps the grid, or "flat" when the spatial axes are gone
    window: Sequence[tuple[int, int | Fraction]] | str | None = None  # strides may be fractions
    upsample: bool = False
    work: list[str] = field(default_factory=list)  # "out = ...", "params = ..."
    inner: list[tuple[str, Step]] = field(default_factory=list)  # a nested base's or Sequential's layers
    sequence: bool = False  # its inner layers apply one after another (the receptive field follows them)
    # a nested functional model's wiring: each inner layer's inputs (MODEL_INPUT: the group's), and
    # the inner layer it ends at; the receptive field follows the graph
    graph: Mapping[str, tuple[str, ...]] | None = None
    output: str | None = None
    changes: tuple[str, ...] = ()  # Keras's changes between releases this layer depends on (their ids)
    # a recurrent layer's states (an LSTM's h and c), which it takes as initial states after its
    # sequence; and the outputs it gives after the first (its states with return_state, a
    # Bidirectional's backward direction with merge_mode None): ``name:1``, ``name:2``, ...
    states: tuple[Shape, ...] = ()
    more: tuple[Shape, ...] = ()

    @property
    def outputs(self) -> tuple[Shape, ...]:
        """Every output the layer gives, the first (``shape``) first."""
        return (self.shape, *self.more)


class Unknown:
    """A size Keras leaves open (``None``: keras.applications' ``(None, None, 3)`` without the top).

    It absorbs arithmetic (an unknown input size gives an unknown output size and
    unknown MACs) and is never <= 0, so the geometry checks pass it through.
    """

    def _absorb(self, other: Any) -> Unknown:
        return self

    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _absorb
    __floordiv__ = __rfloordiv__ = __truediv__ = __rtruediv__ = _absorb

    def __le__(self, other: Any) -> bool:
        return False

    __lt__ = __le__

    def __repr__(self) -> str:
        return "None"


UNKNOWN = Unknown()


def size_or_none(value: Any) -> Any:
    """``None`` for an unknown size, else the value (what rows and goldens hold)."""
    return None if isinstance(value, Unknown) else value


def channels(shape: Shape, what: str = "channel") -> int:
    if isinstance(shape[-1], Unknown):
        raise GeometryError(f"the {what} dimension of the inputs must be defined", input_shape=shown(shape))
    return int(shape[-1])


def shown(shape: Sequence[Any]) -> tuple[Any, ...]:
    return (None, *(size_or_none(d) for d in shape))


def prod(xs: Sequence[int]) -> int:
    return math.prod(xs)


def needs_rank(shape: Shape, rank: int, what: str = "spatial") -> None:
    if len(shape) != rank + 1:
        raise GeometryError(
            f"needs input of rank {rank + 2} (batch, {rank} {what} axes, channels), "
            f"but the layer before gives rank {len(shape) + 1}",
            input_shape=(None, *shape),
        )


def axis_index(axis: int, shape: Shape, what: str = "input") -> int:
    """A layer's ``axis`` argument as an index into ``shape`` (no batch axis), counted as Keras counts
    it (the batch is axis 0; negative axes from the end); out of range is Keras's refusal."""
    rank = len(shape) + 1
    index = axis if axis >= 0 else rank + axis
    if not 1 <= index < rank:
        raise GeometryError(
            f"axis out of range for {what} of rank {rank}", axis=axis, input_shape=shown(shape)
        )
    return index - 1
