"""The Initializer base class: a callable ``(shape, dtype) -> tensor`` with a config."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch

from savedflow.ops.tensor_conversion import torch_dtype


class Initializer:
    """Base class of weight initializers (tf.keras 2.x API).

    Subclasses implement ``__call__(shape, dtype=None, **kwargs)`` returning a torch tensor
    and ``get_config()`` returning the JSON-serializable constructor arguments.

    Example::

        class Fives(Initializer):
            def __call__(self, shape, dtype=None, **kwargs):
                return torch.full(shape, 5.0)
    """

    def __call__(self, shape: Sequence[int], dtype: Any = None, **kwargs: Any) -> torch.Tensor:
        raise NotImplementedError(
            f"Initializer subclass {type(self).__name__} must implement `__call__()`."
        )

    def get_config(self) -> dict[str, Any]:
        """Returns the constructor arguments of this initializer."""
        return {}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Initializer:
        """Builds an initializer from the output of ``get_config()``."""
        config = dict(config)
        config.pop("dtype", None)
        return cls(**config)

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


def normalize_shape(shape: Any) -> tuple[int, ...]:
    """Turns a TensorShape, list or int into a tuple of Python ints (unknown dims rejected)."""
    if hasattr(shape, "as_list"):
        shape = shape.as_list()
    if isinstance(shape, int):
        shape = (shape,)
    dims = tuple(shape)
    if any(d is None for d in dims):
        raise ValueError(f"Cannot initialize a weight of partially known shape. Received: {dims}")
    return tuple(int(d) for d in dims)


def to_torch_dtype(dtype: Any) -> torch.dtype:
    """The torch dtype for ``dtype`` (anything ``savedflow.as_dtype`` takes); None is float32."""
    return torch.float32 if dtype is None else torch_dtype(dtype)


def float_dtype(dtype: Any, initializer: str) -> torch.dtype:
    """Resolves ``dtype`` and checks it is floating point, as Keras's random initializers do."""
    result = to_torch_dtype(dtype)
    if not result.is_floating_point:
        raise ValueError(
            f"Expected floating point type for initializer {initializer}. Received: dtype={dtype}"
        )
    return result


def default_device() -> torch.device:
    """The device new weights are created on (torch's current default device)."""
    return torch.empty(0).device
