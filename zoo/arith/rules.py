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
}
