"""Loss base classes: ``Loss`` (reduction, sample weights) and ``LossFunctionWrapper``.

A loss may leave some entries out of its mean (``SparseCategoricalCrossentropy(ignore_class=k)``):
its ``_valid_mask`` marks the entries that count, and reductions over the batch then average
over those only, as tf.keras 2.x does.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import torch

from savedflow.keras.losses._tensors import (
    as_float,
    as_tensor,
    broadcast_weights,
    remove_squeezable_dimensions,
)
from savedflow.keras.losses.functions import valid_mask


class Reduction:
    """How a Loss reduces per-sample losses (``keras.losses.Reduction``)."""

    AUTO = "auto"
    NONE = "none"
    SUM = "sum"
    SUM_OVER_BATCH_SIZE = "sum_over_batch_size"

    @classmethod
    def all(cls) -> tuple[str, ...]:
        """Every valid reduction."""
        return (cls.AUTO, cls.NONE, cls.SUM, cls.SUM_OVER_BATCH_SIZE)

    @classmethod
    def validate(cls, key: str) -> None:
        """Raise ValueError for an unknown reduction."""
        if key not in cls.all():
            raise ValueError(f'Invalid Reduction Key: {key}. Expected keys are "{cls.all()}"')


def compute_weighted_loss(
    losses: torch.Tensor, sample_weight: Any = None, reduction: str = Reduction.SUM_OVER_BATCH_SIZE
) -> torch.Tensor:
    """Weight per-sample ``losses`` by ``sample_weight`` and reduce them."""
    if sample_weight is not None:
        losses = losses * broadcast_weights(sample_weight, losses)
    if reduction == Reduction.NONE:
        return losses
    total = torch.sum(losses)
    if reduction == Reduction.SUM:
        return total
    return total / max(losses.numel(), 1) if losses.numel() else total


def apply_valid_mask(
    losses: torch.Tensor, sample_weight: Any, mask: torch.Tensor, reduction: str
) -> torch.Tensor:
    """Sample weights that leave the entries outside ``mask`` out of the reduction.

    For a mean over the batch the valid entries are scaled by ``size / valid``, so the mean
    divides by the number of valid entries (NaN when none is valid, as in tf.keras).
    """
    weights = mask.to(device=losses.device, dtype=losses.dtype)
    if reduction in (Reduction.AUTO, Reduction.SUM_OVER_BATCH_SIZE):
        weights = weights * (weights.numel() / torch.sum(weights))
    if sample_weight is None:
        return weights
    return broadcast_weights(sample_weight, losses) * weights


class Loss:
    """Base class of loss objects: ``loss(y_true, y_pred, sample_weight=None)`` -> scalar.

    Subclasses implement ``call(y_true, y_pred)`` returning per-sample losses.
    """

    def __init__(self, reduction: str = Reduction.AUTO, name: str | None = None):
        Reduction.validate(reduction)
        self.reduction = reduction
        self.name = name

    def __call__(self, y_true: Any, y_pred: Any, sample_weight: Any = None) -> torch.Tensor:
        losses = self.call(y_true, y_pred)
        reduction = (
            Reduction.SUM_OVER_BATCH_SIZE if self.reduction == Reduction.AUTO else self.reduction
        )
        mask = self._valid_mask(y_true, losses)
        if mask is not None:
            sample_weight = apply_valid_mask(losses, sample_weight, mask, reduction)
        return compute_weighted_loss(losses, sample_weight, reduction)

    def call(self, y_true: Any, y_pred: Any) -> torch.Tensor:
        """Per-sample losses (subclasses implement)."""
        raise NotImplementedError("Must be implemented in subclasses.")

    def _valid_mask(self, y_true: Any, losses: torch.Tensor) -> torch.Tensor | None:
        """Which entries of ``losses`` count (None: all of them)."""
        del y_true, losses
        return None

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments."""
        return {"reduction": self.reduction, "name": self.name}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Loss:
        """Rebuild from :meth:`get_config` output."""
        return cls(**config)


class LossFunctionWrapper(Loss):
    """A Loss calling ``fn(y_true, y_pred, **kwargs)`` for the per-sample losses."""

    def __init__(
        self,
        fn: Callable[..., torch.Tensor],
        reduction: str = Reduction.AUTO,
        name: str | None = None,
        **kwargs: Any,
    ):
        super().__init__(reduction=reduction, name=name)
        self.fn = fn
        self._fn_kwargs = kwargs

    def call(self, y_true: Any, y_pred: Any) -> torch.Tensor:
        """Align ranks as tf.keras does, then apply the wrapped function."""
        y_pred = as_float(y_pred)
        y_true = as_tensor(y_true, y_pred if self._casts_labels else None)
        y_true, y_pred = remove_squeezable_dimensions(y_true, y_pred)
        return self.fn(y_true, y_pred, **self._fn_kwargs)

    _casts_labels = True

    def _valid_mask(self, y_true: Any, losses: torch.Tensor) -> torch.Tensor | None:
        return valid_mask(self.fn, self._fn_kwargs, y_true, losses)

    def get_config(self) -> dict[str, Any]:
        """``reduction``, ``name``, the function's keyword arguments, then ``fn``: the wrapped
        function's registered name (tf_keras 2.21's layout)."""
        config = super().get_config()
        config.update(self._fn_kwargs)
        config["fn"] = _function_name(self.fn)
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Loss:
        """Rebuild from :meth:`get_config` output.

        ``fn`` names the function for LossFunctionWrapper itself and for subclasses taking an
        ``fn`` argument (resolved as ``losses.get`` resolves names, so custom functions need
        ``custom_objects`` or registration); other subclasses fix their own function and
        ignore it, as tf_keras does.
        """
        config = dict(config)
        fn_name = config.pop("fn", None)
        if fn_name is not None and takes_fn(cls):
            from savedflow.keras import losses

            config["fn"] = losses.get(fn_name)
        return cls(**config)


def takes_fn(cls: type) -> bool:
    """Whether ``cls`` takes back the ``fn`` of its config: LossFunctionWrapper itself and
    subclasses with an ``fn`` argument (the others fix their own function)."""
    return cls is LossFunctionWrapper or "fn" in inspect.signature(cls).parameters


def _function_name(fn: Any) -> str:
    """The name a config records for ``fn`` (``"Package>name"`` when registered)."""
    from savedflow.keras.utils.object_registration import get_registered_name

    try:
        return get_registered_name(fn)
    except AttributeError:  # a callable object without __name__
        return type(fn).__name__
