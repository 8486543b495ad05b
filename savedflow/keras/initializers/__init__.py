"""Keras weight initializers (tf.keras 2.x names, configs and aliases).

``get`` accepts a name (``"glorot_uniform"``, ``"GlorotUniform"``, ``"zeros"``), a serialized
dict (``{"class_name": "Constant", "config": {"value": 2}}``), an Initializer or any callable
``(shape, dtype) -> tensor``.

Example::

    from savedflow.keras import initializers
    init = initializers.get("he_normal")
    kernel = init((3, 4))
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from savedflow.keras.initializers.constant_initializers import Constant, Identity, Ones, Zeros
from savedflow.keras.initializers.initializer import Initializer
from savedflow.keras.initializers.random_initializers import (
    GlorotNormal,
    GlorotUniform,
    HeNormal,
    HeUniform,
    LecunNormal,
    LecunUniform,
    Orthogonal,
    RandomNormal,
    RandomUniform,
    TruncatedNormal,
    VarianceScaling,
)
from savedflow.keras.utils import serialization

_CLASSES = (
    Constant, GlorotNormal, GlorotUniform, HeNormal, HeUniform, Identity, LecunNormal,
    LecunUniform, Ones, Orthogonal, RandomNormal, RandomUniform, TruncatedNormal,
    VarianceScaling, Zeros,
)  # fmt: skip


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


ALL_OBJECTS: dict[str, type] = {}
for _cls in _CLASSES:
    ALL_OBJECTS[_cls.__name__] = _cls
    ALL_OBJECTS[_snake(_cls.__name__)] = _cls
ALL_OBJECTS.update(normal=RandomNormal, uniform=RandomUniform, one=Ones, zero=Zeros)

# Lower-case aliases usable as classes, as in tf.keras (``initializers.glorot_uniform(seed=1)``).
constant, identity, ones, zeros = Constant, Identity, Ones, Zeros
glorot_normal, glorot_uniform = GlorotNormal, GlorotUniform
he_normal, he_uniform, lecun_normal, lecun_uniform = HeNormal, HeUniform, LecunNormal, LecunUniform
orthogonal, random_normal, random_uniform = Orthogonal, RandomNormal, RandomUniform
truncated_normal, variance_scaling = TruncatedNormal, VarianceScaling


def serialize(initializer: Any) -> Any:
    """Returns the config dict of ``initializer`` (None stays None)."""
    return serialization.serialize_keras_object(initializer)


def deserialize(config: Any, custom_objects: Mapping[str, Any] | None = None) -> Any:
    """Builds an initializer from a name or a ``{"class_name", "config"}`` dict.

    Raises:
      UnknownObjectError: the name is neither built in nor a known custom object.
    """
    return serialization.deserialize_keras_object(
        config, ALL_OBJECTS, custom_objects, printable_module_name="initializer"
    )


def get(identifier: Any) -> Any:
    """Returns an initializer for a name, a config dict, an Initializer or a callable.

    A class (built-in or custom) is instantiated with no arguments.
    """
    result = serialization.get_keras_object(identifier, deserialize, "initializer")
    return result() if isinstance(result, type) else result


__all__ = [
    "Initializer", "serialize", "deserialize", "get",
    *(c.__name__ for c in _CLASSES),
    "constant", "identity", "ones", "zeros", "glorot_normal", "glorot_uniform", "he_normal",
    "he_uniform", "lecun_normal", "lecun_uniform", "orthogonal", "random_normal",
    "random_uniform", "truncated_normal", "variance_scaling",
]  # fmt: skip
