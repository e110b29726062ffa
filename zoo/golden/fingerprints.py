"""Golden fingerprints: the text of a :class:`~zoo.keras.fingerprint.Fingerprint`, one line per layer,
and its comparison with what a model computes now.

A value ``got`` matches its golden when ``|got - golden| <= tol * scale``, where ``scale`` is the
golden layer's max |x|: per layer, relative to the layer's own magnitude (an element-wise
relative tolerance fails on values near zero). ``TOLERANCE`` is chosen from measured noise (see
its comment). The report names the first layer that diverges: a change at one layer is far
larger there than downstream, where it may be averaged away.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import yaml

from zoo.golden.protocol import Kind, damaged, parse_yaml
from zoo.keras.fingerprint import Fingerprint, LayerPrint
from zoo.keras.seeding import SCHEME
from zoo.specification.errors import show

# |got - golden| <= TOLERANCE * the golden layer's max |x|. Measured with tools/fingerprint_noise.py:
# the same seeded weights on TensorFlow and JAX (CPU, float32) differ, over every layer of all 60
# specs, by at most 1.5e-5 of a layer's scale, in EfficientNet's squeeze-and-excitation means (a mean
# of thousands of values of both signs is smaller than they are, so its rounding is larger relative
# to it); every other layer stays below 2e-6, ResNet152's 516 included. 3e-4 leaves a 20x margin,
# and is still 20x below what a small real change moves (one BatchNormalization epsilon from 1e-3 to
# 1e-2 moves its layer by 7e-3 of its scale; a bilinear instead of nearest UpSampling2D by 0.28).
TOLERANCE = 3e-4


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


def largest_deviation(golden: Fingerprint, got: Fingerprint) -> tuple[str, float]:
    """The layer where ``got`` is farthest from its golden, and how far (a fraction of that layer's
    scale; inf for a shape or layer that differs): a fingerprint's margin is TOLERANCE over it."""
    if tuple(golden.input_shape) != tuple(got.input_shape) or len(golden.layers) != len(got.layers):
        return "(input)", math.inf
    worst = ("", 0.0)
    for g, m in zip(golden.layers, got.layers, strict=True):
        if g.name != m.name or g.shape != m.shape:
            return g.name, math.inf
        scale = g.scale if g.scale > 0 else 1.0
        for a, b in zip(g.numbers(), m.numbers(), strict=True):
            deviation = abs(b - a) / scale if math.isfinite(b) else math.inf
            if deviation > worst[1]:
                worst = (g.name, deviation)
    return worst


def _num(x: float) -> str:
    return f"{x:.8g}"


def dumps(fp: Fingerprint, header: str | None = None) -> str:
    """Reviewable YAML: one line per layer, after ``header`` (by default, what a zoo spec's says)."""
    if header is None:
        header = (
            f"Fingerprint of zoo spec {fp.spec!r}: every layer's output on a fixed input with seeded\n"
            "weights (zoo/keras/seeding.py), summarised as [name, shape, scale = max|x|, mean, std,\n"
            "sampled flat indices, their values]. Checked by tests/test_fingerprints.py within\n"
            f"{TOLERANCE:g} of each layer's scale. Regenerate: zoo golden regen {fp.spec}"
        )
    lines = [
        *(f"# {line}" for line in header.splitlines()),
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
    data = parse_yaml(text, label, getattr(yaml, "CSafeLoader", yaml.SafeLoader))  # libyaml: 20x faster
    if not isinstance(data, dict) or data.get("scheme") != SCHEME:
        scheme = data.get("scheme") if isinstance(data, dict) else None
        raise damaged(label, text, ("scheme",), f"not a {SCHEME} fingerprint (scheme: {scheme!r})")
    for key, ok in (
        ("spec", lambda v: isinstance(v, str)),
        ("layers", lambda v: isinstance(v, list)),
        ("input", lambda v: isinstance(v, list) and all(_is_count(d) for d in v)),
    ):
        if not ok(data.get(key)):
            what = f"missing or of the wrong type. Received: {data.get(key)!r}"
            raise damaged(label, text, (key,), what)
    layers = []
    for i, row in enumerate(data["layers"]):
        try:
            n, shape, sc, mu, sd, at, vals = row
            if not isinstance(n, str) or not all(_is_count(d) for d in [*shape, *at]):
                raise TypeError
            layers.append(
                LayerPrint(
                    n, tuple(shape), float(sc), float(mu), float(sd), tuple(at), tuple(float(v) for v in vals)
                )
            )
        except (TypeError, ValueError):
            form = "[name, [shape], scale, mean, std, [indices], [values]]"
            raise damaged(label, text, ("layers", i), f"a layer is {form}. Received: {show(row)}") from None
    return Fingerprint(data["spec"], tuple(data["input"]), tuple(layers), str(data.get("recorded_on", "")))


def _is_count(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and v >= 0


def _differences(golden: Fingerprint, now: Fingerprint) -> list[str]:
    drift = compare(golden, now)
    made = f" (made with {golden.recorded_on})" if golden.recorded_on else ""
    return [] if drift is None else [f"fingerprint: golden{made} vs {now.recorded_on}: {drift}"]


KIND: Kind[Fingerprint] = Kind(".fingerprint.yml", dumps, loads, _differences, "fingerprint")
