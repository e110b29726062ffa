"""Two of the three witnesses for every model with goldens, without Keras: the formula engine's
table is the golden's, row by row (the keras.applications families and the NAME@imagenet
configurations included). Not backend-sensitive: the formula engine imports no framework."""

from __future__ import annotations

import dataclasses

import pytest
from conftest import GOLDENS, is_large

import zoo
from zoo.arith.summary import differences
from zoo.golden import check, summaries

NAMES = check.pinned()


@pytest.mark.parametrize(
    "name", [pytest.param(n, marks=pytest.mark.slow) if is_large(n) else n for n in NAMES]
)
def test_the_formula_engine_equals_every_golden(name):
    """Keras's table is compared in tests/test_goldens.py (for the keras.applications-sized models
    in the `large` tier)."""
    golden = summaries.KIND.read(GOLDENS, name)
    assert golden is not None, f"no summary golden for {name}: run `zoo golden regen {name}`"
    formula = zoo.summary(name, engine="formula")
    made = f"golden (made with {golden.made_with})"
    assert formula == golden, "\n".join(differences({"formula": formula, made: golden}))


# keras.applications itself judges the configuration golden; not backend-sensitive (it ran 30 s on
# JAX), but release-sensitive (Keras 3.11): CI runs it on the oldest pair too
@pytest.mark.slow  # seconds: the inner loop's budget
@pytest.mark.releases
def test_the_imagenet_configuration_is_what_keras_applications_builds(monkeypatch):
    """keras.applications.EfficientNetB0(weights="imagenet") itself, its file request and loading
    stubbed (nothing is downloaded), is the golden's table: rescaling_1 included."""
    import keras
    from keras.src.applications import efficientnet

    from zoo.keras import introspect

    asked = []
    monkeypatch.setattr(efficientnet.file_utils, "get_file", lambda *a, **k: asked.append(a) or "unread.h5")
    monkeypatch.setattr(keras.Model, "load_weights", lambda self, *a, **k: None)
    keras.utils.clear_session()  # Keras's automatic names (rescaling, normalization) start afresh
    model = keras.applications.EfficientNetB0(weights="imagenet")
    assert asked and "efficientnetb0.h5" in str(asked[0])
    golden = summaries.loads((GOLDENS / "efficientnet_b0@imagenet.yml").read_text(encoding="utf-8"))
    keras_s = introspect.summary_of(model)
    # the same table, but for the two names Keras chooses: the model's and its input layer's
    assert (keras_s.name, keras_s.rows[0].connected_to) == ("efficientnetb0", ("input_layer",))
    first = dataclasses.replace(keras_s.rows[0], connected_to=("input",))
    keras_s = dataclasses.replace(keras_s, name=golden.name, rows=(first, *keras_s.rows[1:]))
    # Keras's table is the formula engine's as the running release computes it (on 3.11, a one-channel
    # rescaling_1: keras_versions 'rescaling-per-channel-shape'), which on the newest is the golden
    assert keras_s == zoo.summary("efficientnet_b0@imagenet", engine="formula")
    assert zoo.summary("efficientnet_b0@imagenet", engine="formula", keras_version="3.15.1") == golden
    assert "rescaling_1" in [r.name for r in golden.rows]
