"""keras.applications architectures as zoo family specs: the same models Keras builds.

Each is compared with keras.applications' own model in a fresh Keras session
(``tests/keras_reference.py``): the same ``model.layers`` (names, classes, shapes,
parameter counts, inbound layers, in order) and the same ``model.to_json()`` with the
model's and the input layer's names set aside; with the top, and without it at a
second input size. Weights files in keras.applications' ``.h5`` layout load into zoo's
models with identical predictions. Nothing is downloaded.
"""

from __future__ import annotations

import math
import re
import warnings

import numpy as np
import pytest
from keras_reference import APPLICATIONS, differences, layer_table, normalised_json, reference

import zoo
from zoo.keras import weights

ZOO_APPLICATIONS = [n for n in APPLICATIONS if n in zoo.names()]
# One model per family file, for the checks that need not run on every variant.
FIRSTS = [
    n
    for i, n in enumerate(ZOO_APPLICATIONS)
    if zoo.spec(n).family not in {zoo.spec(m).family for m in ZOO_APPLICATIONS[:i]}
]
slow = pytest.mark.slow
# The README's test command runs ResNet50's comparisons; `pytest -m applications` every family's
# first model and every variant (CI's time budget)
DEFAULT_RUN = {"resnet50"}


def every_model(names=None) -> list:
    """One param per model: ResNet50's runs in the README's test command (slow); the others only
    with `pytest -m applications` (the exhaustive comparison)."""
    return [
        pytest.param(n, id=n, marks=[slow] if n in DEFAULT_RUN else [slow, pytest.mark.applications])
        for n in (names or ZOO_APPLICATIONS)
    ]


def test_all_forty_keras_applications_are_in_the_zoo():
    import keras

    constructors = {n for n in dir(keras.applications) if n[0].isupper()}
    assert len(APPLICATIONS) == 40 and set(APPLICATIONS.values()) == constructors
    assert ZOO_APPLICATIONS == list(APPLICATIONS)


def test_the_first_ten_architectures_are_in_the_zoo():
    first_ten = [
        "vgg16",
        "vgg19",
        "resnet50",
        "resnet101",
        "resnet152",
        "resnet50_v2",
        "resnet101_v2",
        "resnet152_v2",
        "mobilenet",
        "mobilenet_v2",
    ]
    assert set(first_ten) <= set(ZOO_APPLICATIONS)


# With the top, without it at another size, with an open input, with an input tensor, in both data
# formats: Keras's own applications tests (test_keras_applications_suite.py) compare every model
# they build with keras.applications'. What they leave out: average pooling on a non-square input.
@pytest.mark.parametrize("name", every_model())
def test_the_same_model_without_the_top_at_another_size(name):
    assert differences(name, include_top=False, input_shape=(96, 112, 3), pooling="avg") == []


def test_without_the_top_the_input_size_is_left_open_as_keras_does():
    spec = zoo.spec("resnet50", include_top=False)
    assert spec.input == (None, None, 3)
    s = zoo.summary(spec, engine="formula")
    assert s.rows[-1].output_shape == (None, None, None, 2048) and s.macs is None
    assert s.total_params == 23_587_712  # parameters do not depend on the input size
    assert s.row("conv5_block3_out").receptive_field == (483, 483)  # nor does the receptive field
    assert s == zoo.summary(spec, engine="keras")
    assert zoo.spec("resnet50", include_top=False, input_shape=(64, 64, 3)).input == (64, 64, 3)
    assert zoo.spec("vgg16_base").input == (224, 224, 3)  # the tutorial's base keeps its size
    with pytest.raises(
        zoo.SpecError,
        match=re.escape(
            "leaves its input size open [None, None, 3]; zoo.run needs one: pass input_shape=..."
        ),
    ):
        import dataclasses

        from zoo.keras import training

        training.dummy_data(dataclasses.replace(spec, data={"classes": 1000}), 2, 0)


def test_a_small_vgg16_base_is_the_same_model():
    """The inner loop's witness: VGG16 without its top at 32x32 (fast to build)."""
    assert differences("vgg16", include_top=False, input_shape=(32, 32, 3)) == []
    assert differences("vgg16", include_top=False, input_shape=(32, 32, 3), pooling="max") == []


@pytest.mark.slow  # seconds: the inner loop's budget
def test_the_comparison_sees_a_changed_argument():
    """The witness can fail: a ResNet whose BatchNormalization epsilon differs is not Keras's model."""
    path = zoo.default_registry().path("resnet50")
    text = path.read_text().replace("epsilon: 1.001e-5", "epsilon: 1.0e-3")
    changed = zoo.Spec.from_yaml(text, path, name="resnet50", include_top=False, input_shape=(32, 32, 3))
    ours = zoo.build(changed, compile=False)
    theirs = reference("resnet50", include_top=False, input_shape=(32, 32, 3))
    assert [r[:4] for r in layer_table(ours)[1:]] == [
        r[:4] for r in layer_table(theirs)[1:]
    ]  # same counts...
    assert normalised_json(ours) != normalised_json(theirs)  # ...but not the same model


@pytest.mark.parametrize(
    ("name", "overrides", "message"),
    [
        (
            "resnet50",
            {"input_shape": (16, 16, 3)},
            "Input size must be at least 32x32; Received: input_shape=(16, 16, 3)",
        ),
        ("vgg16", {"pooling": "mean", "include_top": False}, "pooling must be None, 'avg' or 'max'"),
        (
            "resnet50",
            {"weights": "imagenet", "input_shape": (96, 96, 3)},
            "When setting `include_top=True` and loading `imagenet` weights, `input_shape` should be "
            "(224, 224, 3)",
        ),
        ("vgg19", {"weights": "imagenet", "classes": 10}, "`classes` should be 1000.  Received classes=10"),
        ("resnet50", {"include_tops": False}, "unknown override for 'resnet50'; did you mean 'include_top'?"),
    ],
)
def test_keras_applications_rules_are_spec_errors(name, overrides, message):
    with pytest.raises(zoo.SpecError, match=re.escape(message)):
        zoo.summary(name, engine="formula", **overrides)


# ---------------------------------------------------------------- weights in keras.applications' layout


def _save_legacy_h5(model, path):
    import h5py
    from keras.src.legacy.saving import legacy_h5_format

    with h5py.File(path, "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, model)


def _same_predictions(name, path, theirs, **overrides):
    """zoo's model loading ``path`` predicts exactly what ``theirs`` (the model saved there) does."""
    import keras

    keras.utils.set_random_seed(8)  # zoo's own initial weights differ; the file must replace them all
    ours = zoo.build(name, weights=path, compile=False, **overrides)
    x = np.random.default_rng(0).random((2, *ours.input_shape[1:]), dtype=np.float32)
    # called directly, not through predict: the same arithmetic without tracing 800-layer graphs
    got, expected = (keras.ops.convert_to_numpy(m(x, training=False)) for m in (ours, theirs))
    np.testing.assert_array_equal(got, expected)


@pytest.mark.slow  # seconds: the inner loop's budget
def test_a_keras_applications_weights_file_loads_by_path(tmp_path):
    import keras

    keras.utils.set_random_seed(7)
    theirs = reference("vgg16", include_top=False, input_shape=(32, 32, 3))
    path = tmp_path / "vgg16_notop.h5"
    _save_legacy_h5(theirs, path)
    _same_predictions("vgg16", str(path), theirs, include_top=False, input_shape=(32, 32, 3))


@pytest.mark.parametrize(
    "name", [pytest.param(n, marks=[slow, pytest.mark.applications]) for n in ZOO_APPLICATIONS]
)
def test_every_weights_file_loads_with_identical_predictions(name, tmp_path):
    """By path, every model (the default run loads each family's ImageNet file through Keras's cache:
    test_keras_applications_suite.py's test_application_base)."""
    import keras

    keras.utils.set_random_seed(7)
    path = tmp_path / f"{name}.h5"
    theirs = reference(name, include_top=False, input_shape=(80, 80, 3))  # Xception's minimum is 71
    _save_legacy_h5(theirs, path)
    _same_predictions(name, str(path), theirs, include_top=False, input_shape=(80, 80, 3))


@pytest.mark.slow  # seconds: the inner loop's budget
def test_imagenet_resolves_keras_s_file_name_and_refuses_a_wrong_hash(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.setenv("ZOO_OFFLINE", "1")
    spec = zoo.spec("resnet50", include_top=False, weights="imagenet")
    wf = weights.WeightsFile.of_spec(spec)
    assert (wf.filename, wf.file_hash) == (
        "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5",
        "4d473c1dd8becc155b73f8504c6f6626",
    )  # keras resnet.py WEIGHTS_HASHES
    assert wf.origin == "https://storage.googleapis.com/tensorflow/keras-applications/resnet/" + wf.filename
    with pytest.raises(
        weights.WeightsError,
        match=re.escape(
            "Put the file resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5 in the folder "
            f"{tmp_path}/models/"
        ),
    ):
        zoo.build("resnet50", include_top=False, weights="imagenet", compile=False)
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / wf.filename).write_bytes(b"not the weights")
    with pytest.raises(weights.WeightsError, match="does not match Keras's published md5 4d473c1d"):
        zoo.build("resnet50", include_top=False, weights="imagenet", compile=False)
    top = weights.WeightsFile.of_spec(zoo.spec("vgg19", weights="imagenet"))
    assert (top.filename, top.file_hash) == (
        "vgg19_weights_tf_dim_ordering_tf_kernels.h5",
        "cbe5617147190e668d6c5d5026f83318",
    )


class _Asked(Exception):
    pass


def _keras_weights_request(name, monkeypatch, **overrides):
    """(file name, URL, hash) keras.applications asks its downloader for, captured, nothing fetched."""
    import keras
    from keras.src.utils import file_utils

    def ask(fname, origin=None, *args, file_hash=None, **kwargs):
        raise _Asked(fname, origin, file_hash)

    monkeypatch.setattr(file_utils, "get_file", ask)
    keras.utils.clear_session()
    with pytest.raises(_Asked) as asked, warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # MobileNet: "Weights for input shape (224, 224) ..."
        getattr(keras.applications, APPLICATIONS[name])(weights="imagenet", **overrides)
    return asked.value.args


def _imagenet_case(name, include_top):
    marks = [slow] if name in DEFAULT_RUN else [slow, pytest.mark.applications]
    return pytest.param(name, include_top, id=f"{name}-{'top' if include_top else 'notop'}", marks=marks)


@pytest.mark.parametrize(
    ("name", "include_top"), [_imagenet_case(n, top) for n in ZOO_APPLICATIONS for top in (True, False)]
)
def test_imagenet_resolves_the_file_keras_applications_asks_for(name, include_top, monkeypatch):
    """The witness is Keras itself: the file name, URL and hash its own constructor requests.

    Keras publishes no hash for the MobileNet files (None on both sides)."""
    overrides = {"include_top": include_top}
    if include_top and name.startswith("mobilenet_v3"):
        overrides["input_shape"] = (224, 224, 3)
    wf = weights.WeightsFile.of_spec(zoo.spec(name, weights="imagenet", **overrides))
    assert (wf.filename, wf.origin, wf.file_hash) == _keras_weights_request(name, monkeypatch, **overrides)


@pytest.mark.slow  # seconds: the inner loop's budget
def test_imagenet_loads_a_file_in_keras_s_cache_that_passes_its_hash(tmp_path, monkeypatch):
    import keras

    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    keras.utils.set_random_seed(7)
    spec = zoo.spec("vgg16", include_top=False, input_shape=(32, 32, 3), weights="imagenet")
    wf = weights.WeightsFile.of_spec(spec)
    path = tmp_path / "models" / wf.filename
    path.parent.mkdir()
    theirs = reference("vgg16", include_top=False, input_shape=(32, 32, 3))
    _save_legacy_h5(theirs, path)
    made = weights.WeightsFile(wf.model, wf.filename, weights.md5sum(path), wf.origin)
    monkeypatch.setattr(weights.WeightsFile, "of_spec", classmethod(lambda cls, s: made))
    _same_predictions("vgg16", "imagenet", theirs, include_top=False, input_shape=(32, 32, 3))


# ---------------------------------------------------------------- published figures


@pytest.mark.parametrize(
    ("name", "giga_macs"),
    [
        ("resnet50", 3.858),
        ("vgg16", 15.47),
        ("mobilenet_v2", 0.3008),
        ("mobilenet", 0.5687),
        ("densenet121", 2.834),
        ("inception_v3", 5.713),
        ("xception", 8.357),
        ("efficientnet_b0", 0.3858),
        ("efficientnet_b7", 37.75),
        ("nasnet_mobile", 0.5636),
        ("convnext_tiny", 4.456),
        ("mobilenet_v3_large", 0.2166),
    ],
)
def test_macs_per_image_are_the_published_figures(name, giga_macs):
    """Published multiply-accumulates at the default size with the classifier (Keras's model table, the
    papers); MobileNetV3's default input is open, so it is compared at 224x224 as published."""
    overrides = {"input_shape": (224, 224, 3)} if name.startswith("mobilenet_v3") else {}
    macs = zoo.summary(name, engine="formula", **overrides).macs
    assert macs / 1e9 == pytest.approx(giga_macs, rel=5e-4)


@pytest.mark.parametrize(
    ("name", "layer", "field", "stride"),
    [
        ("vgg16", "block5_pool", 212, 32),
        ("resnet50", "conv5_block3_out", 483, 32),
        ("mobilenet", "conv_pw_13_relu", 315, 32),
        ("inception_resnet_v2", "conv_7b_ac", 3039, 32),
    ],
)
def test_receptive_fields_are_google_research_s(name, layer, field, stride):
    """google-research/receptive_field's table: receptive field and effective stride at the last
    feature map."""
    row = zoo.summary(name, engine="formula").row(layer)
    assert (row.receptive_field, row.effective_stride) == ((field, field), (stride, stride))


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("vgg16", 138_357_544),
        ("vgg19", 143_667_240),
        ("resnet50", 25_636_712),
        ("resnet101", 44_707_176),
        ("resnet152", 60_419_944),
        ("resnet50_v2", 25_613_800),
        ("resnet101_v2", 44_675_560),
        ("resnet152_v2", 60_380_648),
        ("mobilenet", 4_253_864),
        ("mobilenet_v2", 3_538_984),
        ("densenet121", 8_062_504),
        ("densenet169", 14_307_880),
        ("densenet201", 20_242_984),
        ("inception_v3", 23_851_784),
        ("xception", 22_910_480),
        ("inception_resnet_v2", 55_873_736),
        ("efficientnet_b0", 5_330_571),
        ("efficientnet_b1", 7_856_239),
        ("efficientnet_b2", 9_177_569),
        ("efficientnet_b3", 12_320_535),
        ("efficientnet_b4", 19_466_823),
        ("efficientnet_b5", 30_562_527),
        ("efficientnet_b6", 43_265_143),
        ("efficientnet_b7", 66_658_687),
        ("efficientnet_v2_b0", 7_200_312),
        ("efficientnet_v2_b1", 8_212_124),
        ("efficientnet_v2_b2", 10_178_374),
        ("efficientnet_v2_b3", 14_467_622),
        ("efficientnet_v2_s", 21_612_360),
        ("efficientnet_v2_m", 54_431_388),
        ("efficientnet_v2_l", 119_027_848),
        ("nasnet_mobile", 5_326_716),
        ("nasnet_large", 88_949_818),
        ("convnext_tiny", 28_589_128),
        ("convnext_small", 50_223_688),
        ("convnext_base", 88_591_464),
        ("convnext_large", 197_767_336),
        ("convnext_xlarge", 350_196_968),
        ("mobilenet_v3_small", 2_554_968),
        ("mobilenet_v3_large", 5_507_432),
    ],
)
def test_parameter_counts_are_keras_s_published_ones(name, params):
    """keras.io/api/applications lists each model's size; the formula engine must reproduce it."""
    assert zoo.summary(name, engine="formula").total_params == params


def test_efficientnet_with_imagenet_weights_adds_keras_s_extra_rescaling_layer():
    """keras.applications' EfficientNet rescales by 1/sqrt(ImageNet's stddev) when it loads its weights."""
    plain = [layer.name for layer in zoo.spec("efficientnet_b0").layers[:3]]
    imagenet = zoo.spec("efficientnet_b0", weights="imagenet").layers[:3]
    assert plain == ["rescaling", "normalization", "stem_conv_pad"]
    assert [layer.name for layer in imagenet] == ["rescaling", "normalization", "rescaling_1"]
    assert imagenet[2].args["scale"] == tuple(1.0 / math.sqrt(s) for s in (0.229, 0.224, 0.225))


@slow
def test_efficientnet_with_imagenet_weights_is_keras_s_model_too(monkeypatch, tmp_path):
    """Built both ways with ImageNet weights, loading stubbed out (nothing is downloaded)."""
    import keras
    from keras.src.applications import efficientnet

    monkeypatch.setattr(efficientnet.file_utils, "get_file", lambda *a, **k: "unused.h5")
    monkeypatch.setattr(keras.Model, "load_weights", lambda self, path, *a, **k: None)
    monkeypatch.setattr(weights, "resolve", lambda w, model=None: "unused.h5")
    keras.utils.clear_session()
    theirs = keras.applications.EfficientNetB0(weights="imagenet", include_top=False, input_shape=(64, 64, 3))
    ours = zoo.build(
        "efficientnet_b0", weights="imagenet", compile=False, include_top=False, input_shape=(64, 64, 3)
    )
    assert normalised_json(ours) == normalised_json(theirs)


def test_inception_v3_receptive_fields_at_every_mixed_block_are_google_research_s():
    s = zoo.summary("inception_v3", engine="formula")
    got = [(s.row(f"mixed{k}").receptive_field[0], s.row(f"mixed{k}").effective_stride[0]) for k in range(11)]
    assert got == [
        (63, 8),
        (95, 8),
        (127, 8),
        (159, 16),
        (351, 16),
        (543, 16),
        (735, 16),
        (927, 16),
        (1055, 32),
        (1183, 32),
        (1311, 32),
    ]


def test_the_tutorial_s_vgg16_base_is_computed_from_the_vgg_family():
    """No architecture is described twice: the VGG16 layer's row is the vgg16_base variant's total."""
    base = zoo.summary("vgg16_transfer", engine="formula").rows[0]
    assert base.params == zoo.summary("vgg16_base", engine="formula").total_params == 14_714_688
    explained = zoo.explain("vgg16_transfer")
    assert "block5_conv3: out = floor((14 - 3 + 2) / 1) + 1 = 14" in explained


# ConvNeXtTiny..XLarge fix drop_path_rate at 0.0; ConvNeXt() takes any. With a rate, every block
# but the first (whose rate in np.linspace(0, rate, sum(depths)) is 0) ends in Keras's own
# StochasticDepth layer, its rate in the layer's config.
@pytest.mark.slow
@pytest.mark.large
@pytest.mark.parametrize("rate", [0.1, 0.5])
@pytest.mark.parametrize(
    ("name", "depths", "dims"),
    [
        ("convnext_tiny", [3, 3, 9, 3], [96, 192, 384, 768]),
        ("convnext_small", [3, 3, 27, 3], [96, 192, 384, 768]),
    ],
)
def test_convnext_with_stochastic_depth_is_keras_s_model(name, depths, dims, rate):
    import keras
    from keras.src.applications import convnext
    from keras_reference import model_differences

    keras.utils.clear_session()
    theirs = convnext.ConvNeXt(
        depths=depths,
        projection_dims=dims,
        drop_path_rate=rate,
        name=name,
        weights=None,
        input_shape=(32, 32, 3),
    )
    ours = zoo.build(name, compile=False, weights=None, drop_path_rate=rate, input_shape=(32, 32, 3))
    assert model_differences(ours, theirs) == []
    kept = {
        layer.name: layer.drop_path_rate
        for layer in theirs.layers
        if type(layer).__name__ == "StochasticDepth"
    }
    assert len(kept) == sum(depths) - 1 and max(kept.values()) == rate
    got = {layer.name: layer.get_config()["drop_path_rate"] for layer in ours.layers if layer.name in kept}
    assert {k: v.hex() for k, v in got.items()} == {k: float(v).hex() for k, v in kept.items()}
