"""Helpers behind ``Layer.__call__``: input conversion, weight creation and symbolic calls.

Symbolic calls (the functional API) infer output shapes by running the layer on placeholder
zeros: each unknown dimension is filled with 2, then with 3; dimensions that change with the
fill are unknown in the output. The placeholder runs happen without gradients, with
``add_loss``/``add_metric`` switched off, and restore the layer's weights if the call trained.
"""

from __future__ import annotations

import inspect
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch

from savedflow import dtypes
from savedflow.keras.keras_tensor import KerasTensor
from savedflow.keras.utils import call_context as _ctx
from savedflow.keras.utils import tree
from savedflow.ops.name_scope import name_scope
from savedflow.ops.tensor_conversion import tf_dtype, to_tensor
from savedflow.ops.tensor_shape import TensorShape
from savedflow.variables import Variable, VariableSynchronization

_BASE_INIT_ARGS = frozenset({"self", "trainable", "name", "dtype", "dynamic"})
_FILLS = (2, 3)


# --- inputs -----------------------------------------------------------------------------------


def _is_python_numbers(value: Any) -> bool:
    if isinstance(value, (bool, int, float, complex, np.generic)):
        return True
    if isinstance(value, (list, tuple)) and value:
        return all(_is_python_numbers(v) for v in value)
    return False


def as_tensor(value: Any) -> torch.Tensor:
    """``value`` as a torch tensor (Variables are read, numpy and Python values converted)."""
    if isinstance(value, torch.Tensor):
        return value
    return to_tensor(value)


def convert_inputs(layer: Any, inputs: Any) -> Any:
    """Convert numpy/Python/Variable inputs to tensors and cast floats to the compute dtype."""
    device: list[Any] = []  # looked up once, only if something needs converting

    def to_device_tensor(x: Any) -> torch.Tensor:
        if isinstance(x, Variable):
            return to_tensor(x)
        if not device:
            device.append(_weights_device(layer))
        return to_tensor(x, device=device[0])

    if _is_python_numbers(inputs) or isinstance(inputs, np.ndarray):
        inputs = to_device_tensor(inputs)
    target = dtypes.as_dtype(layer.compute_dtype)
    autocast = layer.__dict__.get("_autocast", True) and target.is_floating

    def convert(x: Any) -> Any:
        if isinstance(x, (np.ndarray, Variable, np.generic)) or _is_python_numbers(x):
            x = to_device_tensor(x)
        if autocast and isinstance(x, torch.Tensor) and x.is_floating_point():
            wanted = target.as_torch_dtype
            if x.dtype != wanted:
                x = x.to(wanted)
        return x

    return tree.map_structure(convert, inputs)


def shapes_of(inputs: Any) -> Any:
    """The TensorShape of each input (same structure); a single input gives one TensorShape."""
    if not tree.is_nested(inputs):
        return _shape(inputs)
    return tree.map_structure(_shape, inputs)


def _shape(x: Any) -> Any:
    shape = getattr(x, "shape", None)
    return None if shape is None else TensorShape(tuple(shape))


def any_symbolic(structure: Any) -> bool:
    """True if any leaf is a KerasTensor."""
    return any(isinstance(x, KerasTensor) for x in tree.flatten(structure))


# --- weights ----------------------------------------------------------------------------------


def make_weight(
    layer: Any,
    name: str | None,
    shape: Any,
    dtype: Any,
    initializer: Any,
    trainable: bool | None,
    constraint: Any,
    synchronization: Any,
    aggregation: Any,
) -> Variable:
    """Create the Variable behind ``Layer.add_weight``."""
    from savedflow.keras import constraints, initializers

    shape = () if shape is None else tuple(int(d) for d in shape)
    dtype = dtypes.as_dtype(dtype if dtype is not None else layer.dtype)
    sync = synchronization if synchronization is not None else VariableSynchronization.AUTO
    if sync == VariableSynchronization.ON_READ:
        if trainable:
            raise ValueError(
                "Synchronization value can be set to VariableSynchronization.ON_READ only for "
                f"non-trainable variables. Received: trainable={trainable}, name={name!r}"
            )
        trainable = False
    elif trainable is None:
        trainable = True
    if initializer is None:
        if dtype.is_floating:
            initializer = "glorot_uniform"
        elif dtype.is_integer or dtype.is_bool:
            initializer = "zeros"
        else:
            raise ValueError(
                f"An initializer for variable {name} of type {dtype.name} is required for "
                f"layer {layer.name}. Received: initializer=None"
            )
    init = initializers.get(initializer)
    value = init(shape, dtype=dtype)
    extra: dict[str, Any] = {"synchronization": sync}
    if aggregation is not None:
        extra["aggregation"] = aggregation
    return Variable(
        initial_value=value,
        name=name,
        trainable=trainable,
        dtype=dtype,
        constraint=constraints.get(constraint),
        **extra,
    )


# --- losses and metrics -----------------------------------------------------------------------


def add_symbolic_loss(layer: Any, loss: KerasTensor) -> None:
    """Remember a KerasTensor loss; a functional model evaluates it on every call."""
    layer.__dict__.setdefault("_keras_symbolic_losses", []).append(loss)


def add_metric_value(layer: Any, value: Any, name: str | None, aggregation: str | None) -> None:
    """Update (creating on first use) the mean metric ``name`` of ``layer`` with ``value``."""
    if name is None:
        name = getattr(value, "name", None)
    if name is None:
        raise ValueError(
            "Please provide a name for your metric like `self.add_metric(value, name='metric_1')`."
            " Received: name=None"
        )
    if aggregation not in (None, "mean"):
        raise ValueError(
            f"We currently support only `mean` aggregation. Received: aggregation={aggregation!r}"
        )
    metric = next((m for m in layer._metrics if getattr(m, "name", None) == name), None)
    if metric is None:
        from savedflow.keras.metrics import Mean

        metric = Mean(name=name)
        layer._metrics.append(metric)
    metric.update_state(value)


# --- after call -------------------------------------------------------------------------------


def after_call(layer: Any, inputs: Any, outputs: Any, kwargs: dict[str, Any]) -> None:
    """Activity regularization and mask propagation for one eager call."""
    regularizer = layer.__dict__.get("_activity_regularizer")
    if regularizer is not None:
        for out in tree.flatten(outputs):
            if isinstance(out, torch.Tensor):
                batch = out.shape[0] if out.dim() else 1
                layer.add_loss(regularizer(out) / max(int(batch), 1))
    from savedflow.keras.layers.layer import Layer

    if layer.supports_masking or type(layer).compute_mask is not Layer.compute_mask:
        mask = layer.compute_mask(inputs, kwargs.get("mask"))
        if mask is not None:
            for out, m in zip(tree.flatten(outputs), _broadcast_masks(mask, outputs)):
                if isinstance(out, torch.Tensor):
                    out._keras_mask = m


def _broadcast_masks(mask: Any, outputs: Any) -> list[Any]:
    flat = tree.flatten(outputs)
    masks = tree.flatten(mask) if tree.is_nested(mask) else [mask]
    return masks if len(masks) == len(flat) else [mask] * len(flat)


# --- symbolic calls ---------------------------------------------------------------------------


@contextmanager
def _keep_weights(layer: Any, training: Any) -> Any:
    """Restore the layer's weights after a placeholder run that may have trained (BatchNorm)."""
    saved = None
    if training:
        saved = [(w, w.numpy().copy()) for w in getattr(layer, "weights", [])]
    try:
        yield
    finally:
        for w, value in saved or ():
            w.assign(value)


def _placeholder(x: Any, fill: int, device: Any) -> Any:
    if not isinstance(x, KerasTensor):
        return x
    dims = [fill if d is None else d for d in x.shape]
    return torch.zeros(dims, dtype=x.dtype.as_torch_dtype, device=device)


def _weights_device(layer: Any) -> Any:
    """Where the layer's weights live (placeholders go there too); None: torch's default."""
    for weight in getattr(layer, "weights", ()):
        value = weight.value() if hasattr(weight, "value") else weight
        if isinstance(value, torch.Tensor):
            return value.device
    return None


def _run_placeholders(layer: Any, call: Any, structure: Any, fill: int, training: Any) -> Any:
    device = _weights_device(layer)
    concrete = tree.map_structure(lambda x: _placeholder(x, fill, device), structure)
    with _ctx.symbolic_trace(), torch.no_grad(), _keep_weights(layer, training):
        return call(concrete)


def _merge_traces(first: Any, second: Any, layer: Any) -> Any:
    flat_a, flat_b = tree.flatten(first), tree.flatten(second)
    merged = []
    for a, b in zip(flat_a, flat_b):
        if not isinstance(a, torch.Tensor):
            raise TypeError(
                f"Layer {layer.name} returned a non-tensor output {a!r} when called on symbolic "
                "inputs; functional models need layers that return tensors."
            )
        shape = [da if da == db else None for da, db in zip(a.shape, b.shape)]
        if len(a.shape) != len(b.shape):
            raise ValueError(
                f"Layer {layer.name} returned outputs of varying rank for varying batch sizes."
            )
        merged.append(KerasTensor(shape, dtype=tf_dtype(a)))
    return tree.pack_sequence_as(first, merged)


def trace_output_spec(
    layer: Any, inputs: Any, args: tuple, kwargs: dict, input_key: str | None
) -> Any:
    """Symbolic outputs of ``layer(inputs, *args, **kwargs)`` found by placeholder runs."""
    training = kwargs.get("training")
    if training is None:
        from savedflow.keras import backend

        training = backend._explicit_learning_phase()

    def call(concrete: Any) -> Any:
        c_inputs, c_args, c_kwargs = concrete
        if input_key is not None:
            return layer(*c_args, **{**c_kwargs, input_key: c_inputs})
        return layer(c_inputs, *c_args, **c_kwargs)

    structure = (inputs, tuple(args), dict(kwargs))
    first = _run_placeholders(layer, call, structure, _FILLS[0], training)
    second = _run_placeholders(layer, call, structure, _FILLS[1], training)
    return _merge_traces(first, second, layer)


def symbolic_call(layer: Any, inputs: Any, args: tuple, kwargs: dict, input_key: str | None) -> Any:
    """Record ``layer(inputs, ...)`` on KerasTensors as a Node and return symbolic outputs."""
    from savedflow.keras.layers.input_spec import assert_input_compatibility
    from savedflow.keras.node import Node

    if not layer.built:
        with name_scope(layer._name_scope()):
            layer._maybe_build(shapes_of(inputs))
    assert_input_compatibility(layer.input_spec, inputs, layer.name)
    outputs = trace_output_spec(layer, inputs, args, kwargs, input_key)
    if input_key is not None:
        Node(
            layer, call_args=tuple(args), call_kwargs={**kwargs, input_key: inputs}, outputs=outputs
        )
    else:
        Node(layer, call_args=(inputs, *args), call_kwargs=dict(kwargs), outputs=outputs)
    return outputs


def compute_output_shape_by_tracing(layer: Any, input_shape: Any) -> Any:
    """Output TensorShape(s) of ``layer`` for ``input_shape`` (placeholder runs)."""

    def to_kt(shape: Any) -> KerasTensor:
        return KerasTensor(shape, dtype=layer.compute_dtype)

    if _is_shape(input_shape):
        inputs = to_kt(input_shape)
    else:
        inputs = _map_shapes(to_kt, input_shape)
    outputs = trace_output_spec(layer, inputs, (), {}, None)
    return tree.map_structure(lambda t: TensorShape(t.shape), outputs)


def _is_shape(value: Any) -> bool:
    return isinstance(value, (list, tuple)) and all(
        d is None or isinstance(d, (int, np.integer)) for d in value
    )


def _map_shapes(fn: Any, shapes: Any) -> Any:
    if _is_shape(shapes):
        return fn(shapes)
    if isinstance(shapes, dict):
        return {k: _map_shapes(fn, v) for k, v in shapes.items()}
    return (
        type(shapes)(_map_shapes(fn, s) for s in shapes)
        if isinstance(shapes, (list, tuple))
        else shapes
    )


# --- functional views and configs -------------------------------------------------------------


def _plain_shape(x: Any) -> Any:
    return tuple(x.shape) if isinstance(x, KerasTensor) else x


def node_shapes(layer: Any, which: str) -> Any:
    """The input or output shape(s) of ``layer`` over its functional calls (as tf.keras reports)."""
    nodes = layer._inbound_nodes
    if not nodes:
        raise AttributeError(
            f'The layer "{layer.name}" has never been called and thus has no defined {which} shape.'
        )
    shapes = []
    for node in nodes:
        value = node.input_tensors if which == "input" else node.output_tensors
        shapes.append(tree.map_structure(_plain_shape, value))
    if all(s == shapes[0] for s in shapes):
        return shapes[0]
    raise AttributeError(
        f'The layer "{layer.name}" has multiple inbound nodes, with different {which} shapes. '
        f'Hence the notion of "{which} shape" is ill-defined for the layer.'
    )


def shape_to_list(shape: Any) -> Any:
    """A TensorShape (or structure of them) as JSON-ready lists."""
    if _is_shape(shape):
        return [None if d is None else int(d) for d in shape]
    if isinstance(shape, dict):
        return {k: shape_to_list(v) for k, v in shape.items()}
    if isinstance(shape, (list, tuple)):
        return [shape_to_list(s) for s in shape]
    return shape


def list_to_shape(value: Any) -> Any:
    """Inverse of :func:`shape_to_list`."""
    if _is_shape(value):
        return TensorShape(value)
    if isinstance(value, dict):
        return {k: list_to_shape(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [list_to_shape(v) for v in value]
    return value


def extra_init_args(cls: type) -> list[str]:
    """``__init__`` parameters of ``cls`` beyond the base Layer ones."""
    try:
        params = inspect.signature(cls.__init__).parameters.values()
    except (TypeError, ValueError):
        return []
    return [
        p.name
        for p in params
        if p.name not in _BASE_INIT_ARGS and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]


def init_has_only_base_args(cls: type) -> bool:
    """True if ``cls(**base_config)`` can rebuild the layer (no extra ``__init__`` arguments)."""
    return not extra_init_args(cls)
