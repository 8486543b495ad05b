"""Graph steps train exactly like eager steps in the situations users rely on.

Each test trains twin models from identical weights, one compiled normally (steps replay
recorded graphs) and one with ``run_eagerly=True`` (plain Python every batch), and compares
histories, weights, optimizer variables and predictions. The graph twin must really have
run as graphs (``eager_reasons`` empty).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import savedflow as tf
from savedflow import keras

L = keras.layers
RTOL = 1e-5


def _data(n: int = 64, features: int = 8, classes: int = 3) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    return rng.standard_normal((n, features)).astype(np.float32), rng.integers(0, classes, n)


def _mlp(batch_norm: bool = False) -> keras.Model:
    layers = [L.Dense(16, activation="relu", input_shape=(8,))]
    if batch_norm:
        layers.append(L.BatchNormalization())
    return keras.Sequential([*layers, L.Dense(3)])


def _sparse(optimizer: Any = "adam", **kwargs: Any) -> Callable[[], dict[str, Any]]:
    """Compile arguments for 3-class logits (a callable: each twin gets its own objects)."""

    def make() -> dict[str, Any]:
        opt = optimizer() if callable(optimizer) else optimizer
        return {
            "optimizer": opt,
            "loss": keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            "metrics": ["accuracy"],
            **kwargs,
        }

    return make


def _twins(
    build: Callable[[], keras.Model], compile_kwargs: Callable[[], dict[str, Any]]
) -> tuple[keras.Model, keras.Model]:
    """(eager, graph): two models with the same weights, the first with run_eagerly=True."""
    keras.backend.clear_session()
    eager, graph = build(), build()
    graph.set_weights(eager.get_weights())
    eager.compile(run_eagerly=True, **compile_kwargs())
    graph.compile(**compile_kwargs())
    return eager, graph


def _assert_same(
    eager: keras.Model,
    graph: keras.Model,
    histories: tuple[Any, Any] | None = None,
    x: Any = None,
    as_graph: bool = True,
) -> None:
    """Same logs, weights, optimizer variables (and predictions on ``x``)."""
    if histories is not None:
        h_eager, h_graph = (h.history if hasattr(h, "history") else h for h in histories)
        assert list(h_graph) == list(h_eager)
        for key in h_eager:
            np.testing.assert_allclose(h_graph[key], h_eager[key], rtol=RTOL, err_msg=key)
    for a, b in zip(graph.get_weights(), eager.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=RTOL, atol=1e-6)
    opt_graph, opt_eager = _optimizer_state(graph), _optimizer_state(eager)
    assert len(opt_graph) == len(opt_eager) == len(graph.optimizer.variables())
    for a, b in zip(opt_graph, opt_eager):
        np.testing.assert_allclose(a, b, rtol=RTOL, atol=1e-6)
    if x is not None:
        np.testing.assert_allclose(
            graph.predict(x, verbose=0), eager.predict(x, verbose=0), rtol=RTOL, atol=1e-6
        )
    if as_graph:
        assert graph._steps().eager_reasons == {}


def _optimizer_state(model: keras.Model) -> list[np.ndarray]:
    """``iterations``, then each slot of each weight (the order of optimizer.variables()
    depends on whether slots were created by training or by restoring a checkpoint)."""
    optimizer = model.optimizer
    state = [np.asarray(optimizer.iterations)]
    for weight in model.weights:
        for name in optimizer.get_slot_names():
            try:
                state.append(np.asarray(optimizer.get_slot(weight, name)))
            except KeyError:
                continue
    return state


def _fit_both(eager: keras.Model, graph: keras.Model, *args: Any, **kwargs: Any) -> tuple:
    kwargs = {"batch_size": 16, "shuffle": False, "verbose": 0, **kwargs}
    callbacks = kwargs.pop("callbacks", None)
    out = []
    for model in (eager, graph):
        cbs = callbacks(model) if callable(callbacks) else callbacks
        out.append(model.fit(*args, callbacks=cbs, **kwargs))
    return tuple(out)


# --- callbacks that change state between batches or epochs ------------------------------------


@pytest.mark.parametrize(
    ("optimizer", "callback"),
    [
        (
            "sgd",
            lambda: keras.callbacks.LearningRateScheduler(lambda e, lr: 0.5 if e < 2 else 1e-3),
        ),
        (
            "adam",
            lambda: keras.callbacks.ReduceLROnPlateau("loss", factor=0.1, patience=0, min_delta=9),
        ),
    ],
)
def test_callbacks_changing_the_learning_rate_reach_the_graph(
    optimizer: str, callback: Callable[[], Any]
) -> None:
    x, y = _data()
    eager, graph = _twins(_mlp, _sparse(optimizer))
    histories = _fit_both(eager, graph, x, y, epochs=4, callbacks=lambda m: [callback()])
    lrs = histories[1].history["lr"]
    assert lrs[-1] < lrs[0] / 5  # the rate really changed mid-fit
    _assert_same(eager, graph, histories, x)


def test_learning_rate_set_between_fits_reaches_the_graph() -> None:
    x, y = _data()
    eager, graph = _twins(_mlp, _sparse("sgd"))
    changes: list[Callable[[keras.Model], None]] = [
        lambda m: setattr(m.optimizer, "learning_rate", 0.3),
        lambda m: m.optimizer.learning_rate.assign(1e-3),
        lambda m: setattr(m.optimizer, "lr", 0.2),
        # a schedule in place of the Variable: the graphs must be recorded again
        lambda m: setattr(
            m.optimizer,
            "learning_rate",
            keras.optimizers.schedules.ExponentialDecay(0.5, decay_steps=2, decay_rate=0.5),
        ),
    ]
    _fit_both(eager, graph, x, y)
    for change in changes:
        for model in (eager, graph):
            change(model)
        _assert_same(eager, graph, _fit_both(eager, graph, x, y), x)


def test_a_new_optimizer_object_is_used_by_the_next_fit() -> None:
    x, y = _data()
    eager, graph = _twins(_mlp, _sparse("sgd"))
    _fit_both(eager, graph, x, y)
    for model in (eager, graph):
        model.optimizer = keras.optimizers.Adam(0.01)
    _assert_same(eager, graph, _fit_both(eager, graph, x, y), x)
    assert len(graph.optimizer.variables()) == 9  # iter + m and v of four weights


def test_early_stopping_restores_the_best_weights() -> None:
    x, y = _data()
    eager, graph = _twins(_mlp, _sparse("sgd"))

    def callbacks(model: keras.Model) -> list[Any]:
        # mode="max" on a falling val_loss: the first epoch is the best one
        return [
            keras.callbacks.EarlyStopping(
                "val_loss", patience=1, mode="max", restore_best_weights=True
            )
        ]

    histories = _fit_both(
        eager, graph, x, y, epochs=6, validation_data=(x[:24], y[:24]), callbacks=callbacks
    )
    assert len(histories[1].history["loss"]) == 2
    _assert_same(eager, graph, histories, x)
    _assert_same(eager, graph, _fit_both(eager, graph, x, y), x)  # training goes on from there


def test_model_checkpoint_best_only_and_load_weights_mid_training(tmp_path: Any) -> None:
    x, y = _data()
    eager, graph = _twins(_mlp, _sparse("adam"))

    def callbacks(model: keras.Model) -> list[Any]:
        path = str(tmp_path / f"{model.name}_best")
        reload = keras.callbacks.LambdaCallback(
            on_epoch_end=lambda epoch, logs: model.load_weights(path) if epoch == 2 else None
        )
        best = keras.callbacks.ModelCheckpoint(
            path, monitor="val_loss", mode="max", save_best_only=True, save_weights_only=True
        )
        return [best, reload]

    histories = _fit_both(
        eager, graph, x, y, epochs=4, validation_data=(x[:24], y[:24]), callbacks=callbacks
    )
    _assert_same(eager, graph, histories, x)


def test_backup_and_restore_resumes_like_an_uninterrupted_fit(tmp_path: Any) -> None:
    class Interrupt(keras.callbacks.Callback):
        def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
            if epoch == 1:
                raise RuntimeError("interrupted")

    x, y = _data()
    eager, graph = _twins(_mlp, _sparse("adam"))
    initial = graph.get_weights()
    fit = {"batch_size": 16, "epochs": 4, "shuffle": False, "verbose": 0}
    resumed = []
    for model in (eager, graph):
        backup = str(tmp_path / model.name)
        with pytest.raises(RuntimeError, match="interrupted"):
            model.fit(
                x, y, callbacks=[keras.callbacks.BackupAndRestore(backup), Interrupt()], **fit
            )
        fresh = keras.models.clone_model(model)
        fresh.compile(run_eagerly=model.run_eagerly, **_sparse("adam")())
        history = fresh.fit(x, y, callbacks=[keras.callbacks.BackupAndRestore(backup)], **fit)
        assert len(history.history["loss"]) == 2  # epochs 3 and 4
        resumed.append((fresh, history))
    _assert_same(resumed[0][0], resumed[1][0], (resumed[0][1], resumed[1][1]), x)
    # the same as four epochs without interruption (weights, Adam slots and `iterations`)
    straight = keras.models.clone_model(graph)
    straight.set_weights(initial)
    straight.compile(**_sparse("adam")())
    history = straight.fit(x, y, **fit)
    tail = {"loss": history.history["loss"][2:]}
    _assert_same(straight, resumed[1][0], (tail, {"loss": resumed[1][1].history["loss"]}))


def test_terminate_on_nan_stops_both_at_the_same_batch() -> None:
    x, _ = _data()
    y = np.full((len(x), 3), 1e30, np.float32)
    eager, graph = _twins(_mlp, lambda: {"optimizer": keras.optimizers.SGD(1e10), "loss": "mse"})
    histories = _fit_both(
        eager, graph, x, y, epochs=3, callbacks=lambda m: [keras.callbacks.TerminateOnNaN()]
    )
    iterations = [int(m.optimizer.iterations.numpy()) for m in (eager, graph)]
    assert iterations[0] == iterations[1] < 4 * 3
    assert len(histories[1].history["loss"]) == 1


def test_set_weights_on_batch_end_is_seen_by_the_next_replay() -> None:
    x, y = _data()
    eager, graph = _twins(_mlp, _sparse("sgd"))

    def callbacks(model: keras.Model) -> list[Any]:
        def shrink(batch: int, logs: Any) -> None:
            weights = model.get_weights()
            model.set_weights([weights[0] * 0.9, *weights[1:]])

        return [keras.callbacks.LambdaCallback(on_batch_end=shrink)]

    _assert_same(eager, graph, _fit_both(eager, graph, x, y, epochs=2, callbacks=callbacks), x)


# --- weights, validation, shuffling, data sources -------------------------------------------


def test_class_weight_sample_weight_and_weighted_metrics() -> None:
    x, y = _data()
    sample_weight = np.linspace(0.1, 2.0, len(x)).astype(np.float32)
    eager, graph = _twins(_mlp, _sparse("adam", weighted_metrics=["accuracy"]))
    histories = _fit_both(eager, graph, x, y, epochs=2, class_weight={0: 1.0, 1: 3.0, 2: 0.5})
    _assert_same(eager, graph, histories)
    validation = (x[:24], y[:24], sample_weight[:24])
    histories = _fit_both(
        eager, graph, x, y, sample_weight=sample_weight, validation_data=validation, epochs=2
    )
    assert "val_weighted_accuracy" in histories[1].history
    _assert_same(eager, graph, histories, x)


def test_validation_split_and_validation_freq() -> None:
    x, y = _data()
    eager, graph = _twins(_mlp, _sparse("adam"))
    histories = _fit_both(eager, graph, x, y, epochs=4, validation_split=0.25, validation_freq=2)
    assert len(histories[1].history["val_loss"]) == 2
    _assert_same(eager, graph, histories)
    histories = _fit_both(
        eager, graph, x, y, epochs=3, validation_data=(x[:20], y[:20]), validation_freq=[1, 3]
    )
    assert len(histories[1].history["val_loss"]) == 2
    _assert_same(eager, graph, histories, x)


def test_seeded_shuffle_gives_the_same_batches() -> None:
    x, y = _data()
    eager, graph = _twins(_mlp, _sparse("adam"))
    histories = []
    for model in (eager, graph):
        keras.utils.set_random_seed(3)
        histories.append(model.fit(x, y, batch_size=16, epochs=3, shuffle=True, verbose=0))
    _assert_same(eager, graph, histories, x)


def test_dataset_with_a_partial_last_batch_generator_and_repeat() -> None:
    x, y = _data(60)  # batches of 16: the last one has 12 samples (a graph of its own)
    dataset = tf.data.Dataset.from_tensor_slices((x, y)).batch(16)
    eager, graph = _twins(_mlp, _sparse("adam"))
    histories = _fit_both(eager, graph, dataset, epochs=2, validation_data=dataset)
    _assert_same(eager, graph, histories)
    np.testing.assert_allclose(
        graph.predict(dataset, verbose=0), eager.predict(dataset, verbose=0), rtol=RTOL
    )
    np.testing.assert_allclose(
        graph.evaluate(dataset, verbose=0), eager.evaluate(dataset, verbose=0), rtol=RTOL
    )

    def batches() -> Any:
        while True:
            for start in range(0, len(x), 25):
                yield x[start : start + 25], y[start : start + 25]

    histories = tuple(
        m.fit(batches(), steps_per_epoch=3, epochs=2, verbose=0) for m in (eager, graph)
    )
    _assert_same(eager, graph, histories)
    repeated = dataset.repeat()
    histories = _fit_both(eager, graph, repeated, steps_per_epoch=5, epochs=2)
    assert int(graph.optimizer.iterations.numpy()) == 2 * 4 + 2 * 3 + 2 * 5
    _assert_same(eager, graph, histories, x)


# --- models -----------------------------------------------------------------------------------


def test_multi_input_multi_output_with_loss_weights_and_per_output_metrics() -> None:
    def build() -> keras.Model:
        a, b = keras.Input(shape=(8,), name="a"), keras.Input(shape=(4,), name="b")
        hidden = L.Concatenate()([L.Dense(8, activation="relu")(a), b])
        return keras.Model([a, b], [L.Dense(3, name="cls")(hidden), L.Dense(1, name="reg")(hidden)])

    def compile_kwargs() -> dict[str, Any]:
        return {
            "optimizer": "adam",
            "loss": {"cls": keras.losses.SparseCategoricalCrossentropy(True), "reg": "mse"},
            "loss_weights": {"cls": 1.0, "reg": 0.3},
            "metrics": {
                "cls": ["accuracy"],
                "reg": ["mae", keras.metrics.RootMeanSquaredError("rmse")],
            },
        }

    x, y = _data()
    x2 = np.random.default_rng(2).standard_normal((len(x), 4)).astype(np.float32)
    inputs, targets = {"a": x, "b": x2}, {"cls": y, "reg": x[:, :1] * 2}
    eager, graph = _twins(build, compile_kwargs)
    histories = _fit_both(eager, graph, inputs, targets, epochs=2, validation_split=0.25)
    assert {"cls_loss", "reg_rmse", "cls_accuracy", "reg_mae", "val_reg_loss"} <= set(
        histories[1].history
    )
    _assert_same(eager, graph, histories)
    for a, b in zip(graph.predict([x, x2], verbose=0), eager.predict([x, x2], verbose=0)):
        np.testing.assert_allclose(a, b, rtol=RTOL)
    logs = [m.evaluate(inputs, targets, return_dict=True, verbose=0) for m in (eager, graph)]
    for key in logs[0]:
        np.testing.assert_allclose(logs[1][key], logs[0][key], rtol=RTOL, err_msg=key)


def test_multi_output_metric_names_are_the_log_keys_tf_keras_writes() -> None:
    """Keys callbacks monitor: what tf_keras 2.21 logs for the same compile() arguments."""
    keras.backend.clear_session()
    inputs = keras.Input(shape=(8,))
    hidden = L.Dense(8, activation="relu")(inputs)
    model = keras.Model(inputs, [L.Dense(3, name="cls")(hidden), L.Dense(1, name="reg")(hidden)])
    model.compile(
        optimizer="adam",
        loss=[keras.losses.SparseCategoricalCrossentropy(True), "mse"],
        metrics=[["accuracy"], ["mae", keras.metrics.RootMeanSquaredError()]],
        weighted_metrics=[
            ["accuracy"],
            ["mse", "mae", keras.metrics.MeanAbsoluteError(name="wmae")],
        ],
    )
    x, y = _data(10)
    history = model.fit(x, [y, x[:, :1]], validation_data=(x, [y, x[:, :1]]), verbose=0)
    expected = [
        "loss", "cls_loss", "reg_loss", "cls_accuracy", "cls_weighted_accuracy", "reg_mae",
        "reg_root_mean_squared_error", "reg_mse", "reg_weighted_mae", "reg_wmae",
    ]  # fmt: skip
    assert model.metrics_names == expected
    assert list(history.history) == expected + ["val_" + name for name in expected]


class _Regularized(keras.Model):
    """Kernel and activity regularizers plus an add_loss in call."""

    def __init__(self) -> None:
        super().__init__()
        self.hidden = L.Dense(
            16,
            activation="relu",
            kernel_regularizer=keras.regularizers.l2(0.01),
            activity_regularizer=keras.regularizers.l1(0.001),
        )
        self.out = L.Dense(3)

    def call(self, inputs: Any, training: Any = None) -> Any:
        hidden = self.hidden(inputs)
        self.add_loss(0.01 * tf.reduce_mean(tf.square(hidden)))
        return self.out(hidden)


class _CustomStep(keras.Model):
    """A train_step of its own (minimize or apply_gradients) returning ``{m.name: m.result()}``."""

    def __init__(self, use_minimize: bool) -> None:
        super().__init__()
        self.use_minimize = use_minimize
        self.hidden, self.out = L.Dense(16, activation="relu"), L.Dense(3)
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.accuracy = keras.metrics.SparseCategoricalAccuracy(name="acc")
        self.loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    def call(self, inputs: Any, training: Any = None) -> Any:
        return self.out(self.hidden(inputs))

    @property
    def metrics(self) -> list[Any]:
        return [self.loss_tracker, self.accuracy]

    def train_step(self, data: Any) -> dict[str, Any]:
        x, y = data
        with tf.GradientTape() as tape:
            logits = self(x, training=True)
            loss = self.loss_fn(y, logits)
        if self.use_minimize:
            self.optimizer.minimize(loss, self.trainable_variables, tape=tape)
        else:
            grads = tape.gradient(loss, self.trainable_variables)
            self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
        self.loss_tracker.update_state(loss)
        self.accuracy.update_state(y, logits)
        return {m.name: m.result() for m in self.metrics}


@pytest.mark.parametrize("built", [True, False])
def test_subclassed_model_with_add_loss_and_regularizers(built: bool) -> None:
    x, y = _data()

    def build() -> keras.Model:
        model = _Regularized()
        if built:
            model(x[:1])
        return model

    eager, graph = _twins(build, _sparse("adam"))
    if not built:  # unbuilt twins: the same initial weights come from building both alike
        keras.utils.set_random_seed(5)
        eager(x[:1])
        keras.utils.set_random_seed(5)
        graph(x[:1])
    histories = _fit_both(eager, graph, x, y, epochs=2, validation_data=(x[:24], y[:24]))
    assert len(graph.optimizer.variables()) == 1 + 2 * 4  # every weight was trained
    _assert_same(eager, graph, histories, x)


@pytest.mark.parametrize("use_minimize", [True, False])
def test_custom_train_step(use_minimize: bool) -> None:
    x, y = _data()

    def build() -> keras.Model:
        model = _CustomStep(use_minimize)
        model(x[:1])
        return model

    eager, graph = _twins(build, lambda: {"optimizer": "adam"})
    histories = _fit_both(eager, graph, x, y, epochs=2)
    assert list(histories[1].history) == ["loss", "acc"]
    _assert_same(eager, graph, histories, x)


@pytest.mark.parametrize("input_shape", [True, False])
def test_models_built_by_their_first_batch_train(input_shape: bool) -> None:
    """A Sequential without input shape gets its weights in the first step; they train."""
    x, y = _data()
    for run_eagerly in (True, False):
        keras.backend.clear_session()
        first = {"input_shape": (8,)} if input_shape else {}
        model = keras.Sequential([L.Dense(16, activation="relu", **first), L.Dense(3)])
        model.compile(run_eagerly=run_eagerly, **_sparse(lambda: keras.optimizers.Adam(0.01))())
        history = model.fit(x, y, batch_size=16, epochs=3, verbose=0).history
        assert history["loss"][-1] < history["loss"][0]
        assert int(model.optimizer.iterations.numpy()) == 12
        assert len(model.optimizer.variables()) == 1 + 2 * 4  # iter, m and v of 4 weights


# --- layers -----------------------------------------------------------------------------------


def test_batch_normalization_and_seeded_dropout() -> None:
    def build() -> keras.Model:
        return keras.Sequential([
            L.Dense(16, activation="relu", input_shape=(8,)),
            L.BatchNormalization(),
            L.Dropout(0.4, seed=7),
            L.Dense(3),
        ])  # fmt: skip

    x, y = _data()
    eager, graph = _twins(build, _sparse("adam"))
    histories = _fit_both(eager, graph, x, y, epochs=2, validation_data=(x[:24], y[:24]))
    _assert_same(eager, graph, histories, x)
    moving_mean = graph.layers[1].moving_mean.numpy()
    assert np.abs(moving_mean).sum() > 0  # the graph updated the moving statistics


def test_unseeded_dropout_trains_as_a_graph_with_fresh_masks() -> None:
    x, y = _data()
    keras.backend.clear_session()
    model = keras.Sequential([L.Dense(32, input_shape=(8,)), L.Dropout(0.5), L.Dense(3)])
    model.compile(**_sparse(lambda: keras.optimizers.Adam(0.01))())
    before = model.get_weights()
    model.fit(x, y, batch_size=16, epochs=3, verbose=0)
    assert model._steps().eager_reasons == {}
    assert all(not np.array_equal(a, b) for a, b in zip(model.get_weights(), before))
    # inference ignores dropout: the same outputs twice
    assert model.predict(x, verbose=0).shape == (64, 3)
    np.testing.assert_array_equal(model.predict(x, verbose=0), model.predict(x, verbose=0))
    # each replayed training step draws a new mask: one batch, no update, other losses
    model.compile(**_sparse(lambda: keras.optimizers.SGD(0.0))())
    losses = {float(model.train_on_batch(x[:16], y[:16])[0]) for _ in range(4)}
    assert model._steps().eager_reasons == {}
    assert len(losses) > 1


def test_embedding_lstm_gru_and_masking() -> None:
    def build() -> keras.Model:
        inputs = keras.Input(shape=(6,), dtype="int32")
        hidden = L.Embedding(20, 8, mask_zero=True)(inputs)
        hidden = L.LSTM(8, return_sequences=True)(hidden)  # masked: the per-step loop
        hidden = L.GRU(8)(hidden)
        unmasked = L.LSTM(4)(L.Embedding(20, 4)(inputs))  # the fused kernel
        return keras.Model(inputs, L.Dense(3)(L.Concatenate()([hidden, unmasked])))

    rng = np.random.default_rng(0)
    x = rng.integers(0, 20, (60, 6)).astype(np.int32)
    y = rng.integers(0, 3, 60)
    eager, graph = _twins(build, _sparse("adam"))
    histories = _fit_both(eager, graph, x, y, epochs=2, validation_data=(x[:20], y[:20]))
    _assert_same(eager, graph, histories, x)


def test_embedding_indices_out_of_range_are_an_error_in_graphs_too() -> None:
    keras.backend.clear_session()
    inputs = keras.Input(shape=(3,), dtype="int32")
    model = keras.Model(inputs, L.Dense(1)(L.Flatten()(L.Embedding(5, 2)(inputs))))
    model.compile(optimizer="sgd", loss="mse")
    x, y = np.array([[1, 2, 3]] * 8, np.int32), np.zeros((8, 1), np.float32)
    model.fit(x, y, batch_size=4, epochs=2, verbose=0)
    assert model._steps().eager_reasons == {}
    with pytest.raises(RuntimeError, match="out of range"):
        model.fit(np.array([[1, 2, 7]] * 8, np.int32), y, batch_size=4, verbose=0)


def test_stateful_rnn_carries_states_across_replayed_batches() -> None:
    def build() -> keras.Model:
        return keras.Sequential([
            L.LSTM(4, stateful=True, batch_input_shape=(8, 3, 2)),
            L.Dense(1),
        ])  # fmt: skip

    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 3, 2)).astype(np.float32)
    y = x[:, 0, :1]
    eager, graph = _twins(build, lambda: {"optimizer": "sgd", "loss": "mse"})
    histories = _fit_both(eager, graph, x, y, batch_size=8, epochs=2)
    _assert_same(eager, graph, histories, as_graph=True)
    predictions = [m.predict(x, batch_size=8, verbose=0) for m in (eager, graph)]
    np.testing.assert_allclose(predictions[1], predictions[0], rtol=RTOL, atol=1e-6)
    for model in (eager, graph):
        model.reset_states()
    again = [m.predict(x, batch_size=8, verbose=0) for m in (eager, graph)]
    np.testing.assert_allclose(again[1], again[0], rtol=RTOL, atol=1e-6)
    assert not np.allclose(again[1], predictions[1])  # the states had carried over
    assert graph._steps().eager_reasons == {}


@pytest.mark.parametrize("recompile", [False, True])
def test_freezing_and_unfreezing_layers_between_fits(recompile: bool) -> None:
    x, y = _data()
    eager, graph = _twins(lambda: _mlp(batch_norm=True), _sparse("adam"))
    _fit_both(eager, graph, x, y)
    for change in (
        lambda m: setattr(m.layers[0], "trainable", False),
        lambda m: (
            setattr(m.layers[0], "trainable", True),
            setattr(m.layers[1], "trainable", False),
        ),
        lambda m: setattr(m.layers[1], "trainable", True),
    ):
        for model in (eager, graph):
            change(model)
            if recompile:
                model.compile(run_eagerly=model is eager, **_sparse("adam")())
        frozen = graph.layers[0].get_weights() if not graph.layers[0].trainable else None
        _assert_same(eager, graph, _fit_both(eager, graph, x, y), x)
        if frozen is not None:
            for a, b in zip(graph.layers[0].get_weights(), frozen):
                np.testing.assert_array_equal(a, b)


# --- metrics, single batches, evaluate/predict ----------------------------------------------


def test_confusion_and_regression_metrics_with_reset_metrics() -> None:
    def build() -> keras.Model:
        return keras.Sequential([
            L.Dense(8, activation="relu", input_shape=(8,)),
            L.Dense(1, activation="sigmoid"),
        ])  # fmt: skip

    def compile_kwargs() -> dict[str, Any]:
        metrics = [
            keras.metrics.AUC(name="auc"),
            keras.metrics.Precision(name="precision"),
            keras.metrics.Recall(name="recall"),
            keras.metrics.RootMeanSquaredError(name="rmse"),
        ]
        return {"optimizer": "adam", "loss": "binary_crossentropy", "metrics": metrics}

    x, labels = _data(classes=2)
    y = labels.astype(np.float32).reshape(-1, 1)
    eager, graph = _twins(build, compile_kwargs)
    histories = _fit_both(eager, graph, x, y, epochs=2, validation_data=(x[:24], y[:24]))
    _assert_same(eager, graph, histories, x)
    for model in (eager, graph):
        model.reset_metrics()
        assert all(float(np.asarray(m.result())) == 0.0 for m in model.metrics)
    _assert_same(eager, graph, _fit_both(eager, graph, x, y, epochs=1), x)
    logs = [m.evaluate(x, y, return_dict=True, verbose=0) for m in (eager, graph)]
    assert set(logs[1]) == {"loss", "auc", "precision", "recall", "rmse"}
    for key in logs[0]:
        np.testing.assert_allclose(logs[1][key], logs[0][key], rtol=RTOL, err_msg=key)


@pytest.mark.parametrize("labels", ["zero_one", "signed"])
def test_hinge_losses_and_metrics_run_as_graphs(labels: str) -> None:
    def build() -> keras.Model:
        return keras.Sequential([L.Dense(1, input_shape=(8,))])

    def compile_kwargs() -> dict[str, Any]:
        return {"optimizer": "sgd", "loss": "hinge", "metrics": ["squared_hinge", "hinge"]}

    x, classes = _data(classes=2)
    y = classes.astype(np.float32).reshape(-1, 1)
    if labels == "signed":  # -1/1 labels are used as they are, 0/1 labels become -1/1
        y = 2 * y - 1
    eager, graph = _twins(build, compile_kwargs)
    _assert_same(eager, graph, _fit_both(eager, graph, x, y, epochs=2), x)


def test_train_test_predict_on_batch_and_evaluate_return_dict() -> None:
    x, y = _data()
    eager, graph = _twins(_mlp, _sparse("adam"))
    for _ in range(3):
        logs = [m.train_on_batch(x[:16], y[:16], return_dict=True) for m in (eager, graph)]
        for key in logs[0]:
            np.testing.assert_allclose(logs[1][key], logs[0][key], rtol=RTOL)
        kept = [m.train_on_batch(x[16:32], y[16:32], reset_metrics=False) for m in (eager, graph)]
        np.testing.assert_allclose(kept[1], kept[0], rtol=RTOL)
        tested = [m.test_on_batch(x[:20], y[:20]) for m in (eager, graph)]
        np.testing.assert_allclose(tested[1], tested[0], rtol=RTOL)
        outputs = [m.predict_on_batch(x[:7]) for m in (eager, graph)]
        np.testing.assert_allclose(outputs[1], outputs[0], rtol=RTOL, atol=1e-6)
    logs = [m.evaluate(x, y, return_dict=True, verbose=0) for m in (eager, graph)]
    assert list(logs[1]) == ["loss", "accuracy"]
    for key in logs[0]:
        np.testing.assert_allclose(logs[1][key], logs[0][key], rtol=RTOL)
    _assert_same(eager, graph, x=x)


# --- restoring into models whose steps are recorded graphs ----------------------------------


@pytest.mark.parametrize("how", ["checkpoint", "load_weights", "optimizer_set_weights"])
def test_restored_values_are_used_by_recorded_graphs(how: str, tmp_path: Any) -> None:
    x, y = _data()
    eager, graph = _twins(_mlp, _sparse("adam"))
    _fit_both(eager, graph, x, y)
    saved = {}
    at_save = (graph.get_weights(), _optimizer_state(graph))
    for model in (eager, graph):
        prefix = str(tmp_path / model.name)
        if how == "checkpoint":
            saved[model.name] = tf.train.Checkpoint(model=model, optimizer=model.optimizer).save(
                prefix
            )
        elif how == "load_weights":
            model.save_weights(prefix)
            saved[model.name] = prefix
        else:
            saved[model.name] = model.optimizer.get_weights()
    _fit_both(eager, graph, x, y, epochs=2)  # the graphs are recorded; values move on
    assert int(graph.optimizer.iterations.numpy()) == 12
    for model in (eager, graph):
        if how == "checkpoint":
            checkpoint = tf.train.Checkpoint(model=model, optimizer=model.optimizer)
            checkpoint.restore(saved[model.name]).assert_consumed()
        elif how == "load_weights":
            model.load_weights(saved[model.name])
        else:
            model.optimizer.set_weights(saved[model.name])
    # TF-format weights hold the optimizer too (as tf.keras writes them): `iterations` is back
    assert int(graph.optimizer.iterations.numpy()) == 4
    restored = (graph.get_weights(), _optimizer_state(graph))
    for a, b in zip(restored[1], at_save[1], strict=True):
        np.testing.assert_array_equal(a, b)
    if how != "optimizer_set_weights":
        for a, b in zip(restored[0], at_save[0], strict=True):
            np.testing.assert_array_equal(a, b)
    _assert_same(eager, graph, _fit_both(eager, graph, x, y), x)
    assert int(graph.optimizer.iterations.numpy()) == 8


def test_checkpoint_restored_before_the_first_step_into_an_unbuilt_model(tmp_path: Any) -> None:
    x, y = _data()
    keras.backend.clear_session()
    source = _CustomStep(use_minimize=True)
    source.compile(optimizer="adam")
    source.fit(x, y, batch_size=16, epochs=1, verbose=0)
    path = tf.train.Checkpoint(model=source, optimizer=source.optimizer).save(str(tmp_path / "c"))
    models = []
    for run_eagerly in (True, False):
        model = _CustomStep(use_minimize=True)
        model.compile(optimizer="adam", run_eagerly=run_eagerly)
        tf.train.Checkpoint(model=model, optimizer=model.optimizer).restore(path)  # deferred
        models.append(model)
    histories = _fit_both(*models, x, y, epochs=2)
    assert int(models[1].optimizer.iterations.numpy()) == 4 + 8
    _assert_same(*models, histories, x)
    source.run_eagerly = True
    continued = source.fit(x, y, batch_size=16, epochs=2, shuffle=False, verbose=0)
    _assert_same(source, models[1], (continued, histories[1]), x)
