"""Loss and metric configs in tf_keras 2.21's layout, and ``ignore_class`` in computations.

Expected numbers marked "tf_keras" were computed by tf_keras 2.21 on the same data (the oracle
twin of these checks is tests/tf_oracle/test_tf_oracle_serialization.py).
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from savedflow import keras
from savedflow.errors import UnknownObjectError

losses, metrics = keras.losses, keras.metrics

LOGITS = np.array([[2.0, 1.0, 0.1], [0.5, 2.5, 0.3], [1.2, 0.2, 3.1], [0.3, 0.3, 0.3]], "float32")
LABELS = np.array([0, 2, 1, 2])
WEIGHTS = np.array([1.0, 2.0, 0.5, 3.0], "float32")
PER_ENTRY = [0.4170299470424652, 2.4200496673583984, 3.0861406326293945, 1.0986123085021973]


def _text(config: object) -> str:
    return json.dumps(config)  # key order and 0 vs 0.0 both count


def test_loss_configs_record_fn_last() -> None:
    config = losses.serialize(losses.Huber(delta=2.0, reduction="sum", name="h"))["config"]
    assert _text(config) == _text({"reduction": "sum", "name": "h", "delta": 2.0, "fn": "huber"})
    config = losses.SparseCategoricalCrossentropy(ignore_class=3).get_config()
    assert list(config) == ["reduction", "name", "from_logits", "ignore_class", "fn"]
    assert (config["ignore_class"], config["fn"]) == (3, "sparse_categorical_crossentropy")
    assert losses.MeanSquaredError().get_config()["fn"] == "mean_squared_error"


def test_loss_from_config_ignores_fn_of_subclasses_and_resolves_it_for_the_wrapper() -> None:
    mse = losses.MeanSquaredError.from_config(
        {"reduction": "auto", "name": "x", "fn": "mean_absolute_error"}
    )
    assert mse.fn is losses.mean_squared_error and mse.name == "x"  # as tf_keras: fn ignored
    wrapper = losses.LossFunctionWrapper(losses.huber, name="w", delta=3.0)
    config = losses.serialize(wrapper)
    assert config["config"] == {"reduction": "auto", "name": "w", "delta": 3.0, "fn": "huber"}
    again = losses.deserialize(config)
    assert type(again) is losses.LossFunctionWrapper and again.fn is losses.huber
    y_true, y_pred = [[0.0, 1.0], [2.0, 8.0]], [[1.0, 1.0], [0.0, 2.0]]
    assert float(again(y_true, y_pred)) == pytest.approx(float(wrapper(y_true, y_pred)))
    unknown = {**config, "config": {**config["config"], "fn": "no_such_loss"}}
    with pytest.raises(UnknownObjectError, match="no_such_loss"):
        losses.deserialize(unknown)


def test_wrapper_of_a_custom_function_round_trips_through_custom_objects() -> None:
    def doubled_mae(y_true, y_pred):
        return 2.0 * losses.mean_absolute_error(y_true, y_pred)

    config = losses.serialize(losses.LossFunctionWrapper(doubled_mae, name="d"))
    assert config["config"]["fn"] == "doubled_mae"
    again = losses.deserialize(config, custom_objects={"doubled_mae": doubled_mae})
    assert float(again([[1.0, 3.0]], [[2.0, 2.0]])) == pytest.approx(2.0)


def test_crossentropy_metric_configs_keep_arguments_as_given() -> None:
    assert _text(metrics.BinaryCrossentropy().get_config()) == _text(
        {"name": "binary_crossentropy", "dtype": "float32", "from_logits": False, "label_smoothing": 0}
    )  # fmt: skip
    assert _text(metrics.BinaryCrossentropy(label_smoothing=0.0).get_config()).endswith("0.0}")
    cce = metrics.CategoricalCrossentropy(label_smoothing=0.1, axis=1).get_config()
    assert list(cce) == ["name", "dtype", "from_logits", "label_smoothing", "axis"]
    assert (cce["label_smoothing"], cce["axis"]) == (0.1, 1)
    scce = metrics.SparseCategoricalCrossentropy("s", None, True, 3, 1).get_config()
    assert scce == {"name": "s", "dtype": "float32", "from_logits": True, "ignore_class": 3, "axis": 1}  # fmt: skip
    again = metrics.deserialize(metrics.serialize(metrics.SparseCategoricalCrossentropy(ignore_class=3)))  # fmt: skip
    assert again.get_config()["ignore_class"] == 3


def test_categorical_crossentropy_metric_uses_its_axis() -> None:
    y_true = np.array([[1.0, 0.0], [0.0, 1.0], [0.0, 0.0]], "float32")  # classes on axis 0
    y_pred = np.array([[0.7, 0.4], [0.2, 0.5], [0.1, 0.1]], "float32")
    metric = metrics.CategoricalCrossentropy(axis=0)
    metric.update_state(y_true, y_pred)
    expected = np.mean([-math.log(0.7), -math.log(0.5)])
    assert float(metric.result()) == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize(
    "kwargs, sample_weight, expected",
    [
        ({"ignore_class": 2}, None, 1.7515852451324463),  # tf_keras: mean of the 2 kept
        ({"ignore_class": 2}, WEIGHTS, 0.9800501465797424),  # tf_keras
        ({"ignore_class": 1, "reduction": "sum"}, WEIGHTS, 8.552966207265854),  # kept, weighted
        ({"ignore_class": 7}, None, 1.755458116531372),  # tf_keras: a class never seen
    ],
)
def test_sparse_crossentropy_loss_averages_over_kept_entries(kwargs, sample_weight, expected):
    loss = losses.SparseCategoricalCrossentropy(from_logits=True, **kwargs)
    got = float(loss(LABELS, LOGITS, sample_weight=sample_weight))
    assert got == pytest.approx(expected, rel=1e-6)


def test_ignored_entries_are_zero_unreduced_and_nan_when_all_are_ignored() -> None:
    loss = losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=2, reduction="none")
    np.testing.assert_allclose(
        loss(LABELS[:, None], LOGITS).numpy(), [PER_ENTRY[0], 0.0, PER_ENTRY[2], 0.0], rtol=1e-6
    )
    everything = losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=2)
    assert math.isnan(float(everything([2, 2], LOGITS[:2])))  # tf_keras: nan as well


def test_sparse_crossentropy_metric_leaves_ignored_entries_out_of_the_count() -> None:
    metric = metrics.SparseCategoricalCrossentropy(from_logits=True, ignore_class=2)
    metric.update_state(LABELS, LOGITS)
    assert float(metric.result()) == pytest.approx(1.7515853643417358, rel=1e-6)  # tf_keras
    metric.update_state(LABELS, LOGITS, sample_weight=WEIGHTS)
    expected = (PER_ENTRY[0] * 2 + PER_ENTRY[2] * 1.5) / 3.5
    assert float(metric.result()) == pytest.approx(expected, rel=1e-6)
    empty = metrics.SparseCategoricalCrossentropy(from_logits=True, ignore_class=2)
    empty.update_state([2, 2], LOGITS[:2])
    assert float(empty.result()) == 0.0  # nothing counted: tf_keras' 0


def test_mean_metric_wrapper_records_its_function() -> None:
    wrapper = metrics.MeanMetricWrapper(losses.sparse_categorical_crossentropy, name="w", ignore_class=1)  # fmt: skip
    config = metrics.serialize(wrapper)
    assert config["config"]["fn"] == {
        "module": "builtins",
        "class_name": "function",
        "config": "sparse_categorical_crossentropy",
        "registered_name": "function",
    }
    again = metrics.deserialize(config)
    probs = [[0.7, 0.2, 0.1], [0.2, 0.5, 0.3], [0.1, 0.1, 0.8]]
    again.update_state([0, 1, 2], probs)
    assert float(again.result()) == pytest.approx(0.2899092435836792, rel=1e-6)  # tf_keras
    assert "fn" not in metrics.MeanSquaredError().get_config()
