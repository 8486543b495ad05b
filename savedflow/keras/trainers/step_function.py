"""The per-batch functions fit/evaluate/predict call: traced graphs, as tf.keras runs them.

As in tf.keras, each step (``train_step``, ``test_step``, ``predict_step``, default or
overridden) runs inside a ``savedflow.function``: the first batch of each shape runs the Python
code once while recording it, later batches replay the recorded graph (forward pass, backward
pass, optimizer update and metric updates as one torch.fx graph), so the Python cost of layers,
losses, metrics and the optimizer is paid once per trace instead of once per batch. A step that
cannot be recorded (it reads tensor values into Python, draws random numbers, ...) keeps running
its Python code every batch, with the same results; so does a step fed batches of more than
:data:`MAX_GRAPHS_PER_STEP` shapes. The reason is logged at INFO level on the ``savedflow.keras``
logger and kept in :attr:`StepFunction.eager_reasons`.

``compile(run_eagerly=True)`` runs every step as plain Python. ``compile(jit_compile=True)``
additionally compiles each recorded graph with ``torch.compile`` (see
:func:`savedflow.ops.function_trace.jit_backend`).

Default steps return their logs *lazily* (a callable), so nothing is synchronised with Python
unless a callback or the progress bar asks for per-batch values.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import torch

from savedflow.keras.trainers import data_adapter

_log = logging.getLogger("savedflow.keras")

# Graphs are recorded for concrete shapes; a step fed many shapes (variable-length sequences)
# would spend its time recording, so past this many it runs eagerly.
MAX_GRAPHS_PER_STEP = 16


class StepFunction:
    """Holds the train/test/predict step callables for one compiled model."""

    def __init__(self, model: Any, run_eagerly: bool = False, jit_compile: bool = False):
        from savedflow.keras.trainers.trainer import Trainer

        self.model = model
        cls = type(model)
        self._default_train = cls.train_step is Trainer.train_step
        self._default_test = cls.test_step is Trainer.test_step
        self._default_predict = cls.predict_step is Trainer.predict_step
        # The trainable variables the default train step differentiates (None: not known until
        # the model is built), and what the recorded train graphs depend on (see _graph_key).
        self._variables: list[Any] | None = None
        self._key: tuple[Any, ...] | None = None
        self._functions: dict[str, Any] = {}
        self.eager_reasons: dict[str, str] = {}
        if not run_eagerly:
            from savedflow.ops.function import function

            for name, body in (
                ("train", self._train_body),
                ("test", self._test_body),
                ("predict", self._predict_body),
            ):
                self._functions[name] = function(
                    body, reduce_retracing=True, jit_compile=bool(jit_compile)
                )

    def reset(self) -> None:
        """Drop the recorded graphs if what they were recorded from changed since.

        A graph bakes in the trainable variables, the optimizer object and the optimizer's
        hyper-parameters that are not Variables (a schedule, or a number set after the
        Variables were made); eager steps read them anew every batch, so graph steps must be
        recorded again when they change (freezing a layer, ``model.optimizer = ...``,
        ``optimizer.learning_rate = schedule``). Variables assigned in place need nothing.
        """
        model = self.model
        self._variables = list(model.trainable_variables) if model.built else None
        key = self._graph_key()
        if self._key is not None and key != self._key:
            self._functions = {k: f._rebuilt() for k, f in self._functions.items()}
        self._key = key

    def _graph_key(self) -> tuple[Any, ...]:
        optimizer = getattr(self.model, "optimizer", None)
        variables = self._variables if self._variables is not None else ()
        return (tuple(id(v) for v in variables), id(optimizer), _hyper_key(optimizer))

    def _run(self, name: str, body: Callable[[Any], Any], batch: Any) -> Any:
        fn = self._functions.get(name)
        if fn is None:
            return body(batch)
        result = fn(batch)
        if name not in self.eager_reasons:
            reason = fn._eager_reason()
            if reason is None and fn._graph_count() > MAX_GRAPHS_PER_STEP:
                reason = (
                    f"its batches came in more than {MAX_GRAPHS_PER_STEP} shapes, each needing "
                    "a graph of its own"
                )
                self._functions.pop(name)
            if reason is not None:
                self.eager_reasons[name] = reason
                _log.info("The %s step runs eagerly: %s", name, reason)
        return result

    # --- training -----------------------------------------------------------------------------

    def train(self, batch: Any) -> Any:
        """One training step; returns logs (a dict, or a zero-argument callable producing it)."""
        result = self._run("train", self._train_body, batch)
        return self.model.get_metrics_result if result is None else result

    def _train_body(self, batch: Any) -> Any:
        from savedflow.ops.gradient_tape import GradientTape

        model = self.model
        if not self._default_train:
            return model.train_step(batch)
        x, y, sample_weight = data_adapter.unpack_x_y_sample_weight(batch)
        with GradientTape() as tape:
            y_pred = model(x, training=True)
            loss = model.compute_loss(x, y, y_pred, sample_weight)
        variables = self._variables
        if variables is None:  # the model was built by the call above
            variables = self._variables = list(model.trainable_variables)
            self._key = self._graph_key()
        if variables:
            grads = tape.gradient(loss, variables)
            model.optimizer.apply_gradients(zip(grads, variables))
        model.compiled_metrics.update_state(y, y_pred, sample_weight, model.compiled_loss)
        return None

    # --- evaluation and prediction ------------------------------------------------------------

    def test(self, batch: Any) -> Any:
        """One evaluation step; returns logs (possibly lazily)."""
        result = self._run("test", self._test_body, batch)
        return self.model.get_metrics_result if result is None else result

    def _test_body(self, batch: Any) -> Any:
        model = self.model
        if not self._default_test:
            return model.test_step(batch)
        x, y, sample_weight = data_adapter.unpack_x_y_sample_weight(batch)
        with torch.no_grad():
            y_pred = model(x, training=False)
            model.compute_loss(x, y, y_pred, sample_weight)
            model.compiled_metrics.update_state(y, y_pred, sample_weight, model.compiled_loss)
        return None

    def predict(self, batch: Any) -> Any:
        """The model's outputs for a batch (no autograd)."""
        return self._run("predict", self._predict_body, batch)

    def _predict_body(self, batch: Any) -> Any:
        model = self.model
        with torch.no_grad():
            if not self._default_predict:
                return model.predict_step(batch)
            x, _, _ = data_adapter.unpack_x_y_sample_weight(batch)
            return model(x, training=False)


def _hyper_key(optimizer: Any) -> tuple[Any, ...]:
    """What a recorded graph bakes in of the optimizer's hyper-parameters.

    Variables are graph inputs (assigning them needs no new graph) and numbers given before
    the Variables exist become Variables on the first step; schedules, callables and numbers
    set in place of a Variable are part of the graph.
    """
    hyper = getattr(optimizer, "_hyper", None)
    if not isinstance(hyper, dict):
        return ()
    created = bool(getattr(optimizer, "_hypers_created", False))
    parts: list[Any] = []
    for name, value in sorted(hyper.items()):
        if hasattr(value, "_storage"):
            continue
        if isinstance(value, (bool, int, float)):
            if created:
                parts.append((name, value))
        else:
            parts.append((name, id(value)))
    return tuple(parts)
