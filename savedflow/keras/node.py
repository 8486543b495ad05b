"""Node: one recorded call of a layer on symbolic KerasTensors (an edge bundle of the model graph).

``layer._inbound_nodes[i]`` is the i-th call of ``layer`` on KerasTensors; its outputs carry
``_keras_history == (layer, i, k)``. A functional model replays nodes in dependency order.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from savedflow.keras.keras_tensor import KerasHistory, KerasTensor
from savedflow.keras.utils import tree

__all__ = ["Node"]


class Node:
    """A layer call on KerasTensors: arguments, keyword arguments and symbolic outputs.

    Args:
      layer: the layer called.
      call_args: positional arguments (KerasTensors or constants, possibly nested).
      call_kwargs: keyword arguments.
      outputs: the (nested) KerasTensors the call produced; their history is set here.
    """

    def __init__(
        self,
        layer: Any,
        call_args: tuple = (),
        call_kwargs: dict[str, Any] | None = None,
        outputs: Any = None,
    ) -> None:
        self.layer = layer
        self.call_args = tuple(call_args)
        self.call_kwargs = dict(call_kwargs or {})
        self.outputs = outputs
        flat_arguments = tree.flatten((self.call_args, self.call_kwargs))
        self.keras_inputs = [x for x in flat_arguments if isinstance(x, KerasTensor)]
        self.is_input = not self.keras_inputs
        node_index = len(layer._inbound_nodes)
        layer._inbound_nodes.append(self)
        for tensor in self.keras_inputs:
            if tensor._keras_history is not None:
                tensor._keras_history.layer._outbound_nodes.append(self)
        for index, tensor in enumerate(tree.flatten(outputs)):
            tensor._keras_history = KerasHistory(layer, node_index, index)

    @property
    def flat_outputs(self) -> list[KerasTensor]:
        return tree.flatten(self.outputs)

    @property
    def input_tensors(self) -> Any:
        """The first positional argument (the layer's ``inputs``), or all symbolic inputs."""
        if self.call_args:
            return self.call_args[0]
        return self.keras_inputs[0] if len(self.keras_inputs) == 1 else self.keras_inputs

    @property
    def output_tensors(self) -> Any:
        return self.outputs

    @property
    def parent_nodes(self) -> list[Node]:
        """Nodes whose outputs this node consumes."""
        parents = []
        for tensor in self.keras_inputs:
            history = tensor._keras_history
            if history is not None:
                node = history.layer._inbound_nodes[history.node_index]
                if not any(node is p for p in parents):
                    parents.append(node)
        return parents

    @property
    def inbound_layers(self) -> Any:
        layers = [t._keras_history.layer for t in self.keras_inputs]
        return layers[0] if len(layers) == 1 else layers

    def iterate_inbound(self) -> Iterator[tuple[Any, int, int, KerasTensor]]:
        """``(layer, node_index, tensor_index, tensor)`` for each symbolic input."""
        for tensor in self.keras_inputs:
            history = tensor._keras_history
            yield history.layer, history.node_index, history.tensor_index, tensor

    def map_arguments(self, values: dict[int, Any]) -> tuple[tuple, dict[str, Any]]:
        """The call's arguments with each KerasTensor replaced by ``values[id(tensor)]``."""

        def substitute(x: Any) -> Any:
            return values[id(x)] if isinstance(x, KerasTensor) else x

        args = tree.map_structure(substitute, self.call_args)
        kwargs = tree.map_structure(substitute, self.call_kwargs)
        return tuple(args), dict(kwargs)
