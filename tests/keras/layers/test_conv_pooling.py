"""Conv1D/Conv2D and pooling: Keras kernel layout, TF SAME padding, configs and errors."""

import numpy as np
import pytest
import torch
from layer_test_util import run_layer_test

from savedflow.keras import layers


def test_conv2d_kernel_layout_and_shapes():
    layer, _ = run_layer_test(
        layers.Conv2D,
        {"filters": 4, "kernel_size": (3, 2), "strides": 2, "padding": "same"},
        input_shape=(2, 7, 6, 3),
        expected_output_shape=(2, 4, 3, 4),
        expected_weight_shapes={"kernel": (3, 2, 3, 4), "bias": (4,)},
    )
    config = layer.get_config()
    assert config["kernel_size"] == (3, 2) and config["strides"] == (2, 2)
    assert config["data_format"] == "channels_last" and config["dilation_rate"] == (1, 1)


def test_conv2d_matches_explicit_correlation():
    layer = layers.Conv2D(1, 2, use_bias=False)
    x = torch.randn(1, 3, 3, 1)
    layer(x)
    kernel = torch.randn(2, 2, 1, 1)
    layer.set_weights([kernel.numpy()])
    out = layer(x)[0, :, :, 0]
    expected = torch.tensor(
        [[(x[0, i : i + 2, j : j + 2, 0] * kernel[:, :, 0, 0]).sum() for j in range(2)]
         for i in range(2)]
    )  # fmt: skip
    torch.testing.assert_close(out, expected)


def test_conv2d_channels_first_equals_channels_last():
    x = torch.randn(2, 6, 5, 3)
    last = layers.Conv2D(2, 3, padding="same", strides=2)
    first = layers.Conv2D(2, 3, padding="same", strides=2, data_format="channels_first")
    y_last = last(x)
    first(x.permute(0, 3, 1, 2))
    first.set_weights(last.get_weights())
    torch.testing.assert_close(first(x.permute(0, 3, 1, 2)), y_last.permute(0, 3, 1, 2))


def test_conv1d_causal_and_shapes():
    run_layer_test(
        layers.Conv1D,
        {"filters": 2, "kernel_size": 3, "padding": "causal", "dilation_rate": 2},
        input_shape=(2, 10, 3),
        expected_output_shape=(2, 10, 2),
        expected_weight_shapes={"kernel": (3, 3, 2), "bias": (2,)},
    )
    layer = layers.Conv1D(1, 2, padding="causal", kernel_initializer="ones", use_bias=False)
    out = layer(torch.arange(1.0, 5.0).reshape(1, 4, 1))
    assert out.flatten().tolist() == [1.0, 3.0, 5.0, 7.0]


def test_conv_argument_errors():
    with pytest.raises(ValueError, match="padding"):
        layers.Conv2D(2, 3, padding="causal")
    with pytest.raises(ValueError, match="dilation_rate"):
        layers.Conv2D(2, 3, strides=2, dilation_rate=2)
    with pytest.raises(ValueError, match="groups"):
        layers.Conv2D(3, 3, groups=2)
    with pytest.raises(ValueError, match="ndim"):
        layers.Conv2D(2, 3)(torch.ones(2, 5, 5))


def test_max_pooling_same_pads_at_the_end():
    layer, _ = run_layer_test(
        layers.MaxPooling2D,
        {"pool_size": 2, "padding": "same"},
        input_shape=(1, 3, 3, 1),
        expected_output_shape=(1, 2, 2, 1),
    )
    x = -torch.arange(9.0).reshape(1, 3, 3, 1)
    out = layer(x)[0, :, :, 0]
    assert out.tolist() == [[0.0, -2.0], [-6.0, -8.0]]
    assert layer.get_config()["strides"] == (2, 2)


def test_average_pooling_same_excludes_padding():
    layer = layers.AveragePooling2D(pool_size=2, padding="same")
    x = torch.arange(9.0).reshape(1, 3, 3, 1)
    out = layer(x)[0, :, :, 0]
    np.testing.assert_allclose(out.numpy(), [[2.0, 3.5], [6.5, 8.0]])
    run_layer_test(
        layers.AveragePooling2D,
        {"pool_size": (3, 2), "strides": (2, 1)},
        input_shape=(2, 8, 7, 3),
        expected_output_shape=(2, 3, 6, 3),
    )


def test_global_average_pooling():
    layer, out = run_layer_test(
        layers.GlobalAveragePooling2D, {}, (2, 5, 4, 3), expected_output_shape=(2, 3)
    )
    run_layer_test(
        layers.GlobalAveragePooling2D,
        {"keepdims": True},
        (2, 5, 4, 3),
        expected_output_shape=(2, 1, 1, 3),
    )
    assert layer.get_config()["keepdims"] is False
