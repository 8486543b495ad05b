"""Functional, Sequential and subclassed models: graph building, calling, configs, checkpoints."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import savedflow as tf
from savedflow import keras
from savedflow.keras import layers


def mlp(name="3_layer_mlp", out=10):
    inputs = keras.Input(shape=(784,), name="digits")
    x = layers.Dense(64, activation="relu", name="dense_1")(inputs)
    x = layers.Dense(64, activation="relu", name="dense_2")(x)
    outputs = layers.Dense(out, name="predictions")(x)
    return keras.Model(inputs=inputs, outputs=outputs, name=name)


def test_input_is_a_symbolic_tensor():
    x = keras.Input(shape=(3,))
    assert x.shape == (None, 3) and x.dtype == tf.float32 and x.name == "input_1"
    assert keras.Input((2,), batch_size=4, dtype="int32", name="ids").shape == (4, 2)
    layer, node_index, tensor_index = x._keras_history
    assert type(layer).__name__ == "InputLayer" and (node_index, tensor_index) == (0, 0)
    assert repr(x) == "<KerasTensor: shape=(None, 3) dtype=float32 (created by layer 'input_1')>"
    y = layers.Dense(2, name="d")(x)
    assert y.shape == (None, 2) and y._keras_history.layer.name == "d"
    with pytest.raises(TypeError):
        bool(y)


def test_functional_model_layers_names_and_call():
    model = mlp()
    assert type(model).__name__ == "Functional"
    assert [layer.name for layer in model.layers] == ["digits", "dense_1", "dense_2", "predictions"]
    assert (
        model.get_layer("dense_2") is model.layers[2] and model.get_layer(index=1).name == "dense_1"
    )
    with pytest.raises(ValueError, match="No such layer: nope"):
        model.get_layer("nope")
    out = model(np.ones((2, 784)))  # numpy float64 in, torch float32 out
    assert (
        isinstance(out, torch.Tensor) and out.dtype == torch.float32 and tuple(out.shape) == (2, 10)
    )
    assert model.input_shape == (None, 784) and model.output_shape == (None, 10)
    assert [v.name for v in model.weights][:2] == ["dense_1/kernel:0", "dense_1/bias:0"]


def test_default_model_names_count_up():
    x = keras.Input((2,))
    assert keras.Model(x, layers.Dense(1)(x)).name == "model"
    assert keras.Model(x, layers.Dense(1)(x)).name == "model_1"
    assert keras.Sequential().name == "sequential"
    assert keras.Sequential().name == "sequential_1"


def test_multiple_inputs_outputs_dicts_and_shared_layers():
    a, b = keras.Input((3,), name="a"), keras.Input((3,), name="b")
    shared = layers.Dense(2, name="shared", kernel_initializer="ones")
    merged = layers.Concatenate()([shared(a), shared(b)])
    model = keras.Model({"a": a, "b": b}, {"sum": merged, "left": shared(a)})
    assert len(shared._inbound_nodes) == 3
    out = model({"a": np.ones((1, 3), np.float32), "b": 2 * np.ones((1, 3), np.float32)})
    np.testing.assert_allclose(out["sum"].numpy(), [[3, 3, 6, 6]])
    np.testing.assert_allclose(out["left"].numpy(), [[3, 3]])
    listed = keras.Model([a, b], [merged])
    np.testing.assert_allclose(listed([np.ones((1, 3)), np.zeros((1, 3))]).numpy(), [[3, 3, 0, 0]])


def test_nested_model_used_as_a_layer_and_inner_tensor_model():
    inner = mlp(name="pretrained", out=4)
    x = keras.Input((784,))
    outer = keras.Model(x, layers.Dense(1, name="head")(inner(x)))
    assert [layer.name for layer in outer.layers] == ["input_1", "pretrained", "head"]
    assert tuple(outer(np.zeros((3, 784))).shape) == (3, 1)
    truncated = keras.Model(inner.inputs, inner.layers[-1].input, name="pretrained_model")
    assert [layer.name for layer in truncated.layers] == ["digits", "dense_1", "dense_2"]
    assert truncated.output_shape == (None, 64)
    np.testing.assert_allclose(
        truncated(np.ones((1, 784))).numpy(),
        inner.get_layer("dense_2")(inner.get_layer("dense_1")(np.ones((1, 784)))).numpy(),
    )


def test_disconnected_graph_and_duplicate_names_are_errors():
    a, b = keras.Input((2,)), keras.Input((2,))
    with pytest.raises(ValueError, match="Graph disconnected"):
        keras.Model(a, layers.Dense(1)(b))
    x = layers.Dense(2, name="same")(a)
    with pytest.raises(ValueError, match='The name "same" is used 2 times'):
        keras.Model(a, layers.Dense(2, name="same")(x))


def test_keras_tensor_operators_become_layers():
    x = keras.Input((3,))
    model = keras.Model(x, (x * 2.0 + 1.0)[:, 0])
    np.testing.assert_allclose(model(np.array([[1.0, 2.0, 3.0]], np.float32)).numpy(), [3.0])


def test_training_flag_reaches_layers_of_a_functional_model():
    x = keras.Input((100,))
    model = keras.Model(x, layers.Dropout(0.5)(x))
    data = np.ones((4, 100), np.float32)
    np.testing.assert_array_equal(model(data).numpy(), data)
    assert (model(data, training=True).numpy() == 0).any()


def test_sequential_with_input_builds_at_once():
    model = keras.Sequential([keras.Input((4,)), layers.Dense(3), layers.Dense(2)])
    assert model.built and [layer.name for layer in model.layers] == ["dense", "dense_1"]
    assert model.output_shape == (None, 2) and len(model.inputs) == 1
    assert [v.name for v in model.weights] == [
        "dense/kernel:0",
        "dense/bias:0",
        "dense_1/kernel:0",
        "dense_1/bias:0",
    ]
    model.add(layers.Dense(5))
    assert model.output_shape == (None, 5)
    popped = model.pop()
    assert popped.name == "dense_2" and model.output_shape == (None, 2)
    with pytest.raises(ValueError, match="unique names"):
        model.add(layers.Dense(1, name="dense"))


def test_sequential_deferred_build_on_call_or_build():
    model = keras.Sequential([layers.Dense(3), layers.Dense(2)])
    assert not model.built and model.weights == []
    with pytest.raises(ValueError, match="has not yet been built"):
        model.summary()
    out = model(np.ones((5, 4)))
    assert tuple(out.shape) == (5, 2) and model.built
    assert model.inputs[0].shape == (None, 4)
    other = keras.Sequential([layers.Dense(3, input_shape=(4,))])
    assert other.built and other.inputs[0].name == "dense_2_input"
    third = keras.Sequential([layers.Dense(2)])
    third.build((None, 7))
    assert third.layers[0].kernel.shape == (7, 2)


def test_sequential_from_extracted_layers_and_nested_models():
    source = mlp()
    extracted = source.layers[:-1]
    extracted.append(layers.Dense(5, name="dense_3"))
    model = keras.Sequential(extracted)
    assert [layer.name for layer in model.layers] == ["dense_1", "dense_2", "dense_3"]
    assert model.layers[0] is source.layers[1]
    pretrained = mlp(name="pretrained", out=4)
    stacked = keras.Sequential([pretrained, layers.Dense(5, name="predictions")])
    assert stacked.inputs[0].name == "pretrained_input" and stacked.output_shape == (None, 5)


class Identity(keras.layers.Layer):
    def call(self, x):
        return x


class MySequentialModel(keras.Model):
    def __init__(self, name=None, **kwargs):
        super().__init__(**kwargs)
        self.dense_1 = layers.Dense(3)
        self.dense_2 = layers.Dense(2)

    def call(self, x):
        return self.dense_2(self.dense_1(x))


def test_subclassed_model_names_weights_and_build():
    model = MySequentialModel(name="ignored")
    model(tf.constant([[2.0, 2.0, 2.0]]))
    assert model.name == "my_sequential_model"
    assert [v.name for v in model.variables] == [
        "my_sequential_model/dense/kernel:0",
        "my_sequential_model/dense/bias:0",
        "my_sequential_model/dense_1/kernel:0",
        "my_sequential_model/dense_1/bias:0",
    ]
    assert model.layers == [model.dense_1, model.dense_2]
    other = MySequentialModel()
    other.build((None, 3))
    assert len(other.weights) == 4


def test_model_own_weights_come_after_sublayer_weights():
    class Contrived(keras.Model):
        def __init__(self):
            super().__init__()
            self.first_dense = layers.Dense(4)
            with pytest.warns(UserWarning):
                self.kernel = self.add_variable("kernel", shape=(4, 2))

        def call(self, inputs):
            return tf.matmul(self.first_dense(inputs), self.kernel)

    model = Contrived()
    model(tf.ones((1, 3)))
    assert [v.name for v in model.weights] == [
        "contrived/dense/kernel:0",
        "contrived/dense/bias:0",
        "kernel:0",
    ]


def test_functional_config_matches_tf_keras_layout_and_round_trips():
    model = mlp()
    config = model.get_config()
    assert set(config) == {"name", "trainable", "layers", "input_layers", "output_layers"}
    assert config["input_layers"] == [["digits", 0, 0]] and config["output_layers"] == [
        ["predictions", 0, 0]
    ]
    first, second = config["layers"][:2]
    assert first["class_name"] == "InputLayer" and first["inbound_nodes"] == []
    assert first["config"] == {
        "batch_input_shape": [None, 784],
        "dtype": "float32",
        "sparse": False,
        "ragged": False,
        "name": "digits",
        "optional": False,
    }
    assert second["inbound_nodes"] == [[["digits", 0, 0, {}]]]
    assert second["build_config"] == {"input_shape": [None, 784]}
    clone = keras.Model.from_config(config)
    assert [layer.name for layer in clone.layers] == [layer.name for layer in model.layers]
    clone.set_weights(model.get_weights())
    data = np.random.rand(2, 784).astype(np.float32)
    np.testing.assert_allclose(clone(data).numpy(), model(data).numpy(), rtol=1e-6)
    from_json = keras.models.model_from_json(model.to_json())
    assert type(from_json).__name__ == "Functional" and from_json.name == "3_layer_mlp"


def test_shared_nested_model_node_indices_in_config():
    i = keras.Input((3,), name="i")
    inner = keras.Model(i, layers.Dense(2, name="d")(i), name="inner")
    j = keras.Input((3,), name="j")
    model = keras.Model(j, [inner(Identity(name="cl")(j)), inner(j)], name="outer")
    config = model.get_config()
    assert config["output_layers"] == [["inner", 1, 0], ["inner", 2, 0]]
    assert config["layers"][2]["inbound_nodes"] == [[["cl", 0, 0, {}]], [["j", 0, 0, {}]]]
    assert (
        config["layers"][1]["registered_name"] == "Identity"
        and config["layers"][1]["module"] is None
    )
    with pytest.raises(ValueError, match="Unknown layer: 'Identity'"):
        keras.Model.from_config(config)
    rebuilt = keras.Model.from_config(config, custom_objects={"Identity": Identity})
    assert [layer.name for layer in rebuilt.layers] == ["j", "cl", "inner"]
    assert len(rebuilt(np.ones((1, 3), np.float32))) == 2


def test_sequential_config_and_json_round_trip():
    model = keras.Sequential([keras.Input((32,)), layers.Dense(1)])
    config = model.get_config()
    assert config["layers"][0]["class_name"] == "InputLayer"
    assert config["layers"][0]["config"]["name"] == "input_1"
    new_model = keras.Sequential.from_config(config)
    assert new_model.output_shape == (None, 1) and new_model.layers[0].name == "dense"
    data = json.loads(model.to_json())
    assert data["class_name"] == "Sequential" and data["keras_version"] == "2.21.0"
    assert type(keras.models.model_from_json(model.to_json())).__name__ == "Sequential"
    clone = keras.models.clone_model(model)
    assert clone.layers[0] is not model.layers[0] and clone.output_shape == (None, 1)


def test_checkpoint_children_match_tf_keras():
    inputs = keras.Input(shape=(4,), name="digits")
    x = layers.Dense(3, name="dense_1")(inputs)
    x = layers.Dropout(0.5)(x)
    x = layers.BatchNormalization()(x)
    functional = keras.Model(inputs, x)
    children = functional._trackable_children()
    assert list(children) == [
        "layer-0",
        "layer_with_weights-0",
        "layer-1",
        "layer-2",
        "layer_with_weights-1",
        "layer-3",
    ]
    assert children["layer_with_weights-1"] is children["layer-3"]
    seq = keras.Sequential(
        [layers.Dense(3, input_shape=(4,)), layers.Dropout(0.1), layers.Dense(2)]
    )
    assert list(seq._trackable_children()) == [
        "layer_with_weights-0",
        "layer-0",
        "layer-1",
        "layer_with_weights-1",
        "layer-2",
    ]
    sub = MySequentialModel()
    sub(np.ones((1, 3), np.float32))
    assert list(sub._trackable_children()) == ["dense_1", "dense_2"]


def test_save_and_load_weights_tf_checkpoint(tmp_path):
    model = keras.Sequential(
        [keras.Input((4,)), layers.Dense(3, name="a"), layers.Dense(2, name="b")]
    )
    prefix = str(tmp_path / "ckpt")
    model.save_weights(prefix)
    keys = {name for name, _ in tf.train.list_variables(prefix)}
    assert "layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE" in keys
    assert "layer_with_weights-1/bias/.ATTRIBUTES/VARIABLE_VALUE" in keys
    other = keras.Sequential([keras.Input((4,)), layers.Dense(3), layers.Dense(2)])
    other.load_weights(prefix).assert_consumed()
    for a, b in zip(model.get_weights(), other.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert tf.train.latest_checkpoint(str(tmp_path)).endswith("ckpt")


def test_subclass_passing_inputs_and_outputs_becomes_functional():
    class Wrapped(keras.Model):
        def __init__(self, units):
            inputs = keras.Input((3,))
            super().__init__(inputs, layers.Dense(units)(inputs))
            self.units = units

    model = Wrapped(2)
    assert isinstance(model, Wrapped) and model.name == "wrapped" and model.units == 2
    assert [layer.name for layer in model.layers] == ["input_1", "dense"]
    assert tuple(model(np.ones((1, 3))).shape) == (1, 2)
    assert list(model._trackable_children()) == ["layer-0", "layer_with_weights-0", "layer-1"]


def test_learning_phase_and_clear_session():
    assert keras.backend.learning_phase() == 0
    with keras.backend.learning_phase_scope(1):
        x = keras.Input((50,))
        model = keras.Model(x, layers.Dropout(0.5)(x))
        assert (model(np.ones((2, 50), np.float32)).numpy() == 0).any()
    np.testing.assert_array_equal(model(np.ones((2, 50), np.float32)).numpy(), np.ones((2, 50)))
    layers.Dense(1)
    keras.backend.clear_session()
    assert layers.Dense(1).name == "dense"


def test_compiled_model_checkpoint_has_tf_keras_legacy_optimizer_keys(tmp_path):
    model = keras.Sequential([keras.Input((3,)), layers.Dense(2, name="d")])
    model.compile(optimizer="adam", loss="mse")
    model.fit(np.ones((4, 3), np.float32), np.zeros((4, 2), np.float32), verbose=0)
    assert list(model._trackable_children())[:2] == ["layer_with_weights-0", "layer-0"]
    assert "optimizer" in model._trackable_children()
    prefix = str(tmp_path / "w")
    model.save_weights(prefix)
    keys = {name for name, _ in tf.train.list_variables(prefix)}
    assert {
        "layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE",
        "layer_with_weights-0/kernel/.OPTIMIZER_SLOT/optimizer/m/.ATTRIBUTES/VARIABLE_VALUE",
        "layer_with_weights-0/bias/.OPTIMIZER_SLOT/optimizer/v/.ATTRIBUTES/VARIABLE_VALUE",
        "optimizer/iter/.ATTRIBUTES/VARIABLE_VALUE",
    } <= keys


def test_model_input_shape_mismatch_names_the_model_as_tf_keras():
    model = keras.Sequential([layers.Dense(2, input_shape=(4,))])
    message = 'Input 0 of layer "sequential" is incompatible with the layer: expected shape=(None, 4), found shape=(1, 3)'
    with pytest.raises(ValueError) as err:
        model(np.zeros((1, 3), "float32"))
    assert str(err.value) == message  # tf_keras 2.21's text
    with pytest.raises(ValueError):
        model.predict(np.zeros((1, 3), "float32"), verbose=0)
    inputs = keras.Input((4, 1))
    squeezable = keras.Model(inputs, layers.Flatten()(inputs))
    assert tuple(squeezable(np.zeros((2, 4), "float32")).shape) == (2, 4)  # last axis may squeeze


@pytest.mark.parametrize(
    "path,kind", [("m.h5", "HDF5"), ("m.keras", ".keras"), ("mdir", "SavedModel")]
)
def test_whole_model_saving_says_what_to_use_instead(tmp_path, path, kind):
    model = keras.Sequential([layers.Dense(2, input_shape=(4,))])
    with pytest.raises(NotImplementedError, match=f"{kind}.*save_weights"):
        model.save(str(tmp_path / path))
    with pytest.raises(NotImplementedError, match="save_weights"):
        keras.models.load_model(str(tmp_path / path))
    assert not list(tmp_path.iterdir())


def test_metric_attributes_count_among_non_trainable_weights_as_tf_keras():
    class CustomModel(keras.Model):
        def __init__(self):
            super().__init__()
            self.loss_tracker = keras.metrics.Mean(name="loss")
            self.d = layers.Dense(1)

        def call(self, x):
            return self.d(x)

    model = CustomModel()
    model(np.ones((2, 3), "float32"))
    # tf_keras 2.21: metrics are layers, their state is non-trainable weight; a model lists
    # its sublayers' weights in attribute order (the metric was assigned first)
    assert [w.name for w in model.weights] == [
        "total:0",
        "count:0",
        "custom_model/dense/kernel:0",
        "custom_model/dense/bias:0",
    ]
    assert [a.shape for a in model.get_weights()] == [(), (), (3, 1), (1,)]
    assert [w.name for w in model.non_trainable_weights] == ["total:0", "count:0"]
    assert len(model.trainable_weights) == 2 and model.layers == [model.d]
    other = CustomModel()
    other(np.ones((2, 3), "float32"))
    other.set_weights(model.get_weights())
    del model.loss_tracker
    assert len(model.weights) == 2
