"""Nested structures of layer inputs and outputs (lists, tuples, dicts), with ``tf.nest``'s rules.

tf.keras 2.x walks its structures with ``tf.nest``, so this module is
:mod:`savedflow.ops.nest` under the name Keras 3 uses (``keras.utils.tree``): lists, tuples,
namedtuples and mappings are structure; dict leaves come in sorted-key order and are packed back
in the original key order; shapes (``TensorShape``, ``torch.Size``) and everything else are
leaves. Unlike ``savedflow.data``, a Python list is structure here: ``layer([a, b])`` receives
two inputs.
"""

from __future__ import annotations

from savedflow.ops.nest import flatten, is_nested, map_structure, pack_sequence_as

__all__ = ["is_nested", "flatten", "pack_sequence_as", "map_structure"]
