"""Every spec, three witnesses: Keras, the formula engine and the golden file must agree.

Parametrized over the registry itself, so a new spec is tested the day it lands
(and fails until its golden exists).
"""

from __future__ import annotations

import dataclasses

import pytest
from conftest import GOLDENS, model_params

import zoo
from zoo import arith
from zoo.arith.summary import differences
from zoo.golden import check, summaries

# Keras's summary of a model (shapes and parameter counts) depends on the Keras release, not on the
# backend: the oldest supported pair runs these too (`releases`). Under JAX, every layer's output
# shape is checked by the fingerprints' backend tests (tests/test_fingerprints.py).
pytestmark = pytest.mark.releases

NAMES = check.pinned()  # the models, and the configurations with goldens of their own
PARAMS = model_params(NAMES)


@pytest.mark.parametrize("name", PARAMS)
def test_keras_matches_what_the_tutorial_printed(name, keras_summary):
    problems = summaries.expect_problems(zoo.spec(name), keras_summary(name))
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("name", PARAMS)
def test_formula_engine_equals_keras_row_by_row(name, keras_summary):
    formula = zoo.summary(name, engine="formula")
    keras = keras_summary(name)
    assert formula == keras, "\n".join(formula.diff(keras, labels=("formula", "keras")))


@pytest.mark.parametrize("name", PARAMS)
def test_golden(name, keras_summary, file_regression):
    """The golden pins Keras's table; --force-regen rewrites it only if the checks above pass."""
    spec, keras = zoo.spec(name), keras_summary(name)
    problems = summaries.problems(spec, keras, zoo.summary(spec, engine="formula"))
    assert not problems, "refusing to pin this summary:\n" + "\n".join(problems)
    # a golden that still agrees keeps the frameworks it was made with (it is not a false alarm that
    # this run's are others); one that changed is rewritten, --force-regen, with this run's
    path = GOLDENS / f"{name}.yml"
    pinned = summaries.loads(path.read_text(encoding="utf-8")) if path.is_file() else None
    if pinned == keras:
        keras = dataclasses.replace(keras, made_with=pinned.made_with)
    file_regression.check(summaries.dumps(keras), fullpath=path)


@pytest.mark.parametrize("name", PARAMS)
def test_rows_add_up_to_the_totals(name, keras_summary):
    s = keras_summary(name)
    assert sum(r.params for r in s.rows) == s.total_params
    assert sum(r.trainable_params for r in s.rows) == s.trainable_params
    assert s.trainable_params + s.non_trainable_params == s.total_params


def test_every_golden_belongs_to_a_spec():
    orphans = sorted(p.name.split(".")[0] for p in GOLDENS.glob("*.yml"))
    # expanded.yml is the pin of every spec's expanded layers (tests/test_expanded_unchanged.py)
    assert [n for n in orphans if n not in NAMES and n != "expanded"] == []


def test_golden_text_round_trips(keras_summary):
    s = keras_summary("maxpooling2d")
    assert summaries.loads(summaries.dumps(s)) == s


def test_vgg16_transfer_pins_the_published_counts(keras_summary):
    """Keras's published VGG16 no-top size, and the head the tutorial adds (512*256+256 + 256*10+10)."""
    s = keras_summary("vgg16_transfer")
    assert (s.trainable_params, s.non_trainable_params) == (133_898, 14_714_688)
    base = s.rows[0]
    assert (base.name, base.type, base.trainable) == ("vgg16", "Functional", False)


@pytest.mark.slow  # seconds: the inner loop's budget
def test_every_family_whose_imagenet_architecture_differs_has_a_configuration_golden():
    """Derived by the formula engine: a family variant whose layers with weights='imagenet' are not
    its default's (EfficientNet's rescaling_1) needs a golden of that configuration too."""
    registry = zoo.default_registry()

    def rows(spec: zoo.Spec) -> list[tuple[object, ...]]:
        return [(r.name, r.type, r.output_shape, r.params) for r in arith.summarize(spec).rows]

    differ = [
        f"{name}@imagenet"
        for name in zoo.names()
        if registry.is_family(name) and rows(zoo.spec(name)) != rows(zoo.spec(name, weights="imagenet"))
    ]
    assert differ == list(check.CONFIGURATIONS)


def test_on_keras_3_11_the_imagenet_golden_fails_naming_rescaling_1():
    """Keras 3.11 gave a per-channel Rescaling one channel (keras-team/keras#21529): as that release
    computes it, the ImageNet configuration differs from its golden at rescaling_1 and stem_conv,
    and the line names the change. (tools/matrix.py runs the real 3.11 against the same golden.)"""
    name = "efficientnet_b0@imagenet"
    golden = summaries.loads((GOLDENS / f"{name}.yml").read_text(encoding="utf-8"))
    on_3_11 = zoo.summary(name, engine="formula", keras_version="3.11.3")
    lines = differences({"formula (keras 3.11.3)": on_3_11, f"golden (made with {golden.made_with})": golden})
    assert lines[0].startswith(
        "row 2 rescaling_1: formula (keras 3.11.3) says output_shape (None, 224, 224, 1); golden"
    )
    assert "Keras 3.11.0 changed Rescaling's rule" in lines[0] and "reverted in 3.12.0" in lines[0]
    assert any(line.startswith("row 4 stem_conv:") and "params 288" in line for line in lines)
    assert zoo.summary(name, engine="formula", keras_version="3.12.0") == golden
