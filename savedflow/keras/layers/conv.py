"""Conv1D and Conv2D with Keras's (*kernel_size, in // groups, filters) kernel layout.

Computation uses torch's fused convolutions: channels-last inputs are viewed as channels-first
through a permutation (no copy; torch picks its channels-last kernels), and TF's asymmetric
SAME padding (extra element at the end) is applied explicitly when torch cannot express it.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from savedflow.keras import activations, constraints, initializers, regularizers
from savedflow.keras.layers._layer_utils import (
    add_kernel_and_bias,
    conv_output_length,
    kernel_bias_config,
    normalize_data_format,
    normalize_padding,
    normalize_tuple,
    pad_channels_first,
    shape_list,
    spatial_padding,
    value,
)
from savedflow.keras.layers.input_spec import InputSpec
from savedflow.keras.layers.layer import Layer
from savedflow.keras.utils.call_context import in_symbolic_trace

_CONV_FNS = {1: F.conv1d, 2: F.conv2d, 3: F.conv3d}


class Conv(Layer):
    """Shared implementation of N-D convolutions; subclasses (Conv1D, Conv2D) set ``rank``."""

    rank: int

    def __init__(
        self,
        filters: int,
        kernel_size: Any,
        strides: Any = 1,
        padding: str = "valid",
        data_format: str | None = None,
        dilation_rate: Any = 1,
        groups: int = 1,
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
        rank = self.rank
        if not isinstance(filters, int) or filters <= 0:
            raise ValueError(
                "Invalid value for argument `filters`. Expected a strictly positive value. "
                f"Received filters={filters}."
            )
        self.filters = filters
        self.groups = groups or 1
        self.kernel_size = normalize_tuple(kernel_size, rank, "kernel_size")
        self.strides = normalize_tuple(strides, rank, "strides")
        allowed = ("valid", "same", "causal") if rank == 1 else ("valid", "same")
        self.padding = normalize_padding(padding, allowed)
        self.data_format = normalize_data_format(data_format)
        self.dilation_rate = normalize_tuple(dilation_rate, rank, "dilation_rate")
        self.activation = activations.get(activation)
        self.use_bias = use_bias
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.input_spec = InputSpec(min_ndim=rank + 2)
        self._validate_init()

    def _validate_init(self) -> None:
        if self.filters % self.groups != 0:
            raise ValueError(
                "The number of filters must be evenly divisible by the number of groups. "
                f"Received: groups={self.groups}, filters={self.filters}"
            )
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(
                "`strides > 1` not supported in conjunction with `dilation_rate > 1`. "
                f"Received: strides={self.strides} and dilation_rate={self.dilation_rate}"
            )

    @property
    def _channel_axis(self) -> int:
        return 1 if self.data_format == "channels_first" else -1

    def build(self, input_shape: Any) -> None:
        dims = shape_list(input_shape)
        if len(dims) != self.rank + 2:
            raise ValueError(
                f"Input 0 of layer '{self.name}' is incompatible with the layer: expected "
                f"ndim={self.rank + 2}, found ndim={len(dims)}. Full shape received: {tuple(dims)}"
            )
        channels = dims[self._channel_axis]
        if channels is None:
            raise ValueError(
                "The channel dimension of the inputs should be defined. "
                f"Found None. Full input shape received: {tuple(dims)}"
            )
        if channels % self.groups != 0:
            raise ValueError(
                "The number of input channels must be evenly divisible by the number of groups. "
                f"Received groups={self.groups}, but the input has {channels} channels "
                f"(full input shape is {tuple(dims)})."
            )
        kernel_shape = (*self.kernel_size, channels // self.groups, self.filters)
        add_kernel_and_bias(self, kernel_shape, (self.filters,))
        axis = 1 if self.data_format == "channels_first" else self.rank + 1
        self.input_spec = InputSpec(min_ndim=self.rank + 2, axes={axis: channels})
        self.built = True

    def _torch_weight(self) -> torch.Tensor:
        """(filters, in // groups, *kernel_size) view of the Keras kernel."""
        kernel = value(self.kernel)
        return kernel.permute(self.rank + 1, self.rank, *range(self.rank))

    def call(self, inputs: Any) -> torch.Tensor:
        kernel = value(self.kernel)
        x = inputs if inputs.dtype == kernel.dtype else inputs.to(kernel.dtype)
        channels_last = self.data_format == "channels_last"
        if channels_last:
            x = x.movedim(-1, 1)
        spatial = tuple(x.shape[2:])
        self._check_output_size(tuple(inputs.shape), spatial)
        pads = spatial_padding(
            spatial, self.kernel_size, self.strides, self.dilation_rate, self.padding
        )
        torch_padding: Any = 0
        if all(before == after for before, after in pads):
            torch_padding = tuple(before for before, _ in pads)
        else:
            x = pad_channels_first(x, pads)
        bias = value(self.bias) if self.bias is not None else None
        conv = _CONV_FNS[self.rank]
        out = conv(
            x,
            self._torch_weight(),
            bias,
            stride=self.strides,
            padding=torch_padding,
            dilation=self.dilation_rate,
            groups=self.groups,
        )
        if channels_last:
            out = out.movedim(1, -1)
        if self.activation is not activations.linear:
            out = self.activation(out)
        return out

    def _output_lengths(self, spatial: Any) -> list[int | None]:
        return [
            conv_output_length(length, k, self.padding, s, d)
            for length, k, s, d in zip(
                spatial, self.kernel_size, self.strides, self.dilation_rate, strict=True
            )
        ]

    def _check_output_size(self, input_shape: tuple[Any, ...], spatial: Any) -> None:
        """Refuse inputs too small for the kernel, as tf.keras does (not an empty output)."""
        if any(n is not None and n <= 0 for n in self._output_lengths(spatial)):
            if in_symbolic_trace():  # placeholder values: the batch size is unknown
                input_shape = (None, *input_shape[1:])
            raise ValueError(
                f"One of the dimensions in the output is <= 0 due to downsampling in {self.name}. "
                "Consider increasing the input size. Received input shape "
                f"{list(input_shape)} which would produce output shape with a zero or negative "
                "value in a dimension."
            )

    def compute_output_shape(self, input_shape: Any) -> tuple[int | None, ...]:
        dims = shape_list(input_shape)
        if self.data_format == "channels_last":
            spatial = dims[1:-1]
        else:
            spatial = dims[2:]
        self._check_output_size(tuple(None if d is None else d for d in dims), spatial)
        out = self._output_lengths(spatial)
        if self.data_format == "channels_last":
            return (dims[0], *out, self.filters)
        return (dims[0], self.filters, *out)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {
                "filters": self.filters,
                "kernel_size": self.kernel_size,
                "strides": self.strides,
                "padding": self.padding,
                "data_format": self.data_format,
                "dilation_rate": self.dilation_rate,
                "groups": self.groups,
            }
        )
        config.update(kernel_bias_config(self))
        return config


class Conv1D(Conv):
    """1-D convolution over (batch, steps, channels) inputs; kernel (k, in // groups, filters).

    ``padding`` may also be ``"causal"`` (left padding only, for autoregressive models).

    Example::

        keras.layers.Conv1D(8, 3)(torch.ones(2, 10, 4)).shape  # torch.Size([2, 8, 8])
    """

    rank = 1


class Conv2D(Conv):
    """2-D convolution over (batch, h, w, channels) inputs; kernel (kh, kw, in // groups, filters).

    Example::

        keras.layers.Conv2D(8, 3, padding="same")(torch.ones(2, 5, 5, 3)).shape
        # torch.Size([2, 5, 5, 8])
    """

    rank = 2


Convolution1D = Conv1D
Convolution2D = Conv2D
