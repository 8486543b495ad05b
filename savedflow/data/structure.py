"""Nested element structures of a Dataset: flattening, packing and conversion to torch tensors.

Elements keep the nesting the user gave, as ``tf.data`` does: tuples, namedtuples and dicts are
structure; a Python list is *data* (it becomes one tensor, like ``tf.convert_to_tensor``).
Dict entries are flattened in sorted-key order (TF's ``nest`` order) but packed back into a dict
with the user's key order.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import torch

from savedflow.data.spec import TensorSpec


def is_namedtuple(value: Any) -> bool:
    """True for instances of ``collections.namedtuple`` / ``typing.NamedTuple`` classes."""
    return isinstance(value, tuple) and hasattr(type(value), "_fields")


def flatten(structure: Any) -> list[Any]:
    """The leaves of ``structure`` in TF's nest order (dict keys sorted)."""
    if isinstance(structure, Mapping):
        out: list[Any] = []
        for key in sorted(structure):
            out.extend(flatten(structure[key]))
        return out
    if isinstance(structure, tuple):
        out = []
        for item in structure:
            out.extend(flatten(item))
        return out
    return [structure]


def pack_sequence_as(structure: Any, flat: list[Any]) -> Any:
    """Rebuild ``structure`` with the leaves taken in order from ``flat``."""
    packed, used = _pack(structure, flat, 0)
    if used != len(flat):
        raise ValueError(f"Structure has {used} leaves but {len(flat)} values were given.")
    return packed


def _pack(structure: Any, flat: list[Any], index: int) -> tuple[Any, int]:
    if isinstance(structure, Mapping):
        values = {}
        for key in sorted(structure):
            values[key], index = _pack(structure[key], flat, index)
        ordered = {key: values[key] for key in structure}
        return (ordered if type(structure) is dict else type(structure)(ordered)), index
    if isinstance(structure, tuple):
        items = []
        for item in structure:
            packed, index = _pack(item, flat, index)
            items.append(packed)
        if is_namedtuple(structure):
            return type(structure)(*items), index
        return tuple(items), index
    if index >= len(flat):
        raise ValueError("Not enough values to pack into the element structure.")
    return flat[index], index + 1


def map_structure(fn: Callable[..., Any], *structures: Any) -> Any:
    """Apply ``fn`` leaf-wise over structures of identical shape."""
    if len(structures) == 1 and isinstance(structures[0], torch.Tensor):
        return fn(structures[0])
    flats = [flatten(s) for s in structures]
    if any(len(f) != len(flats[0]) for f in flats):
        raise ValueError("map_structure: the structures have different numbers of leaves.")
    return pack_sequence_as(structures[0], [fn(*leaves) for leaves in zip(*flats)])


def assert_same_structure(a: Any, b: Any) -> None:
    """Raise TypeError if ``a`` and ``b`` do not nest the same way."""
    if isinstance(a, Mapping) != isinstance(b, Mapping) or isinstance(a, tuple) != isinstance(
        b, tuple
    ):
        raise TypeError(f"The two structures don't have the same nested structure: {a!r} vs {b!r}.")
    if isinstance(a, Mapping):
        if sorted(a) != sorted(b):
            raise TypeError(f"Dict keys differ: {sorted(a)} vs {sorted(b)}.")
        for key in a:
            assert_same_structure(a[key], b[key])
    elif isinstance(a, tuple):
        if len(a) != len(b):
            raise TypeError(f"Tuples of length {len(a)} and {len(b)} differ in structure.")
        for x, y in zip(a, b):
            assert_same_structure(x, y)


# --- conversion -------------------------------------------------------------------------------

_PY_DEFAULTS = {bool: torch.bool, int: torch.int32, float: torch.float32, complex: torch.complex64}


def to_tensor(value: Any) -> torch.Tensor:
    """Convert one leaf like ``tf.convert_to_tensor`` does, keeping numpy dtypes.

    Python floats become float32 and Python ints int32 (int64 if they do not fit), as in TF;
    numpy arrays keep their dtype (float64 stays float64). Objects exposing ``value()`` (a
    savedflow Variable) are read.
    """
    if isinstance(value, torch.Tensor):
        return value
    if hasattr(value, "read_value") and callable(value.read_value):
        return to_tensor(value.read_value())
    if isinstance(value, np.ndarray) or isinstance(value, np.generic):
        array = np.asarray(value)
        if array.dtype.kind in "USO":
            raise TypeError(
                f"savedflow.data holds numeric tensors only; received a {array.dtype} array. "
                "Encode strings as integer ids first."
            )
        return torch.from_numpy(np.ascontiguousarray(array).copy())
    if isinstance(value, (str, bytes)):
        raise TypeError(f"savedflow.data holds numeric tensors only; received {value!r}.")
    return _python_to_tensor(value)


def _python_to_tensor(value: Any) -> torch.Tensor:
    leaves = _python_leaves(value)
    if not leaves:
        return torch.tensor(np.asarray(value, dtype=np.float32))
    kinds = {type(x) for x in leaves}
    if kinds <= {bool}:
        dtype = torch.bool
    elif kinds <= {bool, int}:
        big = any(not -(2**31) <= int(x) < 2**31 for x in leaves)
        dtype = torch.int64 if big else torch.int32
    elif kinds <= {bool, int, float}:
        dtype = torch.float32
    elif kinds <= {bool, int, float, complex}:
        dtype = torch.complex64
    else:
        array = np.asarray(value)
        return to_tensor(array)
    return torch.tensor(value, dtype=dtype)


def _python_leaves(value: Any) -> list[Any]:
    if isinstance(value, (list, tuple)):
        out: list[Any] = []
        for item in value:
            out.extend(_python_leaves(item))
        return out
    if isinstance(value, (bool, int, float, complex)):
        return [value]
    if isinstance(value, torch.Tensor) or isinstance(value, np.ndarray | np.generic):
        return [object()]  # mixed: let numpy/torch decide
    return [value]


def normalize_element(element: Any) -> Any:
    """Convert every leaf of a user element to a torch tensor, keeping the nesting."""
    if isinstance(element, Mapping):
        return _rebuild_mapping(element)
    if isinstance(element, tuple):
        items = [normalize_element(item) for item in element]
        return type(element)(*items) if is_namedtuple(element) else tuple(items)
    if isinstance(element, list) and any(isinstance(x, torch.Tensor) for x in element):
        return torch.stack([to_tensor(x) for x in element])
    return to_tensor(element)


def _rebuild_mapping(mapping: Mapping) -> Any:
    values = {key: normalize_element(value) for key, value in mapping.items()}
    return values if type(mapping) is dict else type(mapping)(values)


def spec_from_value(value: Any) -> Any:
    """The TensorSpec structure describing an element (exact shapes)."""
    return map_structure(lambda t: TensorSpec(tuple(t.shape), t.dtype), value)


def spec_from_block(block: Any) -> Any:
    """The spec of one row of a block of rows (leading dimension dropped)."""
    return map_structure(lambda t: TensorSpec(tuple(t.shape[1:]), t.dtype), block)
