"""Losses (``keras.losses``): functions, Loss classes, ``get`` / ``serialize`` / ``deserialize``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from savedflow.keras.losses.functions import (
    KLD,
    MAE,
    MAPE,
    MSE,
    MSLE,
    binary_crossentropy,
    categorical_crossentropy,
    cosine_similarity,
    hinge,
    huber,
    kl_divergence,
    kld,
    kullback_leibler_divergence,
    log_cosh,
    logcosh,
    mae,
    mape,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    mean_squared_logarithmic_error,
    mse,
    msle,
    poisson,
    sparse_categorical_crossentropy,
    squared_hinge,
)
from savedflow.keras.losses.loss import Loss, LossFunctionWrapper, Reduction, compute_weighted_loss
from savedflow.keras.losses.loss import takes_fn as _takes_fn
from savedflow.keras.losses.losses import (
    BinaryCrossentropy,
    CategoricalCrossentropy,
    CosineSimilarity,
    Hinge,
    Huber,
    KLDivergence,
    LogCosh,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredError,
    MeanSquaredLogarithmicError,
    Poisson,
    SparseCategoricalCrossentropy,
    SquaredHinge,
)
from savedflow.keras.utils import serialization

_CLASSES = {
    cls.__name__: cls
    for cls in (
        BinaryCrossentropy, CategoricalCrossentropy, CosineSimilarity, Hinge, Huber, KLDivergence,
        LogCosh, MeanAbsoluteError, MeanAbsolutePercentageError, MeanSquaredError,
        MeanSquaredLogarithmicError, Poisson, SparseCategoricalCrossentropy, SquaredHinge,
    )
}  # fmt: skip
_FUNCTIONS: dict[str, Callable[..., Any]] = {
    f.__name__: f
    for f in (
        binary_crossentropy, categorical_crossentropy, cosine_similarity, hinge, huber,
        kl_divergence, log_cosh, mean_absolute_error, mean_absolute_percentage_error,
        mean_squared_error, mean_squared_logarithmic_error, poisson,
        sparse_categorical_crossentropy, squared_hinge,
    )
}  # fmt: skip
_FUNCTIONS.update(
    {"mse": mse, "MSE": MSE, "mae": mae, "MAE": MAE, "mape": mape, "MAPE": MAPE, "msle": msle,
     "MSLE": MSLE, "kld": kld, "KLD": KLD, "kullback_leibler_divergence": kullback_leibler_divergence,
     "logcosh": logcosh, "huber_loss": huber}
)  # fmt: skip


# Everything a loss config or name can refer to (tf_keras' keras.losses names).
ALL_OBJECTS: dict[str, Any] = {
    **_FUNCTIONS,
    **_CLASSES,
    "bce": binary_crossentropy,
    "LossFunctionWrapper": LossFunctionWrapper,
}
ALL_OBJECTS["BCE"] = binary_crossentropy


def serialize(loss: Any) -> Any:
    """A Loss as ``{'module', 'class_name', 'config', 'registered_name'}``; a loss function as
    ``{'module': 'builtins', 'class_name': 'function', 'config': <name>, ...}`` (tf_keras 2.21)."""
    return serialization.serialize_keras_object(loss)


def deserialize(config: Any, custom_objects: dict[str, Any] | None = None, **kwargs: Any) -> Any:
    """Inverse of :func:`serialize`; also takes names (``'mse'``, ``'MeanSquaredError'``).

    Raises:
      UnknownObjectError: the name is neither built in nor a known custom object.
    """
    del kwargs  # use_legacy_format: both formats are read
    return serialization.deserialize_keras_object(
        _without_wrapped_fn(config, custom_objects),
        ALL_OBJECTS,
        custom_objects,
        printable_module_name="loss function",
    )


def _without_wrapped_fn(config: Any, custom_objects: Any) -> Any:
    """Drop the ``fn`` tf_keras writes in the configs of LossFunctionWrapper subclasses.

    tf_keras records the wrapped function's name there, but only LossFunctionWrapper itself
    takes it back; the subclasses (MeanSquaredError, ...) fix their function.
    """
    inner = config.get("config") if isinstance(config, dict) else None
    if not isinstance(inner, dict) or "fn" not in inner:
        return config
    cls = serialization.find_object(config, ALL_OBJECTS, custom_objects, "loss function")
    if not (isinstance(cls, type) and issubclass(cls, LossFunctionWrapper)):
        return config
    if _takes_fn(cls):
        return config
    return {**config, "config": {k: v for k, v in inner.items() if k != "fn"}}


def get(identifier: Any) -> Any:
    """A loss from a name (``'mse'``, ``'MeanSquaredError'``), a config dict, or a callable."""
    return serialization.get_keras_object(identifier, deserialize, "loss function")


__all__ = [  # noqa: PLE0604
    *_CLASSES,
    *_FUNCTIONS,
    "Loss",
    "LossFunctionWrapper",
    "Reduction",
    "compute_weighted_loss",
    "deserialize",
    "get",
    "serialize",
]
