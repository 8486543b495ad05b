"""Metrics (``keras.metrics``): stateful Metric objects, metric functions, ``get``."""

from __future__ import annotations

from typing import Any

from savedflow.keras.losses.functions import (
    binary_crossentropy,
    categorical_crossentropy,
    hinge,
    kl_divergence,
    log_cosh,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    mean_squared_logarithmic_error,
    poisson,
    sparse_categorical_crossentropy,
    squared_hinge,
)
from savedflow.keras.metrics.accuracy_metrics import (
    Accuracy,
    BinaryAccuracy,
    CategoricalAccuracy,
    SparseCategoricalAccuracy,
    SparseTopKCategoricalAccuracy,
    TopKCategoricalAccuracy,
    accuracy,
    binary_accuracy,
    categorical_accuracy,
    sparse_categorical_accuracy,
    sparse_top_k_categorical_accuracy,
    top_k_categorical_accuracy,
)
from savedflow.keras.metrics.confusion_metrics import (
    AUC,
    FalseNegatives,
    FalsePositives,
    Precision,
    Recall,
    TrueNegatives,
    TruePositives,
)
from savedflow.keras.metrics.metric import Mean, MeanMetricWrapper, Metric, Reduce, Sum
from savedflow.keras.metrics.regression_metrics import (
    BinaryCrossentropy,
    CategoricalCrossentropy,
    Hinge,
    KLDivergence,
    LogCoshError,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredError,
    MeanSquaredLogarithmicError,
    Poisson,
    RootMeanSquaredError,
    SparseCategoricalCrossentropy,
    SquaredHinge,
)
from savedflow.keras.utils import serialization

mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error

_CLASSES: dict[str, type] = {
    cls.__name__: cls
    for cls in (
        AUC, Accuracy, BinaryAccuracy, BinaryCrossentropy, CategoricalAccuracy,
        CategoricalCrossentropy, FalseNegatives, FalsePositives, Hinge, KLDivergence, LogCoshError,
        Mean, MeanAbsoluteError, MeanAbsolutePercentageError, MeanSquaredError,
        MeanSquaredLogarithmicError, Poisson, Precision, Recall, RootMeanSquaredError,
        SparseCategoricalAccuracy, SparseCategoricalCrossentropy, SparseTopKCategoricalAccuracy,
        SquaredHinge, Sum, TopKCategoricalAccuracy, TrueNegatives, TruePositives,
    )
}  # fmt: skip
_FUNCTIONS: dict[str, Any] = {
    f.__name__: f
    for f in (
        accuracy, binary_accuracy, categorical_accuracy, sparse_categorical_accuracy,
        top_k_categorical_accuracy, sparse_top_k_categorical_accuracy, binary_crossentropy,
        categorical_crossentropy, sparse_categorical_crossentropy, mean_squared_error,
        mean_absolute_error, mean_absolute_percentage_error, mean_squared_logarithmic_error,
        kl_divergence, poisson,
    )
}  # fmt: skip
_FUNCTIONS.update(
    {
        "mse": mse,
        "MSE": MSE,
        "mae": mae,
        "MAE": MAE,
        "mape": mape,
        "MAPE": MAPE,
        "msle": msle,
        "MSLE": MSLE,
    }
)


# Everything a metric config or name can refer to (tf_keras' keras.metrics names).
ALL_OBJECTS: dict[str, Any] = {
    **_FUNCTIONS,
    **_CLASSES,
    "acc": accuracy, "ACC": accuracy, "bce": binary_crossentropy, "BCE": binary_crossentropy,
    "hinge": hinge, "squared_hinge": squared_hinge, "log_cosh": log_cosh, "logcosh": log_cosh,
    "kullback_leibler_divergence": kl_divergence, "MeanMetricWrapper": MeanMetricWrapper,
}  # fmt: skip


def serialize(metric: Any) -> Any:
    """A Metric as ``{'module', 'class_name', 'config', 'registered_name'}``; a metric function as
    ``{'module': 'builtins', 'class_name': 'function', 'config': <name>, ...}`` (tf_keras 2.21)."""
    return serialization.serialize_keras_object(metric)


def deserialize(config: Any, custom_objects: dict[str, Any] | None = None, **kwargs: Any) -> Any:
    """Inverse of :func:`serialize`: a function for a name, a Metric for a class name or config.

    Raises:
      UnknownObjectError: the name is neither built in nor a known custom object.
    """
    del kwargs  # use_legacy_format: both formats are read
    if isinstance(config, str):
        found = serialization.find_object(config, ALL_OBJECTS, custom_objects, "metric function")
        if isinstance(found, type) and getattr(found, "_uniquify_default_name", False):
            # by name ('AUC' in compile): the plain class name, not auc_1, as tf.keras
            from savedflow.keras.utils.naming import to_snake_case

            return found(name=to_snake_case(found.__name__))
    return serialization.deserialize_keras_object(
        config, ALL_OBJECTS, custom_objects, printable_module_name="metric function"
    )


def get(identifier: Any) -> Any:
    """A metric function or object from a name, a config dict, or a callable (returned as is)."""
    if identifier is None:
        raise ValueError("Could not interpret metric identifier: None")
    return serialization.get_keras_object(identifier, deserialize, "metric")


__all__ = [  # noqa: PLE0604
    *_CLASSES,
    *_FUNCTIONS,
    "Metric",
    "MeanMetricWrapper",
    "Reduce",
    "deserialize",
    "get",
    "serialize",
]
