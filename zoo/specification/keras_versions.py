"""Keras's own changes between the releases zoo supports, as data.

Where Keras's rules for a layer differ between supported releases (a restriction lifted, an
argument added, a shape rule changed and reverted), the difference is one :class:`KerasChange`
here: the layers, the condition, what Keras does before and from the change, the releases, and
Keras's issue or pull request. The formula engine takes the Keras version from its caller and
applies the side of each change that release is on (:func:`behaviour`), so on every supported
release the witnesses agree; where a layer depends on a changed rule, the engine's rows and
errors name the change, so a maintainer reads "Keras < 3.15 refuses DepthwiseConv2D with
strides and dilation both above 1 (keras-team/keras#22598)" instead of a bare disagreement.

Every entry was verified by running both sides (the releases named in ``verified``), not only
by reading Keras's source; ``tools/matrix.py`` runs zoo on each supported release pair and
lists, per pair, the changes it has against the newest. Nothing here imports a framework.

Each change's ``applies`` is a plain predicate over the layer's class name, its resolved
arguments and its input shape (channels last); ``None`` where the change concerns something
other than one layer's arithmetic (an argument's place in a signature, keras.applications'
own code, a warning), which the tests and the documentation consult by ``id``.
"""

from __future__ import annotations

import importlib.metadata
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

#: The oldest release pair the whole suite passes on, and the newest it was made on.
OLDEST = ("3.8.0", "2.18.1")
NEWEST = ("3.15.1", "2.21.0")

Version = tuple[int, int, int]


def parse(version: str | Sequence[int]) -> Version:
    """``"3.11.3"``, ``"3.15.0rc1"``, ``"3.9"`` or ``(3, 9)`` as ``(major, minor, patch)``."""
    if isinstance(version, str):
        match = re.fullmatch(
            r"(\d+)(?:\.(\d+))?(?:\.(\d+))?((?:a|b|rc|\.dev|\.post)\d*)?(\+.*)?", version.strip()
        )
        if not match:
            raise ValueError(f"not a Keras version: {version!r} (expected e.g. '3.11.3')")
        numbers = [int(x) for x in match.groups()[:3] if x is not None]
    else:
        numbers = [int(x) for x in version][:3]
    numbers += [0] * (3 - len(numbers))
    return numbers[0], numbers[1], numbers[2]


def supported(version: str) -> Version:
    """``version`` parsed, or a ValueError where it is older than the oldest release whose rules
    zoo knows (newer ones are computed with the newest rules: a later change shows as drift)."""
    v = parse(version)
    if v < parse(OLDEST[0]):
        raise ValueError(
            f"zoo knows Keras's rules from Keras {OLDEST[0]} on. Received: keras_version={version!r}"
        )
    return v


def installed() -> str | None:
    """The installed Keras's version, from its package metadata (Keras is not imported), or None."""
    try:
        return importlib.metadata.version("keras")
    except importlib.metadata.PackageNotFoundError:
        return None


def shown(v: Version) -> str:
    return ".".join(map(str, v)) if v[2] else f"{v[0]}.{v[1]}"


# ------------------------------------------------------------------------------------------------
# Conditions: each takes (class name, resolved arguments, input shape channels last).
# ------------------------------------------------------------------------------------------------

Applies = Callable[[str, dict[str, Any], tuple[Any, ...]], bool]


def _strided_and_dilated(kind: str, a: dict[str, Any], shape: tuple[Any, ...]) -> bool:
    return bool(max(a["strides"]) > 1 and max(a["dilation_rate"]) > 1)


def _output_padding_zero(kind: str, a: dict[str, Any], shape: tuple[Any, ...]) -> bool:
    return a["output_padding"] is not None and 0 in a["output_padding"]


def _output_padding_ge_strides(kind: str, a: dict[str, Any], shape: tuple[Any, ...]) -> bool:
    pads = a["output_padding"]
    return pads is not None and any(p >= s for p, s in zip(pads, a["strides"]))


def _statistics_on_another_axis(kind: str, a: dict[str, Any], shape: tuple[Any, ...]) -> bool:
    """Keras < 3.14 broadcasts the given statistics, shape (C,), to the input's rank with 1 on every
    axis but the kept one: right-aligned, that needs C == 1 where the kept axis is not the last."""
    if a["mean"] is None or not shape:
        return False
    axis = a["axis"]
    longest = max(_lengths(a["mean"]), _lengths(a["variance"]))
    return isinstance(axis, int) and axis % (len(shape) + 1) != len(shape) and longest > 1


def _lengths(v: Any) -> int:
    return len(v) if isinstance(v, (list, tuple)) else 1


def _rescaling_broadcast(kind: str, a: dict[str, Any], shape: tuple[Any, ...]) -> bool:
    return rescaling_3_11_channels(a, shape) is not None


def rescaling_3_11_channels(a: dict[str, Any], shape: tuple[Any, ...]) -> int | None:
    """Keras 3.11's ``Rescaling.compute_output_shape``: the last axis becomes the length of a scale
    or offset whose length is not the input's channels (1 for a per-channel scale and the default
    scalar offset); ``None`` where it keeps the input's shape."""
    channels = shape[-1] if shape else None
    if not isinstance(channels, int):
        return None
    scale, offset = _lengths(a["scale"]), _lengths(a["offset"])
    if scale == 1 and offset == 1:
        return None
    broadcast = scale if scale != channels else None
    if offset != channels:
        broadcast = offset
    return broadcast


def _rescaling_3_11_shape(a: dict[str, Any], shape: tuple[Any, ...]) -> tuple[Any, ...]:
    channels = rescaling_3_11_channels(a, shape)
    return shape if channels is None else (*shape[:-1], channels)


def _activation(name: str) -> Applies:
    return lambda kind, a, shape: a.get("activation") == name


def _always(kind: str, a: dict[str, Any], shape: tuple[Any, ...]) -> bool:
    """The layer itself: a class that releases before the change do not have."""
    return True


def _not_rgb(kind: str, a: dict[str, Any], shape: tuple[Any, ...]) -> bool:
    return bool(shape) and isinstance(shape[-1], int) and shape[-1] != 3


def _encoded(kind: str, a: dict[str, Any], shape: tuple[Any, ...]) -> bool:
    return bool(a.get("output_mode", "int") != "int")


def _input_shape(a: dict[str, Any], shape: tuple[Any, ...]) -> tuple[Any, ...]:
    return shape


def _batch_and_depth(a: dict[str, Any], shape: tuple[Any, ...]) -> tuple[Any, ...]:
    """Keras < 3.14's IndexLookup.compute_output_shape: (batch, depth), depth the vocabulary and the
    OOV indices (the mask token has an index in output_mode int only)."""
    from zoo.specification.catalog import lookup_tokens

    return (len(lookup_tokens(a)) + a["num_oov_indices"],)


@dataclass(frozen=True)
class KerasChange:
    """One of Keras's own changes between supported releases.

    Releases in ``[since, until)`` behave as ``new``, every other release as ``old`` (``until`` is
    the release that reverted the change, or ``None``). ``effect_old``/``effect_new`` say what the
    formula engine does on each side: ``"refuse"`` (Keras refuses, or cannot build, what the
    condition describes: so does the engine, naming this change), ``"shape"`` (a different shape
    rule, applied by the engine's rule for that layer), ``None`` (nothing to do: Keras and zoo
    agree on that side, or the change is not a layer's arithmetic).
    """

    id: str
    layers: tuple[str, ...]
    condition: str
    old: str
    new: str
    since: str
    refs: tuple[str, ...]
    verified: str
    until: str | None = None
    applies: Applies | None = None
    effect_old: str | None = None
    effect_new: str | None = None
    refusal: str = ""  # how Keras words the refusal, for the engine's message
    # the "shape" side's rule: the output shape (channels last) from the resolved arguments and input
    shape_rule: Callable[[dict[str, Any], tuple[Any, ...]], tuple[Any, ...]] | None = None

    def is_new(self, keras: Version) -> bool:
        """Whether ``keras`` behaves as the change's ``new`` side."""
        return parse(self.since) <= keras and (self.until is None or keras < parse(self.until))

    def effect(self, keras: Version) -> str | None:
        return self.effect_new if self.is_new(keras) else self.effect_old

    def releases(self, keras: Version) -> str:
        """The releases on ``keras``'s side of the change, as a maintainer reads them: "< 3.15",
        ">= 3.15", "3.11" (a change reverted in the next minor), ">= 3.12 or < 3.11"."""
        since = parse(self.since)
        if self.until is None:
            return f">= {shown(since)}" if self.is_new(keras) else f"< {shown(since)}"
        until = parse(self.until)
        if self.is_new(keras):
            if until[:2] == (since[0], since[1] + 1):
                return f"{since[0]}.{since[1]}"
            return f"{shown(since)} to < {shown(until)}"
        return f"< {shown(since)} or >= {shown(until)}"

    def history(self) -> str:
        """One line for a maintainer: "Keras 3.15.0 changed DepthwiseConv2D's rule for any stride
        above 1 together with any dilation_rate above 1 (keras-team/keras#22598)"."""
        layers = "/".join(self.layers) if len(self.layers) <= 2 else f"{self.layers[0]} and others"
        line = f"Keras {self.since} changed {layers}'s rule for {self.condition} ({self.ref})"
        return line + (f", reverted in {self.until}" if self.until else "")

    @property
    def ref(self) -> str:
        """The first reference, bare (``keras-team/keras#22598``)."""
        return self.refs[0].split(" (")[0]

    def message(self, kind: str, keras: Version) -> str:
        side = self.new if self.is_new(keras) else self.old
        what = self.refusal or side
        return f"Keras {self.releases(keras)} {what.format(kind=kind)} ({self.ref})"


CHANGES: tuple[KerasChange, ...] = (
    KerasChange(
        id="depthwise-separable-strides-dilation",
        layers=("DepthwiseConv1D", "DepthwiseConv2D", "SeparableConv1D", "SeparableConv2D"),
        condition="any stride above 1 together with any dilation_rate above 1",
        old="refuses it in the constructor ('`strides > 1` not supported in conjunction with "
        "`dilation_rate > 1`'); keras.ops.depthwise_conv and separable_conv gave a wrong, smaller "
        "output on TensorFlow for these arguments",
        new="accepts it: out = floor((n - d*(k - 1) - 1 + p) / s) + 1, as for any convolution",
        since="3.15.0",
        refs=(
            "keras-team/keras#22598 (restriction removed)",
            "keras-team/keras#23027 (TensorFlow op fixed; issue #22515)",
        ),
        verified="constructor, compute_output_shape, build and call on 3.8.0 ... 3.15.1; the ops "
        "against a numpy reference on 3.8.0, 3.14.1 (37 of 80 configurations wrong) and 3.15.1",
        applies=_strided_and_dilated,
        effect_old="refuse",
        refusal="refuses {kind} with strides and dilation_rate both above 1",
    ),
    KerasChange(
        id="conv-transpose-output-padding-zero",
        layers=("Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose"),
        condition="output_padding with a 0 on some axis",
        old="refuses it in the constructor ('... including values {0} that do not satisfy `value > 0`')",
        new="accepts it: out = (n - 1)*s + f - 2*pad + output_padding",
        since="3.11.0",
        refs=("keras-team/keras#21383",),
        verified="Conv1D/2DTranspose(kernel 1 or 3, strides 1 or 2, output_padding=0) on 3.8.0, "
        "3.9.2, 3.10.0 (refused) and 3.11.0 ... 3.15.1 (accepted)",
        applies=_output_padding_zero,
        effect_old="refuse",
        refusal="refuses {kind} with an output_padding of 0 on some axis",
    ),
    KerasChange(
        id="conv-transpose-output-padding-signature",
        layers=("Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose"),
        condition="the constructor's signature",
        old="takes output_padding through **kwargs (it works, but inspect.signature does not show it)",
        new="names output_padding=None in each class's signature",
        since="3.11.0",
        refs=("keras-team/keras#21383",),
        verified="inspect.signature on 3.8.0 ... 3.15.1; output_padding=1 with strides 2 gives the "
        "same shape on 3.8.0 and 3.15.1",
    ),
    KerasChange(
        id="conv-transpose-output-padding-ge-strides",
        layers=("Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose"),
        condition="output_padding at least strides on some axis",
        old="builds it (out = (n - 1)*s + f - 2*pad + output_padding), but calling the layer fails: an "
        "error, or on TensorFlow 2.18 the process dies of an illegal instruction in oneDNN",
        new="refuses it in the constructor ('`output_padding` must be strictly less than `strides`')",
        since="3.14.0",
        refs=("keras-team/keras#22130", "keras-team/keras#22439 (a second, duplicate check)"),
        verified="Conv1DTranspose(k 1, s 1, op 1), (k 3, s 2, op 2, 'valid' and 'same') on 3.8.0 ... "
        "3.13.2 (a shape, then AbortedError on call; Conv2DTranspose(1, 3, strides=2, "
        "output_padding=2) on 3.8.0 with TensorFlow 2.18.1: SIGILL) and 3.14.0 ... 3.15.1 (refused)",
        applies=_output_padding_ge_strides,
        # zoo refuses on every release: before 3.14 Keras builds a model that cannot run; from
        # 3.14 the engine's own rule refuses it, in Keras's words
        effect_old="refuse",
        refusal="builds {kind} with output_padding >= strides on some axis, but the model fails "
        "when called; zoo refuses it on every release, as Keras >= 3.14 does",
    ),
    KerasChange(
        id="conv-lstm-strides-dilation",
        layers=("ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D"),
        condition="strides and dilation_rate both above 1",
        old="builds it from keras.Input (the convolution's shape), but calling the layer fails "
        "('`strides > 1` not supported in conjunction with `dilation_rate > 1`')",
        new="refuses it when the cell is made, as its call always did",
        since="3.14.0",
        refs=("keras-team/keras#22477", "keras-team/keras#22474 (the report)"),
        verified="ConvLSTM1D(1, 1, strides=2, dilation_rate=2) on (1, 1, 1) in a model: a shape on "
        "3.8.0, refused on 3.15.1; the release from the PR's merge (March 2026) and the maintainers' "
        "comment on keras-team/keras#22533 that 3.14.0 refuses it",
        applies=_strided_and_dilated,
        # zoo refuses on every release: before 3.14 Keras builds a model that cannot run
        effect_old="refuse",
        refusal="builds {kind} with strides and dilation_rate both above 1, but the layer fails when "
        "called; zoo refuses it on every release, as Keras >= 3.14 does",
    ),
    KerasChange(
        id="normalization-given-stats-other-axis",
        layers=("Normalization",),
        condition="mean and variance given as more than one value, with axis not the last",
        old="cannot build it on TensorFlow (the statistics broadcast against the last axis: "
        "InvalidArgumentError in BroadcastTo)",
        new="builds it: the statistics broadcast along the given axis",
        since="3.14.0",
        refs=("keras-team/keras#22068",),
        verified="axis=1 on (2, 1), (3, 4), (3, 3); axis=2 on (3, 4, 5): 3.8.0 ... 3.13.2 fail in "
        "build, 3.14.0 ... 3.15.1 build and call",
        applies=_statistics_on_another_axis,
        effect_old="refuse",
        refusal="cannot build {kind} with mean and variance on an axis other than the last",
    ),
    KerasChange(
        id="rescaling-per-channel-shape",
        layers=("Rescaling",),
        condition="a scale or offset whose length is not the input's channels, beside one that is "
        "(a per-channel scale with the default scalar offset)",
        old="keeps the input's shape",
        new="gives a last axis of that length in compute_output_shape (1 for a per-channel scale "
        "with a scalar offset) while the call keeps every channel: EfficientNet with ImageNet "
        "weights builds a one-channel rescaling_1 and its weights cannot load",
        since="3.11.0",
        until="3.12.0",
        refs=(
            "keras-team/keras#21351 (the change)",
            "keras-team/keras#21529 (EfficientNet with ImageNet weights; reverted in 3.12.0)",
        ),
        verified="Rescaling(scale=[.1, .2, .3]) on (8, 8, 3): 3.8.0 ... 3.10.0 and 3.12.0 ... 3.15.1 "
        "give 3 channels, 3.11.0 ... 3.11.3 give 1",
        applies=_rescaling_broadcast,
        effect_new="shape",
        shape_rule=_rescaling_3_11_shape,
    ),
    KerasChange(
        id="discretization-encoded-shape",
        layers=("Discretization",),
        condition="output_mode one_hot, multi_hot or count",
        old="gives the input's shape in its model (compute_output_spec returns inputs.shape), while "
        "its run gives the encoded vectors",
        new="gives the encoded shape in compute_output_shape: one_hot appends the depth (a last axis "
        "of 1 replaced); multi_hot and count drop the first axis after the batch and append the depth",
        since="3.14.0",
        refs=("keras-team/keras#22048",),
        verified="Discretization(bin_boundaries=[0, 1, 2]) in each mode on inputs (1,), (3,), (1, 1), "
        "(2, 1), (2, 3), (3, 1, 1), (2, 3, 4), (2, 3, 1) in a model: 3.8.0 gives the input's shape, "
        "3.15.1 the new rule; compute_output_shape at the tags v3.13.0 (absent) and v3.14.0",
        applies=_encoded,
        effect_old="shape",
        shape_rule=_input_shape,
    ),
    KerasChange(
        id="integer-lookup-encoded-shape",
        layers=("IntegerLookup",),
        condition="output_mode one_hot, multi_hot or count",
        old="gives (batch, depth) in its model for any input (IndexLookup.compute_output_shape), while "
        "its run keeps the axes before the last",
        new="gives one_hot (*input, depth) (a last axis of 1 replaced), multi_hot and count "
        "(*input[:-1], depth)",
        since="3.14.0",
        refs=("keras-team/keras#22350",),
        verified="IntegerLookup(vocabulary=[3, 4, 5]) in each mode on the inputs of "
        "discretization-encoded-shape in a model: 3.8.0 gives (None, 4) for all, 3.15.1 the new "
        "rule; compute_output_shape at the tags v3.13.0 and v3.14.0",
        applies=_encoded,
        effect_old="shape",
        shape_rule=_batch_and_depth,
    ),
    KerasChange(
        id="attention-use-gate",
        layers=("MultiHeadAttention", "GroupQueryAttention"),
        condition="use_gate true",
        old="has no argument use_gate ('Unrecognized keyword arguments')",
        new="gates the attention's output with a sigmoid projection of the query (a 'gate' EinsumDense: "
        "d_q*H*d_v weights, and H*d_v biases with use_bias)",
        since="3.14.0",
        refs=("keras-team/keras#22372",),
        verified="MultiHeadAttention(2, 3, use_gate=True) and GroupQueryAttention(3, 4, 2, use_gate=True) "
        "on (5, 4), (6, 4) in a model: 3.8.0 refuses, 3.15.1 builds (148 and 232 parameters); "
        "the argument in Keras's source at the tags v3.13.0 (absent) and v3.14.0",
        applies=lambda kind, a, shape: bool(a.get("use_gate")),
        effect_old="refuse",
        refusal="has no argument use_gate for {kind}",
    ),
    KerasChange(
        id="attention-sliding-window",
        layers=("MultiHeadAttention", "GroupQueryAttention"),
        condition="a sliding_window",
        old="has no argument sliding_window ('Unrecognized keyword arguments')",
        new="masks the scores to a band of sliding_window - 1 positions either side (no weights; the "
        "shape is unchanged)",
        since="3.15.0",
        refs=("keras-team/keras#22814",),
        verified="MultiHeadAttention(2, 3, sliding_window=2) and GroupQueryAttention(3, 4, 2, "
        "sliding_window=3) in a model: 3.8.0 refuses, 3.15.1 builds; the argument in Keras's source "
        "at the tags v3.14.0 (absent) and v3.15.0",
        applies=lambda kind, a, shape: a.get("sliding_window") is not None,
        effect_old="refuse",
        refusal="has no argument sliding_window for {kind}",
    ),
    KerasChange(
        id="attention-negative-axes",
        layers=("MultiHeadAttention",),
        condition="a negative axis in attention_axes",
        old="takes it as given: -1 is the features' axis (the layer fails when it runs)",
        new="counts it from the last axis before the features ((rank - 1) + axis)",
        since="3.12.0",
        refs=("keras-team/keras#21721",),
        verified="MultiHeadAttention(2, 3, attention_axes=(-1,)) on (2, 3, 4) run: 3.8.0 fails, "
        "3.15.1 runs; _build_attention at the tags v3.11.0 and v3.12.0. zoo takes axes counted from "
        "the batch only (catalog.attention_axes); an import reads a built layer's axes, which Keras "
        ">= 3.12 keeps counted from the batch",
    ),
    KerasChange(
        id="pooling-empty-output",
        layers=(
            "MaxPooling1D",
            "MaxPooling2D",
            "MaxPooling3D",
            "AveragePooling1D",
            "AveragePooling2D",
            "AveragePooling3D",
        ),
        condition="'valid' pooling with a window larger than the input (an output size of 0)",
        old="gives 0 on that axis in compute_output_shape; the TensorFlow op fails when called",
        new="refuses it: 'Computed output size would be zero or negative'",
        since="3.15.0",
        refs=("keras-team/keras#22919",),
        verified="MaxPooling2D(pool_size=5) on (3, 3, 1): 3.8.0 ... 3.14.0 (None, 0, 0, 1), 3.15.0 "
        "refused; zoo refuses every output size below 1 on every release",
    ),
    KerasChange(
        id="activation-sparse-sigmoid",
        layers=("*",),
        condition="activation 'sparse_sigmoid'",
        old="does not know it ('Could not interpret activation function identifier')",
        new="has keras.activations.sparse_sigmoid",
        since="3.10.0",
        refs=("keras-team/keras#21175",),
        verified="keras.activations.get for every catalogue name on 3.8.0 ... 3.15.1 (only "
        "sparse_sigmoid is missing, on 3.8.0 ... 3.9.2)",
        applies=_activation("sparse_sigmoid"),
        effect_old="refuse",
        refusal="has no activation 'sparse_sigmoid'",
    ),
    *(
        KerasChange(
            id=f"layer-{cid}",
            layers=layers,
            condition="the layer class itself",
            old="has no such layer (keras.layers has no attribute {kind})",
            new=f"has keras.layers.{layers[0]}" + (" and the others" if len(layers) > 1 else ""),
            since=since,
            refs=(ref,),
            verified=f"keras.layers on 3.8.0 (absent) and 3.15.1; the export in keras/api/layers at the tags "
            f"v{since} (first present) and before",
            applies=_always,
            effect_old="refuse",
            refusal="has no layer {kind}",
        )
        for cid, layers, since, ref in (
            ("rms-normalization", ("RMSNormalization",), "3.9.0", "keras-team/keras#20911"),
            ("aug-mix", ("AugMix",), "3.9.0", "keras-team/keras#20759"),
            ("cut-mix", ("CutMix",), "3.9.0", "keras-team/keras#20776"),
            ("random-invert", ("RandomInvert",), "3.9.0", "keras-team/keras#20787"),
            ("random-erasing", ("RandomErasing",), "3.9.0", "keras-team/keras#20798"),
            ("random-gaussian-blur", ("RandomGaussianBlur",), "3.9.0", "keras-team/keras#20817"),
            ("random-perspective", ("RandomPerspective",), "3.9.0", "keras-team/keras#20836"),
            ("random-elastic-transform", ("RandomElasticTransform",), "3.10.0", "keras-team/keras#21018"),
            (
                "adaptive-pooling",
                tuple(f"Adaptive{p}Pooling{r}D" for p in ("Average", "Max") for r in (1, 2, 3)),
                "3.13.0",
                "keras-team/keras#21820",
            ),
            ("clahe", ("ContrastLimitedAdaptiveHistogramEqualization",), "3.14.0", "keras-team/keras#21953"),
            # upstreamed from keras_hub (keras-hub#2486: "ReversibleEmbedding Layer is supported in
            # Keras 3.12")
            ("reversible-embedding", ("ReversibleEmbedding",), "3.12.0", "keras-team/keras#21753"),
        )
    ),
    KerasChange(
        id="random-grayscale-in-a-model",
        layers=("RandomGrayscale",),
        condition="the layer in a model",
        old="cannot build a model that holds it: its compute_output_spec returns its input tensor "
        "('... from operation 'random_grayscale' is part of a cycle')",
        new="builds it: compute_output_spec returns a new tensor of the input's shape",
        since="3.11.0",
        refs=("keras-team/keras#21312", "keras-team/keras#21326 (its follow-up)"),
        verified="keras.Model(x, RandomGrayscale()(Conv2D(3, 1)(x))) on 3.8.0 (fails) and 3.15.1; "
        "compute_output_spec at the tags v3.10.0 (returns inputs) and v3.11.0",
        applies=_always,
        effect_old="refuse",
        refusal="cannot build a model that holds {kind} ('part of a cycle')",
    ),
    KerasChange(
        id="random-color-degeneration-channels",
        layers=("RandomColorDegeneration",),
        condition="images whose channels are not 3",
        old="builds it (its blend with the grey image needs RGB when it runs in training)",
        new="refuses it in compute_output_shape ('Input images must have 3 channels')",
        since="3.15.0",
        refs=("keras-team/keras#22685",),
        verified="RandomColorDegeneration(0.2) called on keras.Input((8, 8, 1)) in a model: 3.8.0 "
        "builds it, 3.15.1 refuses; the check is in compute_output_shape at v3.15.0, not at v3.14.0",
        applies=_not_rgb,
        effect_new="refuse",
        refusal="refuses {kind} on images without 3 channels",
    ),
    KerasChange(
        id="input-spec-error-words",
        layers=("keras.layers.InputSpec",),
        condition="an input that does not meet a layer's InputSpec (e.g. a 2-D image for a Conv2D)",
        old="words it 'Input 0 of layer \"conv\" is incompatible with the layer: ...'",
        new="words it \"Input 0 with name 'None' of layer 'conv' is incompatible with the layer: ...\" "
        "(zoo's family files quote these words)",
        since="3.13.0",
        refs=("keras-team/keras#21869",),
        verified="keras/src/layers/input_spec.py at v3.8.0 ... v3.12.0 and v3.13.0 ... v3.15.1; "
        "MobileNetV3Small(include_top=False, input_shape=(96, 96)) on 3.8.0 and 3.15.1",
    ),
    KerasChange(
        id="functional-single-input-structure-warning",
        layers=("keras.Model",),
        condition="a functional model made with a list of one input, called on a bare tensor",
        old="warns 'The structure of `inputs` doesn't match the expected structure' (the result is right)",
        new="wraps the tensor in a list, silently",
        since="3.10.0",
        refs=("keras-team/keras commit d94e91f831 'Fix warnings'",),
        verified="keras.Model(m.inputs, x).predict(tensor) on 3.8.0 ... 3.9.2 (warns) and 3.10.0 ... "
        "3.15.1 (silent); zoo's fast path calls its models with the structure they were made with",
    ),
    KerasChange(
        id="convnext-imagenet-architecture-rule",
        layers=("keras.applications.ConvNeXt*",),
        condition="weights='imagenet' with depths or projection_dims other than the variant's",
        old="has no check: goes on to download the weights file",
        new="refuses it before any download ('Architecture configuration does not match ...')",
        since="3.9.0",
        refs=("keras-team/keras#20785",),
        verified="Keras's source at v3.8.0 and v3.9.0; zoo's rule test on 3.8.0 and 3.10.0 ... 3.15.1; "
        "zoo states the rule in 3.9's words on every release",
    ),
    KerasChange(
        id="convnext-input-tensor",
        layers=("keras.applications.ConvNeXt*",),
        condition="an input_tensor that is not itself an Input",
        old="starts the graph at the source Input and drops the layers between it and input_tensor",
        new="starts the graph at input_tensor, as the other applications do",
        since="3.9.0",
        refs=("keras-team/keras#20854",),
        verified="ConvNeXtTiny(weights=None, include_top=False, input_tensor=Conv2D(3, 2, strides=2)"
        "(Input((200, 200, 4)))): 3.8.0 fails, 3.9.2 and 3.15.1 build 134 layers; zoo builds the "
        "3.9 graph on every release",
    ),
    KerasChange(
        id="efficientnetv2-channels-first-normalization",
        layers=("keras.applications.EfficientNetV2*",),
        condition="image_data_format 'channels_first' with include_preprocessing",
        old="3.8 cannot build it (1-D statistics on axis 1); 3.9 to 3.13 pre-broadcast the "
        "statistics to (1, 3, 1, 1)",
        new="gives 1-D statistics on axis 1 again, which Normalization broadcasts per axis",
        since="3.14.0",
        refs=("keras-team/keras#22351", "keras-team/keras#20785 (3.9.0)", "keras-team/keras#22068"),
        verified="keras.applications.EfficientNetV2B0(weights=None) channels_first on 3.8.0 (fails), "
        "3.9.2 and 3.13.2 (4-D statistics), 3.14.0 and 3.15.1 (1-D)",
    ),
    KerasChange(
        id="preprocess-input-3d-channels-first",
        layers=("keras.applications.*.preprocess_input",),
        condition="one 3-D image given as a tensor with data_format='channels_first' (caffe, torch)",
        old="fails: the mean is reshaped for a batch",
        new="reshapes the mean to (3, 1, 1)",
        since="3.12.0",
        refs=("keras-team/keras#21750",),
        verified="resnet.preprocess_input on a (3, 4, 5) tensor on 3.11.3 (fails) and 3.12.0; zoo's "
        "preprocess_input takes numpy arrays, whose path did not change (3.8.0 ... 3.15.1)",
    ),
)

BY_ID = {c.id: c for c in CHANGES}


def change(id: str) -> KerasChange:
    return BY_ID[id]


def touching(kind: str, a: dict[str, Any], shape: tuple[Any, ...]) -> list[KerasChange]:
    """The changes whose condition this layer meets (on any release)."""
    return [
        c
        for c in CHANGES
        if c.applies is not None and (kind in c.layers or "*" in c.layers) and c.applies(kind, a, shape)
    ]


def introduced(kind: str) -> KerasChange | None:
    """The change that added layer class ``kind`` to keras.layers, where it is newer than the oldest
    supported release (``None`` for the others)."""
    for c in CHANGES:
        if c.applies is _always and c.id.startswith("layer-") and kind in c.layers:
            return c
    return None


def differences(keras: Version, reference: Version | None = None) -> list[KerasChange]:
    """The changes on whose other side ``keras`` is from ``reference`` (the newest supported)."""
    ref = reference or parse(NEWEST[0])
    return [c for c in CHANGES if c.is_new(keras) != c.is_new(ref)]
