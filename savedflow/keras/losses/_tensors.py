"""Small tensor helpers shared by losses and metrics (conversion, shape alignment)."""

from __future__ import annotations

from typing import Any

import torch

from savedflow.ops.tensor_conversion import to_tensor

EPSILON = 1e-7


def as_tensor(value: Any, like: torch.Tensor | None = None) -> torch.Tensor:
    """``value`` as a torch tensor; with ``like``, cast to its dtype and moved to its device."""
    tensor = to_tensor(value)
    if like is not None:
        if tensor.device != like.device:
            tensor = tensor.to(like.device)
        if tensor.dtype != like.dtype and like.is_floating_point():
            tensor = tensor.to(like.dtype)
    return tensor


def as_float(value: Any) -> torch.Tensor:
    """``value`` as a floating tensor (integers and bools become float32)."""
    tensor = to_tensor(value)
    return tensor if tensor.is_floating_point() else tensor.to(torch.float32)


def remove_squeezable_dimensions(
    y_true: torch.Tensor, y_pred: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Drop a trailing size-1 axis from whichever of the two has one more axis (as tf.keras)."""
    diff = y_pred.dim() - y_true.dim()
    if diff == 1 and y_pred.shape[-1] == 1:
        y_pred = y_pred.squeeze(-1)
    elif diff == -1 and y_true.shape[-1] == 1:
        y_true = y_true.squeeze(-1)
    return y_true, y_pred


def broadcast_weights(weights: Any, values: torch.Tensor) -> torch.Tensor:
    """``sample_weight`` aligned with per-sample ``values`` and broadcast to their shape."""
    w = as_tensor(weights, values)
    while w.dim() > values.dim() and w.shape[-1] == 1:
        w = w.squeeze(-1)
    while 0 < w.dim() < values.dim():
        w = w.unsqueeze(-1)
    return torch.broadcast_to(w, values.shape) if w.dim() <= values.dim() else w
