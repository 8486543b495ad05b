"""Operators and TF ops on KerasTensors as tf_keras' ``TFOpLambda`` / ``SlicingOpLambda`` layers.

tf_keras records an op applied to symbolic tensors (``x + 1``, ``x[:, 0]``, ``tf.nn.relu(x)``)
as a layer naming the TF API symbol it ran (``"__operators__.add"``, ``"math.multiply"``, ...).
savedflow records Python operators on KerasTensors the same way, with the same names, config
layout and inbound-node layout, so a functional model's JSON reads in both libraries:

- ``x + 1`` gives a ``TFOpLambda`` ``"tf.__operators__.add"`` called as ``(x, y=1, name=None)``;
- ``2 * x`` (a reflected operator) calls ``"math.multiply"`` with the constant first, converted
  to ``x``'s dtype as TF converts it (``2.0``), and ``y=x``;
- ``x[:, 0]`` gives a ``SlicingOpLambda`` called as ``(x, slice_spec=...)``, slices written as
  ``{"start", "stop", "step"}`` dicts and ``...`` as ``{"class_name": "__ellipsis__"}``.

Loading is safe: a config's ``"function"`` is looked up in a fixed table of TF symbols mapped
to savedflow's own ops (:data:`TF_SYMBOLS`); any other name raises
:class:`savedflow.errors.UnknownObjectError`. Nothing is imported or evaluated from a config.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from savedflow.errors import UnknownObjectError
from savedflow.keras import backend
from savedflow.keras.layers.layer import Layer
from savedflow.keras.utils import layer_utils
from savedflow.ops.tensor_shape import TensorShape

__all__ = ["TFOpLambda", "SlicingOpLambda", "apply_op", "TF_SYMBOLS"]

# The TF API symbols tf_keras records (its canonical names), each mapped to the savedflow
# function with the same parameters: an attribute path under the savedflow package.
TF_SYMBOLS: dict[str, str] = {
    "__operators__.add": "math.add",
    "__operators__.getitem": "",  # indexing with TF's rules (_getitem)
    "compat.v1.floor_div": "math.floordiv",
    "compat.v1.gather": "gather",
    "compat.v1.shape": "shape",
    "compat.v1.squeeze": "squeeze",
    "compat.v1.transpose": "transpose",
    "linalg.matmul": "matmul",
    **{
        f"math.{name}": f"math.{name}"
        for name in (
            "abs", "add", "add_n", "argmax", "argmin", "ceil", "cos", "cumsum", "equal", "erf",
            "exp", "floor", "floormod", "greater", "greater_equal", "l2_normalize",
            "less", "less_equal", "log", "log1p", "logical_and", "logical_not", "logical_or",
            "maximum", "minimum", "multiply", "negative", "not_equal", "pow", "reciprocal",
            "reduce_all", "reduce_any", "reduce_logsumexp", "reduce_max", "reduce_mean",
            "reduce_min", "reduce_prod", "reduce_std", "reduce_sum", "reduce_variance", "round",
            "rsqrt", "sigmoid", "sign", "sin", "softplus", "sqrt", "square",
            "squared_difference", "subtract", "tanh", "truediv",
        )
    },
    **{
        f"nn.{name}": f"nn.{name}"
        for name in (
            "elu", "gelu", "leaky_relu", "log_softmax", "relu", "relu6", "selu", "silu", "softmax",
        )
    },
    **{
        name: name
        for name in (
            "cast", "clip_by_value", "concat", "expand_dims", "identity", "one_hot", "ones_like",
            "reshape", "split", "stack", "tile", "where", "zeros_like",
        )
    },
}  # fmt: skip

# Python operator on a KerasTensor -> (TF symbol, keyword of the other operand, reflected).
_OPERATORS: dict[str, tuple[str, str | None, bool]] = {
    "add": ("__operators__.add", "y", False),
    "radd": ("__operators__.add", "y", True),
    "sub": ("math.subtract", "y", False),
    "rsub": ("math.subtract", "y", True),
    "mul": ("math.multiply", "y", False),
    "rmul": ("math.multiply", "y", True),
    "truediv": ("math.truediv", "y", False),
    "rtruediv": ("math.truediv", "y", True),
    "pow": ("math.pow", "y", False),
    "rpow": ("math.pow", "y", True),
    "matmul": ("linalg.matmul", "b", False),
    "rmatmul": ("linalg.matmul", "b", True),
    "neg": ("math.negative", None, False),
    "abs": ("math.abs", None, False),
}

_ELLIPSIS = {"class_name": "__ellipsis__"}


def _resolve(symbol: Any, layer_class: str) -> Any:
    """The savedflow function implementing TF ``symbol`` (a key of :data:`TF_SYMBOLS`)."""
    if not isinstance(symbol, str) or symbol not in TF_SYMBOLS:
        raise UnknownObjectError(
            f"{layer_class} names the TF op {symbol!r}, which savedflow does not implement as an "
            "op layer. Known ops: the Python operators and "
            f"{', '.join(sorted(s for s in TF_SYMBOLS if not s.startswith('__')))}. Rebuild "
            "the model with a known op or a custom layer passed in `custom_objects`."
        )
    if not TF_SYMBOLS[symbol]:
        return _getitem
    import savedflow

    target: Any = savedflow
    for part in TF_SYMBOLS[symbol].split("."):
        target = getattr(target, part)
    return target


class TFOpLambda(Layer):
    """A layer running one TF op (``function``: its TF API name, e.g. ``"math.add"``).

    Called as ``layer(first, **kwargs)`` with the op's own keyword names; ``name`` is dropped
    before the op runs, as tf_keras drops it.
    """

    # the first argument's structure is kept in inbound_nodes (tf_keras does the same)
    _preserve_input_structure_in_config = True

    def __init__(self, function: str, **kwargs: Any) -> None:
        op = _resolve(function, type(self).__name__)
        kwargs.setdefault("name", backend.unique_object_name(f"tf.{function}", zero_based=True))
        kwargs["autocast"] = False
        super().__init__(**kwargs)
        self.function = function
        self._op = op

    def _name_scope(self) -> str:
        return self.name.replace("tf.", "", 1).replace("__operators__.", "")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if args and not self.built and not layer_utils.any_symbolic(args[0]):
            # a constant first argument: tf_keras records the shape of its tensor
            shape = getattr(args[0], "shape", None)
            self.__dict__["_build_input_shape"] = TensorShape(
                tuple(shape) if shape is not None else np.shape(args[0])
            )
        return super().__call__(*args, **kwargs)

    def build(self, input_shape: Any) -> None:
        if input_shape is not None:  # None: a constant, whose shape __call__ recorded
            self.__dict__["_build_input_shape"] = input_shape
        self.built = True

    def call(self, *args: Any, **kwargs: Any) -> Any:
        kwargs.pop("name", None)
        return self._op(*args, **kwargs)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "function": self.function}


class SlicingOpLambda(TFOpLambda):
    """``tensor[slice_spec]`` on KerasTensors (``"__operators__.getitem"``)."""


def _getitem(tensor: Any, slice_spec: Any) -> Any:
    """``__operators__.getitem``: ``tensor[slice_spec]``, the spec as recorded or read."""
    return _strided_getitem(tensor, _decode_spec(slice_spec))


def _strided_getitem(tensor: Any, key: Any) -> Any:
    """``tensor[key]`` with TF's slicing rules, negative steps included (torch has none)."""
    items = key if isinstance(key, tuple) else (key,)
    if not any(isinstance(i, slice) and i.step is not None and i.step < 0 for i in items):
        return tensor[key]
    consumed = sum(1 for item in items if item is not None and item is not Ellipsis)
    rank, dim, plain = tensor.dim(), 0, []
    for item in items:
        if item is Ellipsis:
            dim += rank - consumed
        elif item is not None:
            if isinstance(item, slice) and item.step is not None and item.step < 0:
                index = torch.arange(*item.indices(tensor.shape[dim]), device=tensor.device)
                tensor, item = tensor.index_select(dim, index), slice(None)
            dim += 1
        plain.append(item)
    return tensor[tuple(plain)]


def _encode_spec(spec: Any) -> Any:
    """A key as tf_keras records it: slices as dicts, ``...`` as its marker, tuples kept."""
    if isinstance(spec, tuple):
        return tuple(_encode_spec(item) for item in spec)
    if isinstance(spec, slice):
        return {"start": spec.start, "stop": spec.stop, "step": spec.step}
    if spec is Ellipsis:
        return dict(_ELLIPSIS)
    return spec


def _decode_spec(spec: Any) -> Any:
    """The indexing key a recorded (or JSON-read) slice_spec stands for."""
    if isinstance(spec, (list, tuple)):
        return tuple(_decode_spec(item) for item in spec)
    if isinstance(spec, dict):
        if spec == _ELLIPSIS:
            return Ellipsis
        if set(spec) == {"start", "stop", "step"}:
            return slice(spec["start"], spec["stop"], spec["step"])
        raise ValueError(f"Unknown entry in a slice_spec: {spec!r}")
    return spec


def _constant_like(value: Any, tensor: Any) -> Any:
    """A Python number converted to ``tensor``'s dtype, as TF converts a reflected operand."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return value
    dtype = tensor.dtype
    if dtype.is_floating:
        return float(value)
    if dtype.is_integer and float(value).is_integer():
        return int(value)
    return value


def apply_op(op_name: str, tensor: Any, *others: Any) -> Any:
    """``tensor <op> others`` on KerasTensors, recorded as tf_keras records it."""
    if op_name == "getitem":
        key = others[0]
        return SlicingOpLambda("__operators__.getitem")(tensor, slice_spec=_encode_spec(key))
    symbol, keyword, reflected = _OPERATORS[op_name]
    layer = TFOpLambda(symbol)
    if keyword is None:
        return layer(tensor, name=None)
    other = others[0]
    if reflected:
        return layer(_constant_like(other, tensor), **{keyword: tensor, "name": None})
    return layer(tensor, **{keyword: other, "name": None})
