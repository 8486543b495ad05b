"""Convert traced torch.fx graphs into a TensorFlow GraphDef for TensorBoard's Graphs dashboard.

Every fx node becomes one NodeDef: placeholders become ``Placeholder`` (attrs ``dtype``,
``shape``), module attributes become ``VarHandleOp`` (parameters) or ``Const``, calls become the
TF op of the same meaning where one is known (``MatMul``, ``AddV2``, ``Relu``, ...; otherwise the
callee's name in CamelCase) with attr ``T``, and the graph output becomes ``Identity`` nodes.
Known output shapes are recorded in ``_output_shapes``. Several functions traced together are
put under one name scope each (the function's name), so the dashboard shows them side by side.
"""

from __future__ import annotations

import operator
import re
from collections.abc import Iterable
from typing import Any

import torch

from savedflow.dtypes import as_dtype
from savedflow.formats.protos import graph_pb2, node_def_pb2

# TF 2.21's GraphDef producer version (what its function graphs carry in `versions.producer`).
GRAPH_DEF_VERSION = 2474

_TF_OPS: dict[str, str] = {
    "matmul": "MatMul", "mm": "MatMul", "bmm": "BatchMatMulV2", "linear": "MatMul",
    "add": "AddV2", "iadd": "AddV2", "sub": "Sub", "mul": "Mul", "truediv": "RealDiv",
    "div": "RealDiv", "floordiv": "FloorDiv", "neg": "Neg", "pow": "Pow", "relu": "Relu",
    "sigmoid": "Sigmoid", "tanh": "Tanh", "softmax": "Softmax", "log_softmax": "LogSoftmax",
    "exp": "Exp", "log": "Log", "sqrt": "Sqrt", "rsqrt": "Rsqrt", "abs": "Abs", "square": "Square",
    "reshape": "Reshape", "view": "Reshape", "transpose": "Transpose", "permute": "Transpose",
    "cat": "ConcatV2", "concat": "ConcatV2", "stack": "Pack", "sum": "Sum", "mean": "Mean",
    "amax": "Max", "max": "Max", "amin": "Min", "min": "Min", "prod": "Prod",
    "maximum": "Maximum", "minimum": "Minimum", "getitem": "StridedSlice", "conv2d": "Conv2D",
    "conv1d": "Conv1D", "max_pool2d": "MaxPool", "avg_pool2d": "AvgPool", "gelu": "Gelu",
    "eq": "Equal", "ne": "NotEqual", "lt": "Less", "le": "LessEqual", "gt": "Greater",
    "ge": "GreaterEqual", "where": "SelectV2", "clone": "Identity", "to": "Cast",
    "squeeze": "Squeeze", "unsqueeze": "ExpandDims", "argmax": "ArgMax", "argmin": "ArgMin",
}  # fmt: skip


def _target_name(target: Any) -> str:
    if isinstance(target, str):
        return target
    packet = getattr(target, "_overloadpacket", None)  # aten ops from make_fx: aten.mm.default
    if packet is not None:
        return getattr(packet, "__name__", None) or str(packet)
    return getattr(target, "__name__", None) or type(target).__name__


def tf_op_name(node: Any) -> str:
    """The TF op type shown for an fx node."""
    if node.op == "placeholder":
        return "Placeholder"
    if node.op == "output":
        return "Identity"
    if node.op == "get_attr":
        return "VarHandleOp"
    name = _target_name(node.target).rstrip("_").split(".")[-1]
    if node.target in (operator.add, operator.sub, operator.mul, operator.truediv):
        name = node.target.__name__
    if name in _TF_OPS:
        return _TF_OPS[name]
    return "".join(part.capitalize() for part in re.split(r"[_\W]+", name) if part) or "Op"


def _node_value(node: Any) -> Any:
    meta = getattr(node, "meta", {}) or {}
    for key in ("val", "example_value"):
        if key in meta:
            return meta[key]
    tensor_meta = meta.get("tensor_meta")
    return tensor_meta


def _dtype_enum(dtype: torch.dtype) -> int | None:
    try:
        return int(as_dtype(dtype).as_datatype_enum)
    except (TypeError, ValueError, KeyError):
        return None


def _shape_attr(shape: Iterable[Any], proto: Any) -> None:
    for dim in shape:
        proto.dim.add(size=int(dim) if isinstance(dim, int) else -1)


def _set_value_attrs(node_def: Any, value: Any, dtype_attr: str) -> None:
    dtype = getattr(value, "dtype", None)
    shape = getattr(value, "shape", None)
    if isinstance(dtype, torch.dtype):
        enum = _dtype_enum(dtype)
        if enum is not None:
            node_def.attr[dtype_attr].type = enum
    if shape is not None:
        _shape_attr(shape, node_def.attr["_output_shapes"].list.shape.add())


def _input_names(args: Any, rename: dict[str, str]) -> list[str]:
    names: list[str] = []

    def visit(value: Any) -> None:
        if hasattr(value, "op") and hasattr(value, "name") and hasattr(value, "users"):
            names.append(rename[value.name])
        elif isinstance(value, (list, tuple)):
            for item in value:
                visit(item)
        elif isinstance(value, dict):
            for item in value.values():
                visit(item)

    visit(args)
    return names


def _literal_consts(node_def: Any, args: Any, graph_def: Any) -> None:
    """Add a ``Const`` input for every Python number among a call's positional arguments."""
    numbers = [a for a in args if isinstance(a, (bool, int, float))]
    for index, number in enumerate(numbers):
        suffix = "y" if index == 0 else f"y_{index}"
        const = graph_def.node.add(name=f"{node_def.name}/{suffix}", op="Const")
        tensor = torch.tensor(number)
        if tensor.dtype == torch.int64:
            tensor = tensor.to(torch.int32)  # TF's default for Python ints
        enum = _dtype_enum(tensor.dtype)
        if enum is not None:
            const.attr["dtype"].type = enum
            value = const.attr["value"].tensor
            value.dtype = enum
            value.tensor_shape.SetInParent()
            value.tensor_content = tensor.numpy().tobytes()
        node_def.input.append(const.name)


def _resolve_attr(root: Any, target: str) -> Any:
    value = root
    for part in target.split("."):
        value = getattr(value, part, None)
    return value


def add_fx_graph(graph_def: Any, fx_graph: Any, scope: str = "", root: Any = None) -> None:
    """Append the nodes of ``fx_graph`` (a torch.fx Graph or GraphModule) to ``graph_def``."""
    if hasattr(fx_graph, "graph") and root is None:
        root, fx_graph = fx_graph, fx_graph.graph
    prefix = f"{scope}/" if scope else ""
    rename: dict[str, str] = {}
    values: dict[str, Any] = {}
    outputs = 0
    for node in fx_graph.nodes:
        node_def = node_def_pb2.NodeDef()
        if node.op == "output":
            sources = _input_names(node.args, rename)
            for source in sources:
                suffix = f"_{outputs}" if outputs else ""
                out = graph_def.node.add(name=f"{prefix}Identity{suffix}", op="Identity")
                out.input.append(source)
                if "T" in values.get(source, {}):
                    out.attr["T"].CopyFrom(values[source]["T"])
                outputs += 1
            continue
        rename[node.name] = f"{prefix}{node.name}"
        node_def.name = rename[node.name]
        node_def.op = tf_op_name(node)
        node_def.input.extend(_input_names((node.args, node.kwargs), rename))
        value = _node_value(node)
        if node.op == "placeholder":
            _set_value_attrs(node_def, value, "dtype")
            if hasattr(value, "shape"):
                _shape_attr(value.shape, node_def.attr["shape"].shape)
        elif node.op == "get_attr":
            attr = _resolve_attr(root, node.target) if root is not None else None
            if isinstance(attr, torch.Tensor) and not isinstance(attr, torch.nn.Parameter):
                node_def.op = "Const"
            _set_value_attrs(node_def, attr if value is None else value, "dtype")
        else:
            _set_value_attrs(node_def, value, "T")
            if node.op == "call_function":
                _literal_consts(node_def, node.args, graph_def)
        values[node_def.name] = node_def.attr
        graph_def.node.add().CopyFrom(node_def)


def graph_def_from_fx(graphs: list[tuple[str, Any]]) -> Any:
    """A GraphDef holding every ``(name, fx_graph)``; one graph is not put under a scope."""
    graph_def = graph_pb2.GraphDef()
    graph_def.versions.producer = GRAPH_DEF_VERSION
    single = len(graphs) == 1
    used: dict[str, int] = {}
    for name, fx_graph in graphs:
        scope = "" if single else _unique(re.sub(r"[^A-Za-z0-9_.\-/]", "_", name) or "fn", used)
        add_fx_graph(graph_def, fx_graph, scope)
    return graph_def


def _unique(name: str, used: dict[str, int]) -> str:
    count = used.get(name, 0)
    used[name] = count + 1
    return name if count == 0 else f"{name}_{count}"


__all__ = ["GRAPH_DEF_VERSION", "add_fx_graph", "graph_def_from_fx", "tf_op_name"]
