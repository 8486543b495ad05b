"""fit/evaluate/predict steps run as recorded graphs (as tf.keras runs them in tf.function)."""

from __future__ import annotations

import logging

import numpy as np
import pytest

from savedflow import keras


def _mlp(extra: str | None = None) -> keras.Model:
    layers = [keras.layers.Dense(16, activation="relu", input_shape=(8,))]
    if extra == "batch_norm":
        layers.append(keras.layers.BatchNormalization())
    elif extra == "dropout":
        layers.append(keras.layers.Dropout(0.3, seed=5))
    layers += [keras.layers.Dense(16, activation="tanh"), keras.layers.Dense(3)]
    return keras.Sequential(layers)


def _data(n: int = 100) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    return rng.standard_normal((n, 8)).astype(np.float32), rng.integers(0, 3, n)


def _twin(model: keras.Model, **compile_kwargs: object) -> keras.Model:
    """A copy of ``model`` with the same weights, compiled with ``compile_kwargs``."""
    twin = keras.models.clone_model(model)
    twin.set_weights(model.get_weights())
    twin.compile(**compile_kwargs)
    return twin


def _compile_kwargs(optimizer: str) -> dict[str, object]:
    return {
        "optimizer": optimizer,
        "loss": keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        "metrics": ["accuracy"],
    }


@pytest.mark.parametrize("optimizer", ["sgd", "adam", "rmsprop", "adagrad", "adamw"])
@pytest.mark.parametrize("extra", [None, "batch_norm", "dropout"])
def test_graph_steps_train_like_eager_steps(optimizer: str, extra: str | None) -> None:
    keras.backend.clear_session()
    x, y = _data()
    base = _mlp(extra)
    eager = _twin(base, run_eagerly=True, **_compile_kwargs(optimizer))
    graph = _twin(base, **_compile_kwargs(optimizer))
    # 100 samples, batch 32: three full batches and one of 4 (a second trace)
    kwargs = {"batch_size": 32, "epochs": 3, "shuffle": False, "verbose": 0}
    h_eager = eager.fit(x, y, validation_data=(x[:40], y[:40]), **kwargs).history
    h_graph = graph.fit(x, y, validation_data=(x[:40], y[:40]), **kwargs).history
    steps = graph._steps()
    assert steps.eager_reasons == {}
    for key in h_eager:
        np.testing.assert_allclose(h_graph[key], h_eager[key], rtol=1e-5, err_msg=key)
    for a, b in zip(graph.get_weights(), eager.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
    for a, b in zip(graph.optimizer.variables(), eager.optimizer.variables()):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(graph.predict(x, verbose=0), eager.predict(x, verbose=0), rtol=1e-4)
    np.testing.assert_allclose(
        graph.evaluate(x, y, verbose=0), eager.evaluate(x, y, verbose=0), rtol=1e-5
    )


def test_train_step_python_runs_once_per_trace_as_in_tf() -> None:
    calls: list[int] = []

    class Counting(keras.Model):
        def train_step(self, data):  # noqa: ANN001, ANN202 - the Keras override signature
            calls.append(1)  # a Python side effect: once per trace in TF
            return super().train_step(data)

    keras.backend.clear_session()
    inputs = keras.Input(shape=(8,))
    model = Counting(inputs, keras.layers.Dense(3)(inputs))
    model.compile(optimizer="sgd", loss="mse")
    x = np.ones((64, 8), np.float32)
    y = np.zeros((64, 3), np.float32)
    model.fit(x, y, batch_size=16, epochs=3, verbose=0)
    # first call (builds the optimizer's variables), the call that records the graph; then replays
    assert len(calls) <= 2, len(calls)
    assert model._steps().eager_reasons == {}


def test_a_step_that_reads_values_into_python_runs_eagerly_and_says_why(
    caplog: pytest.LogCaptureFixture,
) -> None:
    seen: list[float] = []

    class Peeking(keras.Model):
        def train_step(self, data):  # noqa: ANN001, ANN202
            logs = super().train_step(data)
            seen.append(float(logs["loss"]))  # reads a value: cannot be a graph
            return logs

    keras.backend.clear_session()
    inputs = keras.Input(shape=(8,))
    model = Peeking(inputs, keras.layers.Dense(3)(inputs))
    model.compile(optimizer="sgd", loss="mse")
    x = np.ones((64, 8), np.float32)
    with caplog.at_level(logging.INFO, logger="savedflow.keras"):
        history = model.fit(x, np.zeros((64, 3), np.float32), batch_size=16, epochs=2, verbose=0)
    assert len(seen) == 8  # every batch ran the Python code
    assert "train" in model._steps().eager_reasons
    assert any("runs eagerly" in r.getMessage() for r in caplog.records)
    assert history.history["loss"][-1] == pytest.approx(seen[-1], rel=1e-6)


def test_freezing_a_layer_between_fits_takes_effect() -> None:
    keras.backend.clear_session()
    x, y = _data()
    model = _mlp()
    model.compile(optimizer="sgd", loss=keras.losses.SparseCategoricalCrossentropy(True))
    model.fit(x, y, epochs=1, verbose=0)
    model.layers[0].trainable = False
    frozen = [w.copy() for w in model.layers[0].get_weights()]
    model.fit(x, y, epochs=1, verbose=0)
    for a, b in zip(model.layers[0].get_weights(), frozen):
        np.testing.assert_array_equal(a, b)


def test_run_eagerly_and_jit_compile_together_are_refused() -> None:
    model = _mlp()
    with pytest.raises(ValueError, match="run_eagerly"):
        model.compile(optimizer="sgd", loss="mse", run_eagerly=True, jit_compile=True)


@pytest.mark.slow  # torch.compile of two small graphs: several seconds
def test_jit_compile_trains_like_graph_steps() -> None:
    keras.backend.clear_session()
    x, y = _data(96)
    base = _mlp()
    graph = _twin(base, **_compile_kwargs("adam"))
    jit = _twin(base, jit_compile=True, **_compile_kwargs("adam"))
    kwargs = {"batch_size": 32, "epochs": 2, "shuffle": False, "verbose": 0}
    h_graph = graph.fit(x, y, **kwargs).history
    h_jit = jit.fit(x, y, **kwargs).history
    np.testing.assert_allclose(h_jit["loss"], h_graph["loss"], rtol=1e-4)
    for a, b in zip(jit.get_weights(), graph.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_a_step_fed_many_shapes_stops_recording_and_runs_eagerly() -> None:
    from savedflow.keras.trainers import step_function

    keras.backend.clear_session()
    inputs = keras.Input(shape=(None, 2))
    model = keras.Model(inputs, keras.layers.GlobalAveragePooling1D()(inputs) * 2.0)
    model.compile(optimizer="sgd", loss="mse")
    outputs = []
    for length in range(1, step_function.MAX_GRAPHS_PER_STEP + 4):
        x = np.full((2, length, 2), float(length), np.float32)
        outputs.append(model.predict_on_batch(x))
        np.testing.assert_allclose(outputs[-1], np.full((2, 2), 2.0 * length))
    assert "shapes" in model._steps().eager_reasons["predict"]
