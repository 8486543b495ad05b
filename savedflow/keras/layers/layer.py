"""Layer: the base class of every Keras layer and model (``tf.keras.layers.Layer``).

A layer is a :class:`savedflow.Module` with a life cycle: ``__init__`` stores configuration,
``build(input_shape)`` creates weights on the first call (inside ``name_scope(layer.name)``, so
they are named ``dense/kernel:0``), ``call(inputs)`` computes. ``__call__`` adds the
bookkeeping: converting numpy inputs, casting floats to the layer's dtype, the training flag,
input checks, and the functional API when inputs are symbolic ``keras.Input`` tensors.

Example::

    >>> import savedflow as tf
    >>> from savedflow import keras
    >>> class Scale(keras.layers.Layer):
    ...     def build(self, input_shape):
    ...         self.w = self.add_weight(name="w", shape=(input_shape[-1],), initializer="ones")
    ...     def call(self, x):
    ...         return x * self.w
    >>> layer = Scale()
    >>> layer([[1.0, 2.0]]).shape, [v.name for v in layer.weights]
    (torch.Size([1, 2]), ['scale/w:0'])
"""

from __future__ import annotations

import collections
import inspect
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch

from savedflow import errors
from savedflow.keras import backend
from savedflow.keras.keras_tensor import is_keras_tensor
from savedflow.keras.layers.input_spec import InputSpec, assert_input_compatibility
from savedflow.keras.utils import call_context as _ctx
from savedflow.keras.utils import layer_tracking, layer_utils, tree
from savedflow.keras.utils.naming import to_snake_case
from savedflow.module import Module
from savedflow.ops.name_scope import name_scope
from savedflow.ops.tensor_shape import TensorShape
from savedflow.variables import Variable

__all__ = ["Layer", "InputSpec"]

_ALLOWED_KWARGS = frozenset(
    {
        "input_dim",
        "input_shape",
        "batch_input_shape",
        "batch_size",
        "weights",
        "activity_regularizer",
        "autocast",
        "implementation",
    }
)

# Keras bookkeeping kept out of attribute tracking (they hold variables/layers by design).
_BOOKKEEPING = frozenset(
    {
        "_name",
        "_trainable",
        "_dtype_name",
        "_trainable_weights",
        "_non_trainable_weights",
        "_self_tracked_trackables",
        "_eager_losses",
        "_callable_losses",
        "_metrics",
        "_inbound_nodes",
        "_outbound_nodes",
        "_build_input_shape",
        "_batch_input_shape",
        "_initial_weights",
        "_activity_regularizer",
        "_autocast",
        "_dynamic",
        "_keras_state_ready",
        "_call_params",
    }
)

_MISSING = object()


class Layer(Module):
    """Base class of Keras layers (tf.keras 2.x behaviour, torch tensors inside).

    Args:
      trainable: whether the layer's weights are updated by training.
      name: the layer name; default is the snake_case class name made unique
        (``dense``, ``dense_1``, ...).
      dtype: the dtype of the weights and computation (default ``keras.backend.floatx()``).
      dynamic: accepted for compatibility (every layer runs eagerly).
      **kwargs: ``input_shape``, ``batch_input_shape``, ``input_dim``, ``batch_size`` (used by
        Sequential to create its Input), ``weights`` (initial values), ``activity_regularizer``,
        ``autocast``.

    Raises:
      TypeError: an unknown keyword argument was passed.
    """

    # Bookkeeping lists are not walked by Module.variables/submodules.
    _TF_MODULE_IGNORED_PROPERTIES = (
        Module._TF_MODULE_IGNORED_PROPERTIES | _BOOKKEEPING | {"_keras_symbolic_losses"}
    )

    def __init__(
        self,
        trainable: bool = True,
        name: str | None = None,
        dtype: Any = None,
        dynamic: bool = False,
        **kwargs: Any,
    ) -> None:
        unknown = sorted(set(kwargs) - _ALLOWED_KWARGS)
        if unknown:
            raise TypeError(
                f"Keyword argument not understood: {unknown[0]!r}. "
                f"Received: {', '.join(f'{k}={kwargs[k]!r}' for k in unknown)}"
            )
        self._ensure_keras_state(name=name)
        d = self.__dict__
        d["_trainable"] = bool(trainable)
        d["_dtype_name"] = layer_tracking.dtype_name(dtype)
        d["_dynamic"] = bool(dynamic)
        d["_autocast"] = bool(kwargs.get("autocast", True))
        d["_initial_weights"] = kwargs.get("weights")
        if kwargs.get("activity_regularizer") is not None:
            from savedflow.keras import regularizers

            d["_activity_regularizer"] = regularizers.get(kwargs["activity_regularizer"])
        d["_batch_input_shape"] = layer_tracking.batch_input_shape_from_kwargs(kwargs)

    # --- lazy state (subclasses may skip super().__init__) ----------------------------------

    def _ensure_keras_state(self, name: str | None = None) -> None:
        d = self.__dict__
        if d.get("_keras_state_ready"):
            if name is not None:
                d["_name"] = layer_tracking.check_name(name)
            return
        d["_keras_state_ready"] = True
        d["_name"] = layer_tracking.check_name(name) if name is not None else self._default_name()
        d["_trainable"] = True
        d["_dtype_name"] = backend.floatx()
        d["_trainable_weights"] = []
        d["_non_trainable_weights"] = []
        d["_self_tracked_trackables"] = []
        d["_eager_losses"] = []
        d["_callable_losses"] = []
        d["_metrics"] = []
        d["_inbound_nodes"] = []
        d["_outbound_nodes"] = []
        d["_build_input_shape"] = None
        d["_batch_input_shape"] = None
        d["_initial_weights"] = None
        d["_activity_regularizer"] = None
        d["_autocast"] = True
        d["_dynamic"] = False
        d.setdefault("built", False)
        d.setdefault("_input_spec", None)
        d.setdefault("supports_masking", False)
        d.setdefault("stateful", False)

    def _default_name(self) -> str:
        return backend.unique_object_name(to_snake_case(type(self).__name__), zero_based=True)

    def __getattr__(self, name: str) -> Any:
        # Only reached when normal lookup fails: create Keras state on first use for layers
        # whose __init__ never called super().__init__().
        if name in _BOOKKEEPING or name in ("built", "_input_spec", "supports_masking", "stateful"):
            if not self.__dict__.get("_keras_state_ready"):
                self._ensure_keras_state()
                return getattr(self, name)
        parent = getattr(super(), "__getattr__", None)
        if parent is not None:
            return parent(name)
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    # --- attribute tracking ------------------------------------------------------------------

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _BOOKKEEPING or name.startswith("_self_") or name.startswith("_keras_"):
            object.__setattr__(self, name, value)
            return
        self._ensure_keras_state()
        if isinstance(getattr(type(self), name, None), property):
            object.__setattr__(self, name, value)
            return
        old = self.__dict__.get(name, _MISSING)
        if old is not _MISSING and old is not value:
            self._forget(old)
        super().__setattr__(name, value)
        self._remember(self.__dict__.get(name, value))

    def __delattr__(self, name: str) -> None:
        old = self.__dict__.get(name, _MISSING)
        super().__delattr__(name)
        if old is not _MISSING:
            self._forget(old)

    def _remember(self, value: Any) -> None:
        for leaf in layer_tracking.flatten_attribute(value):
            if isinstance(leaf, Variable):
                target = self._trainable_weights if leaf.trainable else self._non_trainable_weights
                if not any(leaf is w for w in target):
                    target.append(leaf)
            elif layer_tracking.is_metric(leaf) and not any(leaf is m for m in self._metrics):
                self._metrics.append(leaf)
        tracked = isinstance(value, Module) or layer_tracking.is_container(value)
        if tracked or layer_tracking.is_metric(value):  # metrics: see _flatten_layers
            if not any(value is t for t in self._self_tracked_trackables):
                self._self_tracked_trackables.append(value)

    def _forget(self, old: Any) -> None:
        kinds = isinstance(old, (Module, Variable)) or layer_tracking.is_container(old)
        if not (kinds or layer_tracking.is_metric(old)):
            return
        self._self_tracked_trackables[:] = [
            t for t in self._self_tracked_trackables if t is not old
        ]
        gone = {id(x) for x in layer_tracking.flatten_attribute(old) if isinstance(x, Variable)}
        if gone:
            self._trainable_weights[:] = [w for w in self._trainable_weights if id(w) not in gone]
            self._non_trainable_weights[:] = [
                w for w in self._non_trainable_weights if id(w) not in gone
            ]

    def _flatten_layers(
        self, recursive: bool = True, include_self: bool = True, include_metrics: bool = False
    ) -> Iterator[Any]:
        """Layers and Modules reachable through attributes, breadth first as tf.keras orders them.

        ``include_metrics`` also yields Metric attributes (tf.keras' metrics are layers whose
        state variables count among the owner's non-trainable weights); they are not descended.
        """
        if include_self:
            yield self
        seen = {id(self)}
        queue = collections.deque(self.__dict__.get("_self_tracked_trackables", ()))
        while queue:
            obj = queue.popleft()
            if id(obj) in seen:
                continue
            seen.add(id(obj))
            if isinstance(obj, Module):
                if layer_tracking.is_metric(obj):
                    continue
                yield obj
                children = obj.__dict__.get("_self_tracked_trackables") if recursive else None
                if children:
                    queue.extendleft(reversed(children))
            elif include_metrics and layer_tracking.is_metric(obj):
                yield obj
            elif layer_tracking.is_container(obj):
                queue.extendleft(reversed(layer_tracking.container_items(obj)))

    @property
    def _layers(self) -> list[Any]:
        """Direct sublayers (and Modules), attribute order."""
        return list(self._flatten_layers(recursive=False, include_self=False))

    # --- names, dtypes, flags -----------------------------------------------------------------

    @property
    def name(self) -> str:
        """The layer's unique name (``dense_1``)."""
        self._ensure_keras_state()
        return self._name

    def _name_scope(self) -> str:
        return self.name

    @property
    def name_scope(self) -> Any:
        return name_scope(self._name_scope())

    @property
    def dtype(self) -> str:
        """The weights' dtype name, e.g. ``"float32"``."""
        return self._dtype_name

    @property
    def variable_dtype(self) -> str:
        return self._dtype_name

    @property
    def compute_dtype(self) -> str:
        """The dtype inputs are cast to before ``call``."""
        return self._dtype_name

    @property
    def dtype_policy(self) -> str:
        return self._dtype_name

    @property
    def dynamic(self) -> bool:
        return self._dynamic

    @property
    def trainable(self) -> bool:
        """Whether training updates the weights; setting it also sets every nested layer."""
        self._ensure_keras_state()
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        self._ensure_keras_state()
        for layer in self._flatten_layers():
            if isinstance(layer, Layer):
                layer.__dict__["_trainable"] = bool(value)

    @property
    def input_spec(self) -> Any:
        return self.__dict__.get("_input_spec")

    @input_spec.setter
    def input_spec(self, value: Any) -> None:
        for spec in tree.flatten(value):
            if spec is not None and not isinstance(spec, InputSpec):
                raise TypeError(
                    f"Layer input_spec must be InputSpec instances. Received: {value!r}"
                )
        self.__dict__["_input_spec"] = value

    @property
    def activity_regularizer(self) -> Any:
        return self._activity_regularizer

    @activity_regularizer.setter
    def activity_regularizer(self, value: Any) -> None:
        self.__dict__["_activity_regularizer"] = value

    # --- weights ------------------------------------------------------------------------------

    def _gather_children(self, attribute: str) -> list[Any]:
        out: list[Any] = []
        children = self._flatten_layers(recursive=False, include_self=False, include_metrics=True)
        for child in children:
            if isinstance(child, Layer):
                out.extend(getattr(child, attribute))
            else:  # a plain savedflow.Module or a Metric
                out.extend(getattr(child, {"weights": "variables"}.get(attribute, attribute)))
        return out

    @property
    def trainable_weights(self) -> list[Variable]:
        """Trainable variables: this layer's own, then its sublayers' (empty when frozen)."""
        if not self.trainable:
            return []
        return layer_tracking.dedup(
            self._trainable_weights + self._gather_children("trainable_weights")
        )

    @property
    def non_trainable_weights(self) -> list[Variable]:
        """Non-trainable variables (all variables when the layer is frozen)."""
        if self.trainable:
            weights = self._non_trainable_weights + self._gather_children("non_trainable_weights")
        else:
            weights = (
                self._trainable_weights
                + self._non_trainable_weights
                + self._gather_children("weights")
            )
        return layer_tracking.dedup(weights)

    @property
    def weights(self) -> list[Variable]:
        """``trainable_weights + non_trainable_weights``: the order get/set_weights use."""
        return layer_tracking.dedup(self.trainable_weights + self.non_trainable_weights)

    @property
    def variables(self) -> list[Variable]:
        return self.weights

    @property
    def trainable_variables(self) -> list[Variable]:
        return self.trainable_weights

    @property
    def non_trainable_variables(self) -> list[Variable]:
        return self.non_trainable_weights

    def add_weight(
        self,
        name: str | None = None,
        shape: Any = None,
        dtype: Any = None,
        initializer: Any = None,
        regularizer: Any = None,
        trainable: bool | None = None,
        constraint: Any = None,
        use_resource: Any = None,
        synchronization: Any = None,
        aggregation: Any = None,
        **kwargs: Any,
    ) -> Variable:
        """Create a variable owned by this layer, tracked under ``name``.

        Args:
          name: the variable name (prefixed by the active name scope, e.g. ``dense/kernel``).
          shape: the shape (default scalar).
          dtype: default: the layer's dtype.
          initializer: a name (``"zeros"``, ``"glorot_uniform"``), an Initializer, or a callable
            ``(shape, dtype) -> tensor``; default glorot_uniform (floats) or zeros.
          regularizer: adds ``regularizer(variable)`` to ``layer.losses``.
          trainable: default True (False for ON_READ synchronization).
          constraint: callable applied to the variable after optimizer updates.

        Returns:
          The new :class:`savedflow.Variable`.
        """
        del use_resource
        self._ensure_keras_state()
        unknown = sorted(
            set(kwargs)
            - {"getter", "collections", "experimental_autocast", "caching_device", "partitioner"}
        )
        if unknown:
            raise TypeError(f"Unknown keyword argument(s) for add_weight: {unknown}")
        variable = layer_utils.make_weight(
            self,
            name,
            shape,
            dtype,
            initializer,
            trainable,
            constraint,
            synchronization,
            aggregation,
        )
        edge = name if name else variable.name.split("/")[-1].split(":")[0]
        self._track_trackable(variable, name=edge, overwrite=True)
        target = self._trainable_weights if variable.trainable else self._non_trainable_weights
        target.append(variable)
        if regularizer is not None:
            self._add_weight_regularizer(variable, regularizer)
        return variable

    def _add_weight_regularizer(self, variable: Variable, regularizer: Any) -> None:
        from savedflow.keras import regularizers

        regularizer = regularizers.get(regularizer)
        self._callable_losses.append(lambda: regularizer(variable))

    def add_variable(self, *args: Any, **kwargs: Any) -> Variable:
        """Deprecated alias of :meth:`add_weight`."""
        warnings.warn(
            "`layer.add_variable` is deprecated and will be removed in a future version. "
            "Please use the `layer.add_weight()` method instead.",
            UserWarning,
            stacklevel=2,
        )
        return self.add_weight(*args, **kwargs)

    def get_weights(self) -> list[np.ndarray]:
        """The values of :attr:`weights` as numpy arrays, in the same order."""
        return [np.array(w.numpy()) for w in self.weights]

    def set_weights(self, weights: list[Any]) -> None:
        """Assign numpy arrays to :attr:`weights`, in order.

        Raises:
          ValueError: the number of arrays differs from the number of weights.
          ShapeMismatchError: an array's shape differs from its weight's shape.
        """
        params = self.weights
        weights = list(weights)
        if len(params) != len(weights):
            raise ValueError(
                f'You called `set_weights(weights)` on layer "{self.name}" with a weight list '
                f"of length {len(weights)}, but the layer was expecting {len(params)} weights. "
                f"Provided weights: {layer_tracking.summarize(weights)}"
            )
        pairs = []
        for param, value in zip(params, weights):
            value = value.numpy() if hasattr(value, "numpy") else np.asarray(value)
            if tuple(param.shape) != tuple(value.shape):
                raise errors.ShapeMismatchError(
                    f'Layer "{self.name}" weight {param.name} has shape {tuple(param.shape)}, which '
                    f"is not compatible with the provided weight shape {tuple(value.shape)}."
                )
            pairs.append((param, value))
        for param, value in pairs:
            param.assign(value)

    def count_params(self) -> int:
        """Total number of scalars in :attr:`weights`.

        Raises:
          ValueError: the layer is not built yet.
        """
        if not self.built:
            raise ValueError(
                f"You tried to call `count_params` on layer '{self.name}', but the layer isn't "
                "built. You can build it manually via: `layer.build(batch_input_shape)`."
            )
        return sum(backend.count_params(w) for w in self.weights)

    # --- losses and metrics -------------------------------------------------------------------

    def add_loss(self, losses: Any, **kwargs: Any) -> None:
        """Add a loss tensor (computed inside ``call``) or a zero-argument callable.

        Raises:
          ValueError: a tensor loss is added outside of ``call``.
        """
        del kwargs
        if _ctx.in_symbolic_trace():
            return
        context = _ctx.call_context()
        for loss in tree.flatten(losses):
            if loss is None:
                continue
            if callable(loss) and not isinstance(loss, (torch.Tensor, Variable)):
                self._callable_losses.append(loss)
                continue
            if is_keras_tensor(loss):
                layer_utils.add_symbolic_loss(self, loss)
                continue
            if not context.in_call:
                raise ValueError(
                    "Expected a symbolic Tensor or a callable for the loss value. Please wrap "
                    f"your loss computation in a zero argument `lambda`. Received: {loss!r}"
                )
            self._eager_losses.append(layer_utils.as_tensor(loss))

    @property
    def losses(self) -> list[torch.Tensor]:
        """Losses of the last call (``add_loss``), plus callable and weight-regularization losses."""
        collected: list[Any] = []
        for layer in self._flatten_layers():
            if not isinstance(layer, Layer):
                continue
            collected.extend(layer._eager_losses)
            for fn in layer._callable_losses:
                value = fn()
                if value is not None:
                    collected.append(layer_utils.as_tensor(value))
        return collected

    def _clear_losses(self) -> None:
        for layer in self._flatten_layers():
            if isinstance(layer, Layer):
                layer._eager_losses.clear()

    def add_metric(
        self, value: Any, name: str | None = None, aggregation: str | None = None, **kwargs: Any
    ) -> None:
        """Track the mean of ``value`` over calls as a metric called ``name``."""
        del kwargs
        if _ctx.in_symbolic_trace():
            return
        layer_utils.add_metric_value(self, value, name, aggregation)

    @property
    def metrics(self) -> list[Any]:
        """Metric objects of this layer and its sublayers."""
        collected: list[Any] = []
        for layer in self._flatten_layers():
            if isinstance(layer, Layer):
                collected.extend(m for m in layer._metrics if not any(m is c for c in collected))
        return collected

    def add_update(self, updates: Any) -> None:
        """Kept for compatibility: updates already ran eagerly when they were computed."""
        for update in tree.flatten(updates):
            if callable(update):
                update()

    # --- calling ------------------------------------------------------------------------------

    def build(self, input_shape: Any) -> None:
        """Create the layer's weights; called once by ``__call__`` with the input's shape."""
        self.__dict__["_build_input_shape"] = input_shape
        self.built = True

    def call(self, inputs: Any, *args: Any, **kwargs: Any) -> Any:
        """The layer's computation; the default returns ``inputs`` unchanged."""
        return inputs

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self._ensure_keras_state()
        inputs, args, kwargs, input_key = layer_tracking.split_inputs(self, args, kwargs)
        if layer_utils.any_symbolic((inputs, args, kwargs)):
            return layer_utils.symbolic_call(self, inputs, args, kwargs, input_key)
        inputs = layer_utils.convert_inputs(self, inputs)
        context = _ctx.call_context()
        if not context.in_call:
            self._clear_losses()
        training = self._resolve_training(kwargs, context)
        self._set_call_flags(inputs, kwargs, training)
        with _ctx.enter_call(self, training), name_scope(self._name_scope()):
            if not self.built:
                self._maybe_build(layer_utils.shapes_of(inputs))
            assert_input_compatibility(self.input_spec, inputs, self.name)
            if input_key is not None:
                kwargs[input_key] = inputs
                outputs = self.call(*args, **kwargs)
            else:
                outputs = self.call(inputs, *args, **kwargs)
            layer_utils.after_call(self, inputs, outputs, kwargs)
        return outputs

    def _call_parameters(self) -> dict[str, inspect.Parameter]:
        cache = self.__dict__.get("_call_params")
        if cache is None or cache[0] is not type(self).call:
            params = dict(inspect.signature(self.call).parameters)
            cache = (type(self).call, params)
            self.__dict__["_call_params"] = cache
        return cache[1]

    def _expects_arg(self, name: str) -> bool:
        return name in self._call_parameters()

    def _resolve_training(self, kwargs: dict[str, Any], context: Any) -> bool | None:
        explicit = kwargs.get("training")
        if explicit is not None:
            return (
                bool(explicit) if not isinstance(explicit, torch.Tensor) else bool(explicit.item())
            )
        if context.training is not None:
            return context.training
        phase = backend._explicit_learning_phase()
        if phase is not None:
            return bool(phase)
        param = self._call_parameters().get("training")
        if param is not None and param.default not in (None, inspect.Parameter.empty):
            return bool(param.default)
        return False

    def _set_call_flags(self, inputs: Any, kwargs: dict[str, Any], training: bool | None) -> None:
        if self._expects_arg("training"):
            kwargs["training"] = training
        else:
            kwargs.pop("training", None)
        if self._expects_arg("mask") and kwargs.get("mask") is None:
            masks = [getattr(x, "_keras_mask", None) for x in tree.flatten(inputs)]
            if any(m is not None for m in masks):
                kwargs["mask"] = masks[0] if len(masks) == 1 else masks

    def _maybe_build(self, input_shapes: Any) -> None:
        if self.built:
            return
        if not getattr(type(self).build, "_is_default", False) or type(self).build is Layer.build:
            self.build(input_shapes)
        self.built = True
        if self.__dict__.get("_build_input_shape") is None:
            self.__dict__["_build_input_shape"] = input_shapes
        initial = self.__dict__.get("_initial_weights")
        if initial is not None:
            self.__dict__["_initial_weights"] = None
            self.set_weights(initial)

    def compute_output_shape(self, input_shape: Any) -> Any:
        """The output shape for ``input_shape``, found by running the layer on placeholders."""
        return layer_utils.compute_output_shape_by_tracing(self, input_shape)

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        """The output mask; the default passes the mask through if ``supports_masking``."""
        if not self.supports_masking:
            return None
        return mask

    # --- functional API views -----------------------------------------------------------------

    @property
    def inbound_nodes(self) -> list[Any]:
        return self._inbound_nodes

    @property
    def outbound_nodes(self) -> list[Any]:
        return self._outbound_nodes

    def _single_node(self, what: str) -> Any:
        if not self._inbound_nodes:
            raise AttributeError(
                f"Layer {self.name} is not connected, no {what} to return. Call it on a "
                "keras.Input first."
            )
        if len(self._inbound_nodes) > 1:
            raise AttributeError(
                f'Layer {self.name} has multiple inbound nodes, hence the notion of "layer '
                f'{what}" is ill-defined. Use `get_{what}_at(node_index)` instead.'
            )
        return self._inbound_nodes[0]

    @property
    def input(self) -> Any:
        """The symbolic input of the layer's only functional call."""
        return self._single_node("input").input_tensors

    @property
    def output(self) -> Any:
        """The symbolic output of the layer's only functional call."""
        return self._single_node("output").output_tensors

    def get_input_at(self, node_index: int) -> Any:
        return self._inbound_nodes[node_index].input_tensors

    def get_output_at(self, node_index: int) -> Any:
        return self._inbound_nodes[node_index].output_tensors

    @property
    def input_shape(self) -> Any:
        """Shape(s) of the symbolic input(s); ``"multiple"`` shapes raise AttributeError."""
        return layer_utils.node_shapes(self, "input")

    @property
    def output_shape(self) -> Any:
        """Shape(s) of the symbolic output(s)."""
        return layer_utils.node_shapes(self, "output")

    # --- configuration ------------------------------------------------------------------------

    def get_config(self) -> dict[str, Any]:
        """``name``, ``trainable``, ``dtype`` (and ``batch_input_shape`` if given) of the layer.

        Raises:
          NotImplementedError: a subclass with extra ``__init__`` arguments did not override it.
        """
        config: dict[str, Any] = {"name": self.name, "trainable": self.trainable}
        config["dtype"] = self.dtype
        batch_input_shape = self.__dict__.get("_batch_input_shape")
        if batch_input_shape is not None:  # after dtype, as tf_keras 2.21 orders them
            config["batch_input_shape"] = list(batch_input_shape)
        if not layer_utils.init_has_only_base_args(type(self)):
            if type(self).get_config is Layer.get_config:
                raise NotImplementedError(
                    f"Layer {type(self).__name__} has arguments {layer_utils.extra_init_args(type(self))} "
                    "in `__init__()` and therefore must override `get_config()`."
                )
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Layer:
        """``cls(**config)``."""
        return cls(**config)

    def get_build_config(self) -> dict[str, Any] | None:
        shape = self.__dict__.get("_build_input_shape")
        if shape is None:
            return None
        return {"input_shape": layer_utils.shape_to_list(shape)}

    def build_from_config(self, config: dict[str, Any]) -> None:
        shape = config.get("input_shape")
        if shape is not None and not self.built:
            with name_scope(self._name_scope()):
                self._maybe_build(layer_utils.list_to_shape(shape))

    def __repr__(self) -> str:
        return f"<{type(self).__module__}.{type(self).__name__} object at {hex(id(self))}>"


TensorShape = TensorShape  # re-exported for layers that annotate build(input_shape: TensorShape)
