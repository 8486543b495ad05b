"""Trainer: the compile/fit/evaluate/predict mixin that ``keras.Model`` inherits.

Behaviour follows tf.keras 2.x: ``fit`` returns a History whose logs are named ``loss``,
``accuracy``, ``val_loss``, ...; the logged loss is the batch-size-weighted mean of the total
loss (including ``model.losses``); the progress bar prints as Keras prints it. The default
training step records the forward pass on a GradientTape and updates through the optimizer;
overriding ``train_step`` / ``test_step`` / ``predict_step`` works as in Keras.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from savedflow.keras import optimizers as optimizers_mod
from savedflow.keras.callbacks.callback import CallbackList, to_python_logs
from savedflow.keras.trainers import allocator, data_adapter
from savedflow.keras.trainers.compile_utils import LossesContainer, MetricsContainer
from savedflow.keras.trainers.step_function import StepFunction
from savedflow.keras.utils import serialization

_log = logging.getLogger("savedflow.keras")


def _to_numpy(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    return value


class Trainer:
    """Training methods of ``keras.Model`` (compile, fit, evaluate, predict, *_on_batch)."""

    def _init_trainer_state(self) -> None:
        d = self.__dict__
        d.setdefault("_is_compiled", False)
        d.setdefault("compiled_loss", None)
        d.setdefault("compiled_metrics", None)
        d.setdefault("_run_eagerly", None)
        d.setdefault("_jit_compile", None)
        d.setdefault("_step_function", None)
        d.setdefault("stop_training", False)
        d.setdefault("history", None)
        d.setdefault("_compile_config", None)
        d.setdefault("train_function", None)
        d.setdefault("test_function", None)
        d.setdefault("predict_function", None)

    def _trainer(self, name: str, default: Any = None) -> Any:
        if "_is_compiled" not in self.__dict__:
            self._init_trainer_state()
        return self.__dict__.get(name, default)

    # --- compile ------------------------------------------------------------------------------

    def compile(
        self,
        optimizer: Any = "rmsprop",
        loss: Any = None,
        metrics: Any = None,
        loss_weights: Any = None,
        weighted_metrics: Any = None,
        run_eagerly: bool | None = None,
        steps_per_execution: int | None = None,
        jit_compile: bool | None = None,
        **kwargs: Any,
    ) -> None:
        """Configure training: optimizer (name or object), loss(es), metrics, loss weights.

        Example::

            model.compile(optimizer="adam", loss="mean_squared_error", metrics=["mae"])
        """
        kwargs.pop("experimental_run_tf_function", None)
        kwargs.pop("pss_evaluation_shards", None)
        if kwargs:
            raise TypeError(
                f'Invalid keyword argument(s) in `compile()`: {tuple(kwargs)}. Valid keyword arguments include "cloning", "experimental_run_tf_function", "distribute", "target_tensors", or "sample_weight_mode".'
            )
        if run_eagerly and jit_compile:
            raise ValueError(
                "You cannot enable `run_eagerly` and `jit_compile` at the same time. Received: "
                f"run_eagerly={run_eagerly}, jit_compile={jit_compile}."
            )
        self._init_trainer_state()
        self.optimizer = optimizers_mod.get(optimizer)
        output_names = self._output_names_for_compile()
        d = self.__dict__
        d["loss"] = loss
        d["compiled_loss"] = LossesContainer(loss, loss_weights, output_names)
        d["compiled_metrics"] = MetricsContainer(metrics, weighted_metrics, output_names)
        d["_run_eagerly"] = run_eagerly
        d["_jit_compile"] = jit_compile
        d["_steps_per_execution"] = steps_per_execution or 1
        d["_step_function"] = None
        d["_is_compiled"] = True
        d["_compile_config"] = serialization.serialize_keras_object(
            {
                "optimizer": optimizer if isinstance(optimizer, str) else self.optimizer,
                "loss": loss,
                "metrics": metrics,
                "loss_weights": loss_weights,
                "weighted_metrics": weighted_metrics,
                "run_eagerly": run_eagerly,
                "steps_per_execution": steps_per_execution,
                "jit_compile": jit_compile,
            }
        )

    def _output_names_for_compile(self) -> list[str] | None:
        try:
            names = getattr(self, "output_names", None)
        except Exception:  # noqa: BLE001 - subclassed models have no output names
            return None
        return list(names) if names else None

    @property
    def run_eagerly(self) -> bool:
        """Whether steps run as plain Python every batch instead of as recorded graphs."""
        return bool(self._trainer("_run_eagerly"))

    @run_eagerly.setter
    def run_eagerly(self, value: bool) -> None:
        self._trainer("_run_eagerly")
        self.__dict__["_run_eagerly"] = value
        self.__dict__["_step_function"] = None

    @property
    def jit_compile(self) -> bool:
        """Whether the recorded step graphs are compiled with ``torch.compile``."""
        return bool(self._trainer("_jit_compile"))

    @jit_compile.setter
    def jit_compile(self, value: bool) -> None:
        self._trainer("_jit_compile")
        self.__dict__["_jit_compile"] = value
        self.__dict__["_step_function"] = None

    def get_compile_config(self) -> dict[str, Any] | None:
        """The arguments given to compile, serialized as tf.keras 2.x does (None if not compiled).

        Names stay names; optimizer, loss and metric objects become their configs, so the
        result is JSON-ready and :meth:`compile_from_config` rebuilds them.
        """
        return self._trainer("_compile_config")

    def compile_from_config(self, config: dict[str, Any]) -> None:
        """Compile from :meth:`get_compile_config` output (objects are deserialized first)."""
        config = dict(config)
        optimizer = config.pop("optimizer", "rmsprop")
        if isinstance(optimizer, dict):
            optimizer = optimizers_mod.deserialize(optimizer)
        arguments = {
            key: _deserialize_compile_argument(value)
            for key, value in config.items()
            if value is not None
        }
        self.compile(optimizer=optimizer, **arguments)

    def _assert_compile_was_called(self) -> None:
        if not self._trainer("_is_compiled"):
            raise RuntimeError(
                "You must compile your model before training/testing. Use `model.compile(optimizer, loss)`."
            )

    # --- metrics ------------------------------------------------------------------------------

    @property
    def metrics(self) -> list[Any]:
        """Compiled loss metrics, compiled metrics, then metrics added by layers."""
        out: list[Any] = []
        if self._trainer("_is_compiled"):
            out.extend(self.compiled_loss.metrics)
            out.extend(self.compiled_metrics.metrics)
        parent = getattr(super(), "metrics", None)
        for metric in parent or []:
            if not any(metric is m for m in out):
                out.append(metric)
        return out

    @property
    def metrics_names(self) -> list[str]:
        """Names of :attr:`metrics` (``['loss', 'accuracy']``)."""
        return [m.name for m in self.metrics]

    def reset_metrics(self) -> None:
        """Reset the state of every metric."""
        for metric in self.metrics:
            metric.reset_state()

    def reset_states(self) -> None:
        """Reset the carried-over states of every stateful layer (stateful RNNs), as tf.keras."""
        for layer in getattr(self, "layers", ()):
            if getattr(layer, "stateful", False) and hasattr(layer, "reset_states"):
                layer.reset_states()

    def get_metrics_result(self) -> dict[str, Any]:
        """``{name: result}`` of every metric (tensors)."""
        return {m.name: m.result() for m in self.metrics}

    # --- steps --------------------------------------------------------------------------------

    def compute_loss(
        self, x: Any = None, y: Any = None, y_pred: Any = None, sample_weight: Any = None
    ) -> torch.Tensor:
        """The total loss: compiled losses plus ``self.losses``; updates the loss metrics."""
        del x
        return self.compiled_loss(y, y_pred, sample_weight, regularization_losses=self.losses)

    def compute_metrics(self, x: Any, y: Any, y_pred: Any, sample_weight: Any) -> dict[str, Any]:
        """Update compiled metrics and return every metric's result."""
        del x
        self.compiled_metrics.update_state(y, y_pred, sample_weight, self.compiled_loss)
        return self.get_metrics_result()

    def train_step(self, data: Any) -> dict[str, Any]:
        """One optimization step on a batch; returns the metric logs."""
        from savedflow.ops.gradient_tape import GradientTape

        x, y, sample_weight = data_adapter.unpack_x_y_sample_weight(data)
        with GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compute_loss(x, y, y_pred, sample_weight)
        self.optimizer.minimize(loss, self.trainable_variables, tape=tape)
        return self.compute_metrics(x, y, y_pred, sample_weight)

    def test_step(self, data: Any) -> dict[str, Any]:
        """One evaluation step on a batch; returns the metric logs."""
        x, y, sample_weight = data_adapter.unpack_x_y_sample_weight(data)
        y_pred = self(x, training=False)
        self.compute_loss(x, y, y_pred, sample_weight)
        return self.compute_metrics(x, y, y_pred, sample_weight)

    def predict_step(self, data: Any) -> Any:
        """The model's outputs for a batch."""
        x, _, _ = data_adapter.unpack_x_y_sample_weight(data)
        return self(x, training=False)

    def _steps(self) -> StepFunction:
        step = self._trainer("_step_function")
        if step is None:
            allocator.tune_once()
            step = StepFunction(self, run_eagerly=self.run_eagerly, jit_compile=self.jit_compile)
            self.__dict__["_step_function"] = step
        return step

    def make_train_function(self, force: bool = False) -> Callable[[Any], Any]:
        """The function fit calls per batch (``train_step``, possibly compiled)."""
        if force:
            self.__dict__["_step_function"] = None
        steps = self._steps()
        steps.reset()
        self.__dict__["train_function"] = steps.train
        return steps.train

    def make_test_function(self, force: bool = False) -> Callable[[Any], Any]:
        """The function evaluate calls per batch."""
        if force:
            self.__dict__["_step_function"] = None
        self.__dict__["test_function"] = self._steps().test
        return self._steps().test

    def make_predict_function(self, force: bool = False) -> Callable[[Any], Any]:
        """The function predict calls per batch."""
        if force:
            self.__dict__["_step_function"] = None
        self.__dict__["predict_function"] = self._steps().predict
        return self._steps().predict

    # --- fit ----------------------------------------------------------------------------------

    def fit(
        self,
        x: Any = None,
        y: Any = None,
        batch_size: int | None = None,
        epochs: int = 1,
        verbose: Any = "auto",
        callbacks: Any = None,
        validation_split: float = 0.0,
        validation_data: Any = None,
        shuffle: Any = True,
        class_weight: Any = None,
        sample_weight: Any = None,
        initial_epoch: int = 0,
        steps_per_epoch: int | None = None,
        validation_steps: int | None = None,
        validation_batch_size: int | None = None,
        validation_freq: Any = 1,
        max_queue_size: int = 10,
        workers: int = 1,
        use_multiprocessing: bool = False,
    ) -> Any:
        """Train for ``epochs`` epochs; returns a History.

        Example::

            history = model.fit(x, y, batch_size=32, epochs=3, validation_split=0.2)
            history.history["val_loss"]
        """
        del max_queue_size, workers, use_multiprocessing
        self._assert_compile_was_called()
        verbose = 1 if verbose == "auto" else verbose
        if validation_split and validation_data is None:
            (x, y, sample_weight), validation_data = data_adapter.train_validation_split(
                (x, y, sample_weight), validation_split
            )
            if validation_data[2] is None:
                validation_data = validation_data[:2]
        handler = data_adapter.DataHandler(
            x,
            y,
            sample_weight,
            batch_size,
            steps_per_epoch,
            initial_epoch,
            epochs,
            shuffle,
            class_weight,
        )
        callback_list = self._callback_list(callbacks, verbose, epochs, handler, add_history=True)
        self.__dict__["stop_training"] = False
        self.__dict__.pop("_backup_initial_epoch", None)
        if validation_data is not None:
            validation_data = _validation_tensors(validation_data)
        train = self.make_train_function()
        callback_list.on_train_begin()
        resume = self.__dict__.pop("_backup_initial_epoch", None)
        if resume is not None and resume > initial_epoch:
            handler._initial_epoch = resume
        logs: dict[str, Any] = {}
        for epoch, batches in handler.enumerate_epochs():
            logs = self._fit_epoch(epoch, batches, train, callback_list, handler, logs)
            if validation_data is not None and _should_validate(epoch, validation_freq):
                val_x, val_y, val_sw = validation_data
                val_logs = self.evaluate(
                    val_x,
                    val_y,
                    sample_weight=val_sw,
                    batch_size=validation_batch_size or batch_size,
                    steps=validation_steps,
                    callbacks=callback_list,
                    return_dict=True,
                    verbose=0,
                    _in_fit=True,
                )
                logs.update({"val_" + name: value for name, value in val_logs.items()})
            callback_list.on_epoch_end(epoch, logs)
            if self.stop_training:
                break
        callback_list.on_train_end(logs)
        return self.history

    def _fit_epoch(
        self,
        epoch: int,
        batches: Any,
        train: Callable[[Any], Any],
        callback_list: CallbackList,
        handler: Any,
        previous: dict[str, Any],
    ) -> dict[str, Any]:
        """Run one epoch's training steps; returns the epoch's (training) logs.

        An epoch without batches (a dataset that ran out) repeats the previous epoch's training
        logs, as tf.keras does; with no previous epoch it is an error.
        """
        self.reset_metrics()
        callback_list.on_epoch_begin(epoch)
        step_logs: Any = None
        for step, batch in enumerate(batches):
            callback_list.on_train_batch_begin(step)
            step_logs = train(batch)
            callback_list.on_train_batch_end(step, step_logs)
            if self.stop_training:
                break
        if handler.inferred_steps != callback_list.params.get("steps"):
            callback_list.params["steps"] = handler.inferred_steps
        if step_logs is None and previous:
            return {k: v for k, v in previous.items() if not k.startswith("val_")}
        if step_logs is None:
            raise ValueError(
                "Unexpected result of `train_function` (Empty logs): the training data produced no "
                f"batch in epoch {epoch + 1}. Check the data and `steps_per_epoch`."
            )
        return to_python_logs(step_logs)

    # --- evaluate / predict -------------------------------------------------------------------

    def evaluate(
        self,
        x: Any = None,
        y: Any = None,
        batch_size: int | None = None,
        verbose: Any = "auto",
        sample_weight: Any = None,
        steps: int | None = None,
        callbacks: Any = None,
        max_queue_size: int = 10,
        workers: int = 1,
        use_multiprocessing: bool = False,
        return_dict: bool = False,
        **kwargs: Any,
    ) -> Any:
        """Loss and metrics on the data: a scalar, a list in ``metrics_names`` order, or a dict."""
        del max_queue_size, workers, use_multiprocessing
        in_fit = kwargs.pop("_in_fit", False)
        if kwargs:
            raise TypeError(f"Invalid keyword arguments: {list(kwargs)}")
        self._assert_compile_was_called()
        verbose = 1 if verbose == "auto" else verbose
        handler = data_adapter.DataHandler(x, y, sample_weight, batch_size, steps)
        callback_list = self._callback_list(callbacks, verbose, 1, handler, add_history=False)
        test = self.make_test_function()
        self.reset_metrics()
        callback_list.on_test_begin()
        step_logs: Any = None
        for step, batch in enumerate(handler.single_pass()):
            callback_list.on_test_batch_begin(step)
            step_logs = test(batch)
            callback_list.on_test_batch_end(step, step_logs)
        if not in_fit and handler.inferred_steps != callback_list.params.get("steps"):
            callback_list.params["steps"] = handler.inferred_steps
        logs = to_python_logs(step_logs or self.get_metrics_result)
        callback_list.on_test_end(logs)
        return self._format_logs(logs, return_dict)

    def predict(
        self,
        x: Any,
        batch_size: int | None = None,
        verbose: Any = "auto",
        steps: int | None = None,
        callbacks: Any = None,
        max_queue_size: int = 10,
        workers: int = 1,
        use_multiprocessing: bool = False,
    ) -> Any:
        """Model outputs for ``x`` batch by batch (default batch size 32), as numpy arrays."""
        del max_queue_size, workers, use_multiprocessing
        verbose = 1 if verbose == "auto" else verbose
        handler = data_adapter.DataHandler(x, None, None, batch_size, steps)
        callback_list = self._callback_list(callbacks, verbose, 1, handler, add_history=False)
        predict = self.make_predict_function()
        callback_list.on_predict_begin()
        outputs: list[Any] = []
        for step, batch in enumerate(handler.single_pass()):
            callback_list.on_predict_batch_begin(step)
            batch_out = predict(batch)
            outputs.append(batch_out)
            callback_list.on_predict_batch_end(
                step, {"outputs": batch_out} if callback_list.wants_batch_logs else None
            )
        if handler.inferred_steps != callback_list.params.get("steps"):
            callback_list.params["steps"] = handler.inferred_steps
        callback_list.on_predict_end()
        if not outputs:
            raise ValueError(
                "Unexpected result of `predict_function` (Empty batch_outputs). Please use `Model.compile(..., run_eagerly=True)`, or `tf.config.run_functions_eagerly(True)` for more information of where went wrong, or file a issue/bug to `tf.keras`."
            )
        return _concat_outputs(outputs)

    # --- single batches -----------------------------------------------------------------------

    def train_on_batch(
        self,
        x: Any,
        y: Any = None,
        sample_weight: Any = None,
        class_weight: Any = None,
        reset_metrics: bool = True,
        return_dict: bool = False,
    ) -> Any:
        """One training step on one batch; returns the loss (and metrics) for it."""
        self._assert_compile_was_called()
        handler = data_adapter.DataHandler(
            x, y, sample_weight, batch_size=None, class_weight=class_weight
        )
        handler._batch_size = handler._size if handler._array_mode else None
        handler.inferred_steps = 1
        batch = next(iter(handler.single_pass()))
        step_logs = self.make_train_function()(batch)
        logs = to_python_logs(step_logs)
        if reset_metrics:
            self.reset_metrics()
        return self._format_logs(logs, return_dict)

    def test_on_batch(
        self,
        x: Any,
        y: Any = None,
        sample_weight: Any = None,
        reset_metrics: bool = True,
        return_dict: bool = False,
    ) -> Any:
        """Loss (and metrics) of one batch without training."""
        self._assert_compile_was_called()
        if reset_metrics:
            self.reset_metrics()
        batch = data_adapter.pack_x_y_sample_weight(*_convert_batch(x, y, sample_weight))
        step_logs = self.make_test_function()(batch)
        logs = to_python_logs(step_logs)
        return self._format_logs(logs, return_dict)

    def predict_on_batch(self, x: Any) -> Any:
        """Model outputs for one batch, as numpy arrays."""
        batch = data_adapter.pack_x_y_sample_weight(_convert_batch(x, None, None)[0])
        return _concat_outputs([self.make_predict_function()(batch)])

    def _callback_list(
        self, callbacks: Any, verbose: Any, epochs: int, handler: Any, add_history: bool
    ) -> CallbackList:
        """``callbacks`` if already a CallbackList, else a CallbackList wrapping them.

        It adds a progress bar unless ``verbose`` is 0, and a History when ``add_history``.
        """
        if isinstance(callbacks, CallbackList):
            return callbacks
        return CallbackList(
            callbacks,
            add_history=add_history,
            add_progbar=verbose != 0,
            model=self,
            verbose=verbose,
            epochs=epochs,
            steps=handler.inferred_steps,
        )

    def _format_logs(self, logs: dict[str, Any], return_dict: bool) -> Any:
        if return_dict:
            return logs
        values = [logs[name] for name in self.metrics_names if name in logs] or list(logs.values())
        return values[0] if len(values) == 1 else values


def _deserialize_compile_argument(value: Any) -> Any:
    """Objects in a serialized compile argument (configs inside lists and dicts included)."""
    if isinstance(value, dict) and "class_name" in value:
        return serialization.deserialize_keras_object(value)
    if isinstance(value, dict):
        return {key: _deserialize_compile_argument(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_deserialize_compile_argument(item) for item in value)
    return value


def _convert_batch(x: Any, y: Any, sample_weight: Any) -> tuple[Any, Any, Any]:
    convert = data_adapter._convert_structure
    return (
        convert(x),
        None if y is None else convert(y),
        None if sample_weight is None else convert(sample_weight),
    )


def _validation_tensors(validation_data: Any) -> tuple[Any, Any, Any]:
    """``(x, y, sample_weight)`` of fit's validation data, arrays converted to tensors once
    (not again by every epoch's evaluate)."""
    x, y, sample_weight = data_adapter.unpack_x_y_sample_weight(validation_data)
    if data_adapter._is_array_data(x):
        return _convert_batch(x, y, sample_weight)
    return x, y, sample_weight


def _should_validate(epoch: int, validation_freq: Any) -> bool:
    if isinstance(validation_freq, int):
        return (epoch + 1) % validation_freq == 0
    return (epoch + 1) in validation_freq


def _concat_outputs(outputs: list[Any]) -> Any:
    first = outputs[0]
    if isinstance(first, dict):
        return {k: _concat_outputs([o[k] for o in outputs]) for k in first}
    if isinstance(first, (list, tuple)):
        return [_concat_outputs([o[i] for o in outputs]) for i in range(len(first))]
    arrays = [_to_numpy(o) for o in outputs]
    return np.concatenate(arrays, axis=0) if arrays[0].ndim > 0 else np.stack(arrays)
