"""An extension package's Keras side: the layer class itself."""

from __future__ import annotations

import keras


class ChannelScale(keras.layers.Layer):
    """x * w, with one learned factor per channel."""

    def build(self, input_shape):
        self.scale = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="scale")

    def call(self, inputs):
        return inputs * self.scale
