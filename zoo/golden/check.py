"""Checking and regenerating goldens: the three witnesses of every spec side by side.

For each spec: Keras's summary (the model built with seeded weights), the formula engine's, the
spec's own ``expect:`` and the goldens in a folder (summary and fingerprint). :func:`verify` lists
every disagreement; :func:`regenerate` writes goldens only when Keras, the formula engine and
``expect:`` agree for every spec asked for, and leaves a fingerprint still within tolerance as it is.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from zoo import arith
from zoo.arith.summary import Summary
from zoo.golden import fingerprints, summaries
from zoo.golden.protocol import write
from zoo.keras import builder, fingerprint, introspect
from zoo.keras.fingerprint import Fingerprint
from zoo.specification.model import Spec
from zoo.specification.registry import DEFAULT, Registry


@dataclass(frozen=True)
class Witnesses:
    """What the witnesses say of one spec: Keras's summary, where Keras, the formula engine and
    ``expect:`` disagree, and the spec's fingerprint."""

    keras: Summary
    problems: list[str]
    fingerprint: Fingerprint


def witnesses(spec: Spec) -> Witnesses:
    """Where the fingerprint runs at the spec's own input, one seeded model serves both (weights do
    not change a summary). A pretrained base is built with seeded weights too, never ImageNet's."""
    spec = spec.with_weights(None)
    formula = arith.summarize(spec)  # the spec as written must be valid, before Keras is touched
    if fingerprint.input_shape_for(spec) == tuple(spec.input):
        model = builder.build(spec, compile=False, seeded=True)
        keras_s = introspect.summary_of(model, order=[layer.name for layer in spec.layers])
        fp = fingerprint.of_model(model, spec.name, fingerprint.input_shape_for(spec))
    else:
        model = builder.build(spec, compile=False)
        keras_s = introspect.summary_of(model, order=[layer.name for layer in spec.layers])
        fp = fingerprint.take(spec)
    return Witnesses(keras_s, summaries.problems(spec, keras_s, formula), fp)


def _unpinnable(fp: Fingerprint) -> list[str]:
    """Why a fingerprint may not be pinned: non-finite numbers are no evidence."""
    bad = [lp.name for lp in fp.layers if not all(math.isfinite(v) for v in lp.numbers())]
    return [f"fingerprint: non-finite outputs (nan or inf) at {', '.join(bad[:5])}"] if bad else []


def regenerate(
    names: list[str],
    folder: Path,
    progress: Callable[[str], None] | None = None,
    registry: Registry = DEFAULT,
) -> tuple[list[Path], dict[str, list[str]]]:
    """Check every spec, then write all their goldens; returns (written paths, refusals by name).

    Each spec has two goldens: its summary and its fingerprint. Nothing is written unless every
    spec passes: Keras's summary must agree with the formula engine and with the spec's
    ``expect:``, and the fingerprint must be finite. Unchanged files are not rewritten, and a
    fingerprint within tolerance of its golden is left as it is: the golden records the numbers it
    was made with, not the last backend's rounding.
    """
    texts: dict[Path, str] = {}
    refused = {}
    for name in names:
        if progress is not None:
            progress(name)
        seen = witnesses(registry.spec(name))
        found = seen.problems + _unpinnable(seen.fingerprint)
        if found:
            refused[name] = found
            continue
        texts[summaries.KIND.path(folder, name)] = summaries.dumps(seen.keras)
        text = fingerprints.KIND.text_if_changed(folder, name, seen.fingerprint)
        if text is not None:
            texts[fingerprints.KIND.path(folder, name)] = text
    if refused:
        return [], refused
    return [path for path, text in texts.items() if write(path, text)], {}


def verify(name: str, folder: Path | None, registry: Registry = DEFAULT) -> list[str]:
    """Formula vs Keras vs expect vs the goldens in ``folder`` (summary and fingerprint): every
    disagreement, as lines."""
    seen = witnesses(registry.spec(name))
    found = list(seen.problems)
    if folder is not None:
        found += summaries.KIND.check(folder, name, seen.keras)
        found += fingerprints.KIND.check(folder, name, seen.fingerprint)
    return found
