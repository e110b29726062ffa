"""keras.applications' image preprocessing and ImageNet decoding, as data and plain numpy.

Each family file names its ``preprocess:`` mode, as each keras.applications module's
``preprocess_input`` does: ``caffe`` (RGB to BGR, then the ImageNet mean subtracted per channel;
VGG, ResNet), ``tf`` (scaled to [-1, 1]; MobileNet, Inception, Xception, NASNet, ResNetV2),
``torch`` (scaled to [0, 1], then normalised by the ImageNet mean and standard deviation;
DenseNet), or ``none`` where the model rescales inside itself (EfficientNet, EfficientNetV2,
MobileNetV3, ConvNeXt). :func:`preprocess_input` follows ``imagenet_utils._preprocess_numpy_input``
operation by operation (Keras 3.15), so the numbers are Keras's to the last bit, without
importing a framework and without changing the caller's array (Keras's works in place).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np

from zoo.specification.errors import SpecError

MODES = ("caffe", "tf", "torch", "none")
DATA_FORMATS = ("channels_last", "channels_first")

# keras.applications.imagenet_utils: the class names of ImageNet's 1,000 classes, and Keras's md5
CLASS_INDEX_FILE = "imagenet_class_index.json"
CLASS_INDEX_URL = "https://storage.googleapis.com/download.tensorflow.org/data/imagenet_class_index.json"
CLASS_INDEX_MD5 = "c2c37ea517e94d9795004a39431a14cb"


def _data_format(data_format: str | None) -> str:
    """``None``: Keras's configured format where Keras is already in use, else channels_last."""
    if data_format is None:
        keras = sys.modules.get("keras")
        return keras.config.image_data_format() if keras is not None else "channels_last"
    if data_format not in DATA_FORMATS:
        raise SpecError(
            "Expected data_format to be one of `channels_first` or `channels_last`. "
            f"Received: data_format={data_format}"
        )
    return data_format


def preprocess(images: Any, mode: str, data_format: str | None = None) -> np.ndarray:
    """``x`` (a batch of images or one image, RGB in [0, 255]) prepared as ``mode`` prescribes."""
    if mode not in MODES:
        raise SpecError(f"Expected mode to be one of `caffe`, `tf` or `torch`. Received: mode={mode}")
    data_format = _data_format(data_format)
    x: np.ndarray = np.array(images, copy=True)
    if mode == "none":
        return x
    if not issubclass(x.dtype.type, np.floating):
        x = x.astype("float32", copy=False)  # Keras's floatx
    if mode == "tf":
        x /= 127.5
        x -= 1.0
        return x
    if mode == "torch":
        x /= 255.0
        mean, std = [0.485, 0.456, 0.406], [0.229, 0.224, 0.225]
    else:  # caffe: 'RGB' -> 'BGR'
        if data_format == "channels_first":
            x = x[::-1, ...] if x.ndim == 3 else x[:, ::-1, ...]
        else:
            x = x[..., ::-1]
        mean, std = [103.939, 116.779, 123.68], None
    channels = (slice(None),) * (0 if x.ndim == 3 else 1) if data_format == "channels_first" else (Ellipsis,)
    for c in range(3):  # zero-centre by the mean pixel, channel by channel, as Keras does
        x[(*channels, c)] -= mean[c]
    if std is not None:
        for c in range(3):
            x[(*channels, c)] /= std[c]
    return x


def decode(preds: Any, class_index: dict[str, list[str]], top: int = 5) -> list[list[tuple[Any, ...]]]:
    """``imagenet_utils.decode_predictions`` with a given class index: the ``top`` classes of each row."""
    preds = np.asarray(preds)
    if preds.ndim != 2 or preds.shape[1] != 1000:
        raise SpecError(
            "`decode_predictions` expects a batch of predictions (i.e. a 2D array of shape "
            f"(samples, 1000)). Received array with shape: {preds.shape}"
        )
    results = []
    for pred in preds:
        top_indices = pred.argsort()[-top:][::-1]
        result = [(*class_index[str(i)], pred[i]) for i in top_indices]
        result.sort(key=lambda r: r[2], reverse=True)
        results.append(result)
    return results


def class_index() -> dict[str, list[str]]:
    """ImageNet's class index from Keras's cache (``$KERAS_HOME/models/imagenet_class_index.json``),
    checked against Keras's md5; fetched by Keras's downloader where there is a network, else an
    error that says which file to put where."""
    from zoo.keras import weights

    wf = weights.WeightsFile("imagenet class index", CLASS_INDEX_FILE, CLASS_INDEX_MD5, CLASS_INDEX_URL)
    path = weights.resolve("imagenet", wf)
    try:
        data = json.loads(Path(str(path)).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise weights.WeightsError(f"cannot read the class index: {exc}", file=str(path)) from None
    if not isinstance(data, dict):
        raise weights.WeightsError("the class index is not a mapping of class numbers", file=str(path))
    return data
