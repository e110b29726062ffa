"""Checking and regenerating goldens: the witnesses of every spec side by side.

For each spec: Keras's summary (the model built with seeded weights), the formula engine's, the
spec's own ``expect:`` and the goldens in a folder (summary and fingerprint). :func:`verdict`
says, one line per change, which witness disagrees with which, naming the frameworks each was
made with; a spec that cannot be checked (a bad spec, a crash) is a verdict too, so one spec
never stops the others. :func:`regenerate` writes goldens only when Keras, the formula engine and
``expect:`` agree for every spec asked for, and leaves a golden that still agrees as it is (it
records the frameworks it was made with).
"""

from __future__ import annotations

import math
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zoo import arith
from zoo.arith.summary import Summary, differences
from zoo.golden import fingerprints, summaries
from zoo.golden.protocol import write
from zoo.keras import builder, fingerprint, introspect
from zoo.keras.fingerprint import Fingerprint
from zoo.specification import keras_versions
from zoo.specification.errors import SpecError
from zoo.specification.model import Spec
from zoo.specification.registry import DEFAULT, Registry

STATUSES = ("ok", "differ", "error", "crash")  # error: the spec cannot be made; crash: zoo failed

# The configurations users build whose architecture differs from their model's default: each has a
# summary golden of its own, built without the weights file (nothing is read or downloaded).
# EfficientNet with ImageNet weights adds a rescaling layer (rescaling_1) that Keras 3.11 gave one
# channel (keras_versions 'rescaling-per-channel-shape'). tests/test_goldens.py derives the list
# from the formula engine and fails where a family's ImageNet architecture differs and is not here.
CONFIGURATIONS = tuple(f"efficientnet_b{i}@imagenet" for i in range(8))


def pinned(registry: Registry = DEFAULT) -> list[str]:
    """Every name with goldens: the registry's models, then the configurations of theirs above."""
    names = registry.names()
    return names + [c for c in CONFIGURATIONS if c.split("@")[0] in names]


def is_configuration(name: str) -> bool:
    """A configuration has a summary golden only: its weights differ from its model's by the
    layers the summary pins (the fingerprint golden of its model covers the rest)."""
    return "@" in name


@dataclass(frozen=True)
class Witnesses:
    """What the witnesses say of one spec."""

    formula: Summary
    keras: Summary
    expect_problems: list[str]
    fingerprint: Fingerprint | None  # None for a configuration (see is_configuration)


@dataclass
class Verdict:
    """One spec's check: its status, one line per change, and its fingerprint's margin."""

    name: str
    status: str = "ok"
    lines: list[str] = field(default_factory=list)
    deviation: float | None = None  # the fingerprint's largest, as a fraction of its layer's scale
    worst_layer: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "status": self.status, "lines": self.lines}
        if self.deviation is not None:
            finite = math.isfinite(self.deviation)
            out["fingerprint"] = {
                "largest_deviation": self.deviation if finite else None,
                "at_layer": self.worst_layer,
                "tolerance": fingerprints.TOLERANCE,
                # how many times the tolerance exceeds the deviation (None: no deviation at all)
                "margin": (fingerprints.TOLERANCE / self.deviation) if finite and self.deviation else None,
            }
        return out


def witnesses(spec: Spec, fingerprinted: bool = True) -> Witnesses:
    """The spec's model is built without weight values (builder.architecture): its summary reads it,
    and its fingerprint runs it layer by layer with each layer's seeded weights made as it runs
    (fingerprint.streamed), so no model's weights are ever all in memory. Where the fingerprint runs
    at a smaller input, that model is built after the summary's is released. A pretrained base is
    seeded too, never ImageNet's; a family's model keeps the architecture its weights give it
    (EfficientNet's ImageNet rescaling)."""
    if spec.family is None:
        spec = spec.with_weights(None)
    formula = arith.summarize(
        spec, keras=keras_versions.installed()
    )  # the spec as written must be valid, before Keras is touched
    size = fingerprint.input_shape_for(spec) if fingerprinted else None
    model = builder.architecture(spec)
    keras_s = introspect.summary_of(model, order=[layer.name for layer in spec.layers])
    fp = None
    if size == tuple(spec.input):  # the fingerprint runs on this very model
        fp = fingerprint.streamed(model, spec.name, size)
    elif size is not None:
        del model
        builder.release()
        fp = fingerprint.take(spec)
    return Witnesses(formula, keras_s, summaries.expect_problems(spec, keras_s), fp)


def verdict(
    target: str | Spec | Callable[[], Spec],
    folder: Path | None,
    registry: Registry = DEFAULT,
    label: str | None = None,
) -> Verdict:
    """Formula vs Keras vs expect vs the goldens in ``folder`` (summary and fingerprint), as a verdict.
    ``target`` is a spec's name, a spec, or what makes one (an imported model file, whose import is
    part of the check); its goldens are those of the spec's name, the verdict says ``label``.
    A spec that cannot be made is an ``error``; anything else that fails is a ``crash`` with its
    cause; either way the other specs go on."""
    out = Verdict(label or (target.name if isinstance(target, Spec) else str(target)))
    try:
        spec, name = _spec_of(target, registry)
        seen = witnesses(spec, fingerprinted=not is_configuration(name))
        out.lines += summary_lines(name, folder, seen.formula, seen.keras, seen.expect_problems)
        if folder is not None and seen.fingerprint is not None:
            out.lines += fingerprints.KIND.check(folder, name, seen.fingerprint)
            pinned = fingerprints.KIND.read(folder, name)
            if pinned is not None:
                out.worst_layer, out.deviation = fingerprints.largest_deviation(pinned, seen.fingerprint)
        out.status = "differ" if out.lines else "ok"
    except SpecError as exc:
        out.status, out.lines = "error", [str(exc)]
    except Exception as exc:  # noqa: BLE001 - one spec's crash must not stop the others; it is reported
        where = traceback.extract_tb(exc.__traceback__)[-1]
        out.status = "crash"
        out.lines = [f"{type(exc).__name__}: {exc} (at {Path(where.filename).name}:{where.lineno})"]
    finally:
        builder.release()
    return out


def _spec_of(target: str | Spec | Callable[[], Spec], registry: Registry) -> tuple[Spec, str]:
    """The spec of a name, a spec or what makes one, and the name its goldens have."""
    if isinstance(target, str):
        return registry.spec(target), target
    spec = target if isinstance(target, Spec) else target()
    return spec, spec.name


def verify(name: str, folder: Path | None, registry: Registry = DEFAULT) -> list[str]:
    """Every disagreement of one spec, as lines (empty: the witnesses agree); a bad spec raises."""
    out = verdict(name, folder, registry)
    if out.status == "error":
        raise SpecError(out.lines[0])
    return out.lines


def summary_lines(
    name: str, folder: Path | None, formula: Summary, keras_s: Summary, expect_problems: list[str]
) -> list[str]:
    """One line per disagreement among the summary witnesses: the spec's ``expect:``, then the formula
    engine, Keras and the golden in ``folder`` side by side (each golden naming what made it)."""
    lines = [f"expect: {p}" for p in expect_problems]
    labels: dict[str, Summary | None] = {"formula": formula, f"keras ({keras_s.made_with})": keras_s}
    golden = summaries.KIND.read(folder, name) if folder is not None else None
    if golden is not None:
        labels[f"golden (made with {golden.made_with})" if golden.made_with else "golden"] = golden
    lines += differences(labels)
    if folder is not None and golden is None:
        lines.append(summaries.KIND.missing(folder, name))
    return lines


def summary_verdict(name: str, folder: Path | None, registry: Registry = DEFAULT) -> tuple[Summary, Verdict]:
    """The three summary witnesses of one spec, quickly: the formula engine's table, Keras's (the model
    built without weight values: builder.architecture), the golden's; no fingerprint.
    Returns the formula's summary (it has MACs and receptive fields) and the verdict."""
    out = Verdict(name)
    spec = registry.spec(name)
    formula = arith.summarize(spec, keras=keras_versions.installed())
    try:
        model = builder.architecture(spec if spec.family is not None else spec.with_weights(None))
        keras_s = introspect.summary_of(model, order=[layer.name for layer in spec.layers])
        out.lines = summary_lines(name, folder, formula, keras_s, summaries.expect_problems(spec, keras_s))
        out.status = "differ" if out.lines else "ok"
    finally:
        builder.release()
    return formula, out


def _unpinnable(fp: Fingerprint | None) -> list[str]:
    """Why a fingerprint may not be pinned: non-finite numbers are no evidence."""
    if fp is None:
        return []
    bad = [lp.name for lp in fp.layers if not all(math.isfinite(v) for v in lp.numbers())]
    return [f"fingerprint: non-finite outputs (nan or inf) at {', '.join(bad[:5])}"] if bad else []


def regenerate(
    names: Sequence[str | Spec | Callable[[], Spec]],
    folder: Path,
    progress: Callable[[str], None] | None = None,
    registry: Registry = DEFAULT,
) -> tuple[list[Path], dict[str, list[str]]]:
    """Check every spec, then write all their goldens; returns (written paths, refusals by name).

    Each spec has two goldens: its summary and its fingerprint. Nothing is written unless every
    spec passes: Keras's summary must agree with the formula engine and with the spec's
    ``expect:``, and the fingerprint must be finite. A golden that still agrees is left as it is:
    it records the frameworks it was made with, not the last ones that agreed with it.
    """
    texts: dict[Path, str] = {}
    refused = {}
    for target in names:
        spec, name = _spec_of(target, registry)
        if progress is not None:
            progress(name)
        try:
            seen = witnesses(spec, fingerprinted=not is_configuration(name))
        finally:
            builder.release()
        found = summaries.problems(spec, seen.keras, seen.formula) + _unpinnable(seen.fingerprint)
        if found:
            refused[name] = found
            continue
        summary_text = summaries.KIND.text_if_changed(folder, name, seen.keras)
        if summary_text is not None:
            texts[summaries.KIND.path(folder, name)] = summary_text
        if seen.fingerprint is None:
            continue
        fingerprint_text = fingerprints.KIND.text_if_changed(folder, name, seen.fingerprint)
        if fingerprint_text is not None:
            texts[fingerprints.KIND.path(folder, name)] = fingerprint_text
    if refused:
        return [], refused
    return [path for path, text in texts.items() if write(path, text)], {}
