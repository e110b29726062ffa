"""Spec -> ``keras.Model``. The only module besides ``run`` that imports Keras, and lazily.

A chain of layers builds a ``keras.Sequential`` started with ``keras.Input``, as the
tutorial's cells do, so ``model.layers`` and ``model.summary()`` show exactly the
tutorial's rows; a graph (or a spec that says ``model: functional``, as the
keras.applications architectures do) builds a functional ``keras.Model``.

Layer names are given explicitly (``conv2d``, ``conv2d_1``, ...: the names a fresh
Keras session would choose), so they do not depend on what was built before in
the process. Keras applies its own defaults: only the arguments a spec wrote are
passed, which lets the property tests catch a catalogue default drifting from Keras's.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from zoo import arith
from zoo.keras import weights
from zoo.specification import catalog, keras_versions
from zoo.specification.errors import SpecError
from zoo.specification.model import Layer, Spec


def import_keras() -> Any:
    """Import Keras quietly (TensorFlow's C++ start-up chatter is not for our users); where it is not
    installed, say so in one line and point at the formula engine, which needs no framework."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        import keras
    except ModuleNotFoundError as exc:
        raise SpecError(
            f"Keras is not installed here ({exc.name} is missing): building a model needs it (pip install "
            "keras tensorflow); the formula engine does not: zoo summary NAME --engine formula, "
            "zoo.summary(name, engine='formula')"
        ) from None
    return keras


def release() -> None:
    """Forget the models built so far (Keras's session and their memory): checking sixty specs one
    after the other must not hold all sixty."""
    import gc

    import_keras().utils.clear_session()
    gc.collect()


# A spec must not be able to exhaust memory, yet every keras.applications model must build:
# ConvNeXtXLarge, the largest, has 350 M parameters (1.3 GiB as float32).
MAX_PARAMS = 400_000_000


def after_tensor_history(keras: Any, spec: Spec, tensor: Any) -> Spec:
    """The spec with its automatic layer names continued after the layers ``tensor`` comes from.

    zoo names layers as a fresh Keras session would (``conv2d``, ``conv2d_1``, ...). Keras's
    counters continue after the layers already built for an ``input_tensor`` (a ``conv2d`` before
    InceptionV3 makes its first convolution ``conv2d_1``); so do zoo's, or the names would collide.
    """
    history = keras.Model(keras.utils.get_source_inputs(tensor), tensor, name="zoo_input_tensor_history")
    taken: dict[str, int] = {}
    for layer in history.layers:
        base = re.sub(r"_\d+$", "", layer.name)
        taken[base] = taken.get(base, 0) + 1
    renamed = {}
    for layer in spec.layers:
        match = re.fullmatch(r"(.*?)(?:_(\d+))?", layer.name)
        base, n = (match[1], int(match[2] or 0)) if match else (layer.name, 0)
        if base == catalog.default_name(layer.kind) and taken.get(base):
            renamed[layer.name] = f"{base}_{n + taken[base]}"
    if not renamed:
        return spec
    layers = tuple(
        dataclasses.replace(
            layer,
            name=renamed.get(layer.name, layer.name),
            inputs=tuple(renamed.get(i, i) for i in layer.inputs),
        )
        for layer in spec.layers
    )
    return dataclasses.replace(spec, layers=layers)


def tensor_shape(tensor: Any) -> tuple[int | None, ...]:
    """The shape (without the batch axis) of a Keras tensor given as ``input_tensor``."""
    keras = import_keras()
    if not isinstance(tensor, keras.KerasTensor):
        raise SpecError(
            "input_tensor must be a Keras tensor: keras.Input(...) or a layer's output. "
            f"Received: {type(tensor).__name__}"
        )
    return tuple(tensor.shape[1:])


def architecture(spec: Spec) -> Any:
    """The spec's model without weight values: its layers, shapes and parameter counts, what a summary
    reads, with nothing allocated (Keras defers the variables a stateless scope creates; here they are
    never initialised, so ConvNeXtXLarge costs no more memory than conv2d). A family's model has the
    architecture its weights give it; nothing is loaded. Only for reading: calling the model fails."""
    keras = import_keras()
    with keras.StatelessScope(initialize_variables=False):
        return build(spec, compile=False, load=False)


def build(
    spec: Spec, *, compile: bool = True, seeded: bool = False, input_tensor: Any = None, load: bool = True
) -> Any:
    """Build (and by default compile) the spec's model; geometry is checked before Keras runs.

    ``seeded``: fill every weight with zoo's seeded values (zoo.fingerprint) after building.
    ``load``: load a family's weights file (``False``: the architecture those weights give, with
    Keras's initial values; nothing is read or downloaded).
    ``input_tensor``: a Keras tensor the graph starts from, as keras.applications takes it (the
    model's inputs are then the inputs it comes from, and the layers between are the model's too).
    """
    computed = arith.steps(
        spec, keras_versions.installed()
    )  # a SpecError with the arithmetic, before Keras is touched
    planned = arith.summarize(spec, computed)
    if planned.total_params > MAX_PARAMS:
        biggest = max(planned.rows, key=lambda r: r.params)
        raise SpecError(
            f"the model would have {planned.total_params:,} parameters "
            f"({planned.total_params * 4 / 2**30:.1f} GiB as float32; {biggest.name} alone has "
            f"{biggest.params:,}), more than zoo will build ({MAX_PARAMS:,}); "
            "`zoo summary --engine formula` still computes its table",
            file=spec.origin.label,
        )
    keras = import_keras()
    if input_tensor is not None and spec.named_inputs:
        raise SpecError("input_tensor is for a model with one input", file=spec.origin.label)
    if input_tensor is not None:
        if tensor_shape(input_tensor) != tuple(spec.input):
            raise SpecError(
                f"input_tensor's shape {(None, *tensor_shape(input_tensor))} is not the spec's "
                f"input {(None, *spec.input)}",
                file=spec.origin.label,
            )
        if spec.model == "sequential":
            raise SpecError(
                "input_tensor needs a functional model; this spec builds a keras.Sequential "
                "(write model: functional to build it functionally)",
                file=spec.origin.label,
            )
        inputs = input_tensor
        named = after_tensor_history(keras, spec, input_tensor)
        if named is not spec:
            spec, computed = named, arith.steps(named, keras_versions.installed())
    else:
        inputs = keras.Input(shape=spec.input, name=spec.input_name, dtype=spec.input_dtype)
    if spec.model == "sequential":
        model = keras.Sequential([inputs], name=spec.name)
    outputs = {catalog.MODEL_INPUT: inputs}
    if spec.named_inputs:  # several inputs, each a keras.Input of its name
        outputs = {name: keras.Input(shape=shape, name=name) for name, shape in spec.named_inputs}
    made_layers: dict[str, Any] = {}
    for layer, shapes, _ in computed:
        try:
            if layer.kind == catalog.CALL:  # the same layer object again: its weights, shared
                made = made_layers[layer.args["layer"]]
            else:
                made = made_layers[layer.name] = make_layer(keras, layer, shapes[0])
            if spec.model == "sequential":  # as the tutorial's cells do: one layer after another
                model.add(made)
            else:
                outputs.update(outputs_of(layer, call(made, layer, [outputs[name] for name in layer.inputs])))
        except SpecError:
            raise
        except (ValueError, TypeError) as exc:  # a gap in the formula engine: never a raw Keras error
            raise spec.error(layer, f"Keras rejected this layer: {exc}") from exc
    if spec.model == "functional":
        # as keras.applications: the inputs an input_tensor comes from are the model's inputs
        sources = inputs
        if input_tensor is not None:
            sources = keras.utils.get_source_inputs(inputs)
            sources = sources[0] if spec.source_inputs == "first" else sources
        if spec.named_inputs:
            sources = [outputs[name] for name, _ in spec.named_inputs]
        ends = [outputs[name] for name in spec.output_names]
        model = keras.Model(sources, ends if spec.outputs else ends[0], name=spec.name)
    if (
        spec.weights is not None and not seeded and load
    ):  # a family's whole model: keras.applications' .h5 layout
        known = weights.WeightsFile.of_spec(spec) if spec.weights == "imagenet" else None  # a path needs none
        model.load_weights(weights.resolve(spec.weights, known))
    if seeded:
        from zoo.keras import seeding

        seeding.seed_model(model, spec.name)
    if compile and spec.compile:
        compile_model(model, spec)
    return model


def compile_model(model: Any, spec: Spec) -> None:
    """Compile per the spec's ``compile:`` (optimizer, loss and metrics, by Keras's names)."""
    c = spec.compile or {}
    model.compile(optimizer=c["optimizer"], loss=c["loss"], metrics=list(c.get("metrics", ())))


def layer_class(keras: Any, kind: catalog.LayerKind) -> Any:
    """Keras's class for a catalogue entry: from keras.layers, or the keras.applications module
    that defines it (ConvNeXt's LayerScale and StochasticDepth, InceptionResNetV2's CustomScaleLayer)."""
    if kind.module == "keras.layers":
        return getattr(keras.layers, kind.class_name)
    import importlib

    return getattr(importlib.import_module(kind.module), kind.class_name)


def call(made: Any, layer: Layer, taken: list[Any]) -> Any:
    """A graph's layer (at the top or in a nested functional model) on the tensors it takes:
    attention on (query, value[, key]), an operation on them (``ops.add(x, y)``, or ``ops.add(x,
    3.0)`` with its operand), a merge on their list, any other layer on its one input."""
    if layer.kind in catalog.POSITIONAL:
        return made(*taken)
    if layer.kind in catalog.OPS:
        operand = layer.args.get("operand")
        return made(*taken) if operand is None else made(taken[0], operand)
    if layer.states and len(taken) > 1:  # a recurrent layer's sequence, then its initial states
        return made(taken[0], initial_state=list(taken[1:]))
    several = layer.kind in catalog.MERGES or len(taken) > 1
    return made(taken if several else taken[0])


def outputs_of(layer: Layer, made: Any) -> dict[str, Any]:
    """What each reference to the layer's outputs (``name``, ``name:k``) finds among ``made``, the
    tensor or tensors its call gave."""
    return catalog.by_ref(layer.name, list(made) if isinstance(made, (list, tuple)) else [made])


def functional_group(keras: Any, layer: Layer, input_shape: Sequence[Any], args: Mapping[str, Any]) -> Any:
    """A nested functional model: ``keras.Input`` of the shape it is given (batch left out), its layers
    called on the tensors they take, ``keras.Model`` from the input to its ``output``."""
    start = keras.Input(
        shape=tuple(input_shape), **({"name": args["input_name"]} if args.get("input_name") else {})
    )
    tensors = {catalog.MODEL_INPUT: start}
    for inner in args["layers"]:
        made = call(make_layer(keras, inner, ()), inner, [tensors[n] for n in inner.inputs])
        tensors.update(outputs_of(inner, made))
    return keras.Model(start, tensors[args.get("output") or args["layers"][-1].name], name=layer.name)


@contextlib.contextmanager
def image_data_format(keras: Any, data_format: str) -> Iterator[None]:
    """Keras's global image data format set to ``data_format`` for the duration (keras.applications'
    constructors read it), and restored after."""
    previous = keras.config.image_data_format()
    keras.config.set_image_data_format(data_format)
    try:
        yield
    finally:
        keras.config.set_image_data_format(previous)


def make_layer(keras: Any, layer: Layer, input_shape: tuple[int, ...]) -> Any:
    """The Keras layer (or nested application model) for one spec layer."""
    args = {
        k: v
        for k, v in layer.keras_args.items()
        if not (k in catalog.NEWER_ARGUMENTS and v == catalog.NEWER_ARGUMENTS[k])
    }
    if "data_format" in layer.catalog.args:  # never Keras's global default: the spec's, always
        args["data_format"] = layer.resolved()["data_format"]
    trainable = layer.args.get("trainable", True)
    for key in catalog.held_keys(layer.kind):  # the layer (or cells) it holds, made first
        held = args.get(key)
        if held is not None:
            args[key] = (
                [make_layer(keras, x, ()) for x in held]
                if isinstance(held, tuple)
                else make_layer(keras, held, ())
            )
    if layer.catalog.rule == "application":  # keras.applications' own model, as the tutorial builds it
        resolved = layer.resolved()
        base = layer.base(input_shape)
        known = weights.WeightsFile.of_spec(base) if resolved["weights"] == "imagenet" else None
        with image_data_format(keras, resolved["data_format"]):  # keras.applications reads the config
            made = getattr(keras.applications, layer.kind)(
                include_top=False,
                weights=weights.resolve(resolved["weights"], known),
                input_shape=input_shape,
                pooling=args.get("pooling"),
            )
        # Built under Keras's own name, then named: EfficientNetV2's function looks its block table up by
        # `name` and cannot build another (tests/test_transfer.py checks that Keras still cannot)
        made.name = layer.name
        # The base's own flag first: setting a model's `trainable` sets every layer inside it.
        made.trainable = trainable
        trains = base.fine_tuned(resolved["trainable_from"])
        if trains is not None:
            for inner in made.layers:
                inner.trainable = inner.name in trains
        return made
    elif layer.kind == "Sequential":  # built from its own layers; Keras builds it on its first call
        made = keras.Sequential([make_layer(keras, inner, ()) for inner in args["layers"]], name=layer.name)
    elif layer.kind == "Functional":  # keras.Model over its own input, as a user's encoder is built
        made = functional_group(keras, layer, input_shape, args)
    elif layer.kind in catalog.OPS:  # an operation, not a layer: nothing to train
        return layer_class(keras, layer.catalog)(name=layer.name)
    elif layer.kind == catalog.OPAQUE:  # a keras.layers class zoo does not know, from its config
        found = getattr(keras.layers, args["class_name"], None)
        if not (isinstance(found, type) and issubclass(found, keras.layers.Layer)):
            raise SpecError(f"{layer.name}: keras.layers has no layer class {args['class_name']!r}")
        try:
            cls: Any = found
            made = cls.from_config({**(args.get("config") or {}), "name": layer.name})
        except (TypeError, ValueError) as exc:
            raise SpecError(
                f"{layer.name}: Keras refused the configuration of {args['class_name']}: {exc}"
            ) from None
        made.trainable = trainable
        return made
    else:
        made = layer_class(keras, layer.catalog)(name=layer.name, **args)
    made.trainable = trainable
    return made
