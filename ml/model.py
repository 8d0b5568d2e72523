"""The digit classifier: a compact VGG-style CNN with batch normalisation; the CRNN string reader."""
import math

import keras
from keras import layers


def conv_bn(x, filters, padding="same"):
    # The bias is redundant before BatchNorm, which the LiteRT converter folds into the conv.
    x = layers.Conv2D(filters, 3, padding=padding, use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    return layers.ReLU()(x)


def build_model(width=32, dropout=0.3):
    """28x28x1 in [0, 1] -> 10 softmax probabilities."""
    inputs = keras.Input((28, 28, 1))
    x = conv_bn(inputs, width, "valid")  # 26x26
    x = conv_bn(x, width, "valid")  # 24x24
    x = layers.MaxPooling2D()(x)  # 12x12
    x = conv_bn(x, 2 * width, "valid")  # 10x10
    x = conv_bn(x, 2 * width, "valid")  # 8x8
    x = layers.MaxPooling2D()(x)  # 4x4
    x = conv_bn(x, 4 * width)  # 4x4
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dropout(dropout)(x)
    outputs = layers.Dense(10, activation="softmax")(x)
    return keras.Model(inputs, outputs, name="digits_cnn")


def flops_per_image(model):
    """Multiply-adds x 2 of the conv and dense layers (the rest is negligible): each kernel once per output
    position (pixel, column, or one for a plain vector)."""
    total = 0
    for layer in model.layers:
        if isinstance(layer, (layers.Conv1D, layers.Conv2D, layers.Dense)):
            total += 2 * math.prod(layer.output.shape[1:-1]) * math.prod(layer.kernel.shape)
    return int(total)


def build_crnn(height=32, width=256, filters=16, dropout=0.2):
    """(height, width, 1) line, ink 1 on 0 -> (width / 4, 11) per-column probabilities; 10 is the CTC blank.
    width None: any multiple of 4 (serving reads a line only as wide as its ink needs).

    The conv stack sees about one digit's width per output column; the 1-D conv head (instead of a
    recurrent layer: faster to train on CPU, and plain ops for LiteRT) gives each column the context of
    its neighbours, about two digits either side.
    """
    inputs = keras.Input((height, width, 1))
    x = conv_bn(inputs, filters)
    x = layers.MaxPooling2D()(x)  # h/2 x w/2
    x = conv_bn(x, 2 * filters)
    x = layers.MaxPooling2D()(x)  # h/4 x w/4
    x = conv_bn(x, 4 * filters)
    x = conv_bn(x, 4 * filters)
    x = layers.MaxPooling2D((2, 1))(x)  # h/8 x w/4: keep the horizontal resolution for CTC
    x = conv_bn(x, 4 * filters)
    x = layers.MaxPooling2D((height // 8, 1))(x)  # collapse the height: 1 x w/4
    x = layers.Reshape((-1, 4 * filters))(x)
    for dilation in (1, 2, 4):
        x = layers.Conv1D(4 * filters, 3, padding="same", dilation_rate=dilation, use_bias=False)(x)
        x = layers.BatchNormalization()(x)
        x = layers.ReLU()(x)
    x = layers.Dropout(dropout)(x)
    outputs = layers.Dense(11, activation="softmax")(x)
    return keras.Model(inputs, outputs, name="digits_crnn")
