"""Metric base classes: ``Metric`` (state variables), ``Reduce``/``Sum``/``Mean``, ``MeanMetricWrapper``.

State lives in non-trainable savedflow Variables created with :meth:`Metric.add_weight` and
updated in place without autograd, so a metric costs a few tensor ops per batch.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

from savedflow.keras.losses._tensors import (
    as_float,
    as_tensor,
    broadcast_weights,
    remove_squeezable_dimensions,
)
from savedflow.keras.losses.functions import valid_mask
from savedflow.ops.tensor_conversion import torch_dtype
from savedflow.tracking.base import Trackable


def _storage(variable: Any) -> torch.Tensor:
    """The state tensor to read or update in place (a function trace records the update)."""
    return variable._inplace_target()


class Metric(Trackable):
    """Base class: subclasses create state in ``__init__`` and implement ``update_state``/``result``.

    ``metric(y_true, y_pred)`` updates the state and returns the result.

    Example::

        m = keras.metrics.Mean()
        m.update_state([1.0, 3.0])
        float(m.result())  # 2.0
    """

    # True where tf.keras' constructor defaults name=None: the class name is then uniquified
    # through the session's name counters (auc, auc_1, ...; keras.backend.clear_session resets).
    _uniquify_default_name = False

    def __init__(self, name: str | None = None, dtype: Any = None, **kwargs: Any):
        del kwargs
        from savedflow.keras.utils.naming import to_snake_case

        if not name and self._uniquify_default_name:
            from savedflow.keras import backend

            name = backend.unique_object_name(to_snake_case(type(self).__name__))
        self.name = name or to_snake_case(type(self).__name__)
        self._dtype = dtype or "float32"
        self._metric_variables: list[Any] = []
        self.stateful = True
        self.built = True

    @property
    def dtype(self) -> str:
        """The metric's dtype name (``'float32'``)."""
        return str(getattr(self._dtype, "name", self._dtype))

    def add_weight(
        self,
        name: str,
        shape: Any = (),
        dtype: Any = None,
        initializer: Any = "zeros",
        **kwargs: Any,
    ) -> Any:
        """A non-trainable state Variable, tracked under ``name``."""
        del kwargs
        from savedflow.variables import Variable

        value = torch.zeros(tuple(shape), dtype=torch_dtype(dtype or self._dtype))
        if initializer not in (None, "zeros"):
            value = value + float(initializer)
        variable = Variable(value, trainable=False, name=name)
        self._metric_variables.append(variable)
        self._track_trackable(variable, name, overwrite=True)
        return variable

    @property
    def variables(self) -> list[Any]:
        """The state variables."""
        return list(self._metric_variables)

    weights = variables

    @property
    def trainable_weights(self) -> list[Any]:
        return []

    @property
    def non_trainable_weights(self) -> list[Any]:
        return list(self._metric_variables)

    def reset_state(self) -> None:
        """Zero all state variables."""
        with torch.no_grad():
            for variable in self._metric_variables:
                _storage(variable).zero_()

    def reset_states(self) -> None:
        """Deprecated alias of :meth:`reset_state`."""
        self.reset_state()

    def update_state(self, *args: Any, **kwargs: Any) -> None:
        """Accumulate statistics (subclasses implement)."""
        raise NotImplementedError("Must be implemented in subclasses.")

    def result(self) -> torch.Tensor:
        """The metric value from the current state (subclasses implement)."""
        raise NotImplementedError("Must be implemented in subclasses.")

    def __call__(self, *args: Any, **kwargs: Any) -> torch.Tensor:
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self) -> dict[str, Any]:
        """``{'name', 'dtype'}`` plus subclass arguments."""
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Metric:
        """Rebuild from :meth:`get_config` output."""
        return cls(**config)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name}>"


class Reduce(Metric):
    """Accumulates ``total`` (and ``count``) of weighted values: ``sum`` or ``weighted_mean``."""

    def __init__(self, reduction: str, name: str | None = None, dtype: Any = None):
        super().__init__(name=name, dtype=dtype)
        self.reduction = reduction
        self.total = self.add_weight("total")
        if reduction != "sum":
            self.count = self.add_weight("count")

    def update_state(self, values: Any, sample_weight: Any = None) -> None:
        """Add ``values`` (weighted by ``sample_weight``) to the state."""
        values = as_float(values).detach()
        total = _storage(self.total)
        if values.device != total.device:
            values = values.to(total.device)
        with torch.no_grad():
            if sample_weight is not None:
                weights = broadcast_weights(sample_weight, values)
                values = values * weights
                if self.reduction != "sum":
                    _storage(self.count).add_(torch.sum(weights).to(total.dtype))
            elif self.reduction != "sum":
                _storage(self.count).add_(float(values.numel()))
            total.add_(torch.sum(values).to(total.dtype))

    def result(self) -> torch.Tensor:
        """``total`` (sum) or ``total / count`` (0 when count is 0)."""
        total = _storage(self.total)
        if self.reduction == "sum":
            return total.clone()
        count = _storage(self.count)
        return torch.where(
            count > 0,
            total / torch.where(count > 0, count, torch.ones_like(count)),
            torch.zeros_like(total),
        )


class Sum(Reduce):
    """Weighted sum of all values seen."""

    def __init__(self, name: str = "sum", dtype: Any = None):
        super().__init__("sum", name=name, dtype=dtype)


class Mean(Reduce):
    """Weighted mean of all values seen.

    Example::

        m = keras.metrics.Mean()
        m.update_state([1, 3, 5, 7], sample_weight=[1, 1, 0, 0])
        float(m.result())  # 2.0
    """

    def __init__(self, name: str = "mean", dtype: Any = None):
        super().__init__("weighted_mean", name=name, dtype=dtype)


class MeanMetricWrapper(Mean):
    """Mean of ``fn(y_true, y_pred, **kwargs)`` over all samples seen."""

    def __init__(
        self, fn: Callable[..., Any], name: str | None = None, dtype: Any = None, **kwargs: Any
    ):
        super().__init__(name=name or getattr(fn, "__name__", "mean_metric_wrapper"), dtype=dtype)
        self._fn = fn
        self._fn_kwargs = kwargs

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        """Evaluate the function on the batch and add its per-sample values.

        Entries the function leaves out (``ignore_class`` of sparse categorical crossentropy)
        count neither in the total nor in the count.
        """
        with torch.no_grad():
            y_pred = as_float(y_pred).detach()
            y_true = as_tensor(y_true).detach()
            y_true, y_pred = remove_squeezable_dimensions(y_true, y_pred)
            values = self._fn(y_true, y_pred, **self._fn_kwargs)
        mask = valid_mask(self._fn, self._fn_kwargs, y_true, values)
        super().update_state(values, sample_weight=masked_weights(sample_weight, values, mask))

    def get_config(self) -> dict[str, Any]:
        """Name, dtype, then the function's keyword arguments; a MeanMetricWrapper itself (not
        a subclass) also records its function as ``fn`` (tf_keras 2.21's layout)."""
        config = {**super().get_config(), **self._fn_kwargs}
        if type(self) is MeanMetricWrapper:
            from savedflow.keras.utils.serialization import serialize_keras_object

            config["fn"] = serialize_keras_object(self._fn)
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Metric:
        """Rebuild from :meth:`get_config` output (``fn`` resolved by ``metrics.get``; the
        subclasses fix their own function and ignore it, as tf_keras does)."""
        config = dict(config)
        fn = config.pop("fn", None)
        if cls is MeanMetricWrapper:
            from savedflow.keras import metrics

            return cls(metrics.get(fn), **config)
        return cls(**config)


def masked_weights(sample_weight: Any, values: torch.Tensor, mask: Any) -> Any:
    """``sample_weight`` with the entries outside ``mask`` zeroed (unchanged without a mask)."""
    if mask is None:
        return sample_weight
    weights = mask.to(device=values.device, dtype=values.dtype)
    if sample_weight is None:
        return weights
    return broadcast_weights(sample_weight, values) * weights
