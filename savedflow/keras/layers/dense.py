"""Dense: ``activation(inputs @ kernel + bias)`` with a Keras-layout (in, out) kernel."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from savedflow.keras import activations, constraints, initializers, regularizers
from savedflow.keras.layers._layer_utils import (
    add_kernel_and_bias,
    kernel_bias_config,
    shape_list,
    value,
)
from savedflow.keras.layers.input_spec import InputSpec
from savedflow.keras.layers.layer import Layer


class Dense(Layer):
    """Densely connected layer: ``output = activation(dot(input, kernel) + bias)``.

    The kernel has shape ``(input_dim, units)`` and is named ``kernel``; the bias ``(units,)``
    is named ``bias``, so weights line up with tf.keras files. Inputs of rank > 2 are
    contracted on their last axis.

    Example::

        layer = keras.layers.Dense(4, activation="relu")
        y = layer(torch.ones(2, 3))  # shape (2, 4)
    """

    def __init__(
        self,
        units: int,
        activation: Any = None,
        use_bias: bool = True,
        kernel_initializer: Any = "glorot_uniform",
        bias_initializer: Any = "zeros",
        kernel_regularizer: Any = None,
        bias_regularizer: Any = None,
        activity_regularizer: Any = None,
        kernel_constraint: Any = None,
        bias_constraint: Any = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.units = int(units) if not isinstance(units, int) else units
        if self.units <= 0:
            raise ValueError(
                "Received an invalid value for `units`, expected a positive integer. "
                f"Received: units={units}"
            )
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.input_spec = InputSpec(min_ndim=2)

    def build(self, input_shape: Any) -> None:
        dims = shape_list(input_shape)
        last_dim = dims[-1] if dims else None
        if last_dim is None:
            raise ValueError(
                "The last dimension of the inputs to a Dense layer should be defined. "
                f"Found None. Full input shape received: {tuple(dims)}"
            )
        self.input_spec = InputSpec(min_ndim=2, axes={-1: last_dim})
        add_kernel_and_bias(self, (last_dim, self.units), (self.units,))
        self.built = True

    def call(self, inputs: Any) -> torch.Tensor:
        kernel = value(self.kernel)
        x = inputs if isinstance(inputs, torch.Tensor) else value(inputs)
        if x.dtype != kernel.dtype:
            x = x.to(kernel.dtype)
        bias = value(self.bias) if self.bias is not None else None
        outputs = F.linear(x, kernel.t(), bias)
        if self.activation is not activations.linear:
            outputs = self.activation(outputs)
        return outputs

    def compute_output_shape(self, input_shape: Any) -> tuple[int | None, ...]:
        dims = shape_list(input_shape)
        if not dims or dims[-1] is None:
            raise ValueError(
                "The last dimension of the input shape of a Dense layer should be defined. "
                f"Found None. Received: input_shape={input_shape}"
            )
        return (*dims[:-1], self.units)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config["units"] = self.units
        config.update(kernel_bias_config(self))
        return config
