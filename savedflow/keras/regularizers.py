"""Weight regularizers (tf.keras 2.x): L1, L2, L1L2, OrthogonalRegularizer.

A regularizer maps a weight to a scalar penalty; a layer adds the penalties of its weights to
``layer.losses``. Factors are stored as float32, so ``L2().get_config()`` reads
``{"l2": 0.009999999776482582}`` exactly as tf.keras writes it.

Example::

    from savedflow.keras import regularizers
    reg = regularizers.get("l2")
    reg(torch.ones(2, 2))  # tensor(0.0400)
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import torch

from savedflow.keras.utils import serialization
from savedflow.keras.utils.object_registration import get_registered_object
from savedflow.ops.tensor_conversion import to_tensor


def _floatx(value: Any, name: str) -> float:
    if value is None:
        value = 0.0
    try:
        value = float(value)
    except (TypeError, ValueError) as err:
        raise ValueError(f"Invalid value for argument {name}: {value!r}") from err
    if not math.isfinite(value) or value < 0:
        raise ValueError(
            f"Value for argument {name} must be a non-negative finite number. Received: {value}"
        )
    return float(np.float32(value))


class Regularizer:
    """Base class: a callable ``(weight) -> scalar penalty`` with a config."""

    def __call__(self, x: Any) -> torch.Tensor:
        return torch.zeros((), dtype=to_tensor(x).dtype)

    def get_config(self) -> dict[str, Any]:
        """Returns the constructor arguments of this regularizer."""
        raise NotImplementedError(f"{type(self).__name__} does not implement get_config().")

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Regularizer:
        """Builds a regularizer from the output of ``get_config()``."""
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


class L1L2(Regularizer):
    """Penalty ``l1 * sum(|x|) + l2 * sum(x**2)``."""

    def __init__(self, l1: float = 0.0, l2: float = 0.0) -> None:
        self.l1 = _floatx(l1, "l1")
        self.l2 = _floatx(l2, "l2")

    def __call__(self, x: Any) -> torch.Tensor:
        x = to_tensor(x)
        total = torch.zeros((), dtype=x.dtype, device=x.device)
        if self.l1:
            total = total + self.l1 * torch.sum(torch.abs(x))
        if self.l2:
            total = total + self.l2 * torch.sum(torch.square(x))
        return total

    def get_config(self) -> dict[str, Any]:
        return {"l1": self.l1, "l2": self.l2}


class L1(Regularizer):
    """Penalty ``l1 * sum(|x|)`` (default factor 0.01)."""

    def __init__(self, l1: float = 0.01, **kwargs: Any) -> None:
        l1 = kwargs.pop("l", l1)  # tf.keras accepts the old spelling `l`
        if kwargs:
            raise TypeError(f"Argument(s) not recognized: {kwargs}")
        self.l1 = _floatx(l1, "l1")

    def __call__(self, x: Any) -> torch.Tensor:
        return self.l1 * torch.sum(torch.abs(to_tensor(x)))

    def get_config(self) -> dict[str, Any]:
        return {"l1": self.l1}


class L2(Regularizer):
    """Penalty ``l2 * sum(x**2)`` (default factor 0.01)."""

    def __init__(self, l2: float = 0.01, **kwargs: Any) -> None:
        l2 = kwargs.pop("l", l2)
        if kwargs:
            raise TypeError(f"Argument(s) not recognized: {kwargs}")
        self.l2 = _floatx(l2, "l2")

    def __call__(self, x: Any) -> torch.Tensor:
        return self.l2 * torch.sum(torch.square(to_tensor(x)))

    def get_config(self) -> dict[str, Any]:
        return {"l2": self.l2}


class OrthogonalRegularizer(Regularizer):
    """Penalty pushing the rows (or columns) of a 2-D weight towards orthonormality."""

    def __init__(self, factor: float = 0.01, mode: str = "rows") -> None:
        if mode not in ("rows", "columns"):
            raise ValueError(
                f"Invalid value for argument `mode`. Expected one of ('rows', 'columns'). "
                f"Received: mode={mode}"
            )
        self.factor = _floatx(factor, "factor")
        self.mode = mode

    def __call__(self, x: Any) -> torch.Tensor:
        x = to_tensor(x)
        if x.dim() != 2:
            raise ValueError(
                f"Inputs to OrthogonalRegularizer must have rank 2. Received: shape={tuple(x.shape)}"
            )
        if self.mode == "rows":
            x = torch.nn.functional.normalize(x, dim=1, eps=1e-12)
            product = x @ x.T
        else:
            x = torch.nn.functional.normalize(x, dim=0, eps=1e-12)
            product = x.T @ x
        size = product.shape[0]
        off_diagonal = product * (1.0 - torch.eye(size, dtype=x.dtype, device=x.device))
        num_pairs = size * (size - 1.0) / 2.0
        return self.factor * 0.5 * torch.sum(torch.abs(off_diagonal)) / num_pairs

    def get_config(self) -> dict[str, Any]:
        return {"factor": self.factor, "mode": self.mode}


def l1_l2(l1: float = 0.01, l2: float = 0.01) -> L1L2:
    """An L1L2 regularizer with both factors defaulting to 0.01."""
    return L1L2(l1=l1, l2=l2)


l1, l2, orthogonal_regularizer = L1, L2, OrthogonalRegularizer

ALL_OBJECTS: dict[str, Any] = {
    "Regularizer": Regularizer, "L1": L1, "L2": L2, "L1L2": L1L2,
    "OrthogonalRegularizer": OrthogonalRegularizer,
    "l1": L1, "l2": L2, "l1_l2": l1_l2, "orthogonal_regularizer": OrthogonalRegularizer,
}  # fmt: skip


def serialize(regularizer: Any) -> Any:
    """Returns the config dict of ``regularizer`` (None stays None)."""
    return serialization.serialize_keras_object(regularizer)


def deserialize(config: Any, custom_objects: Mapping[str, Any] | None = None) -> Any:
    """Builds a regularizer from a name or a ``{"class_name", "config"}`` dict.

    ``"l1_l2"`` gives ``L1L2(0.01, 0.01)`` (the string's defaults differ from the class's).

    Raises:
      UnknownObjectError: the name is neither built in nor a known custom object.
    """
    if config == "l1_l2" and get_registered_object(config, custom_objects) is None:
        return L1L2(l1=0.01, l2=0.01)
    return serialization.deserialize_keras_object(
        config, ALL_OBJECTS, custom_objects, printable_module_name="regularizer"
    )


def get(identifier: Any) -> Any:
    """Returns a regularizer for a name ('l1', 'l2', 'l1_l2'), a config dict or a callable."""
    return serialization.get_keras_object(identifier, deserialize, "regularizer")


__all__ = [
    "Regularizer", "L1", "L2", "L1L2", "OrthogonalRegularizer", "l1", "l2", "l1_l2",
    "orthogonal_regularizer", "serialize", "deserialize", "get",
]  # fmt: skip
