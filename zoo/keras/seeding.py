"""Seeded weights: every weight of a model drawn from numpy alone, the same values in every process,
on every backend and Keras version.

Each weight has its own generator, seeded from the spec's name, the layer's path and the weight's
name (:func:`seed_for`), so the values do not depend on the order in which Keras creates
variables. Kernels are normal with variance 1/fan-in; biases, betas and means are small (normal,
std 0.1); variances lie in [0.5, 1.5], so BatchNormalization's moving variance is positive;
normalisation scales (gamma) lie in [0.25, 0.75], which keeps activations of order one through
deep residual models (see ``_VARIANCES``). A weight Keras creates without a name (ConvNeXt's
LayerScale) is known by its position in its layer. The arithmetic imports numpy only; Keras is
touched through the model given.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np

# The seeding scheme's version: part of every seed, recorded in every golden. Change it only
# together with every fingerprint golden.
SCHEME = "zoo-seeded-v1"

BATCH = 2  # the fixed input: two items, so a layer that mixes the batch (it should not) shows it


def seed_for(*parts: str) -> int:
    """A 64-bit seed from strings: sha256 of the scheme and the parts, independent of Python's hash."""
    digest = hashlib.sha256("\x1f".join((SCHEME, *parts)).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "little")


def generator(*parts: str) -> np.random.Generator:
    """numpy's PCG64 generator for these parts (its normal and uniform streams are stable)."""
    return np.random.Generator(np.random.PCG64(seed_for(*parts)))


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
    weight = weight.rsplit("/", 1)[-1]  # its kind by its own name (query/bias is a bias)
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


def _weight_name(variable: Any, layer: str = "") -> str:
    """The weight's name within its layer: ``kernel``; for a layer that holds others, the path below
    the layer (``forward_lstm/lstm_cell/kernel``), so a Bidirectional's two directions, or an
    attention's four projections, are seeded apart."""
    parts = str(getattr(variable, "path", None) or variable.name).split(":")[0].split("/")
    if layer in parts[:-1]:  # a Sequential's variables are under its own name: p/lstm/lstm_cell/kernel
        at = len(parts) - 2 - parts[-2::-1].index(layer)  # the last: a model may share a layer's name
        return "/".join(parts[at + 1 :])
    return parts[-1]


def own_layers(model: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """(path, layer) for every layer that holds weights itself, inside nested models too."""
    for layer in model.layers:
        path = f"{prefix}{layer.name}"
        if is_nested(layer):  # a nested model: its layers own the weights
            yield from own_layers(layer, f"{path}/")
        else:
            yield path, layer


def is_nested(layer: Any) -> bool:
    """Whether a layer is a model of its own (the VGG16 base), whose layers hold the weights."""
    return bool(getattr(layer, "layers", None))


def layer_values(layer: Any, path: str, spec: str) -> list[tuple[Any, np.ndarray]]:
    """(variable, seeded values) for every float weight a layer holds itself.

    Integer variables (Normalization's sample count) are left out: nothing reads them at inference.
    """
    out = []
    for index, variable in enumerate(layer.weights):
        dtype = str(getattr(variable, "dtype", "float32"))
        if "float" not in dtype:
            continue
        name = _weight_name(variable, layer.name)
        if _AUTO_NAMED.fullmatch(
            name.rsplit("/", 1)[-1]
        ):  # Keras numbers unnamed weights per session: use the position
            name = f"weight_{index}"
        values = seeded_values(spec, path, type(layer).__name__, name, variable.shape)
        out.append((variable, values.astype(dtype, copy=False)))
    return out


def seed_model(model: Any, spec: str) -> int:
    """Fill every float weight of ``model`` with its seeded values; returns how many were set."""
    count = 0
    for path, layer in own_layers(model):
        for variable, values in layer_values(layer, path, spec):
            variable.assign(values)
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
