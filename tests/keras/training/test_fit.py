"""compile/fit/evaluate/predict behaviour a Keras user relies on."""

from __future__ import annotations

import platform
import re
import sys

import numpy as np
import pytest
import torch

import savedflow as tf
from savedflow import keras


def _regression_model(units: int = 1) -> keras.Model:
    inputs = keras.Input(shape=(32,))
    outputs = keras.layers.Dense(units)(inputs)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="adam", loss="mean_squared_error")
    return model


def _data(n: int = 128) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.random((n, 32)), rng.random((n, 1))


def _classifier() -> keras.Model:
    model = keras.Sequential(
        [keras.layers.Dense(8, activation="relu", input_shape=(4,)), keras.layers.Dense(3)]
    )
    model.compile(
        optimizer=keras.optimizers.SGD(0.1),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    return model


def test_seed000_fit_prints_keras_progress_bar(capsys) -> None:
    model = _regression_model()
    x, y = _data()
    history = model.fit(x, y)
    out = capsys.readouterr().out
    assert out.startswith("\r1/4 [======>"), out  # redrawn in place, as tf_keras does on Linux
    last = out.split("\r")[-1]
    assert re.fullmatch(
        r"4/4 \[==============================\] - \d+s \d+(ms|us)/step - loss: \d+\.\d{4}\n", last
    ), out
    assert isinstance(history, keras.callbacks.History) and model.history is history
    assert list(history.history) == ["loss"] and len(history.history["loss"]) == 1
    assert f"loss: {history.history['loss'][0]:.4f}" in out
    assert model.predict(x, verbose=0).shape == (128, 1)


def test_verbose_2_prints_one_line_per_epoch(capsys) -> None:
    model = _regression_model()
    x, y = _data()
    model.fit(x, y, epochs=2, verbose=2)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Epoch 1/2" and lines[2] == "Epoch 2/2"
    assert re.fullmatch(
        r"4/4 - \d+s - loss: \d+\.\d{4} - \d+(ms|us|s)/epoch - \d+(ms|us|s)/step", lines[1]
    ), lines[1]
    model.fit(x, y, epochs=2, verbose=0)
    assert capsys.readouterr().out == ""


def test_loss_decreases_and_history_has_validation() -> None:
    model = _regression_model()
    x, y = _data(200)
    history = model.fit(x, y, epochs=5, batch_size=16, validation_split=0.2, verbose=0)
    assert set(history.history) == {"loss", "val_loss"}
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert history.epoch == [0, 1, 2, 3, 4]
    # validation_split takes the last 20% (before shuffling): same value as evaluating on it
    assert history.history["val_loss"][-1] == pytest.approx(
        model.evaluate(x[160:], y[160:], verbose=0), rel=1e-5
    )


def test_epoch_loss_is_batch_size_weighted_mean() -> None:
    model = _regression_model()
    x, y = _data(40)
    model.optimizer.learning_rate = 0.0  # weights stay fixed: the epoch loss is the dataset loss
    history = model.fit(x, y, batch_size=16, epochs=1, verbose=0)  # batches of 16, 16, 8
    expected = float(np.mean((model.predict(x, verbose=0) - y.astype(np.float32)) ** 2))
    assert history.history["loss"][0] == pytest.approx(expected, rel=1e-5)


def test_metrics_names_evaluate_and_on_batch_methods() -> None:
    model = _classifier()
    rng = np.random.default_rng(1)
    x = rng.random((64, 4)).astype("float32")
    y = (x[:, 0] * 3).astype("int64").clip(0, 2)
    history = model.fit(x, y, epochs=3, batch_size=8, verbose=0)
    assert list(history.history) == ["loss", "accuracy"]
    assert model.metrics_names == ["loss", "accuracy"]
    loss, acc = model.evaluate(x, y, verbose=0)
    assert 0.0 <= acc <= 1.0
    assert model.evaluate(x, y, verbose=0, return_dict=True) == {
        "loss": pytest.approx(loss),
        "accuracy": pytest.approx(acc),
    }
    assert len(model.train_on_batch(x[:8], y[:8])) == 2
    assert set(model.test_on_batch(x[:8], y[:8], return_dict=True)) == {"loss", "accuracy"}
    np.testing.assert_allclose(
        model.predict_on_batch(x[:5]), model.predict(x[:5], verbose=0), rtol=1e-6
    )


def test_fit_from_dataset_and_tensors() -> None:
    model = _regression_model()
    x, y = _data(64)
    ds = tf.data.Dataset.from_tensor_slices((x.astype("float32"), y.astype("float32"))).batch(16)
    history = model.fit(ds, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2
    assert model.evaluate(ds, verbose=0) == pytest.approx(
        model.evaluate(x, y, batch_size=16, verbose=0), rel=1e-5
    )
    model.fit(torch.tensor(x, dtype=torch.float32), torch.tensor(y, dtype=torch.float32), verbose=0)
    assert model.predict(ds.map(lambda a, b: a), verbose=0).shape == (64, 1)


def test_sample_weight_and_class_weight() -> None:
    model = _regression_model()
    x, y = _data(32)
    model.optimizer.learning_rate = 0.0
    zero = model.evaluate(x, y, sample_weight=np.zeros(32), verbose=0)
    assert zero == 0.0
    model = _classifier()
    x = np.random.default_rng(2).random((32, 4)).astype("float32")
    y = np.zeros(32, "int64")
    model.optimizer.learning_rate = 0.0
    plain = model.fit(x, y, verbose=0).history["loss"][0]
    doubled = model.fit(x, y, class_weight={0: 2.0}, verbose=0).history["loss"][0]
    assert doubled == pytest.approx(2 * plain, rel=1e-5)


def test_model_losses_are_added() -> None:
    inputs = keras.Input(shape=(4,))
    outputs = keras.layers.Dense(
        1, kernel_regularizer=keras.regularizers.l2(1.0), kernel_initializer="ones"
    )(inputs)
    model = keras.Model(inputs, outputs)
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss="mse")
    x, y = np.zeros((8, 4), "float32"), np.zeros((8, 1), "float32")
    assert model.evaluate(x, y, verbose=0) == pytest.approx(4.0)  # l2 of a ones(4, 1) kernel


def test_custom_train_step_and_stop_training() -> None:
    class Custom(keras.Model):
        def __init__(self) -> None:
            super().__init__()
            self.dense = keras.layers.Dense(1)
            self.steps = 0

        def call(self, x):
            return self.dense(x)

        def train_step(self, data):
            self.steps += 1
            x, y = data
            with tf.GradientTape() as tape:
                loss = self.compute_loss(x, y, self(x, training=True))
            self.optimizer.apply_gradients(
                zip(tape.gradient(loss, self.trainable_variables), self.trainable_variables)
            )
            return {"custom": loss}

    model = Custom()
    # eager, so the Python step runs per batch (in a graph it runs once per trace, as in TF)
    model.compile(optimizer="sgd", loss="mse", run_eagerly=True)
    x, y = _data(64)
    stopper = keras.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: setattr(model, "stop_training", epoch == 1)
    )
    history = model.fit(x, y, batch_size=32, epochs=5, verbose=0, callbacks=[stopper])
    assert (
        model.steps == 4
        and list(history.history) == ["custom"]
        and len(history.history["custom"]) == 2
    )


def test_compile_errors_and_names() -> None:
    model = keras.Sequential([keras.layers.Dense(1, input_shape=(2,))])
    with pytest.raises(RuntimeError, match="must compile"):
        model.fit(np.zeros((2, 2)), np.zeros((2, 1)), verbose=0)
    model.compile(
        optimizer="rmsprop", loss="mae", metrics=["mse", keras.metrics.RootMeanSquaredError()]
    )
    assert isinstance(model.optimizer, keras.optimizers.RMSprop)
    history = model.fit(
        np.zeros((4, 2)),
        np.ones((4, 1)),
        verbose=0,
        validation_data=(np.zeros((2, 2)), np.ones((2, 1))),
    )
    assert list(history.history) == [
        "loss",
        "mse",
        "root_mean_squared_error",
        "val_loss",
        "val_mse",
        "val_root_mean_squared_error",
    ]


@pytest.mark.slow  # torch.compile of a tiny forward pass: a few seconds
def test_jit_compile_trains_like_eager() -> None:
    from torch._dynamo.utils import counters

    x, y = _data(64)
    results = []
    for jit in (False, True):
        keras.backend.clear_session()
        model = keras.Sequential(
            [
                keras.layers.Dense(
                    4, activation="relu", input_shape=(32,), kernel_initializer="ones"
                ),
                keras.layers.Dense(1, kernel_initializer="ones"),
            ]
        )
        model.compile(optimizer=keras.optimizers.SGD(0.001), loss="mse", jit_compile=jit)
        counters.clear()
        results.append(
            model.fit(x, y, epochs=2, batch_size=32, shuffle=False, verbose=0).history["loss"]
        )
    np.testing.assert_allclose(results[0], results[1], rtol=1e-4)
    # one graph, no breaks (a break, e.g. in the input-shape check, costs more than eager)
    assert not counters["graph_break"], dict(counters["graph_break"])


def test_multi_output_losses_weights_and_names() -> None:
    keras.backend.clear_session()
    inputs = keras.Input(shape=(4,))
    a = keras.layers.Dense(1, name="a")(inputs)
    b = keras.layers.Dense(3, name="b")(inputs)
    model = keras.Model(inputs, [a, b])
    model.compile(
        optimizer=keras.optimizers.SGD(0.0),
        loss={"a": "mse", "b": keras.losses.SparseCategoricalCrossentropy(from_logits=True)},
        loss_weights={"a": 2.0, "b": 0.5},
        metrics={"b": ["accuracy"]},
    )
    rng = np.random.default_rng(4)
    x = rng.random((16, 4)).astype("float32")
    ya, yb = rng.random((16, 1)).astype("float32"), rng.integers(0, 3, 16)
    logs = model.evaluate(x, {"a": ya, "b": yb}, verbose=0, return_dict=True)
    assert list(logs) == ["loss", "a_loss", "b_loss", "b_accuracy"]
    assert logs["loss"] == pytest.approx(2.0 * logs["a_loss"] + 0.5 * logs["b_loss"], rel=1e-5)
    history = model.fit(x, [ya, yb], epochs=1, verbose=0)
    assert history.history["loss"][0] == pytest.approx(logs["loss"], rel=1e-5)


def test_initial_epoch_and_steps_per_epoch_on_repeated_dataset() -> None:
    model = _regression_model()
    x, y = _data(64)
    ds = (
        tf.data.Dataset.from_tensor_slices((x.astype("float32"), y.astype("float32")))
        .repeat()
        .batch(16)
    )
    seen: list[int] = []
    callback = keras.callbacks.LambdaCallback(on_epoch_begin=lambda epoch, logs: seen.append(epoch))
    history = model.fit(
        ds, epochs=4, initial_epoch=2, steps_per_epoch=3, verbose=0, callbacks=[callback]
    )
    assert seen == [2, 3] and history.epoch == [2, 3]
    assert int(model.optimizer.iterations.numpy()) == 6


def test_fit_raises_glibc_malloc_thresholds_once(monkeypatch) -> None:
    from savedflow.keras.trainers import allocator

    glibc = sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc"
    model = _regression_model()
    x, y = _data()
    model.fit(x, y, verbose=0)
    assert allocator.tune_once.cache_info().currsize == 1  # applied by fit, once per process
    assert allocator.tune_once() is glibc
    monkeypatch.setenv("SAVEDFLOW_MALLOC_TUNING", "0")
    assert allocator.tune_once.__wrapped__() is False  # the opt-out


def test_steps_per_epoch_on_a_finite_dataset_as_tf_keras(caplog) -> None:
    model = _regression_model()
    x, y = _data(16)
    ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(4)  # 4 batches
    seen: list[int] = []
    counter = keras.callbacks.LambdaCallback(on_train_batch_end=lambda b, logs: seen.append(b))
    # one iterator across epochs: 3 + 1 batches, then it runs out and training stops (TF 2.21)
    history = model.fit(ds, epochs=3, steps_per_epoch=3, verbose=0, callbacks=[counter])
    assert history.epoch == [0, 1] and seen == [0, 1, 2, 0]
    assert "Your input ran out of data; interrupting training" in caplog.text
    assert "(in this case, 9 batches)" in caplog.text
    # steps_per_epoch equal to the dataset's length: a fresh pass every epoch
    seen.clear()
    history = model.fit(ds, epochs=3, steps_per_epoch=4, verbose=0, callbacks=[counter])
    assert history.epoch == [0, 1, 2] and seen == [0, 1, 2, 3] * 3
    # it runs out at the start of epoch 3: that epoch repeats epoch 2's logs (TF 2.21)
    seen.clear()
    history = model.fit(ds, epochs=3, steps_per_epoch=2, verbose=0, callbacks=[counter])
    assert history.epoch == [0, 1, 2] and seen == [0, 1, 0, 1]
    assert history.history["loss"][2] == history.history["loss"][1]


def test_steps_per_epoch_on_arrays_continues_one_stream_of_passes() -> None:
    model = _regression_model()
    x, y = _data(16)
    seen: list = []
    probe = keras.callbacks.LambdaCallback(on_train_batch_end=lambda b, logs: seen.append(b))
    history = model.fit(
        x, y, epochs=3, steps_per_epoch=3, batch_size=4, verbose=0, callbacks=[probe]
    )
    assert history.epoch == [0, 1, 2] and len(seen) == 9  # 3 passes of 4 batches hold 9 steps
    seen.clear()
    history = model.fit(
        x, y, epochs=2, steps_per_epoch=5, batch_size=4, verbose=0, callbacks=[probe]
    )
    assert history.epoch == [0, 1] and seen == [0, 1, 2, 3, 4, 0, 1, 2]  # 8 batches, as TF


def test_compile_config_is_serialized_and_rebuilds_the_objects() -> None:
    import json

    model = _classifier()
    model.compile(
        optimizer=keras.optimizers.SGD(0.5, momentum=0.9),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy", keras.metrics.SparseTopKCategoricalAccuracy(k=2, name="top2")],
    )
    config = json.loads(json.dumps(model.get_compile_config()))  # JSON-ready, as tf.keras
    assert config["loss"]["class_name"] == "SparseCategoricalCrossentropy"
    assert config["metrics"][0] == "accuracy" and config["metrics"][1]["config"]["k"] == 2
    twin = _classifier()
    twin.compile_from_config(config)
    assert twin.optimizer.get_config() == model.optimizer.get_config()
    assert twin.loss.get_config() == model.loss.get_config()
    x = np.random.default_rng(0).random((16, 4)).astype(np.float32)
    y = np.arange(16) % 3
    twin.set_weights(model.get_weights())
    assert twin.evaluate(x, y, verbose=0) == pytest.approx(model.evaluate(x, y, verbose=0))
    assert twin.metrics_names == model.metrics_names
