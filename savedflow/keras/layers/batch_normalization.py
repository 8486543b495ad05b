"""BatchNormalization with tf.keras 2.x semantics.

Training: normalise with the batch's mean and biased variance and update the moving statistics
as ``moving = moving * momentum + batch * (1 - momentum)``. Like TF, 4-D/5-D inputs normalised on
their channel axis take the "fused" path, whose moving variance update uses the unbiased
(Bessel-corrected) batch variance; other inputs use the biased one. Inference (and any call when
``layer.trainable`` is False) uses the moving statistics.
"""

from __future__ import annotations

from typing import Any

import torch

from savedflow.keras import constraints, initializers, regularizers
from savedflow.keras.layers._layer_utils import resolve_training, shape_list, value
from savedflow.keras.layers._normalization_utils import add_gamma_beta, axis_list, defined_axes
from savedflow.keras.layers.input_spec import InputSpec
from savedflow.keras.layers.layer import Layer


class BatchNormalization(Layer):
    """Normalises inputs per feature over the batch; keeps moving statistics for inference.

    Weights, in order: ``gamma`` (if scale), ``beta`` (if center), ``moving_mean`` and
    ``moving_variance`` (non-trainable).

    Example::

        bn = keras.layers.BatchNormalization()
        y = bn(torch.randn(8, 4), training=True)   # batch statistics; moving stats updated
        y = bn(torch.randn(8, 4))                  # inference: moving statistics
    """

    def __init__(
        self,
        axis: Any = -1,
        momentum: float = 0.99,
        epsilon: float = 1e-3,
        center: bool = True,
        scale: bool = True,
        beta_initializer: Any = "zeros",
        gamma_initializer: Any = "ones",
        moving_mean_initializer: Any = "zeros",
        moving_variance_initializer: Any = "ones",
        beta_regularizer: Any = None,
        gamma_regularizer: Any = None,
        beta_constraint: Any = None,
        gamma_constraint: Any = None,
        synchronized: bool = False,
        fused: bool | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.axis = axis if isinstance(axis, int) else axis_list(axis)
        self.momentum = momentum
        self.epsilon = epsilon
        self.center = center
        self.scale = scale
        self.synchronized = synchronized
        self.fused = fused
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)
        self.supports_masking = True

    def build(self, input_shape: Any) -> None:
        dims = shape_list(input_shape)
        ndims = len(dims)
        if ndims == 0:
            raise ValueError(f"Input has undefined rank. Received: input_shape={input_shape}")
        axes = defined_axes(self.axis, dims, self.name)
        self.axis = axes
        self._sf_fused = ndims in (4, 5) and axes in ([1], [ndims - 1])
        if self.fused is False:
            self._sf_fused = False
        self.input_spec = InputSpec(ndim=ndims, axes={a: dims[a] for a in axes})
        if len(axes) == 1:
            param_shape: tuple[int, ...] = (dims[axes[0]],)
        else:
            param_shape = tuple(dims[i] if i in axes else 1 for i in range(ndims))
        self._sf_param_shape = param_shape
        self._make_weights(param_shape)
        self.built = True

    def _make_weights(self, shape: tuple[int, ...]) -> None:
        add_gamma_beta(self, shape)
        self.moving_mean = self.add_weight(
            "moving_mean", shape=shape, initializer=self.moving_mean_initializer,
            trainable=False, dtype=self.dtype,
        )  # fmt: skip
        self.moving_variance = self.add_weight(
            "moving_variance", shape=shape, initializer=self.moving_variance_initializer,
            trainable=False, dtype=self.dtype,
        )  # fmt: skip

    def _broadcast(self, param: torch.Tensor, ndims: int) -> torch.Tensor:
        """Reshapes a parameter so it broadcasts against an input of rank ``ndims``."""
        if len(self.axis) == 1:
            shape = [1] * ndims
            shape[self.axis[0]] = param.shape[0]
            return param.reshape(shape)
        return param

    def call(self, inputs: Any, training: Any = None, mask: Any = None) -> torch.Tensor:
        x = inputs
        training = resolve_training(training) and self.trainable
        ndims = x.dim()
        mean_var = value(self.moving_mean)
        if x.dtype != mean_var.dtype and x.dtype in (torch.float16, torch.bfloat16):
            x = x.to(mean_var.dtype)
        if training:
            mean, variance = self._batch_moments(x, mask)
            self._update_moving(mean, variance, x, mask)
        else:
            mean = self._broadcast(mean_var, ndims)
            variance = self._broadcast(value(self.moving_variance), ndims)
        inv = torch.rsqrt(variance + self.epsilon)
        if self.gamma is not None:
            inv = inv * self._broadcast(value(self.gamma), ndims)
        out = x * inv
        shift = -mean * inv
        if self.beta is not None:
            shift = shift + self._broadcast(value(self.beta), ndims)
        out = out + shift
        return out.to(inputs.dtype) if out.dtype != inputs.dtype else out

    def _reduction_axes(self, ndims: int) -> list[int]:
        return [i for i in range(ndims) if i not in self.axis]

    def _batch_moments(self, x: torch.Tensor, mask: Any) -> tuple[torch.Tensor, torch.Tensor]:
        axes = self._reduction_axes(x.dim())
        if mask is None:
            variance, mean = torch.var_mean(x, dim=axes, keepdim=True, correction=0)
            return mean, variance
        weights = mask.to(x.dtype)
        while weights.dim() < x.dim():
            weights = weights.unsqueeze(-1)
        weights = weights.expand_as(x)
        count = torch.sum(weights, dim=axes, keepdim=True).clamp_min(1e-12)
        mean = torch.sum(x * weights, dim=axes, keepdim=True) / count
        variance = torch.sum(weights * torch.square(x - mean), dim=axes, keepdim=True) / count
        return mean, variance

    def _update_moving(
        self, mean: torch.Tensor, variance: torch.Tensor, x: torch.Tensor, mask: Any
    ) -> None:
        shape = self._sf_param_shape
        batch_var = variance
        if self._sf_fused and mask is None:
            count = x.numel() // max(1, mean.numel())
            if count > 1:
                batch_var = variance * (count / (count - 1.0))
        momentum = float(self.momentum)
        with torch.no_grad():
            for var, batch in ((self.moving_mean, mean), (self.moving_variance, batch_var)):
                current = value(var)
                new = current * momentum + batch.detach().reshape(shape) * (1.0 - momentum)
                var.assign(new.to(current.dtype))

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        axis = list(self.axis) if not isinstance(self.axis, int) else self.axis
        config.update(
            {
                "axis": axis,
                "momentum": self.momentum,
                "epsilon": self.epsilon,
                "center": self.center,
                "scale": self.scale,
                "beta_initializer": initializers.serialize(self.beta_initializer),
                "gamma_initializer": initializers.serialize(self.gamma_initializer),
                "moving_mean_initializer": initializers.serialize(self.moving_mean_initializer),
                "moving_variance_initializer": initializers.serialize(
                    self.moving_variance_initializer
                ),
                "beta_regularizer": regularizers.serialize(self.beta_regularizer),
                "gamma_regularizer": regularizers.serialize(self.gamma_regularizer),
                "beta_constraint": constraints.serialize(self.beta_constraint),
                "gamma_constraint": constraints.serialize(self.gamma_constraint),
            }
        )
        if self.synchronized:
            config["synchronized"] = True
        return config
