"""The tutorial's arithmetic as plain Python: output shapes, parameters, MACs, receptive fields.

One function per layer family, each a few lines you can check against the
tutorial by eye:

    out    = floor((n - f + p) / s) + 1      p = f - 1 for 'same', 0 for 'valid'
    params = (fh * fw * c_in + 1) * filters  pooling has none

with Keras's refinements where the tutorial is silent (dilation, groups,
depth multipliers) or wrong (transposed convolution, see :func:`conv_transpose`).

This module must never import TensorFlow or Keras, nor ask them for an answer:
it is the independent witness that makes the golden summaries trustworthy.
Shapes here have no batch axis; rows add ``None`` in front.

Conventions:
- MACs are multiply-accumulates for one sample in the layers that have weights
  (convolutions, dense); bias additions, pooling, normalisation and activations
  count 0.
- Receptive field and effective stride follow the standard recurrence per
  spatial axis: ``r' = r + (k - 1) * j`` and ``j' = j * s``. Up-sampling layers
  (UpSampling, transposed convolutions) divide the stride instead, so it may be a
  fraction; each output then sees ``ceil(k / s)`` input positions.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from zoo.spec.catalog import MODEL_INPUT, LayerKind
from zoo.spec.errors import SpecError
from zoo.spec.model import Layer, Spec
from zoo.arith.summary import Row, Summary

Shape = tuple[int, ...]


class Geometry(Exception):
    """Raised by a family function; the engine turns it into a SpecError at the layer."""

    def __init__(self, what: str, **received: Any) -> None:
        super().__init__(what)
        self.what, self.received = what, received


@dataclass
class Step:
    """What one layer does to the shape, plus the worked arithmetic for ``explain``."""

    shape: Shape
    params: int = 0
    macs: int = 0
    non_trainable: int = 0  # weights that never train (BatchNormalization's statistics)
    # per spatial axis: (k, s) of a window that slides forward, or None when the
    # layer keeps the grid, or "flat" when the spatial axes are gone
    window: Sequence[tuple[int, int]] | str | None = None
    upsample: bool = False
    work: list[str] = field(default_factory=list)  # "out = ...", "params = ..."
    inner: list[tuple[str, Step]] = field(default_factory=list)  # nested base, for explain


# ------------------------------------------------------------------ helpers


class _Unknown:
    """A size Keras leaves open (``None``: keras.applications' ``(None, None, 3)`` without the top).

    It absorbs arithmetic (an unknown input size gives an unknown output size and
    unknown MACs) and is never <= 0, so the geometry checks pass it through.
    """

    def _absorb(self, other: Any) -> _Unknown:
        return self

    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _absorb
    __floordiv__ = __rfloordiv__ = __truediv__ = __rtruediv__ = _absorb

    def __le__(self, other: Any) -> bool:
        return False

    __lt__ = __le__

    def __repr__(self) -> str:
        return "None"


UNKNOWN = _Unknown()


def known(value: Any) -> Any:
    """``None`` for an unknown size, else the value (what rows and goldens hold)."""
    return None if isinstance(value, _Unknown) else value


def _channels(shape: Shape, what: str = "channel") -> int:
    if isinstance(shape[-1], _Unknown):
        raise Geometry(f"the {what} dimension of the inputs must be defined", input_shape=_shown(shape))
    return shape[-1]


def _shown(shape: Sequence[Any]) -> tuple[Any, ...]:
    return (None, *(known(d) for d in shape))


def _prod(xs: Sequence[int]) -> int:
    return math.prod(xs)


def _same_or_each(terms: list[str], values: Sequence[int]) -> str:
    """One equation when every axis works out the same, else one per axis."""
    if len(set(terms)) == 1:
        return f"{terms[0]} = {values[0]}"
    return f"({', '.join(terms)}) = ({', '.join(map(str, values))})"


def _needs_rank(shape: Shape, rank: int, what: str = "spatial") -> None:
    if len(shape) != rank + 1:
        raise Geometry(
            f"needs input of rank {rank + 2} (batch, {rank} {what} axes, channels), "
            f"but the layer before gives rank {len(shape) + 1}",
            input_shape=(None, *shape),
        )


def _eff(k: int, d: int) -> int:
    """Effective kernel size with dilation: d * (k - 1) + 1."""
    return d * (k - 1) + 1


def _k_text(k: int, d: int) -> str:
    return str(k) if d == 1 else f"({d}*({k} - 1) + 1)"


def _sliding(
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
        f = _eff(k, d)
        p = f - 1 if padding in ("same", "causal") else 0
        out = (n - f + p) // s + 1
        term = f"floor(({n} - {_k_text(k, d)} + {p}) / {s}) + 1"
        if out <= 0:
            raise Geometry(
                f"output size would be {out}: out = {term} = {out}; "
                f"the {what} ({f}) is larger than the input ({n}) with padding='valid'",
                input_shape=(None, *shape),
                **{"kernel_size" if what == "kernel" else "pool_size": tuple(kernel)},
            )
        outs.append(out)
        terms.append(term)
    return tuple(outs), "out = " + _same_or_each(terms, outs)


def _no_dilated_strides(a: dict[str, Any]) -> None:
    if any(s > 1 for s in a["strides"]) and any(d > 1 for d in a["dilation_rate"]):
        raise Geometry(
            "strides > 1 together with dilation_rate > 1 is not supported by Keras",
            strides=a["strides"],
            dilation_rate=a["dilation_rate"],
        )


def _conv_geometry(
    shape: Shape, a: dict[str, Any], rank: int, *, dilated_strides: bool = False
) -> tuple[Shape, str, list[tuple[int, int]]]:
    """Output grid, its worked arithmetic and the (dilated kernel, stride) window of a convolution.

    Keras refuses strides > 1 with dilation > 1 for plain and transposed
    convolutions, but allows it for separable and depthwise ones.
    """
    _needs_rank(shape, rank)
    if not dilated_strides:
        _no_dilated_strides(a)
    spatial, out_text = _sliding(
        shape, a["kernel_size"], a["strides"], a["padding"], a["dilation_rate"], "kernel"
    )
    window = [(_eff(k, d), s) for k, s, d in zip(a["kernel_size"], a["strides"], a["dilation_rate"])]
    return spatial, out_text, window


def _kernel_text(kernel: Sequence[int]) -> str:
    return "*".join(map(str, kernel))


# ------------------------------------------------------------------ families


def conv(shape: Shape, a: dict[str, Any], rank: int) -> Step:
    """Conv1D/2D/3D: out = floor((n - f + p) / s) + 1; params = (f*...*c_in/groups + 1) * filters."""
    filters, groups, cin = a["filters"], a["groups"], _channels(shape)
    if filters % groups:
        raise Geometry("filters must be evenly divisible by groups", filters=filters, groups=groups)
    if cin % groups:
        raise Geometry("input channels must be evenly divisible by groups", input_channels=cin, groups=groups)
    spatial, out_text, window = _conv_geometry(shape, a, rank)
    per_filter = _prod(a["kernel_size"]) * (cin // groups)
    bias = 1 if a["use_bias"] else 0
    c_text = str(cin) if groups == 1 else f"({cin}/{groups})"
    params_text = (
        f"params = ({_kernel_text(a['kernel_size'])}*{c_text}{' + 1' if bias else ''}) * {filters}"
        f" = {(per_filter + bias) * filters:,}"
    )
    return Step(
        shape=(*spatial, filters),
        params=(per_filter + bias) * filters,
        macs=_prod(spatial) * per_filter * filters,
        window=window,
        work=[out_text, params_text],
    )


def conv_transpose(shape: Shape, a: dict[str, Any], rank: int) -> Step:
    """Conv1D/2D/3DTranspose, by Keras's rule (``deconv_output_length``), not the tutorial's.

    Without output_padding: 'valid' gives n*s + max(f - s, 0), 'same' gives n*s;
    with it: (n - 1)*s + f - 2*pad + output_padding, pad = f // 2 for 'same', 0 for 'valid'
    (f is the dilated kernel). The tutorial's s * (n + f - p) is shown beside it.
    """
    _needs_rank(shape, rank)
    _no_dilated_strides(a)
    out_pad = a["output_padding"]
    if out_pad is not None:
        for i, (op, s) in enumerate(zip(out_pad, a["strides"])):
            if op >= s:
                raise Geometry(
                    f"output_padding must be strictly less than strides on every axis; "
                    f"on axis {i} it is {op} with strides {s}",
                    output_padding=out_pad,
                    strides=a["strides"],
                )
    outs, terms, tutorial = [], [], []
    for i, (n, k, s, d) in enumerate(zip(shape[:-1], a["kernel_size"], a["strides"],
                                         a["dilation_rate"])):  # fmt: skip
        f = _eff(k, d)
        if out_pad is None:
            if a["padding"] == "valid":
                out = n * s + max(f - s, 0)
                terms.append(f"{n} * {s} + max({_k_text(k, d)} - {s}, 0)")
            else:
                out = n * s
                terms.append(f"{n} * {s}")
        else:
            pad = f // 2 if a["padding"] == "same" else 0
            out = (n - 1) * s + f - 2 * pad + out_pad[i]
            terms.append(f"({n} - 1) * {s} + {_k_text(k, d)} - 2*{pad} + {out_pad[i]}")
        if out <= 0:
            raise Geometry(
                f"output size would be {out}: out = {terms[-1]} = {out}",
                input_shape=(None, *shape),
                kernel_size=a["kernel_size"],
                strides=a["strides"],
                output_padding=out_pad,
            )
        outs.append(out)
        p = f - 1 if a["padding"] == "same" else 0
        tutorial.append((f"{s} * ({n} + {f} - {p})", s * (n + f - p)))
    cin, filters = _channels(shape), a["filters"]
    bias = 1 if a["use_bias"] else 0
    params = (_prod(a["kernel_size"]) * cin + bias) * filters
    t_terms, t_values = [t for t, _ in tutorial], [v for _, v in tutorial]
    note = ""
    if t_values != outs:
        note = f" (the tutorial's s * (n + f - p) would give {_same_or_each(t_terms, t_values)})"
    return Step(
        shape=(*outs, filters),
        params=params,
        macs=_prod(shape[:-1]) * _prod(a["kernel_size"]) * cin * filters,
        window=[(_eff(k, d), s) for k, s, d in zip(a["kernel_size"], a["strides"], a["dilation_rate"])],
        upsample=True,
        work=[
            "out = " + _same_or_each(terms, outs) + note,
            f"params = ({_kernel_text(a['kernel_size'])}*{cin}{' + 1' if bias else ''}) * "
            f"{filters} = {params:,}",
        ],
    )


def separable_conv(shape: Shape, a: dict[str, Any], rank: int) -> Step:
    """SeparableConv1D/2D: a depthwise conv (f*...*c_in*m) then a pointwise one ((c_in*m + 1) * filters)."""
    spatial, out_text, window = _conv_geometry(shape, a, rank, dilated_strides=True)
    cin, m, filters = _channels(shape), a["depth_multiplier"], a["filters"]
    k = _prod(a["kernel_size"])
    bias = filters if a["use_bias"] else 0
    params = k * cin * m + cin * m * filters + bias
    return Step(
        shape=(*spatial, filters),
        params=params,
        macs=_prod(spatial) * (k * cin * m + cin * m * filters),
        window=window,
        work=[
            out_text,
            f"params = {_kernel_text(a['kernel_size'])}*{cin}*{m} + ({cin}*{m}"
            f"{' + 1' if bias else ''}) * {filters} = {params:,}",
        ],
    )


def depthwise_conv(shape: Shape, a: dict[str, Any], rank: int) -> Step:
    """DepthwiseConv1D/2D: one f*... filter per channel and multiplier: (f*... + 1) * c_in*m."""
    spatial, out_text, window = _conv_geometry(shape, a, rank, dilated_strides=True)
    cin, m = _channels(shape), a["depth_multiplier"]
    k = _prod(a["kernel_size"])
    bias = 1 if a["use_bias"] else 0
    params = (k + bias) * cin * m
    return Step(
        shape=(*spatial, cin * m),
        params=params,
        macs=_prod(spatial) * k * cin * m,
        window=window,
        work=[
            out_text,
            f"params = ({_kernel_text(a['kernel_size'])}{' + 1' if bias else ''}) * {cin}*{m} = {params:,}",
        ],  # fmt: skip
    )


def pool(shape: Shape, a: dict[str, Any], rank: int) -> Step:
    """Max/AveragePooling: the conv formula with the pool as kernel; strides default to pool_size."""
    _needs_rank(shape, rank)
    strides = a["strides"] or a["pool_size"]
    spatial, out_text = _sliding(shape, a["pool_size"], strides, a["padding"], (1,) * rank, "pool")
    return Step(
        shape=(*spatial, shape[-1]),
        window=list(zip(a["pool_size"], strides)),
        work=[out_text, "params = 0 (pooling layers have no parameters)"],
    )


def global_pool(shape: Shape, a: dict[str, Any], rank: int) -> Step:
    """GlobalAverage/GlobalMaxPooling: one value per channel."""
    _needs_rank(shape, rank)
    out = (*(1,) * rank, shape[-1]) if a["keepdims"] else (shape[-1],)
    return Step(
        shape=out,
        window="flat",  # it sees the whole grid, kept dims or not: no receptive field of its own
        work=[f"out = channels = {shape[-1]}", "params = 0"],
    )


def upsampling(shape: Shape, a: dict[str, Any], rank: int) -> Step:
    """UpSampling1D/2D/3D: every spatial size times ``size``."""
    _needs_rank(shape, rank)
    outs = [n * s for n, s in zip(shape[:-1], a["size"])]
    terms = [f"{s} * {n}" for n, s in zip(shape[:-1], a["size"])]
    return Step(
        shape=(*outs, shape[-1]),
        window=[(1, s) for s in a["size"]],
        upsample=True,
        work=["out = " + _same_or_each(terms, outs), "params = 0"],
    )


def zero_padding(shape: Shape, a: dict[str, Any], rank: int) -> Step:
    _needs_rank(shape, rank)
    outs = [n + b + e for n, (b, e) in zip(shape[:-1], a["padding"])]
    terms = [f"{n} + {b} + {e}" for n, (b, e) in zip(shape[:-1], a["padding"])]
    return Step(shape=(*outs, shape[-1]), work=["out = " + _same_or_each(terms, outs), "params = 0"])


def cropping(shape: Shape, a: dict[str, Any], rank: int) -> Step:
    _needs_rank(shape, rank)
    outs = [n - b - e for n, (b, e) in zip(shape[:-1], a["cropping"])]
    terms = [f"{n} - {b} - {e}" for n, (b, e) in zip(shape[:-1], a["cropping"])]
    for out, term in zip(outs, terms):
        if out <= 0:
            raise Geometry(f"output size would be {out}: out = {term}; cropping must leave "
                           "at least one position", input_shape=(None, *shape),
                           cropping=a["cropping"])  # fmt: skip
    return Step(shape=(*outs, shape[-1]), work=["out = " + _same_or_each(terms, outs), "params = 0"])


def flatten(shape: Shape, a: dict[str, Any], rank: int) -> Step:
    out = _prod(shape)
    return Step(shape=(out,), window="flat",
                work=[f"out = {'*'.join(map(str, shape))} = {out}", "params = 0"])  # fmt: skip


def reshape(shape: Shape, a: dict[str, Any], rank: int) -> Step:
    if any(isinstance(d, _Unknown) for d in shape):
        raise Geometry("cannot reshape an input of unknown size", input_shape=_shown(shape))
    target, total = list(a["target_shape"]), _prod(shape)
    known = _prod([t for t in target if t != -1])
    if -1 in target:
        if total % known:
            raise Geometry(f"cannot infer -1: {total} values do not divide into {known}",
                           input_shape=(None, *shape), target_shape=tuple(target))  # fmt: skip
        target[target.index(-1)] = total // known
    elif known != total:
        raise Geometry(f"the target shape holds {known} values but the input holds {total}",
                       input_shape=(None, *shape), target_shape=tuple(target))  # fmt: skip
    return Step(shape=tuple(target), window="flat", work=[f"out = {tuple(target)}", "params = 0"])


def dense(shape: Shape, a: dict[str, Any], rank: int) -> Step:
    """Dense: params = (n_in + 1) * units, applied along the last axis."""
    n_in, units = _channels(shape, "last"), a["units"]
    bias = 1 if a["use_bias"] else 0
    params = (n_in + bias) * units
    return Step(
        shape=(*shape[:-1], units),
        params=params,
        macs=_prod(shape[:-1]) * n_in * units,
        work=[
            f"out = units = {units}",
            f"params = ({n_in}{' + 1' if bias else ''}) * {units} = {params:,}",
        ],  # fmt: skip
    )


def identity(shape: Shape, a: dict[str, Any], rank: int) -> Step:
    return Step(shape=shape, work=["out = in", "params = 0"])


def dropout(shape: Shape, a: dict[str, Any], rank: int) -> Step:
    """Dropout: the shape is kept; a noise_shape names one mask size per axis, batch first."""
    noise = a["noise_shape"]
    if noise is not None:
        if len(noise) != len(shape) + 1:
            raise Geometry(f"noise_shape needs {len(shape) + 1} sizes, one per axis of the input",
                           noise_shape=noise, input_shape=_shown(shape))  # fmt: skip
        for n, d in zip(noise[1:], shape):
            if n is not None and n not in (1, d) and not isinstance(d, _Unknown):
                raise Geometry("each noise_shape size must be 1 or the input's size",
                               noise_shape=noise, input_shape=_shown(shape))  # fmt: skip
    return Step(shape=shape, work=["out = in", "params = 0"])


def normalization(shape: Shape, a: dict[str, Any], rank: int) -> Step:
    """Normalization: (x - mean) / sqrt(variance); mean, variance and count are non-trainable weights
    (C + C + 1) unless the spec gives mean and variance, which are then constants."""
    full = (None, *shape)
    axis = a["axis"] if a["axis"] >= 0 else len(full) + a["axis"]
    if not 1 <= axis < len(full):
        raise Geometry(f"axis out of range for input of rank {len(full)}", axis=a["axis"], input_shape=_shown(shape))
    c = shape[axis - 1]
    if isinstance(c, _Unknown):
        raise Geometry("the normalised axis must have a known size", axis=a["axis"], input_shape=_shown(shape))
    if (a["mean"] is None) != (a["variance"] is None):
        raise Geometry("give both mean and variance, or neither", mean=a["mean"], variance=a["variance"])
    if a["mean"] is not None:
        return Step(shape=shape, work=["out = in", "params = 0 (mean and variance given: constants)"])
    return Step(shape=shape, params=2 * c + 1, non_trainable=2 * c + 1,
                work=["out = in", f"params = {c} means + {c} variances + 1 count = {2 * c + 1} (non-trainable)"])


def layer_norm(shape: Shape, a: dict[str, Any], rank: int) -> Step:
    """LayerNormalization: a gamma and a beta per feature of the normalised axis."""
    full = (None, *shape)
    axis = a["axis"] if a["axis"] >= 0 else len(full) + a["axis"]
    if not 1 <= axis < len(full) or isinstance(shape[axis - 1], _Unknown):
        raise Geometry("the normalised axis must exist and have a known size", axis=a["axis"],
                       input_shape=_shown(shape))  # fmt: skip
    c = shape[axis - 1]
    learned = int(a["center"]) + int(a["scale"])
    return Step(shape=shape, params=learned * c,
                work=["out = in", f"params = {learned} learned * {c} = {learned * c:,}"])


def layer_scale(shape: Shape, a: dict[str, Any], rank: int) -> Step:
    """ConvNeXt's LayerScale: x * gamma, one gamma per channel (projection_dim of them)."""
    c, dim = _channels(shape), a["projection_dim"]
    if dim != c:
        raise Geometry(f"projection_dim must equal the input's channels ({c})", projection_dim=dim)
    return Step(shape=shape, params=dim, macs=0, work=["out = in", f"params = projection_dim = {dim}"])


def batch_norm(shape: Shape, a: dict[str, Any], rank: int) -> Step:
    """BatchNormalization: gamma and beta train; the moving mean and variance never do."""
    full = (None, *shape)
    axis = a["axis"] if a["axis"] >= 0 else len(full) + a["axis"]
    if not 1 <= axis < len(full):
        raise Geometry(f"axis out of range for input of rank {len(full)}",
                       axis=a["axis"], input_shape=full)  # fmt: skip
    c = shape[axis - 1]
    if isinstance(c, _Unknown):
        raise Geometry("the normalised axis must have a known size", axis=a["axis"], input_shape=_shown(shape))
    learned = int(a["center"]) + int(a["scale"])
    return Step(
        shape=shape,
        params=(learned + 2) * c,
        non_trainable=2 * c,
        work=[
            "out = in",
            f"params = ({learned} learned + 2 moving statistics) * {c} = {(learned + 2) * c:,} "
            f"({2 * c:,} non-trainable)",
        ],  # fmt: skip
    )


def base_spec(kind: str, shape: Sequence[Any], a: dict[str, Any]) -> Spec:
    """The zoo spec of a pretrained base layer: its family file without the top, at ``shape``."""
    from zoo.spec.catalog import APPLICATIONS
    from zoo.spec.registry import Registry

    return Registry([]).builtin_spec(APPLICATIONS[kind], include_top=False, input_shape=list(shape),
                                     pooling=a["pooling"], weights=a["weights"],
                                     data_format=a["data_format"])  # fmt: skip


def application(shape: Shape, a: dict[str, Any], rank: int, *, kind: str) -> Step:
    """A keras.applications base as one layer, computed from zoo's own family spec of it.

    No architecture is described twice: the base's rows are those of its family file
    (``specs/resnet.yaml`` for ResNet50) expanded without the top, at this layer's input shape.
    """
    _needs_rank(shape, rank)
    try:
        base = base_spec(kind, _shown(shape)[1:], a)
    except SpecError as exc:
        raise Geometry(f"{kind}: {exc.reason}", input_shape=(None, *shape)) from None
    computed = steps(base)
    inner = [(layer.name, step) for layer, _, step in computed]
    summary = summarize(base, computed)
    last = summary.rows[-1]
    if a["trainable_from"] is not None and not a["trainable"]:
        raise Geometry("trainable_from unfreezes part of the base, so the base cannot be trainable: false",
                       trainable_from=a["trainable_from"])  # fmt: skip
    trains = fine_tuned_layers(base, a["trainable_from"])
    non_trainable = summary.non_trainable_params
    if trains is not None:  # fine-tuning: only the layers from trainable_from on train, BN never
        non_trainable = summary.total_params - sum(r.trainable_params for r in summary.rows if r.name in trains)
    window: list[tuple[int, int]] | str = "flat"
    if last.receptive_field is not None and last.effective_stride is not None:
        window = [(int(r), int(j)) for r, j in zip(last.receptive_field, last.effective_stride)]
    return Step(
        shape=tuple(UNKNOWN if d is None else d for d in last.output_shape[1:]),
        params=summary.total_params,
        macs=UNKNOWN if summary.macs is None else summary.macs,
        non_trainable=non_trainable,
        window=window,
        inner=inner,
        work=[
            f"out = {last.output_shape[1:]} (zoo model {base.name!r}, {len(base.layers)} layers)",
            f"params = {summary.total_params:,} (the sum of its layers)"
            + ("" if trains is None else f"; {summary.total_params - non_trainable:,} of them train, from "
               f"{a['trainable_from']} on (BatchNormalization layers stay frozen)"),
        ],
    )


def fine_tuned_layers(base: Spec, trainable_from: str | None) -> set[str] | None:
    """The names of a base's layers that train when it is fine-tuned from ``trainable_from``:
    that layer and every later one in the family file's order, BatchNormalization excepted
    (the Keras transfer-learning guide keeps it in inference mode). None: no fine-tuning."""
    if trainable_from is None:
        return None
    names = [layer.name for layer in base.layers]
    if trainable_from not in names:
        from zoo.spec.errors import did_you_mean

        raise Geometry(f"trainable_from names no layer of {base.name}{did_you_mean(trainable_from, names)}",
                       trainable_from=trainable_from)  # fmt: skip
    later = base.layers[names.index(trainable_from):]
    return {layer.name for layer in later if layer.kind != "BatchNormalization"}


FAMILIES: dict[str, Callable[[Shape, dict[str, Any], int], Step]] = {
    "conv": conv,
    "conv_transpose": conv_transpose,
    "separable_conv": separable_conv,
    "depthwise_conv": depthwise_conv,
    "pool": pool,
    "global_pool": global_pool,
    "upsampling": upsampling,
    "zero_padding": zero_padding,
    "cropping": cropping,
    "flatten": flatten,
    "reshape": reshape,
    "dense": dense,
    "identity": identity,
    "dropout": dropout,
    "normalization": normalization,
    "layer_norm": layer_norm,
    "layer_scale": layer_scale,
    "batch_norm": batch_norm,
}


# ------------------------------------------------------------------ merges (graphs)


def elementwise(shapes: Sequence[Shape], a: dict[str, Any], rank: int) -> Step:
    """Add, Multiply, ...: one output of the common shape; a size of 1 broadcasts (Keras's rule)."""
    out = list(shapes[0])
    for other in shapes[1:]:
        if len(other) != len(out):
            raise Geometry("inputs must have the same rank", input_shapes=[(None, *x) for x in shapes])
        for i, (x, y) in enumerate(zip(out, other)):
            if isinstance(x, _Unknown) or isinstance(y, _Unknown):
                out[i] = UNKNOWN if 1 in (x, y) or x is y else (y if isinstance(x, _Unknown) else x)
                continue
            if x != y and 1 not in (x, y):
                raise Geometry(
                    f"inputs have different shapes: axis {i + 1} is {x} in one and {y} in another",
                    input_shapes=[(None, *x) for x in shapes],
                )
            out[i] = max(x, y)
    terms = " and ".join(str((None, *x)) for x in shapes)
    return Step(shape=tuple(out), work=[f"out = the common shape of {terms} = {(None, *out)}", "params = 0"])


def concatenate(shapes: Sequence[Shape], a: dict[str, Any], rank: int) -> Step:
    """Concatenate: sizes add up along ``axis``; every other axis must agree."""
    full = len(shapes[0]) + 1
    axis = a["axis"] if a["axis"] >= 0 else full + a["axis"]
    shown = [(None, *x) for x in shapes]
    if not 1 <= axis < full:
        raise Geometry(f"axis out of range for inputs of rank {full}", axis=a["axis"], input_shapes=shown)
    if any(len(x) != len(shapes[0]) for x in shapes):
        raise Geometry("inputs must have the same rank", input_shapes=shown)
    for i in range(len(shapes[0])):
        if i != axis - 1 and len({x[i] for x in shapes}) > 1:
            raise Geometry(
                f"inputs differ on axis {i + 1} ({', '.join(str(x[i]) for x in shapes)}); "
                f"only the concatenation axis {axis} may differ",
                input_shapes=shown,
            )
    sizes = [x[axis - 1] for x in shapes]
    out = list(shapes[0])
    out[axis - 1] = sum(sizes)
    return Step(shape=tuple(out), work=[f"out[{axis}] = {' + '.join(map(str, sizes))} = {sum(sizes)}",
                                        "params = 0"])  # fmt: skip


def op(shapes: Sequence[Shape], a: dict[str, Any], rank: int) -> Step:
    """An operation in the graph (ops.add, ops.multiply): elementwise on two inputs, or on one
    input and a number, which keeps the shape."""
    if a["operand"] is None:
        return elementwise(shapes, a, rank)
    return Step(shape=shapes[0], work=[f"out = in (with the number {a['operand']!r})", "params = 0"])


def group(shape: Shape, a: dict[str, Any], rank: int) -> Step:
    """A nested keras.Sequential: its layers in a chain, one row with their totals."""
    inner: list[tuple[str, Step]] = []
    rf: list[int] | None = None
    current = shape
    for layer in a["layers"]:
        try:
            step = compute(layer.catalog, [current], layer.resolved())
        except Geometry as exc:
            raise Geometry(f"{layer.name}: {exc.what}", **exc.received) from None
        inner.append((layer.name, step))
        current = step.shape
    window: list[tuple[int, int]] | str | None = None
    if all(isinstance(s.window, list) or s.window is None for _, s in inner):
        rf, jump = [1] * (len(shape) - 1), [1] * (len(shape) - 1)
        for _, s in inner:
            for i, (k, st) in enumerate(s.window if isinstance(s.window, list) else []):
                rf[i] += (k - 1) * jump[i]
                jump[i] *= st
        window = list(zip(rf, jump))
    else:
        window = "flat"
    params = sum(s.params for _, s in inner)
    return Step(
        shape=current,
        params=params,
        macs=sum((s.macs for _, s in inner), start=0),
        non_trainable=sum(s.non_trainable for _, s in inner),
        window=window,
        inner=inner,
        work=[f"out = {_shown(current)} after {len(inner)} layers", f"params = {params:,} (the sum of its layers)"],
    )


FAMILIES["group"] = group

MERGE_FAMILIES: dict[str, Callable[[Sequence[Shape], dict[str, Any], int], Step]] = {
    "elementwise": elementwise,
    "concatenate": concatenate,
    "op": op,
}


# ------------------------------------------------------------------ the engine


def compute(kind: LayerKind, shapes: Sequence[Shape], a: dict[str, Any]) -> Step:
    """One layer's Step from its kind, its inputs' shapes and its resolved arguments.

    A layer with ``data_format: channels_first`` holds its channels before its spatial axes; its
    rule is the channels_last one, applied to the shape with the channels moved last, and its
    output moved back (a pretrained base computes in its own family file's format instead).
    """
    if kind.family in MERGE_FAMILIES:
        return MERGE_FAMILIES[kind.family](shapes, a, kind.rank)
    if kind.family == "application":
        return application(shapes[0], a, kind.rank, kind=kind.name)
    rule = FAMILIES[kind.family]
    if a.get("data_format") != "channels_first":
        return rule(shapes[0], a, kind.rank)
    shape = shapes[0]
    try:
        step = rule((*shape[1:], shape[0]), a, kind.rank)
    except Geometry as exc:  # show the input as the layer sees it
        if "input_shape" in exc.received:
            exc.received["input_shape"] = _shown(shape)
        raise
    if len(step.shape) == len(shape) and len(shape) > 1:  # the spatial axes remain: channels first again
        step.shape = (step.shape[-1], *step.shape[:-1])
    return step


def layer_step(spec: Spec, layer: Layer, shapes: Sequence[Shape]) -> Step:
    """One layer's Step from its inputs' shapes, or the SpecError Keras would have raised, worded."""
    try:
        return compute(layer.catalog, shapes, layer.resolved())
    except Geometry as exc:
        raise spec.error(layer, exc.what, **exc.received) from None


@dataclass
class _Field:
    """Receptive field and effective stride per spatial axis, or None once the grid is gone."""

    rf: list[int] | None
    jump: list[Fraction] | None

    def after(self, step: Step) -> _Field:
        if self.rf is None or self.jump is None or step.window == "flat":
            return _Field(None, None)
        if step.window is None or isinstance(step.window, str):
            return _Field(list(self.rf), list(self.jump))
        rf, jump = list(self.rf), list(self.jump)
        for i, (k, s) in enumerate(step.window):
            if step.upsample:  # each output sees ceil(k / s) input positions
                rf[i] += math.ceil((math.ceil(k / s) - 1) * jump[i])
                jump[i] /= s
            else:
                rf[i] += math.ceil((k - 1) * jump[i])
                jump[i] *= s
        return _Field(rf, jump)

    @staticmethod
    def merge(fields: Sequence[_Field]) -> _Field:
        """Where branches meet, the output sees the widest of them (per axis).

        A branch without a grid (globally pooled: squeeze-and-excitation's scale that
        multiplies the feature map) does not widen the field, as in google-research's
        receptive-field library; only when every branch lost its grid is the field gone.
        """
        fields = [f for f in fields if f.rf is not None and f.jump is not None] or list(fields[:1])
        if any(f.rf is None or f.jump is None for f in fields):
            return _Field(None, None)
        rfs = [f.rf for f in fields if f.rf is not None]
        jumps = [f.jump for f in fields if f.jump is not None]
        return _Field([max(axis) for axis in zip(*rfs)], [max(axis) for axis in zip(*jumps)])

    def values(self) -> tuple[tuple[int, ...] | None, tuple[int | Fraction, ...] | None]:
        if self.rf is None or self.jump is None:
            return None, None
        return tuple(self.rf), tuple(int(j) if j.denominator == 1 else j for j in self.jump)


def steps(spec: Spec) -> list[tuple[Layer, list[Shape], Step]]:
    """Every layer with its inputs' shapes and its Step, in definition order."""
    shapes: dict[str, Shape] = {MODEL_INPUT: tuple(UNKNOWN if d is None else d for d in spec.input)}
    out = []
    for layer in spec.layers:
        taken = [shapes[name] for name in layer.inputs]
        step = layer_step(spec, layer, taken)
        shapes[layer.name] = step.shape
        out.append((layer, taken, step))
    return out


def summarize(spec: Spec, computed: list[tuple[Layer, list[Shape], Step]] | None = None) -> Summary:
    """The spec's summary, computed without Keras (from ``computed``, its :func:`steps`, when given)."""
    spatial = len(spec.input) - 1
    fields = {MODEL_INPUT: _Field([1] * spatial, [Fraction(1)] * spatial) if spatial else _Field(None, None)}
    rows = []
    for layer, _, step in steps(spec) if computed is None else computed:
        fields[layer.name] = _Field.merge([fields[name] for name in layer.inputs]).after(step)
        rf, stride = fields[layer.name].values()
        trainable = layer.resolved()["trainable"]
        rows.append(
            Row(
                name=layer.name,
                type=layer.catalog.class_name,
                output_shape=_shown(step.shape),
                params=step.params,
                trainable=trainable,
                trainable_params=step.params - step.non_trainable if trainable else 0,
                connected_to=layer.inputs,
                macs=known(step.macs),
                receptive_field=rf,
                effective_stride=stride,
            )
        )
    return Summary.from_rows(spec.name, rows)


def explain(spec: Spec) -> str:
    """The arithmetic of every layer with the numbers filled in, as the tutorial works it."""
    lines = [f"{spec.name}: {spec.description}", f"input: {(None, *spec.input)}"]
    summary = summarize(spec)
    gridless = {r.name for r in summary.rows if r.receptive_field is None}
    for (layer, _, step), row in zip(steps(spec), summary.rows):
        takes = "" if spec.is_chain else f" [from {', '.join(layer.inputs)}]"
        lines.append(f"{layer.name}{takes}: {'; '.join(step.work)}")
        pooled = [n for n in layer.inputs if n in gridless]
        if len(layer.inputs) > 1 and pooled and row.receptive_field is not None:
            lines.append(f"    ({', '.join(pooled)} was pooled over the whole grid: as in google-research's "
                         "receptive-field library, that branch does not widen the receptive field)")
        for name, inner in step.inner:
            lines.append(f"    {name}: {'; '.join(inner.work)}")
        extra = f"output {(None, *step.shape)}"
        if step.macs:
            extra += f", MACs {step.macs:,}"
        if row.receptive_field is not None:
            rf = "x".join(map(str, row.receptive_field))
            stride = "x".join(map(str, row.effective_stride or ()))
            extra += f", receptive field {rf}, effective stride {stride}"
        lines.append(f"    -> {extra}")
    lines.append(
        f"total params = {summary.total_params:,} "
        f"(trainable {summary.trainable_params:,}, non-trainable {summary.non_trainable_params:,})"
    )
    return "\n".join(lines) + "\n"
