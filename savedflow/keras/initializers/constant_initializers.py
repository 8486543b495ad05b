"""Deterministic initializers: Zeros, Ones, Constant, Identity."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch

from savedflow.keras.initializers.initializer import (
    Initializer,
    default_device,
    float_dtype,
    normalize_shape,
    to_torch_dtype,
)


class Zeros(Initializer):
    """Initializer that generates tensors initialized to 0."""

    def __call__(self, shape: Sequence[int], dtype: Any = None, **kwargs: Any) -> torch.Tensor:
        shape = normalize_shape(shape)
        return torch.zeros(shape, dtype=to_torch_dtype(dtype), device=default_device())


class Ones(Initializer):
    """Initializer that generates tensors initialized to 1."""

    def __call__(self, shape: Sequence[int], dtype: Any = None, **kwargs: Any) -> torch.Tensor:
        shape = normalize_shape(shape)
        return torch.ones(shape, dtype=to_torch_dtype(dtype), device=default_device())


class Constant(Initializer):
    """Initializer that fills tensors with ``value`` (a scalar, or as many values as elements).

    Args:
        value: A Python scalar, or a list/array whose size equals the weight's size.
    """

    def __init__(self, value: Any = 0) -> None:
        self.value = value

    def __call__(self, shape: Sequence[int], dtype: Any = None, **kwargs: Any) -> torch.Tensor:
        shape = normalize_shape(shape)
        dtype = to_torch_dtype(dtype)
        value = np.asarray(self.value)
        if value.size == 1:
            return torch.full(shape, value.item(), dtype=dtype, device=default_device())
        if value.size != int(np.prod(shape)):
            raise TypeError(
                f"Constant initializer value has {value.size} elements but the weight of shape "
                f"{shape} needs {int(np.prod(shape))}. Received: value={self.value!r}"
            )
        return torch.as_tensor(value.reshape(shape), device=default_device()).to(dtype)

    def get_config(self) -> dict[str, Any]:
        return {"value": self.value}


class Identity(Initializer):
    """Initializer that generates the (possibly rectangular) identity matrix times ``gain``."""

    def __init__(self, gain: float = 1.0) -> None:
        self.gain = gain

    def __call__(self, shape: Sequence[int], dtype: Any = None, **kwargs: Any) -> torch.Tensor:
        shape = normalize_shape(shape)
        dtype = float_dtype(dtype, type(self).__name__)
        if len(shape) != 2:
            raise ValueError(
                "Identity matrix initializer can only be used for 2D matrices. "
                f"Received: shape={shape} of rank {len(shape)}."
            )
        eye = torch.eye(shape[0], shape[1], dtype=dtype, device=default_device())
        return self.gain * eye

    def get_config(self) -> dict[str, Any]:
        return {"gain": self.gain}
