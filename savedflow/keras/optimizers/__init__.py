"""Optimizers (``keras.optimizers``): slot-based, with tf.keras 2.x update math and checkpoint layout."""

from __future__ import annotations

from typing import Any

from savedflow.errors import UnknownObjectError
from savedflow.keras.optimizers import schedules
from savedflow.keras.optimizers.adagrad import Adagrad
from savedflow.keras.optimizers.adam import Adam
from savedflow.keras.optimizers.adamw import AdamW
from savedflow.keras.optimizers.optimizer import Optimizer
from savedflow.keras.optimizers.rmsprop import RMSprop
from savedflow.keras.optimizers.sgd import SGD
from savedflow.keras.utils import serialization

# Built-in optimizers by class name; names are also matched case-insensitively ("adam").
ALL_OBJECTS: dict[str, type] = {}
for _cls in (SGD, Adam, AdamW, RMSprop, Adagrad):
    ALL_OBJECTS[_cls.__name__] = ALL_OBJECTS[_cls.__name__.lower()] = _cls


def serialize(optimizer: Optimizer) -> dict[str, Any]:
    """``{'module', 'class_name', 'config', 'registered_name'}`` as tf_keras writes a legacy optimizer."""
    return serialization.serialize_keras_object(optimizer)


def deserialize(
    config: dict[str, Any], custom_objects: dict[str, Any] | None = None, **kwargs: Any
) -> Optimizer:
    """Build an optimizer from :func:`serialize` output (Keras 2 or 3 style dicts) or a name.

    Raises:
      UnknownObjectError: the optimizer is neither built in nor a known custom object.
    """
    del kwargs  # use_legacy_format, use_legacy_optimizer: savedflow has one kind of optimizer
    return serialization.deserialize_keras_object(
        _as_legacy(_case_insensitive(config)),
        ALL_OBJECTS,
        custom_objects,
        printable_module_name="optimizer",
    )


def _as_legacy(config: Any) -> Any:
    """A config of tf_keras' new optimizers without the entries that change nothing here.

    Those configs (``"is_legacy_optimizer": False``) also list ``jit_compile``, the EMA
    settings and ``weight_decay``; savedflow's slot-based optimizers compute the same steps
    when EMA is off and weight decay is None (AdamW keeps its ``weight_decay``). Other values
    stay, so the optimizer refuses what it cannot do.
    """
    inner = config.get("config") if isinstance(config, dict) else None
    if not isinstance(inner, dict) or inner.get("is_legacy_optimizer") is not False:
        return config
    inner = dict(inner)
    inner.pop("jit_compile", None)
    if not inner.get("use_ema"):
        for key in ("use_ema", "ema_momentum", "ema_overwrite_frequency"):
            inner.pop(key, None)
    if inner.get("weight_decay") is None:
        inner.pop("weight_decay", None)
    return {**config, "config": inner}


def _case_insensitive(config: Any) -> Any:
    """Built-in class names in any case ("adam", "ADAM") become the table's own spelling."""
    name = config.get("class_name") if isinstance(config, dict) else config
    if not isinstance(name, str) or name in ALL_OBJECTS or name.lower() not in ALL_OBJECTS:
        return config
    name = name.lower()
    return {**config, "class_name": name} if isinstance(config, dict) else name


def get(identifier: Any, **kwargs: Any) -> Optimizer:
    """An optimizer from a name (``"adam"``), a config dict, or an Optimizer (returned as is).

    Raises:
      ValueError: ``identifier`` is none of these (UnknownObjectError for unknown names).
    """
    del kwargs
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, (str, dict)):
        try:
            return deserialize(identifier)
        except UnknownObjectError as err:
            raise UnknownObjectError(
                f"Could not interpret optimizer identifier: {identifier!r}. {err}"
            ) from None
    raise ValueError(f"Could not interpret optimizer identifier: {identifier!r}")


__all__ = [
    "SGD",
    "Adagrad",
    "Adam",
    "AdamW",
    "Optimizer",
    "RMSprop",
    "deserialize",
    "get",
    "schedules",
    "serialize",
]
