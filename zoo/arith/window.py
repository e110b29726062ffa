"""Sliding windows: the tutorial's output size ``floor((n - f + p) / s) + 1`` for every spatial axis,
with Keras's dilation and refusals, shared by convolutions and pooling."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from zoo.arith.step import GeometryError, Shape, needs_rank


def same_or_each(terms: list[str], values: Sequence[int]) -> str:
    """One equation when every axis works out the same, else one per axis."""
    if len(set(terms)) == 1:
        return f"{terms[0]} = {values[0]}"
    return f"({', '.join(terms)}) = ({', '.join(map(str, values))})"


def effective(k: int, d: int) -> int:
    """Effective kernel size with dilation: d * (k - 1) + 1."""
    return d * (k - 1) + 1


def kernel_term(k: int, d: int) -> str:
    return str(k) if d == 1 else f"({d}*({k} - 1) + 1)"


def sliding(
    shape: Shape,
    kernel: Sequence[int],
    strides: Sequence[int],
    padding: str,
    dilation: Sequence[int],
    what: str,
) -> tuple[Shape, str]:
    """The tutorial's output size for every spatial axis, failing where Keras fails."""
    spatial = shape[:-1]
    outs, terms = [], []
    for n, k, s, d in zip(spatial, kernel, strides, dilation):
        f = effective(k, d)
        p = f - 1 if padding in ("same", "causal") else 0
        out = (n - f + p) // s + 1
        term = f"floor(({n} - {kernel_term(k, d)} + {p}) / {s}) + 1"
        if out <= 0:
            raise GeometryError(
                f"output size would be {out}: out = {term} = {out}; "
                f"the {what} ({f}) is larger than the input ({n}) with padding='valid'",
                input_shape=(None, *shape),
                **{"kernel_size" if what == "kernel" else "pool_size": tuple(kernel)},
            )
        outs.append(out)
        terms.append(term)
    return tuple(outs), "out = " + same_or_each(terms, outs)


def no_dilated_strides(a: dict[str, Any]) -> None:
    if any(s > 1 for s in a["strides"]) and any(d > 1 for d in a["dilation_rate"]):
        raise GeometryError(
            "strides > 1 together with dilation_rate > 1 is not supported by Keras",
            strides=a["strides"],
            dilation_rate=a["dilation_rate"],
        )


def conv_geometry(
    shape: Shape, a: dict[str, Any], rank: int, *, dilated_strides: bool = False
) -> tuple[Shape, str, list[tuple[int, int]]]:
    """Output grid, its worked arithmetic and the (dilated kernel, stride) window of a convolution.

    Keras refuses strides > 1 with dilation > 1 for plain and transposed
    convolutions, but allows it for separable and depthwise ones.
    """
    needs_rank(shape, rank)
    if not dilated_strides:
        no_dilated_strides(a)
    spatial, out_text = sliding(
        shape, a["kernel_size"], a["strides"], a["padding"], a["dilation_rate"], "kernel"
    )
    window = [(effective(k, d), s) for k, s, d in zip(a["kernel_size"], a["strides"], a["dilation_rate"])]
    return spatial, out_text, window


def kernel_product(kernel: Sequence[int]) -> str:
    return "*".join(map(str, kernel))
