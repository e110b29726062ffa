"""Run a tutorial cell from its spec: build, compile, make the dummy data, fit, predict.

Deterministic: ``seed`` fixes the initial weights (``keras.utils.set_random_seed``),
the dummy data (NumPy's generator), the shuffling and the dropout masks; TensorFlow's
op determinism is switched on, so two processes with the same seed on the same
machine give identical weights, history and predictions.

Frozen-base fast path: when the model starts with frozen layers (a pretrained
base) and nothing before the trainable part is trainable or random at training
time, every epoch of the tutorial's ``fit`` pushes the same inputs through the
same frozen function. Computing the base's outputs once and training the head on
them is the same computation, minus the repeats. ``run`` does that by itself and
returns the full model (base + trained head); elsewhere it fits plainly and says why.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, cast

from zoo import arith
from zoo.arith.summary import Shape, format_shape, several_outputs
from zoo.keras import builder, introspect
from zoo.specification.catalog import MODEL_INPUT
from zoo.specification.errors import SpecError
from zoo.specification.model import Layer, Spec

log = logging.getLogger("zoo")

# Layers whose output is random while training: nothing before a base may be one.
RANDOM_IN_TRAINING = frozenset({"Dropout"})
MAX_DATA_BYTES = 2 * 2**30  # the dummy data must fit comfortably in memory


@dataclass
class RunResult:
    """What a tutorial cell leaves behind: the trained model, its history, its predictions."""

    model: Any  # keras.Model, base + head
    history: dict[str, list[float]]  # Keras's History.history
    predictions: Any  # numpy array, one row per sample
    fast_path: bool = False
    notes: list[str] = field(default_factory=list)  # what run decided, and why
    # seconds spent: "build", "fit" (with the fast path: the base's outputs plus the
    # head's training, i.e. what the tutorial's fit call does) and "predict"
    seconds: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Plan:
    """How to fit: the frozen prefix to compute once (``prefix`` layers), or why not.

    A fine-tuned base (``trainable_from``) that takes the model's input is cut inside:
    ``base`` is that layer and ``cut`` the last layer of its frozen part, whose outputs
    are computed once; the base's trainable part joins the head.
    """

    prefix: tuple[Layer, ...]
    reason: str
    base: Layer | None = None
    cut: str | None = None

    @property
    def fast(self) -> bool:
        return bool(self.prefix) or self.cut is not None


def plan(spec: Spec) -> Plan:
    """Decide from the spec alone (no Keras) whether the frozen-base fast path is exact.

    The prefix is the longest run of leading layers that are frozen or have no
    parameters, none random at training time; it must hold a frozen layer with
    parameters (the base). Parameter-free layers right after the base (the
    GlobalAveragePooling2D after VGG16) belong to it, so the cached features are small.
    A frozen BatchNormalization runs in inference mode in Keras 3, so it is deterministic.
    """
    if not spec.is_chain:
        return Plan((), "the model is a graph; the fast path handles chains of layers only")
    prefix: list[Layer] = []
    has_base = False
    for layer, shapes, step in arith.steps(spec):
        frozen = not layer.resolved()["trainable"]
        if layer.kind in RANDOM_IN_TRAINING or (step.params and not frozen):
            break
        random_inside = _random_inside(layer, shapes[0])
        if random_inside:
            return Plan(
                (),
                f"the frozen base {layer.name} has layers that are random while training "
                f"({', '.join(random_inside[:3])}{', ...' if len(random_inside) > 3 else ''}: "
                "Keras's `trainable = False` does not stop a Dropout), so its outputs differ "
                "from one epoch to the next and cannot be computed once",
            )
        prefix.append(layer)
        has_base = has_base or bool(step.params)
    stop = spec.layers[len(prefix)] if len(prefix) < len(spec.layers) else None
    if stop is not None and stop.args.get("trainable_from"):
        return _cut_plan(spec, prefix, stop)
    if not has_base:
        head = spec.layers[len(prefix)].name if len(prefix) < len(spec.layers) else None
        return Plan(
            (),
            f"no frozen layer with parameters comes before {head}"
            if head
            else "the model has no frozen layer with parameters",
        )
    if len(prefix) == len(spec.layers):
        return Plan((), "every layer is frozen: there is nothing to train")
    return Plan(
        tuple(prefix),
        f"the frozen prefix ends at {prefix[-1].name}; the head starts at {spec.layers[len(prefix)].name}",
    )


def _cut_plan(spec: Spec, prefix: list[Layer], base_layer: Layer) -> Plan:
    """Where a fine-tuned base can be cut: one frozen layer must feed all of its trainable part."""
    name, start = base_layer.name, base_layer.args["trainable_from"]
    if prefix:
        return Plan(
            (),
            f"{name} is fine-tuned from {start} on, but only a base that takes the model's "
            "input is cut inside; plain fit",
        )
    base = base_layer.base(spec.input)
    names = [layer.name for layer in base.layers]
    trained = set(names[names.index(start) :])
    feeding = {ref for layer in base.layers if layer.name in trained for ref in layer.inputs} - trained
    frozen = base.layers[: names.index(start)]
    random = [
        layer.name for layer in frozen if layer.kind in RANDOM_IN_TRAINING and layer.args.get("rate", 0) > 0
    ]
    if len(feeding) != 1 or feeding == {MODEL_INPUT} or random:
        why = (
            f"its frozen part has layers random while training ({', '.join(random[:3])})"
            if random
            else f"its trainable part takes {', '.join(sorted(feeding))}, not one frozen layer"
        )
        return Plan((), f"{name} is fine-tuned from {start} on and cannot be cut there: {why}; plain fit")
    [cut] = feeding
    return Plan(
        (),
        f"{name} is fine-tuned from {start} on: it is cut at {cut}, whose outputs are computed "
        f"once; its layers from {start} on train with the head",
        base=base_layer,
        cut=cut,
    )


def _random_inside(layer: Layer, input_shape: tuple[Any, ...]) -> list[str]:
    """The layers of a pretrained base that are random at training time (EfficientNet's
    stochastic-depth Dropout), read from the base's family file."""
    if layer.catalog.rule != "application":
        return []
    base = layer.base([d if isinstance(d, int) else None for d in input_shape])
    return [
        inner.name
        for inner in base.layers
        if inner.kind in RANDOM_IN_TRAINING and inner.args.get("rate", 0) > 0
    ]


def dummy_data(spec: Spec, samples: int, seed: int) -> tuple[Any, Any]:
    """The tutorial's dummy data: inputs uniform in [0, 1), integer labels in [0, classes).

    With ``labels: per_pixel`` (segmentation) there is a label per output position.
    """
    import numpy as np

    if spec.named_inputs or spec.outputs:
        raise SpecError(
            f"spec {spec.name!r} has {len(spec.inputs)} inputs and {len(spec.output_names)} outputs; "
            "zoo.run makes the tutorial's dummy data for one input and one output",
            file=spec.origin.label,
        )
    data = spec.data or {}
    if "classes" not in data:
        raise SpecError(
            f"spec {spec.name!r} has no data: section with classes; zoo.run needs it", file=spec.origin.label
        )
    if None in spec.input:
        raise SpecError(
            f"spec {spec.name!r} leaves its input size open {list(spec.input)}; zoo.run needs "
            "one: pass input_shape=...",
            file=spec.origin.label,
        )
    size = samples * math.prod(d for d in spec.input if d is not None) * 4
    if size > MAX_DATA_BYTES:
        raise SpecError(
            f"dummy data of {samples} samples of {spec.input} would take "
            f"{size / 2**30:.1f} GiB; use fewer samples",
            file=spec.origin.label,
        )
    output = arith.summarize(spec).rows[-1].output_shape
    if several_outputs(output):
        raise SpecError(
            f"zoo.run trains a model of one output; its last layer gives {len(output)} "
            f"({format_shape(output)})",
            file=spec.origin.label,
        )
    output = cast(Shape, output)
    _check_labels(spec, output)
    rng = np.random.default_rng(seed)
    x = rng.random((samples, *(int(d or 0) for d in spec.input)), dtype=np.float32)  # no open size here
    if data.get("labels") == "per_pixel":
        grid = [int(n or 0) for n in output[1:-1]]
        y = rng.integers(0, data["classes"], size=(samples, *grid))
    else:
        y = rng.integers(0, data["classes"], size=(samples, 1))
    if (spec.compile or {}).get("loss") == "categorical_crossentropy":  # it wants one-hot labels
        one_hot = np.eye(data["classes"], dtype=np.float32)[y[..., 0] if y.shape[-1:] == (1,) else y]
        return x, one_hot
    return x, y


def _check_labels(spec: Spec, output: tuple[int | None, ...]) -> None:
    """Labels the loss cannot take would fail deep inside TensorFlow's fit; say so here instead."""
    data, loss = spec.data or {}, (spec.compile or {}).get("loss")
    classes, units = data["classes"], output[-1]
    if loss in ("sparse_categorical_crossentropy", "categorical_crossentropy") and units != classes:
        raise spec.origin.error(
            ("data", "classes"),
            f"{loss} needs one output unit per class, but the model's output {output} has {units}",
            received={"classes": classes},
            valid=str(units),
        )
    if loss in ("binary_crossentropy", "binary_focal_crossentropy") and classes != 2:
        raise spec.origin.error(
            ("data", "classes"), f"{loss} takes labels 0 and 1", received={"classes": classes}, valid="2"
        )


def run(
    spec: Spec,
    *,
    seed: int = 0,
    epochs: int | None = None,
    samples: int | None = None,
    batch_size: int | None = None,
    verbose: Any = "auto",
    strategy: Any = None,
    fast_path: bool = True,
    seeded: bool = False,
) -> RunResult:
    """Build, compile, fit on dummy data and predict, as the spec's tutorial cell does."""
    for section in ("compile", "data", "fit"):
        if getattr(spec, section) is None:
            raise SpecError(
                f"spec {spec.name!r} has no {section}: section; zoo.run needs compile, data and fit",
                file=spec.origin.label,
            )
    fit = dict(spec.fit or {})
    epochs = epochs if epochs is not None else fit.get("epochs", 10)
    batch_size = batch_size if batch_size is not None else fit.get("batch_size", 32)
    samples = samples if samples is not None else (spec.data or {}).get("samples", 100)
    chosen = plan(spec) if fast_path else Plan((), "the fast path was turned off")
    notes = []

    keras = builder.import_keras()
    keras.utils.set_random_seed(seed)
    if keras.backend.backend() == "tensorflow":  # JAX is deterministic on the CPU as it is
        import tensorflow as tf

        tf.config.experimental.enable_op_determinism()
    x, y = dummy_data(spec, samples, seed)
    clock = _Clock()
    scope = strategy.scope() if strategy is not None else contextlib.nullcontext()
    with scope:
        model = builder.build(spec, compile=True, seeded=seeded)
        clock.lap("build")
        if chosen.fast:
            notes.append(
                f"frozen-base fast path: {chosen.reason}; the frozen outputs are computed once "
                f"for {samples} samples and the head trains on them"
            )
            head, features = _split(keras, model, spec, chosen, x, batch_size)
            builder.compile_model(head, spec)
        else:
            notes.append(f"plain fit: {chosen.reason}")
    for note in notes:
        log.info("%s: %s", spec.name, note)
    trained, inputs = (head, features) if chosen.fast else (model, x)
    history = trained.fit(inputs, y, epochs=epochs, batch_size=batch_size, verbose=verbose)
    clock.lap("fit")
    predictions = trained.predict(inputs, batch_size=batch_size, verbose=0)
    clock.lap("predict")
    return RunResult(model, dict(history.history), predictions, chosen.fast, notes, clock.laps)


def _split(keras: Any, model: Any, spec: Spec, chosen: Plan, x: Any, batch_size: int) -> tuple[Any, Any]:
    """The head as a model of its own (sharing the full model's layers) and the frozen part's outputs."""
    if chosen.cut is not None and chosen.base is not None:  # a fine-tuned base, cut inside
        base = model.get_layer(chosen.base.name)
        inner = base.get_layer(chosen.cut).output
        features = keras.Model(_one(base.inputs), inner).predict(x, batch_size=batch_size, verbose=0)
        head_in = keras.Input(shape=features.shape[1:], name="features")
        h = keras.Model(inner, base.output, name=f"{base.name}_trained_part")(head_in)  # shares base's layers
        rest = spec.layers[1:]
    else:
        last = introspect.outer_output(model.get_layer(chosen.prefix[-1].name))
        features = keras.Model(_one(model.inputs), last).predict(x, batch_size=batch_size, verbose=0)
        head_in = keras.Input(shape=features.shape[1:], name="features")
        h = head_in
        rest = spec.layers[len(chosen.prefix) :]
    for layer in rest:
        h = model.get_layer(layer.name)(h)
    return keras.Model(head_in, h, name=f"{spec.name}_head"), features


def _one(inputs: list[Any]) -> Any:
    """A model's single input as a tensor, not a list of one: the model it makes is then called with
    a bare tensor the way it was made, which Keras before 3.10 warns about otherwise
    (keras_versions 'functional-single-input-structure-warning')."""
    return inputs[0] if len(inputs) == 1 else inputs


class _Clock:
    def __init__(self) -> None:
        import time

        self._now = time.perf_counter
        self._last = self._now()
        self.laps: dict[str, float] = {}

    def lap(self, name: str) -> None:
        now = self._now()
        self.laps[name] = self.laps.get(name, 0.0) + now - self._last
        self._last = now


def data_parallel(devices: int) -> Any:
    """Data parallelism over ``devices`` devices, by the backend's own means: a TensorFlow
    ``MirroredStrategy``, or Keras's ``keras.distribution.DataParallel`` under JAX. Both have a
    ``scope()`` that zoo.build and zoo.run enter; GPUs where there are enough, else as many
    logical CPUs. Call it before anything else starts the backend."""
    if devices < 1:
        raise SpecError(f"devices must be >= 1. Received: devices={devices}")
    keras = builder.import_keras()
    backend = keras.backend.backend()
    if backend == "tensorflow":
        return mirrored_strategy(devices)
    if backend == "jax":
        return jax_data_parallel(devices)
    raise SpecError(f"--devices needs the tensorflow or jax backend. Received: KERAS_BACKEND={backend}")


def jax_data_parallel(devices: int) -> Any:
    """``keras.distribution.DataParallel`` over ``devices`` JAX devices (GPUs, else logical CPUs)."""
    import jax

    keras = builder.import_keras()
    try:
        accelerators = [d for d in jax.devices() if d.platform != "cpu"]
    except RuntimeError:
        accelerators = []
    if len(accelerators) >= devices:
        chosen = accelerators[:devices]
    else:
        cpus = jax.devices("cpu")
        if len(cpus) < devices:
            raise SpecError(
                f"JAX has {len(cpus)} CPU device(s), fewer than {devices}: start the process with "
                f"XLA_FLAGS=--xla_force_host_platform_device_count={devices} (jax reads it once, "
                "when it starts)"
            )
        chosen = cpus[:devices]
    return keras.distribution.DataParallel(devices=chosen)


def split_cpu_for_jax(devices: int) -> None:
    """Ask JAX for ``devices`` logical CPU devices; only effective before JAX starts its backend."""
    flag = f"--xla_force_host_platform_device_count={devices}"
    flags = os.environ.get("XLA_FLAGS", "")
    if "xla_force_host_platform_device_count" not in flags:
        os.environ["XLA_FLAGS"] = f"{flags} {flag}".strip()


def mirrored_strategy(devices: int) -> Any:
    """A MirroredStrategy over ``devices`` GPUs, or over as many logical CPUs where there are none.

    Splitting the CPU must happen before TensorFlow starts its runtime, so call this early.
    """
    if devices < 1:
        raise SpecError(f"devices must be >= 1. Received: devices={devices}")
    builder.import_keras()
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if len(gpus) >= devices:
        names: Sequence[str] = [f"/gpu:{i}" for i in range(devices)]
    else:
        cpu = tf.config.list_physical_devices("CPU")[0]
        config = tf.config.get_logical_device_configuration(cpu) or []
        if len(config) < devices:
            try:
                tf.config.set_logical_device_configuration(
                    cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(devices)]
                )
            except RuntimeError:
                raise SpecError(
                    f"cannot split the CPU into {devices} logical devices: TensorFlow has already "
                    f"started with {max(len(config), 1)}; ask for the strategy before anything "
                    "else uses TensorFlow"
                ) from None
        names = [f"/cpu:{i}" for i in range(devices)]
    return tf.distribute.MirroredStrategy(list(names))
