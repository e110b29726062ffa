"""Keras's own tests of keras.applications, run against zoo.

``keras/src/applications/applications_test.py`` (Keras 3.15.1), adapted the way a Keras
maintainer would try zoo's promise that ``zoo.build(name, **kwargs)`` is the model
``keras.applications.<Constructor>(**kwargs)`` builds: every constructor replaced by
``lambda **kw: zoo.build(zoo_name, **kw)``, Keras's assertions kept as they are. Every test
runs for the forty constructors of Keras's MODEL_LIST in both data formats, with Keras's own
skips (ConvNeXt, DenseNet and NASNet do not support channels_first; on TensorFlow's CPU a
channels_first convolution cannot run, so test_application_base skips it there). Beyond
Keras's assertions, every model is compared with keras.applications' model built with the
same arguments in the same process (``keras_reference.model_differences``: layers, shapes,
parameters, inbound layers, ``to_json``).

Where Keras's test downloads (the ImageNet weights, the elephant picture, the class index),
the test makes the files: the ImageNet file is keras.applications' own model saved in its
``.h5`` layout under the name Keras asks for, in a temporary Keras cache; the picture is a
random image; the class index a made-up one. So test_application_base asks what it can
still ask without ImageNet: the file loads into zoo's model through ``weights="imagenet"``
and predicts what the saved model predicts, ``zoo.preprocess_input`` is the family module's
``preprocess_input``, ``zoo.decode_predictions`` is Keras's, and the model survives
serialisation. (Whether the elephant is recognised depends on the real weights only.)

The default run takes the first model of each family file; the other variants run with
``pytest -m applications``.
"""

from __future__ import annotations

import importlib
import json

import keras_reference
import numpy as np
import pytest
from keras_reference import APPLICATIONS, model_differences, older_keras

import zoo
from zoo.keras import preprocessing, weights
from zoo.specification import catalog

# Keras's MODEL_LIST: (constructor, last_dim, module), with zoo's name for the constructor
MODEL_LIST = [
    ("VGG16", 512, "vgg16"),
    ("VGG19", 512, "vgg19"),
    ("Xception", 2048, "xception"),
    ("InceptionV3", 2048, "inception_v3"),
    ("InceptionResNetV2", 1536, "inception_resnet_v2"),
    ("MobileNet", 1024, "mobilenet"),
    ("MobileNetV2", 1280, "mobilenet_v2"),
    ("MobileNetV3Small", 576, "mobilenet_v3"),
    ("MobileNetV3Large", 960, "mobilenet_v3"),
    ("EfficientNetB0", 1280, "efficientnet"),
    ("EfficientNetB1", 1280, "efficientnet"),
    ("EfficientNetB2", 1408, "efficientnet"),
    ("EfficientNetB3", 1536, "efficientnet"),
    ("EfficientNetB4", 1792, "efficientnet"),
    ("EfficientNetB5", 2048, "efficientnet"),
    ("EfficientNetB6", 2304, "efficientnet"),
    ("EfficientNetB7", 2560, "efficientnet"),
    ("EfficientNetV2B0", 1280, "efficientnet_v2"),
    ("EfficientNetV2B1", 1280, "efficientnet_v2"),
    ("EfficientNetV2B2", 1408, "efficientnet_v2"),
    ("EfficientNetV2B3", 1536, "efficientnet_v2"),
    ("EfficientNetV2S", 1280, "efficientnet_v2"),
    ("EfficientNetV2M", 1280, "efficientnet_v2"),
    ("EfficientNetV2L", 1280, "efficientnet_v2"),
    ("DenseNet121", 1024, "densenet"),
    ("DenseNet169", 1664, "densenet"),
    ("DenseNet201", 1920, "densenet"),
    ("ConvNeXtTiny", 768, "convnext"),
    ("ConvNeXtSmall", 768, "convnext"),
    ("ConvNeXtBase", 1024, "convnext"),
    ("ConvNeXtLarge", 1536, "convnext"),
    ("ConvNeXtXLarge", 2048, "convnext"),
    ("NASNetMobile", 1056, "nasnet"),
    ("NASNetLarge", 4032, "nasnet"),
    ("ResNet50", 2048, "resnet"),
    ("ResNet101", 2048, "resnet"),
    ("ResNet152", 2048, "resnet"),
    ("ResNet50V2", 2048, "resnet_v2"),
    ("ResNet101V2", 2048, "resnet_v2"),
    ("ResNet152V2", 2048, "resnet_v2"),
]
MODELS_UNSUPPORTED_CHANNELS_FIRST = ["ConvNeXt", "DenseNet", "NASNet"]
# Too big to write and read an ImageNet file in the default run (VGG's are over 500 MB)
HEAVY_FILES = {"VGG16", "VGG19"}

# One constructor per family file (zoo's vgg.yaml holds VGG16 and VGG19, Keras's modules are two)
FIRSTS: set[str] = set()
for _ctor, _, _ in MODEL_LIST:
    if zoo.spec(catalog.APPLICATIONS[_ctor]).family not in {
        zoo.spec(catalog.APPLICATIONS[c]).family for c in FIRSTS
    }:
        FIRSTS.add(_ctor)


# The default run compares ResNet50 with keras.applications in every way (and the cases whose
# outcome depends on the Keras release); `pytest -m applications` every model, FIRSTS included.
DEFAULT_RUN = {"ResNet50"}


def _params(heavy: set[str] = frozenset(), releases: set[str] = frozenset()) -> list:
    """Keras's parameters; ``releases``: the constructors/formats (``ConvNeXtTiny_channels_last``)
    whose outcome depends on the Keras release, which CI runs on the oldest supported pair too."""
    out = []
    for data_format in ("channels_first", "channels_last"):
        for ctor, last_dim, module in MODEL_LIST:
            marks = [pytest.mark.slow]
            if f"{ctor}_{data_format}" in releases:
                marks.append(pytest.mark.releases)
            elif ctor not in DEFAULT_RUN or ctor in heavy:
                # every other model in the applications tier (CI's time budget)
                marks.append(pytest.mark.applications)
            out.append(
                pytest.param(ctor, last_dim, module, data_format, id=f"{ctor}_{data_format}", marks=marks)
            )
    return out


def app(ctor: str):
    """The constructor replaced: zoo builds the model keras.applications' constructor would."""
    return lambda **kw: zoo.build(catalog.APPLICATIONS[ctor], compile=False, **kw)


def keras_app(ctor: str):
    import keras

    return getattr(keras.applications, ctor)


@pytest.fixture
def fresh_session():
    import keras

    keras.utils.clear_session()
    yield keras


def skip_if_invalid_image_data_format_for_model(ctor: str, image_data_format: str) -> None:
    if image_data_format == "channels_first" and any(
        n.lower() in ctor.lower() for n in MODELS_UNSUPPORTED_CHANNELS_FIRST
    ):
        pytest.skip(f"{ctor} does not support channels first")


def refused_before_3_14(ctor: str, image_data_format: str, **kwargs) -> bool:
    """EfficientNetV2 in channels_first before Keras 3.14 (keras_versions
    'efficientnetv2-channels-first-normalization'): 3.8 cannot build it and 3.9 to 3.13 pre-broadcast
    its statistics; zoo's family file gives them as 3.14 does, and zoo refuses them on those releases
    with a SpecError naming Keras's change. True where that was checked (the test ends there)."""
    if not (
        ctor.startswith("EfficientNetV2")
        and image_data_format == "channels_first"
        and older_keras("efficientnetv2-channels-first-normalization")
    ):
        return False
    with pytest.raises(zoo.SpecError, match=r"keras-team/keras#22068"):
        app(ctor)(**kwargs)
    return True


def same_model(ctor: str, ours, **kwargs):
    """keras.applications' model with the same arguments, in the same process, is zoo's (returned)."""
    import keras

    keras.utils.clear_session()  # Keras's automatic names start afresh, as zoo's do
    theirs = keras_app(ctor)(**kwargs)
    assert model_differences(ours, theirs) == []
    return theirs


@pytest.mark.filterwarnings("ignore:This model usually expects 1 or 3 input channels")  # Keras's and zoo's
@pytest.mark.parametrize(("ctor", "last_dim", "module", "image_data_format"), _params())
def test_application_notop_variable_input_channels(ctor, last_dim, module, image_data_format, fresh_session):
    skip_if_invalid_image_data_format_for_model(ctor, image_data_format)
    with keras_reference.image_data_format(image_data_format):
        # Test compatibility with 1 channel
        if image_data_format == "channels_first":
            input_shape = (1, None, None)
            correct_output_shape = [None, last_dim, None, None]
        else:
            input_shape = (None, None, 1)
            correct_output_shape = [None, None, None, last_dim]
        model = app(ctor)(weights=None, include_top=False, input_shape=input_shape)
        output_shape = list(model.outputs[0].shape)
        assert output_shape == correct_output_shape
        same_model(ctor, model, weights=None, include_top=False, input_shape=input_shape)

        # Test compatibility with 4 channels
        input_shape = (4, None, None) if image_data_format == "channels_first" else (None, None, 4)
        fresh_session.utils.clear_session()
        model = app(ctor)(weights=None, include_top=False, input_shape=input_shape)
        output_shape = list(model.outputs[0].shape)
        assert output_shape == correct_output_shape
        same_model(ctor, model, weights=None, include_top=False, input_shape=input_shape)


# MobileNet's: with ImageNet weights at an open or odd size it loads the 224 files and says so
@pytest.mark.filterwarnings("ignore:`input_shape` is undefined or non-square")
@pytest.mark.parametrize(("ctor", "last_dim", "module", "image_data_format"), _params(HEAVY_FILES))
def test_application_base(ctor, last_dim, module, image_data_format, fresh_session, tmp_path, monkeypatch):
    import keras

    if image_data_format == "channels_first" and keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        if not tf.config.list_physical_devices("GPU"):
            pytest.skip("Conv2D doesn't support channels_first using CPU with tensorflow backend")
    skip_if_invalid_image_data_format_for_model(ctor, image_data_format)
    name = catalog.APPLICATIONS[ctor]
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.setenv("ZOO_OFFLINE", "1")
    with keras_reference.image_data_format(image_data_format):
        # The ImageNet file, made: keras.applications' model, saved where Keras caches it
        keras.utils.set_random_seed(7)
        path = imagenet_file(name, keras_app(ctor)(weights=None), monkeypatch)

        # Can be instantiated with default arguments; keras.applications loads the same file (its
        # downloader answers with it), and its model with ImageNet weights is zoo's (EfficientNet's
        # has an extra rescaling layer then)
        model = app(ctor)(weights="imagenet")
        from keras.src.utils import file_utils

        monkeypatch.setattr(file_utils, "get_file", lambda *args, **kwargs: str(path))
        theirs = same_model(ctor, model, weights="imagenet")

        # Can run a correct inference on a test image
        if image_data_format == "channels_first":
            shape = model.input_shape[2:4]
        else:
            shape = model.input_shape[1:3]
        x = a_picture(shape, image_data_format)

        keras_module = importlib.import_module(f"keras.applications.{module}")
        expected_x = keras_module.preprocess_input(x.copy())
        x = zoo.preprocess_input(name, x)
        np.testing.assert_array_equal(x, expected_x)
        preds = keras.ops.convert_to_numpy(model(x, training=False))
        np.testing.assert_array_equal(preds, keras.ops.convert_to_numpy(theirs(x, training=False)))
        class_index = made_class_index(tmp_path, monkeypatch)
        assert zoo.decode_predictions(preds) == keras_decode(keras_module, preds, class_index)

        # Can be serialized and deserialized
        from keras.src.saving import serialization_lib

        config = serialization_lib.serialize_keras_object(model)
        reconstructed_model = serialization_lib.deserialize_keras_object(config)
        assert len(model.weights) == len(reconstructed_model.weights)


@pytest.mark.parametrize(
    ("ctor", "last_dim", "module", "image_data_format"), _params(releases={"EfficientNetV2B0_channels_first"})
)
def test_application_notop_custom_input_shape(ctor, last_dim, module, image_data_format, fresh_session):
    skip_if_invalid_image_data_format_for_model(ctor, image_data_format)
    with keras_reference.image_data_format(image_data_format):
        if image_data_format == "channels_first":
            input_shape = (3, 123, 123)
            last_dim_axis = 1
        else:
            input_shape = (123, 123, 3)
            last_dim_axis = -1
        if refused_before_3_14(
            ctor, image_data_format, weights=None, include_top=False, input_shape=input_shape
        ):
            return
        model = app(ctor)(weights=None, include_top=False, input_shape=input_shape)
        output_shape = list(model.outputs[0].shape)
        assert output_shape[last_dim_axis] == last_dim
        same_model(ctor, model, weights=None, include_top=False, input_shape=input_shape)


@pytest.mark.filterwarnings("ignore:This model usually expects 1 or 3 input channels")
@pytest.mark.parametrize(
    ("ctor", "last_dim", "module", "image_data_format"), _params(releases={"ConvNeXtTiny_channels_last"})
)
def test_application_notop_custom_input_tensor(ctor, last_dim, module, image_data_format, fresh_session):
    from keras.layers import Conv2D, Input

    skip_if_invalid_image_data_format_for_model(ctor, image_data_format)
    with keras_reference.image_data_format(image_data_format):
        if image_data_format == "channels_first":
            input_shape = (4, 200, 200)
            last_dim_axis = 1
        else:
            input_shape = (200, 200, 4)
            last_dim_axis = -1

        inputs_custom = Input(shape=input_shape, name="custom_input")
        inputs_custom = Conv2D(3, (2, 2), padding="valid", strides=(2, 2))(inputs_custom)
        if refused_before_3_14(
            ctor, image_data_format, weights=None, include_top=False, input_tensor=inputs_custom
        ):
            return
        model = app(ctor)(weights=None, include_top=False, input_tensor=inputs_custom)
        output_shape = list(model.outputs[0].shape)
        assert output_shape[last_dim_axis] == last_dim
        if ctor.startswith("ConvNeXt") and older_keras("convnext-input-tensor"):
            # before 3.9 Keras starts the graph at the source Input, drops the Conv2D, and its
            # preprocessing then fails on four channels (keras-team/keras#20854); zoo builds 3.9's
            with pytest.raises(Exception, match="Incompatible shapes"):
                keras_app(ctor)(weights=None, include_top=False, input_tensor=inputs_custom)
            return
        # keras.applications' model on the same tensor: the same layers after the same history (zoo's
        # explicit names do not move Keras's counters, so Keras's automatic names are zoo's)
        theirs = keras_app(ctor)(weights=None, include_top=False, input_tensor=inputs_custom)
        assert [layer.name for layer in model.layers[:2]] == ["custom_input", "conv2d"]
        assert model_differences(model, theirs) == []


@pytest.mark.parametrize(("ctor", "last_dim", "module", "image_data_format"), _params())
def test_application_pooling(ctor, last_dim, module, image_data_format, fresh_session):
    skip_if_invalid_image_data_format_for_model(ctor, image_data_format)
    with keras_reference.image_data_format(image_data_format):
        if refused_before_3_14(ctor, image_data_format, weights=None, include_top=False, pooling="max"):
            return
        model = app(ctor)(weights=None, include_top=False, pooling="max")
        output_shape = list(model.outputs[0].shape)
        assert output_shape == [None, last_dim]
        same_model(ctor, model, weights=None, include_top=False, pooling="max")


@pytest.mark.parametrize(("ctor", "last_dim", "module", "image_data_format"), _params())
def test_application_classifier_activation(ctor, last_dim, module, image_data_format, fresh_session):
    # Keras's test does not set the data format here (it runs in whichever the previous test left);
    # zoo's runs in both, with Keras's own skips
    skip_if_invalid_image_data_format_for_model(ctor, image_data_format)
    with keras_reference.image_data_format(image_data_format):
        if refused_before_3_14(ctor, image_data_format, weights=None, classifier_activation="softmax"):
            return
        model = app(ctor)(weights=None, include_top=True, classifier_activation="softmax")
        last_layer_act = model.layers[-1].activation.__name__
        assert last_layer_act == "softmax"
        same_model(ctor, model, weights=None, include_top=True, classifier_activation="softmax")


# ---------------------------------------------------------------- helpers


def imagenet_file(name: str, model, monkeypatch) -> object:
    """``model``'s weights saved in keras.applications' .h5 layout under the ImageNet file's name in
    Keras's cache; zoo is told that file's md5 (a made file cannot have Keras's published one)."""
    import h5py
    from keras.src.legacy.saving import legacy_h5_format

    wf = weights.WeightsFile.of_spec(zoo.spec(name, weights="imagenet"))
    path = weights.cache_path(wf)
    path.parent.mkdir(parents=True, exist_ok=True)
    with h5py.File(path, "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, model)
    original = weights.WeightsFile.of_spec.__func__
    made_hash = weights.md5sum(path)

    def of_spec(cls, spec):
        found = original(cls, spec)
        return weights.WeightsFile(found.model, found.filename, made_hash, found.origin)

    monkeypatch.setattr(weights.WeightsFile, "of_spec", classmethod(of_spec))
    return path


def a_picture(size, data_format: str) -> np.ndarray:
    """A 'picture' in [0, 255], as image_utils.img_to_array gives one (float32), batch of one."""
    rows, cols = (299, 299) if size[0] is None else size
    x = np.random.default_rng(0).integers(0, 256, size=(rows, cols, 3)).astype("float32")
    if data_format == "channels_first":
        x = x.transpose(2, 0, 1)
    return x[np.newaxis]


def made_class_index(cache, monkeypatch) -> dict[str, list[str]]:
    """A class index in the layout of Keras's imagenet_class_index.json, in the test's Keras cache."""
    index = {str(i): [f"n{i:08d}", f"class_{i}"] for i in range(1000)}
    path = cache / "models" / preprocessing.CLASS_INDEX_FILE
    path.write_text(json.dumps(index), encoding="utf-8")
    monkeypatch.setattr(preprocessing, "CLASS_INDEX_MD5", weights.md5sum(path))
    return index


def keras_decode(keras_module, preds, class_index):
    from keras.src.applications import imagenet_utils

    previous = imagenet_utils.CLASS_INDEX
    imagenet_utils.CLASS_INDEX = class_index
    try:
        return keras_module.decode_predictions(preds)
    finally:
        imagenet_utils.CLASS_INDEX = previous


def test_every_keras_applications_constructor_is_in_keras_s_list_and_zoo_s():
    assert sorted(c for c, _, _ in MODEL_LIST) == sorted(APPLICATIONS.values())
    assert len(FIRSTS) == len({m for _, _, m in MODEL_LIST}) - 1  # mobilenet_v3's two share a module
