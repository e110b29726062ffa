"""Any keras.applications architecture as a pretrained base layer, as the tutorial uses VGG16.

Keras builds the real keras.applications model; the formula engine computes the row from zoo's
own family file of that architecture. The two must agree for every architecture zoo has.
"""

from __future__ import annotations

import pytest
from test_applications import DEFAULT_RUN

import zoo
from zoo.keras import training
from zoo.specification import catalog

HEAD = """\
name: base_as_a_layer
description: a pretrained base under the tutorial's head
input: [96, 96, 3]
layers:
  - {kind}: {{weights: null, include_top: false, trainable: false, pooling: avg}}
  - Dense: {{units: 10, activation: softmax}}
"""


def _tiered(kind: str):
    name = catalog.APPLICATIONS[kind]
    marks = [pytest.mark.slow] if name in DEFAULT_RUN else [pytest.mark.slow, pytest.mark.applications]
    return pytest.param(kind, id=kind, marks=marks)


def test_every_keras_application_can_be_a_base_layer():
    import keras

    constructors = {n for n in dir(keras.applications) if n[0].isupper()}
    assert set(catalog.APPLICATIONS) == constructors
    assert set(catalog.APPLICATIONS.values()) <= set(zoo.names())


@pytest.mark.parametrize("kind", [_tiered(k) for k in catalog.APPLICATIONS])
def test_the_base_row_from_the_family_file_equals_the_keras_application(kind):
    spec = zoo.Spec.from_yaml(HEAD.format(kind=kind))
    formula, keras_summary = zoo.summary(spec, engine="formula"), zoo.summary(spec, engine="keras")
    assert formula == keras_summary, "\n".join(formula.diff(keras_summary, labels=("formula", "keras")))
    base = formula.rows[0]
    assert (base.type, base.trainable, base.trainable_params) == ("Functional", False, 0)


def test_the_base_row_is_the_family_models_total():
    """No architecture is described twice: ResNet50's row is the resnet50 spec without its top."""
    base = zoo.summary("resnet50_transfer", engine="formula").rows[0]
    whole = zoo.summary("resnet50", engine="formula", include_top=False, input_shape=(224, 224, 3))
    assert (base.name, base.params, base.macs) == ("resnet50", whole.total_params, whole.macs)
    assert base.params == 23_587_712  # keras.io: ResNet50 without its top
    assert base.receptive_field == (483, 483)


@pytest.mark.parametrize("name", ["resnet50_transfer", "mobilenet_v2_transfer"])
def test_the_transfer_specs_take_the_frozen_base_fast_path(name):
    plan = training.plan(zoo.spec(name))
    assert plan.fast and [layer.name for layer in plan.prefix][-1] == "global_average_pooling2d"


@pytest.mark.slow  # seconds: the inner loop's budget
def test_a_base_with_dropout_inside_is_fitted_plainly():
    """EfficientNet's stochastic-depth Dropout stays random in training even when the base is frozen
    (Keras's trainable=False does not stop it), so its outputs cannot be computed once."""
    import keras
    import numpy as np

    plan = training.plan(zoo.spec("efficientnet_b0_transfer"))
    assert not plan.fast and "block2b_drop" in plan.reason
    # the fact the decision rests on, in Keras itself
    base = zoo.build("efficientnet_b0_transfer", weights=None, compile=False).layers[0]
    x = np.random.default_rng(0).random((2, 224, 224, 3), dtype=np.float32) * 255
    keras.utils.set_random_seed(1)
    assert not np.allclose(base(x, training=True), base(x, training=True))


def test_a_base_that_keras_would_refuse_is_refused_with_its_rule():
    text = HEAD.format(kind="ResNet50").replace("[96, 96, 3]", "[16, 16, 3]")
    with pytest.raises(zoo.SpecError, match="ResNet50: Input size must be at least 32x32"):
        zoo.summary(zoo.Spec.from_yaml(text), engine="formula")
    text = (
        HEAD.format(kind="MobileNetV2")
        .replace("weights: null", "weights: imagenet")
        .replace("[96, 96, 3]", "[96, 96, 1]")
    )
    with pytest.raises(zoo.SpecError, match="The input must have 3 channels"):
        zoo.summary(zoo.Spec.from_yaml(text), engine="formula")


@pytest.mark.slow  # seconds: the inner loop's budget
def test_fine_tuning_trains_the_last_stage_and_no_batch_normalization():
    spec = zoo.spec("resnet50_finetune")
    # conv5 by hand: block 1 has the projection (1024*2048 + 2048) and 1x1, 3x3, 1x1 convolutions
    # (1024*512 + 512, 9*512*512 + 512, 512*2048 + 2048); blocks 2 and 3 take 2048 channels in.
    convs = 3 * (9 * 512 * 512 + 512) + 3 * (512 * 2048 + 2048) + (1024 * 512 + 512) + 2 * (2048 * 512 + 512)
    want = convs + (1024 * 2048 + 2048)
    formula = zoo.summary(spec, engine="formula")
    base = formula.rows[0]
    assert (
        (base.params, base.trainable_params, base.trainable)
        == (23_587_712, want, True)
        == (23_587_712, 14_953_472, True)
    )
    model = zoo.build(spec, weights=None, compile=False)
    resnet = model.layers[0]
    trains = {layer.name for layer in resnet.layers if layer.trainable and layer.weights}
    assert trains and all(name.startswith("conv5_") for name in trains)
    assert not any(layer.trainable for layer in resnet.layers if type(layer).__name__ == "BatchNormalization")
    assert zoo.summary(spec, engine="keras") == formula


def test_a_fine_tuned_resnet_is_cut_at_its_stage_boundary():
    plan = training.plan(zoo.spec("resnet50_finetune"))
    assert plan.fast and (plan.base.name, plan.cut) == ("resnet50", "conv4_block6_out")
    inside = zoo.Spec.from_yaml(
        zoo.default_registry()
        .path("resnet50_finetune")
        .read_text()
        .replace("conv5_block1_0_conv", "conv5_block1_2_conv")
    )  # inside a block: the shortcut also needs conv5_block1_1
    assert not training.plan(inside).fast and "cannot be cut there" in training.plan(inside).reason


@pytest.mark.slow
@pytest.mark.large  # it trains ResNet50's last stage twice: the large tier
def test_the_cut_fast_path_trains_what_plain_fitting_trains():
    """Same seed, same data: the fine-tuned stage and the head end up with the same weights."""
    import numpy as np

    text = (
        zoo.default_registry().path("resnet50_finetune").read_text().replace("[224, 224, 3]", "[64, 64, 3]")
    )
    spec = zoo.Spec.from_yaml(text)
    kwargs = dict(weights=None, samples=16, epochs=2, batch_size=8, verbose=0, seed=3)
    fast = zoo.run(spec, **kwargs)
    plain = zoo.run(spec, fast_path=False, **kwargs)
    assert fast.fast_path and not plain.fast_path and "cut at conv4_block6_out" in fast.notes[0]
    np.testing.assert_allclose(fast.history["loss"], plain.history["loss"], rtol=1e-4)
    for name in ("conv5_block3_3_conv", "conv5_block1_0_conv"):
        for a, b in zip(
            fast.model.layers[0].get_layer(name).get_weights(),
            plain.model.layers[0].get_layer(name).get_weights(),
        ):
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    for a, b in zip(
        fast.model.get_layer("dense").get_weights(), plain.model.get_layer("dense").get_weights()
    ):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    # the frozen stages did not move
    x, _ = training.dummy_data(spec, 16, seed=3)
    np.testing.assert_allclose(fast.model.predict(x, verbose=0), fast.predictions, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "trainable_from: conv5_block1_0_conv",
            "trainable_from: conv5_block1_conv",
            "trainable_from names no layer of resnet50; did you mean",
        ),
        (
            "trainable_from: conv5_block1_0_conv",
            "trainable_from: conv5_block1_0_conv, trainable: false",
            "trainable_from unfreezes part of the base, so the base cannot be trainable: false",
        ),
    ],
)
def test_fine_tuning_mistakes_are_spec_errors(old, new, message):
    text = (zoo.default_registry().path("resnet50_finetune")).read_text()
    with pytest.raises(zoo.SpecError, match=message):
        zoo.summary(zoo.Spec.from_yaml(text.replace(old, new)), engine="formula")


@pytest.mark.slow
@pytest.mark.large  # it trains heads on two keras.applications bases twice: the large tier
@pytest.mark.parametrize("kind", ["ResNet50", "MobileNetV2"])
def test_the_fast_path_on_any_frozen_base_trains_what_plain_fitting_trains(kind):
    import numpy as np

    text = HEAD.format(kind=kind).replace(
        "pooling: avg}", "pooling: avg}\n  - Dense: {units: 8, activation: relu}"
    )
    text += "compile: {optimizer: adam, loss: sparse_categorical_crossentropy}\ndata: {classes: 10}\n"
    text += "fit: {epochs: 2, batch_size: 8}\n"
    spec = zoo.Spec.from_yaml(text.replace("[96, 96, 3]", "[64, 64, 3]"))
    fast = zoo.run(spec, samples=16, seed=4, verbose=0)
    plain = zoo.run(spec, samples=16, seed=4, verbose=0, fast_path=False)
    assert fast.fast_path and not plain.fast_path
    np.testing.assert_allclose(fast.history["loss"], plain.history["loss"], rtol=1e-4)
    for name in ("dense", "dense_1"):
        for a, b in zip(fast.model.get_layer(name).get_weights(), plain.model.get_layer(name).get_weights()):
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


@pytest.mark.releases
def test_a_base_is_built_by_keras_s_own_function_and_named_after_because_efficientnet_v2_must_be():
    """zoo builds a base with keras.applications' own function under Keras's name, then names it as
    the spec does (its rows are Keras's: test_the_base_row_from_the_family_file_equals_the_keras_
    application). EfficientNetV2's function looks its block table up by the model's name
    (``DEFAULT_BLOCKS_ARGS[name]``), so Keras cannot build it under another: the day a Keras release
    can, this test fails, and the builder may pass ``name=`` instead (issue 26)."""
    import keras

    with pytest.raises(KeyError, match="backbone"):
        keras.applications.EfficientNetV2B0(
            weights=None, include_top=False, input_shape=(32, 32, 3), name="backbone"
        )
