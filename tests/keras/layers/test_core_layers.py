"""Dense, Activation, Dropout, Flatten, Reshape: shapes, configs, weights, behaviour, errors."""

import numpy as np
import pytest
import torch
from layer_test_util import run_layer_test

from savedflow.keras import layers


def test_dense_shapes_weights_and_config():
    layer, out = run_layer_test(
        layers.Dense,
        {"units": 3, "activation": "relu", "kernel_regularizer": "l2"},
        input_shape=(2, 4),
        expected_output_shape=(2, 3),
        expected_num_trainable_weights=2,
        expected_weight_shapes={"kernel": (4, 3), "bias": (3,)},
    )
    assert [w.name for w in layer.weights] == ["dense/kernel:0", "dense/bias:0"]
    assert (out >= 0).all()
    assert len(layer.losses) == 1


def test_dense_computes_x_kernel_plus_bias_on_rank3():
    layer = layers.Dense(2, kernel_initializer="ones", bias_initializer="ones")
    x = torch.arange(12, dtype=torch.float32).reshape(2, 3, 2)
    expected = x.sum(-1, keepdim=True).expand(2, 3, 2) + 1
    torch.testing.assert_close(layer(x), expected)


def test_dense_rejects_bad_units_and_unknown_last_dim():
    with pytest.raises(ValueError, match="units"):
        layers.Dense(0)
    layer = layers.Dense(2)
    with pytest.raises(ValueError, match="last dimension"):
        layer.build((None, None))


def test_dense_input_spec_rejects_changed_feature_size():
    layer = layers.Dense(2)
    layer(torch.ones(1, 3))
    with pytest.raises(ValueError, match="3"):
        layer(torch.ones(1, 4))


def test_activation_layer():
    layer, out = run_layer_test(
        layers.Activation, {"activation": "sigmoid"}, (2, 3), expected_output_shape=(2, 3)
    )
    assert layer.get_config()["activation"] == "sigmoid"
    assert ((out > 0) & (out < 1)).all()


def test_dropout_inference_is_identity_and_training_scales():
    layer, _ = run_layer_test(
        layers.Dropout, {"rate": 0.5, "seed": 1}, (4, 6), expected_output_shape=(4, 6)
    )
    x = torch.ones(200, 10)
    assert torch.equal(layer(x), x)
    y = layer(x, training=True)
    assert set(torch.unique(y).tolist()) <= {0.0, 2.0}
    assert 0.4 < (y == 0).float().mean().item() < 0.6


def test_dropout_noise_shape_drops_whole_columns():
    layer = layers.Dropout(0.5, noise_shape=(1, None), seed=3)
    y = layer(torch.ones(8, 40), training=True)
    assert torch.equal(y, y[:1].expand(8, 40))


def test_dropout_seed_reproducible_and_rate_checked():
    a = layers.Dropout(0.3, seed=5)(torch.ones(3, 7), training=True)
    b = layers.Dropout(0.3, seed=5)(torch.ones(3, 7), training=True)
    assert torch.equal(a, b)
    with pytest.raises(ValueError, match="rate"):
        layers.Dropout(1.5)


def test_flatten_and_channels_first_order():
    run_layer_test(layers.Flatten, {}, (2, 3, 4, 5), expected_output_shape=(2, 60))
    x = torch.arange(24.0).reshape(1, 2, 3, 4)
    last = layers.Flatten()(x.permute(0, 2, 3, 1))
    first = layers.Flatten(data_format="channels_first")(x)
    assert torch.equal(last, first)
    assert layers.Flatten().get_config()["data_format"] == "channels_last"


def test_reshape_with_inferred_dim_and_errors():
    layer, out = run_layer_test(
        layers.Reshape, {"target_shape": (-1, 2)}, (2, 3, 4), expected_output_shape=(2, 6, 2)
    )
    assert layer.get_config()["target_shape"] == (-1, 2)
    np.testing.assert_array_equal(out.numpy().reshape(2, 12), out.reshape(2, 12).numpy())
    with pytest.raises(ValueError, match="total size"):
        layers.Reshape((5,))(torch.ones(2, 6))
    with pytest.raises(ValueError, match="unknown dimension"):
        layers.Reshape((-1, -1))
