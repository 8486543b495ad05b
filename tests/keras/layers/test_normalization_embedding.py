"""BatchNormalization, LayerNormalization and Embedding: weights, modes, configs, errors."""

import numpy as np
import pytest
import torch
from layer_test_util import run_layer_test

from savedflow.keras import layers


def test_batch_norm_weights_are_named_and_moving_stats_non_trainable():
    layer, _ = run_layer_test(
        layers.BatchNormalization,
        {"momentum": 0.9},
        input_shape=(4, 3),
        expected_output_shape=(4, 3),
        expected_num_trainable_weights=2,
        expected_num_non_trainable_weights=2,
        expected_weight_shapes={
            "gamma": (3,),
            "beta": (3,),
            "moving_mean": (3,),
            "moving_variance": (3,),
        },
    )
    names = [w.name for w in layer.weights]
    assert names == [
        "batch_normalization/gamma:0",
        "batch_normalization/beta:0",
        "batch_normalization/moving_mean:0",
        "batch_normalization/moving_variance:0",
    ]
    assert layer.get_config()["axis"] == [1]


def test_batch_norm_training_uses_batch_stats_and_updates_moving_stats():
    layer = layers.BatchNormalization(momentum=0.5, epsilon=0.0)
    x = torch.tensor([[1.0, 2.0], [3.0, 6.0]])
    y = layer(x, training=True)
    np.testing.assert_allclose(y.numpy(), [[-1.0, -1.0], [1.0, 1.0]], atol=1e-5)
    np.testing.assert_allclose(layer.moving_mean.numpy(), [1.0, 2.0])  # 0.5 * mean
    np.testing.assert_allclose(layer.moving_variance.numpy(), [1.0, 2.5])  # 0.5 + 0.5 * var
    # Inference uses the moving statistics and changes nothing.
    out = layer(x)
    expected = (x.numpy() - [1.0, 2.0]) / np.sqrt([1.0, 2.5])
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-6)
    np.testing.assert_allclose(layer.moving_mean.numpy(), [1.0, 2.0])


def test_frozen_batch_norm_runs_in_inference_mode():
    layer = layers.BatchNormalization()
    layer(torch.ones(2, 3))
    layer.trainable = False
    layer(torch.randn(5, 3) + 4.0, training=True)
    np.testing.assert_array_equal(layer.moving_mean.numpy(), np.zeros(3))


def test_batch_norm_rejects_bad_axis():
    with pytest.raises(ValueError, match="axis"):
        layers.BatchNormalization(axis=3)(torch.ones(2, 3))


def test_layer_norm_normalizes_each_example():
    layer, out = run_layer_test(
        layers.LayerNormalization,
        {"epsilon": 1e-6},
        input_shape=(3, 8),
        expected_output_shape=(3, 8),
        expected_weight_shapes={"gamma": (8,), "beta": (8,)},
    )
    np.testing.assert_allclose(out.mean(-1).detach().numpy(), 0.0, atol=1e-5)
    np.testing.assert_allclose(out.var(-1, unbiased=False).detach().numpy(), 1.0, atol=1e-3)
    assert layer.get_config()["axis"] == [1]


def test_layer_norm_multiple_axes():
    layer, out = run_layer_test(
        layers.LayerNormalization,
        {"axis": [1, 2]},
        input_shape=(2, 3, 4),
        expected_output_shape=(2, 3, 4),
        expected_weight_shapes={"gamma": (3, 4), "beta": (3, 4)},
    )
    np.testing.assert_allclose(out.mean((1, 2)).detach().numpy(), 0.0, atol=1e-5)


def test_embedding_lookup_mask_and_config():
    layer, out = run_layer_test(
        layers.Embedding,
        {"input_dim": 10, "output_dim": 4, "mask_zero": True},
        input_shape=(2, 5),
        input_dtype="int64",
        expected_output_shape=(2, 5, 4),
        expected_weight_shapes={"embeddings": (10, 4)},
    )
    ids = torch.tensor([[0, 3, 9]])
    np.testing.assert_array_equal(layer(ids)[0, 2].numpy(), layer.get_weights()[0][9])
    assert layer.compute_mask(ids).tolist() == [[False, True, True]]
    config = layer.get_config()
    assert config["embeddings_initializer"]["class_name"] == "RandomUniform"
    assert config["batch_input_shape"] == [None, None]


def test_embedding_out_of_range_index():
    layer = layers.Embedding(5, 2)
    with pytest.raises(IndexError, match="out of range"):
        layer(torch.tensor([[1, 5]]))
