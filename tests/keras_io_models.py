"""Convolutional models as other people wrote them: keras.io's examples and the Keras guides, their
model code as published (sizes made small only where the example takes them as parameters, noted
per model). The import tests (tests/test_import.py) judge zoo against them: each imports to a spec
that builds the same model. Where the page prints the model's summary, ``PUBLISHED`` holds its
total parameter count as printed there.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def _keras() -> tuple[Any, Any]:
    import keras

    return keras, keras.layers


def mnist_convnet() -> Any:
    """keras.io/examples/vision/mnist_convnet (Simple MNIST convnet)."""
    keras, layers = _keras()
    return keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Flatten(),
            layers.Dropout(0.5),
            layers.Dense(10, activation="softmax"),
        ]
    )


def image_classification_from_scratch(input_shape=(64, 64, 3), num_classes=2) -> Any:
    """keras.io/examples/vision/image_classification_from_scratch (make_model, a small Xception;
    image_size (180, 180) made 64)."""
    keras, layers = _keras()
    inputs = keras.Input(shape=input_shape)
    x = layers.Rescaling(1.0 / 255)(inputs)
    x = layers.Conv2D(128, 3, strides=2, padding="same")(x)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("relu")(x)
    previous_block_activation = x
    for size in [256, 512, 728]:
        x = layers.Activation("relu")(x)
        x = layers.SeparableConv2D(size, 3, padding="same")(x)
        x = layers.BatchNormalization()(x)
        x = layers.Activation("relu")(x)
        x = layers.SeparableConv2D(size, 3, padding="same")(x)
        x = layers.BatchNormalization()(x)
        x = layers.MaxPooling2D(3, strides=2, padding="same")(x)
        residual = layers.Conv2D(size, 1, strides=2, padding="same")(previous_block_activation)
        x = layers.add([x, residual])
        previous_block_activation = x
    x = layers.SeparableConv2D(1024, 3, padding="same")(x)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("relu")(x)
    x = layers.GlobalAveragePooling2D()(x)
    units = 1 if num_classes == 2 else num_classes
    x = layers.Dropout(0.25)(x)
    outputs = layers.Dense(units, activation=None)(x)
    return keras.Model(inputs, outputs)


def augmented_classifier(input_shape=(64, 64, 3), num_classes=5) -> Any:
    """keras.io's image classification from scratch as first published (2020): augmentation as a
    nested Sequential inside the model; with the layers an ordinary user's CNN holds besides
    (LeakyReLU, GroupNormalization, an alias class name, SpatialDropout2D). Not verbatim."""
    keras, layers = _keras()
    data_augmentation = keras.Sequential(
        [layers.RandomFlip("horizontal"), layers.RandomRotation(0.1)], name="data_augmentation"
    )
    inputs = keras.Input(shape=input_shape)
    x = data_augmentation(inputs)
    x = layers.Rescaling(1.0 / 255)(x)
    x = layers.Convolution2D(32, 3, strides=2, padding="same")(x)
    x = layers.GroupNormalization(groups=8)(x)
    x = layers.LeakyReLU(negative_slope=0.1)(x)
    x = layers.SpatialDropout2D(0.1)(x)
    x = layers.MaxPool2D()(x)
    x = layers.GlobalAveragePooling2D()(x)
    outputs = layers.Dense(num_classes, activation="softmax")(x)
    return keras.Model(inputs, outputs)


def ct_scan_3d(width=32, height=32, depth=16) -> Any:
    """keras.io/examples/vision/3D_image_classification (get_model; 128x128x64 made 32x32x16, and
    two of its four Conv3D blocks)."""
    keras, layers = _keras()
    inputs = keras.Input((width, height, depth, 1))
    x = layers.Conv3D(filters=64, kernel_size=3, activation="relu")(inputs)
    x = layers.MaxPool3D(pool_size=2)(x)
    x = layers.BatchNormalization()(x)
    x = layers.Conv3D(filters=64, kernel_size=3, activation="relu", padding="same")(x)
    x = layers.MaxPool3D(pool_size=2)(x)
    x = layers.BatchNormalization()(x)
    x = layers.GlobalAveragePooling3D()(x)
    x = layers.Dense(units=512, activation="relu")(x)
    x = layers.Dropout(0.3)(x)
    outputs = layers.Dense(units=1, activation="sigmoid")(x)
    return keras.Model(inputs, outputs, name="3dcnn")


def timeseries_fcn(input_shape=(500, 1), num_classes=2) -> Any:
    """keras.io/examples/timeseries/timeseries_classification_from_scratch (make_model)."""
    keras, _ = _keras()
    input_layer = keras.layers.Input(input_shape)
    conv1 = keras.layers.Conv1D(filters=64, kernel_size=3, padding="same")(input_layer)
    conv1 = keras.layers.BatchNormalization()(conv1)
    conv1 = keras.layers.ReLU()(conv1)
    conv2 = keras.layers.Conv1D(filters=64, kernel_size=3, padding="same")(conv1)
    conv2 = keras.layers.BatchNormalization()(conv2)
    conv2 = keras.layers.ReLU()(conv2)
    conv3 = keras.layers.Conv1D(filters=64, kernel_size=3, padding="same")(conv2)
    conv3 = keras.layers.BatchNormalization()(conv3)
    conv3 = keras.layers.ReLU()(conv3)
    gap = keras.layers.GlobalAveragePooling1D()(conv3)
    output_layer = keras.layers.Dense(num_classes, activation="softmax")(gap)
    return keras.models.Model(inputs=input_layer, outputs=output_layer)


def timeseries_anomaly_autoencoder() -> Any:
    """keras.io/examples/timeseries/timeseries_anomaly_detection (its Conv1D autoencoder on
    windows of 288 steps)."""
    keras, layers = _keras()
    return keras.Sequential(
        [
            layers.Input(shape=(288, 1)),
            layers.Conv1D(filters=32, kernel_size=7, padding="same", strides=2, activation="relu"),
            layers.Dropout(rate=0.2),
            layers.Conv1D(filters=16, kernel_size=7, padding="same", strides=2, activation="relu"),
            layers.Conv1DTranspose(filters=16, kernel_size=7, padding="same", strides=2, activation="relu"),
            layers.Dropout(rate=0.2),
            layers.Conv1DTranspose(filters=32, kernel_size=7, padding="same", strides=2, activation="relu"),
            layers.Conv1DTranspose(filters=1, kernel_size=7, padding="same"),
        ]
    )


def transfer_on_mobilenet_v2() -> Any:
    """The tutorial's transfer learning, on a keras.applications base used as a layer."""
    keras, layers = _keras()
    base = keras.applications.MobileNetV2(
        include_top=False, weights=None, input_shape=(96, 96, 3), pooling="avg"
    )
    base.trainable = False
    return keras.Sequential([keras.Input((96, 96, 3)), base, layers.Dense(5, activation="softmax")])


def efficientnet_fine_tuning(img_size=64, num_classes=120) -> Any:
    """keras.io/examples/vision/image_classification_efficientnet_fine_tuning (build_model; 224
    made 64, weights=None where it loads ImageNet's): EfficientNetB0 on an input_tensor, so its
    layers are the model's own."""
    keras, layers = _keras()
    inputs = layers.Input(shape=(img_size, img_size, 3))
    model = keras.applications.EfficientNetB0(include_top=False, input_tensor=inputs, weights=None)
    model.trainable = False
    x = layers.GlobalAveragePooling2D(name="avg_pool")(model.output)
    x = layers.BatchNormalization()(x)
    x = layers.Dropout(0.2, name="top_dropout")(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="pred")(x)
    return keras.Model(inputs, outputs, name="EfficientNet")


def oxford_pets_unet(img_size=(64, 64), num_classes=3) -> Any:
    """keras.io/examples/vision/oxford_pets_image_segmentation (get_model; (160, 160) made 64)."""
    keras, layers = _keras()
    inputs = keras.Input(shape=img_size + (3,))
    x = layers.Conv2D(32, 3, strides=2, padding="same")(inputs)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("relu")(x)
    previous_block_activation = x
    for filters in [64, 128, 256]:
        x = layers.Activation("relu")(x)
        x = layers.SeparableConv2D(filters, 3, padding="same")(x)
        x = layers.BatchNormalization()(x)
        x = layers.Activation("relu")(x)
        x = layers.SeparableConv2D(filters, 3, padding="same")(x)
        x = layers.BatchNormalization()(x)
        x = layers.MaxPooling2D(3, strides=2, padding="same")(x)
        residual = layers.Conv2D(filters, 1, strides=2, padding="same")(previous_block_activation)
        x = layers.add([x, residual])
        previous_block_activation = x
    for filters in [256, 128, 64, 32]:
        x = layers.Activation("relu")(x)
        x = layers.Conv2DTranspose(filters, 3, padding="same")(x)
        x = layers.BatchNormalization()(x)
        x = layers.Activation("relu")(x)
        x = layers.Conv2DTranspose(filters, 3, padding="same")(x)
        x = layers.BatchNormalization()(x)
        x = layers.UpSampling2D(2)(x)
        residual = layers.UpSampling2D(2)(previous_block_activation)
        residual = layers.Conv2D(filters, 1, padding="same")(residual)
        x = layers.add([x, residual])
        previous_block_activation = x
    outputs = layers.Conv2D(num_classes, 3, activation="softmax", padding="same")(x)
    return keras.Model(inputs, outputs)


def conv_autoencoder() -> Any:
    """keras.io/examples/vision/autoencoder (the denoising autoencoder)."""
    keras, layers = _keras()
    inputs = layers.Input(shape=(28, 28, 1))
    x = layers.Conv2D(32, (3, 3), activation="relu", padding="same")(inputs)
    x = layers.MaxPooling2D((2, 2), padding="same")(x)
    x = layers.Conv2D(32, (3, 3), activation="relu", padding="same")(x)
    x = layers.MaxPooling2D((2, 2), padding="same")(x)
    x = layers.Conv2DTranspose(32, (3, 3), strides=2, activation="relu", padding="same")(x)
    x = layers.Conv2DTranspose(32, (3, 3), strides=2, activation="relu", padding="same")(x)
    x = layers.Conv2D(1, (3, 3), activation="sigmoid", padding="same")(x)
    return keras.Model(inputs, x)


def vae_decoder(latent_dim=2) -> Any:
    """keras.io/examples/generative/vae (its decoder)."""
    keras, layers = _keras()
    latent_inputs = keras.Input(shape=(latent_dim,))
    x = layers.Dense(7 * 7 * 64, activation="relu")(latent_inputs)
    x = layers.Reshape((7, 7, 64))(x)
    x = layers.Conv2DTranspose(64, 3, activation="relu", strides=2, padding="same")(x)
    x = layers.Conv2DTranspose(32, 3, activation="relu", strides=2, padding="same")(x)
    decoder_outputs = layers.Conv2DTranspose(1, 3, activation="sigmoid", padding="same")(x)
    return keras.Model(latent_inputs, decoder_outputs, name="decoder")


def dcgan_discriminator() -> Any:
    """keras.io/examples/generative/dcgan_overriding_train_step (the discriminator)."""
    keras, layers = _keras()
    return keras.Sequential(
        [
            keras.Input(shape=(64, 64, 3)),
            layers.Conv2D(64, kernel_size=4, strides=2, padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Conv2D(128, kernel_size=4, strides=2, padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Conv2D(128, kernel_size=4, strides=2, padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Flatten(),
            layers.Dropout(0.2),
            layers.Dense(1, activation="sigmoid"),
        ],
        name="discriminator",
    )


def dcgan_generator(latent_dim=128) -> Any:
    """keras.io/examples/generative/dcgan_overriding_train_step (the generator)."""
    keras, layers = _keras()
    return keras.Sequential(
        [
            keras.Input(shape=(latent_dim,)),
            layers.Dense(8 * 8 * 128),
            layers.Reshape((8, 8, 128)),
            layers.Conv2DTranspose(128, kernel_size=4, strides=2, padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Conv2DTranspose(256, kernel_size=4, strides=2, padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Conv2DTranspose(512, kernel_size=4, strides=2, padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Conv2D(3, kernel_size=5, padding="same", activation="sigmoid"),
        ],
        name="generator",
    )


def conditional_gan_discriminator(channels=1 + 10) -> Any:
    """keras.io/examples/generative/conditional_gan (the discriminator: an image and its one-hot
    class as channels)."""
    keras, layers = _keras()
    return keras.Sequential(
        [
            keras.layers.InputLayer((28, 28, channels)),
            layers.Conv2D(64, (3, 3), strides=(2, 2), padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Conv2D(128, (3, 3), strides=(2, 2), padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.GlobalMaxPooling2D(),
            layers.Dense(1),
        ],
        name="discriminator",
    )


def conditional_gan_generator(channels=128 + 10) -> Any:
    """keras.io/examples/generative/conditional_gan (the generator)."""
    keras, layers = _keras()
    return keras.Sequential(
        [
            keras.layers.InputLayer((channels,)),
            layers.Dense(7 * 7 * channels),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Reshape((7, 7, channels)),
            layers.Conv2DTranspose(128, (4, 4), strides=(2, 2), padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Conv2DTranspose(128, (4, 4), strides=(2, 2), padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Conv2D(1, (7, 7), padding="same", activation="sigmoid"),
        ],
        name="generator",
    )


def _wgan_conv_block(
    x,
    filters,
    activation,
    kernel_size=(3, 3),
    strides=(1, 1),
    padding="same",
    use_bias=True,
    use_bn=False,
    use_dropout=False,
    drop_value=0.5,
):
    _, layers = _keras()
    x = layers.Conv2D(filters, kernel_size, strides=strides, padding=padding, use_bias=use_bias)(x)
    if use_bn:
        x = layers.BatchNormalization()(x)
    x = activation(x)
    if use_dropout:
        x = layers.Dropout(drop_value)(x)
    return x


def wgan_gp_discriminator() -> Any:
    """keras.io/examples/generative/wgan_gp (get_discriminator_model)."""
    keras, layers = _keras()
    img_input = layers.Input(shape=(28, 28, 1))
    x = layers.ZeroPadding2D((2, 2))(img_input)
    x = _wgan_conv_block(
        x,
        64,
        kernel_size=(5, 5),
        strides=(2, 2),
        use_bn=False,
        use_bias=True,
        activation=layers.LeakyReLU(0.2),
        use_dropout=False,
        drop_value=0.3,
    )
    x = _wgan_conv_block(
        x,
        128,
        kernel_size=(5, 5),
        strides=(2, 2),
        use_bn=False,
        activation=layers.LeakyReLU(0.2),
        use_bias=True,
        use_dropout=True,
        drop_value=0.3,
    )
    x = _wgan_conv_block(
        x,
        256,
        kernel_size=(5, 5),
        strides=(2, 2),
        use_bn=False,
        activation=layers.LeakyReLU(0.2),
        use_bias=True,
        use_dropout=True,
        drop_value=0.3,
    )
    x = _wgan_conv_block(
        x,
        512,
        kernel_size=(5, 5),
        strides=(2, 2),
        use_bn=False,
        activation=layers.LeakyReLU(0.2),
        use_bias=True,
        use_dropout=False,
        drop_value=0.3,
    )
    x = layers.Flatten()(x)
    x = layers.Dropout(0.2)(x)
    x = layers.Dense(1)(x)
    return keras.models.Model(img_input, x, name="discriminator")


def _wgan_upsample_block(
    x,
    filters,
    activation,
    kernel_size=(3, 3),
    strides=(1, 1),
    up_size=(2, 2),
    padding="same",
    use_bn=False,
    use_bias=True,
    use_dropout=False,
    drop_value=0.3,
):
    _, layers = _keras()
    x = layers.UpSampling2D(up_size)(x)
    x = layers.Conv2D(filters, kernel_size, strides=strides, padding=padding, use_bias=use_bias)(x)
    if use_bn:
        x = layers.BatchNormalization()(x)
    if activation:
        x = activation(x)
    if use_dropout:
        x = layers.Dropout(drop_value)(x)
    return x


def wgan_gp_generator(noise_dim=128) -> Any:
    """keras.io/examples/generative/wgan_gp (get_generator_model)."""
    keras, layers = _keras()
    noise = layers.Input(shape=(noise_dim,))
    x = layers.Dense(4 * 4 * 256, use_bias=False)(noise)
    x = layers.BatchNormalization()(x)
    x = layers.LeakyReLU(0.2)(x)
    x = layers.Reshape((4, 4, 256))(x)
    x = _wgan_upsample_block(
        x,
        128,
        layers.LeakyReLU(0.2),
        strides=(1, 1),
        use_bias=False,
        use_bn=True,
        padding="same",
        use_dropout=False,
    )
    x = _wgan_upsample_block(
        x,
        64,
        layers.LeakyReLU(0.2),
        strides=(1, 1),
        use_bias=False,
        use_bn=True,
        padding="same",
        use_dropout=False,
    )
    x = _wgan_upsample_block(x, 1, layers.Activation("tanh"), strides=(1, 1), use_bias=False, use_bn=True)
    x = layers.Cropping2D((2, 2))(x)
    return keras.models.Model(noise, x, name="generator")


def distillation_teacher() -> Any:
    """keras.io/examples/vision/knowledge_distillation (the teacher)."""
    keras, layers = _keras()
    return keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            layers.Conv2D(256, (3, 3), strides=(2, 2), padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.MaxPooling2D(pool_size=(2, 2), strides=(1, 1), padding="same"),
            layers.Conv2D(512, (3, 3), strides=(2, 2), padding="same"),
            layers.Flatten(),
            layers.Dense(10),
        ],
        name="teacher",
    )


def distillation_student() -> Any:
    """keras.io/examples/vision/knowledge_distillation (the student)."""
    keras, layers = _keras()
    return keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            layers.Conv2D(16, (3, 3), strides=(2, 2), padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.MaxPooling2D(pool_size=(2, 2), strides=(1, 1), padding="same"),
            layers.Conv2D(32, (3, 3), strides=(2, 2), padding="same"),
            layers.Flatten(),
            layers.Dense(10),
        ],
        name="student",
    )


def guide_toy_resnet() -> Any:
    """The Keras guide "The Functional API" (keras.io/guides/functional_api): a toy ResNet model."""
    keras, layers = _keras()
    inputs = keras.Input(shape=(32, 32, 3), name="img")
    x = layers.Conv2D(32, 3, activation="relu")(inputs)
    x = layers.Conv2D(64, 3, activation="relu")(x)
    block_1_output = layers.MaxPooling2D(3)(x)
    x = layers.Conv2D(64, 3, activation="relu", padding="same")(block_1_output)
    x = layers.Conv2D(64, 3, activation="relu", padding="same")(x)
    block_2_output = layers.add([x, block_1_output])
    x = layers.Conv2D(64, 3, activation="relu", padding="same")(block_2_output)
    x = layers.Conv2D(64, 3, activation="relu", padding="same")(x)
    block_3_output = layers.add([x, block_2_output])
    x = layers.Conv2D(64, 3, activation="relu")(block_3_output)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dense(256, activation="relu")(x)
    x = layers.Dropout(0.5)(x)
    outputs = layers.Dense(10)(x)
    return keras.Model(inputs, outputs, name="toy_resnet")


def _guide_encoder() -> tuple[Any, Any]:
    keras, layers = _keras()
    encoder_input = keras.Input(shape=(28, 28, 1), name="img")
    x = layers.Conv2D(16, 3, activation="relu")(encoder_input)
    x = layers.Conv2D(32, 3, activation="relu")(x)
    x = layers.MaxPooling2D(3)(x)
    x = layers.Conv2D(32, 3, activation="relu")(x)
    x = layers.Conv2D(16, 3, activation="relu")(x)
    encoder_output = layers.GlobalMaxPooling2D()(x)
    return encoder_input, encoder_output


def guide_encoder() -> Any:
    """The Keras guide "The Functional API": the encoder."""
    keras, _ = _keras()
    encoder_input, encoder_output = _guide_encoder()
    return keras.Model(encoder_input, encoder_output, name="encoder")


def guide_autoencoder() -> Any:
    """The Keras guide "The Functional API": the autoencoder."""
    keras, layers = _keras()
    encoder_input, encoder_output = _guide_encoder()
    x = layers.Reshape((4, 4, 1))(encoder_output)
    x = layers.Conv2DTranspose(16, 3, activation="relu")(x)
    x = layers.Conv2DTranspose(32, 3, activation="relu")(x)
    x = layers.UpSampling2D(3)(x)
    x = layers.Conv2DTranspose(16, 3, activation="relu")(x)
    decoder_output = layers.Conv2DTranspose(1, 3, activation="relu")(x)
    return keras.Model(encoder_input, decoder_output, name="autoencoder")


def guide_nested_autoencoder() -> Any:
    """The Keras guide "The Functional API", "All models are callable, just like layers": the
    encoder and the decoder are models of their own, called as layers by the autoencoder."""
    keras, layers = _keras()
    encoder_input = keras.Input(shape=(28, 28, 1), name="original_img")
    x = layers.Conv2D(16, 3, activation="relu")(encoder_input)
    x = layers.Conv2D(32, 3, activation="relu")(x)
    x = layers.MaxPooling2D(3)(x)
    x = layers.Conv2D(32, 3, activation="relu")(x)
    x = layers.Conv2D(16, 3, activation="relu")(x)
    encoder_output = layers.GlobalMaxPooling2D()(x)
    encoder = keras.Model(encoder_input, encoder_output, name="encoder")

    decoder_input = keras.Input(shape=(16,), name="encoded_img")
    x = layers.Reshape((4, 4, 1))(decoder_input)
    x = layers.Conv2DTranspose(16, 3, activation="relu")(x)
    x = layers.Conv2DTranspose(32, 3, activation="relu")(x)
    x = layers.UpSampling2D(3)(x)
    x = layers.Conv2DTranspose(16, 3, activation="relu")(x)
    decoder_output = layers.Conv2DTranspose(1, 3, activation="relu")(x)
    decoder = keras.Model(decoder_input, decoder_output, name="decoder")

    autoencoder_input = keras.Input(shape=(28, 28, 1), name="img")
    encoded_img = encoder(autoencoder_input)
    decoded_img = decoder(encoded_img)
    return keras.Model(autoencoder_input, decoded_img, name="autoencoder")


def guide_ensemble() -> Any:
    """The Keras guide "The Functional API": three models called on one input, averaged."""
    keras, layers = _keras()

    def get_model() -> Any:
        inputs = keras.Input(shape=(128,))
        outputs = layers.Dense(1)(inputs)
        return keras.Model(inputs, outputs)

    model1 = get_model()
    model2 = get_model()
    model3 = get_model()

    inputs = keras.Input(shape=(128,))
    y1 = model1(inputs)
    y2 = model2(inputs)
    y3 = model3(inputs)
    outputs = layers.average([y1, y2, y3])
    return keras.Model(inputs=inputs, outputs=outputs)


def bidirectional_lstm_imdb(max_features=20000) -> Any:
    """keras.io/examples/nlp/bidirectional_lstm_imdb (its model, as published)."""
    keras, layers = _keras()
    inputs = keras.Input(shape=(None,), dtype="int32")
    x = layers.Embedding(max_features, 128)(inputs)
    x = layers.Bidirectional(layers.LSTM(64, return_sequences=True))(x)
    x = layers.Bidirectional(layers.LSTM(64))(x)
    outputs = layers.Dense(1, activation="sigmoid")(x)
    return keras.Model(inputs, outputs)


def conv_lstm_next_frame(frame=(8, 8, 1)) -> Any:
    """keras.io/examples/vision/conv_lstm (next-frame prediction; 64x64 frames made 8x8)."""
    keras, layers = _keras()
    inp = layers.Input(shape=(None, *frame))
    x = layers.ConvLSTM2D(
        filters=64, kernel_size=(5, 5), padding="same", return_sequences=True, activation="relu"
    )(inp)
    x = layers.BatchNormalization()(x)
    x = layers.ConvLSTM2D(
        filters=64, kernel_size=(3, 3), padding="same", return_sequences=True, activation="relu"
    )(x)
    x = layers.BatchNormalization()(x)
    x = layers.ConvLSTM2D(
        filters=64, kernel_size=(1, 1), padding="same", return_sequences=True, activation="relu"
    )(x)
    x = layers.Conv3D(filters=1, kernel_size=(3, 3, 3), activation="sigmoid", padding="same")(x)
    return keras.models.Model(inp, x)


def lstm_seq2seq(num_encoder_tokens=71, num_decoder_tokens=93, latent_dim=64) -> Any:
    """keras.io/examples/nlp/lstm_seq2seq (the training model: the encoder LSTM's states start the
    decoder LSTM; 71 and 93 are the token counts the page prints for its data; latent_dim 256 made 64)."""
    keras, _ = _keras()
    encoder_inputs = keras.Input(shape=(None, num_encoder_tokens))
    encoder = keras.layers.LSTM(latent_dim, return_state=True)
    encoder_outputs, state_h, state_c = encoder(encoder_inputs)
    encoder_states = [state_h, state_c]
    decoder_inputs = keras.Input(shape=(None, num_decoder_tokens))
    decoder_lstm = keras.layers.LSTM(latent_dim, return_sequences=True, return_state=True)
    decoder_outputs, _, _ = decoder_lstm(decoder_inputs, initial_state=encoder_states)
    decoder_dense = keras.layers.Dense(num_decoder_tokens, activation="softmax")
    decoder_outputs = decoder_dense(decoder_outputs)
    return keras.Model([encoder_inputs, decoder_inputs], decoder_outputs)


def lstm_seq2seq_encoder(num_encoder_tokens=71, latent_dim=64) -> Any:
    """keras.io/examples/nlp/lstm_seq2seq (the sampling encoder: its outputs are the LSTM's states;
    latent_dim 256 made 64)."""
    keras, _ = _keras()
    encoder_inputs = keras.Input(shape=(None, num_encoder_tokens))
    _, state_h_enc, state_c_enc = keras.layers.LSTM(latent_dim, return_state=True)(encoder_inputs)
    return keras.Model(encoder_inputs, [state_h_enc, state_c_enc])


def lstm_seq2seq_decoder(num_decoder_tokens=93, latent_dim=64) -> Any:
    """keras.io/examples/nlp/lstm_seq2seq (the sampling decoder: three inputs, the token and the two
    states, and three outputs, the next token's probabilities and the two new states; latent_dim 256
    made 64)."""
    keras, _ = _keras()
    decoder_inputs = keras.Input(shape=(None, num_decoder_tokens))
    decoder_state_input_h = keras.Input(shape=(latent_dim,))
    decoder_state_input_c = keras.Input(shape=(latent_dim,))
    decoder_states_inputs = [decoder_state_input_h, decoder_state_input_c]
    decoder_lstm = keras.layers.LSTM(latent_dim, return_sequences=True, return_state=True)
    decoder_outputs, state_h_dec, state_c_dec = decoder_lstm(
        decoder_inputs, initial_state=decoder_states_inputs
    )
    decoder_states = [state_h_dec, state_c_dec]
    decoder_outputs = keras.layers.Dense(num_decoder_tokens, activation="softmax")(decoder_outputs)
    return keras.Model([decoder_inputs] + decoder_states_inputs, [decoder_outputs] + decoder_states)


MODELS: dict[str, Callable[[], Any]] = {
    f.__name__: f
    for f in (
        mnist_convnet,
        image_classification_from_scratch,
        augmented_classifier,
        ct_scan_3d,
        timeseries_fcn,
        timeseries_anomaly_autoencoder,
        transfer_on_mobilenet_v2,
        efficientnet_fine_tuning,
        oxford_pets_unet,
        conv_autoencoder,
        vae_decoder,
        dcgan_discriminator,
        dcgan_generator,
        conditional_gan_discriminator,
        conditional_gan_generator,
        wgan_gp_discriminator,
        wgan_gp_generator,
        distillation_teacher,
        distillation_student,
        guide_toy_resnet,
        guide_encoder,
        guide_autoencoder,
        guide_nested_autoencoder,
        guide_ensemble,
        bidirectional_lstm_imdb,
        conv_lstm_next_frame,
        lstm_seq2seq,
        lstm_seq2seq_encoder,
        lstm_seq2seq_decoder,
    )
}

# Seconds to import (a forward pass of a big model, or hundreds of layers): the large tier
# seconds each (the inner loop's budget): in the slow tier, which the README's test command still runs
MEDIUM = {
    "conv_lstm_next_frame",
    "bidirectional_lstm_imdb",
    "image_classification_from_scratch",
}
SLOW = {"transfer_on_mobilenet_v2", "efficientnet_fine_tuning", "dcgan_generator", "oxford_pets_unet"}

# Total parameters as the page prints them in the model's summary
PUBLISHED = {
    "mnist_convnet": 34_826,  # keras.io/examples/vision/mnist_convnet
    "guide_toy_resnet": 223_242,  # keras.io/guides/functional_api
    "guide_encoder": 18_672,
    "guide_autoencoder": 28_241,
    "guide_nested_autoencoder": 28_241,
    "bidirectional_lstm_imdb": 2_757_761,  # keras.io/examples/nlp/bidirectional_lstm_imdb
}
