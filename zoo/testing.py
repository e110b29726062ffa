"""Helpers for other projects' test suites (the fixtures live in ``zoo.pytest_plugin``).

    import zoo.testing

    @zoo.testing.parametrize_models("conv2d*")
    def test_small_models_train(model_name, zoo_model):
        model = zoo_model(model_name, weights=None)
        ...

Nothing here imports TensorFlow or Keras at import time.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import zoo
from zoo.arith.summary import Summary
from zoo.golden import summaries
from zoo.specification.errors import SpecError


def parametrize_models(pattern: str = "*", argname: str = "model_name") -> Any:
    """Parametrize a test over every spec whose name matches ``pattern``; ids are the names."""
    import pytest

    names = zoo.names(pattern)
    if not names:
        raise SpecError(f"no spec matches {pattern!r}. Valid: {', '.join(zoo.names())}")
    return pytest.mark.parametrize(argname, names, ids=names)


def golden_text(model_or_summary: Any) -> str:
    """The golden file text of a Keras model (or a Summary): zoo's own table format."""
    if isinstance(model_or_summary, Summary):
        summary = model_or_summary
    else:
        from zoo.keras import introspect

        # a user's golden holds the table alone: the frameworks that made it would change with every
        # upgrade of Keras, a diff where nothing a model computes changed
        summary = dataclasses.replace(introspect.summary_of(model_or_summary), made_with="")
    header = (
        f"Golden summary of Keras model {summary.name!r}, pinned with zoo's zoo_golden fixture.\n"
        "Regenerate deliberately: pytest --force-regen"
    )
    return summaries.dumps(summary, header=header)


WEIGHTS = ("seeded", "own")


def fingerprint_of(model: Any, weights: str = "seeded", input_shape: Any = None) -> Any:
    """The numeric fingerprint of a Keras model (:class:`zoo.keras.fingerprint.Fingerprint`): every
    layer's output on zoo's fixed input (drawn from the model's name), summarised. ``weights``:
    ``"seeded"``, zoo's seeded weights, the same on every machine whatever the model holds (they pin
    what the architecture computes); ``"own"``, the weights the model holds (they pin a trained
    model). ``input_shape`` without the batch: the model's own where it leaves none open."""
    from zoo.keras import fingerprint

    if weights not in WEIGHTS:
        raise SpecError(f"weights: {weights!r} is not one of {', '.join(map(repr, WEIGHTS))}")
    if input_shape is None:
        shape = tuple(model.inputs[0].shape[1:])
        if None in shape or len(model.inputs) > 1:
            raise SpecError(
                f"model {model.name!r} has input shape {list(shape)} (or several inputs): "
                "give input_shape=(...) with every size, for the fingerprint's fixed input"
            )
        input_shape = shape
    shape = tuple(int(d) for d in input_shape)
    if weights == "own":
        return fingerprint.of_model(model, model.name, shape)
    return fingerprint.streamed(model, model.name, shape)


def fingerprint_text(fp: Any, weights: str = "seeded") -> str:
    """The golden file text of a fingerprint taken by :func:`fingerprint_of`."""
    from zoo.golden import fingerprints

    header = (
        f"Golden fingerprint of Keras model {fp.spec!r} ({weights} weights), pinned with zoo's "
        "zoo_golden fixture:\nevery layer's output on a fixed input, [name, shape, scale = max|x|, "
        "mean, std, sampled flat\nindices, their values], compared within "
        f"{fingerprints.TOLERANCE:g} of each layer's scale. Regenerate deliberately: pytest --force-regen"
    )
    return str(fingerprints.dumps(fp, header=header))


def fingerprint_problem(golden_text: str, fp: Any, label: str) -> str | None:
    """Why a fingerprint does not match its golden's text (None: it matches, within the tolerance)."""
    from zoo.golden import fingerprints

    drift = fingerprints.compare(fingerprints.loads(golden_text, label), fp)
    return None if drift is None else f"{label}: {drift}"
