"""keras.Model: a Layer with training methods, layer access, summary and weight files.

``keras.Model(inputs, outputs)`` builds a functional model (class ``Functional``); subclassing
``keras.Model`` and defining ``call`` gives a subclassed model whose layers are its attributes.

Example::

    >>> from savedflow import keras
    >>> class Net(keras.Model):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.l1 = keras.layers.Dense(5)
    ...     def call(self, x):
    ...         return self.l1(x)
    >>> net = Net()
    >>> net([[1.0, 2.0]]).shape
    torch.Size([1, 5])
"""

from __future__ import annotations

import json
from typing import Any

from savedflow.keras import backend
from savedflow.keras.layers.layer import Layer
from savedflow.keras.trainers.trainer import Trainer
from savedflow.keras.utils import layer_tracking
from savedflow.keras.utils.naming import to_snake_case

__all__ = ["Model"]


def _is_functional_call(args: tuple, kwargs: dict[str, Any]) -> bool:
    return (
        (len(args) == 2)
        or (len(args) == 1 and "outputs" in kwargs)
        or ("inputs" in kwargs and "outputs" in kwargs)
    )


class Model(Trainer, Layer):
    """A Layer that groups layers, with training (``compile``/``fit``) and saving features.

    Args:
      inputs, outputs: KerasTensors: build a functional model (returns a ``Functional``).
      name: model name (default ``model``/``model_1`` for functional models, the snake_case
        class name for subclasses).
      trainable: whether the weights are trainable.
    """

    def __new__(cls, *args: Any, **kwargs: Any) -> Model:
        if cls is Model and _is_functional_call(args, kwargs):
            from savedflow.keras.models.functional import Functional

            return Functional.__new__(Functional)
        return super().__new__(cls)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if _is_functional_call(args, kwargs):
            from savedflow.keras.models.functional import Functional

            if not isinstance(self, Functional):
                # A subclass calling super().__init__(inputs, outputs) becomes functional, as in
                # tf.keras: its class gains Functional as a base (its own methods still win).
                self.__class__ = _functional_subclass(type(self))
            Functional.__init__(self, *args, **kwargs)
            return
        allowed = {"name", "trainable", "dtype", "dynamic", "autocast"}
        unknown = sorted(set(kwargs) - allowed)
        if unknown:
            raise TypeError(
                f"Keyword argument not understood: {unknown[0]!r}. Received: {kwargs!r}"
            )
        Layer.__init__(self, **kwargs)
        self.__dict__.setdefault("_keras_is_graph_network", False)
        self._init_trainer_state()

    def _default_name(self) -> str:
        cls_name = type(self).__name__
        base = "model" if cls_name in ("Model", "Functional") else to_snake_case(cls_name)
        return backend.unique_object_name(base, zero_based=True)

    # --- structure ------------------------------------------------------------------------

    @property
    def _is_graph_network(self) -> bool:
        return self.__dict__.get("_keras_is_graph_network", False)

    @property
    def layers(self) -> list[Layer]:
        """Direct sublayers: graph order for functional models, attribute order for subclasses."""
        return [
            layer
            for layer in self._flatten_layers(include_self=False, recursive=False)
            if isinstance(layer, Layer)
        ]

    def get_layer(self, name: str | None = None, index: int | None = None) -> Layer:
        """A sublayer by name or by index in :attr:`layers`.

        Raises:
          ValueError: no such layer, or neither/both arguments given.
        """
        if index is not None and name is not None:
            raise ValueError(
                f"Provide only a layer name or a layer index. Received: index={index}, name={name}."
            )
        if index is not None:
            layers = self.layers
            if len(layers) <= index:
                raise ValueError(
                    f"Was asked to retrieve layer at index {index} but model only has {len(layers)} layers."
                )
            return layers[index]
        if name is not None:
            for layer in self.layers:
                if layer.name == name:
                    return layer
            raise ValueError(
                f"No such layer: {name}. Existing layers are: {[layer.name for layer in self.layers]}."
            )
        raise ValueError("Provide either a layer name or layer index at `get_layer`.")

    # --- weights (tf.keras Model order: sublayers first, then the model's own) ----------------

    @property
    def trainable_weights(self) -> list[Any]:
        if not self.trainable:
            return []
        return layer_tracking.dedup(
            self._gather_children("trainable_weights") + self._trainable_weights
        )

    @property
    def non_trainable_weights(self) -> list[Any]:
        if self.trainable:
            weights = self._gather_children("non_trainable_weights") + self._non_trainable_weights
        else:
            weights = (
                self._gather_children("trainable_weights")
                + self._trainable_weights
                + self._gather_children("non_trainable_weights")
                + self._non_trainable_weights
            )
        return layer_tracking.dedup(weights)

    @property
    def weights(self) -> list[Any]:
        """Each sublayer's weights in layer order, then the model's own (tf.keras Model order).

        Unlike a plain Layer, a model does not regroup all trainable weights first: a
        BatchNormalization in the middle keeps its moving statistics next to gamma/beta.
        """
        return layer_tracking.dedup(
            self._gather_children("weights") + self._trainable_weights + self._non_trainable_weights
        )

    # --- building -------------------------------------------------------------------------

    def build(self, input_shape: Any) -> None:
        """Create the weights by calling the model on placeholder inputs of ``input_shape``.

        Raises:
          ValueError: ``input_shape`` is None.
        """
        if self._is_graph_network:
            self.built = True
            return
        if input_shape is None:
            raise ValueError(
                "Input shape must be defined when calling `build()` on a `Model` subclass."
            )
        if type(self).call is not Layer.call and not self.built:
            from savedflow.keras.utils import layer_utils

            self.built = True  # the placeholder run below must not re-enter build
            layer_utils.compute_output_shape_by_tracing(self, input_shape)
        self.__dict__["_build_input_shape"] = input_shape
        self.built = True

    build._is_default = True  # type: ignore[attr-defined]  # __call__ skips it, as tf.keras does

    def _assert_built(self, what: str) -> None:
        if not self.built:
            raise ValueError(
                f"This model has not yet been built. Build the model first by calling `build()` or by "
                f"calling the model on a batch of data. (needed by `{what}`)"
            )

    # --- reporting ------------------------------------------------------------------------

    def summary(
        self,
        line_length: int | None = None,
        positions: list[float] | None = None,
        print_fn: Any = None,
        expand_nested: bool = False,
        show_trainable: bool = False,
        layer_range: Any = None,
    ) -> None:
        """Print the layer table (``Layer (type)  Output Shape  Param #``) as tf.keras 2.x does.

        Raises:
          ValueError: the model is not built yet.
        """
        self._assert_built("summary")
        from savedflow.keras.models import summary

        summary.print_summary(
            self,
            line_length=line_length,
            positions=positions,
            print_fn=print_fn,
            expand_nested=expand_nested,
            show_trainable=show_trainable,
            layer_range=layer_range,
        )

    # --- configuration --------------------------------------------------------------------

    def get_config(self) -> dict[str, Any]:
        """Subclassed models: the base layer config when ``__init__`` takes no extra arguments.

        Raises:
          NotImplementedError: the subclass has ``__init__`` arguments but no ``get_config``.
        """
        from savedflow.keras.utils import layer_utils

        if not layer_utils.init_has_only_base_args(type(self)):
            raise NotImplementedError(
                f"Model {type(self).__name__} has arguments {layer_utils.extra_init_args(type(self))} in "
                "`__init__()` and therefore must override `get_config()`."
            )
        return {"name": self.name, "trainable": self.trainable}

    @classmethod
    def from_config(
        cls, config: dict[str, Any], custom_objects: dict[str, Any] | None = None
    ) -> Model:
        """Rebuild a model; functional configs (with ``layers``) become Functional models."""
        if "layers" in config and "input_layers" in config:
            from savedflow.keras.models.functional import Functional, functional_from_config

            target = cls if issubclass(cls, Functional) else Functional
            return functional_from_config(target, config, custom_objects)
        return cls(**config)

    def to_json(self, **kwargs: Any) -> str:
        """``{"class_name": ..., "config": ..., "keras_version": ..., "backend": ...}`` as JSON."""
        from savedflow.keras.utils import serialization

        data = serialization.serialize_keras_object(self)
        data = {"class_name": data["class_name"], "config": data["config"]}
        data["keras_version"] = "2.21.0"
        data["backend"] = "tensorflow"
        return json.dumps(data, default=serialization.json_default, **kwargs)

    # --- weight files ---------------------------------------------------------------------

    def save(
        self, filepath: Any, overwrite: bool = True, save_format: str | None = None, **kwargs: Any
    ) -> None:
        """Whole-model saving: not supported yet; raises NotImplementedError naming what to use."""
        from savedflow.keras.models import saving

        saving.save_model(self, filepath, overwrite=overwrite, save_format=save_format, **kwargs)

    def save_weights(
        self,
        filepath: Any,
        overwrite: bool = True,
        save_format: str | None = None,
        options: Any = None,
    ) -> None:
        """Write the weights as a TF checkpoint (``<filepath>.index`` + data) readable by tf.keras."""
        from savedflow.keras.models import weights_io

        weights_io.save_weights(
            self, filepath, overwrite=overwrite, save_format=save_format, options=options
        )

    def load_weights(
        self, filepath: Any, skip_mismatch: bool = False, by_name: bool = False, options: Any = None
    ) -> Any:
        """Restore weights written by :meth:`save_weights` (or tf.keras); returns the load status."""
        from savedflow.keras.models import weights_io

        return weights_io.load_weights(
            self, filepath, skip_mismatch=skip_mismatch, by_name=by_name, options=options
        )


_FUNCTIONAL_SUBCLASSES: dict[type, type] = {}


def _functional_subclass(cls: type) -> type:
    """``cls`` with Functional mixed in (cached), keeping the class name users see."""
    from savedflow.keras.models.functional import Functional

    if cls not in _FUNCTIONAL_SUBCLASSES:
        _FUNCTIONAL_SUBCLASSES[cls] = type(
            cls.__name__, (cls, Functional), {"__module__": cls.__module__}
        )
    return _FUNCTIONAL_SUBCLASSES[cls]
