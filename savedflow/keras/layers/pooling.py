"""Pooling layers: MaxPooling1D/2D, AveragePooling1D/2D and the global pooling layers.

SAME padding follows TF: the extra padding element goes at the end, max pooling ignores padded
positions, and average pooling divides by the number of real (unpadded) elements in each window.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from savedflow.keras.layers._layer_utils import (
    conv_output_length,
    normalize_data_format,
    normalize_padding,
    normalize_tuple,
    pad_channels_first,
    shape_list,
    spatial_padding,
)
from savedflow.keras.layers.input_spec import InputSpec
from savedflow.keras.layers.layer import Layer


class Pooling(Layer):
    """Shared implementation of N-D max/average pooling."""

    _MODE = "max"

    def __init__(
        self,
        rank: int,
        pool_size: Any,
        strides: Any = None,
        padding: str = "valid",
        data_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.rank = rank
        self.pool_size = normalize_tuple(pool_size, rank, "pool_size")
        if strides is None:
            strides = self.pool_size
        self.strides = normalize_tuple(strides, rank, "strides")
        self.padding = normalize_padding(padding)
        self.data_format = normalize_data_format(data_format)
        self.input_spec = InputSpec(ndim=rank + 2)

    def call(self, inputs: Any) -> torch.Tensor:
        x = inputs
        channels_last = self.data_format == "channels_last"
        if channels_last:
            x = x.movedim(-1, 1)
        ones = (1,) * self.rank
        lengths = [
            conv_output_length(n, k, self.padding, s)
            for n, k, s in zip(x.shape[2:], self.pool_size, self.strides)
        ]
        if any(n <= 0 for n in lengths):
            # a window larger than the input: an empty result, as tf.keras gives
            out = x.new_empty((*x.shape[:2], *(max(n, 0) for n in lengths)))
            return out.movedim(1, -1) if channels_last else out
        pads = spatial_padding(tuple(x.shape[2:]), self.pool_size, self.strides, ones, self.padding)
        if self._MODE == "max":
            out = self._max(x, pads)
        else:
            out = self._average(x, pads)
        return out.movedim(1, -1) if channels_last else out

    def _max(self, x: torch.Tensor, pads: list[tuple[int, int]]) -> torch.Tensor:
        if any(before or after for before, after in pads):
            x = pad_channels_first(x, pads, fill=float("-inf"))
        fn = F.max_pool1d if self.rank == 1 else F.max_pool2d
        return fn(x, self.pool_size, self.strides)

    def _average(self, x: torch.Tensor, pads: list[tuple[int, int]]) -> torch.Tensor:
        fn = F.avg_pool1d if self.rank == 1 else F.avg_pool2d
        if not any(before or after for before, after in pads):
            return fn(x, self.pool_size, self.strides)
        summed = fn(pad_channels_first(x, pads), self.pool_size, self.strides)
        ones = torch.ones((1, 1, *x.shape[2:]), dtype=x.dtype, device=x.device)
        counts = fn(pad_channels_first(ones, pads), self.pool_size, self.strides)
        return summed / counts

    def compute_output_shape(self, input_shape: Any) -> tuple[int | None, ...]:
        dims = shape_list(input_shape)
        spatial = dims[1:-1] if self.data_format == "channels_last" else dims[2:]
        out = [
            conv_output_length(length, k, self.padding, s)
            for length, k, s in zip(spatial, self.pool_size, self.strides, strict=True)
        ]
        if self.data_format == "channels_last":
            return (dims[0], *out, dims[-1])
        return (dims[0], dims[1], *out)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        if self.rank == 1:  # tf.keras 2.x lists strides first for 1D pooling
            config["strides"] = self.strides
        config.update(
            {"pool_size": self.pool_size, "padding": self.padding, "strides": self.strides}
        )
        config["data_format"] = self.data_format
        return config


def _pool_init(rank: int, default_pool: Any):
    def __init__(
        self,
        pool_size: Any = default_pool,
        strides: Any = None,
        padding: str = "valid",
        data_format: str | None = None,
        **kwargs: Any,
    ) -> None:
        Pooling.__init__(self, rank, pool_size, strides, padding, data_format, **kwargs)

    return __init__


class MaxPooling1D(Pooling):
    """Max over windows of ``pool_size`` steps of (batch, steps, channels) inputs."""

    __init__ = _pool_init(1, 2)


class MaxPooling2D(Pooling):
    """Max over ``pool_size`` windows of (batch, h, w, channels) inputs (default 2x2, stride 2).

    Example::

        keras.layers.MaxPooling2D()(torch.ones(1, 4, 4, 3)).shape  # torch.Size([1, 2, 2, 3])
    """

    __init__ = _pool_init(2, (2, 2))


class AveragePooling1D(Pooling):
    """Mean over windows of ``pool_size`` steps of (batch, steps, channels) inputs."""

    _MODE = "avg"
    __init__ = _pool_init(1, 2)


class AveragePooling2D(Pooling):
    """Mean over ``pool_size`` windows of (batch, h, w, channels) inputs (padding excluded)."""

    _MODE = "avg"
    __init__ = _pool_init(2, (2, 2))


class GlobalPooling(Layer):
    """Shared implementation of global max/average pooling over all spatial axes."""

    _RANK = 2
    _MODE = "avg"

    def __init__(self, data_format: str | None = None, keepdims: bool = False, **kwargs: Any):
        super().__init__(**kwargs)
        self.data_format = normalize_data_format(data_format)
        self.keepdims = keepdims
        self.input_spec = InputSpec(ndim=self._RANK + 2)

    def _axes(self) -> tuple[int, ...]:
        start = 1 if self.data_format == "channels_last" else 2
        return tuple(range(start, start + self._RANK))

    def call(self, inputs: Any) -> torch.Tensor:
        axes = self._axes()
        if self._MODE == "avg":
            return torch.mean(inputs, dim=axes, keepdim=self.keepdims)
        return torch.amax(inputs, dim=axes, keepdim=self.keepdims)

    def compute_output_shape(self, input_shape: Any) -> tuple[int | None, ...]:
        dims = shape_list(input_shape)
        axes = self._axes()
        if self.keepdims:
            return tuple(1 if i in axes else d for i, d in enumerate(dims))
        return tuple(d for i, d in enumerate(dims) if i not in axes)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"data_format": self.data_format, "keepdims": self.keepdims})
        return config


class GlobalAveragePooling1D(GlobalPooling):
    """Mean over the steps axis: (batch, steps, channels) -> (batch, channels)."""

    _RANK = 1

    def call(self, inputs: Any, mask: Any = None) -> torch.Tensor:
        if mask is None:
            return super().call(inputs)
        axis = self._axes()[0]
        weights = mask.to(inputs.dtype)
        weights = weights.unsqueeze(-1) if self.data_format == "channels_last" else weights
        if self.data_format == "channels_first":
            weights = weights.unsqueeze(1)
        total = torch.sum(inputs * weights, dim=axis, keepdim=self.keepdims)
        return total / torch.sum(weights, dim=axis, keepdim=self.keepdims)


class GlobalAveragePooling2D(GlobalPooling):
    """Mean over height and width: (batch, h, w, channels) -> (batch, channels).

    Example::

        keras.layers.GlobalAveragePooling2D()(torch.ones(2, 4, 4, 3)).shape  # (2, 3)
    """


class GlobalMaxPooling1D(GlobalPooling):
    """Max over the steps axis: (batch, steps, channels) -> (batch, channels)."""

    _RANK = 1
    _MODE = "max"


class GlobalMaxPooling2D(GlobalPooling):
    """Max over height and width: (batch, h, w, channels) -> (batch, channels)."""

    _MODE = "max"


# tf.keras aliases
MaxPool1D, MaxPool2D = MaxPooling1D, MaxPooling2D
AvgPool1D, AvgPool2D = AveragePooling1D, AveragePooling2D
GlobalAvgPool1D, GlobalAvgPool2D = GlobalAveragePooling1D, GlobalAveragePooling2D
GlobalMaxPool1D, GlobalMaxPool2D = GlobalMaxPooling1D, GlobalMaxPooling2D
