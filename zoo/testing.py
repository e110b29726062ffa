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
