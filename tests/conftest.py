"""Shared fixtures: one Keras build per spec per test session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

# zoo's own suite tests zoo's own specs: a user's ZOO_SPEC_PATH must not leak in.
os.environ.pop("ZOO_SPEC_PATH", None)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import zoo  # noqa: E402

# Property tests: 200 examples per test by default, derandomized so a run is
# repeatable; HYPOTHESIS_PROFILE=thorough runs ten times as many, freshly random.
settings.register_profile(
    "default", max_examples=200, deadline=None, derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)  # fmt: skip
settings.register_profile(
    "thorough", max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

GOLDENS = Path(__file__).parent / "goldens"
# Models Keras takes seconds to build (the keras.applications families): their tests are `slow`.
LARGE_LAYERS = 40


def is_large(name: str) -> bool:
    return len(zoo.spec(name).layers) > LARGE_LAYERS


def model_params(names: list[str]) -> list:
    """``names`` as pytest params, the large models marked slow (the inner loop skips them)."""
    return [pytest.param(n, id=n, marks=pytest.mark.slow) if is_large(n) else n for n in names]
ROOT = Path(__file__).parent.parent


@pytest.fixture(scope="session")
def keras_summary():
    """``keras_summary(name)``: Keras's summary of a spec, built once per session."""
    cache: dict[str, zoo.Summary] = {}

    def get(name: str) -> zoo.Summary:
        if name not in cache:
            cache[name] = zoo.summary(name, engine="keras")
        return cache[name]

    return get


@pytest.fixture
def spec_text():
    """A valid spec's YAML, for tests that break it on purpose."""
    return (ROOT / "specs" / "conv2d_stride2.yaml").read_text(encoding="utf-8")
