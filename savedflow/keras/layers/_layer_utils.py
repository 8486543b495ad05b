"""Small helpers shared by the built-in layers: shapes, argument normalisation, conv padding."""

from __future__ import annotations

import math
from typing import Any

import torch

from savedflow.keras import activations, constraints, initializers, regularizers
from savedflow.ops.tensor_conversion import to_tensor


def value(variable: Any) -> torch.Tensor:
    """The torch tensor behind a weight (a savedflow.Variable) or a tensor."""
    return to_tensor(variable)


def shape_list(shape: Any) -> list[int | None]:
    """A TensorShape, tuple or list as a list of ints/None."""
    if hasattr(shape, "as_list"):
        return list(shape.as_list())
    return [None if d is None else int(d) for d in shape]


def is_shape(shape: Any) -> bool:
    """True for a single shape (TensorShape/tuple/list of ints/None), False for a nest of them."""
    if hasattr(shape, "as_list"):
        return True
    return isinstance(shape, (list, tuple)) and all(d is None or isinstance(d, int) for d in shape)


def normalize_tuple(val: Any, n: int, name: str, allow_zero: bool = False) -> tuple[int, ...]:
    """Turns an int or an n-sequence of ints into an n-tuple, rejecting non-positive entries."""
    if isinstance(val, int):
        result: tuple[int, ...] = (val,) * n
    else:
        try:
            result = tuple(int(v) for v in val)
        except TypeError as err:
            raise ValueError(
                f"The `{name}` argument must be a tuple of {n} integers. Received: {name}={val}"
            ) from err
        if len(result) != n:
            raise ValueError(
                f"The `{name}` argument must be a tuple of {n} integers. Received: {name}={val}"
            )
    lower = 0 if allow_zero else 1
    if any(v < lower for v in result):
        qualifier = ">= 0" if allow_zero else "> 0"
        raise ValueError(
            f"The `{name}` argument must be a tuple of {n} integers {qualifier}. "
            f"Received: {name}={val}"
        )
    return result


def normalize_padding(padding: Any, allowed: tuple[str, ...] = ("valid", "same")) -> str:
    """Lower-cases and checks a padding mode."""
    result = str(padding).lower()
    if result not in allowed:
        raise ValueError(
            f"The `padding` argument must be one of {allowed}. Received: padding={padding}"
        )
    return result


def normalize_data_format(data_format: Any) -> str:
    """None means the backend's image data format; otherwise channels_last/channels_first."""
    if data_format is None:
        from savedflow.keras import backend

        data_format = backend.image_data_format()
    result = str(data_format).lower()
    if result not in ("channels_last", "channels_first"):
        raise ValueError(
            "The `data_format` argument must be one of 'channels_first', 'channels_last'. "
            f"Received: data_format={data_format}"
        )
    return result


def conv_output_length(
    length: int | None, kernel: int, padding: str, stride: int, dilation: int = 1
) -> int | None:
    """Output length of a conv/pool along one axis (TF's rule)."""
    if length is None:
        return None
    effective = (kernel - 1) * dilation + 1
    if padding in ("same", "causal"):
        out = length
    else:
        out = length - effective + 1
    return max(0, (out + stride - 1) // stride)


def same_padding(length: int, kernel: int, stride: int, dilation: int = 1) -> tuple[int, int]:
    """TF's SAME padding (before, after): the extra element, if any, goes at the end."""
    effective = (kernel - 1) * dilation + 1
    out = math.ceil(length / stride)
    total = max((out - 1) * stride + effective - length, 0)
    return total // 2, total - total // 2


def spatial_padding(
    spatial: tuple[int, ...],
    kernel: tuple[int, ...],
    strides: tuple[int, ...],
    dilation: tuple[int, ...],
    padding: str,
) -> list[tuple[int, int]]:
    """Per-axis (before, after) padding for 'valid', 'same' or 'causal'."""
    pads = []
    for length, k, s, d in zip(spatial, kernel, strides, dilation, strict=True):
        if padding == "same":
            pads.append(same_padding(length, k, s, d))
        elif padding == "causal":
            pads.append(((k - 1) * d, 0))
        else:
            pads.append((0, 0))
    return pads


def pad_channels_first(x: torch.Tensor, pads: list[tuple[int, int]], fill: float = 0.0):
    """Pads the trailing spatial axes of an (N, C, *spatial) tensor; F.pad order is last first."""
    flat: list[int] = []
    for before, after in reversed(pads):
        flat.extend((before, after))
    return torch.nn.functional.pad(x, flat, value=fill)


def resolve_training(training: Any) -> bool:
    """``training`` as a bool: None means the Keras learning phase (False outside fit)."""
    if training is None:
        from savedflow.keras import backend

        training = backend.learning_phase()
    if isinstance(training, torch.Tensor):
        training = bool(training.item())
    return bool(training)


def add_kernel_and_bias(
    layer: Any, kernel_shape: tuple[int, ...], bias_shape: tuple[int, ...]
) -> None:
    """Creates ``layer.kernel`` and ``layer.bias`` (None without ``use_bias``) from the layer's
    ``kernel_*``/``bias_*`` initializer, regularizer and constraint attributes (Dense, Conv)."""
    layer.kernel = layer.add_weight(
        "kernel", shape=kernel_shape, initializer=layer.kernel_initializer,
        regularizer=layer.kernel_regularizer, constraint=layer.kernel_constraint,
        dtype=layer.dtype, trainable=True,
    )  # fmt: skip
    layer.bias = None
    if layer.use_bias:
        layer.bias = layer.add_weight(
            "bias", shape=bias_shape, initializer=layer.bias_initializer,
            regularizer=layer.bias_regularizer, constraint=layer.bias_constraint,
            dtype=layer.dtype, trainable=True,
        )  # fmt: skip


def kernel_bias_config(layer: Any) -> dict[str, Any]:
    """The activation, use_bias and kernel/bias/activity config entries of Dense and Conv, in
    tf.keras's key order."""
    return {
        "activation": activations.serialize(layer.activation),
        "use_bias": layer.use_bias,
        "kernel_initializer": initializers.serialize(layer.kernel_initializer),
        "bias_initializer": initializers.serialize(layer.bias_initializer),
        "kernel_regularizer": regularizers.serialize(layer.kernel_regularizer),
        "bias_regularizer": regularizers.serialize(layer.bias_regularizer),
        "activity_regularizer": regularizers.serialize(layer.activity_regularizer),
        "kernel_constraint": constraints.serialize(layer.kernel_constraint),
        "bias_constraint": constraints.serialize(layer.bias_constraint),
    }
