"""Feature-extraction backbones of another Keras model library (keras-hub), imported.

keras-hub's backbones are subclasses of keras.Model built functionally from keras.layers, with
arguments of their own: zoo imports their graph, and it must be the same graph (layers, to_json of
the functional model, weights by order, outputs) with the formula engine's parameter count equal to
Keras's. keras-hub is not one of zoo's dependencies: ``pip install -e ".[test,judges]"`` and
``pytest -m judges`` (docs/development.md). Small configurations, built without weights.
"""

from __future__ import annotations

import numpy as np
import pytest

import zoo

keras_hub = pytest.importorskip("keras_hub")
pytestmark = [pytest.mark.judges, pytest.mark.slow]

BACKBONES = {
    "ResNetBackbone": dict(
        input_conv_filters=[64],
        input_conv_kernel_sizes=[7],
        stackwise_num_filters=[64, 64],
        stackwise_num_blocks=[2, 2],
        stackwise_num_strides=[1, 2],
        block_type="basic_block",
        image_shape=(64, 64, 3),
    ),
    "VGGBackbone": dict(
        stackwise_num_repeats=[2, 2], stackwise_num_filters=[16, 32], image_shape=(64, 64, 3)
    ),
    "DenseNetBackbone": dict(stackwise_num_repeats=[2, 2], image_shape=(64, 64, 3)),
    "XceptionBackbone": dict(
        stackwise_conv_filters=[[32, 64], [128, 128]],
        stackwise_pooling=[False, True],
        image_shape=(64, 64, 3),
    ),
}


@pytest.mark.parametrize("backbone", list(BACKBONES))
def test_a_keras_hub_backbone_imports_as_the_same_graph(backbone):
    model = getattr(keras_hub.models, backbone)(**BACKBONES[backbone])
    spec = zoo.from_keras(model, name=backbone.lower())  # compared with the model before it returns
    assert zoo.summary(spec, engine="formula").total_params == model.count_params()
    ours = zoo.build(spec, compile=False)
    ours.set_weights(model.get_weights())
    x = np.random.default_rng(0).standard_normal((1, 64, 64, 3)).astype("float32")
    assert np.array_equal(np.asarray(ours(x)), np.asarray(model(x)))
