"""keras.Sequential: a plain stack of layers, each with one input and one output.

With an input shape (a ``keras.Input`` first, or ``input_shape=`` on the first layer) the
model is built at once as a functional graph; otherwise it is built on the first call or on
``model.build(input_shape)``.

Example::

    >>> from savedflow import keras
    >>> model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3), keras.layers.Dense(2)])
    >>> [layer.name for layer in model.layers], model.output_shape
    (['dense', 'dense_1'], (None, 2))
"""

from __future__ import annotations

from typing import Any

from savedflow.keras import backend
from savedflow.keras.keras_tensor import KerasTensor
from savedflow.keras.layers.input_layer import InputLayer
from savedflow.keras.layers.layer import Layer
from savedflow.keras.models.functional import Functional
from savedflow.keras.models.model import Model
from savedflow.keras.utils import tree

__all__ = ["Sequential"]


class Sequential(Functional):
    """A linear stack of layers (``get_config`` class name ``Sequential``).

    Args:
      layers: optional list of layers (an InputLayer or ``keras.Input`` tensor may come first).
      name: model name (default ``sequential``, ``sequential_1``, ...).
    """

    def __init__(
        self, layers: list[Any] | None = None, name: str | None = None, **kwargs: Any
    ) -> None:
        Model.__init__(self, name=name, **kwargs)
        d = self.__dict__
        d["_keras_is_graph_network"] = False
        d["_keras_inputs"] = []
        d["_keras_outputs"] = []
        d["_keras_nested_inputs"] = None
        d["_keras_nested_outputs"] = None
        d["_keras_network_nodes"] = set()
        d["_keras_nodes_by_depth"] = {}
        d["_keras_stack"] = []
        self.built = False
        for layer in layers or []:
            self.add(layer)

    def _default_name(self) -> str:
        return backend.unique_object_name("sequential", zero_based=True)

    # --- stack ------------------------------------------------------------------------

    @property
    def layers(self) -> list[Layer]:
        """The stacked layers, without the InputLayer."""
        return [layer for layer in self._keras_stack if not isinstance(layer, InputLayer)]

    def add(self, layer: Any) -> None:
        """Append a layer (or a ``keras.Input`` tensor as the first element).

        Raises:
          TypeError: ``layer`` is not a Layer.
          ValueError: the layer's name is already used, or it does not accept one input.
        """
        if isinstance(layer, KerasTensor):
            layer = layer._keras_history.layer
        if not isinstance(layer, Layer):
            raise TypeError(
                "The added layer must be an instance of class Layer. "
                f"Received: layer={layer} of type {type(layer)}."
            )
        for existing in self._keras_stack:
            if existing.name == layer.name:
                raise ValueError(
                    f'All layers added to a Sequential model should have unique names. Name "{layer.name}" '
                    "is already the name of a layer in this model. Update the `name` argument to pass a "
                    "unique name."
                )
        self._keras_stack.append(layer)
        self._self_tracked_trackables[:] = list(self._keras_stack)
        if isinstance(layer, InputLayer) or self._keras_inputs:
            self._rebuild_graph()
        elif len(self._keras_stack) == 1:
            shape, dtype = _input_shape_and_dtype(layer)
            if shape is not None:
                origin = InputLayer(
                    batch_input_shape=shape, dtype=dtype, name=f"{layer.name}_input"
                )
                self._keras_stack.insert(0, origin)
                self._self_tracked_trackables[:] = list(self._keras_stack)
                self._rebuild_graph()

    def pop(self) -> Layer:
        """Remove and return the last layer.

        Raises:
          TypeError: the model has no layers.
        """
        if not self.layers:
            raise TypeError("There are no layers in the model.")
        layer = self._keras_stack.pop()
        self._self_tracked_trackables[:] = list(self._keras_stack)
        if self._keras_inputs:
            if self.layers:
                self._rebuild_graph()
            else:
                self._reset_graph()
        return layer

    def _reset_graph(self) -> None:
        d = self.__dict__
        d["_keras_is_graph_network"] = False
        d["_keras_inputs"] = []
        d["_keras_outputs"] = []
        self.built = False

    def _rebuild_graph(self) -> None:
        """Connect the stack as a functional graph from its InputLayer."""
        stack = self._keras_stack
        input_layer = stack[0]
        x = input_layer.output
        for layer in stack[1:]:
            x = layer(x)
            if len(tree.flatten(x)) != 1:
                raise ValueError(
                    "All layers in a Sequential model should have a single output tensor. For "
                    "multi-output layers, use the functional API."
                )
        self._init_graph_network(input_layer.output, x)
        self.__dict__["_build_input_shape"] = tuple(input_layer.output.shape)

    # --- building and calling -------------------------------------------------------------

    def build(self, input_shape: Any = None) -> None:
        """Create the graph (and all weights) for inputs of ``input_shape`` (batch dim included).

        Raises:
          ValueError: no input shape is known.
        """
        if self._keras_inputs:
            self.built = True
            return
        if input_shape is None:
            raise ValueError("You must provide an `input_shape` argument.")
        self._build_from_shape(tuple(input_shape), backend.floatx())

    def _build_from_shape(self, shape: tuple, dtype: Any) -> None:
        if not self.layers:
            raise ValueError(f"Sequential model {self.name!r} has no layers to build.")
        shape = (None, *shape[1:])
        first = self.layers[0]
        layer = InputLayer(batch_input_shape=shape, dtype=dtype, name=f"{first.name}_input")
        self._keras_stack.insert(0, layer)
        self._self_tracked_trackables[:] = list(self._keras_stack)
        self._rebuild_graph()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if not self._keras_inputs and self.layers:
            inputs = args[0] if args else kwargs.get("inputs")
            if inputs is not None and not isinstance(inputs, KerasTensor):
                from savedflow.keras.utils import layer_utils

                converted = layer_utils.convert_inputs(self, inputs)
                flat = tree.flatten(converted)
                if len(flat) == 1 and hasattr(flat[0], "shape"):
                    self._build_from_shape(
                        tuple(flat[0].shape), str(flat[0].dtype).replace("torch.", "")
                    )
        return super().__call__(*args, **kwargs)

    def call(self, inputs: Any, training: bool | None = None, mask: Any = None) -> Any:
        if self._keras_inputs:
            return super().call(inputs, training=training, mask=mask)
        x = inputs
        for layer in self.layers:
            x = layer(x)
        return x

    @property
    def input_spec(self) -> Any:
        """The inputs' shape spec once the stack has a known input shape (as tf.keras)."""
        return self.__dict__.get("_functional_input_spec") if self._keras_inputs else None

    @input_spec.setter
    def input_spec(self, value: Any) -> None:
        del value

    # --- configuration -------------------------------------------------------------------

    def get_config(self) -> dict[str, Any]:
        """``{"name": ..., "layers": [...]}`` with the InputLayer first when the model has one."""
        from savedflow.keras.utils import serialization

        return {
            "name": self.name,
            "layers": [serialization.serialize_keras_object(layer) for layer in self._keras_stack],
        }

    @classmethod
    def from_config(
        cls, config: dict[str, Any], custom_objects: dict[str, Any] | None = None
    ) -> Sequential:
        """Rebuild a Sequential model from :meth:`get_config` output (or a bare list of layers)."""
        from savedflow.keras.utils import serialization

        layer_configs = config["layers"] if isinstance(config, dict) else config
        name = config.get("name") if isinstance(config, dict) else None
        model = cls(name=name)
        for layer_config in layer_configs:
            model.add(serialization.deserialize(layer_config, custom_objects=custom_objects))
        build_input_shape = config.get("build_input_shape") if isinstance(config, dict) else None
        if not model._keras_inputs and build_input_shape:
            model.build(build_input_shape)
        return model


def _input_shape_and_dtype(layer: Layer) -> tuple[Any, Any]:
    """The batch input shape and dtype declared by ``layer`` (or by the first layer of a nested model)."""
    while getattr(layer, "_is_graph_network", False) or isinstance(layer, Sequential):
        inner = layer.__dict__.get("_self_tracked_trackables") or []
        if not inner:
            raise ValueError("An empty Model cannot be used as a Layer.")
        layer = inner[0]
    shape = layer.__dict__.get("_batch_input_shape")
    return (tuple(shape), layer.dtype) if shape else (None, None)
