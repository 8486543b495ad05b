"""Walking the Trackable graph: node ids, object paths and checkpoint keys, as TensorFlow numbers them.

A checkpoint describes objects by the *named edges* leading to them from a root: ``net/l1/kernel``
is the kernel reached through the root's child ``net``, its child ``l1`` and that layer's child
``kernel``. This module computes, for a root object:

* the breadth-first node order (node 0 = root, each object numbered at its first discovery;
  later references to it are aliases),
* the first-found path of every object,
* optimizer slot variables, numbered after every BFS node (optimizer by node order, then slot
  name in ``get_slot_names()`` order, then original variable by node order),
* checkpoint keys (``<path>/.ATTRIBUTES/VARIABLE_VALUE``,
  ``<var path>/.OPTIMIZER_SLOT/<optimizer path>/<slot>/.ATTRIBUTES/VARIABLE_VALUE``).

Optimizer protocol (duck-typed, the same names as TensorFlow's slot-based optimizers)
----------------------------------------------------------------------------------
An object is treated as an optimizer owning slot variables when it has both methods:

* ``get_slot_names() -> list[str]``: slot names in a stable order (Adam: ``["m", "v"]``);
* ``get_slot(var, slot_name) -> Trackable | None``: the slot of ``var``; it may return None or
  raise ``KeyError``/``AttributeError``/``TypeError`` when ``var`` has no such slot (it is asked
  about every object in the graph, not only variables).

For *restoring* slots, see :mod:`savedflow.checkpoint.slots`.
"""

from __future__ import annotations

import collections
from dataclasses import dataclass, field
from typing import Any

from savedflow.errors import FormatError
from savedflow.formats.protos import trackable_object_graph_pb2
from savedflow.tracking.base import Trackable

OBJECT_GRAPH_PROTO_KEY = "_CHECKPOINTABLE_OBJECT_GRAPH"
OBJECT_ATTRIBUTES_NAME = ".ATTRIBUTES"
OPTIMIZER_SLOT_NAME = ".OPTIMIZER_SLOT"
SERIALIZE_TO_TENSORS_NAME = ".TENSORS"
VARIABLE_VALUE_KEY = "VARIABLE_VALUE"


def read_object_graph(reader: Any, save_path: str) -> Any:
    """Parse the ``TrackableObjectGraph`` stored under ``OBJECT_GRAPH_PROTO_KEY`` in ``reader``.

    Raises:
        FormatError: the stored bytes are not a ``TrackableObjectGraph``.
    """
    proto = trackable_object_graph_pb2.TrackableObjectGraph()
    raw = reader.read(OBJECT_GRAPH_PROTO_KEY).reshape(-1)[0]
    try:
        proto.ParseFromString(raw)
    except Exception as e:  # protobuf's DecodeError
        raise FormatError(
            f"Object graph in checkpoint {save_path!r} is not a valid TrackableObjectGraph: {e}"
        ) from None
    return proto


def escape_local_name(name: str) -> str:
    """Escape one edge name for use in a checkpoint key (``.`` -> ``..``, then ``/`` -> ``.S``)."""
    return name.replace(".", "..").replace("/", ".S")


def object_path(names: tuple[str, ...] | list[str]) -> str:
    """Join escaped edge names into an object path (the root's path is ``""``)."""
    return "/".join(escape_local_name(n) for n in names)


def checkpoint_key(path: str, tensor_name: str) -> str:
    """The bundle key of tensor ``tensor_name`` (already escaped) of the object at ``path``."""
    suffix = "" if tensor_name == SERIALIZE_TO_TENSORS_NAME else escape_local_name(tensor_name)
    return f"{path}/{OBJECT_ATTRIBUTES_NAME}/{suffix}"


def slot_variable_path(variable_path: str, optimizer_path: str, slot_name: str) -> str:
    """Object path of a slot variable (its attributes then hang below it as usual)."""
    return f"{variable_path}/{OPTIMIZER_SLOT_NAME}/{optimizer_path}/{escape_local_name(slot_name)}"


def is_slot_optimizer(obj: Any) -> bool:
    """True if ``obj`` follows the slot-variable optimizer protocol (see module docstring)."""
    return callable(getattr(obj, "get_slot_names", None)) and callable(
        getattr(obj, "get_slot", None)
    )


def lookup_slot(optimizer: Any, variable: Trackable, slot_name: str) -> Trackable | None:
    """``optimizer.get_slot(variable, slot_name)``, None when the variable has no such slot."""
    try:
        slot = optimizer.get_slot(variable, slot_name)
    except (KeyError, AttributeError, TypeError, ValueError):
        return None
    return slot if isinstance(slot, Trackable) else None


@dataclass
class SlotReference:
    """One optimizer slot: the optimizer node has a slot ``slot_name`` for ``original`` node."""

    original_node_id: int
    slot_name: str
    slot_node_id: int


@dataclass
class GraphNode:
    """One object of the graph with its first-found path and outgoing named edges."""

    obj: Trackable
    node_id: int
    path: str
    children: list[tuple[str, int]] = field(default_factory=list)
    slot_refs: list[SlotReference] = field(default_factory=list)


class ObjectGraphView:
    """The graph reachable from ``root`` (plus ``attached`` children of the root).

    Args:
      root: the graph root (node 0).
      attached_dependencies: extra ``(name, trackable)`` children of the root, listed after the
        root's own children (``tf.train.Checkpoint(root=...)`` attaches ``root`` and
        ``save_counter`` this way).
    """

    def __init__(
        self, root: Trackable, attached_dependencies: list[tuple[str, Trackable]] | None = None
    ):
        self.root = root
        self.attached_dependencies = (
            attached_dependencies if attached_dependencies is not None else []
        )

    def children(self, obj: Trackable) -> dict[str, Trackable]:
        """Named children of ``obj`` as the checkpoint sees them."""
        kids = dict(obj._trackable_children("checkpoint"))
        if obj is self.root:
            for name, ref in self.attached_dependencies:
                kids.setdefault(name, ref)
        return kids

    def list_objects(self, skip_slot_variables: bool = False) -> list[Trackable]:
        """Every object of the graph, in node-id order (slot variables last)."""
        return [node.obj for node in self.build(skip_slot_variables)]

    def build(self, skip_slot_variables: bool = False) -> list[GraphNode]:
        """Breadth-first node list, then the optimizers' slot variables."""
        nodes = [GraphNode(self.root, 0, "")]
        ids = {id(self.root): 0}
        names: list[tuple[str, ...]] = [()]
        queue = collections.deque([0])
        while queue:
            node = nodes[queue.popleft()]
            for name, child in self.children(node.obj).items():
                child_id = ids.get(id(child))
                if child_id is None:
                    child_id = len(nodes)
                    ids[id(child)] = child_id
                    names.append(names[node.node_id] + (name,))
                    nodes.append(GraphNode(child, child_id, object_path(names[child_id])))
                    queue.append(child_id)
                node.children.append((name, child_id))
        if not skip_slot_variables:
            self._add_slot_variables(nodes, ids)
        return nodes

    @staticmethod
    def _add_slot_variables(nodes: list[GraphNode], ids: dict[int, int]) -> None:
        non_slot = list(nodes)
        for opt_node in non_slot:
            if not is_slot_optimizer(opt_node.obj):
                continue
            for slot_name in opt_node.obj.get_slot_names():
                for original in non_slot:
                    slot = lookup_slot(opt_node.obj, original.obj, slot_name)
                    if slot is None:
                        continue
                    slot_id = ids.get(id(slot))
                    if slot_id is None:
                        slot_id = len(nodes)
                        ids[id(slot)] = slot_id
                        path = slot_variable_path(original.path, opt_node.path, slot_name)
                        nodes.append(GraphNode(slot, slot_id, path))
                    opt_node.slot_refs.append(SlotReference(original.node_id, slot_name, slot_id))
