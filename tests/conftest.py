"""Shared fixtures: one Keras build per spec per test session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# zoo's own suite tests zoo's own specs: a user's ZOO_SPEC_PATH must not leak in.
os.environ.pop("ZOO_SPEC_PATH", None)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import zoo  # noqa: E402

GOLDENS = Path(__file__).parent / "goldens"
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
