"""Keras activation functions on torch tensors (tf.keras 2.x names and semantics).

``get`` accepts a name (``"relu"``), None (``linear``), a serialized dict or any callable;
``serialize`` gives back the name for built-ins, so layer configs read ``"activation": "relu"``.

Example::

    from savedflow.keras import activations
    activations.get("relu")(torch.tensor([-1.0, 2.0]))  # tensor([0., 2.])
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import torch
import torch.nn.functional as F

from savedflow.keras.utils import serialization
from savedflow.ops.tensor_conversion import to_tensor


def softmax(x: Any, axis: int = -1) -> torch.Tensor:
    """Softmax along ``axis``; rejects 1-D inputs as tf.keras does."""
    x = to_tensor(x)
    if x.dim() <= 1:
        raise ValueError(f"Cannot apply softmax to a tensor that is 1D. Received input: {x}")
    return torch.softmax(x, dim=axis)


def elu(x: Any, alpha: float = 1.0) -> torch.Tensor:
    """Exponential linear unit: x if x > 0 else alpha * (exp(x) - 1)."""
    return F.elu(to_tensor(x), alpha=alpha)


def selu(x: Any) -> torch.Tensor:
    """Scaled exponential linear unit."""
    return F.selu(to_tensor(x))


def softplus(x: Any) -> torch.Tensor:
    """log(exp(x) + 1)."""
    return F.softplus(to_tensor(x))


def softsign(x: Any) -> torch.Tensor:
    """x / (abs(x) + 1)."""
    return F.softsign(to_tensor(x))


def swish(x: Any) -> torch.Tensor:
    """x * sigmoid(x)."""
    return F.silu(to_tensor(x))


silu = swish


def relu(
    x: Any, alpha: float = 0.0, max_value: float | None = None, threshold: float = 0.0
) -> torch.Tensor:
    """Rectified linear unit with optional leak ``alpha``, cap ``max_value`` and ``threshold``."""
    x = to_tensor(x)
    if alpha == 0.0 and max_value is None and threshold == 0.0:
        return torch.relu(x)
    if threshold != 0.0:
        out = torch.where(x > threshold, x, torch.zeros_like(x))
    else:
        out = torch.relu(x)
    if max_value is not None:
        out = torch.clamp(out, max=float(max_value))
    if alpha != 0.0:
        out = out - alpha * torch.relu(threshold - x)
    return out


def gelu(x: Any, approximate: bool = False) -> torch.Tensor:
    """Gaussian error linear unit (exact erf form, or the tanh approximation)."""
    return F.gelu(to_tensor(x), approximate="tanh" if approximate else "none")


def tanh(x: Any) -> torch.Tensor:
    """Hyperbolic tangent."""
    return torch.tanh(to_tensor(x))


def sigmoid(x: Any) -> torch.Tensor:
    """1 / (1 + exp(-x))."""
    return torch.sigmoid(to_tensor(x))


def exponential(x: Any) -> torch.Tensor:
    """exp(x)."""
    return torch.exp(to_tensor(x))


def hard_sigmoid(x: Any) -> torch.Tensor:
    """Piecewise linear sigmoid of tf.keras 2.x: clip(0.2 * x + 0.5, 0, 1)."""
    return torch.clamp(to_tensor(x) * 0.2 + 0.5, 0.0, 1.0)


def linear(x: Any) -> Any:
    """Identity: returns the input unchanged."""
    return x


def relu6(x: Any) -> torch.Tensor:
    """min(max(x, 0), 6)."""
    return F.relu6(to_tensor(x))


def log_softmax(x: Any, axis: int = -1) -> torch.Tensor:
    """log(softmax(x)) along ``axis``, computed stably."""
    return torch.log_softmax(to_tensor(x), dim=axis)


def mish(x: Any) -> torch.Tensor:
    """x * tanh(softplus(x))."""
    return F.mish(to_tensor(x))


ALL_OBJECTS: dict[str, Callable[..., Any]] = {
    fn.__name__: fn
    for fn in (
        softmax, elu, selu, softplus, softsign, swish, relu, gelu, tanh, sigmoid,
        exponential, hard_sigmoid, linear, mish, relu6, log_softmax,
    )
}  # fmt: skip
ALL_OBJECTS["silu"] = swish
_NAMES = {id(fn): name for name, fn in ALL_OBJECTS.items() if name != "silu"}


def serialize(activation: Any) -> Any:
    """The name of a built-in activation (None gives ``"linear"``); otherwise its config.

    A named custom function is written by its (registered) name, as tf.keras 2.x layer configs
    read ``"activation": "my_act"``; an activation object gives its config dict.

    Raises:
      ValueError: a lambda (it has no name to be found by when loading).
    """
    if activation is None:
        return "linear"
    name = _NAMES.get(id(activation))
    if name is not None:
        return name
    config = serialization.serialize_keras_object(activation)
    if isinstance(config, dict) and config.get("class_name") == "function":
        return config["config"]
    return config


def deserialize(name: Any, custom_objects: Mapping[str, Any] | None = None) -> Any:
    """The activation a name or config refers to.

    Raises:
      UnknownObjectError: the name is neither built in nor a known custom object.
    """
    return serialization.deserialize_keras_object(
        name, ALL_OBJECTS, custom_objects, printable_module_name="activation function"
    )


def get(identifier: Any) -> Callable[..., Any]:
    """Returns the activation for a name, config dict or callable; None gives ``linear``.

    Raises:
      TypeError: ``identifier`` is none of these.
    """
    if identifier is None:
        return linear
    return serialization.get_keras_object(
        identifier, deserialize, "activation function", error=TypeError
    )


__all__ = ["serialize", "deserialize", "get", *ALL_OBJECTS]
