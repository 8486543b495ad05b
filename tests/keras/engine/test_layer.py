"""Layer base class: naming, build, weights, trainable, losses, training flag, config."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import savedflow as tf
from savedflow import errors, keras


class TinyDense(keras.layers.Layer):
    """A private Dense stand-in so these tests do not depend on the built-in layers."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.kernel = self.add_weight(
            "kernel", shape=(input_shape[-1], self.units), initializer="ones"
        )
        self.bias = self.add_weight("bias", shape=(self.units,), initializer="zeros")

    def call(self, x):
        return tf.matmul(x, self.kernel) + self.bias

    def get_config(self):
        return {**super().get_config(), "units": self.units}


class FlexibleDense(keras.layers.Layer):
    def __init__(self, out_features, **kwargs):
        super().__init__(**kwargs)
        self.out_features = out_features

    def build(self, input_shape):
        self.w = tf.Variable(tf.random.normal([input_shape[-1], self.out_features]), name="w")
        self.b = tf.Variable(tf.zeros([self.out_features]), name="b")

    def call(self, inputs):
        return tf.matmul(inputs, self.w) + self.b


class Nested(keras.layers.Layer):
    def __init__(self, units, name=None):
        super().__init__(name=name)
        self.dense_1 = TinyDense(units, name="dense_1")
        self.dense_2 = TinyDense(units, name="dense_2")

    def call(self, inputs):
        return self.dense_2(self.dense_1(inputs))


def test_names_are_snake_case_and_unique_per_class():
    assert [TinyDense(1).name for _ in range(3)] == ["tiny_dense", "tiny_dense_1", "tiny_dense_2"]
    assert FlexibleDense(1).name == "flexible_dense"
    assert TinyDense(1, name="custom").name == "custom"
    keras.backend.clear_session()
    assert TinyDense(1).name == "tiny_dense"


def test_build_runs_once_in_the_layer_name_scope():
    layer = FlexibleDense(3)
    assert layer.variables == [] and not layer.built
    out = layer(tf.constant([[2.0, 2.0, 2.0], [3.0, 3.0, 3.0]]))
    assert tuple(out.shape) == (2, 3)
    assert layer.built
    assert [v.name for v in layer.variables] == ["flexible_dense/w:0", "flexible_dense/b:0"]
    layer(tf.constant([[1.0, 1.0, 1.0]]))
    assert len(layer.variables) == 2


def test_matmul_shape_error_propagates_from_the_op():
    layer = FlexibleDense(3)
    layer(tf.constant([[2.0, 2.0, 2.0]]))
    with pytest.raises(errors.InvalidArgumentError) as info:
        layer(tf.constant([[2.0, 2.0, 2.0, 2.0]]))
    assert str(info.value) == "In[0] mismatch In[1] shape: 4 vs. 3: [1,4] [3,3] 0 0 [Op:MatMul]"


def test_nested_variable_names_and_numpy_inputs():
    layer = Nested(2, name="nested")
    out = layer(np.ones((1, 3)))  # float64 numpy is cast to the layer's float32
    assert isinstance(out, torch.Tensor) and out.dtype == torch.float32
    np.testing.assert_allclose(out.numpy(), [[6.0, 6.0]])
    assert [v.name for v in layer.weights] == [
        "nested/dense_1/kernel:0",
        "nested/dense_1/bias:0",
        "nested/dense_2/kernel:0",
        "nested/dense_2/bias:0",
    ]


def test_weight_order_changes_when_a_nested_layer_is_frozen():
    layer = Nested(2, name="nested")
    layer(np.ones((1, 3), np.float32))
    layer.dense_1.trainable = False
    assert [v.name for v in layer.weights] == [
        "nested/dense_2/kernel:0",
        "nested/dense_2/bias:0",
        "nested/dense_1/kernel:0",
        "nested/dense_1/bias:0",
    ]
    assert len(layer.trainable_weights) == 2 and len(layer.non_trainable_weights) == 2


def test_freezing_a_layer_freezes_its_sublayers():
    layer = Nested(2)
    layer(np.ones((1, 3), np.float32))
    layer.trainable = False
    assert not layer.dense_1.trainable and not layer.dense_2.trainable
    assert layer.trainable_weights == [] and len(layer.non_trainable_weights) == 4
    layer.trainable = True
    assert len(layer.trainable_variables) == 4


def test_non_trainable_weights_come_after_trainable_ones():
    class Stats(keras.layers.Layer):
        def build(self, input_shape):
            self.count = self.add_weight("count", shape=(), trainable=False, initializer="zeros")
            self.scale = self.add_weight("scale", shape=(input_shape[-1],), initializer="ones")

        def call(self, x):
            self.count.assign_add(1.0)
            return x * self.scale

    layer = Stats()
    layer(np.ones((2, 3), np.float32))
    assert [v.name for v in layer.weights] == ["stats/scale:0", "stats/count:0"]
    assert layer.count_params() == 4


def test_get_and_set_weights_round_trip_and_errors():
    a, b = TinyDense(2), TinyDense(2)
    a(np.ones((1, 3), np.float32))
    b(np.ones((1, 3), np.float32))
    a.kernel.assign(np.arange(6, dtype=np.float32).reshape(3, 2))
    b.set_weights(a.get_weights())
    for x, y in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(x, y)
    with pytest.raises(ValueError, match="weight list of length 1, but the layer was expecting 2"):
        b.set_weights(a.get_weights()[:1])
    with pytest.raises(errors.ShapeMismatchError, match=r"\(3, 2\).*\(4, 2\)"):
        b.set_weights([np.zeros((4, 2)), np.zeros(2)])


def test_unknown_keyword_argument_is_rejected():
    with pytest.raises(TypeError, match="Keyword argument not understood: 'unitz'"):
        TinyDense(2, unitz=3)


def test_input_spec_error_names_both_shapes():
    class Checked(TinyDense):
        def build(self, input_shape):
            super().build(input_shape)
            self.input_spec = keras.layers.InputSpec(min_ndim=2, axes={-1: input_shape[-1]})

    layer = Checked(2)
    layer(np.ones((1, 3), np.float32))
    with pytest.raises(
        ValueError, match=r"expected axis -1 of input shape to have value 3.*\(1, 4\)"
    ):
        layer(np.ones((1, 4), np.float32))


def test_losses_tensor_callable_and_regularizer():
    class WithLoss(keras.layers.Layer):
        def build(self, input_shape):
            self.w = self.add_weight(
                "w", shape=(2,), initializer="ones", regularizer=lambda v: tf.reduce_sum(v)
            )

        def call(self, x):
            self.add_loss(tf.reduce_sum(x))
            return x

    layer = WithLoss()
    layer(np.ones((1, 2), np.float32))
    layer(np.full((1, 2), 3.0, np.float32))  # losses of the previous call are dropped
    assert sorted(float(v) for v in layer.losses) == [2.0, 6.0]
    layer.add_loss(lambda: tf.constant(5.0))
    assert sorted(float(v) for v in layer.losses) == [2.0, 5.0, 6.0]
    with pytest.raises(ValueError, match="zero argument `lambda`"):
        layer.add_loss(tf.constant(1.0))


def test_add_metric_tracks_a_running_mean():
    class WithMetric(keras.layers.Layer):
        def call(self, x):
            self.add_metric(tf.reduce_mean(x), name="mean_x")
            return x

    layer = WithMetric()
    layer(np.ones((1, 2), np.float32))
    layer(np.full((1, 2), 3.0, np.float32))
    (metric,) = layer.metrics
    assert metric.name == "mean_x"
    assert float(metric.result()) == pytest.approx(2.0)


def test_training_flag_reaches_nested_layers():
    seen = []

    class Probe(keras.layers.Layer):
        def call(self, x, training=None):
            seen.append(training)
            return x

    class Outer(keras.layers.Layer):
        def __init__(self):
            super().__init__()
            self.probe = Probe()

        def call(self, x):
            return self.probe(x)

    outer = Outer()
    outer(np.ones((1, 1), np.float32))
    outer(np.ones((1, 1), np.float32), training=True)
    keras.backend.set_learning_phase(1)
    outer(np.ones((1, 1), np.float32))
    assert seen == [False, True, True]


def test_layer_without_super_init_still_works_and_checkpoints_attribute_names():
    class CustomLayer(keras.layers.Layer):
        def __init__(self, a):
            self.var = tf.Variable(a, name="var_a")

        def call(self, inputs, training=False):
            return inputs * self.var if training else inputs

    layer = CustomLayer(5)
    assert layer.name == "custom_layer"
    assert layer.weights == [layer.var]
    assert list(layer._trackable_children()) == ["var"]


def test_add_weight_is_tracked_under_its_name_first():
    class Aliased(keras.layers.Layer):
        def build(self, input_shape):
            self.w = self.add_weight(name="ww", shape=(2,))

    layer = Aliased()
    layer(np.ones((1, 2), np.float32))
    children = layer._trackable_children()
    assert list(children) == ["ww", "w"] and children["ww"] is children["w"]


def test_add_variable_is_a_deprecated_alias():
    layer = keras.layers.Layer()
    with pytest.warns(UserWarning, match="add_variable` is deprecated"):
        v = layer.add_variable("kernel", shape=(2, 3))
    assert v.name == "kernel:0" and tuple(v.shape) == (2, 3)


def test_config_round_trip_and_missing_get_config():
    layer = TinyDense(4, name="d", trainable=False, input_shape=(3,))
    config = layer.get_config()
    assert config == {
        "name": "d",
        "trainable": False,
        "batch_input_shape": [None, 3],
        "dtype": "float32",
        "units": 4,
    }
    clone = TinyDense.from_config(config)
    assert clone.name == "d" and clone.units == 4 and not clone.trainable

    class NoConfig(keras.layers.Layer):
        def __init__(self, size):
            super().__init__()
            self.size = size

    with pytest.raises(NotImplementedError, match="must override `get_config\\(\\)`"):
        NoConfig(2).get_config()
    assert keras.layers.Layer(name="plain").get_config() == {
        "name": "plain",
        "trainable": True,
        "dtype": "float32",
    }


def test_submodules_and_module_variables_follow_tf_module():
    layer = Nested(2)
    layer(np.ones((1, 3), np.float32))
    assert set(map(id, layer.submodules)) == {id(layer.dense_1), id(layer.dense_2)}
