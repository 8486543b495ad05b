"""The tf.keras 2.x functional config: ``layers`` with ``inbound_nodes``, ``input_layers``, ``output_layers``.

Node indices in a config count only the calls that belong to the model; for a nested functional
model they start at 1 (tf.keras reserves index 0 for the model's own graph), so configs match
tf.keras's byte for byte and rebuild the same graph.
"""

from __future__ import annotations

import collections
from typing import Any

from savedflow.keras.keras_tensor import KerasTensor
from savedflow.keras.utils import serialization, tree

__all__ = ["get_network_config", "reconstruct_from_config", "node_key"]

_CONSTANT_VALUE = "_CONSTANT_VALUE"


def node_key(name: str, index: int) -> str:
    """The key of call ``index`` of layer ``name`` in a network's set of its own nodes."""
    return f"{name}_ib-{index}"


def _skips_first_node(layer: Any) -> bool:
    from savedflow.keras.layers.input_layer import InputLayer

    if not getattr(layer, "_is_graph_network", False):
        return False
    tracked = layer.__dict__.get("_self_tracked_trackables") or []
    return bool(tracked) and isinstance(tracked[0], InputLayer)


def _conversion_map(network: Any) -> dict[str, int]:
    conversion: dict[str, int] = {}
    for layer in network.layers:
        kept = 1 if _skips_first_node(layer) else 0
        for index in range(len(layer._inbound_nodes)):
            key = node_key(layer.name, index)
            if key in network._network_nodes:
                conversion[key] = kept
                kept += 1
    return conversion


def _tensor_ref(tensor: KerasTensor, conversion: dict[str, int]) -> list[Any]:
    layer, node_index, tensor_index = tensor._keras_history
    return [layer.name, conversion.get(node_key(layer.name, node_index), 0), tensor_index]


def _serialize_node(node: Any, conversion: dict[str, int]) -> Any:
    layer = node.layer
    first = node.call_args[0] if node.call_args else None
    rest = node.call_args[1:]
    names = [n for n in layer._call_parameters() if n not in ("self",)][1:]
    kwargs = dict(zip(names, rest))
    kwargs.update(node.call_kwargs)
    if first is None and kwargs:
        key = next(
            iter(k for k, v in kwargs.items() if isinstance(v, KerasTensor) or tree.is_nested(v)),
            None,
        )
        first = kwargs.pop(key) if key is not None else None

    def plain(value: Any) -> Any:
        if isinstance(value, KerasTensor):
            return _tensor_ref(value, conversion)
        return serialization.json_default(value) if hasattr(value, "numpy") else value

    kwargs = tree.map_structure(plain, kwargs)

    def first_arg(value: Any) -> Any:
        if isinstance(value, KerasTensor):
            return [*_tensor_ref(value, conversion), kwargs]
        return [_CONSTANT_VALUE, -1, plain(value), kwargs]

    data = _map_leaves(first_arg, first)
    return data if tree.is_nested(first) or _preserves_structure(layer) else [data]


def _preserves_structure(layer: Any) -> bool:
    """Op layers (TFOpLambda) keep their first argument's structure in ``inbound_nodes``."""
    return getattr(layer, "_preserve_input_structure_in_config", False)


def _map_leaves(fn: Any, structure: Any) -> Any:
    if isinstance(structure, dict):
        return {k: _map_leaves(fn, v) for k, v in structure.items()}
    if isinstance(structure, (list, tuple)):
        return [_map_leaves(fn, v) for v in structure]
    return fn(structure)


def _coordinates(tensors: list[KerasTensor], nested: Any, conversion: dict[str, int]) -> Any:
    refs = [_tensor_ref(t, conversion) for t in tensors]
    if isinstance(nested, dict):
        keys = sorted(nested)
        return {k: r for k, r in zip(keys, refs)}
    return refs


def get_network_config(network: Any) -> dict[str, Any]:
    """The ``get_config()`` dict of a functional model (tf.keras 2.x layout)."""
    conversion = _conversion_map(network)
    layer_configs = []
    for layer in network.layers:
        inbound = []
        for index, node in enumerate(layer._inbound_nodes):
            if node_key(layer.name, index) in network._network_nodes and not node.is_input:
                inbound.append(_serialize_node(node, conversion))
        entry = serialization.serialize_keras_object(layer)
        entry["name"] = layer.name
        entry["inbound_nodes"] = inbound
        layer_configs.append(entry)
    return {
        "name": network.name,
        "trainable": network.trainable,
        "layers": layer_configs,
        "input_layers": _coordinates(
            network.inputs, network.__dict__["_keras_nested_inputs"], conversion
        ),
        "output_layers": _coordinates(
            network.outputs, network.__dict__["_keras_nested_outputs"], conversion
        ),
    }


class _NotReady(Exception):
    """An inbound node of a node being rebuilt has not been rebuilt yet."""


def _is_ref(value: Any) -> bool:
    return (
        isinstance(value, (list, tuple))
        and len(value) in (3, 4)
        and isinstance(value[0], str)
        and isinstance(value[1], int)
    )


class _Rebuilder:
    def __init__(self) -> None:
        self.layers: dict[str, Any] = {}
        self.node_index_map: dict[tuple[str, int], int] = {}
        self.node_count: dict[str, int] = {}

    def node_index(self, layer: Any, config_index: int) -> int | None:
        from savedflow.keras.layers.input_layer import InputLayer

        if isinstance(layer, InputLayer):
            return 0
        return self.node_index_map.get((layer.name, config_index))

    def tensor(self, ref: list[Any]) -> KerasTensor:
        layer = self.layers[ref[0]]
        index = self.node_index(layer, ref[1])
        if index is None or index >= len(layer._inbound_nodes):
            raise _NotReady(ref[0])
        return layer._inbound_nodes[index].flat_outputs[ref[2]]

    def call_node(self, layer: Any, node_data: Any) -> None:
        kwargs: dict[str, Any] = {}

        def convert(ref: Any) -> Any:
            nonlocal kwargs
            if len(ref) == 4 and ref[3]:
                kwargs = {k: self._kwarg(v) for k, v in ref[3].items()}
            if ref[0] == _CONSTANT_VALUE:
                return ref[2]
            return self.tensor(ref)

        inputs = _map_refs(convert, node_data)
        if isinstance(inputs, list) and len(inputs) == 1 and not _preserves_structure(layer):
            inputs = inputs[0]
        outputs = layer(inputs, **kwargs)
        produced = tree.flatten(outputs)[0]._keras_history.node_index
        count = self.node_count[layer.name]
        self.node_index_map[(layer.name, count)] = produced
        self.node_count[layer.name] = count + 1

    def _kwarg(self, value: Any) -> Any:
        if _is_ref(value) and value[0] in self.layers:
            return self.tensor(value)
        return value


def _map_refs(fn: Any, data: Any) -> Any:
    if _is_ref(data):
        return fn(data)
    if isinstance(data, dict):
        return {k: _map_refs(fn, v) for k, v in data.items()}
    return [_map_refs(fn, v) for v in data]


def reconstruct_from_config(
    config: dict[str, Any], custom_objects: dict[str, Any] | None = None
) -> tuple[Any, Any, dict]:
    """``(inputs, outputs, layers by name)`` rebuilt from a functional config.

    Raises:
      ValueError: a layer class is unknown, or the config's nodes cannot all be connected.
    """
    rebuilder = _Rebuilder()
    pending: dict[str, collections.deque] = {}
    for layer_data in config["layers"]:
        layer = serialization.deserialize_keras_object(
            {
                k: v
                for k, v in layer_data.items()
                if k not in ("inbound_nodes", "name", "build_config")
            },
            custom_objects=custom_objects,
            printable_module_name="layer",
        )
        name = layer_data.get("name", layer.name)
        rebuilder.layers[name] = layer
        rebuilder.node_count[name] = 1 if _skips_first_node(layer) else 0
        if layer_data.get("inbound_nodes"):
            pending[name] = collections.deque(layer_data["inbound_nodes"])
    while pending:
        progressed = False
        for layer_data in config["layers"]:
            name = layer_data.get("name")
            queue = pending.get(name)
            while queue:
                try:
                    rebuilder.call_node(rebuilder.layers[name], queue[0])
                except _NotReady:
                    break
                queue.popleft()
                progressed = True
            if name in pending and not pending[name]:
                del pending[name]
        if not progressed and pending:
            raise ValueError(
                f"Cannot rebuild the functional model: unresolved inbound nodes for layers {sorted(pending)}."
            )
    inputs = _map_refs(rebuilder.tensor, config["input_layers"])
    outputs = _map_refs(rebuilder.tensor, config["output_layers"])
    return inputs, outputs, rebuilder.layers
