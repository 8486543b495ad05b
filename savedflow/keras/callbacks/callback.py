"""Callback base class and CallbackList (the hooks fit/evaluate/predict call)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np

_BATCH_HOOKS = (
    "on_batch_begin",
    "on_batch_end",
    "on_train_batch_begin",
    "on_train_batch_end",
    "on_test_batch_begin",
    "on_test_batch_end",
    "on_predict_batch_begin",
    "on_predict_batch_end",
)


class Callback:
    """Base class of callbacks: override the ``on_*`` hooks you need.

    ``self.model`` is the model being trained and ``self.params`` holds ``verbose``, ``epochs``
    and ``steps``.

    Example::

        class PrintLoss(keras.callbacks.Callback):
            def on_epoch_end(self, epoch, logs=None):
                print(epoch, logs["loss"])
    """

    def __init__(self) -> None:
        self.validation_data = None
        self.model: Any = None
        self.params: dict[str, Any] = {}
        self._supports_tf_logs = False

    def set_params(self, params: dict[str, Any]) -> None:
        """Receive fit's parameters."""
        self.params = params

    def set_model(self, model: Any) -> None:
        """Receive the model."""
        self.model = model

    def on_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        """Alias of on_train_batch_begin (kept for compatibility)."""

    def on_batch_end(self, batch: int, logs: dict | None = None) -> None:
        """Alias of on_train_batch_end (kept for compatibility)."""

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        """Called at the start of an epoch (training only)."""

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        """Called at the end of an epoch with the epoch's logs (incl. ``val_*``)."""

    def on_train_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        """Called before a training batch."""
        self.on_batch_begin(batch, logs=logs)

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        """Called after a training batch with the running metric values."""
        self.on_batch_end(batch, logs=logs)

    def on_test_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        """Called before an evaluation batch."""

    def on_test_batch_end(self, batch: int, logs: dict | None = None) -> None:
        """Called after an evaluation batch."""

    def on_predict_batch_begin(self, batch: int, logs: dict | None = None) -> None:
        """Called before a prediction batch."""

    def on_predict_batch_end(self, batch: int, logs: dict | None = None) -> None:
        """Called after a prediction batch."""

    def on_train_begin(self, logs: dict | None = None) -> None:
        """Called at the start of fit."""

    def on_train_end(self, logs: dict | None = None) -> None:
        """Called at the end of fit."""

    def on_test_begin(self, logs: dict | None = None) -> None:
        """Called at the start of evaluate (and of validation)."""

    def on_test_end(self, logs: dict | None = None) -> None:
        """Called at the end of evaluate."""

    def on_predict_begin(self, logs: dict | None = None) -> None:
        """Called at the start of predict."""

    def on_predict_end(self, logs: dict | None = None) -> None:
        """Called at the end of predict."""

    def _implements_batch_hooks(self) -> bool:
        return any(
            getattr(type(self), name) is not getattr(Callback, name) for name in _BATCH_HOOKS
        )


def to_python_logs(
    logs: Mapping[str, Any] | Callable[[], Mapping[str, Any]] | None,
) -> dict[str, Any]:
    """Logs with tensors turned into Python floats (or numpy arrays for non-scalars).

    ``logs`` may be lazy (a zero-argument callable returning them, as graph steps return).
    """
    if callable(logs):
        logs = logs()
    out: dict[str, Any] = {}
    for key, value in (logs or {}).items():
        if hasattr(value, "detach"):
            value = value.detach().cpu().numpy()
        elif hasattr(value, "_storage"):
            value = value.numpy()
        if isinstance(value, np.ndarray):
            value = float(value) if value.size == 1 else value
        elif isinstance(value, np.generic):
            value = value.item()
        out[key] = value
    return out


class CallbackList:
    """Runs a list of callbacks; adds History and the progress bar as fit does."""

    def __init__(
        self,
        callbacks: Iterable[Callback] | None = None,
        add_history: bool = False,
        add_progbar: bool = False,
        model: Any = None,
        **params: Any,
    ):
        self.callbacks: list[Callback] = list(callbacks or [])
        from savedflow.keras.callbacks.history import History
        from savedflow.keras.callbacks.progbar_logger import ProgbarLogger

        if add_history and not any(isinstance(cb, History) for cb in self.callbacks):
            self._history = History()
            self.callbacks.append(self._history)
        else:
            self._history = next((cb for cb in self.callbacks if isinstance(cb, History)), None)
        if add_progbar and not any(isinstance(cb, ProgbarLogger) for cb in self.callbacks):
            self.callbacks.append(ProgbarLogger(count_mode="steps"))
        self.model = model
        if model is not None:
            self.set_model(model)
        self.params = params
        if params:
            self.set_params(params)
        self._batch_hooks = any(cb._implements_batch_hooks() for cb in self.callbacks)

    @property
    def wants_batch_logs(self) -> bool:
        """Whether any callback looks at per-batch logs (lets fit skip computing them)."""
        return self._batch_hooks

    def append(self, callback: Callback) -> None:
        """Add a callback."""
        self.callbacks.append(callback)
        self._batch_hooks = self._batch_hooks or callback._implements_batch_hooks()

    def set_params(self, params: dict[str, Any]) -> None:
        """Pass fit's parameters to every callback."""
        self.params = params
        for callback in self.callbacks:
            callback.set_params(params)
        self._batch_hooks = any(cb._implements_batch_hooks() for cb in self.callbacks)

    def set_model(self, model: Any) -> None:
        """Pass the model to every callback."""
        self.model = model
        if self._history is not None:
            model.history = self._history
        for callback in self.callbacks:
            callback.set_model(model)

    def _call(self, hook: str, *args: Any, logs: Any = None) -> None:
        logs = to_python_logs(logs) if logs is not None else {}
        for callback in self.callbacks:
            getattr(callback, hook)(*args, logs=logs)

    def _call_batch(self, hook: str, batch: int, logs: Any = None) -> None:
        if not self._batch_hooks:
            return
        logs = to_python_logs(logs)
        for callback in self.callbacks:
            getattr(callback, hook)(batch, logs=logs)

    def on_batch_begin(self, batch: int, logs: Any = None) -> None:
        """Alias of on_train_batch_begin."""
        self._call_batch("on_train_batch_begin", batch, logs)

    def on_batch_end(self, batch: int, logs: Any = None) -> None:
        """Alias of on_train_batch_end."""
        self._call_batch("on_train_batch_end", batch, logs)

    def on_epoch_begin(self, epoch: int, logs: Any = None) -> None:
        """Run on_epoch_begin hooks."""
        self._call("on_epoch_begin", epoch, logs=logs)
        self._epoch_start = time.time()

    def on_epoch_end(self, epoch: int, logs: Any = None) -> None:
        """Run on_epoch_end hooks."""
        self._call("on_epoch_end", epoch, logs=logs)

    def on_train_batch_begin(self, batch: int, logs: Any = None) -> None:
        """Run on_train_batch_begin hooks."""
        self._call_batch("on_train_batch_begin", batch, logs)

    def on_train_batch_end(self, batch: int, logs: Any = None) -> None:
        """Run on_train_batch_end hooks (``logs`` may be a zero-arg callable, evaluated lazily)."""
        self._call_batch("on_train_batch_end", batch, logs)

    def on_test_batch_begin(self, batch: int, logs: Any = None) -> None:
        """Run on_test_batch_begin hooks."""
        self._call_batch("on_test_batch_begin", batch, logs)

    def on_test_batch_end(self, batch: int, logs: Any = None) -> None:
        """Run on_test_batch_end hooks."""
        self._call_batch("on_test_batch_end", batch, logs)

    def on_predict_batch_begin(self, batch: int, logs: Any = None) -> None:
        """Run on_predict_batch_begin hooks."""
        self._call_batch("on_predict_batch_begin", batch, logs)

    def on_predict_batch_end(self, batch: int, logs: Any = None) -> None:
        """Run on_predict_batch_end hooks."""
        self._call_batch("on_predict_batch_end", batch, logs)

    def on_train_begin(self, logs: Any = None) -> None:
        """Run on_train_begin hooks."""
        self._call("on_train_begin", logs=logs)

    def on_train_end(self, logs: Any = None) -> None:
        """Run on_train_end hooks."""
        self._call("on_train_end", logs=logs)

    def on_test_begin(self, logs: Any = None) -> None:
        """Run on_test_begin hooks."""
        self._call("on_test_begin", logs=logs)

    def on_test_end(self, logs: Any = None) -> None:
        """Run on_test_end hooks."""
        self._call("on_test_end", logs=logs)

    def on_predict_begin(self, logs: Any = None) -> None:
        """Run on_predict_begin hooks."""
        self._call("on_predict_begin", logs=logs)

    def on_predict_end(self, logs: Any = None) -> None:
        """Run on_predict_end hooks."""
        self._call("on_predict_end", logs=logs)

    def __iter__(self) -> Any:
        return iter(self.callbacks)
