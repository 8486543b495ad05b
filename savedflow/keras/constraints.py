"""Weight constraints (tf.keras 2.x): MaxNorm, NonNeg, UnitNorm, MinMaxNorm.

A constraint maps a weight to its projected value; the optimizer applies
``variable.assign(variable.constraint(variable))`` after each update.

Example::

    from savedflow.keras import constraints
    constraints.get("non_neg")(torch.tensor([-1.0, 2.0]))  # tensor([0., 2.])
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch

from savedflow.keras.utils import serialization
from savedflow.ops.tensor_conversion import to_tensor

_EPSILON = 1e-7  # keras.backend.epsilon()


def _norms(w: torch.Tensor, axis: Any) -> torch.Tensor:
    dims = tuple(axis) if isinstance(axis, (list, tuple)) else (axis,)
    return torch.sqrt(torch.sum(torch.square(w), dim=dims, keepdim=True))


class Constraint:
    """Base class: a callable ``(weight) -> projected weight`` with a config."""

    def __call__(self, w: Any) -> torch.Tensor:
        return to_tensor(w)

    def get_config(self) -> dict[str, Any]:
        """Returns the constructor arguments of this constraint."""
        return {}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Constraint:
        """Builds a constraint from the output of ``get_config()``."""
        return cls(**config)


class MaxNorm(Constraint):
    """Rescales weights whose norm along ``axis`` exceeds ``max_value``."""

    def __init__(self, max_value: float = 2, axis: Any = 0) -> None:
        self.max_value = max_value
        self.axis = axis

    def __call__(self, w: Any) -> torch.Tensor:
        w = to_tensor(w)
        norms = _norms(w, self.axis)
        desired = torch.clamp(norms, 0, self.max_value)
        return w * (desired / (_EPSILON + norms))

    def get_config(self) -> dict[str, Any]:
        return {"max_value": self.max_value, "axis": self.axis}


class NonNeg(Constraint):
    """Sets negative weights to zero."""

    def __call__(self, w: Any) -> torch.Tensor:
        w = to_tensor(w)
        return w * (w >= 0).to(w.dtype)


class UnitNorm(Constraint):
    """Rescales weights to unit norm along ``axis``."""

    def __init__(self, axis: Any = 0) -> None:
        self.axis = axis

    def __call__(self, w: Any) -> torch.Tensor:
        w = to_tensor(w)
        return w / (_EPSILON + _norms(w, self.axis))

    def get_config(self) -> dict[str, Any]:
        return {"axis": self.axis}


class MinMaxNorm(Constraint):
    """Keeps norms along ``axis`` within [min_value, max_value], moving by ``rate``."""

    def __init__(
        self, min_value: float = 0.0, max_value: float = 1.0, rate: float = 1.0, axis: Any = 0
    ) -> None:
        self.min_value = min_value
        self.max_value = max_value
        self.rate = rate
        self.axis = axis

    def __call__(self, w: Any) -> torch.Tensor:
        w = to_tensor(w)
        norms = _norms(w, self.axis)
        clipped = torch.clamp(norms, self.min_value, self.max_value)
        desired = self.rate * clipped + (1 - self.rate) * norms
        return w * (desired / (_EPSILON + norms))

    def get_config(self) -> dict[str, Any]:
        return {
            "min_value": self.min_value,
            "max_value": self.max_value,
            "rate": self.rate,
            "axis": self.axis,
        }


max_norm, non_neg, unit_norm, min_max_norm = MaxNorm, NonNeg, UnitNorm, MinMaxNorm

ALL_OBJECTS: dict[str, type] = {
    "Constraint": Constraint, "MaxNorm": MaxNorm, "NonNeg": NonNeg, "UnitNorm": UnitNorm,
    "MinMaxNorm": MinMaxNorm, "max_norm": MaxNorm, "non_neg": NonNeg, "unit_norm": UnitNorm,
    "min_max_norm": MinMaxNorm, "maxnorm": MaxNorm, "nonneg": NonNeg, "unitnorm": UnitNorm,
}  # fmt: skip


def serialize(constraint: Any) -> Any:
    """Returns the config dict of ``constraint`` (None stays None)."""
    return serialization.serialize_keras_object(constraint)


def deserialize(config: Any, custom_objects: Mapping[str, Any] | None = None) -> Any:
    """Builds a constraint from a name or a ``{"class_name", "config"}`` dict.

    Raises:
      UnknownObjectError: the name is neither built in nor a known custom object.
    """
    return serialization.deserialize_keras_object(
        config, ALL_OBJECTS, custom_objects, printable_module_name="constraint"
    )


def get(identifier: Any) -> Any:
    """Returns a constraint for a name ('max_norm', ...), a config dict or a callable."""
    return serialization.get_keras_object(identifier, deserialize, "constraint function")


__all__ = [
    "Constraint", "MaxNorm", "NonNeg", "UnitNorm", "MinMaxNorm", "max_norm", "non_neg",
    "unit_norm", "min_max_norm", "serialize", "deserialize", "get",
]  # fmt: skip
