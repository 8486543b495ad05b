"""Minimal ``tf.nest``: flatten and rebuild nested lists, tuples, namedtuples and dicts.

Dicts are flattened in sorted key order (as ``tf.nest`` does); everything that is not a list,
tuple or mapping (tensors, Variables, numbers, None) is a leaf. ``torch.Size`` and
``TensorShape`` are leaves too.

Example::

    >>> from savedflow.ops import nest
    >>> nest.flatten({"b": 1, "a": [2, 3]})
    [2, 3, 1]
    >>> nest.pack_sequence_as({"b": 0, "a": [0, 0]}, [2, 3, 1])
    {'a': [2, 3], 'b': 1}
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import torch

from savedflow.ops.tensor_shape import TensorShape
from savedflow.tracking.base import Trackable

__all__ = ["flatten", "pack_sequence_as", "map_structure", "is_nested"]


_LEAF_TYPES = frozenset({torch.Tensor, int, float, bool, str, bytes, type(None)})


def is_nested(value: Any) -> bool:
    """True for lists, tuples (not shapes) and mappings."""
    if isinstance(value, Mapping):
        return True
    return isinstance(value, (list, tuple)) and not isinstance(value, (torch.Size, TensorShape))


def _sorted_keys(mapping: Mapping[Any, Any]) -> list[Any]:
    try:
        return sorted(mapping)
    except TypeError:
        return list(mapping)


def flatten(structure: Any) -> list[Any]:
    """The leaves of ``structure`` in TF's order."""
    out: list[Any] = []
    _flatten_into(structure, out)
    return out


def _flatten_into(structure: Any, out: list[Any]) -> None:
    kind = type(structure)
    if kind is list or kind is tuple:
        for item in structure:
            _flatten_into(item, out)
    elif kind in _LEAF_TYPES:
        out.append(structure)
    elif isinstance(structure, Mapping):
        for key in _sorted_keys(structure):
            _flatten_into(structure[key], out)
    elif is_nested(structure):
        for item in structure:
            _flatten_into(item, out)
    else:
        out.append(structure)


def _rebuild(template: Any, items: list[Any]) -> Any:
    if isinstance(template, Mapping):
        keys = _sorted_keys(template)
        values = dict(zip(keys, items))
        ordered = {key: values[key] for key in template}
        if isinstance(template, Trackable) or type(template) is dict:
            return ordered
        try:
            return type(template)(ordered)
        except TypeError:
            return ordered
    if hasattr(template, "_fields") and isinstance(template, tuple):
        return type(template)(*items)
    if isinstance(template, tuple):
        return tuple(items)
    return list(items)


def _pack(template: Any, leaves: list[Any], index: int) -> tuple[Any, int]:
    if not is_nested(template):
        return leaves[index], index + 1
    children = (
        [template[k] for k in _sorted_keys(template)]
        if isinstance(template, Mapping)
        else list(template)
    )
    packed = []
    for child in children:
        value, index = _pack(child, leaves, index)
        packed.append(value)
    return _rebuild(template, packed), index


def pack_sequence_as(structure: Any, flat_sequence: list[Any]) -> Any:
    """Rebuild ``structure`` with the leaves replaced by ``flat_sequence`` (same order as flatten).

    Raises:
      ValueError: the number of leaves differs.
    """
    flat = list(flat_sequence)
    try:
        value, used = _pack(structure, flat, 0)
    except IndexError:
        used = -1
    if used != len(flat):  # counted only on a mismatch: packing is on every function call
        raise ValueError(
            f"Structure had {len(flatten(structure))} elements, "
            f"but flat_sequence had {len(flat)} elements."
        )
    return value


def map_structure(fn: Callable[..., Any], *structures: Any) -> Any:
    """Apply ``fn`` to corresponding leaves of ``structures``; returns the first's structure."""
    flats = [flatten(s) for s in structures]
    return pack_sequence_as(structures[0], [fn(*leaves) for leaves in zip(*flats)])
