"""zoo's pytest plugin, registered through the ``pytest11`` entry point.

Fixtures:

- ``zoo_model``: a factory; ``zoo_model("conv2d_stride2", weights=None)`` builds a
  fresh model on every call, so a test that changes it cannot affect another.
- ``zoo_golden``: ``zoo_golden(model)`` pins the summary of any Keras model in a
  golden file next to the test (pytest-regressions' data folder), in zoo's table
  format, with its unified diff on mismatch and ``--force-regen`` to rewrite.

Having zoo installed must not cost a pytest run the TensorFlow import: this
module imports only pytest, and the fixtures import zoo (and Keras) when used.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest


@pytest.fixture
def zoo_model() -> Callable[..., Any]:
    """``zoo_model(name_or_spec, **build_kwargs)`` -> a freshly built keras.Model."""

    def make(name_or_spec: Any, **kwargs: Any) -> Any:
        import zoo

        return zoo.build(name_or_spec, **kwargs)

    return make


@pytest.fixture
def zoo_golden(request: pytest.FixtureRequest) -> Callable[..., None]:
    """``zoo_golden(model, basename=None)``: compare the model's summary with its golden file."""

    def check(model_or_summary: Any, basename: str | None = None) -> None:
        from zoo.testing import golden_text

        try:
            file_regression = request.getfixturevalue("file_regression")
        except pytest.FixtureLookupError:
            pytest.fail("zoo_golden needs pytest-regressions: pip install 'zoo[pytest]'")
        file_regression.check(golden_text(model_or_summary), basename=basename, extension=".yml")

    return check
