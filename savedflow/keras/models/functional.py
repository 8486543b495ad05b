"""Functional models: a DAG of layer calls recorded on KerasTensors, replayed on real tensors.

``keras.Model(inputs, outputs)`` walks back from ``outputs`` through the recorded Nodes to the
Input tensors, orders the nodes by depth, and on each call runs them in that order. Layers may
be shared (called several times) and models may be used as layers.

Example::

    >>> from savedflow import keras
    >>> inputs = keras.Input(shape=(784,), name="digits")
    >>> x = keras.layers.Dense(64, activation="relu", name="dense_1")(inputs)
    >>> model = keras.Model(inputs, keras.layers.Dense(10, name="predictions")(x))
    >>> [layer.name for layer in model.layers]
    ['digits', 'dense_1', 'predictions']
"""

from __future__ import annotations

import collections
from typing import Any

import torch

from savedflow.keras.keras_tensor import KerasTensor
from savedflow.keras.layers.input_layer import InputLayer
from savedflow.keras.models.functional_config import node_key
from savedflow.keras.models.model import Model
from savedflow.keras.utils import tree
from savedflow.tracking.base import Trackable

__all__ = ["Functional", "functional_from_config"]


def _build_map(outputs: list[KerasTensor]) -> tuple[list[Any], dict[Any, int]]:
    """Nodes reachable from ``outputs`` in decreasing depth, and first-seen layer indices."""
    finished: set[int] = set()
    in_progress: set[int] = set()
    ordered: list[Any] = []
    layer_indices: dict[Any, int] = {}

    def visit(tensor: KerasTensor) -> None:
        layer, node_index, _ = tensor._keras_history
        node = layer._inbound_nodes[node_index]
        if id(node) in finished:
            return
        if id(node) in in_progress:
            raise ValueError(f'Tensor {tensor!r} from layer "{layer.name}" is part of a cycle.')
        layer_indices.setdefault(layer, len(layer_indices))
        in_progress.add(id(node))
        for parent in node.keras_inputs:
            visit(parent)
        in_progress.discard(id(node))
        finished.add(id(node))
        ordered.append(node)

    for tensor in outputs:
        visit(tensor)
    return ordered, layer_indices


def _node_depths(ordered: list[Any]) -> tuple[dict[Any, int], dict[Any, int]]:
    node_depth: dict[Any, int] = {}
    layer_depth: dict[Any, int] = {}
    for node in reversed(ordered):
        depth = max(node_depth.setdefault(node, 0), layer_depth.get(node.layer, 0))
        layer_depth[node.layer] = depth
        node_depth[node] = depth
        for parent in node.parent_nodes:
            node_depth[parent] = max(depth + 1, node_depth.get(parent, 0))
    return node_depth, layer_depth


def map_graph_network(
    inputs: list[KerasTensor], outputs: list[KerasTensor]
) -> tuple[set, dict, list]:
    """``(network node keys, nodes by depth, layers in topological order)``.

    Raises:
      ValueError: the graph is disconnected from ``inputs`` or two layers share a name.
    """
    ordered, layer_indices = _build_map(outputs)
    node_depth, layer_depth = _node_depths(ordered)
    for tensor in inputs:
        layer = tensor._keras_history.layer
        if layer not in layer_depth:
            layer_depth[layer] = 0
            layer_indices[layer] = -1
            node_depth[layer._inbound_nodes[0]] = 0
    network_nodes = {node_key(n.layer.name, n.layer._inbound_nodes.index(n)) for n in node_depth}
    nodes_by_depth: dict[int, list] = collections.defaultdict(list)
    for node, depth in node_depth.items():
        nodes_by_depth[depth].append(node)
    layers_by_depth: dict[int, list] = collections.defaultdict(list)
    for layer, depth in layer_depth.items():
        layers_by_depth[depth].append(layer)
    layers: list[Any] = []
    for depth in sorted(layers_by_depth, reverse=True):
        layers.extend(sorted(layers_by_depth[depth], key=lambda lyr: layer_indices[lyr]))
    _check_connected(inputs, nodes_by_depth)
    names = [layer.name for layer in layers]
    for name in names:
        if names.count(name) != 1:
            raise ValueError(
                f'The name "{name}" is used {names.count(name)} times in the model. All layer names should be unique.'
            )
    return network_nodes, dict(nodes_by_depth), layers


def _check_connected(inputs: list[KerasTensor], nodes_by_depth: dict[int, list]) -> None:
    computable = {id(x) for x in inputs}
    done: list[str] = []
    for depth in sorted(nodes_by_depth, reverse=True):
        for node in nodes_by_depth[depth]:
            if node.is_input:
                continue
            for tensor in node.keras_inputs:
                if id(tensor) not in computable:
                    raise ValueError(
                        f'Graph disconnected: cannot obtain value for tensor {tensor!r} at layer "{node.layer.name}". '
                        f"The following previous layers were accessed without issue: {done}"
                    )
            computable.update(id(t) for t in node.flat_outputs)
            done.append(node.layer.name)


class Functional(Model):
    """A model defined by ``keras.Model(inputs, outputs)``; ``get_config`` class name ``Functional``.

    Args:
      inputs: a KerasTensor or a list/dict of them (from ``keras.Input``).
      outputs: KerasTensor(s) computed from ``inputs`` (list/dict allowed).
      name: model name (default ``model``, ``model_1``, ...).
      trainable: whether weights are trainable.
    """

    def __init__(
        self,
        inputs: Any,
        outputs: Any,
        name: str | None = None,
        trainable: bool = True,
        **kwargs: Any,
    ) -> None:
        Model.__init__(self, name=name, trainable=trainable, **kwargs)
        self._init_graph_network(inputs, outputs)

    def _init_graph_network(self, inputs: Any, outputs: Any) -> None:
        if isinstance(inputs, (list, tuple)) and len(tree.flatten(inputs)) == 1:
            inputs = tree.flatten(inputs)[0]
        if isinstance(outputs, (list, tuple)) and len(tree.flatten(outputs)) == 1:
            outputs = tree.flatten(outputs)[0]
        d = self.__dict__
        d["_keras_nested_inputs"] = inputs
        d["_keras_nested_outputs"] = outputs
        flat_inputs, flat_outputs = tree.flatten(inputs), tree.flatten(outputs)
        for tensor in flat_inputs + flat_outputs:
            if not isinstance(tensor, KerasTensor):
                raise ValueError(
                    "Functional model inputs and outputs must be KerasTensors (from keras.Input and "
                    f"layer calls). Received: {tensor!r}"
                )
        for tensor in flat_inputs:
            if not isinstance(tensor._keras_history.layer, InputLayer):
                raise ValueError(
                    f"Model inputs must come from `keras.Input`; {tensor!r} is the output of layer "
                    f"{tensor._keras_history.layer.name!r}."
                )
        network_nodes, nodes_by_depth, layers = map_graph_network(flat_inputs, flat_outputs)
        d["_keras_is_graph_network"] = True
        d["_keras_inputs"] = flat_inputs
        d["_keras_outputs"] = flat_outputs
        d["_keras_network_nodes"] = network_nodes
        d["_keras_nodes_by_depth"] = nodes_by_depth
        self._self_tracked_trackables[:] = layers
        self.built = True
        d["_build_input_shape"] = tree.map_structure(lambda t: t.shape, inputs)
        d["_functional_input_spec"] = _input_specs(inputs, flat_inputs)

    # --- input checks ---------------------------------------------------------------------

    @property
    def input_spec(self) -> Any:
        """A set spec, else one shape spec per ``keras.Input`` (last axis may squeeze), as TF."""
        d = self.__dict__
        if d.get("_input_spec") is not None:
            return d["_input_spec"]
        return d.get("_functional_input_spec")

    @input_spec.setter
    def input_spec(self, value: Any) -> None:
        self.__dict__["_input_spec"] = value

    # --- graph views ----------------------------------------------------------------------

    @property
    def inputs(self) -> list[KerasTensor]:
        return list(self.__dict__["_keras_inputs"])

    @property
    def outputs(self) -> list[KerasTensor]:
        return list(self.__dict__["_keras_outputs"])

    @property
    def input(self) -> Any:
        return self.__dict__["_keras_nested_inputs"]

    @property
    def output(self) -> Any:
        return self.__dict__["_keras_nested_outputs"]

    @property
    def _nodes_by_depth(self) -> dict[int, list]:
        return self.__dict__["_keras_nodes_by_depth"]

    @property
    def _network_nodes(self) -> set[str]:
        return self.__dict__["_keras_network_nodes"]

    @property
    def input_names(self) -> list[str]:
        return [t._keras_history.layer.name for t in self.inputs]

    @property
    def output_names(self) -> list[str]:
        return [t._keras_history.layer.name for t in self.outputs]

    @property
    def input_shape(self) -> Any:
        shapes = [tuple(t.shape) for t in self.inputs]
        return shapes[0] if len(shapes) == 1 else shapes

    @property
    def output_shape(self) -> Any:
        if self._inbound_nodes:
            return super().output_shape
        shapes = [tuple(t.shape) for t in self.outputs]
        return shapes[0] if len(shapes) == 1 else shapes

    # --- running --------------------------------------------------------------------------

    def call(self, inputs: Any, training: bool | None = None, mask: Any = None) -> Any:
        """Run the recorded layer calls on ``inputs`` (``training`` reaches every layer)."""
        del training, mask  # the call context carries the training flag to every layer
        values: dict[int, Any] = {}
        for ref, x in zip(self.inputs, self._flatten_like_inputs(inputs)):
            values[id(ref)] = _conform(x, ref)
        for depth in sorted(self._nodes_by_depth, reverse=True):
            for node in self._nodes_by_depth[depth]:
                if node.is_input or any(id(t) not in values for t in node.keras_inputs):
                    continue
                args, kwargs = node.map_arguments(values)
                outputs = node.layer(*args, **kwargs)
                for ref, out in zip(node.flat_outputs, tree.flatten(outputs)):
                    values[id(ref)] = out
        for loss in self.__dict__.get("_keras_symbolic_losses", ()):
            if id(loss) in values:
                self._eager_losses.append(values[id(loss)])
        flat = [values[id(t)] for t in self.outputs]
        return tree.pack_sequence_as(self.__dict__["_keras_nested_outputs"], flat)

    def _flatten_like_inputs(self, inputs: Any) -> list[Any]:
        nested = self.__dict__["_keras_nested_inputs"]
        refs = self.inputs
        if isinstance(inputs, dict) and not isinstance(nested, dict):
            names = self.input_names
            missing = [n for n in names if n not in inputs]
            if missing:
                raise ValueError(
                    f"Missing data for input(s) {missing}. Expected keys: {names}. Received: {sorted(inputs)}"
                )
            return [inputs[n] for n in names]
        flat = tree.flatten(inputs)
        if len(flat) != len(refs):
            raise ValueError(
                f'Layer "{self.name}" expects {len(refs)} input(s), but it received {len(flat)} input tensors. '
                f"Inputs received: {inputs!r}"
            )
        return flat

    # --- checkpoint structure -------------------------------------------------------------

    def _layer_checkpoint_dependencies(self) -> dict[str, Trackable]:
        deps: dict[str, Trackable] = {}
        weight_index = 0
        for index, layer in enumerate(self.layers):
            if layer.weights:
                deps[f"layer_with_weights-{weight_index}"] = layer
                weight_index += 1
            deps[f"layer-{index}"] = layer
        return deps

    def _trackable_children(
        self, save_type: str = "checkpoint", **kwargs: Any
    ) -> dict[str, Trackable]:
        children = self._layer_checkpoint_dependencies()
        children.update(super()._trackable_children(save_type, **kwargs))
        return children

    def _lookup_dependency(self, name: str, cached_dependencies: Any = None) -> Trackable | None:
        if name.startswith("layer"):
            found = self._layer_checkpoint_dependencies().get(name)
            if found is not None:
                return found
        return super()._lookup_dependency(name, cached_dependencies)

    # --- configuration --------------------------------------------------------------------

    def get_config(self) -> dict[str, Any]:
        """tf.keras 2.x functional config: name, trainable, layers, input_layers, output_layers."""
        from savedflow.keras.models import functional_config

        return functional_config.get_network_config(self)


def functional_from_config(
    cls: type, config: dict[str, Any], custom_objects: dict[str, Any] | None = None
) -> Any:
    """Rebuild a Functional model (or subclass ``cls``) from :meth:`Functional.get_config` output."""
    from savedflow.keras.models import functional_config

    inputs, outputs, _ = functional_config.reconstruct_from_config(config, custom_objects)
    model = cls(inputs=inputs, outputs=outputs, name=config.get("name"))
    if "trainable" in config:
        model.trainable = config["trainable"]
    return model


def _conform(x: Any, ref: KerasTensor) -> Any:
    if not isinstance(x, torch.Tensor):
        return x
    wanted = ref.dtype.as_torch_dtype
    if x.dtype != wanted:
        x = x.to(wanted)
    ref_rank = len(ref.shape)
    if x.dim() == ref_rank - 1 and ref.shape[-1] == 1:
        x = x.unsqueeze(-1)
    return x


def _input_specs(nested_inputs: Any, flat_inputs: list[KerasTensor]) -> list[Any] | None:
    """tf.keras' Functional input_spec: shape specs of the inputs (none for dict inputs).

    Computed once when the graph is built, so calls (also under torch.compile) only read it.
    """
    if isinstance(nested_inputs, dict):
        return None
    from savedflow.keras.layers.input_spec import InputSpec

    return [
        InputSpec(
            shape=tuple(t.shape), allow_last_axis_squeeze=True, name=t._keras_history.layer.name
        )
        for t in flat_inputs
    ]
