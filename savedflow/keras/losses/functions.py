"""Loss functions (``keras.losses.mean_squared_error`` ...): per-sample losses, last axis reduced.

Each takes ``(y_true, y_pred)`` and returns one value per sample, computed as tf.keras 2.x
computes it (same clipping epsilon 1e-7, same label-smoothing and logits handling).
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from savedflow.keras.losses._tensors import EPSILON, as_float, as_tensor


def _pair(y_true: Any, y_pred: Any) -> tuple[torch.Tensor, torch.Tensor]:
    y_pred = as_float(y_pred)
    return as_tensor(y_true, y_pred), y_pred


def _prefer_logits(y_pred: Any, from_logits: bool) -> tuple[Any, bool]:
    """``(logits, True)`` when ``y_pred`` carries the logits it came from, else unchanged."""
    logits = getattr(y_pred, "_keras_logits", None)
    if logits is not None and not from_logits:
        return logits, True
    return y_pred, from_logits


def mean_squared_error(y_true: Any, y_pred: Any) -> torch.Tensor:
    """``mean(square(y_pred - y_true), axis=-1)``."""
    y_true, y_pred = _pair(y_true, y_pred)
    return torch.mean(torch.square(y_pred - y_true), dim=-1)


def mean_absolute_error(y_true: Any, y_pred: Any) -> torch.Tensor:
    """``mean(abs(y_pred - y_true), axis=-1)``."""
    y_true, y_pred = _pair(y_true, y_pred)
    return torch.mean(torch.abs(y_pred - y_true), dim=-1)


def mean_absolute_percentage_error(y_true: Any, y_pred: Any) -> torch.Tensor:
    """``100 * mean(abs((y_true - y_pred) / max(abs(y_true), eps)), axis=-1)``."""
    y_true, y_pred = _pair(y_true, y_pred)
    diff = torch.abs((y_true - y_pred) / torch.clamp(torch.abs(y_true), min=EPSILON))
    return 100.0 * torch.mean(diff, dim=-1)


def mean_squared_logarithmic_error(y_true: Any, y_pred: Any) -> torch.Tensor:
    """``mean(square(log1p(max(y_pred, eps)) - log1p(max(y_true, eps))), axis=-1)``."""
    y_true, y_pred = _pair(y_true, y_pred)
    first = torch.log(torch.clamp(y_pred, min=EPSILON) + 1.0)
    second = torch.log(torch.clamp(y_true, min=EPSILON) + 1.0)
    return torch.mean(torch.square(first - second), dim=-1)


def huber(y_true: Any, y_pred: Any, delta: float = 1.0) -> torch.Tensor:
    """Quadratic for ``|error| <= delta``, linear beyond; mean over the last axis."""
    y_true, y_pred = _pair(y_true, y_pred)
    error = torch.abs(y_pred - y_true)
    quadratic = 0.5 * torch.square(error)
    linear = delta * error - 0.5 * delta * delta
    return torch.mean(torch.where(error <= delta, quadratic, linear), dim=-1)


def log_cosh(y_true: Any, y_pred: Any) -> torch.Tensor:
    """``mean(log(cosh(y_pred - y_true)), axis=-1)`` computed stably."""
    y_true, y_pred = _pair(y_true, y_pred)
    x = y_pred - y_true
    return torch.mean(
        x + F.softplus(-2.0 * x) - torch.log(torch.tensor(2.0, dtype=x.dtype, device=x.device)),
        dim=-1,
    )


def kl_divergence(y_true: Any, y_pred: Any) -> torch.Tensor:
    """``sum(y_true * log(y_true / y_pred), axis=-1)`` with both clipped to ``[eps, 1]``."""
    y_true, y_pred = _pair(y_true, y_pred)
    y_true = torch.clamp(y_true, EPSILON, 1.0)
    y_pred = torch.clamp(y_pred, EPSILON, 1.0)
    return torch.sum(y_true * torch.log(y_true / y_pred), dim=-1)


def poisson(y_true: Any, y_pred: Any) -> torch.Tensor:
    """``mean(y_pred - y_true * log(y_pred + eps), axis=-1)``."""
    y_true, y_pred = _pair(y_true, y_pred)
    return torch.mean(y_pred - y_true * torch.log(y_pred + EPSILON), dim=-1)


def hinge(y_true: Any, y_pred: Any) -> torch.Tensor:
    """``mean(max(1 - y_true * y_pred, 0), axis=-1)``; 0/1 labels become -1/1."""
    y_true, y_pred = _pair(y_true, y_pred)
    y_true = _signed_labels(y_true)
    return torch.mean(torch.clamp(1.0 - y_true * y_pred, min=0.0), dim=-1)


def squared_hinge(y_true: Any, y_pred: Any) -> torch.Tensor:
    """``mean(square(max(1 - y_true * y_pred, 0)), axis=-1)``; 0/1 labels become -1/1."""
    y_true, y_pred = _pair(y_true, y_pred)
    y_true = _signed_labels(y_true)
    return torch.mean(torch.square(torch.clamp(1.0 - y_true * y_pred, min=0.0)), dim=-1)


def _signed_labels(y_true: torch.Tensor) -> torch.Tensor:
    """0/1 labels as -1/1; other labels unchanged (chosen by an op, so graphs can replay it)."""
    binary = torch.all((y_true == 0) | (y_true == 1))
    return torch.where(binary, 2.0 * y_true - 1.0, y_true)


def cosine_similarity(y_true: Any, y_pred: Any, axis: int = -1) -> torch.Tensor:
    """Negative cosine similarity along ``axis`` (as the Keras loss)."""
    y_true, y_pred = _pair(y_true, y_pred)
    y_true = F.normalize(y_true, dim=axis, eps=1e-12)
    y_pred = F.normalize(y_pred, dim=axis, eps=1e-12)
    return -torch.sum(y_true * y_pred, dim=axis)


def binary_crossentropy(
    y_true: Any,
    y_pred: Any,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    axis: int = -1,
) -> torch.Tensor:
    """Mean over ``axis`` of the element-wise binary crossentropy."""
    y_pred, from_logits = _prefer_logits(y_pred, from_logits)
    y_true, y_pred = _pair(y_true, y_pred)
    if label_smoothing:
        y_true = y_true * (1.0 - label_smoothing) + 0.5 * label_smoothing
    return torch.mean(_binary_crossentropy(y_true, y_pred, from_logits), dim=axis)


def _binary_crossentropy(
    target: torch.Tensor, output: torch.Tensor, from_logits: bool
) -> torch.Tensor:
    if from_logits:
        return (
            torch.clamp(output, min=0)
            - output * target
            + torch.log1p(torch.exp(-torch.abs(output)))
        )
    output = torch.clamp(output, EPSILON, 1.0 - EPSILON)
    bce = target * torch.log(output + EPSILON) + (1.0 - target) * torch.log(1.0 - output + EPSILON)
    return -bce


def categorical_crossentropy(
    y_true: Any,
    y_pred: Any,
    from_logits: bool = False,
    label_smoothing: float = 0.0,
    axis: int = -1,
) -> torch.Tensor:
    """Crossentropy between one-hot ``y_true`` and probabilities (or logits) ``y_pred``."""
    y_pred, from_logits = _prefer_logits(y_pred, from_logits)
    y_true, y_pred = _pair(y_true, y_pred)
    if label_smoothing:
        classes = y_pred.shape[axis]
        y_true = y_true * (1.0 - label_smoothing) + label_smoothing / classes
    if from_logits:
        return -torch.sum(y_true * torch.log_softmax(y_pred, dim=axis), dim=axis)
    output = y_pred / torch.sum(y_pred, dim=axis, keepdim=True)
    output = torch.clamp(output, EPSILON, 1.0 - EPSILON)
    return -torch.sum(y_true * torch.log(output), dim=axis)


def sparse_categorical_crossentropy(
    y_true: Any,
    y_pred: Any,
    from_logits: bool = False,
    axis: int = -1,
    ignore_class: int | None = None,
) -> torch.Tensor:
    """Crossentropy between integer labels ``y_true`` and probabilities (or logits) ``y_pred``."""
    y_pred, from_logits = _prefer_logits(y_pred, from_logits)
    y_pred = as_float(y_pred)
    labels = as_tensor(y_true).to(y_pred.device)
    if axis != -1 and axis != y_pred.dim() - 1:
        y_pred = torch.movedim(y_pred, axis, -1)
    if labels.dim() == y_pred.dim() and labels.shape[-1] == 1:
        labels = labels.squeeze(-1)
    labels = labels.long()
    if from_logits:
        log_probs = torch.log_softmax(y_pred, dim=-1)
    else:
        log_probs = torch.log_softmax(
            torch.log(torch.clamp(y_pred, EPSILON, 1.0 - EPSILON)), dim=-1
        )
    valid = None
    if ignore_class is not None:
        valid = labels != ignore_class
        labels = torch.where(valid, labels, torch.zeros_like(labels))
    loss = -torch.gather(log_probs, -1, labels.unsqueeze(-1)).squeeze(-1)
    if valid is not None:
        loss = torch.where(valid, loss, torch.zeros_like(loss))
    return loss


def valid_mask(
    fn: Any, fn_kwargs: dict[str, Any], y_true: Any, losses: torch.Tensor
) -> torch.Tensor | None:
    """Which entries of ``losses = fn(y_true, y_pred, **fn_kwargs)`` count, or None for all.

    Only :func:`sparse_categorical_crossentropy` with an ``ignore_class`` leaves entries out:
    those whose label is that class (Loss objects and metrics then average over the others).
    """
    ignore_class = fn_kwargs.get("ignore_class")
    if ignore_class is None or fn is not sparse_categorical_crossentropy:
        return None
    labels = as_tensor(y_true).to(losses.device)
    return (labels != ignore_class).reshape(losses.shape)


# Short aliases, as keras.losses offers them.
mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kullback_leibler_divergence = kl_divergence
logcosh = log_cosh
