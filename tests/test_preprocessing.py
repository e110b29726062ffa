"""zoo.preprocess_input and zoo.decode_predictions against keras.applications' own functions.

For every keras.applications constructor, the family module's ``preprocess_input`` (Keras 3.15)
is the judge: the same array in, exactly the same numbers out, in both data formats, for a
batch and a single image, floats and bytes. zoo never imports a framework to do it, and it
leaves the caller's array as it was (Keras's numpy path works in place).
"""

from __future__ import annotations

import importlib
import json
import re
import subprocess
import sys

import numpy as np
import pytest
from keras_reference import APPLICATIONS

import zoo
from zoo.keras import preprocessing, weights

# keras.applications' module of each constructor
MODULES = {
    "VGG16": "vgg16",
    "VGG19": "vgg19",
    "Xception": "xception",
    "InceptionV3": "inception_v3",
    "InceptionResNetV2": "inception_resnet_v2",
    "MobileNet": "mobilenet",
    "MobileNetV2": "mobilenet_v2",
    "MobileNetV3Small": "mobilenet_v3",
    "MobileNetV3Large": "mobilenet_v3",
    "DenseNet121": "densenet",
    "DenseNet169": "densenet",
    "DenseNet201": "densenet",
    "NASNetMobile": "nasnet",
    "NASNetLarge": "nasnet",
    "ResNet50": "resnet",
    "ResNet101": "resnet",
    "ResNet152": "resnet",
    "ResNet50V2": "resnet_v2",
    "ResNet101V2": "resnet_v2",
    "ResNet152V2": "resnet_v2",
    **{f"EfficientNetB{k}": "efficientnet" for k in range(8)},
    **{f"EfficientNetV2{k}": "efficientnet_v2" for k in ("B0", "B1", "B2", "B3", "S", "M", "L")},
    **{f"ConvNeXt{k}": "convnext" for k in ("Tiny", "Small", "Base", "Large", "XLarge")},
}

RNG = np.random.default_rng(3)
ARRAYS = {
    "batch_float32": RNG.uniform(0, 255, (2, 8, 9, 3)).astype("float32"),
    "batch_float64": RNG.uniform(0, 255, (2, 5, 4, 3)),
    "image_uint8": RNG.integers(0, 256, (6, 7, 3)).astype("uint8"),
    "batch_int64": RNG.integers(0, 256, (1, 4, 4, 3)),
}


def test_every_constructor_has_its_module():
    assert sorted(MODULES) == sorted(APPLICATIONS.values())


@pytest.mark.parametrize("name", sorted(APPLICATIONS))
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("array", sorted(ARRAYS))
def test_preprocess_input_is_keras_s(name, data_format, array):
    module = importlib.import_module(f"keras.applications.{MODULES[APPLICATIONS[name]]}")
    x = ARRAYS[array]
    if data_format == "channels_first":
        x = np.moveaxis(x, -1, -3)
    before = x.copy()
    got = zoo.preprocess_input(name, x, data_format=data_format)
    want = module.preprocess_input(x.copy(), data_format=data_format)
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(x, before)  # the caller's array is untouched


def test_the_comparison_sees_another_mode():
    """The judge can fail: ResNet's caffe preprocessing is not MobileNet's tf one."""
    x = ARRAYS["batch_float32"]
    from keras.applications import mobilenet

    assert not np.array_equal(zoo.preprocess_input("resnet50", x), mobilenet.preprocess_input(x.copy()))


def test_preprocess_input_imports_no_framework():
    code = (
        "import sys, numpy as np, zoo\n"
        "zoo.preprocess_input('resnet50', np.zeros((1, 4, 4, 3)), data_format='channels_first')\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras', 'jax')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_preprocess_input_refuses_what_keras_refuses():
    with pytest.raises(
        zoo.SpecError,
        match=re.escape(
            "Expected data_format to be one of `channels_first` "
            "or `channels_last`. Received: data_format=nchw"
        ),
    ):
        zoo.preprocess_input("resnet50", np.zeros((1, 2, 2, 3)), data_format="nchw")
    with pytest.raises(zoo.SpecError, match="'conv2d' names no preprocessing"):
        zoo.preprocess_input("conv2d", np.zeros((1, 2, 2, 3)))


def _made_index(tmp_path, monkeypatch):
    index = {str(i): [f"n{i:08d}", f"class_{i}"] for i in range(1000)}
    path = tmp_path / "models" / preprocessing.CLASS_INDEX_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(index), encoding="utf-8")
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    return index, path


def test_decode_predictions_is_keras_s(tmp_path, monkeypatch):
    from keras.src.applications import imagenet_utils

    index, path = _made_index(tmp_path, monkeypatch)
    monkeypatch.setattr(preprocessing, "CLASS_INDEX_MD5", weights.md5sum(path))
    monkeypatch.setattr(imagenet_utils, "CLASS_INDEX", index)
    preds = np.random.default_rng(0).random((3, 1000)).astype("float32")
    assert zoo.decode_predictions(preds, top=3) == imagenet_utils.decode_predictions(preds, top=3)
    with pytest.raises(
        zoo.SpecError, match=re.escape("(samples, 1000)). Received array with shape: (3, 10)")
    ):
        zoo.decode_predictions(preds[:, :10])


def test_decode_predictions_says_where_the_class_index_goes(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.setenv("ZOO_OFFLINE", "1")
    with pytest.raises(
        zoo.WeightsError,
        match=re.escape(f"Put the file imagenet_class_index.json in the folder {tmp_path}/models/"),
    ):
        zoo.decode_predictions(np.zeros((1, 1000)))
    _made_index(tmp_path, monkeypatch)  # not Keras's file: its md5 is not Keras's
    with pytest.raises(zoo.WeightsError, match="does not match Keras's published md5 c2c37ea5"):
        zoo.decode_predictions(np.zeros((1, 1000)))
