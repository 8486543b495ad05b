"""Helpers of the Layer base class: attribute containers, names, dtypes and call arguments.

Kept apart from :mod:`savedflow.keras.layers.layer` so that file holds the Layer class itself.
"""

from __future__ import annotations

from typing import Any

from savedflow import dtypes
from savedflow.keras import backend
from savedflow.module import Module
from savedflow.variables import Variable


def is_container(value: Any) -> bool:
    return isinstance(value, (list, tuple, dict)) or (
        hasattr(value, "_values")
        and hasattr(value, "_track_trackable")
        and not isinstance(value, Module)
    )


def container_items(value: Any) -> list[Any]:
    if isinstance(value, dict) or (hasattr(value, "values") and hasattr(value, "keys")):
        return list(value.values())
    return list(value)


def flatten_attribute(value: Any) -> list[Any]:
    """Leaves of an attribute value, looking into lists, tuples, dicts and tracking wrappers."""
    if isinstance(value, Module) or isinstance(value, Variable) or not is_container(value):
        return [value]
    out: list[Any] = []
    for item in container_items(value):
        out.extend(flatten_attribute(item))
    return out


def is_metric(value: Any) -> bool:
    cls = type(value)
    return all(hasattr(cls, attr) for attr in ("update_state", "result", "reset_state"))


def dedup(weights: list[Any]) -> list[Any]:
    seen: set[int] = set()
    out = []
    for w in weights:
        if id(w) not in seen:
            seen.add(id(w))
            out.append(w)
    return out


def summarize(weights: list[Any]) -> str:
    text = repr([getattr(w, "shape", w) for w in weights])
    return text if len(text) < 200 else text[:197] + "..."


def check_name(name: Any) -> str:
    if not isinstance(name, str):
        raise TypeError(f"Layer name must be a string. Received: name={name!r}")
    if "/" in name:
        raise ValueError(f"Layer names cannot contain '/'. Received: name={name!r}")
    return name


def dtype_name(dtype: Any) -> str:
    if dtype is None:
        return backend.floatx()
    if isinstance(dtype, dict):  # a serialized policy {"class_name": "Policy", "config": {...}}
        dtype = dtype.get("config", {}).get("name", backend.floatx())
    name = getattr(dtype, "name", dtype)
    if name in ("mixed_float16", "mixed_bfloat16"):
        return "float32"
    return dtypes.as_dtype(name).name


def batch_input_shape_from_kwargs(kwargs: dict[str, Any]) -> tuple | None:
    if kwargs.get("batch_input_shape") is not None:
        return tuple(kwargs["batch_input_shape"])
    shape = kwargs.get("input_shape")
    if shape is None and kwargs.get("input_dim") is not None:
        shape = (kwargs["input_dim"],)
    if shape is None:
        return None
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    return (kwargs.get("batch_size"), *shape)


def split_inputs(
    layer: Any, args: tuple, kwargs: dict[str, Any]
) -> tuple[Any, tuple, dict, str | None]:
    """The first input and the rest; ``input_key`` names it when it was passed by keyword."""
    kwargs = dict(kwargs)
    if args:
        return args[0], tuple(args[1:]), kwargs, None
    params = list(layer._call_parameters())
    key = params[0] if params else "inputs"
    if key in kwargs:
        return kwargs.pop(key), (), kwargs, key
    if "inputs" in kwargs:
        return kwargs.pop("inputs"), (), kwargs, "inputs"
    raise ValueError(f"Layer {layer.name} was called without inputs. Received: kwargs={kwargs!r}")
