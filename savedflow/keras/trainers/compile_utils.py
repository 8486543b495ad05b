"""What ``compile`` builds: the loss container (total loss + loss metrics) and metric container."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from savedflow.keras import losses as losses_mod
from savedflow.keras import metrics as metrics_mod
from savedflow.keras.losses._tensors import as_tensor
from savedflow.keras.utils import tree


def _structure_to_list(value: Any, names: list[str], what: str) -> list[Any]:
    """A per-output list from a single value, a list, or a dict keyed by output name."""
    count = len(names)
    if isinstance(value, Mapping):
        unknown = set(value) - set(names)
        if unknown:
            raise ValueError(
                f"Found unexpected {what} keys {sorted(unknown)}. Expected one of the output names {names}."
            )
        return [value.get(name) for name in names]
    if isinstance(value, (list, tuple)) and count > 1:
        if len(value) != count:
            raise ValueError(
                f"When passing a list as {what}, it should have one entry per model output. The model has {count} outputs, but you passed {what}={value}"
            )
        return list(value)
    if isinstance(value, (list, tuple)) and count == 1 and what == "loss" and len(value) == 1:
        return list(value)
    return [value] * count


def _names_for_outputs(given: list[str] | None, count: int) -> list[str]:
    """``given`` when it names each of ``count`` outputs, else ``output_1``, ``output_2``, ..."""
    if given and len(given) == count:
        return given
    return [f"output_{i + 1}" for i in range(count)]


def _flat_outputs(value: Any) -> list[Any]:
    if isinstance(value, (Mapping, list, tuple)):
        return tree.flatten(value)
    return [value]


def _align_targets(y: Any, count: int, names: list[str]) -> list[Any]:
    if count == 1:
        if isinstance(y, (list, tuple)) and len(y) == 1:
            return [y[0]]
        if isinstance(y, Mapping) and len(y) == 1:
            return [next(iter(y.values()))]
        return [y]
    if isinstance(y, Mapping):
        return [y.get(name) for name in names]
    return list(y)


def _align_batch(
    y_true: Any, y_pred: Any, sample_weight: Any, names: list[str]
) -> tuple[list[Any], list[Any], list[Any]]:
    """Flat outputs with their targets and sample weights (None each when not given)."""
    outputs = _flat_outputs(y_pred)
    targets = _align_targets(y_true, len(outputs), names)
    if sample_weight is None:
        return outputs, targets, [None] * len(outputs)
    return outputs, targets, _align_targets(sample_weight, len(outputs), names)


def _loss_object(identifier: Any) -> Any:
    if identifier is None:
        return None
    loss = losses_mod.get(identifier)
    if isinstance(loss, losses_mod.Loss):
        return loss
    return losses_mod.LossFunctionWrapper(loss, name=getattr(loss, "__name__", "loss"))


class LossesContainer:
    """Computes the total loss and keeps the ``loss`` (and per-output ``<name>_loss``) metrics."""

    def __init__(self, loss: Any, loss_weights: Any = None, output_names: list[str] | None = None):
        self._user_loss = loss
        self._user_weights = loss_weights
        self._output_names = output_names
        self._losses: list[Any] | None = None
        self._weights: list[float] = []
        self.loss_metric = metrics_mod.Mean(name="loss")
        self._per_output: list[Any] = []

    def build(self, y_pred: Any) -> None:
        """Resolve losses per output once the model's output structure is known."""
        flat = _flat_outputs(y_pred)
        names = self._output_names = _names_for_outputs(self._output_names, len(flat))
        self._losses = [
            _loss_object(item) for item in _structure_to_list(self._user_loss, names, "loss")
        ]
        weights = self._user_weights
        self._weights = (
            [
                1.0 if w is None else float(w)
                for w in _structure_to_list(weights, names, "loss_weights")
            ]
            if weights is not None
            else [1.0] * len(names)
        )
        if len(names) > 1:
            self._per_output = [
                metrics_mod.Mean(name=f"{name}_loss") if loss is not None else None
                for name, loss in zip(names, self._losses)
            ]

    @property
    def metrics(self) -> list[Any]:
        """``[loss] + per-output loss metrics``."""
        return [self.loss_metric, *[m for m in self._per_output if m is not None]]

    def __call__(
        self, y_true: Any, y_pred: Any, sample_weight: Any = None, regularization_losses: Any = None
    ) -> torch.Tensor:
        """Total loss for a batch; updates the loss metrics (weighted by batch size, as Keras)."""
        if self._losses is None:
            self.build(y_pred)
        outputs, targets, weights = _align_batch(y_true, y_pred, sample_weight, self._output_names)
        total = None
        batch = None
        for index, (loss, target, output, sw, weight) in enumerate(
            zip(self._losses, targets, outputs, weights, self._weights)
        ):
            if loss is None or target is None:
                continue
            value = loss(target, output, sample_weight=sw)
            batch = batch or (
                int(output.shape[0]) if getattr(output, "dim", lambda: 0)() > 0 else 1
            )
            if self._per_output and self._per_output[index] is not None:
                self._per_output[index].update_state(value.detach(), sample_weight=batch)
            value = value * weight if weight != 1.0 else value
            total = value if total is None else total + value
        for extra in regularization_losses or ():
            extra = as_tensor(extra)
            total = extra if total is None else total + extra.to(total.dtype)
        if total is None:
            raise ValueError("No loss to compute. Provide a `loss` argument in `compile()`.")
        self.loss_metric.update_state(total.detach(), sample_weight=batch or 1)
        return total

    def reset_state(self) -> None:
        """Reset the loss metrics."""
        for metric in self.metrics:
            metric.reset_state()


_ACCURACY = ("accuracy", "acc")
_CROSSENTROPY = ("crossentropy", "ce")


def _resolve_metric(identifier: Any, y_true: Any, y_pred: Any, output_loss: Any) -> Any:
    """A Metric object for a compile() entry (names resolved against the data, as tf.keras)."""
    if isinstance(identifier, metrics_mod.Metric):
        return identifier
    if isinstance(identifier, str) and identifier in _ACCURACY + _CROSSENTROPY:
        fn = _shape_dependent(identifier, y_true, y_pred, output_loss)
        return metrics_mod.MeanMetricWrapper(fn, name=identifier)
    if isinstance(identifier, str):
        found = metrics_mod.get(identifier)
        if isinstance(found, metrics_mod.Metric):
            return found
        return metrics_mod.MeanMetricWrapper(found, name=identifier)
    if isinstance(identifier, type) and issubclass(identifier, metrics_mod.Metric):
        return identifier()
    return metrics_mod.MeanMetricWrapper(identifier, name=getattr(identifier, "__name__", "metric"))


def _set_metric_names(
    plain: list[list[Any]], weighted: list[list[Any]], output_names: list[str] | None
) -> None:
    """Name the metrics as tf.keras does (these are the log keys callbacks monitor).

    A multi-output model puts ``<output>_`` before every metric name, metric objects
    included (``reg_root_mean_squared_error``). A weighted metric whose name a plain one took
    becomes ``weighted_<name>``, or ``<output>_weighted_<name>`` with several outputs.
    """
    taken: set[str] = set()
    for index, (group, weighted_group) in enumerate(zip(plain, weighted)):
        prefix = f"{output_names[index]}_" if output_names else ""
        for metric in group:
            metric.name = prefix + metric.name
            taken.add(metric.name)
        for metric in weighted_group:
            if output_names and (prefix + metric.name in taken or metric.name in taken):
                metric.name = f"{prefix}weighted_{metric.name}"
            elif output_names:
                metric.name = prefix + metric.name
            elif metric.name in taken:
                metric.name = "weighted_" + metric.name
            taken.add(metric.name)


def _shape_dependent(name: str, y_true: Any, y_pred: Any, output_loss: Any) -> Any:
    y_t = as_tensor(y_true)
    y_p = as_tensor(y_pred)
    t_rank, p_rank = y_t.dim(), y_p.dim()
    t_last = y_t.shape[-1] if t_rank else 1
    p_last = y_p.shape[-1] if p_rank else 1
    is_binary = p_last == 1
    is_sparse = t_rank < p_rank or (t_last == 1 and p_last > 1)
    fn_name = getattr(getattr(output_loss, "fn", None), "__name__", "")
    if fn_name == "binary_crossentropy":
        is_binary = True
    if name in _ACCURACY:
        if is_binary:
            return metrics_mod.binary_accuracy
        return (
            metrics_mod.sparse_categorical_accuracy
            if is_sparse
            else metrics_mod.categorical_accuracy
        )
    if is_binary:
        return metrics_mod.binary_crossentropy
    return (
        metrics_mod.sparse_categorical_crossentropy
        if is_sparse
        else metrics_mod.categorical_crossentropy
    )


class MetricsContainer:
    """Builds and updates compile() metrics (and weighted_metrics) per output."""

    def __init__(
        self,
        metrics: Any = None,
        weighted_metrics: Any = None,
        output_names: list[str] | None = None,
    ):
        self._user_metrics = metrics
        self._user_weighted = weighted_metrics
        self._output_names = output_names
        self._built = False
        self._per_output: list[list[Any]] = []
        self._weighted_per_output: list[list[Any]] = []

    def build(self, y_true: Any, y_pred: Any, losses_container: LossesContainer | None) -> None:
        """Resolve metric names against the first batch's shapes."""
        outputs = _flat_outputs(y_pred)
        names = self._output_names = _names_for_outputs(self._output_names, len(outputs))
        targets = _align_targets(y_true, len(outputs), names)
        output_losses = (
            losses_container._losses
            if losses_container is not None and losses_container._losses
            else [None] * len(outputs)
        )

        def resolve(user: Any) -> list[list[Any]]:
            if user is None:
                return [[] for _ in outputs]
            per_output = _per_output_lists(user, names)
            return [
                [_resolve_metric(m, t, o, loss) for m in items if m is not None]
                for items, t, o, loss in zip(per_output, targets, outputs, output_losses)
            ]

        self._per_output = resolve(self._user_metrics)
        self._weighted_per_output = resolve(self._user_weighted)
        _set_metric_names(
            self._per_output, self._weighted_per_output, names if len(outputs) > 1 else None
        )
        self._built = True

    @property
    def metrics(self) -> list[Any]:
        """Metric objects in log order."""
        out: list[Any] = []
        for plain, weighted in zip(self._per_output, self._weighted_per_output):
            out.extend(plain)
            out.extend(weighted)
        return out

    def update_state(
        self,
        y_true: Any,
        y_pred: Any,
        sample_weight: Any = None,
        losses_container: LossesContainer | None = None,
    ) -> None:
        """Update every metric with the batch."""
        if not self._built:
            self.build(y_true, y_pred, losses_container)
        outputs, targets, weights = _align_batch(y_true, y_pred, sample_weight, self._output_names)
        for target, output, sw, plain, weighted in zip(
            targets, outputs, weights, self._per_output, self._weighted_per_output
        ):
            if target is None:
                continue
            output = output.detach() if isinstance(output, torch.Tensor) else output
            for metric in plain:
                metric.update_state(target, output)
            for metric in weighted:
                metric.update_state(target, output, sample_weight=sw)

    def reset_state(self) -> None:
        """Reset every metric."""
        for metric in self.metrics:
            metric.reset_state()


def _per_output_lists(user: Any, names: list[str]) -> list[list[Any]]:
    if isinstance(user, Mapping):
        return [_as_list(user.get(name)) for name in names]
    if (
        isinstance(user, (list, tuple))
        and len(names) > 1
        and len(user) == len(names)
        and all(isinstance(m, (list, tuple)) or m is None for m in user)
    ):
        return [_as_list(m) for m in user]
    return (
        [_as_list(user) for _ in names] if len(names) == 1 else [[*_as_list(user)] for _ in names]
    )


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    return [value]
