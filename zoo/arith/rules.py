"""One rule per layer kind: each takes its input's shape (or shapes, for merges) and its resolved
arguments, and gives the layer's :class:`~zoo.arith.step.Step`, with its worked arithmetic.

    out    = floor((n - f + p) / s) + 1      p = f - 1 for 'same', 0 for 'valid'
    params = (fh * fw * c_in + 1) * filters  pooling has none

with Keras's refinements where the tutorial is silent (dilation, groups, depth multipliers) or
wrong (transposed convolution, see :func:`conv_transpose`). Each is a few lines you can check
against the tutorial by eye; the catalogue names the rule of each layer kind (its ``rule``).
Rules that compute other layers (a nested Sequential, a pretrained base) live in the engine.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from fractions import Fraction
from typing import Any

from zoo.arith.step import (
    UNKNOWN,
    GeometryError,
    Shape,
    Step,
    Unknown,
    axis_index,
    channels,
    needs_rank,
    prod,
    shown,
    size_or_none,
)
from zoo.arith.window import (
    conv_geometry,
    effective,
    kernel_product,
    kernel_term,
    no_dilated_strides,
    same_or_each,
    sliding,
)
from zoo.specification.catalog import lookup_tokens


def conv(shape: Shape, a: dict[str, Any], rank: int) -> Step:
    """Conv1D/2D/3D: out = floor((n - f + p) / s) + 1; params = (f*...*c_in/groups + 1) * filters."""
    filters, groups, cin = a["filters"], a["groups"], channels(shape)
    if filters % groups:
        raise GeometryError("filters must be evenly divisible by groups", filters=filters, groups=groups)
    if cin % groups:
        raise GeometryError(
            "input channels must be evenly divisible by groups", input_channels=cin, groups=groups
        )
    spatial, out_text, window = conv_geometry(shape, a, rank)
    per_filter = prod(a["kernel_size"]) * (cin // groups)
    bias = 1 if a["use_bias"] else 0
    c_text = str(cin) if groups == 1 else f"({cin}/{groups})"
    params_text = (
        f"params = ({kernel_product(a['kernel_size'])}*{c_text}{' + 1' if bias else ''}) * {filters}"
        f" = {(per_filter + bias) * filters:,}"
    )
    return Step(
        shape=(*spatial, filters),
        params=(per_filter + bias) * filters,
        macs=prod(spatial) * per_filter * filters,
        window=window,
        work=[out_text, params_text],
    )


def conv_transpose(shape: Shape, a: dict[str, Any], rank: int) -> Step:
    """Conv1D/2D/3DTranspose, by Keras's rule (``deconv_output_length``), not the tutorial's.

    Without output_padding: 'valid' gives n*s + max(f - s, 0), 'same' gives n*s;
    with it: (n - 1)*s + f - 2*pad + output_padding, pad = f // 2 for 'same', 0 for 'valid'
    (f is the dilated kernel). The tutorial's s * (n + f - p) is shown beside it.
    """
    needs_rank(shape, rank)
    no_dilated_strides(a)
    out_pad = a["output_padding"]
    if out_pad is not None:
        for i, (op, s) in enumerate(zip(out_pad, a["strides"])):
            if op >= s:
                raise GeometryError(
                    f"output_padding must be strictly less than strides on every axis; "
                    f"on axis {i} it is {op} with strides {s}",
                    output_padding=out_pad,
                    strides=a["strides"],
                )
    outs, terms, tutorial = [], [], []
    for i, (n, k, s, d) in enumerate(zip(shape[:-1], a["kernel_size"], a["strides"], a["dilation_rate"])):
        f = effective(k, d)
        if out_pad is None:
            if a["padding"] == "valid":
                out = n * s + max(f - s, 0)
                terms.append(f"{n} * {s} + max({kernel_term(k, d)} - {s}, 0)")
            else:
                out = n * s
                terms.append(f"{n} * {s}")
        else:
            pad = f // 2 if a["padding"] == "same" else 0
            out = (n - 1) * s + f - 2 * pad + out_pad[i]
            terms.append(f"({n} - 1) * {s} + {kernel_term(k, d)} - 2*{pad} + {out_pad[i]}")
        if out <= 0:
            raise GeometryError(
                f"output size would be {out}: out = {terms[-1]} = {out}",
                input_shape=(None, *shape),
                kernel_size=a["kernel_size"],
                strides=a["strides"],
                output_padding=out_pad,
            )
        outs.append(out)
        p = f - 1 if a["padding"] == "same" else 0
        tutorial.append((f"{s} * ({n} + {f} - {p})", s * (n + f - p)))
    cin, filters = channels(shape), a["filters"]
    bias = 1 if a["use_bias"] else 0
    params = (prod(a["kernel_size"]) * cin + bias) * filters
    t_terms, t_values = [t for t, _ in tutorial], [v for _, v in tutorial]
    note = ""
    if t_values != outs:
        note = f" (the tutorial's s * (n + f - p) would give {same_or_each(t_terms, t_values)})"
    return Step(
        shape=(*outs, filters),
        params=params,
        macs=prod(shape[:-1]) * prod(a["kernel_size"]) * cin * filters,
        window=[(effective(k, d), s) for k, s, d in zip(a["kernel_size"], a["strides"], a["dilation_rate"])],
        upsample=True,
        work=[
            "out = " + same_or_each(terms, outs) + note,
            f"params = ({kernel_product(a['kernel_size'])}*{cin}{' + 1' if bias else ''}) * "
            f"{filters} = {params:,}",
        ],
    )


def separable_conv(shape: Shape, a: dict[str, Any], rank: int) -> Step:
    """SeparableConv1D/2D: a depthwise conv (f*...*c_in*m) then a pointwise one ((c_in*m + 1) * filters)."""
    spatial, out_text, window = conv_geometry(shape, a, rank, dilated_strides=True)
    cin, m, filters = channels(shape), a["depth_multiplier"], a["filters"]
    k = prod(a["kernel_size"])
    bias = filters if a["use_bias"] else 0
    params = k * cin * m + cin * m * filters + bias
    return Step(
        shape=(*spatial, filters),
        params=params,
        macs=prod(spatial) * (k * cin * m + cin * m * filters),
        window=window,
        work=[
            out_text,
            f"params = {kernel_product(a['kernel_size'])}*{cin}*{m} + ({cin}*{m}"
            f"{' + 1' if bias else ''}) * {filters} = {params:,}",
        ],
    )


def depthwise_conv(shape: Shape, a: dict[str, Any], rank: int) -> Step:
    """DepthwiseConv1D/2D: one f*... filter per channel and multiplier: (f*... + 1) * c_in*m."""
    spatial, out_text, window = conv_geometry(shape, a, rank, dilated_strides=True)
    cin, m = channels(shape), a["depth_multiplier"]
    k = prod(a["kernel_size"])
    bias = 1 if a["use_bias"] else 0
    params = (k + bias) * cin * m
    return Step(
        shape=(*spatial, cin * m),
        params=params,
        macs=prod(spatial) * k * cin * m,
        window=window,
        work=[
            out_text,
            f"params = ({kernel_product(a['kernel_size'])}{' + 1' if bias else ''}) * {cin}*{m} = {params:,}",
        ],
    )


def pool(shape: Shape, a: dict[str, Any], rank: int) -> Step:
    """Max/AveragePooling: the conv formula with the pool as kernel; strides default to pool_size."""
    needs_rank(shape, rank)
    strides = a["strides"] or a["pool_size"]
    spatial, out_text = sliding(shape, a["pool_size"], strides, a["padding"], (1,) * rank, "pool")
    return Step(
        shape=(*spatial, shape[-1]),
        window=list(zip(a["pool_size"], strides)),
        work=[out_text, "params = 0 (pooling layers have no parameters)"],
    )


def global_pool(shape: Shape, a: dict[str, Any], rank: int) -> Step:
    """GlobalAverage/GlobalMaxPooling: one value per channel."""
    needs_rank(shape, rank)
    out = (*(1,) * rank, shape[-1]) if a["keepdims"] else (shape[-1],)
    return Step(
        shape=out,
        window="flat",  # it sees the whole grid, kept dims or not: no receptive field of its own
        work=[f"out = channels = {shape[-1]}", "params = 0"],
    )


def upsampling(shape: Shape, a: dict[str, Any], rank: int) -> Step:
    """UpSampling1D/2D/3D: every spatial size times ``size``."""
    needs_rank(shape, rank)
    outs = [n * s for n, s in zip(shape[:-1], a["size"])]
    terms = [f"{s} * {n}" for n, s in zip(shape[:-1], a["size"])]
    return Step(
        shape=(*outs, shape[-1]),
        window=[(1, s) for s in a["size"]],
        upsample=True,
        work=["out = " + same_or_each(terms, outs), "params = 0"],
    )


def zero_padding(shape: Shape, a: dict[str, Any], rank: int) -> Step:
    """ZeroPadding1D/2D/3D: out = n + before + after on each spatial axis; params = 0."""
    needs_rank(shape, rank)
    outs = [n + b + e for n, (b, e) in zip(shape[:-1], a["padding"])]
    terms = [f"{n} + {b} + {e}" for n, (b, e) in zip(shape[:-1], a["padding"])]
    return Step(shape=(*outs, shape[-1]), work=["out = " + same_or_each(terms, outs), "params = 0"])


def cropping(shape: Shape, a: dict[str, Any], rank: int) -> Step:
    """Cropping1D/2D/3D: out = n - before - after on each spatial axis (at least 1); params = 0."""
    needs_rank(shape, rank)
    outs = [n - b - e for n, (b, e) in zip(shape[:-1], a["cropping"])]
    terms = [f"{n} - {b} - {e}" for n, (b, e) in zip(shape[:-1], a["cropping"])]
    for out, term in zip(outs, terms):
        if out <= 0:
            raise GeometryError(
                f"output size would be {out}: out = {term}; cropping must leave at least one position",
                input_shape=(None, *shape),
                cropping=a["cropping"],
            )
    return Step(shape=(*outs, shape[-1]), work=["out = " + same_or_each(terms, outs), "params = 0"])


def flatten(shape: Shape, a: dict[str, Any], rank: int) -> Step:
    """Flatten: out = the product of every axis but the batch (h*w*c); params = 0."""
    out = prod(shape)
    return Step(
        shape=(out,), window="flat", work=[f"out = {'*'.join(map(str, shape))} = {out}", "params = 0"]
    )


def reshape(shape: Shape, a: dict[str, Any], rank: int) -> Step:
    """Reshape: out = target_shape, its -1 inferred from the input's size; params = 0."""
    if any(isinstance(d, Unknown) for d in shape):
        raise GeometryError("cannot reshape an input of unknown size", input_shape=shown(shape))
    target, total = list(a["target_shape"]), prod(shape)
    known = prod([t for t in target if t != -1])
    if -1 in target:
        if total % known:
            raise GeometryError(
                f"cannot infer -1: {total} values do not divide into {known}",
                input_shape=(None, *shape),
                target_shape=tuple(target),
            )
        target[target.index(-1)] = total // known
    elif known != total:
        raise GeometryError(
            f"the target shape holds {known} values but the input holds {total}",
            input_shape=(None, *shape),
            target_shape=tuple(target),
        )
    return Step(shape=tuple(target), window="flat", work=[f"out = {tuple(target)}", "params = 0"])


def dense(shape: Shape, a: dict[str, Any], rank: int) -> Step:
    """Dense: params = (n_in + 1) * units, applied along the last axis."""
    n_in, units = channels(shape, "last"), a["units"]
    bias = 1 if a["use_bias"] else 0
    params = (n_in + bias) * units
    return Step(
        shape=(*shape[:-1], units),
        params=params,
        macs=prod(shape[:-1]) * n_in * units,
        work=[
            f"out = units = {units}",
            f"params = ({n_in}{' + 1' if bias else ''}) * {units} = {params:,}",
        ],
    )


def identity(shape: Shape, a: dict[str, Any], rank: int) -> Step:
    """Rescaling, Activation, ReLU, LeakyReLU, ELU, Softmax, GaussianNoise, GaussianDropout,
    ActivityRegularization, Identity: out = in; params = 0 (the noise layers act only in training)."""
    return Step(shape=shape, work=["out = in", "params = 0"])


def dropout(shape: Shape, a: dict[str, Any], rank: int) -> Step:
    """Dropout, AlphaDropout: the shape is kept; a noise_shape names one mask size per axis, batch first."""
    noise = a["noise_shape"]
    if noise is not None:
        if len(noise) != len(shape) + 1:
            raise GeometryError(
                f"noise_shape needs {len(shape) + 1} sizes, one per axis of the input",
                noise_shape=noise,
                input_shape=shown(shape),
            )
        for n, d in zip(noise[1:], shape):
            if n is not None and n not in (1, d) and not isinstance(d, Unknown):
                raise GeometryError(
                    "each noise_shape size must be 1 or the input's size",
                    noise_shape=noise,
                    input_shape=shown(shape),
                )
    return Step(shape=shape, work=["out = in", "params = 0"])


def spatial_dropout(shape: Shape, a: dict[str, Any], rank: int) -> Step:
    """SpatialDropout1D/2D/3D: out = in (whole channels dropped in training); params = 0."""
    needs_rank(shape, rank)
    return Step(shape=shape, work=["out = in", "params = 0"])


def prelu(shape: Shape, a: dict[str, Any], rank: int) -> Step:
    """PReLU: one alpha per input value, shared (size 1) along shared_axes (the batch is axis 0):
    params = the product of the input's sizes, 1 on each shared axis."""
    sizes = list(shape)
    for i in a["shared_axes"] or ():
        if i > len(sizes):
            raise GeometryError(
                f"shared axis {i} is out of range for input of rank {len(shape) + 1}",
                shared_axes=a["shared_axes"],
                input_shape=shown(shape),
            )
        sizes[i - 1] = 1
    if any(isinstance(d, Unknown) for d in sizes):
        raise GeometryError(
            "every axis that is not shared must have a known size",
            shared_axes=a["shared_axes"],
            input_shape=shown(shape),
        )
    params = prod(sizes)
    return Step(
        shape=shape,
        params=params,
        work=["out = in", f"params = alpha of shape {tuple(sizes)} = {params:,}"],
    )


def group_norm(shape: Shape, a: dict[str, Any], rank: int) -> Step:
    """GroupNormalization: the channels of ``axis`` in ``groups`` groups (-1: one per channel), which
    must divide them; a gamma and a beta per channel."""
    c = shape[axis_index(a["axis"], shape)]
    if isinstance(c, Unknown):
        raise GeometryError(
            "the normalised axis must have a known size", axis=a["axis"], input_shape=shown(shape)
        )
    groups = c if a["groups"] == -1 else a["groups"]
    if c < groups:
        raise GeometryError(f"groups ({groups}) cannot be more than the channels ({c})", groups=groups)
    if c % groups:
        raise GeometryError(f"groups ({groups}) must divide the channels ({c})", groups=groups)
    learned = int(a["center"]) + int(a["scale"])
    return Step(
        shape=shape,
        params=learned * c,
        work=["out = in", f"params = {learned} learned * {c} = {learned * c:,} ({groups} groups)"],
    )


def _axes(a: dict[str, Any], shape: Shape) -> list[int]:
    """An ``axis`` that may be a list, each counted as Keras counts it (batch 0, negatives from the
    end; the batch axis included), checked to be in range."""
    given = a["axis"] if isinstance(a["axis"], tuple) else (a["axis"],)
    rank = len(shape) + 1
    if any(not -rank <= x < rank for x in given):
        raise GeometryError(
            f"axis out of range for input of rank {rank}", axis=a["axis"], input_shape=shown(shape)
        )
    return [x % rank for x in given]


def unit_norm(shape: Shape, a: dict[str, Any], rank: int) -> Step:
    """UnitNormalization: x / ||x|| along ``axis`` (one or a list); out = in; params = 0."""
    _axes(a, shape)
    return Step(shape=shape, work=["out = in", "params = 0"])


def rms_norm(shape: Shape, a: dict[str, Any], rank: int) -> Step:
    """RMSNormalization: x / sqrt(mean(x^2) + epsilon) * scale, one scale per position of the
    normalised axes: params = the product of their sizes."""
    sizes = [((None, *shape)[i]) for i in sorted(_axes(a, shape))]
    if any(d is None or isinstance(d, Unknown) for d in sizes):
        raise GeometryError(
            "the normalised axes must have a known size (not the batch)",
            axis=a["axis"],
            input_shape=shown(shape),
        )
    params = prod(sizes)
    return Step(shape=shape, params=params, work=["out = in", f"params = scale of shape {tuple(sizes)}"])


def permute(shape: Shape, a: dict[str, Any], rank: int) -> Step:
    """Permute: out[i] = in[dims[i]] (the batch stays first); params = 0. The spatial axes lose
    their meaning, so the receptive field ends here (as after Flatten)."""
    dims = a["dims"]
    if len(dims) != len(shape):
        raise GeometryError(
            f"dims permutes {len(dims)} axes, but the input has {len(shape)} besides the batch",
            dims=dims,
            input_shape=shown(shape),
        )
    out = tuple(shape[d - 1] for d in dims)
    return Step(
        shape=out,
        window=None if list(dims) == sorted(dims) else "flat",
        work=[f"out = {shown(out)}", "params = 0"],
    )


def repeat_vector(shape: Shape, a: dict[str, Any], rank: int) -> Step:
    """RepeatVector: (features,) -> (n, features); params = 0."""
    if len(shape) != 1:
        raise GeometryError(
            f"needs input of rank 2 (batch, features), but the layer before gives rank {len(shape) + 1}",
            input_shape=shown(shape),
        )
    return Step(shape=(a["n"], shape[0]), window="flat", work=[f"out = ({a['n']}, {shape[0]})", "params = 0"])


def adaptive_pool(shape: Shape, a: dict[str, Any], rank: int) -> Step:
    """AdaptiveAverage/MaxPooling: out = output_size, whatever the input's size; params = 0.

    Output position i pools the inputs floor(i*n/m) ... ceil((i+1)*n/m) - 1: windows of n/m where m
    divides n, else of ceil(n/m) or one more, sliding by n/m on average. The receptive field takes
    the widest window and that stride (a fraction where m does not divide n).
    """
    needs_rank(shape, rank)
    window: list[tuple[int, Any]] | str = []
    for n, m in zip(shape[:-1], a["output_size"]):
        if isinstance(n, Unknown) or not isinstance(window, list):
            window = "flat"  # an open input size: the windows are not known
            continue
        k = max(-(-(i + 1) * n // m) - i * n // m for i in range(m))  # the widest window
        step = Fraction(n, m)
        window.append((k, int(step) if step.denominator == 1 else step))
    out = (*a["output_size"], shape[-1])
    return Step(shape=out, window=window, work=[f"out = {shown(out)}", "params = 0 (pooling)"])


def augmentation(shape: Shape, a: dict[str, Any], rank: int) -> Step:
    """Image augmentation (RandomFlip, RandomRotation, RandomZoom, ...): the identity at inference,
    on a batch of images (height, width, channels); params = 0."""
    needs_rank(shape, 2, "image")
    return Step(shape=shape, work=["out = in (the identity at inference)", "params = 0"])


# the input pixels an output pixel is interpolated from, per axis (antialias off, Keras's default)
_SUPPORT = {"nearest": 1, "bilinear": 2, "bicubic": 4, "lanczos3": 6, "lanczos5": 10}


def image_size(shape: Shape, a: dict[str, Any], rank: int) -> Step:
    """Resizing, CenterCrop, RandomCrop: out = (height, width, channels) for any input size; params = 0.

    The crops keep the pixels' scale (the receptive field passes through, as for Cropping2D); Resizing
    scales by n / out per axis, each output interpolated from the kernel's support (nearest 1,
    bilinear 2, bicubic 4, lanczos3 6, lanczos5 10, area ceil(n / out) input pixels).
    """
    needs_rank(shape, 2, "image")
    out = (a["height"], a["width"], shape[-1])
    window: list[tuple[int, Any]] | str | None = None
    if "interpolation" in a:
        window = []
        for n, m in zip(shape[:-1], out[:-1]):
            if isinstance(n, Unknown):
                window = "flat"
                break
            scale = Fraction(n, m)
            k = math.ceil(scale) if a["interpolation"] == "area" else _SUPPORT[a["interpolation"]]
            window.append((k, int(scale) if scale.denominator == 1 else scale))
    return Step(
        shape=out, window=window, work=[f"out = ({a['height']}, {a['width']}, {shape[-1]})", "params = 0"]
    )


def normalization(shape: Shape, a: dict[str, Any], rank: int) -> Step:
    """Normalization: (x - mean) / sqrt(variance); mean, variance and count are non-trainable weights
    (C + C + 1) unless the spec gives mean and variance, which are then constants."""
    c = shape[axis_index(a["axis"], shape)]
    if isinstance(c, Unknown):
        raise GeometryError(
            "the normalised axis must have a known size", axis=a["axis"], input_shape=shown(shape)
        )
    if (a["mean"] is None) != (a["variance"] is None):
        raise GeometryError("give both mean and variance, or neither", mean=a["mean"], variance=a["variance"])
    if a["mean"] is not None:
        return Step(shape=shape, work=["out = in", "params = 0 (mean and variance given: constants)"])
    return Step(
        shape=shape,
        params=2 * c + 1,
        non_trainable=2 * c + 1,
        work=["out = in", f"params = {c} means + {c} variances + 1 count = {2 * c + 1} (non-trainable)"],
    )


def layer_norm(shape: Shape, a: dict[str, Any], rank: int) -> Step:
    """LayerNormalization: a gamma and a beta per feature of the normalised axis."""
    c = shape[axis_index(a["axis"], shape)]
    if isinstance(c, Unknown):
        raise GeometryError(
            "the normalised axis must have a known size", axis=a["axis"], input_shape=shown(shape)
        )
    learned = int(a["center"]) + int(a["scale"])
    return Step(
        shape=shape,
        params=learned * c,
        work=["out = in", f"params = {learned} learned * {c} = {learned * c:,}"],
    )


def layer_scale(shape: Shape, a: dict[str, Any], rank: int) -> Step:
    """ConvNeXt's LayerScale: x * gamma, one gamma per channel (projection_dim of them)."""
    c, dim = channels(shape), a["projection_dim"]
    if dim != c:
        raise GeometryError(f"projection_dim must equal the input's channels ({c})", projection_dim=dim)
    return Step(shape=shape, params=dim, macs=0, work=["out = in", f"params = projection_dim = {dim}"])


def batch_norm(shape: Shape, a: dict[str, Any], rank: int) -> Step:
    """BatchNormalization: gamma and beta train; the moving mean and variance never do."""
    c = shape[axis_index(a["axis"], shape)]
    if isinstance(c, Unknown):
        raise GeometryError(
            "the normalised axis must have a known size", axis=a["axis"], input_shape=shown(shape)
        )
    learned = int(a["center"]) + int(a["scale"])
    return Step(
        shape=shape,
        params=(learned + 2) * c,
        non_trainable=2 * c,
        work=[
            "out = in",
            f"params = ({learned} learned + 2 moving statistics) * {c} = {(learned + 2) * c:,} "
            f"({2 * c:,} non-trainable)",
        ],
    )


def elementwise(shapes: Sequence[Shape], a: dict[str, Any], rank: int) -> Step:
    """Add, Multiply, ...: one output of the common shape; a size of 1 broadcasts (Keras's rule)."""
    out = list(shapes[0])
    for other in shapes[1:]:
        if len(other) != len(out):
            raise GeometryError("inputs must have the same rank", input_shapes=[(None, *x) for x in shapes])
        for i, (x, y) in enumerate(zip(out, other)):
            if isinstance(x, Unknown) or isinstance(y, Unknown):
                out[i] = UNKNOWN if 1 in (x, y) or x is y else (y if isinstance(x, Unknown) else x)
                continue
            if x != y and 1 not in (x, y):
                raise GeometryError(
                    f"inputs have different shapes: axis {i + 1} is {x} in one and {y} in another",
                    input_shapes=[(None, *x) for x in shapes],
                )
            out[i] = max(x, y)
    terms = " and ".join(str((None, *x)) for x in shapes)
    return Step(shape=tuple(out), work=[f"out = the common shape of {terms} = {(None, *out)}", "params = 0"])


def concatenate(shapes: Sequence[Shape], a: dict[str, Any], rank: int) -> Step:
    """Concatenate: sizes add up along ``axis``; every other axis must agree."""
    given = [(None, *x) for x in shapes]
    if any(len(x) != len(shapes[0]) for x in shapes):
        raise GeometryError("inputs must have the same rank", input_shapes=given)
    axis = axis_index(a["axis"], shapes[0], "inputs") + 1
    for i in range(len(shapes[0])):
        if i != axis - 1 and len({x[i] for x in shapes}) > 1:
            raise GeometryError(
                f"inputs differ on axis {i + 1} ({', '.join(str(x[i]) for x in shapes)}); "
                f"only the concatenation axis {axis} may differ",
                input_shapes=given,
            )
    sizes = [x[axis - 1] for x in shapes]
    out = list(shapes[0])
    out[axis - 1] = sum(sizes)
    return Step(
        shape=tuple(out), work=[f"out[{axis}] = {' + '.join(map(str, sizes))} = {sum(sizes)}", "params = 0"]
    )


def dot(shapes: Sequence[Shape], a: dict[str, Any], rank: int) -> Step:
    """Dot: the batchwise dot product of two inputs along ``axes`` (one for both, or one each;
    never the batch; one negative axis counts modulo each input's rank, as Keras).

    out = the first's axes without its own, then the second's; (1,) when nothing is left; params = 0.
    """
    given = [(None, *x) for x in shapes]
    if len(shapes) != 2:
        raise GeometryError("Dot takes exactly 2 inputs", input_shapes=given)
    full = [list(x) for x in given]
    ax = a["axes"]
    pair = [ax, ax] if isinstance(ax, int) else list(ax)
    picked = []
    for x, i in zip(full, pair):
        if isinstance(ax, int) and ax < 0:  # Keras takes one negative axis modulo each input's rank
            i %= len(x)
        index = i % len(x) if -len(x) <= i < len(x) else None
        if index is None or index == 0:
            raise GeometryError(
                "each axis must be an axis of its input other than the batch (0)", axes=ax, input_shapes=given
            )
        picked.append(index)
    n1, n2 = full[0][picked[0]], full[1][picked[1]]
    if n1 != n2:  # an open size against a known one too, as Keras
        raise GeometryError(
            f"the dotted axes differ: {n1} (axis {picked[0]}) and {n2} (axis {picked[1]})",
            axes=ax,
            input_shapes=given,
        )
    out = (
        full[0][1 : picked[0]] + full[0][picked[0] + 1 :] + full[1][1 : picked[1]] + full[1][picked[1] + 1 :]
    )
    out = out or [1]
    return Step(shape=tuple(out), window="flat", work=[f"out = {(None, *out)}", "params = 0"])


def op(shapes: Sequence[Shape], a: dict[str, Any], rank: int) -> Step:
    """An operation in the graph (ops.add, ops.multiply): elementwise on two inputs, or on one
    input and a number, which keeps the shape."""
    if a["operand"] is None:
        return elementwise(shapes, a, rank)
    return Step(shape=shapes[0], work=[f"out = in (with the number {a['operand']!r})", "params = 0"])


# ---------------------------------------------------------------- sequences
#
# A recurrent layer sees the whole sequence before it (its last output depends on every step), so
# the receptive field ends there, as after Flatten ("flat"); so do attention (every position sees
# every other), embeddings (their input has no spatial axes) and the layers that encode or hash.
# MACs per sample count the weights' multiply-accumulates: each step's input and recurrent kernels,
# each attention projection and the two products of attention (scores and weighted sum).

_GATES = {"simple_rnn": 1, "lstm": 4, "gru": 3}
_FORMULA = {
    "simple_rnn": "(input + units) * units + units",
    "lstm": "4 * ((input + units) * units + units)",
    "gru": "3 * ((input + units) * units + units)",
    "gru_reset_after": "3 * ((input + units) * units + 2 * units)",
}


def cell_arithmetic(cell: str, n_in: int, a: dict[str, Any]) -> tuple[int, int, str]:
    """One recurrent cell (``simple_rnn``, ``lstm`` or ``gru``) on ``n_in`` features: (params, MACs
    per step, the worked params). A cell has ``gates`` kernels (input -> units), recurrent kernels
    (units -> units) and biases; GRU with reset_after (Keras's default) has two biases per gate."""
    gates, units = _GATES[cell], a["units"]
    biases = (2 if cell == "gru" and a["reset_after"] else 1) if a["use_bias"] else 0
    params = gates * ((n_in + units) * units + biases * units)
    key = "gru_reset_after" if cell == "gru" and a["reset_after"] else cell
    formula = _FORMULA[key]
    if not a["use_bias"]:
        formula = f"{gates} * (input + units) * units" if gates > 1 else "(input + units) * units"
    numbers = formula.replace("input", str(n_in)).replace("units", str(units))
    return params, gates * (n_in + units) * units, f"params = {formula} = {numbers} = {params:,}"


def _sequence_input(shape: Shape, what: str = "features") -> tuple[Any, int]:
    if len(shape) != 2:
        raise GeometryError(
            f"needs input of rank 3 (batch, time, {what}), but the layer before gives rank {len(shape) + 1}",
            input_shape=shown(shape),
        )
    return shape[0], channels(shape, "feature")


def sequence_output(time: Any, units: int, a: dict[str, Any]) -> tuple[Shape, str]:
    if a["return_sequences"]:
        return (time, units), f"out = (time, units) = ({size_or_none(time)}, {units}) (return_sequences)"
    return (units,), f"out = units = {units} (the last step)"


_STATES = {"simple_rnn": 1, "lstm": 2, "gru": 1}  # h, and an LSTM's c


def with_states(step: Step, states: Sequence[Shape], a: dict[str, Any], what: str = "units") -> Step:
    """A recurrent layer's Step with its states, given after its output where ``return_state``."""
    step.states = tuple(states)
    if a.get("return_state"):
        step.more = step.states
        step.work[0] += f"; with return_state, its {len(states)} states after it, each {what} " + (
            ", ".join(str(shown(s)) for s in states)
        )
    return step


def _recurrent(cell: str) -> Rule:
    def rule(shape: Shape, a: dict[str, Any], rank: int) -> Step:
        time, n_in = _sequence_input(shape)
        params, per_step, work = cell_arithmetic(cell, n_in, a)
        out, out_text = sequence_output(time, a["units"], a)
        step = Step(shape=out, params=params, macs=time * per_step, window="flat", work=[out_text, work])
        return with_states(step, [(a["units"],)] * _STATES[cell], a)

    return rule


simple_rnn = _recurrent("simple_rnn")
simple_rnn.__doc__ = """SimpleRNN: h = activation(x W + h U + b) at each step.
    params = (input + units) * units + units; MACs = time * (input + units) * units.
    out = (time, units) with return_sequences, else (units,); with return_state its state h (units,)
    after it (an LSTM's h and c, a GRU's h)."""
lstm = _recurrent("lstm")
lstm.__doc__ = """LSTM: four gates (input, forget, cell, output), each a SimpleRNN's weights.
    params = 4 * ((input + units) * units + units); MACs = time * 4 * (input + units) * units."""
gru = _recurrent("gru")
gru.__doc__ = """GRU: three gates (update, reset, candidate). reset_after (Keras's default) keeps a second
    bias per gate for the recurrent kernel: params = 3 * ((input + units) * units + 2 * units); without
    it 3 * ((input + units) * units + units). MACs = time * 3 * (input + units) * units."""


# the rule of each cell class: the recurrent layer whose weights it has
CELL_RULES = {"SimpleRNNCell": "simple_rnn", "LSTMCell": "lstm", "GRUCell": "gru"}


def cell(shape: Shape, a: dict[str, Any], rank: int) -> Step:
    """SimpleRNNCell, LSTMCell, GRUCell, StackedRNNCells: one step of a recurrent layer. A cell takes
    the states along with its input, so it runs inside RNN ({RNN: {cell: {LSTMCell: {units: 8}}}}),
    whose rule counts it; a cell alone is refused."""
    raise GeometryError(
        "a cell runs one step with its states: write it as RNN's cell, "
        "e.g. {RNN: {cell: {LSTMCell: {units: 8}}}}"
    )


def rnn(shape: Shape, a: dict[str, Any], rank: int, cells: Sequence[tuple[str, dict[str, Any]]]) -> Step:
    """RNN over a cell (or StackedRNNCells, cells one after another at each step): each cell's weights
    as the layer of the same kind has them (LSTMCell: 4 * ((input + units) * units + units)), the next
    cell's input the units of the one before; out = the last cell's units, per step with
    return_sequences. The engine gives the cells, each as (its rule: simple_rnn, lstm or gru; args)."""
    time, n_in = _sequence_input(shape)
    params, per_step, work, states = 0, 0, [], []
    for kind, args in cells:
        p, m, w = cell_arithmetic(kind, n_in, args)
        params, per_step, n_in = params + p, per_step + m, args["units"]
        work.append(w)
        states += [(args["units"],)] * _STATES[kind]
    out, out_text = sequence_output(time, n_in, a)
    total = (
        f"params = {' + '.join(w.rsplit('= ', 1)[-1] for w in work)} = {params:,}" if len(work) > 1 else ""
    )
    step = Step(
        shape=out,
        params=params,
        macs=time * per_step,
        window="flat",
        work=[out_text, *work, *([total] if total else [])],
    )
    return with_states(step, states, a, "cell's units")


def conv_lstm(shape: Shape, a: dict[str, Any], rank: int) -> Step:
    """ConvLSTM1D/2D/3D: an LSTM whose four gates are convolutions, on (time, *spatial, channels).

    out per step = the convolution's grid (the tutorial's formula on the input kernel; the recurrent
    kernel is 'same' with stride 1, so the grid stays); out = (time, *grid, filters) with
    return_sequences, else (*grid, filters).
    params = 4 * (k*...*(c_in + filters) * filters + filters): the input kernel k*...*c_in*filters,
    the recurrent one k*...*filters*filters and a bias, per gate. MACs = time * grid * 4 * k*...*(c_in
    + filters) * filters. A channels_first layer takes (time, channels, *spatial)."""
    if len(shape) != rank + 2:
        raise GeometryError(
            f"needs input of rank {rank + 3} (batch, time, {rank} spatial axes, channels), "
            f"but the layer before gives rank {len(shape) + 1}",
            input_shape=shown(shape),
        )
    first = a["data_format"] == "channels_first"
    frame = (*shape[2:], shape[1]) if first else shape[1:]
    spatial, out_text, _ = conv_geometry(frame, a, rank)
    cin, filters, k = channels(frame), a["filters"], prod(a["kernel_size"])
    bias = 1 if a["use_bias"] else 0
    params = 4 * (k * (cin + filters) * filters + bias * filters)
    grid = (*spatial, filters) if not first else (filters, *spatial)
    out = (shape[0], *grid) if a["return_sequences"] else grid
    step = Step(
        shape=out,
        params=params,
        macs=shape[0] * prod(spatial) * 4 * k * (cin + filters) * filters,
        window="flat",
        work=[
            f"{out_text}; out = {shown(out)}",
            f"params = 4 * ({kernel_product(a['kernel_size'])}*({cin} + {filters}) * {filters}"
            f"{f' + {filters}' if bias else ''}) = {params:,}",
        ],
    )
    return with_states(step, [grid, grid], a, "the last step's grid")


def bidirectional(inner: Step, a: dict[str, Any], backward: Step | None = None) -> Step:
    """Bidirectional: the layer twice, forward and backward (params = 2 * the layer's, or the forward
    layer's plus a given backward_layer's); merge_mode concat doubles the last axis, sum, mul and ave
    keep it, None gives the two directions as two outputs (forward, then backward). With the layer's
    return_state, the forward states and then the backward ones follow. A given backward layer must
    give the forward one's shape: Keras's compute_output_shape reads the forward layer alone."""
    back = inner if backward is None else backward
    if back.shape != inner.shape:
        raise GeometryError(
            f"the backward layer gives {shown(back.shape)} and the forward layer {shown(inner.shape)}; "
            "Keras computes a Bidirectional's shape from its forward layer alone, so zoo needs both the same",
            backward_output=shown(back.shape),
        )
    if inner.more and back.states != inner.states:
        raise GeometryError(
            f"with return_state the backward layer must keep the forward layer's states: Keras lists "
            f"the forward's {len(inner.states)} for each direction, and its run gives "
            f"{len(inner.states) + len(back.states)}",
            forward_states=len(inner.states),
            backward_states=len(back.states),
        )
    out = inner.shape
    if a["merge_mode"] == "concat":
        out = (*out[:-1], out[-1] * 2)
    merged = (
        f"forward and backward, each {shown(out)}, as two outputs (merge_mode None)"
        if a["merge_mode"] is None
        else f"{a['merge_mode']} of forward and backward {shown(inner.shape)}"
    )
    directions = (inner.shape,) if a["merge_mode"] is None else ()
    states = (*inner.states, *back.states)
    kept = states if inner.more else ()  # the layer's return_state
    params = inner.params + back.params
    each = (
        f"params = 2 * {inner.params:,} = {params:,} ({inner.work[-1]}, each direction)"
        if backward is None
        else f"params = {inner.params:,} + {back.params:,} = {params:,} (forward: {inner.work[-1]}; "
        f"backward: {back.work[-1]})"
    )
    return Step(
        shape=out,
        params=params,
        non_trainable=inner.non_trainable + back.non_trainable,
        macs=inner.macs + back.macs,
        window=inner.window,
        states=states,
        more=(*directions, *kept),
        work=[
            f"out = {shown(out)} ({merged})"
            + (f"; then the forward and backward states, {len(kept)} in all" if kept else ""),
            each,
        ],
    )


def time_distributed(shape: Shape, inner: Step) -> Step:
    """TimeDistributed: the layer on every step of the time axis (axis 1), with the same weights:
    out = (time, *the layer's output); params = the layer's; MACs = time * the layer's."""
    time = shape[0]
    window: Any = inner.window
    if isinstance(window, list):
        window = [(1, 1), *window]  # the time axis: each step on its own
    return Step(
        shape=(time, *inner.shape),
        params=inner.params,
        non_trainable=inner.non_trainable,
        macs=time * inner.macs,
        window=window,
        upsample=inner.upsample,
        work=[f"out = (time, *{shown(inner.shape)[1:]}) = {shown((time, *inner.shape))}", *inner.work[1:]],
    )


def spectral_norm(inner: Step, kernel_out: int) -> Step:
    """SpectralNormalization: the layer's kernel divided by its largest singular value, estimated by
    power iteration with a non-trainable vector u of the kernel's last axis: params = the layer's +
    its kernel's last size (Dense units, Conv filters, Embedding output_dim)."""
    return Step(
        shape=inner.shape,
        params=inner.params + kernel_out,
        non_trainable=inner.non_trainable + kernel_out,
        macs=inner.macs,
        window=inner.window,
        upsample=inner.upsample,
        work=[
            inner.work[0],
            f"params = {inner.params:,} + u of {kernel_out} = {inner.params + kernel_out:,} "
            f"({kernel_out} non-trainable)",
        ],
    )


def embedding(shape: Shape, a: dict[str, Any], rank: int) -> Step:
    """Embedding, ReversibleEmbedding: one row of output_dim numbers per token id:
    out = (*in, output_dim); params = input_dim * output_dim (ReversibleEmbedding with tie_weights
    false keeps a second, output_dim * input_dim matrix for its reverse call); MACs = 0 (a lookup)."""
    v, d = a["input_dim"], a["output_dim"]
    copies = 1 if a.get("tie_weights", True) else 2
    params = copies * v * d
    return Step(
        shape=(*shape, d),
        params=params,
        window="flat",
        work=[
            f"out = (*in, output_dim) = {shown((*shape, d))}",
            f"params = {'2 * ' if copies == 2 else ''}{v} * {d} = {params:,}",
        ],
    )


def einsum_dense(shape: Shape, a: dict[str, Any], rank: int) -> Step:
    """EinsumDense: a kernel contracted with the input by ``equation``, in Keras's three forms
    (``ab,bc->ac``, ``...b,bc->...c``, ``ab...,bc->ac...``; the input's first letter is the batch).

    Each kernel letter takes its size from the output_shape (given without the batch; null leaves the
    output's size open, as Keras's shape does, where the input's letter fixes it) or else from the
    input; bias_axes name output letters, the bias spanning from the first
    of them to the end (1 on the others). params = the kernel's sizes multiplied + the bias's;
    MACs = the product of the sizes of every letter but the batch (and of the elided axes).
    """
    equation, bias_axes = a["equation"], a["bias_axes"]
    full_in = (None, *shape)
    left = equation.startswith("...")
    plain = equation.replace("...", "")
    in_spec, rest = plain.split(",")
    w_spec, out_spec = rest.split("->")
    elided = len(full_in) - len(in_spec)
    given = list(a["output_shape"])
    if "..." not in equation and elided != 0 or elided < 0:
        raise GeometryError(
            f"the equation's input {in_spec!r} has {len(in_spec)} axes, the input {len(full_in)}",
            equation=equation,
            input_shape=shown(shape),
        )
    out = [None, *given]
    if elided > 0 and left:
        for i in range(1, elided):
            out.insert(1, full_in[i])
    elif elided > 0:
        out.extend(full_in[len(full_in) - elided :])
    if len(out) != len(out_spec) + elided:
        raise GeometryError(
            f"output_shape gives {len(given)} sizes, which do not fit the equation's output {out_spec!r}",
            equation=equation,
            output_shape=given,
        )
    in_at = {d: (i + elided) - len(full_in) if left else i for i, d in enumerate(in_spec)}
    out_at = {d: (i + elided) if left else i for i, d in enumerate(out_spec)}
    for d in in_spec:
        if d in out_at and out[out_at[d]] is not None and out[out_at[d]] != full_in[in_at[d]]:
            raise GeometryError(
                f"input and output differ at the shared letter {d!r}: "
                f"{full_in[in_at[d]]} and {out[out_at[d]]}",
                equation=equation,
                output_shape=given,
            )
    for d in out_spec:
        if d not in in_spec and d not in w_spec:
            raise GeometryError(
                f"output letter {d!r} is in neither the input nor the kernel", equation=equation
            )
    kernel = []
    for d in w_spec:
        if d in out_at:
            kernel.append(out[out_at[d]])
        elif d in in_at:
            kernel.append(full_in[in_at[d]])
        else:
            raise GeometryError(
                f"kernel letter {d!r} is in neither the input nor the output", equation=equation
            )
    if any(k is None or isinstance(k, Unknown) for k in kernel):
        raise GeometryError("every kernel size must be known", equation=equation, input_shape=shown(shape))
    bias: list[Any] = []
    if bias_axes is not None:
        for ch in bias_axes:
            if ch not in out_spec:
                raise GeometryError(
                    f"bias letter {ch!r} is not in the output {out_spec!r}", bias_axes=bias_axes
                )
        start = min(out_spec.find(ch) for ch in bias_axes)
        skip = elided if left else 0
        bias = [out[i + skip] if ch in bias_axes else 1 for i, ch in enumerate(out_spec) if i >= start]
        if any(b is None for b in bias):
            raise GeometryError(
                "every bias axis needs a size in output_shape", bias_axes=bias_axes, output_shape=given
            )
    params = prod(kernel) + (prod(bias) if bias else 0)
    sizes = {d: full_in[in_at[d]] for d in in_spec}
    sizes.update({d: kernel[i] for i, d in enumerate(w_spec)})
    batch_letter = None if left else in_spec[0]
    macs = prod([v for d, v in sizes.items() if d != batch_letter])
    if elided > 0:
        macs = macs * prod(list(full_in[1:elided] if left else full_in[len(full_in) - elided :]))
    result = tuple(UNKNOWN if x is None else x for x in out[1:])
    return Step(
        shape=result,
        params=params,
        macs=macs,
        window="flat",
        work=[
            f"out = {shown(result)} ({equation})",
            f"params = kernel {tuple(kernel)}"
            + (f" + bias {tuple(bias)}" if bias else "")
            + f" = {params:,}",
        ],
    )


# ---------------------------------------------------------------- attention (several inputs)


def _qkv(shapes: Sequence[Shape], kind: str) -> tuple[Shape, Shape, Shape]:
    given = [shown(x) for x in shapes]
    if len(shapes) not in (2, 3):
        raise GeometryError(
            f"{kind} takes 2 or 3 inputs: query, value and (optional) key", input_shapes=given
        )
    query, value = shapes[0], shapes[1]
    key = shapes[2] if len(shapes) == 3 else value
    if tuple(value[:-1]) != tuple(key[:-1]):
        raise GeometryError(
            "value and key must have the same shape but for the last axis", input_shapes=given
        )
    return query, value, key


def _positions(shape: Shape) -> Any:
    return prod(list(shape[:-1]))


def multi_head_attention(shapes: Sequence[Shape], a: dict[str, Any], rank: int) -> Step:
    """MultiHeadAttention(query, value[, key]): num_heads heads, each projecting the query and key to
    key_dim and the value to value_dim (default key_dim), then one output projection:

        params = H*kd*(d_q + 1) + H*kd*(d_k + 1) + H*vd*(d_v + 1) + (H*vd*d_out + d_out)

    (no + 1 without use_bias); use_gate (Keras >= 3.14) adds a gate, a projection of the query:
    H*vd*(d_q + 1). out = the query's shape, its last axis output_shape (default d_q).
    Attention runs over attention_axes (counted from the batch, 0; default every axis but the batch
    and the features); the other axes pair query and value position by position, so their sizes
    must agree. MACs = the four projections (T_q*d_q*H*kd, T_k*d_k*H*kd, T_v*d_v*H*vd,
    T_q*H*vd*d_out; the gate's T_q*d_q*H*vd) + the scores T_q*S*H*kd + the weighted sum T_q*S*H*vd,
    with T the positions of each input and S the value's positions on the attention axes (S = T_v by
    default): each query position meets only the value positions that share its other axes.
    sliding_window masks scores (Keras computes them all): no change; flash_attention is how the
    scores are computed, not what."""
    query, value, key = _qkv(shapes, "MultiHeadAttention")
    given = [shown(x) for x in shapes]
    if len(query) != len(value):
        raise GeometryError("query and value must have the same rank", input_shapes=given)
    axes = a["attention_axes"]
    if axes is not None:
        if max(axes) >= len(query):
            raise GeometryError(
                f"attention_axes must be between the batch (0) and the features ({len(query)})",
                attention_axes=list(axes),
                input_shapes=given,
            )
        others = [i for i in range(len(query) - 1) if i + 1 not in axes]
        if len(key) != len(value) or any(len({x[i] for x in (query, value, key)}) > 1 for i in others):
            raise GeometryError(
                "query, value and key must have the same sizes on every axis but attention_axes and "
                "the features",
                attention_axes=list(axes),
                input_shapes=given,
            )
    if a["flash_attention"] and a["dropout"] > 0:
        raise GeometryError(
            "Dropout is not supported when flash attention is enabled",
            dropout=a["dropout"],
            flash_attention=True,
        )
    if a["sliding_window"] is not None and (len(query) != 2 or axes not in (None, (1,))):
        # Keras's model takes it, and the layer fails when it runs (Softmax: 'The `mask` must be
        # broadcastable to `inputs`', Keras 3.15)
        raise GeometryError(
            "sliding_window needs inputs of rank 3 (batch, time, features) attended over time: Keras's "
            "mask is (1, T_q, T_v), which scores over more axes cannot take (the layer fails when it runs)",
            sliding_window=a["sliding_window"],
            input_shapes=given,
        )
    h, kd = a["num_heads"], a["key_dim"]
    vd = a["value_dim"] or kd
    dq, dk, dv = channels(query, "query's last"), channels(key, "key's last"), channels(value, "value's last")
    out_dims = a["output_shape"] or (dq,)
    if any(d is None for d in out_dims):
        raise GeometryError("output_shape needs every size", output_shape=out_dims)
    d_out = prod(list(out_dims))
    b = 1 if a["use_bias"] else 0
    gate = h * vd * (dq + b) if a["use_gate"] else 0
    projections = [h * kd * (dq + b), h * kd * (dk + b), h * vd * (dv + b), h * vd * d_out + b * d_out]
    params = sum(projections) + gate
    tq, tk = _positions(query), _positions(value)
    span = tk if axes is None else prod([value[i - 1] for i in axes])
    macs = (
        tq * dq * h * kd
        + tk * dk * h * kd
        + tk * dv * h * vd
        + tq * h * vd * d_out
        + tq * span * h * (kd + vd)
        + (tq * dq * h * vd if gate else 0)
    )
    out = (*query[:-1], *out_dims)
    one = " + 1" if b else ""
    gate_text = f" + {h}*{vd}*({dq}{one}) (the gate)" if gate else ""
    return Step(
        shape=out,
        params=params,
        macs=macs,
        window="flat",
        work=[
            f"out = {shown(out)} (the query's positions, {d_out} features)",
            f"params = {h}*{kd}*({dq}{one}) + {h}*{kd}*({dk}{one}) + {h}*{vd}*({dv}{one}) + "
            f"({h}*{vd}*{d_out}{f' + {d_out}' if b else ''}){gate_text} = {params:,}",
        ],
    )


def group_query_attention(shapes: Sequence[Shape], a: dict[str, Any], rank: int) -> Step:
    """GroupQueryAttention(query, value[, key]) on (time, features) inputs: num_query_heads heads for
    the query, num_key_value_heads (which must divide them) shared by the key and value, each of
    head_dim; the value's features must be the query's. out = the query's shape;

        params = Hq*hd*(d_q + 1) + Hkv*hd*(d_k + 1) + Hkv*hd*(d_v + 1) + (Hq*hd*d_q + d_q)

    use_gate (Keras >= 3.14) adds a gate, a projection of the query: Hq*hd*(d_q + 1). MACs as
    MultiHeadAttention's with Hq heads for the scores and the weighted sum; sliding_window and
    flash_attention change neither."""
    query, value, key = _qkv(shapes, "GroupQueryAttention")
    given = [shown(x) for x in shapes]
    if any(len(x) != 2 for x in (query, value, key)):
        raise GeometryError("needs inputs of rank 3 (batch, time, features)", input_shapes=given)
    hq, hkv, hd = a["num_query_heads"], a["num_key_value_heads"], a["head_dim"]
    if hq % hkv:
        raise GeometryError(
            "num_query_heads must be divisible by num_key_value_heads",
            num_query_heads=hq,
            num_key_value_heads=hkv,
        )
    dq, dk, dv = channels(query), channels(key), channels(value)
    if dq != dv:
        raise GeometryError(
            f"the last axes of query and value must be equal, but are {dq} and {dv}", input_shapes=given
        )
    if a["flash_attention"] and a["dropout"] > 0:
        raise GeometryError(
            "Dropout is not supported when flash attention is enabled",
            dropout=a["dropout"],
            flash_attention=True,
        )
    b = 1 if a["use_bias"] else 0
    gate = hq * hd * (dq + b) if a["use_gate"] else 0
    params = hq * hd * (dq + b) + hkv * hd * (dk + b) + hkv * hd * (dv + b) + hq * hd * dq + b * dq + gate
    tq, tk = query[0], value[0]
    macs = tq * dq * hq * hd + tk * (dk + dv) * hkv * hd + tq * hq * hd * dq + 2 * tq * tk * hq * hd
    macs += tq * dq * hq * hd if gate else 0
    one = " + 1" if b else ""
    return Step(
        shape=query,
        params=params,
        macs=macs,
        window="flat",
        work=[
            f"out = {shown(query)} (the query's shape)",
            f"params = {hq}*{hd}*({dq}{one}) + {hkv}*{hd}*({dk}{one}) + {hkv}*{hd}*({dv}{one}) + "
            f"({hq}*{hd}*{dq}{f' + {dq}' if b else ''})"
            f"{f' + {hq}*{hd}*({dq}{one}) (the gate)' if gate else ''} = {params:,}",
        ],
    )


def attention(shapes: Sequence[Shape], a: dict[str, Any], rank: int) -> Step:
    """Attention (dot-product, Luong) and AdditiveAttention (Bahdanau) on [query, value(, key)] of
    shape (time, features): scores between each query and key step, a weighted sum of the values.
    out = (T_q, d_v); the query's and key's features must agree (a size of 1 broadcasts where the scores
    add them: AdditiveAttention, score_mode concat). Attention's params: 1 scale with
    use_scale, 1 more with score_mode concat; AdditiveAttention's: a scale of d per feature with
    use_scale. MACs = T_q*T_v*d + T_q*T_v*d_v."""
    query, value, key = _qkv(shapes, "Attention")
    given = [shown(x) for x in shapes]
    if any(len(x) != 2 for x in (query, value, key)):
        raise GeometryError("needs inputs of rank 3 (batch, time, features)", input_shapes=given)
    d, dk = channels(query), channels(key)
    additive = "score_mode" not in a
    # dot scores multiply query and key (the features must be equal); additive and concat scores add
    # them (tanh(q + k)), where a feature axis of 1 broadcasts
    summed = additive or a["score_mode"] == "concat"
    if d != dk and not (summed and 1 in (d, dk)):
        raise GeometryError(
            f"the query's and key's features must agree, but are {d} and {dk}", input_shapes=given
        )
    if additive:
        params = d if a["use_scale"] else 0
        text = f"params = {'d = ' + str(d) if params else '0'} (the scale)"
    else:
        params = int(a["use_scale"]) + int(a["score_mode"] == "concat")
        text = f"params = {params} (use_scale: a scale; score_mode concat: a weight)"
    out = (query[0], value[-1])
    return Step(
        shape=out,
        params=params,
        macs=query[0] * value[0] * (max(d, dk) + value[-1]),
        window="flat",
        work=[f"out = (T_q, d_v) = {shown(out)}", text],
    )


# ---------------------------------------------------------------- encodings, lookups, audio


def category_encoding(shape: Shape, a: dict[str, Any], rank: int) -> Step:
    """CategoryEncoding: token ids to a num_tokens-long vector: multi_hot and count take the last axis
    as one sample's tokens (out = (*in[:-1], num_tokens)); one_hot encodes each id (an axis of 1 is
    replaced: out = (*in, num_tokens), or (*in[:-1], num_tokens) where the last axis is 1); params = 0."""
    n = a["num_tokens"]
    out = one_hot_shape(shape, n) if a["output_mode"] == "one_hot" else (*shape[:-1], n)
    return Step(shape=out, window="flat", work=[f"out = {shown(out)}", "params = 0"])


def one_hot_shape(shape: Shape, depth: int) -> Shape:
    """Keras's one_hot shape rule (CategoryEncoding, HashedCrossing; Discretization and IntegerLookup
    from 3.14): each value encoded, a last axis of 1 replaced by the depth."""
    return (*shape[:-1], depth) if shape[-1:] == (1,) else (*shape, depth)


def lookup_depth(a: dict[str, Any]) -> tuple[int, str]:
    """The length of an index layer's encoded vector, with its arithmetic: Discretization's bins
    (boundaries + 1), Hashing's num_bins, IntegerLookup's vocabulary and OOV indices (its mask
    token takes an index in output_mode int only: Keras's _oov_start_index)."""
    if "bin_boundaries" in a:
        n = len(a["bin_boundaries"]) + 1
        return n, f"depth = {len(a['bin_boundaries'])} boundaries + 1 = {n}"
    if "vocabulary" in a:
        tokens = len(lookup_tokens(a))
        n = tokens + a["num_oov_indices"]
        return n, f"depth = {tokens} tokens + {a['num_oov_indices']} OOV = {n}"
    return a["num_bins"], f"depth = num_bins = {a['num_bins']}"


def vocabulary_checks(a: dict[str, Any]) -> None:
    """IntegerLookup's vocabulary as Keras's set_vocabulary checks it: the mask token, and with
    invert the OOV token, only in the leading run of special tokens (:func:`lookup_tokens`)."""
    tokens = lookup_tokens(a)
    if not tokens:  # Keras's lookup table fails on it (InvalidArgumentError, Keras 3.8 to 3.15)
        raise GeometryError(
            "the vocabulary holds only the special tokens, which Keras drops: it leaves no token to look up",
            vocabulary=list(a["vocabulary"]),
        )
    for key, token, when in (
        ("mask_token", a["mask_token"], True),
        ("oov_token", a["oov_token"], a["invert"]),
    ):
        if token is not None and when and token in tokens:
            what = key.split("_")[0].upper() if key == "oov_token" else "mask"
            raise GeometryError(
                f"Found reserved {what} token at unexpected location in `vocabulary`: the vocabulary "
                "need not include the OOV and mask tokens; include them only at its start, mask then "
                "OOV",
                **{key: token},
                vocabulary=list(a["vocabulary"]),
            )


def index_lookup(shape: Shape, a: dict[str, Any], rank: int) -> Step:
    """Discretization (bin_boundaries given), Hashing, IntegerLookup (vocabulary given): each value to
    an index (its bin, its hash modulo num_bins, its place in the vocabulary after the OOV and mask
    indices): out = in in output_mode int; params = 0 (the vocabulary and boundaries are constants,
    the spec's data).

    one_hot, multi_hot and count encode the indices as depth-long vectors (:func:`lookup_depth`), with
    the shape the layer's model gives (Keras 3.14's rules, keras-team/keras#22048, #22350, #23002):
    one_hot as CategoryEncoding's; multi_hot and count take the last axis as a sample's values
    (out = (*in[:-1], depth)), but Discretization's drop the first axis instead
    (out = (*in[1:], depth)). Where these are not what the layer's run gives (Hashing's one_hot on a
    last axis above 1, IntegerLookup's multi_hot on a last axis of 1), zoo follows the model, as
    Keras's summary does. Keras before 3.14 gives other shapes: zoo.specification.keras_versions."""
    mode = a["output_mode"]
    if "vocabulary" in a:
        vocabulary_checks(a)
    if mode == "int":
        return Step(shape=shape, work=["out = in (an index per value)", "params = 0"])
    if a.get("invert"):
        raise GeometryError("`output_mode` must be `'int'` when `invert` is true", output_mode=mode)
    depth, text = lookup_depth(a)
    if mode == "one_hot" and "num_bins" not in a:
        out = one_hot_shape(shape, depth)
    elif mode == "one_hot" or "bin_boundaries" not in a:
        out = (*shape[:-1], depth)
    else:
        out = (*shape[1:], depth)
    return Step(shape=out, window="flat", work=[f"out = {shown(out)} ({mode})", text, "params = 0"])


def hashed_crossing(shapes: Sequence[Shape], a: dict[str, Any], rank: int) -> Step:
    """HashedCrossing: two features crossed (hashed together) into num_bins bins: out = the first's
    shape, whose last axis must equal the second's; one_hot encodes each bin as CategoryEncoding's
    one_hot does (Keras 3.8 to 3.15); params = 0."""
    given = [shown(x) for x in shapes]
    if len(shapes) != 2:
        raise GeometryError("HashedCrossing takes exactly 2 inputs", input_shapes=given)
    if shapes[0][-1:] != shapes[1][-1:]:
        raise GeometryError("the two inputs must have the same last axis", input_shapes=given)
    if a["output_mode"] == "one_hot":
        out = one_hot_shape(shapes[0], a["num_bins"])
        return Step(shape=out, window="flat", work=[f"out = {shown(out)} (one_hot)", "params = 0"])
    return Step(shape=shapes[0], window="flat", work=["out = the first input's shape", "params = 0"])


def mel_spectrogram(shape: Shape, a: dict[str, Any], rank: int) -> Step:
    """MelSpectrogram: a waveform of n samples to num_mel_bins bins by frames (Keras's own shape rule:
    frames = (n + sequence_stride + 1) // sequence_stride); params = 0. Input (samples,) per sample.
    Keras's run gives 1 + n // sequence_stride frames, one fewer where sequence_stride divides n + 1
    (Keras 3.8 to 3.15); zoo follows the shape Keras's model and summary show."""
    if len(shape) != 1:
        raise GeometryError(
            f"needs input of rank 2 (batch, samples), but the layer before gives rank {len(shape) + 1}",
            input_shape=shown(shape),
        )
    if a["sequence_length"] is not None and a["fft_length"] < a["sequence_length"]:
        raise GeometryError(
            "fft_length must be >= sequence_length",
            fft_length=a["fft_length"],
            sequence_length=a["sequence_length"],
        )
    n, s = shape[0], a["sequence_stride"]
    frames = (n + s + 1) // s
    out = (a["num_mel_bins"], frames)
    return Step(
        shape=out,
        window="flat",
        work=[
            f"out = ({a['num_mel_bins']}, ({size_or_none(n)} + {s} + 1) // {s}) = {shown(out)}",
            "params = 0",
        ],
    )


def stft_spectrogram(shape: Shape, a: dict[str, Any], rank: int) -> Step:
    """STFTSpectrogram: frames of frame_length samples every frame_step (default frame_length // 2),
    each to fft_length // 2 + 1 frequencies (fft_length: default the next power of two >= frame_length;
    mode stft gives real and imaginary parts, twice as many) per channel: the conv formula on the time
    axis, out = (frames, freq * channels), or with expand_dims (frames, freq, channels).
    params = frame_length * (fft_length // 2 + 1) per kernel: a real one (but for mode imag) and an
    imaginary one (but for mode real), fixed at the STFT's values by Keras and trainable."""
    needs_rank(shape, 1, "time")
    length = a["frame_length"]
    step = a["frame_step"] or length // 2
    fft = a["fft_length"] or 2 ** math.ceil(math.log2(length))
    if a["frame_step"] is not None and a["frame_step"] > length:
        raise GeometryError("frame_step must not be greater than frame_length", frame_step=step)
    if fft < length:
        raise GeometryError("fft_length must be >= frame_length", fft_length=fft, frame_length=length)
    freq = fft // 2 + 1
    kernels = int(a["mode"] != "imag") + int(a["mode"] != "real")
    params = kernels * length * freq
    out_freq = freq * 2 if a["mode"] == "stft" else freq
    spatial, out_text = sliding(shape, (length,), (step,), a["padding"], (1,), "frame")
    c = channels(shape)
    out = (spatial[0], out_freq, c) if a["expand_dims"] else (spatial[0], out_freq * c)
    if a["expand_dims"] and a["data_format"] == "channels_first":  # the engine moves 2-axis shapes only
        out = (c, spatial[0], out_freq)
    return Step(
        shape=out,
        params=params,
        macs=spatial[0] * length * freq * kernels * c,
        window="flat",
        work=[f"{out_text}; out = {shown(out)}", f"params = {kernels} * {length} * {freq} = {params:,}"],
    )


Rule = Callable[[Shape, dict[str, Any], int], Step]

RULES: dict[str, Rule] = {
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
    "spatial_dropout": spatial_dropout,
    "prelu": prelu,
    "group_norm": group_norm,
    "unit_norm": unit_norm,
    "rms_norm": rms_norm,
    "permute": permute,
    "repeat_vector": repeat_vector,
    "adaptive_pool": adaptive_pool,
    "augmentation": augmentation,
    "image_size": image_size,
    "simple_rnn": simple_rnn,
    "lstm": lstm,
    "gru": gru,
    "cell": cell,
    "conv_lstm": conv_lstm,
    "embedding": embedding,
    "einsum_dense": einsum_dense,
    "category_encoding": category_encoding,
    "index_lookup": index_lookup,
    "mel_spectrogram": mel_spectrogram,
    "stft_spectrogram": stft_spectrogram,
}


def opaque(shapes: Sequence[Shape], a: dict[str, Any], rank: int) -> Step:
    """A layer the catalogue does not know, imported with --opaque: its output shape and parameters
    as Keras gave them at import, not computed; no MACs counted; the receptive field ends there."""
    given = a["output_shape"]
    if a["non_trainable_params"] > a["params"]:
        raise GeometryError("non_trainable_params is more than params", params=a["params"])
    return Step(
        shape=tuple(UNKNOWN if d is None else d for d in given),
        params=a["params"],
        non_trainable=a["non_trainable_params"],
        window="flat",
        work=[
            f"out = {shown(tuple(UNKNOWN if d is None else d for d in given))} (as Keras gave it at import: "
            f"{a['class_name']} is not in zoo's catalogue, so the formula engine does not check it)",
            f"params = {a['params']:,} (as Keras counted them at import)",
        ],
    )


MERGE_RULES: dict[str, Callable[[Sequence[Shape], dict[str, Any], int], Step]] = {
    "elementwise": elementwise,
    "concatenate": concatenate,
    "dot": dot,
    "op": op,
    "opaque": opaque,
    "multi_head_attention": multi_head_attention,
    "group_query_attention": group_query_attention,
    "attention": attention,
    "hashed_crossing": hashed_crossing,
}
