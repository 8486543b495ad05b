"""Regression and loss-based metrics: RootMeanSquaredError, MeanSquaredError, crossentropies, ..."""

from __future__ import annotations

from typing import Any

import torch

from savedflow.keras.losses import functions as fn
from savedflow.keras.losses._tensors import as_float, as_tensor, remove_squeezable_dimensions
from savedflow.keras.metrics.metric import Mean, MeanMetricWrapper, masked_weights


class RootMeanSquaredError(Mean):
    """``sqrt(mean(square(y_pred - y_true)))`` over all elements seen."""

    def __init__(self, name: str = "root_mean_squared_error", dtype: Any = None):
        super().__init__(name=name, dtype=dtype)

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        """Accumulate squared errors."""
        with torch.no_grad():
            y_pred = as_float(y_pred).detach()
            y_true = as_tensor(y_true, y_pred).detach()
            y_true, y_pred = remove_squeezable_dimensions(y_true, y_pred)
            error = torch.square(y_pred - y_true)
        super().update_state(error, sample_weight=sample_weight)

    def result(self) -> torch.Tensor:
        """The root of the mean squared error."""
        return torch.sqrt(super().result())


def _wrapper(class_name: str, function: Any, default_name: str, doc: str, **defaults: Any) -> type:
    def __init__(self: Any, name: str = default_name, dtype: Any = None, **kwargs: Any) -> None:
        options = dict(defaults)
        options.update(kwargs)
        MeanMetricWrapper.__init__(self, function, name, dtype=dtype, **options)

    return type(
        class_name,
        (MeanMetricWrapper,),
        {"__init__": __init__, "__doc__": doc, "__module__": __name__},
    )


MeanSquaredError = _wrapper(
    "MeanSquaredError", fn.mean_squared_error, "mean_squared_error", "Mean of squared errors."
)
MeanAbsoluteError = _wrapper(
    "MeanAbsoluteError", fn.mean_absolute_error, "mean_absolute_error", "Mean of absolute errors."
)
MeanAbsolutePercentageError = _wrapper(
    "MeanAbsolutePercentageError",
    fn.mean_absolute_percentage_error,
    "mean_absolute_percentage_error",
    "Mean absolute percentage error.",
)
MeanSquaredLogarithmicError = _wrapper(
    "MeanSquaredLogarithmicError",
    fn.mean_squared_logarithmic_error,
    "mean_squared_logarithmic_error",
    "Mean squared logarithmic error.",
)
KLDivergence = _wrapper(
    "KLDivergence",
    fn.kl_divergence,
    "kullback_leibler_divergence",
    "Mean Kullback-Leibler divergence.",
)
Poisson = _wrapper("Poisson", fn.poisson, "poisson", "Mean Poisson loss.")
LogCoshError = _wrapper("LogCoshError", fn.log_cosh, "logcosh", "Mean log-cosh error.")
Hinge = _wrapper("Hinge", fn.hinge, "hinge", "Mean hinge loss.")
SquaredHinge = _wrapper(
    "SquaredHinge", fn.squared_hinge, "squared_hinge", "Mean squared hinge loss."
)


class BinaryCrossentropy(MeanMetricWrapper):
    """Mean binary crossentropy.

    ``label_smoothing`` is kept as given (its default is the int 0, as in tf.keras configs).
    """

    def __init__(
        self,
        name: str = "binary_crossentropy",
        dtype: Any = None,
        from_logits: bool = False,
        label_smoothing: float = 0,
    ):
        super().__init__(
            fn.binary_crossentropy,
            name,
            dtype=dtype,
            from_logits=from_logits,
            label_smoothing=label_smoothing,
        )


class CategoricalCrossentropy(MeanMetricWrapper):
    """Mean categorical crossentropy (one-hot labels) along ``axis``."""

    def __init__(
        self,
        name: str = "categorical_crossentropy",
        dtype: Any = None,
        from_logits: bool = False,
        label_smoothing: float = 0,
        axis: int = -1,
    ):
        super().__init__(
            fn.categorical_crossentropy,
            name,
            dtype=dtype,
            from_logits=from_logits,
            label_smoothing=label_smoothing,
            axis=axis,
        )


class SparseCategoricalCrossentropy(MeanMetricWrapper):
    """Mean sparse categorical crossentropy (integer labels).

    Entries labelled ``ignore_class`` are left out of the mean (they add neither to the total
    nor to the count), e.g. the padding class of a segmentation map.

    Example::

        m = keras.metrics.SparseCategoricalCrossentropy(ignore_class=2)
        m.update_state([0, 2], [[0.9, 0.05, 0.05], [0.1, 0.1, 0.8]])
        float(m.result())  # -log(0.9): the second entry is ignored
    """

    def __init__(
        self,
        name: str = "sparse_categorical_crossentropy",
        dtype: Any = None,
        from_logits: bool = False,
        ignore_class: int | None = None,
        axis: int = -1,
    ):
        super().__init__(
            fn.sparse_categorical_crossentropy,
            name,
            dtype=dtype,
            from_logits=from_logits,
            ignore_class=ignore_class,
            axis=axis,
        )

    def update_state(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> None:
        """Integer labels are used as they are; ignored entries are masked out."""
        with torch.no_grad():
            y_true = as_tensor(y_true)
            values = self._fn(y_true, as_float(y_pred).detach(), **self._fn_kwargs)
        mask = fn.valid_mask(self._fn, self._fn_kwargs, y_true, values)
        Mean.update_state(self, values, sample_weight=masked_weights(sample_weight, values, mask))
