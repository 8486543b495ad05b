"""Concatenate/Add/Multiply shape rules and Lambda (safe serialization)."""

import json

import pytest
import torch
from layer_test_util import run_layer_test

from savedflow.errors import UnsafeLoadError
from savedflow.keras import layers
from savedflow.keras.utils.object_registration import register_keras_serializable


def test_add_multiply_and_broadcasting():
    _, out = run_layer_test(layers.Add, {}, [(2, 3), (2, 3), (2, 3)], expected_output_shape=(2, 3))
    a, b = torch.full((2, 3), 2.0), torch.full((2, 1), 3.0)
    assert torch.equal(layers.Multiply()([a, b]), torch.full((2, 3), 6.0))
    assert torch.equal(layers.Add()([a, b]), torch.full((2, 3), 5.0))


def test_elementwise_merge_errors():
    with pytest.raises(ValueError, match="incompatible shapes"):
        layers.Add()([torch.ones(2, 3), torch.ones(2, 4)])
    with pytest.raises(ValueError, match="list of"):
        layers.Add()(torch.ones(2, 3))
    with pytest.raises(ValueError, match="at least 2"):
        layers.Multiply()([torch.ones(2, 3)])


def test_concatenate():
    layer, out = run_layer_test(
        layers.Concatenate, {"axis": 1}, [(2, 3, 4), (2, 2, 4)], expected_output_shape=(2, 5, 4)
    )
    assert layer.get_config()["axis"] == 1
    with pytest.raises(ValueError, match="matching shapes"):
        layers.Concatenate()([torch.ones(2, 3), torch.ones(3, 3)])


def scale_by(x, factor=2.0):
    return x * factor


def test_lambda_stores_plain_functions_as_tf_keras_bytecode_and_refuses_it_by_default():
    layer = layers.Lambda(scale_by, arguments={"factor": 3.0})
    assert torch.equal(layer(torch.ones(2)), torch.full((2,), 3.0))
    config = json.loads(json.dumps(layer.get_config()))
    assert config["function_type"] == "lambda" and config["module"] == __name__
    with pytest.raises(UnsafeLoadError, match="safe_mode=False"):
        layers.Lambda.from_config(config)
    loaded = layers.Lambda.from_config(config, safe_mode=False)
    assert torch.equal(loaded(torch.ones(2)), torch.full((2,), 3.0))


def test_lambda_closure_round_trip_with_safe_mode_off():
    offset = 5.0
    layer = layers.Lambda(lambda x: x + offset, output_shape=(3,))
    config = json.loads(json.dumps(layer.get_config()))
    loaded = layers.Lambda.from_config(config, safe_mode=False)
    assert torch.equal(loaded(torch.zeros(1, 3)), torch.full((1, 3), 5.0))
    assert loaded.compute_output_shape((7, 4)) == (7, 3)


def test_lambda_registered_function_is_stored_by_name():
    @register_keras_serializable(package="k2test")
    def halve(x):
        return x / 2

    layer = layers.Lambda(halve)
    config = layer.get_config()
    assert config["function"] == "k2test>halve" and config["function_type"] == "function"
    loaded = layers.Lambda.from_config(json.loads(json.dumps(config)))  # safe: no bytecode
    assert torch.equal(loaded(torch.full((2,), 4.0)), torch.full((2,), 2.0))


def test_lambda_builtin_activation_by_name():
    from savedflow.keras import activations

    config = layers.Lambda(activations.relu).get_config()
    assert config["function"] == "relu" and config["function_type"] == "function"
    loaded = layers.Lambda.from_config(config)
    assert torch.equal(loaded(torch.tensor([-1.0, 1.0])), torch.tensor([0.0, 1.0]))
