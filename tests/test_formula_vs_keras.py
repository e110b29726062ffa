"""Property-based: for random layers of every family, the formula engine agrees with Keras.

Each example builds one layer both ways: the formula engine through zoo's own
validation (``Spec.from_dict``) and Keras directly (``compute_output_shape``,
``build``, ``count_params``). Where Keras rejects a configuration, the engine must
reject it too, with a SpecError; where Keras accepts, shapes and counts must match.

Examples per family: 200 by default; ``HYPOTHESIS_PROFILE=thorough`` runs 2,000.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import zoo
from zoo import arith
from zoo.specification import catalog, keras_versions
from zoo.specification.errors import Source

pytestmark = pytest.mark.releases


def keras_layer(kind: str, args: dict[str, Any]) -> Any:
    import keras

    def tuples(v: Any) -> Any:
        return tuple(tuples(x) for x in v) if isinstance(v, list) else v

    from zoo.keras.builder import layer_class

    return layer_class(keras, catalog.LAYERS[kind])(**{k: tuples(v) for k, v in args.items()})


def keras_answer(kind: str, args: dict[str, Any], shape: tuple[int, ...]):
    """(output shape, params, trainable params), or None where Keras refuses."""
    try:
        layer = keras_layer(kind, args)
        out = tuple(layer.compute_output_shape((None, *shape)))
        layer.build((None, *shape))
    except Exception:  # noqa: BLE001 - any refusal by Keras counts as a refusal
        return None
    trainable = sum(math.prod(w.shape) for w in layer.trainable_weights)
    return out, layer.count_params(), trainable


def running_keras() -> str:
    import keras

    return keras.__version__


def one_layer(kind: str, args: dict[str, Any], shape: tuple[int, ...]) -> zoo.Spec:
    """A spec of one layer on an input of ``shape``, through zoo's own validation."""
    data = {"name": "prop", "description": "property test", "input": list(shape), "layers": [{kind: args}]}
    return zoo.Spec.from_dict(data)


def formula_answer(kind: str, args: dict[str, Any], shape: tuple[int, ...], keras: str | None = None):
    """The same triple from zoo (validation, then the formula engine computing as the running Keras
    release, or as ``keras``), or None on a SpecError."""
    try:
        row = arith.summarize(one_layer(kind, args, shape), keras=keras or running_keras()).rows[0]
    except zoo.SpecError:
        return None
    return row.output_shape, row.params, row.trainable_params


def resolved(kind: str, args: dict[str, Any], shape: tuple[int, ...]) -> dict[str, Any]:
    """The layer's arguments as zoo validates and normalises them (``output_padding=1`` -> ``(1,)``)."""
    return one_layer(kind, args, shape).layers[0].resolved()


_CALLED: dict[str, bool] = {}


def fails_when_called(kind: str, args: dict[str, Any], shape: tuple[int, ...]) -> bool:
    """Whether calling the Keras layer on zeros fails, in a child process: on TensorFlow 2.18 the
    call can kill the process (an illegal instruction in oneDNN). Once per layer class per session."""
    if kind not in _CALLED:
        import subprocess
        import sys

        code = (
            "import numpy as np, keras; "
            f"keras.layers.{kind}(**{args!r})(np.zeros((1, *{shape!r}), 'float32'))"
        )
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=300)
        _CALLED[kind] = done.returncode != 0
    return _CALLED[kind]


def check(kind: str, args: dict[str, Any], shape: tuple[int, ...]) -> None:
    want = keras_answer(kind, args, shape)
    got = formula_answer(kind, args, shape)
    on = keras_versions.parse(running_keras())
    builds_but_fails = keras_versions.change("conv-transpose-output-padding-ge-strides")
    if (
        want is not None
        and got is None
        and catalog.LAYERS[kind].class_name in builds_but_fails.layers  # an alias too
        and not builds_but_fails.is_new(on)
        and builds_but_fails.applies is not None
        and builds_but_fails.applies(kind, resolved(kind, args, shape), shape)
    ):
        # Keras before 3.14 builds it, and its op fails when called: zoo refuses it on every release
        assert fails_when_called(kind, args, shape), f"{kind}({args}) on {shape}: Keras runs it"
    elif want is not None and 0 in want[0]:
        # Deliberately stricter than Keras: a transposed convolution with 'same' padding and
        # output_padding can give an empty axis, e.g. (1 - 1)*1 + 2 - 2*1 + 0 = 0. Keras lets it
        # through; zoo refuses it, as it refuses every output size below 1.
        assert got is None, f"{kind}({args}) on {shape}: Keras gives an empty axis {want[0]}, zoo {got}"
    elif want is None:
        assert got is None, f"Keras rejects {kind}({args}) on {shape}, the formula engine gives {got}"
    else:
        assert got == want, f"{kind}({args}) on {shape}: formula {got} != keras {want}"


# ---------------------------------------------------------------- strategies


def formatted(kind: str, args: dict[str, Any], shape: tuple[int, ...], channels_first: bool):
    """The same layer with ``data_format: channels_first`` and its input's channels moved first,
    where the layer takes a data format (Keras computes its shapes on any backend and device)."""
    if channels_first and "data_format" in catalog.LAYERS[kind].args:
        return kind, {**args, "data_format": "channels_first"}, (shape[-1], *shape[:-1])
    return kind, args, shape


def per_axis(rank: int, low: int, high: int) -> st.SearchStrategy[Any]:
    """An int, or a list of one int per axis: both argument forms Keras accepts."""
    return st.one_of(st.integers(low, high), st.lists(st.integers(low, high), min_size=rank, max_size=rank))


def grid(rank: int, low: int = 1) -> st.SearchStrategy[tuple[int, ...]]:
    high = {1: 24, 2: 16, 3: 7}[rank]
    return st.tuples(*[st.integers(low, high)] * rank, st.integers(1, 6))


@st.composite
def convolutions(draw: st.DrawFn, kinds: tuple[str, ...]) -> tuple[str, dict[str, Any], tuple[int, ...]]:
    kind = draw(st.sampled_from(kinds))
    entry = catalog.LAYERS[kind]
    rank = entry.rank
    args: dict[str, Any] = {"kernel_size": draw(per_axis(rank, 1, 5))}
    if "filters" in entry.args:
        args["filters"] = draw(st.integers(1, 8))
    if draw(st.booleans()):
        args["strides"] = draw(per_axis(rank, 1, 3))
    if draw(st.booleans()):
        args["dilation_rate"] = draw(per_axis(rank, 1, 3))
    paddings = [p for p in ("valid", "same", "causal") if p != "causal" or kind == "Conv1D"]
    args["padding"] = draw(st.sampled_from(paddings))
    if "groups" in entry.args and draw(st.booleans()):
        args["groups"] = draw(st.integers(1, 4))
    if "depth_multiplier" in entry.args and draw(st.booleans()):
        args["depth_multiplier"] = draw(st.integers(1, 3))
    if "output_padding" in entry.args and draw(st.booleans()):
        args["output_padding"] = draw(per_axis(rank, 0, 2))
    if draw(st.booleans()):
        args["use_bias"] = draw(st.booleans())
    if draw(st.integers(0, 9)) == 0:
        args["trainable"] = False
    return formatted(kind, args, draw(grid(rank)), draw(st.booleans()))


def _kinds(rule: str) -> tuple[str, ...]:
    return tuple(k for k, v in catalog.LAYERS.items() if v.rule == rule)


# ---------------------------------------------------------------- one test per family


@given(convolutions(_kinds("conv")))
def test_conv(case):
    check(*case)


@given(convolutions(_kinds("conv_transpose")))
def test_conv_transpose(case):
    check(*case)


@given(convolutions(_kinds("separable_conv")))
def test_separable_conv(case):
    check(*case)


@given(convolutions(_kinds("depthwise_conv")))
def test_depthwise_conv(case):
    check(*case)


@st.composite
def poolings(draw: st.DrawFn):
    kind = draw(st.sampled_from(_kinds("pool")))
    rank = catalog.LAYERS[kind].rank
    args: dict[str, Any] = {"padding": draw(st.sampled_from(["valid", "same"]))}
    if draw(st.booleans()):
        args["pool_size"] = draw(per_axis(rank, 1, 4))
    if draw(st.booleans()):
        args["strides"] = draw(per_axis(rank, 1, 3))
    return formatted(kind, args, draw(grid(rank)), draw(st.booleans()))


@given(poolings())
def test_pooling(case):
    check(*case)


@given(st.sampled_from(_kinds("global_pool")), st.booleans(), st.booleans(), st.data())
def test_global_pooling(kind, keepdims, channels_first, data):
    check(
        *formatted(kind, {"keepdims": keepdims}, data.draw(grid(catalog.LAYERS[kind].rank)), channels_first)
    )


@given(st.sampled_from(_kinds("upsampling")), st.data())
def test_upsampling(kind, data):
    rank = catalog.LAYERS[kind].rank
    args = {"size": data.draw(per_axis(rank, 1, 3))}
    check(*formatted(kind, args, data.draw(grid(rank)), data.draw(st.booleans())))


@st.composite
def amounts(draw: st.DrawFn, rank: int, high: int) -> Any:
    n = st.integers(0, high)
    pair = st.lists(n, min_size=2, max_size=2)
    forms = [n, st.lists(pair, min_size=rank, max_size=rank)]
    forms.append(pair if rank == 1 else st.lists(n, min_size=rank, max_size=rank))
    return draw(st.one_of(forms))


@given(st.sampled_from(_kinds("zero_padding") + _kinds("cropping")), st.data())
def test_zero_padding_and_cropping(kind, data):
    rank = catalog.LAYERS[kind].rank
    key = "padding" if kind.startswith("Zero") else "cropping"
    check(
        *formatted(kind, {key: data.draw(amounts(rank, 6))}, data.draw(grid(rank)), data.draw(st.booleans()))
    )


@given(
    st.lists(st.integers(1, 6), min_size=1, max_size=4),
    st.lists(st.integers(1, 6), min_size=1, max_size=3),
    st.integers(-1, 2),
)
def test_flatten_and_reshape(shape, target, infer_at):
    shape = tuple(shape)
    check("Flatten", {}, shape)
    check("Flatten", {"data_format": "channels_first"}, shape)
    if 0 <= infer_at < len(target):
        target[infer_at] = -1
    check("Reshape", {"target_shape": target}, shape)
    # a target that holds exactly the input's values must always be accepted
    check("Reshape", {"target_shape": [math.prod(shape)]}, shape)


@given(
    st.lists(st.integers(1, 12), min_size=1, max_size=4),
    st.integers(1, 16),
    st.booleans(),
    st.booleans(),
)
def test_dense_on_any_rank(shape, units, use_bias, trainable):
    check("Dense", {"units": units, "use_bias": use_bias, "trainable": trainable}, tuple(shape))


@given(
    st.lists(st.integers(1, 12), min_size=1, max_size=4),
    st.integers(-5, 4),
    st.booleans(),
    st.booleans(),
    st.booleans(),
)
def test_batch_normalization(shape, axis, center, scale, trainable):
    check(
        "BatchNormalization",
        {"axis": axis, "center": center, "scale": scale, "trainable": trainable},
        tuple(shape),
    )


@given(
    st.lists(st.integers(1, 12), min_size=1, max_size=4),
    st.floats(0, 0.99),
    st.sampled_from(catalog.ACTIVATIONS),
)
def test_dropout_and_activation_keep_the_shape(shape, rate, activation):
    check("Dropout", {"rate": rate}, tuple(shape))
    check("Activation", {"activation": activation}, tuple(shape))


@pytest.mark.filterwarnings("ignore:This model usually expects 1 or 3 input channels")  # Keras's and zoo's
@pytest.mark.parametrize(
    ("shape", "pooling"),
    [
        ((224, 224, 3), None),
        ((32, 32, 3), None),
        ((31, 40, 3), None),
        ((75, 50, 1), "avg"),
        ((33, 97, 5), "max"),
        ((64, 64, 3), "avg"),
        ((200, 33, 2), None),
    ],
)
def test_vgg16_base_from_its_architecture(shape, pooling):
    """The base's numbers come from its block structure, never from a stored total."""
    import warnings

    import keras

    args = {"weights": None, "pooling": pooling}
    try:
        with warnings.catch_warnings():  # "usually expects 1 or 3 input channels"
            warnings.simplefilter("ignore", UserWarning)
            base = keras.applications.VGG16(
                include_top=False, weights=None, input_shape=shape, pooling=pooling
            )
        want = (tuple(base.output.shape), base.count_params(), base.count_params())
    except ValueError:
        want = None
    assert formula_answer("VGG16", args, shape) == want


# ---------------------------------------------------------------- the defaults themselves

# the arguments a later Keras release added to a catalogued class, by their keras_versions change
ARGUMENTS_ADDED = {
    "use_gate": keras_versions.change("attention-use-gate"),
    "sliding_window": keras_versions.change("attention-sliding-window"),
}


@pytest.mark.parametrize(
    "kind",
    sorted(
        k
        for k in catalog.LAYERS
        if k not in catalog.APPLICATIONS
        and k not in catalog.OPS
        # Functional's arguments describe its graph (keras.Model(inputs, outputs) takes tensors)
        and k not in (catalog.OPAQUE, catalog.CALL, "Functional")
    ),
)
def test_catalogue_defaults_are_keras_defaults(kind):
    """The formula engine fills in defaults from the catalogue; Keras must agree with each one."""
    import inspect

    import keras

    from zoo.keras.builder import layer_class

    on = keras_versions.parse(keras.__version__)
    introduced = keras_versions.introduced(kind)
    if introduced is not None and not introduced.is_new(on):
        assert not hasattr(keras.layers, kind)
        return
    signature = inspect.signature(layer_class(keras, catalog.LAYERS[kind]).__init__)
    entry = catalog.LAYERS[kind]
    resolved = catalog.resolve(entry, {})
    for name, arg in entry.args.items():
        if name in catalog.COMMON or arg.default is catalog.REQUIRED:
            continue
        named = keras_versions.change("conv-transpose-output-padding-signature")
        if entry.class_name in named.layers and name == "output_padding" and not named.is_new(on):
            # before 3.11 it reaches the layer through **kwargs, and is taken
            assert name not in signature.parameters
            assert (
                layer_class(keras, entry)(filters=1, kernel_size=1, output_padding=None).output_padding
                is None
            )
            continue
        added = ARGUMENTS_ADDED.get(name)
        if added is not None and entry.class_name in added.layers and not added.is_new(on):
            # an argument a later release added: this one has none (a spec giving it is refused)
            assert name not in signature.parameters
            continue
        assert name in signature.parameters, f"{kind} has no argument {name!r} in Keras"
        keras_default = signature.parameters[name].default
        if keras_default is None or isinstance(keras_default, (str, bool, float)):
            assert arg.default == keras_default or (name == "data_format" and keras_default is None)
        else:  # ints and tuples: compare after the same normalisation
            probe = catalog.Ctx(Source(), (name,), entry.rank)
            as_list = (
                [list(x) if isinstance(x, tuple) else x for x in keras_default]
                if isinstance(keras_default, tuple)
                else keras_default
            )
            assert resolved[name] == arg.check(as_list, probe), name


def test_every_catalogue_layer_exists_in_keras():
    """Where the version data says a layer is newer than the running Keras, Keras has none."""
    import keras

    on = keras_versions.parse(keras.__version__)
    for kind, entry in catalog.LAYERS.items():
        introduced = keras_versions.introduced(kind)
        if kind in catalog.APPLICATIONS:
            assert hasattr(keras.applications, kind)
        elif introduced is not None and not introduced.is_new(on):
            assert not hasattr(keras.layers, kind), f"{kind} exists before {introduced.since}"
            assert formula_answer(kind, {}, (4, 4, 3)) is None
        elif entry.module == "keras.layers" and kind not in (catalog.OPAQUE, catalog.CALL):
            # Opaque names its class itself; a Call is no class, a layer called again
            assert hasattr(keras.layers, kind), kind


@pytest.mark.parametrize(
    ("kind", "module"),
    [
        ("LayerScale", "keras.src.applications.convnext"),
        ("StochasticDepth", "keras.src.applications.convnext"),
        ("CustomScaleLayer", "keras.src.applications.inception_resnet_v2"),
        ("ops.add", "keras.src.ops.numpy"),
        ("ops.multiply", "keras.src.ops.numpy"),
    ],
)
def test_the_layer_classes_of_keras_applications_are_where_zoo_takes_them_from(kind, module):
    """ConvNeXt's LayerScale and StochasticDepth and InceptionResNetV2's CustomScaleLayer are not in
    keras.layers: zoo imports them from keras.applications' modules. A Keras release that moves them
    fails here first."""
    import importlib

    entry = catalog.LAYERS[kind]
    assert entry.module == module
    try:
        cls = getattr(importlib.import_module(module), entry.class_name)
    except (ImportError, AttributeError) as exc:
        pytest.fail(f"Keras moved {kind}: {module}.{entry.class_name} is gone ({exc}); update zoo/catalog.py")
    assert cls.__module__ == module and cls.__name__ == entry.class_name


shapes_ = st.lists(st.integers(1, 8), min_size=1, max_size=4)


@given(shapes_, st.one_of(st.none(), st.floats(0, 10)), st.floats(0, 1), st.floats(-2, 2))
def test_relu(shape, max_value, negative_slope, threshold):
    check(
        "ReLU",
        {"max_value": max_value, "negative_slope": negative_slope, "threshold": threshold},
        tuple(shape),
    )


@given(shapes_, st.data())
def test_rescaling(shape, data):
    per_channel = st.lists(st.floats(-3, 3), min_size=shape[-1], max_size=shape[-1])
    scale = data.draw(st.one_of(st.floats(-3, 3), per_channel))
    check("Rescaling", {"scale": scale, "offset": data.draw(st.floats(-1, 1))}, tuple(shape))


@given(shapes_, st.integers(-5, 4), st.booleans(), st.booleans())
def test_normalization(shape, axis, given_stats, invert):
    args: dict[str, Any] = {"axis": axis, "invert": invert}
    if given_stats:  # one statistic per position of the normalised axis (1 where the axis is invalid)
        full = (None, *shape)
        size = full[axis] if -len(full) <= axis < len(full) and full[axis] is not None else 1
        args.update(mean=[0.5] * size, variance=[2.0] * size)
    check("Normalization", args, tuple(shape))


@given(shapes_, st.integers(-5, 4), st.booleans(), st.booleans(), st.booleans())
def test_layer_normalization(shape, axis, center, scale, trainable):
    args = {"axis": axis, "center": center, "scale": scale, "trainable": trainable}
    if axis % (len(shape) + 1) == 0:  # over the batch axis: Keras accepts it without weights; zoo refuses
        assert formula_answer("LayerNormalization", args, tuple(shape)) is None
        return
    check("LayerNormalization", args, tuple(shape))


@given(shapes_, st.data())
def test_dropout_noise_shape(shape, data):
    noise = data.draw(
        st.lists(st.sampled_from([None, 1, 2, 3]), min_size=len(shape) + 1, max_size=len(shape) + 1)
    )
    args = {"rate": 0.5, "noise_shape": noise}
    fits = all(n in (None, 1, d) for n, d in zip(noise[1:], shape))
    if not fits:  # Keras builds it and fails only when it runs; zoo refuses a mask that cannot broadcast
        assert formula_answer("Dropout", args, tuple(shape)) is None
        return
    check("Dropout", args, tuple(shape))


@given(shapes_, st.integers(1, 8), st.floats(0, 1))
def test_layer_scale(shape, projection_dim, init_values):
    """LayerScale has no compute_output_shape: Keras's answer comes from a symbolic call."""
    import keras

    from zoo.keras.builder import layer_class

    args = {"projection_dim": projection_dim, "init_values": init_values}
    try:
        layer = layer_class(keras, catalog.LAYERS["LayerScale"])(**args)
        out = tuple(layer(keras.Input(tuple(shape))).shape)
        want = (out, layer.count_params(), layer.count_params())
    except Exception:  # noqa: BLE001 - any refusal by Keras counts
        want = None
    if want is not None and projection_dim != shape[-1]:  # 1 broadcasts in Keras; a misfit scale in a model
        assert formula_answer("LayerScale", args, tuple(shape)) is None
        return
    assert formula_answer("LayerScale", args, tuple(shape)) == want


def test_custom_scale_layer_against_keras():
    import keras

    from zoo.keras.builder import layer_class

    layer = layer_class(keras, catalog.LAYERS["CustomScaleLayer"])(scale=0.17)
    want = tuple(layer([keras.Input((5, 5, 4)), keras.Input((5, 5, 4))]).shape)
    spec = zoo.Spec.from_dict(
        {
            "name": "m",
            "description": "m",
            "input": [5, 5, 4],
            "layers": [
                {"Conv2D": {"name": "c", "filters": 4, "kernel_size": 1}},
                {"CustomScaleLayer": {"scale": 0.17, "inputs": ["input", "c"]}},
            ],
        }
    )
    assert arith.summarize(spec).rows[-1].output_shape == want
    assert arith.summarize(spec) == zoo.summary(spec, engine="keras")


def test_every_allowed_name_is_known_to_keras():
    import keras

    on = keras_versions.parse(keras.__version__)
    for name in catalog.ACTIVATIONS:
        missing = [c for c in keras_versions.touching("Dense", {"activation": name}, (4,)) if c.effect(on)]
        if missing:  # the version data says this release has no such activation: it has none
            with pytest.raises(ValueError, match=name):
                keras.activations.get(name)
            continue
        keras.activations.get(name)
    for name in catalog.INITIALIZERS:
        keras.initializers.get(name)
    from zoo.specification.model import LOSSES, METRICS, OPTIMIZERS

    for name in OPTIMIZERS:
        keras.optimizers.get(name)
    for name in LOSSES:
        keras.losses.get(name)
    for name in METRICS:
        keras.metrics.get(name)


# ---------------------------------------------------------------- the layers checked in a model
#
# Activations, normalisations, noise, reshaping, adaptive pooling, image preprocessing and Dot are
# judged by Keras in a model: the layer called on a keras.Input, which runs its InputSpec, build and
# compute_output_spec (a layer whose model cannot be built counts as a refusal), as a summary sees it.


def keras_model_answer(kind: str, args: dict[str, Any], shapes: list[tuple[int, ...]]):
    """(output shape, params, trainable params) of the layer called in a functional model on inputs of
    ``shapes`` (a merge takes them all), or None where Keras refuses."""
    import keras

    try:
        layer = keras_layer(kind, args)
        inputs = [keras.Input(s) for s in shapes]
        out = layer(inputs if len(inputs) > 1 else inputs[0])
        if not any(op is layer for op in keras.Model(inputs, out).operations):
            return None  # it gave back its input: no model holds it (RandomGrayscale before 3.11)
    except Exception:  # noqa: BLE001 - any refusal by Keras counts as a refusal
        return None
    trainable = sum(math.prod(w.shape) for w in layer.trainable_weights)
    return tuple(out.shape), layer.count_params(), trainable


def check_in_model(kind: str, args: dict[str, Any], shape: tuple[int, ...]) -> None:
    want = keras_model_answer(kind, args, [shape])
    got = formula_answer(kind, args, shape)
    assert got == want, f"{kind}({args}) on {shape}: formula {got} != keras {want}"


# A model per example costs more than compute_output_shape: these take half the profile's examples
# (100 by default, 1,000 with HYPOTHESIS_PROFILE=thorough), to keep the inner loop in its budget.
in_models = settings(max_examples=max(25, settings().max_examples // 2))


@in_models
@given(shapes_, st.data())
def test_activation_layers(shape, data):
    kind, args = data.draw(
        st.one_of(
            st.tuples(st.just("LeakyReLU"), st.fixed_dictionaries({"negative_slope": st.floats(0, 2)})),
            st.tuples(st.just("ELU"), st.fixed_dictionaries({"alpha": st.floats(-2, 2)})),
            st.tuples(st.just("Softmax"), st.fixed_dictionaries({"axis": st.integers(-5, 4)})),
        )
    )
    check_in_model(kind, args, tuple(shape))


@in_models
@given(shapes_, st.data())
def test_prelu(shape, data):
    axes_ = st.integers(1, len(shape) + 1)
    shared = data.draw(st.one_of(st.none(), axes_, st.lists(axes_, min_size=1, max_size=3)))
    check_in_model("PReLU", {"shared_axes": shared, "trainable": data.draw(st.booleans())}, tuple(shape))


@in_models
@given(shapes_, st.integers(-5, 4), st.booleans(), st.booleans(), st.data())
def test_group_normalization(shape, axis, center, scale, data):
    full = (None, *shape)
    size = full[axis] if -len(full) <= axis < len(full) and full[axis] is not None else 1
    divisors = [g for g in range(1, size + 1) if size % g == 0]  # half the time, groups that fit
    groups = data.draw(st.one_of(st.sampled_from([-1, 1, 2, 3, 4, 6, 32]), st.sampled_from(divisors)))
    args = {"groups": groups, "axis": axis, "center": center, "scale": scale}
    check_in_model("GroupNormalization", args, tuple(shape))


@in_models
@given(shapes_, st.data())
def test_unit_and_rms_normalization(shape, data):
    high = len(shape) + 1
    axis = data.draw(
        st.one_of(
            st.integers(-high - 1, high), st.lists(st.integers(-high, high - 1), min_size=1, max_size=2)
        )
    )
    check_in_model("UnitNormalization", {"axis": axis}, tuple(shape))
    if not (isinstance(axis, list) and len({a % high for a in axis}) < len(axis)):  # distinct axes
        check_in_model("RMSNormalization", {"axis": axis}, tuple(shape))


@in_models
@given(st.integers(1, 3), st.floats(0, 0.99), st.booleans(), st.data())
def test_spatial_dropout(rank, rate, channels_first, data):
    kind = f"SpatialDropout{rank}D"
    shape = data.draw(st.one_of(grid(rank), st.lists(st.integers(1, 5), min_size=1, max_size=4).map(tuple)))
    if len(shape) == rank + 1:
        kind, args, shape = formatted(kind, {"rate": rate}, shape, channels_first)
    else:
        args = {"rate": rate}
    check_in_model(kind, args, shape)


@in_models
@given(shapes_, st.floats(0, 1), st.floats(0, 0.5), st.data())
def test_noise_and_regularization_keep_the_shape(shape, rate, l1, data):
    kind, args = data.draw(
        st.sampled_from(
            [
                ("GaussianNoise", {"stddev": rate}),
                ("GaussianDropout", {"rate": rate}),
                ("AlphaDropout", {"rate": rate}),
                ("ActivityRegularization", {"l1": l1, "l2": l1}),
                ("Identity", {}),
            ]
        )
    )
    check_in_model(kind, args, tuple(shape))


@in_models
@given(shapes_, st.data())
def test_permute_and_repeat_vector(shape, data):
    n = data.draw(st.sampled_from([len(shape), len(shape), max(1, len(shape) - 1), len(shape) + 1]))
    dims = data.draw(st.permutations(list(range(1, n + 1))))
    check_in_model("Permute", {"dims": dims}, tuple(shape))
    check_in_model("RepeatVector", {"n": data.draw(st.integers(1, 5))}, tuple(shape))


@in_models
@given(st.data())
def test_adaptive_pooling(data):
    kinds = _kinds("adaptive_pool")
    on = keras_versions.parse(running_keras())
    kind = data.draw(st.sampled_from(kinds))
    introduced = keras_versions.introduced(kind)
    rank = catalog.LAYERS[kind].rank
    args = {"output_size": data.draw(per_axis(rank, 1, 6))}
    case = formatted(kind, args, data.draw(grid(rank)), data.draw(st.booleans()))
    if introduced is not None and not introduced.is_new(on):
        assert keras_model_answer(*case[:2], [case[2]]) is None and formula_answer(*case) is None
        return
    check_in_model(*case)


_FACTOR = st.one_of(st.floats(0, 0.5), st.tuples(st.floats(-0.5, 0), st.floats(0, 0.5)).map(list))
# what each image layer must be given, drawn from what Keras takes
_IMAGE_REQUIRED: dict[str, dict[str, st.SearchStrategy[Any]]] = {
    "Resizing": {"height": st.integers(1, 12), "width": st.integers(1, 12)},
    "CenterCrop": {"height": st.integers(1, 12), "width": st.integers(1, 12)},
    "RandomCrop": {"height": st.integers(1, 12), "width": st.integers(1, 12)},
    "RandomRotation": {"factor": _FACTOR},
    "RandomZoom": {"height_factor": _FACTOR},
    "RandomTranslation": {"height_factor": _FACTOR, "width_factor": _FACTOR},
    "RandomContrast": {"factor": st.floats(0, 0.9)},
    "RandomBrightness": {"factor": _FACTOR},
    "RandomHue": {"factor": st.floats(0, 1)},
    "RandomSaturation": {"factor": st.floats(0, 1)},
    "RandomSharpness": {"factor": st.floats(0, 1)},
    "RandomColorDegeneration": {"factor": st.floats(0, 1)},
    "RandomPosterization": {"factor": st.integers(1, 8)},
}
_IMAGE_OPTIONAL: dict[str, dict[str, st.SearchStrategy[Any]]] = {
    "Resizing": {
        "interpolation": st.sampled_from(["nearest", "bilinear", "bicubic", "area"]),
        "crop_to_aspect_ratio": st.booleans(),
    },
    "RandomFlip": {"mode": st.sampled_from(["horizontal", "vertical", "horizontal_and_vertical"])},
    "RandomZoom": {"width_factor": _FACTOR},
    "RandomShear": {"x_factor": st.floats(0, 1), "y_factor": st.floats(0, 1)},
    "RandomColorJitter": {"brightness_factor": _FACTOR, "hue_factor": st.floats(0, 1)},
    "RandomGrayscale": {"factor": st.floats(0, 1)},
    "Solarization": {"addition_factor": st.floats(0, 1), "threshold_factor": st.floats(0, 1)},
    "RandAugment": {"num_ops": st.integers(1, 3)},
    "RandomErasing": {"factor": st.floats(0, 1)},
    "RandomGaussianBlur": {"kernel_size": st.integers(1, 5)},
}


@in_models
@given(st.sampled_from(_kinds("augmentation") + _kinds("image_size")), st.data())
def test_image_layers(kind, data):
    """Preprocessing and augmentation at inference, on a batch of images (height, width, channels)."""
    args = {k: data.draw(s) for k, s in _IMAGE_REQUIRED.get(kind, {}).items()}
    for k, s in _IMAGE_OPTIONAL.get(kind, {}).items():
        if data.draw(st.booleans()):
            args[k] = data.draw(s)
    shape = data.draw(st.tuples(st.integers(1, 12), st.integers(1, 12), st.sampled_from([1, 3, 3, 4])))
    check_in_model(*formatted(kind, args, shape, data.draw(st.booleans())))


def test_image_layers_take_batches_of_images():
    """Deliberately stricter than Keras, which reads a rank-3 input as one image without a batch (Resizing
    on (None, 8, 8) gives (5, 6, 8)): zoo's image layers take (height, width, channels)."""
    for kind in ("Resizing", "RandomFlip"):
        args = {"height": 5, "width": 6} if kind == "Resizing" else {}
        assert formula_answer(kind, args, (8, 8)) is None
        assert formula_answer(kind, args, (4, 8, 8, 3)) is None
    assert keras_model_answer("Resizing", {"height": 5, "width": 6}, [(8, 8)])[0] == (5, 6, 8)


def dot_formula(args: dict[str, Any], shapes: list[tuple[int, ...]]):
    from zoo.arith import engine

    spec = zoo.Spec.from_dict(
        {
            "name": "prop",
            "description": "property test",
            "input": list(shapes[0]),
            "layers": [{"Dot": {**args, "inputs": ["input"] * len(shapes)}}],
        }
    )
    try:
        step = engine.layer_step(spec, spec.layers[0], shapes, keras_versions.parse(running_keras()))
    except zoo.SpecError:
        return None
    return (None, *step.shape), step.params, step.params


@in_models
@given(st.data())
def test_dot(data):
    """Dot on two inputs of any ranks; Keras's answer is its layer run on ones (batch 2), whose shape
    compute_output_shape also gives where the run succeeds."""
    import numpy as np

    dims = st.lists(st.integers(1, 4), min_size=1, max_size=3)
    first = data.draw(dims)
    second = data.draw(st.one_of(dims, st.just(list(first))))
    axes = data.draw(
        st.one_of(st.integers(-4, 3), st.lists(st.integers(-4, 3), min_size=2, max_size=2)),
    )
    if isinstance(axes, list) and data.draw(st.booleans()):  # a pair that fits, often
        i, j = data.draw(st.integers(1, len(first))), data.draw(st.integers(1, len(second)))
        second[j - 1] = first[i - 1]
        axes = [i, j]
    shapes = [tuple(first), tuple(second)]
    args = {"axes": axes, "normalize": data.draw(st.booleans())}
    try:
        out = keras_layer("Dot", args)([np.ones((2, *s), "float32") for s in shapes])
        want = ((None, *out.shape[1:]), 0, 0)
        assert keras_model_answer("Dot", args, shapes) == want
    except Exception:  # noqa: BLE001 - any refusal by Keras counts
        want = None
    assert dot_formula(args, shapes) == want, f"Dot({args}) on {shapes}"


def test_dot_takes_two_inputs():
    assert dot_formula({"axes": 1}, [(3,), (3,), (3,)]) is None


def keras_aliases() -> dict[str, str]:
    """keras.layers' names that are the same class object as another name, with the class's own name."""
    import inspect

    import keras

    out = {}
    for name in dir(keras.layers):
        cls = getattr(keras.layers, name)
        if inspect.isclass(cls) and cls.__name__ != name and getattr(keras.layers, cls.__name__, None) is cls:
            out[name] = cls.__name__
    return out


def test_every_alias_keras_exports_for_a_catalogued_class_is_in_the_catalogue():
    found = {a: c for a, c in keras_aliases().items() if c in catalog.LAYERS}
    assert found == catalog.ALIASES


@pytest.mark.parametrize("alias", sorted(catalog.ALIASES))
def test_an_alias_builds_its_class(alias):
    """A spec may write the alias; the summary shows Keras's class and its automatic name."""
    of = catalog.ALIASES[alias]
    rank = catalog.LAYERS[of].rank
    args = {"filters": 2, "kernel_size": 1} if "filters" in catalog.LAYERS[of].args else {}
    if of.startswith("Average"):
        args["pool_size"] = 1
    shape = (4,) * rank + (3,)
    spec = one_layer(alias, args, shape)
    formula = arith.summarize(spec, keras=running_keras())
    assert formula.rows[0].type == of and formula.rows[0].name == catalog.snake_case(of)
    assert formula == zoo.summary(spec, engine="keras")


# Cases from Keras's own tests of these layers (keras/src/layers/**/*_test.py at v3.15.1), their
# expected shapes as those tests state them (batch axis None here); params where a test counts weights.
KERAS_TEST_CASES = [
    # merging/merging_test.py: dot_2d, dot_3d, test_dot_higher_dim
    ("Dot", {"axes": -1}, [(4,), (4,)], (None, 1)),
    ("Dot", {"axes": -1}, [(4, 5), (4, 5)], (None, 4, 4)),
    ("Dot", {"axes": [-2, -1]}, [(3, 2), (1, 2, 3)], (None, 2, 1, 2)),
    # pooling/adaptive_pooling2d_test.py: basic shapes, both formats
    (
        "AdaptiveAveragePooling2D",
        {"output_size": 4, "data_format": "channels_first"},
        [(3, 8, 8)],
        (None, 3, 4, 4),
    ),
    ("AdaptiveMaxPooling2D", {"output_size": 4}, [(8, 8, 3)], (None, 4, 4, 3)),
    # reshaping/repeat_vector_test.py: (2, 5) repeated 3 times
    ("RepeatVector", {"n": 3}, [(5,)], (None, 3, 5)),
    # normalization/group_normalization_test.py: groups 32 of 32 channels, 4 of 4
    ("GroupNormalization", {}, [(4, 32)], (None, 4, 32)),
    ("GroupNormalization", {"groups": 4}, [(4, 4)], (None, 4, 4)),
    # normalization/rms_normalization_test.py
    ("RMSNormalization", {}, [(2,)], (None, 2)),
    # activations/prelu_test.py: shared_axes given as one int
    ("PReLU", {"shared_axes": 1}, [(3, 4)], (None, 3, 4)),
    # preprocessing/image_preprocessing/resizing_test.py and center_crop_test.py
    ("Resizing", {"height": 6, "width": 6}, [(12, 12, 3)], (None, 6, 6, 3)),
    ("CenterCrop", {"height": 6, "width": 6}, [(12, 12, 3)], (None, 6, 6, 3)),
    (
        "CenterCrop",
        {"height": 7, "width": 7, "data_format": "channels_first"},
        [(3, 13, 13)],
        (None, 3, 7, 7),
    ),
]


@pytest.mark.parametrize(("kind", "args", "shapes", "want"), KERAS_TEST_CASES)
def test_keras_s_own_shape_cases(kind, args, shapes, want):
    introduced = keras_versions.introduced(kind)
    if introduced is not None and not introduced.is_new(keras_versions.parse(running_keras())):
        pytest.skip(f"{kind} is newer than this Keras ({introduced.ref})")
    got = dot_formula(args, shapes)[0] if kind == "Dot" else formula_answer(kind, args, shapes[0])[0]
    assert got == want
