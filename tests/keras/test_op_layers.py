"""Operators on KerasTensors as tf_keras' TFOpLambda / SlicingOpLambda layers, and safe loading.

The live comparison with tf_keras 2.21 (both directions, every op of the table) is in
tests/tf_oracle/test_tf_oracle_serialization.py; these checks run without TensorFlow.
"""

from __future__ import annotations

import json
import sys

import numpy as np
import pytest

from savedflow import keras
from savedflow.errors import UnknownObjectError
from savedflow.keras.models.op_layer import SlicingOpLambda, TFOpLambda

X = np.array([[1.0, 2.0, 3.0, 4.0], [-1.0, 0.5, 6.0, -2.0]], "float32")


def _layers(model: keras.Model) -> dict[str, dict]:
    return {layer["name"]: layer for layer in json.loads(model.to_json())["config"]["layers"]}


def test_operators_are_recorded_as_tf_keras_records_them() -> None:
    keras.backend.clear_session()
    x = keras.Input((4,), name="in")
    model = keras.Model(x, [x + 1, 2 * x, x[..., ::-1]])
    layers = _layers(model)
    add = layers["tf.__operators__.add"]
    assert (add["module"], add["class_name"], add["registered_name"]) == (
        "tf_keras.src.layers.core.tf_op_layer",
        "TFOpLambda",
        "TFOpLambda",
    )
    assert add["config"] == {
        "name": "tf.__operators__.add",
        "trainable": True,
        "dtype": "float32",
        "function": "__operators__.add",
    }
    assert add["inbound_nodes"] == [["in", 0, 0, {"y": 1, "name": None}]]
    mul = layers["tf.math.multiply"]  # reflected: the constant first, in the input's dtype
    assert mul["inbound_nodes"] == [["_CONSTANT_VALUE", -1, 2.0, {"y": ["in", 0, 0], "name": None}]]
    assert mul["build_config"] == {"input_shape": []}
    getitem = layers["tf.__operators__.getitem"]
    assert getitem["class_name"] == "SlicingOpLambda"
    assert getitem["inbound_nodes"][0][3] == {
        "slice_spec": [{"class_name": "__ellipsis__"}, {"start": None, "stop": None, "step": -1}]
    }


def test_reflected_constants_take_the_dtype_of_integer_inputs() -> None:
    x = keras.Input((2,), dtype="int32", name="i")
    model = keras.Model(x, 3 - x)
    (node,) = next(v for k, v in _layers(model).items() if k.startswith("tf.math"))["inbound_nodes"]
    assert node[:3] == ["_CONSTANT_VALUE", -1, 3] and isinstance(node[2], int)
    np.testing.assert_array_equal(model(np.array([[1, 5]], "int32")).numpy(), [[2, -2]])


def test_slicing_follows_tf_including_negative_steps() -> None:
    x = keras.Input((4,))
    outputs = [x[::-1], x[:, ::-2], x[..., 1::-1], x[:, None, 2], x[0], x[-1:, 1:3]]
    model = keras.Model(x, outputs)
    expected = [X[::-1], X[:, ::-2], X[..., 1::-1], X[:, None, 2], X[0], X[-1:, 1:3]]
    for got, want in zip(model(X), expected):
        np.testing.assert_array_equal(got.numpy(), want)


def test_operator_models_round_trip_through_json_and_config() -> None:
    a, b = keras.Input((4,), name="a"), keras.Input((4,), name="b")
    ones = np.ones((4, 3), "float32")
    outputs = [(a - b) * 0.5, 1.0 - a, abs(-a) ** 2 / 3.0, a @ ones, 2.5 / (b + 10.0), a[:, 1:]]
    model = keras.Model([a, b], outputs)
    y = X[::-1].copy()
    expected = [out.numpy() for out in model([X, y])]
    for again in (
        keras.models.model_from_json(model.to_json()),
        keras.Model.from_config(model.get_config()),
    ):
        assert again.to_json() == model.to_json()
        for got, want in zip(again([X, y]), expected):
            np.testing.assert_allclose(got.numpy(), want, rtol=1e-6)
    np.testing.assert_allclose(expected[3], X @ ones)


def _tf_config(function: object) -> str:
    """A tf_keras functional-model JSON with one op layer running ``function``."""
    op = {
        "module": "tf_keras.src.layers.core.tf_op_layer",
        "class_name": "TFOpLambda",
        "config": {"name": "op", "trainable": True, "dtype": "float32", "function": function},
        "registered_name": "TFOpLambda",
        "name": "op",
        "inbound_nodes": [["in", 0, 0, {}]],
    }
    inputs = {
        "module": "keras.layers",
        "class_name": "InputLayer",
        "config": {"batch_input_shape": [None, 2], "dtype": "float32", "name": "in"},
        "registered_name": None,
        "name": "in",
        "inbound_nodes": [],
    }
    config = {
        "name": "m",
        "trainable": True,
        "layers": [inputs, op],
        "input_layers": [["in", 0, 0]],
        "output_layers": [["op", 0, 0]],
    }
    return json.dumps({"module": "keras", "class_name": "Functional", "config": config})


def test_tf_ops_of_the_table_load_and_run() -> None:
    model = keras.models.model_from_json(_tf_config("nn.relu"))
    np.testing.assert_array_equal(model(np.array([[-1.0, 2.0]], "float32")).numpy(), [[0.0, 2.0]])


@pytest.mark.parametrize(
    "function",
    ["io.write_file", "os.system", "__import__", "math.add.__globals__", "", None, ["math.add"]],
)
def test_ops_outside_the_table_are_refused(function: object) -> None:
    before = set(sys.modules)
    with pytest.raises(UnknownObjectError, match="does not implement"):
        keras.models.model_from_json(_tf_config(function))
    assert set(sys.modules) == before  # nothing named in the config was imported
    with pytest.raises(UnknownObjectError, match="TFOpLambda names the TF op"):
        TFOpLambda.from_config({"name": "x", "function": function})
    with pytest.raises(UnknownObjectError, match="SlicingOpLambda"):
        SlicingOpLambda(function)


def test_getitem_runs_in_either_op_layer_class() -> None:
    spec = [{"start": None, "stop": None, "step": -1}, 0]
    for cls in (TFOpLambda, SlicingOpLambda):
        layer = cls("__operators__.getitem")
        np.testing.assert_array_equal(layer(X, slice_spec=spec).numpy(), X[::-1, 0])
