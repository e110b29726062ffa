"""Seeded weights and numeric fingerprints: pin what a model computes, on any Keras backend.

Summary goldens pin shapes and parameter counts; a framework change that alters what a layer
computes (an interpolation default, a padding alignment, an epsilon) passes them. A fingerprint
pins the numbers: every layer's output on a fixed input, with weights that do not depend on
Keras, summarised by its shape, scale (max |x|), mean, standard deviation and a few sampled
values.

**Seeded weights** come from numpy alone. Each weight has its own generator, seeded from the
spec's name, the layer's path and the weight's name (:func:`seed_for`), so the values are the
same in every process, on every backend and Keras version, and do not depend on the order in
which Keras creates variables. Kernels are normal with variance 1/fan-in; biases, betas and
means are small (normal, std 0.1); variances lie in [0.5, 1.5], so BatchNormalization's moving
variance is positive; normalisation scales (gamma) lie in [0.25, 0.75], which keeps activations
of order one through deep residual models (see ``_VARIANCES``). A weight Keras creates without a
name (ConvNeXt's LayerScale) is known by its position in its layer.

**Comparison.** A value ``got`` matches its golden when ``|got - golden| <= tol * scale``, where
``scale`` is the golden layer's max |x|: per layer, relative to the layer's own magnitude (an
element-wise relative tolerance fails on values near zero). ``TOLERANCE`` is chosen from measured
noise (see its comment). The report names the first layer that diverges: a change at one layer is
far larger there than downstream, where it may be averaged away.

This module's arithmetic imports numpy only; Keras is imported by the functions that take a
model.
"""

from __future__ import annotations

import dataclasses
import hashlib
import math
import re
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

from zoo.keras import introspect

# The seeding scheme's version: part of every seed, recorded in every golden. Change it only
# together with every fingerprint golden.
SCHEME = "zoo-seeded-v1"

# |got - golden| <= TOLERANCE * the golden layer's max |x|. Measured with tools/fingerprint_noise.py:
# the same seeded weights on TensorFlow and JAX (CPU, float32) differ, over every layer of all 60
# specs, by at most 1.5e-5 of a layer's scale, in EfficientNet's squeeze-and-excitation means (a mean
# of thousands of values of both signs is smaller than they are, so its rounding is larger relative
# to it); every other layer stays below 2e-6, ResNet152's 516 included. 3e-4 leaves a 20x margin,
# and is still 20x below what a small real change moves (one BatchNormalization epsilon from 1e-3 to
# 1e-2 moves its layer by 7e-3 of its scale; a bilinear instead of nearest UpSampling2D by 0.28).
TOLERANCE = 3e-4

BATCH = 2  # two items: a layer that mixes the batch (it should not) shows it
SAMPLES = 6  # sampled values per layer, at flat indices drawn from the layer's own seed
# Fingerprints run every spec on each backend in the default test run: a model whose forward
# pass at its own size costs more than this many multiply-accumulates per item runs at a smaller
# input, recorded in the golden (the arithmetic is the same at any size).
MAX_MACS = 2_500_000_000


def seed_for(*parts: str) -> int:
    """A 64-bit seed from strings: sha256 of the scheme and the parts, independent of Python's hash."""
    digest = hashlib.sha256("\x1f".join((SCHEME, *parts)).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "little")


def generator(*parts: str) -> np.random.Generator:
    """numpy's PCG64 generator for these parts (its normal and uniform streams are stable)."""
    return np.random.Generator(np.random.PCG64(seed_for(*parts)))


# --- seeded values -----------------------------------------------------------------------------

_SMALL = ("bias", "beta", "moving_mean", "mean")  # offsets: normal, std 0.1
_VARIANCES = ("moving_variance", "variance")  # uniform in [0.5, 1.5]
# Normalisation scales (gamma): uniform in [0.25, 0.75]. With gamma about 1, an untrained
# BatchNormalization in inference mode does not normalise, and every residual block x + f(x)
# doubles the variance: ResNet152's activations reached 1.9e3 and EfficientNetV2-L's 6e2, where
# its squeeze-and-excitation gates turned float32 rounding into differences of 8% between
# TensorFlow and JAX. Around 0.5, every spec's activations stay below about 10.


def fan_in(layer_class: str, weight: str, shape: Sequence[int]) -> int:
    """How many inputs feed one output through this kernel (its variance is 1/fan_in).

    Keras's kernel layouts: Conv and Dense ``(*kernel, in, out)``; transposed Conv
    ``(*kernel, out, in)``; depthwise ``(*kernel, in, multiplier)``, each output seeing one
    input channel; SeparableConv's ``depthwise_kernel`` likewise, its ``pointwise_kernel`` a 1x1 Conv.
    """
    shape = tuple(int(d) for d in shape)
    if len(shape) < 2:
        return 1
    window = math.prod(shape[:-2])
    if "Depthwise" in layer_class or weight == "depthwise_kernel":
        return max(window, 1)
    if "Transpose" in layer_class:
        return max(window * shape[-1], 1)
    return max(window * shape[-2], 1)


def seeded_values(
    spec: str, layer_path: str, layer_class: str, weight: str, shape: Sequence[int]
) -> np.ndarray:
    """The seeded float32 values of one weight."""
    rng = generator(spec, layer_path, weight)
    shape = tuple(int(d) for d in shape)
    if weight == "gamma":
        return rng.random(size=shape, dtype=np.float32) * np.float32(0.5) + np.float32(0.25)
    if weight in _VARIANCES:
        return rng.random(size=shape, dtype=np.float32) + np.float32(0.5)
    if weight in _SMALL or len(shape) < 2:
        return rng.standard_normal(size=shape, dtype=np.float32) * np.float32(0.1)
    return rng.standard_normal(size=shape, dtype=np.float32) * np.float32(
        1 / math.sqrt(fan_in(layer_class, weight, shape))
    )


# A weight created without a name (ConvNeXt's LayerScale gamma) is called "variable", "variable_1",
# ... by a counter that depends on what the process built before.
_AUTO_NAMED = re.compile(r"variable(_\d+)?")


def _weight_name(variable: Any) -> str:
    path = getattr(variable, "path", None) or variable.name
    return str(path).rsplit("/", 1)[-1].split(":")[0]


def _own_layers(model: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """(path, layer) for every layer that holds weights itself, inside nested models too."""
    for layer in model.layers:
        path = f"{prefix}{layer.name}"
        if hasattr(layer, "layers") and layer.layers:  # a nested model: its layers own the weights
            yield from _own_layers(layer, f"{path}/")
        else:
            yield path, layer


def seed_model(model: Any, spec: str) -> int:
    """Fill every float weight of ``model`` with its seeded values; returns how many were set.

    Integer variables (Normalization's sample count) keep their values: nothing reads them
    at inference.
    """
    count = 0
    for path, layer in _own_layers(model):
        for index, variable in enumerate(layer.weights):
            dtype = str(getattr(variable, "dtype", "float32"))
            if "float" not in dtype:
                continue
            name = _weight_name(variable)
            if _AUTO_NAMED.fullmatch(name):  # Keras numbers unnamed weights per session: use the position
                name = f"weight_{index}"
            variable.assign(
                seeded_values(spec, path, type(layer).__name__, name, variable.shape).astype(dtype)
            )
            count += 1
        if callable(getattr(layer, "finalize_state", None)):
            # As Keras's own weight loading does: Normalization copies its mean and variance
            # variables into the constants its call uses (without it, the seeded statistics
            # would be ignored on tensorflow and jax, and used on torch).
            layer.finalize_state()
    return count


def fixed_input(spec: str, shape: Sequence[int]) -> np.ndarray:
    """The fingerprint's input: standard normal, ``(BATCH, *shape)``, drawn from the spec's name."""
    return generator(spec, "input").standard_normal(size=(BATCH, *shape)).astype(np.float32)


# --- fingerprints ------------------------------------------------------------------------------


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


def summarise(spec: str, name: str, output: np.ndarray) -> LayerPrint:
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


@dataclasses.dataclass(frozen=True)
class Drift:
    """Where a fingerprint differs from its golden."""

    layer: str  # the first layer that differs
    index: int  # its position in the model
    what: str  # which number, or "shape" / "layers"
    golden: Any
    got: Any
    deviation: float  # |got - golden| / scale (inf for a shape or layer difference)
    worst: tuple[str, float] | None = None  # the layer with the largest deviation, and it

    def __str__(self) -> str:
        if self.what in ("shape", "layer"):
            where = f"layer {self.index} {self.layer!r}"
            return f"{where}: {self.what} {self.got} where the golden has {self.golden}"
        text = (
            f"first divergence at layer {self.index} {self.layer!r}: {self.what} {self.got:.7g} where the "
            f"golden has {self.golden:.7g}, off by {self.deviation:.2g} of the layer's scale "
            f"(tolerance {TOLERANCE:g}); the layers before it agree"
        )
        if self.worst is not None and self.worst[0] != self.layer:
            text += f"; largest deviation {self.worst[1]:.2g} at {self.worst[0]!r}"
        return text


def compare(golden: Fingerprint, got: Fingerprint, tol: float = TOLERANCE) -> Drift | None:
    """The first layer where ``got`` leaves the golden's tolerance, or None when all agree."""
    if tuple(golden.input_shape) != tuple(got.input_shape):
        return Drift("(input)", 0, "shape", golden.input_shape, got.input_shape, math.inf)
    first: Drift | None = None
    worst: tuple[str, float] | None = None
    for index, (g, m) in enumerate(zip(golden.layers, got.layers, strict=False)):
        if g.name != m.name:
            return Drift(g.name, index, "layer", g.name, m.name, math.inf)
        if g.shape != m.shape:
            return Drift(g.name, index, "shape", list(g.shape), list(m.shape), math.inf)
        scale = g.scale if g.scale > 0 else 1.0
        labels = ("scale", "mean", "std", *(f"value at {i}" for i in g.at))
        for label, a, b in zip(labels, g.numbers(), m.numbers(), strict=True):
            deviation = abs(b - a) / scale
            if not math.isfinite(b):
                deviation = math.inf
            if deviation > tol and first is None:
                first = Drift(g.name, index, label, a, b, deviation)
            if deviation > tol and (worst is None or deviation > worst[1]):
                worst = (g.name, deviation)
    if first is None and len(golden.layers) != len(got.layers):
        n = min(len(golden.layers), len(got.layers))
        ours, theirs = (f.layers[n].name if len(f.layers) > n else "(none)" for f in (golden, got))
        return Drift(ours, n, "layer", ours, theirs, math.inf)
    return dataclasses.replace(first, worst=worst) if first is not None else None


# --- the golden text ---------------------------------------------------------------------------


def _num(x: float) -> str:
    return f"{x:.8g}"


def dumps(fp: Fingerprint) -> str:
    """Reviewable YAML: one line per layer."""
    lines = [
        f"# Fingerprint of zoo spec {fp.spec!r}: every layer's output on a fixed input with seeded",
        "# weights (zoo/fingerprint.py), summarised as [name, shape, scale = max|x|, mean, std,",
        "# sampled flat indices, their values]. Checked by tests/test_fingerprints.py within",
        f"# {TOLERANCE:g} of each layer's scale. Regenerate: zoo golden regen {fp.spec}",
        f"spec: {fp.spec}",
        f"scheme: {SCHEME}",
        f"input: [{', '.join(str(d) for d in fp.input_shape)}]",
        f"recorded_on: {fp.recorded_on!r}",
        "layers:",
    ]
    for lp in fp.layers:
        shape = ", ".join(str(d) for d in lp.shape)
        at = ", ".join(str(i) for i in lp.at)
        values = ", ".join(_num(v) for v in lp.values)
        stats = f"{_num(lp.scale)}, {_num(lp.mean)}, {_num(lp.std)}"
        lines.append(f"  - [{lp.name}, [{shape}], {stats}, [{at}], [{values}]]")
    return "\n".join(lines) + "\n"


def loads(text: str, label: str = "<fingerprint>") -> Fingerprint:
    """A fingerprint from its golden text; a damaged one is a SpecError naming ``label`` and the line."""
    import yaml

    from zoo.spec.errors import show
    from zoo.golden.check import damaged, parse_yaml

    data = parse_yaml(text, label, getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # libyaml: 20x faster
    if not isinstance(data, dict) or data.get("scheme") != SCHEME:
        scheme = data.get("scheme") if isinstance(data, dict) else None
        raise damaged(label, text, ("scheme",), f"not a {SCHEME} fingerprint (scheme: {scheme!r})")
    for key, ok in (("spec", lambda v: isinstance(v, str)), ("layers", lambda v: isinstance(v, list)),
                    ("input", lambda v: isinstance(v, list) and all(_is_count(d) for d in v))):  # fmt: skip
        if not ok(data.get(key)):
            what = f"missing or of the wrong type. Received: {data.get(key)!r}"
            raise damaged(label, text, (key,), what)
    layers = []
    for i, row in enumerate(data["layers"]):
        try:
            n, shape, sc, mu, sd, at, vals = row
            if not isinstance(n, str) or not all(_is_count(d) for d in [*shape, *at]):
                raise TypeError
            layers.append(LayerPrint(n, tuple(shape), float(sc), float(mu), float(sd), tuple(at),
                                     tuple(float(v) for v in vals)))  # fmt: skip
        except (TypeError, ValueError):
            form = "[name, [shape], scale, mean, std, [indices], [values]]"
            raise damaged(label, text, ("layers", i), f"a layer is {form}. Received: {show(row)}") from None
    return Fingerprint(data["spec"], tuple(data["input"]), tuple(layers), str(data.get("recorded_on", "")))


def _is_count(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def path_for(folder: Any, name: str) -> Any:
    return folder / f"{name}.fingerprint.yml"


# --- taking a fingerprint (imports Keras) ------------------------------------------------------

SIZES = (512, 448, 384, 331, 299, 256, 240, 224, 192, 160, 128, 112, 96, 75, 64, 48, 32)


def input_shape_for(name: str) -> tuple[int, ...]:
    """The input a registered spec's fingerprint runs at: its own, unless that is left open or
    costs more than ``MAX_MACS`` per item; then the largest square size in ``SIZES`` that is
    valid for it and within budget."""
    import zoo
    from zoo import arith
    from zoo.spec.errors import SpecError

    spec = zoo.spec(name)
    shape = tuple(spec.input)
    if None not in shape and (arith.summarize(spec).macs or 0) <= MAX_MACS:
        return shape
    if len(shape) != 3:
        raise SpecError(f"spec {name!r}: no fingerprint size for input {list(shape)}")
    largest = max(shape[:2]) if None not in shape[:2] else 225  # an open input: 224 and below
    for size in SIZES:
        if size >= largest:
            continue
        candidate = (size, size, shape[2])
        try:
            smaller = zoo.spec(name, input_shape=candidate)
        except SpecError:
            continue
        if (arith.summarize(smaller).macs or 0) <= MAX_MACS:
            return candidate
    raise SpecError(f"spec {name!r}: no input size in {SIZES} is both valid and within {MAX_MACS:,} MACs")


def backend_label() -> str:
    import keras

    return f"{keras.backend.backend()} (keras {keras.__version__})"


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
    x = fixed_input(spec, input_shape)
    named = introspect.layer_outputs(model)
    probe = keras.Model(model.inputs[0], [out for _, out in named])
    outputs = probe(x, training=False)
    if not isinstance(outputs, (list, tuple)):
        outputs = [outputs]
    layers = tuple(
        summarise(spec, name, keras.ops.convert_to_numpy(out))
        for (name, _), out in zip(named, outputs, strict=True)
    )
    return Fingerprint(spec, (BATCH, *tuple(int(d) for d in input_shape)), layers, backend_label())


def take(name: str) -> Fingerprint:
    """The fingerprint of a registered spec: built with seeded weights at :func:`input_shape_for`."""
    import zoo

    spec = zoo.spec(name)
    shape = input_shape_for(name)
    if shape != tuple(spec.input):
        spec = zoo.spec(name, input_shape=shape)
    model = zoo.build(spec, weights="seeded", compile=False)
    return of_model(model, name, shape)
