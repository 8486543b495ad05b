"""One serialization path for savedflow.keras: tf_keras 2.21 forms, custom objects, safety.

- every category reads the forms tf_keras writes (names, old and new dicts, the plain-function
  dicts of compile configs) and writes built-ins as tf_keras does;
- custom classes and functions of every category round-trip through each of the three routes
  (``custom_objects=``, ``custom_object_scope``, ``register_keras_serializable``), compared by
  value, and resolve in the order custom_objects > scope > registry > built-ins;
- unknown names raise UnknownObjectError saying what to do; configs never import modules.
(The comparison with live tf_keras output is tests/tf_oracle/test_tf_oracle_serialization.py.)
"""

from __future__ import annotations

import builtins
import json
import sys
import threading
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import torch

import savedflow as sf
from savedflow import keras
from savedflow.errors import UnknownObjectError, UnsafeLoadError
from savedflow.keras import (
    activations,
    constraints,
    initializers,
    losses,
    metrics,
    optimizers,
    regularizers,
)
from savedflow.keras.optimizers import schedules
from savedflow.keras.utils import tree
from savedflow.ops import nest
from savedflow.ops.tensor_shape import TensorShape

PKG = "sf_registry_test"
Y_TRUE = torch.tensor([[0.0, 1.0, 2.0], [1.0, 1.0, 0.0]])
Y_PRED = torch.tensor([[0.5, 1.5, 1.0], [1.0, 0.0, 0.5]])
W = torch.tensor([[1.0, -2.0], [3.0, 0.5]])


def _json(config: Any) -> Any:
    return json.loads(json.dumps(config))


def _np(value: Any) -> np.ndarray:
    if isinstance(value, (list, tuple)):
        return np.asarray([_np(v) for v in value])
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    return np.asarray(value)


def _fn_config(name: str) -> dict[str, Any]:
    """The dict tf_keras 2.21 writes for a plain function (loss, metric, activation)."""
    return {"module": "builtins", "class_name": "function", "config": name, "registered_name": "function"}  # fmt: skip


# --- custom classes, one fresh class per call (registration must not leak between routes) ----


def _loss_class() -> type:
    class ScaledMSE(losses.Loss):
        def __init__(self, scale=1.0, **kwargs):
            super().__init__(**kwargs)
            self.scale = scale

        def call(self, y_true, y_pred):
            diff = torch.as_tensor(y_true) - torch.as_tensor(y_pred)
            return self.scale * torch.mean(torch.square(diff), dim=-1)

        def get_config(self):
            return {**super().get_config(), "scale": self.scale}

    return ScaledMSE


def _metric_class() -> type:
    class ScaledMean(metrics.Mean):
        def __init__(self, scale=1.0, name="scaled_mean", dtype=None):
            super().__init__(name=name, dtype=dtype)
            self.scale = scale

        def update_state(self, values, sample_weight=None):
            super().update_state(torch.as_tensor(values) * self.scale, sample_weight)

        def get_config(self):
            return {**super().get_config(), "scale": self.scale}

    return ScaledMean


def _schedule_class() -> type:
    class Halving(schedules.LearningRateSchedule):
        def __init__(self, initial=1.0):
            self.initial = initial

        def __call__(self, step):
            return torch.tensor(self.initial * 0.5 ** float(step))

        def get_config(self):
            return {"initial": self.initial}

    return Halving


def _initializer_class() -> type:
    class Fill(initializers.Initializer):
        def __init__(self, value=0.0):
            self.value = value

        def __call__(self, shape, dtype=None, **kwargs):
            return torch.full(tuple(shape), float(self.value))

        def get_config(self):
            return {"value": self.value}

    return Fill


def _regularizer_class() -> type:
    class AbsSum(regularizers.Regularizer):
        def __init__(self, factor=0.0):
            self.factor = factor

        def __call__(self, x):
            return self.factor * sf.reduce_sum(sf.abs(x))

        def get_config(self):
            return {"factor": self.factor}

    return AbsSum


def _constraint_class() -> type:
    class Clip(constraints.Constraint):
        def __init__(self, limit=1.0):
            self.limit = limit

        def __call__(self, w):
            return sf.clip_by_value(w, -self.limit, self.limit)

        def get_config(self):
            return {"limit": self.limit}

    return Clip


def _layer_class() -> type:
    class Scale(keras.layers.Layer):
        def __init__(self, factor=1.0, **kwargs):
            super().__init__(**kwargs)
            self.factor = factor

        def call(self, inputs):
            return inputs * self.factor

        def get_config(self):
            return {**super().get_config(), "factor": self.factor}

    return Scale


def _optimizer_class() -> type:
    class PlainSGD(optimizers.SGD):
        pass

    return PlainSGD


def _one_step(optimizer: Any) -> np.ndarray:
    var = sf.Variable([1.0, 2.0])
    optimizer.apply_gradients([(torch.tensor([1.0, -1.0]), var)])
    return var.numpy()


def _metric_result(metric: Any) -> Any:
    metric.update_state([1.0, 2.0, 4.0])
    return metric.result()


# category -> (class factory, build an instance, serialize, deserialize, observable value)
CLASS_CASES: dict[str, tuple[Callable, Callable, Callable, Callable, Callable]] = {
    "loss": (_loss_class, lambda c: c(scale=2.0, name="sm"), losses.serialize, losses.deserialize, lambda o: o(Y_TRUE, Y_PRED)),
    "metric": (_metric_class, lambda c: c(scale=2.0, name="sc"), metrics.serialize, metrics.deserialize, _metric_result),
    "schedule": (_schedule_class, lambda c: c(initial=0.8), schedules.serialize, schedules.deserialize, lambda o: [o(s) for s in range(3)]),
    "initializer": (_initializer_class, lambda c: c(value=1.5), initializers.serialize, initializers.deserialize, lambda o: o((2, 3))),
    "regularizer": (_regularizer_class, lambda c: c(factor=0.5), regularizers.serialize, regularizers.deserialize, lambda o: o(W)),
    "constraint": (_constraint_class, lambda c: c(limit=1.0), constraints.serialize, constraints.deserialize, lambda o: o(W)),
    "layer": (_layer_class, lambda c: c(factor=3.0, name="scale"), keras.layers.serialize, keras.layers.deserialize, lambda o: o(W)),
    "optimizer": (_optimizer_class, lambda c: c(learning_rate=0.5), optimizers.serialize, optimizers.deserialize, _one_step),
}  # fmt: skip
ROUTES = ("custom_objects", "scope", "registered")


def _restore(route: str, objects: dict[str, Any], config: Any, deserialize: Callable) -> Any:
    if route == "custom_objects":
        return deserialize(config, custom_objects=objects)
    if route == "scope":
        with keras.utils.custom_object_scope(objects):
            return deserialize(config)
    return deserialize(config)


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("category", sorted(CLASS_CASES))
def test_custom_class_round_trips(category: str, route: str) -> None:
    factory, build, serialize, deserialize, observe = CLASS_CASES[category]
    cls = factory()
    if route == "registered":
        cls = keras.utils.register_keras_serializable(package=PKG)(cls)
    original = build(cls)
    config = _json(serialize(original))
    registered = f"{PKG}>{cls.__name__}" if route == "registered" else cls.__name__
    assert (config["module"], config["class_name"], config["registered_name"]) == (
        None,
        cls.__name__,
        registered,
    )
    assert config["config"] == _json(original.get_config())
    restored = _restore(route, {cls.__name__: cls}, config, deserialize)
    assert type(restored) is cls
    assert restored.get_config() == original.get_config()
    np.testing.assert_allclose(_np(observe(restored)), _np(observe(original)), rtol=1e-6)
    if route != "registered":  # the route is what made it known
        with pytest.raises(UnknownObjectError, match=cls.__name__):
            deserialize(config)


def _scaled_abs_error(y_true, y_pred):
    return 3.0 * torch.mean(torch.abs(torch.as_tensor(y_true) - torch.as_tensor(y_pred)), dim=-1)


def _twice(x):
    return 2.0 * torch.as_tensor(x)


def _fresh(fn: Callable) -> Callable:
    """A copy of ``fn`` (same name and code) so each route registers its own function."""
    import types

    return types.FunctionType(fn.__code__, fn.__globals__, fn.__name__)


FUNCTION_CASES = {
    "loss": (_scaled_abs_error, losses, lambda f: f(Y_TRUE, Y_PRED)),
    "metric": (_scaled_abs_error, metrics, lambda f: f(Y_TRUE, Y_PRED)),
    "activation": (_twice, activations, lambda f: f(W)),
}


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("category", sorted(FUNCTION_CASES))
def test_custom_function_round_trips(category: str, route: str) -> None:
    template, module, observe = FUNCTION_CASES[category]
    fn = _fresh(template)
    if route == "registered":
        fn = keras.utils.register_keras_serializable(package=PKG)(fn)
    name = f"{PKG}>{fn.__name__}" if route == "registered" else fn.__name__
    config = _json(module.serialize(fn))
    # tf_keras writes loss/metric functions as the function dict; activations by name
    assert config == (name if category == "activation" else _fn_config(name))
    restored = _restore(route, {fn.__name__: fn}, config, module.deserialize)
    assert restored is fn
    np.testing.assert_allclose(_np(observe(restored)), _np(observe(fn)))
    if route != "registered":
        with pytest.raises(UnknownObjectError, match=fn.__name__):
            module.deserialize(config)


def test_nested_custom_objects_resolve_inside_models_and_optimizers() -> None:
    Scale, Fill, AbsSum, Clip, Halving = (
        _layer_class(),
        _initializer_class(),
        _regularizer_class(),
        _constraint_class(),
        _schedule_class(),
    )
    objects = {c.__name__: c for c in (Scale, Fill, AbsSum, Clip, Halving)}
    objects["_twice"] = _twice
    model = keras.Sequential(
        [
            keras.Input((2,)),
            keras.layers.Dense(
                2,
                activation=_twice,
                kernel_initializer=Fill(0.25),
                kernel_regularizer=AbsSum(0.1),
                kernel_constraint=Clip(0.2),
            ),
            Scale(3.0),
        ]
    )
    config = _json(model.get_config())
    x = np.array([[1.0, -2.0], [0.5, 4.0]], np.float32)
    for route in ("custom_objects", "scope"):
        clone = _restore(route, objects, config, keras.Sequential.from_config)
        dense = clone.layers[0]
        assert (type(dense.kernel_initializer), type(dense.kernel_regularizer)) == (Fill, AbsSum)
        assert type(dense.kernel_constraint) is Clip and dense.activation is _twice
        np.testing.assert_allclose(clone(x).numpy(), model(x).numpy(), rtol=1e-6)
        np.testing.assert_allclose(_np(clone.losses), _np(model.losses), rtol=1e-6)

    opt = optimizers.Adam(learning_rate=Halving(0.8))
    config = _json(optimizers.serialize(opt))
    assert config["config"]["learning_rate"]["class_name"] == "Halving"
    for route in ("custom_objects", "scope"):
        clone = _restore(route, objects, config, optimizers.deserialize)
        assert type(clone.learning_rate) is Halving
        # reading a hyper-parameter creates the float32 hyper Variables, as in tf.keras
        assert _float32(clone.get_config()) == _float32(opt.get_config())


# --- resolution order -------------------------------------------------------------------------


def _named(name: str) -> Callable:
    def fn(x):
        return x

    fn.__name__ = name
    return fn


def test_resolution_order_custom_objects_scope_registry_builtins() -> None:
    from_registry, outer, inner, from_argument = (_named(n) for n in "abcd")
    assert activations.get("relu") is activations.relu  # built-in
    keras.utils.get_custom_objects()["relu"] = from_registry
    try:
        assert activations.get("relu") is from_registry  # registry > built-ins
        with keras.utils.custom_object_scope({"relu": outer}):
            assert activations.get("relu") is outer  # scope > registry
            with keras.utils.custom_object_scope({"relu": inner}):
                assert activations.get("relu") is inner  # innermost scope first
                got = activations.deserialize("relu", custom_objects={"relu": from_argument})
                assert got is from_argument  # custom_objects > scopes
            assert activations.get("relu") is outer
            assert "relu" not in keras.utils.get_custom_objects() or (
                keras.utils.get_custom_objects()["relu"] is from_registry
            )  # scopes do not write into the registry
        assert activations.get("relu") is from_registry
    finally:
        del keras.utils.get_custom_objects()["relu"]
    assert activations.get("relu") is activations.relu


def test_registered_name_wins_over_a_builtin_class_name() -> None:
    @keras.utils.register_keras_serializable(package=PKG, name="MeanSquaredError")
    class Tripled(losses.MeanSquaredError):
        def call(self, y_true, y_pred):
            return 3.0 * super().call(y_true, y_pred)

    config = _json(losses.serialize(Tripled()))
    assert config["registered_name"] == f"{PKG}>MeanSquaredError"
    restored = losses.deserialize(config)
    assert type(restored) is Tripled
    expected = 3.0 * float(losses.MeanSquaredError()(Y_TRUE, Y_PRED))
    assert float(restored(Y_TRUE, Y_PRED)) == pytest.approx(expected)


def test_scopes_are_per_thread_and_closed_on_errors() -> None:
    Loss = _loss_class()
    seen: list[Any] = []

    def other_thread() -> None:
        try:
            seen.append(losses.get("ScaledMSE"))
        except UnknownObjectError as err:
            seen.append(err)

    with keras.utils.custom_object_scope({"ScaledMSE": Loss}):
        assert type(losses.get("ScaledMSE")) is Loss
        thread = threading.Thread(target=other_thread)
        thread.start()
        thread.join()
    assert isinstance(seen[0], UnknownObjectError)
    with pytest.raises(RuntimeError):
        with keras.utils.custom_object_scope({"ScaledMSE": Loss}):
            raise RuntimeError("boom")
    with pytest.raises(UnknownObjectError):
        losses.get("ScaledMSE")


def test_register_keras_serializable_names_and_replacement() -> None:
    first = keras.utils.register_keras_serializable(package=PKG, name="Twin")(_loss_class())
    second = keras.utils.register_keras_serializable(package=PKG, name="Twin")(_loss_class())
    assert keras.utils.get_registered_name(second) == f"{PKG}>Twin"
    assert keras.utils.get_registered_object(f"{PKG}>Twin") is second  # re-running a cell
    assert keras.utils.get_registered_name(first) == f"{PKG}>Twin"
    assert keras.utils.get_registered_name(losses.Huber) == "Huber"
    with pytest.raises(ValueError, match="get_config"):
        keras.utils.register_keras_serializable(package=PKG)(type("NoConfig", (), {}))


# --- unknown names ----------------------------------------------------------------------------

UNKNOWN_CASES = [
    (activations.deserialize, "activation function", "keras.activations"),
    (initializers.deserialize, "initializer", "keras.initializers"),
    (regularizers.deserialize, "regularizer", "keras.regularizers"),
    (constraints.deserialize, "constraint", "keras.constraints"),
    (losses.deserialize, "loss function", "keras.losses"),
    (metrics.deserialize, "metric function", "keras.metrics"),
    (optimizers.deserialize, "optimizer", "keras.optimizers"),
    (schedules.deserialize, "learning rate schedule", "keras.optimizers.schedules"),
    (keras.layers.deserialize, "layer", "keras.layers"),
]


@pytest.mark.parametrize(
    "deserialize, kind, module", UNKNOWN_CASES, ids=[c[1] for c in UNKNOWN_CASES]
)
def test_unknown_names_say_what_to_do(deserialize: Callable, kind: str, module: str) -> None:
    configs = [
        "NoSuchThing",
        {"class_name": "NoSuchThing", "config": {}},
        {"module": module, "class_name": "NoSuchThing", "config": {}, "registered_name": None},
        {
            "module": None,
            "class_name": "NoSuchThing",
            "config": {},
            "registered_name": "p>NoSuchThing",
        },
    ]
    for config in configs:
        with pytest.raises(UnknownObjectError) as info:
            deserialize(config)
        message = str(info.value)
        assert isinstance(info.value, ValueError)
        assert f"Unknown {kind}: 'NoSuchThing'" in message
        for hint in ("custom_objects", "custom_object_scope", "register_keras_serializable"):
            assert hint in message


def test_get_reports_unknown_names_too() -> None:
    for get in (
        activations.get,
        initializers.get,
        regularizers.get,
        constraints.get,
        losses.get,
        metrics.get,
    ):
        with pytest.raises(UnknownObjectError, match="nope_nope"):
            get("nope_nope")
    with pytest.raises(UnknownObjectError, match="Could not interpret optimizer identifier"):
        optimizers.get("nope_nope")


# --- safety -----------------------------------------------------------------------------------


def test_configs_never_import_or_run_what_they_name(tmp_path, monkeypatch) -> None:
    (tmp_path / "sf_evil_module.py").write_text(
        "import builtins\nbuiltins.SF_EVIL_IMPORTED = True\n"
        "class Evil:\n    pass\n"
        "def hack(*args):\n    raise AssertionError('ran')\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    configs = [
        {"module": "sf_evil_module", "class_name": "Evil", "config": {}, "registered_name": None},
        {"module": "sf_evil_module", "class_name": "Evil", "config": {}, "registered_name": "Evil"},
        {
            "module": "sf_evil_module",
            "class_name": "function",
            "config": "hack",
            "registered_name": "hack",
        },
        {
            "module": "os",
            "class_name": "function",
            "config": "system",
            "registered_name": "function",
        },
        {
            "module": "keras.layers",
            "class_name": "__class__",
            "config": {},
            "registered_name": None,
        },
        "sf_evil_module.Evil",
        "__import__",
        "eval",
    ]
    every = [case[0] for case in UNKNOWN_CASES] + [keras.utils.deserialize_keras_object]
    for deserialize in every:
        for config in configs:
            with pytest.raises(UnknownObjectError):
                deserialize(config)
    assert "sf_evil_module" not in sys.modules and not hasattr(builtins, "SF_EVIL_IMPORTED")


def test_serialized_lambdas_are_refused() -> None:
    config = {"class_name": "__lambda__", "config": {"value": ["AAAA", None, None]}}
    for deserialize in (
        losses.deserialize,
        activations.deserialize,
        keras.utils.deserialize_keras_object,
    ):
        with pytest.raises(UnsafeLoadError, match="lambda"):
            deserialize(config)
    with pytest.raises(ValueError, match="lambda"):
        losses.serialize(lambda y_true, y_pred: y_pred)


def test_lambda_layers_stay_behind_safe_mode() -> None:
    model = keras.Sequential([keras.Input((2,)), keras.layers.Lambda(lambda x: x * 2.0)])
    config = _json(model.get_config())
    with pytest.raises(UnsafeLoadError, match="safe_mode=False"):
        keras.Sequential.from_config(config)


# --- tf_keras 2.21 forms (facts from tf_keras; the live comparison is in tests/tf_oracle) -----


def test_builtins_serialize_as_tf_keras_writes_them() -> None:
    assert losses.serialize(losses.mse) == _fn_config("mean_squared_error")
    assert metrics.serialize(metrics.sparse_categorical_accuracy) == _fn_config(
        "sparse_categorical_accuracy"
    )
    assert keras.utils.serialize_keras_object(activations.relu) == _fn_config("relu")
    assert activations.serialize(activations.relu) == "relu"
    assert activations.serialize(activations.silu) == "swish"
    assert losses.serialize(losses.Huber()) == {
        "module": "keras.losses",
        "class_name": "Huber",
        "config": {"reduction": "auto", "name": "huber_loss", "delta": 1.0, "fn": "huber"},
        "registered_name": None,
    }
    assert metrics.serialize(metrics.Accuracy(name="accuracy")) == {
        "module": "keras.metrics",
        "class_name": "Accuracy",
        "config": {"name": "accuracy", "dtype": "float32"},
        "registered_name": None,
    }
    assert regularizers.serialize(regularizers.get("l2")) == {
        "module": "keras.regularizers",
        "class_name": "L2",
        "config": {"l2": 0.009999999776482582},
        "registered_name": None,
    }
    sequential = keras.layers.serialize(keras.Sequential([keras.layers.Dense(1)]))
    assert (sequential["module"], sequential["registered_name"]) == ("keras", None)
    i = keras.Input((3,))
    functional = keras.layers.serialize(keras.Model(i, keras.layers.Dense(1)(i)))
    assert (functional["module"], functional["registered_name"]) == (
        "tf_keras.src.engine.functional",
        "Functional",
    )


def test_string_forms_resolve_to_the_builtins() -> None:
    mse = np.mean(np.square(_np(Y_TRUE) - _np(Y_PRED)), axis=-1)
    for name in ("mse", "MSE", "mean_squared_error"):
        np.testing.assert_allclose(_np(losses.get(name)(Y_TRUE, Y_PRED)), mse, rtol=1e-6)
    assert float(losses.get("MeanSquaredError")(Y_TRUE, Y_PRED)) == pytest.approx(mse.mean())
    labels, logits = torch.tensor([2, 0]), torch.tensor([[0.1, 0.2, 0.7], [0.6, 0.3, 0.1]])
    scce = losses.get("sparse_categorical_crossentropy")(labels, logits)
    np.testing.assert_allclose(_np(scce), -np.log([0.7, 0.6]), rtol=1e-5)
    assert metrics.get("accuracy") is metrics.get("acc") is metrics.accuracy
    assert metrics.get("bce") is losses.binary_crossentropy
    assert isinstance(initializers.get("glorot_uniform"), initializers.GlorotUniform)
    assert initializers.get("glorot_uniform")((30, 40)).abs().max() <= (6 / 70) ** 0.5
    np.testing.assert_allclose(_np(activations.get("relu")(W)), np.maximum(_np(W), 0))
    assert float(regularizers.get("l2")(W)) == pytest.approx(0.01 * float((W**2).sum()))
    assert regularizers.get("l1_l2").get_config() == {
        "l1": 0.009999999776482582,
        "l2": 0.009999999776482582,
    }
    assert isinstance(constraints.get("maxnorm"), constraints.MaxNorm)
    assert type(optimizers.get("ADAM")) is optimizers.Adam


def test_reads_the_forms_tf_keras_writes_in_compile_configs() -> None:
    # get_compile_config() of tf_keras 2.21 for loss=mean_squared_error (a function),
    # metrics=[sparse_categorical_accuracy, "accuracy", AUC()] and activation configs
    assert losses.get(_fn_config("mean_squared_error")) is losses.mean_squared_error
    assert losses.get(_fn_config("sparse_categorical_crossentropy")) is (
        losses.sparse_categorical_crossentropy
    )
    assert metrics.get(_fn_config("sparse_categorical_accuracy")) is (
        metrics.sparse_categorical_accuracy
    )
    assert metrics.get("accuracy") is metrics.accuracy
    assert activations.get(_fn_config("relu")) is activations.relu
    keras_3_form = {
        "module": "keras.activations",
        "class_name": "function",
        "config": "tanh",
        "registered_name": "tanh",
    }
    assert activations.get(keras_3_form) is activations.tanh
    auc = metrics.get(
        {
            "module": "keras.metrics",
            "class_name": "AUC",
            "config": {
                "name": "auc_1",
                "dtype": "float32",
                "num_thresholds": 200,
                "curve": "ROC",
                "summation_method": "interpolation",
                "multi_label": False,
                "num_labels": None,
                "label_weights": None,
                "from_logits": False,
            },
            "registered_name": None,
        }
    )
    assert type(auc) is metrics.AUC and auc.name == "auc_1" and auc.num_thresholds == 200
    # tf_keras records the wrapped function in loss configs ("fn"); the classes fix their own
    tf_written = {
        "module": "keras.losses",
        "class_name": "Huber",
        "config": {"reduction": "sum", "name": "h", "delta": 0.5, "fn": "huber"},
        "registered_name": None,
    }
    huber = losses.deserialize(tf_written)
    expected = losses.Huber(delta=0.5, reduction="sum", name="h")(Y_TRUE, Y_PRED)
    assert float(huber(Y_TRUE, Y_PRED)) == pytest.approx(float(expected))
    old_form = {"class_name": "GlorotUniform", "config": {"seed": 3}}
    again = initializers.get(old_form)((4, 5))
    np.testing.assert_array_equal(_np(again), _np(initializers.GlorotUniform(seed=3)((4, 5))))


# --- tree -------------------------------------------------------------------------------------


def test_keras_tree_is_tf_nest() -> None:
    assert (tree.flatten, tree.pack_sequence_as, tree.map_structure, tree.is_nested) == (
        nest.flatten,
        nest.pack_sequence_as,
        nest.map_structure,
        nest.is_nested,
    )
    shape = TensorShape([2, 3])
    assert tree.flatten([shape, {"b": 1, "a": (2, torch.Size([4]))}]) == [
        shape,
        2,
        torch.Size([4]),
        1,
    ]
    packed = tree.pack_sequence_as({"b": 0, "a": [0, 0]}, [1, 2, 3])
    assert packed == {"b": 3, "a": [1, 2]} and list(packed) == ["b", "a"]


def test_reads_tf_keras_new_optimizer_configs() -> None:
    # optimizers.serialize(tf_keras.optimizers.Adam(0.01, amsgrad=True)) in tf_keras 2.21
    written = {
        "module": "keras.optimizers",
        "class_name": "Adam",
        "config": {
            "name": "Adam", "weight_decay": None, "clipnorm": None, "global_clipnorm": None,
            "clipvalue": None, "use_ema": False, "ema_momentum": 0.99,
            "ema_overwrite_frequency": None, "jit_compile": False, "is_legacy_optimizer": False,
            "learning_rate": 0.009999999776482582, "beta_1": 0.9, "beta_2": 0.999,
            "epsilon": 1e-07, "amsgrad": True,
        },
        "registered_name": None,
    }  # fmt: skip
    restored = optimizers.deserialize(written)
    assert _float32(restored.get_config()) == _float32(
        optimizers.Adam(0.01, amsgrad=True).get_config()
    )
    np.testing.assert_allclose(_one_step(restored), _one_step(optimizers.Adam(0.01, amsgrad=True)))
    with_ema = {**written, "config": {**written["config"], "use_ema": True}}
    with pytest.raises(TypeError, match="use_ema"):  # not silently dropped
        optimizers.deserialize(with_ema)


def test_generic_deserialize_uses_the_category_named_by_module() -> None:
    tf_written = {
        "module": "keras.losses",
        "class_name": "MeanSquaredError",
        "config": {"reduction": "auto", "name": "mean_squared_error", "fn": "mean_squared_error"},
        "registered_name": None,
    }
    loss = keras.utils.deserialize_keras_object(tf_written)
    assert type(loss) is losses.MeanSquaredError
    metric = keras.utils.deserialize_keras_object({**tf_written, "module": "keras.metrics", "config": {"name": "m", "dtype": "float32"}})  # fmt: skip
    assert type(metric) is metrics.MeanSquaredError and metric.name == "m"
    relu = keras.utils.deserialize_keras_object(_fn_config("relu"))
    assert relu is activations.relu
    dense = keras.utils.deserialize_keras_object(keras.layers.serialize(keras.layers.Dense(2)))
    assert type(dense) is keras.layers.Dense and dense.units == 2


def _float32(config: dict) -> dict:
    """Optimizer configs compared as their float32 hyper Variables hold them."""
    return {k: np.float32(v) if isinstance(v, float) else v for k, v in config.items()}
