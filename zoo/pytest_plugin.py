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
    """``zoo_golden(model, basename=None, fingerprint=False, weights="seeded", input_shape=None)``:
    compare the model's summary with its golden file; with ``fingerprint=True``, its numeric
    fingerprint too (``BASENAME.fingerprint.yml``: every layer's output on a fixed input, with zoo's
    seeded weights or, ``weights="own"``, the model's), within zoo's tolerance, not byte for byte:
    another backend or Keras release that computes the same numbers passes."""

    def check(
        model_or_summary: Any,
        basename: str | None = None,
        fingerprint: bool = False,
        weights: str = "seeded",
        input_shape: Any = None,
    ) -> None:
        __tracebackhide__ = True  # the failure says what differs; zoo's frames are noise there
        from zoo.testing import golden_text

        try:
            file_regression = request.getfixturevalue("file_regression")
        except pytest.FixtureLookupError:
            pytest.fail("zoo_golden needs pytest-regressions: pip install pytest-regressions")
        problems = []
        if fingerprint:
            problems += _fingerprint_golden(request, model_or_summary, basename, weights, input_shape)
        try:
            file_regression.check(golden_text(model_or_summary), basename=basename, extension=".yml")
        except (AssertionError, pytest.fail.Exception) as exc:  # pytest-regressions' failure, its diff
            problems.insert(0, str(exc))
        if problems:
            pytest.fail("\n".join(problems), pytrace=False)

    return check


def _fingerprint_golden(
    request: pytest.FixtureRequest, model: Any, basename: str | None, weights: str, input_shape: Any
) -> list[str]:
    """The fingerprint golden's check, as pytest-regressions checks files: a missing golden is written
    for review and fails the test, as does a rewrite with --force-regen; a drift fails, naming the
    first layer that moved."""
    from zoo import testing

    fp = testing.fingerprint_of(model, weights=weights, input_shape=input_shape)
    name = basename or request.node.name
    path = request.getfixturevalue("original_datadir") / f"{name}.fingerprint.yml"
    text = testing.fingerprint_text(fp, weights)
    regen = request.config.getoption("force_regen", False) or request.config.getoption("regen_all", False)
    if not path.is_file() or regen:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return [f"fingerprint golden written for review: {path} (run again to compare with it)"]
    problem = testing.fingerprint_problem(path.read_text(encoding="utf-8"), fp, str(path))
    return [problem] if problem else []
