"""Numeric fingerprints: what a model computes, pinned layer by layer.

Summary goldens pin shapes and parameter counts; a framework change that alters what a layer
computes (an interpolation default, a padding alignment, an epsilon) passes them. A fingerprint
pins the numbers: every layer's output on a fixed input (:func:`zoo.keras.seeding.fixed_input`)
with seeded weights, summarised by its shape, scale (max |x|), mean, standard deviation and a
few sampled values. Its golden format and comparison are :mod:`zoo.golden.fingerprints`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np

from zoo import arith
from zoo.keras import introspect, seeding
from zoo.keras.seeding import BATCH, fixed_input, generator
from zoo.specification.catalog import ref_of
from zoo.specification.errors import SpecError
from zoo.specification.model import Spec

SAMPLES = 6  # sampled values per layer, at flat indices drawn from the layer's own seed
# Fingerprints run every spec on each backend in the default test run: a model whose forward
# pass at its own size costs more than this many multiply-accumulates per item runs at a smaller
# input, recorded in the golden (the arithmetic is the same at any size).
MAX_MACS = 2_500_000_000


@dataclasses.dataclass(frozen=True)
class LayerPrint:
    """One layer's output, summarised."""

    name: str
    shape: tuple[int, ...]
    scale: float  # max |x|
    mean: float
    std: float
    at: tuple[int, ...]  # flat indices of the sampled values
    values: tuple[float, ...]

    def numbers(self) -> tuple[float, ...]:
        return (self.scale, self.mean, self.std, *self.values)


@dataclasses.dataclass(frozen=True)
class Fingerprint:
    spec: str
    input_shape: tuple[int, ...]  # including the batch
    layers: tuple[LayerPrint, ...]
    recorded_on: str = ""  # backend and Keras version; informative, not compared

    def layer(self, name: str) -> LayerPrint:
        for lp in self.layers:
            if lp.name == name:
                return lp
        raise KeyError(name)


def layer_print(spec: str, name: str, output: np.ndarray) -> LayerPrint:
    """A layer's output as a :class:`LayerPrint` (statistics in float64)."""
    x = np.asarray(output, dtype=np.float64)
    flat = x.reshape(-1)
    at = (
        tuple(sorted(int(i) for i in generator(spec, name, "samples").integers(0, flat.size, SAMPLES)))
        if flat.size
        else ()
    )
    return LayerPrint(
        name=name,
        shape=tuple(int(d) for d in x.shape),
        scale=float(np.max(np.abs(flat))) if flat.size else 0.0,
        mean=float(flat.mean()) if flat.size else 0.0,
        std=float(flat.std()) if flat.size else 0.0,
        at=at,
        values=tuple(float(flat[i]) for i in at),
    )


SEQUENCE = 32  # the length a sequence of open length is fingerprinted at (token ids, time steps)
SIZES = (512, 448, 384, 331, 299, 256, 240, 224, 192, 160, 128, 112, 96, 75, 64, 48, 32)


def closed_sequences(spec: Spec) -> Spec:
    """A spec of several inputs with each sequence of open length (``[null, 71]``, ``[null]``) at
    ``SEQUENCE`` steps; its layers are the same."""
    closed = tuple(
        (name, (SEQUENCE, *shape[1:]) if len(shape) <= 2 and shape[0] is None else shape)
        for name, shape in spec.named_inputs
    )
    return dataclasses.replace(spec, named_inputs=closed, input=closed[0][1]) if closed else spec


def input_shape_for(spec: Spec) -> tuple[int, ...]:
    """The input a spec's fingerprint runs at: its own, unless that is left open or costs more than
    ``MAX_MACS`` per item; then the largest square size in ``SIZES`` that is valid for it and within
    budget."""
    name = spec.name
    if spec.named_inputs:  # several inputs: each at its own shape, a sequence of open length at 32
        sized = closed_sequences(spec)
        if any(None in shape for _, shape in sized.named_inputs):
            raise SpecError(
                f"spec {name!r}: a fingerprint of several inputs needs every size given but a "
                "sequence's length"
            )
        if (arith.summarize(sized).macs or 0) > MAX_MACS:
            raise SpecError(
                f"spec {name!r}: more than {MAX_MACS:,} MACs per item; no smaller inputs are tried"
            )
        return tuple(int(d or 0) for d in sized.input)  # every size is given (checked above)
    known = tuple(d for d in spec.input if d is not None)
    if len(known) == len(spec.input) and (arith.summarize(spec).macs or 0) <= MAX_MACS:
        return known
    if len(spec.input) in (1, 2) and None not in spec.input[1:]:  # a sequence of open length
        candidate = (SEQUENCE, *spec.input[1:])
        try:
            if (arith.summarize(spec.remade(input_shape=candidate)).macs or 0) <= MAX_MACS:
                return tuple(int(d or 0) for d in candidate)
        except SpecError:
            pass
        raise SpecError(f"spec {name!r}: no fingerprint size for input {list(spec.input)}")
    if len(spec.input) != 3:
        raise SpecError(f"spec {name!r}: no fingerprint size for input {list(spec.input)}")
    rows, cols, channels = spec.input
    if channels is None:
        raise SpecError(f"spec {name!r}: no fingerprint size for input {list(spec.input)}")
    largest = max(rows, cols) if rows is not None and cols is not None else 225  # open: 224 and below
    for size in SIZES:
        if size >= largest:
            continue
        candidate = (size, size, channels)
        try:
            smaller = spec.remade(input_shape=candidate)
        except SpecError:
            continue
        if (arith.summarize(smaller).macs or 0) <= MAX_MACS:
            return candidate
    raise SpecError(f"spec {name!r}: no input size in {SIZES} is both valid and within {MAX_MACS:,} MACs")


def backend_label() -> str:
    """The frameworks a fingerprint is taken with: ``tensorflow 2.21.0, keras 3.15.1``."""
    return introspect.frameworks()


def full_precision() -> None:
    """Turn off reduced-precision float32 (TF32) matrix multiplies and convolutions on GPUs."""
    import keras

    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        tf.config.experimental.enable_tensor_float_32_execution(False)
    elif keras.backend.backend() == "jax":
        import jax

        jax.config.update("jax_default_matmul_precision", "highest")
    elif keras.backend.backend() == "torch":
        import torch

        torch.backends.cuda.matmul.allow_tf32 = False
        torch.backends.cudnn.allow_tf32 = False


def of_model(model: Any, spec: str, input_shape: Sequence[int]) -> Fingerprint:
    """The fingerprint of a built (seeded) model on the spec's fixed input."""
    import keras

    full_precision()
    x = inputs_for(model, spec, input_shape)
    named = introspect.layer_outputs(model)
    probe = keras.Model(model.inputs if len(model.inputs) > 1 else model.inputs[0], [out for _, out in named])
    outputs = probe(x, training=False)
    if not isinstance(outputs, (list, tuple)):
        outputs = [outputs]
    layers = tuple(
        layer_print(spec, name, keras.ops.convert_to_numpy(out))
        for (name, _), out in zip(named, outputs, strict=True)
    )
    return Fingerprint(spec, (BATCH, *tuple(int(d) for d in input_shape)), layers, backend_label())


# the layers that read their input as token ids (integers in [0, input_dim)), not as numbers
TOKEN_LAYERS = ("Embedding", "ReversibleEmbedding")


def vocabulary_of(model: Any, tensor: Any) -> int | None:
    """The smallest input_dim of the embeddings that take ``tensor`` (a model input) directly, or None."""
    name = tensor._keras_history[0].name
    sizes = [
        int(layer.input_dim)
        for layer in model.layers
        if type(layer).__name__ in TOKEN_LAYERS and name in introspect.connected_to(layer, model)
    ]
    return min(sizes) if sizes else None


def inputs_for(model: Any, spec: str, input_shape: Sequence[int]) -> Any:
    """The fixed input of each of the model's inputs: the first drawn as ever (:func:`fixed_input`),
    any other from its own name as well; one array for one input, a list for several. An input an
    Embedding takes holds token ids instead: integers below its input_dim, drawn from the same
    generator (a standard normal one would hold negative ids, which TensorFlow refuses)."""
    vocabulary = vocabulary_of(model, model.inputs[0])
    if vocabulary is not None:
        first = (
            generator(spec, "input")
            .integers(0, vocabulary, size=(BATCH, *(int(d) for d in input_shape)))
            .astype(np.float32)
        )
    else:
        first = fixed_input(spec, input_shape)
    if len(model.inputs) == 1:
        return first
    others = [
        generator(spec, "input", t._keras_history[0].name)
        .standard_normal(size=(BATCH, *(int(d) for d in t.shape[1:])))
        .astype(np.float32)
        for t in model.inputs[1:]
    ]
    return [first, *others]


def streamed(model: Any, spec: str, input_shape: Sequence[int]) -> Fingerprint:
    """The fingerprint of a model built without weight values (:func:`zoo.keras.builder.architecture`),
    computed layer by layer: each layer's seeded weights exist only while it runs, so the memory is
    that of the largest layer, not the model's (ConvNeXtXLarge's 1.4 GB of weights never exist at
    once). The numbers are those of :func:`of_model` on the seeded model: the same operations on the
    same values, in Keras's own graph order."""
    import keras

    full_precision()
    given = inputs_for(model, spec, input_shape)
    x = (
        [keras.ops.convert_to_tensor(a) for a in given]
        if isinstance(given, list)
        else keras.ops.convert_to_tensor(given)
    )
    top = {id(layer): layer.name for layer in model.layers if type(layer).__name__ != "InputLayer"}
    prints: dict[str, list[LayerPrint]] = {}

    def run(operation: Any, path: str, args: Any, kwargs: dict[str, Any]) -> Any:
        if seeding.is_nested(operation):
            out = walk(operation, args[0], f"{path}/")
        else:
            if getattr(operation, "_call_has_training_arg", False):
                kwargs = {**kwargs, "training": False}
            values = seeding.layer_values(operation, path, spec) if hasattr(operation, "weights") else []
            # initialize_variables=False: leaving a stateless scope otherwise initialises every
            # deferred variable of the model, all of its weights at once
            with keras.StatelessScope(state_mapping=values, initialize_variables=False):
                if callable(getattr(operation, "finalize_state", None)):
                    operation.finalize_state()  # Normalization's constants, from the seeded statistics
                out = operation(*args, **kwargs)
        if id(operation) in top:  # a row of the summary: the model's own layers, a nested base one row
            each = list(out) if isinstance(out, (list, tuple)) else [out]  # an LSTM's states too
            prints[operation.name] = [
                layer_print(spec, ref_of(operation.name, k), keras.ops.convert_to_numpy(o))
                for k, o in enumerate(each)
            ]
        return out

    def walk(nested: Any, inputs: Any, prefix: str) -> Any:
        if isinstance(nested, keras.Sequential):  # its layers one after another, as Sequential.call
            for layer in nested.layers:
                inputs = run(layer, f"{prefix}{layer.name}", (inputs,), {})
            return inputs
        return introspect.run_graph(nested, inputs, lambda op, *a, **k: run(op, f"{prefix}{op.name}", a, k))

    walk(model, x, "")
    layers = tuple(p for name in top.values() for p in prints[name])
    return Fingerprint(spec, (BATCH, *tuple(int(d) for d in input_shape)), layers, backend_label())


def take(spec: Spec) -> Fingerprint:
    """The fingerprint of a spec: its seeded weights at :func:`input_shape_for`, layer by layer."""
    from zoo.keras import builder

    spec = spec.with_weights(None)  # seeded weights everywhere, a pretrained base's included
    shape = input_shape_for(spec)
    if spec.named_inputs:
        sized = closed_sequences(spec)
    else:
        sized = spec if shape == tuple(spec.input) else spec.remade(input_shape=shape)
    return streamed(builder.architecture(sized), spec.name, shape)
