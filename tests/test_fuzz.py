"""Fuzzing: mutated specs either load and build, or raise SpecError; never another exception, never a hang.

Mutations start from every shipped spec: drop, duplicate, retype, rename and
perturb keys and values in the parsed data, and truncate or splice the text.
The default run tries 150 mutants; `pytest -m fuzz` runs 3,000 more.
"""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
import yaml
from conftest import ROOT, time_limit
from hypothesis import given, settings
from hypothesis import strategies as st

import zoo
from zoo.keras import weights

TEXTS = {p.stem: p.read_text() for p in sorted((ROOT / "specs").glob("*.yaml"))}
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 300),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["", "same", "valid", "relu", "imagenet", "adam", "x" * 50]),
    st.text(max_size=8),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)


def paths(data: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(data, dict):
        for k, v in data.items():
            out += paths(v, (*prefix, k))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            out += paths(v, (*prefix, i))
    return out


def get(data: Any, path: tuple) -> Any:
    for p in path:
        data = data[p]
    return data


@st.composite
def mutants(draw: st.DrawFn) -> str:
    """The text of a mutated spec."""
    text = TEXTS[draw(st.sampled_from(sorted(TEXTS)))]
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(
            st.sampled_from(["drop", "duplicate", "retype", "rename", "perturb", "truncate", "splice"])
        )
        if kind in ("truncate", "splice"):
            cut = draw(st.integers(0, len(text)))
            text = (
                text[:cut]
                if kind == "truncate"
                else text[:cut]
                + draw(
                    st.sampled_from(
                        [
                            "\n",
                            ": ",
                            "- ",
                            "{",
                            "]",
                            "\t",
                            "&a ",
                            "*a",
                            "!!python/name:os.system ",
                            "\x00",
                            "é",
                        ]
                    )
                )
                + text[cut:]
            )
            continue
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError:
            continue
        if not isinstance(data, (dict, list)):
            continue
        path = draw(st.sampled_from(paths(data)[1:] or [()]))
        if not path:
            continue
        parent, key = get(data, path[:-1]), path[-1]
        if kind == "drop":
            del parent[key]
        elif kind == "duplicate" and isinstance(parent, list):
            parent.insert(key, parent[key])
        elif kind == "duplicate":  # a duplicate key, which yaml.safe_dump cannot write: do it in text
            text = text + f"\n{key}: {yaml.safe_dump(parent[key], default_flow_style=True).strip()}\n"
            continue
        elif kind == "retype":
            parent[key] = draw(VALUES)
        elif kind == "rename" and isinstance(parent, dict):
            parent[key[:-1] + draw(st.sampled_from(["", "s", "_", "X"])) if key else "x"] = parent.pop(key)
        elif kind == "perturb":
            value = parent[key]
            if isinstance(value, int) and not isinstance(value, bool):
                parent[key] = draw(st.sampled_from([0, -1, 1, value + 1, value * 7, 10**9, 2**70]))
            elif isinstance(value, str):
                parent[key] = value[: draw(st.integers(0, len(value)))]
        text = yaml.safe_dump(data, default_flow_style=None, sort_keys=False)
    return text


def load_and_build(text: str) -> None:
    with time_limit(60, "a spec's load and build"), contextlib.suppress(zoo.SpecError):
        spec = zoo.Spec.from_yaml(text, "fuzz.yaml")
        planned = zoo.summary(spec, engine="formula")
        # Keras builds of the big family models take seconds each: they are covered by
        # test_applications; here they go through expansion, validation and the formula engine.
        if len(spec.layers) <= 40 or planned.total_params > 10**9:  # the huge ones must be refused
            zoo.build(spec)


@pytest.fixture(autouse=True)
def offline(monkeypatch, tmp_path):
    """No network and an empty Keras cache: imagenet weights end in WeightsError, fast."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))

    def no_network(wf):
        raise OSError("offline")

    monkeypatch.setattr(weights, "download", no_network)


@pytest.mark.slow  # seconds: the inner loop's budget
@settings(max_examples=150)
@given(mutants())
def test_mutated_specs_load_and_build_or_raise_spec_error(text):
    load_and_build(text)


@pytest.mark.fuzz
# `-m "not slow"` replaces addopts' `-m 'not fuzz'`: slow keeps the campaign out of the inner loop
@pytest.mark.slow
@settings(max_examples=3000, derandomize=False)
@given(mutants())
def test_fuzz_many_more_mutants(text):
    load_and_build(text)


@pytest.mark.parametrize(
    "text",
    [
        "a: &x [1, 2]\nb: *x\n",
        "a: " + "[" * 200 + "]" * 200 + "\n",  # deep nesting
        "name: x\n" * 5000,  # duplicate keys, many
        "layers:\n" + "  - Dense: {units: 1}\n" * 4000,  # large but under the size cap
        "\ufeffname: mine\n",  # a byte-order mark
        "name: mine\ndescription: d\ninput: [10000000, 10000000, 3]\n"
        "layers:\n  - Flatten: {}\n  - Dense: {units: 1000}\n",  # 3e17 parameters: refused before Keras
    ],
)
def test_hostile_texts(text):
    load_and_build(text)
