"""Inputs smaller than a kernel or pooling window behave as in tf.keras 2.21."""

from __future__ import annotations

import numpy as np
import pytest

from savedflow import keras


def test_conv_on_an_input_smaller_than_its_kernel_says_so() -> None:
    # tf.keras: "One of the dimensions in the output is <= 0 due to downsampling in conv2d ..."
    with pytest.raises(ValueError, match=r"<= 0 due to downsampling in conv2d.*\[1, 3, 3, 1\]"):
        keras.layers.Conv2D(2, 5, name="conv2d")(np.ones((1, 3, 3, 1), np.float32))
    with pytest.raises(ValueError, match=r"\[None, 3, 3, 1\]"):
        keras.layers.Conv2D(2, 5)(keras.Input((3, 3, 1)))
    same = keras.layers.Conv2D(2, 5, padding="same")(np.ones((1, 3, 3, 1), np.float32))
    assert tuple(same.shape) == (1, 3, 3, 2)


@pytest.mark.parametrize("layer", [keras.layers.MaxPooling2D, keras.layers.AveragePooling2D])
def test_pooling_window_larger_than_the_input_gives_an_empty_result(layer: type) -> None:
    out = layer(4)(np.ones((1, 3, 3, 2), np.float32))
    assert tuple(out.shape) == (1, 0, 0, 2)  # tf.keras 2.21 gives shape (1, 0, 0, 2) too
