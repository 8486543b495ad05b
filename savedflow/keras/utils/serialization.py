"""The one serialization path of savedflow.keras: objects to tf.keras 2.x configs and back.

Every category's ``serialize`` / ``deserialize`` / ``get`` (activations, initializers,
regularizers, constraints, losses, metrics, optimizers, learning-rate schedules, layers) is a
thin call into this module. The format is the one tf_keras 2.21 writes:

- a class instance: ``{"module", "class_name", "config", "registered_name"}`` (plus
  ``build_config`` for built layers); built-ins carry their public module (``"keras.losses"``)
  and ``registered_name`` None, other classes ``module`` None and their registered name;
- a plain function: ``{"module": "builtins", "class_name": "function", "config": <name>,
  "registered_name": "function"}``, where ``<name>`` is ``"Package>name"`` for registered
  functions;
- on input, also the older forms: a bare name (``"mse"``, ``"glorot_uniform"``) and
  ``{"class_name", "config"}`` without ``module``.

Names resolve in this order (:func:`object_registration.lookup`): the ``custom_objects``
argument, open ``custom_object_scope`` blocks, registered objects (``"Package>Name"``), then the
category's built-ins. An unknown name raises :class:`savedflow.errors.UnknownObjectError`.
Deserializing never imports a module named in a config and never runs code from one (Lambda
layers keep their own ``safe_mode`` gate).

Example::

    >>> from savedflow import keras
    >>> config = keras.layers.serialize(keras.layers.Dense(3, name="d"))
    >>> config["class_name"], config["config"]["units"]
    ('Dense', 3)
    >>> keras.losses.serialize(keras.losses.mean_squared_error)["config"]
    'mean_squared_error'
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from savedflow.errors import UnknownObjectError, UnsafeLoadError
from savedflow.keras.utils import _builtin_objects, object_registration

__all__ = [
    "serialize_keras_object",
    "deserialize_keras_object",
    "find_object",
    "get_keras_object",
    "serialize",
    "deserialize",
    "json_default",
]

_PLAIN = (str, int, float, bool)


# --- serializing ------------------------------------------------------------------------------


def serialize_keras_object(instance: Any) -> Any:
    """The tf.keras 2.x config of a Keras object or plain function (None stays None).

    Plain values pass through and lists, tuples and dicts are serialized item by item.

    Raises:
      ValueError: ``instance`` is a lambda (it has no name to be found by when loading).
      TypeError: ``instance`` has neither ``get_config`` nor a name.
    """
    if instance is None or isinstance(instance, _PLAIN):
        return instance
    if isinstance(instance, (list, tuple)):
        items = [serialize_keras_object(item) for item in instance]
        return tuple(items) if isinstance(instance, tuple) else items
    if isinstance(instance, dict):
        return {key: serialize_keras_object(value) for key, value in instance.items()}
    if isinstance(instance, np.generic):
        return instance.item()
    if hasattr(instance, "get_config") and not inspect.isclass(instance):
        return _object_config(instance)
    if callable(instance) and getattr(instance, "__name__", None):
        return _function_config(instance)
    raise TypeError(
        f"Cannot serialize {instance!r} of type {type(instance).__name__}: a serializable "
        "object needs a `get_config()` method, or must be a named function."
    )


def _function_config(fn: Callable[..., Any]) -> dict[str, Any]:
    if fn.__name__ == "<lambda>":
        raise ValueError(
            "Cannot serialize a lambda: it has no name to be found by when loading. Define a "
            "named function, and pass it in `custom_objects` when loading or register it with "
            f"`@keras.utils.register_keras_serializable()`. Received: {fn!r}"
        )
    return {
        "module": "builtins",
        "class_name": "function",
        "config": object_registration.get_registered_name(fn),
        "registered_name": "function",
    }


def _object_config(instance: Any) -> dict[str, Any]:
    cls = type(instance)
    config = instance.get_config()
    if not isinstance(config, dict):
        raise TypeError(
            f"The `get_config()` method of {cls.__name__} must return a dict. Received: {config!r}"
        )
    module, registered_name = _builtin_objects.public_location(cls)
    data: dict[str, Any] = {
        "module": module,
        "class_name": cls.__name__,
        "config": config,
        "registered_name": registered_name,
    }
    get_build_config = getattr(instance, "get_build_config", None)
    if get_build_config is not None and cls.__name__ != "InputLayer":
        build_config = get_build_config()
        if build_config is not None:
            data["build_config"] = build_config
    return data


# --- resolving names --------------------------------------------------------------------------


def _unknown(kind: str, name: Any, registered_name: Any = None) -> UnknownObjectError:
    also = f" (registered name '{registered_name}')" if registered_name not in (None, name) else ""
    return UnknownObjectError(
        f"Unknown {kind}: '{name}'{also}. If it is a custom {kind}, make it known when loading: "
        f"pass `custom_objects={{'{name}': ...}}` to the loading function, call it inside "
        "`with keras.utils.custom_object_scope({...}):`, or register it with "
        "`@keras.utils.register_keras_serializable()`."
    )


def _is_function_config(config: Mapping[str, Any]) -> bool:
    return config.get("class_name") == "function" and isinstance(config.get("config"), str)


def find_object(
    config: Any,
    module_objects: Mapping[str, Any] | None = None,
    custom_objects: Mapping[str, Any] | None = None,
    printable_module_name: str = "object",
) -> Any:
    """The class or function a name or config refers to, without building anything.

    ``module_objects`` are the category's built-ins; when None, the config's ``module`` picks
    the table (layers and models by default).

    Raises:
      UnknownObjectError: no table has the name.
      ValueError: ``config`` is neither a name nor a dict with ``class_name``.
    """
    if isinstance(config, str):
        names, registered, module = [config], None, None
    elif isinstance(config, Mapping) and isinstance(config.get("class_name"), str):
        module = config.get("module")
        if _is_function_config(config):
            names, registered = [config["config"]], None
        else:
            registered = config.get("registered_name")
            names = [registered, config["class_name"]]
    else:
        raise ValueError(
            f"Could not interpret serialized {printable_module_name}: expected a name or a dict "
            f"with 'class_name' and 'config'. Received: {config!r}"
        )
    if module_objects is None:
        if isinstance(config, Mapping) and _is_function_config(config):
            module_objects = _builtin_objects.builtin_functions()
        else:
            module_objects = _builtin_objects.category_objects(module)
    found = object_registration.lookup(names, custom_objects, module_objects)
    if found is None:
        shown = config if isinstance(config, str) else names[-1]
        raise _unknown(printable_module_name, shown, registered)
    return found


# --- deserializing ----------------------------------------------------------------------------


def deserialize_keras_object(
    config: Any,
    module_objects: Mapping[str, Any] | None = None,
    custom_objects: Mapping[str, Any] | None = None,
    printable_module_name: str = "object",
) -> Any:
    """Build the object a name or a :func:`serialize_keras_object` config describes.

    A name gives the function it names, or an instance of the class it names built with no
    arguments; a function config gives the function; a class config gives
    ``cls.from_config(config)`` (called inside a scope holding ``custom_objects``, so nested
    objects resolve too; ``custom_objects`` is also passed when ``from_config`` takes it).
    Without ``module_objects``, a config whose ``module`` names a category (``"keras.losses"``)
    is read by that category's ``deserialize``; other configs are layers or models.

    Raises:
      UnknownObjectError: a name is unknown (pass ``custom_objects``, open a
        ``custom_object_scope`` or register the object).
      UnsafeLoadError: the config holds a serialized lambda.
      ValueError: the config is not in a known format.
    """
    if config is None:
        return None
    if module_objects is None and isinstance(config, Mapping):
        category = _builtin_objects.category_module(config.get("module"))
        if category is not None:  # e.g. "keras.losses": that category's own reading rules
            return category.deserialize(config, custom_objects=custom_objects)
    if isinstance(config, Mapping) and config.get("class_name") == "__lambda__":
        raise UnsafeLoadError(
            f"The {printable_module_name} config holds a lambda stored as Python bytecode; "
            "loading it would run code from the file, so it is refused. Replace the lambda by "
            "a named function passed in `custom_objects`."
        )
    found = find_object(config, module_objects, custom_objects, printable_module_name)
    if isinstance(config, str):
        return found() if inspect.isclass(found) else found
    if _is_function_config(config) or not inspect.isclass(found):
        return found
    return _from_config(found, config, custom_objects)


def _from_config(cls: type, config: Mapping[str, Any], custom_objects: Any) -> Any:
    inner = config.get("config")
    inner = dict(inner) if isinstance(inner, Mapping) else ({} if inner is None else inner)
    from_config = getattr(cls, "from_config", None)
    with object_registration.CustomObjectScope(custom_objects):
        if from_config is None:
            instance = cls(**inner)
        elif "custom_objects" in inspect.signature(from_config).parameters:
            instance = from_config(inner, custom_objects=dict(custom_objects or {}))
        else:
            instance = from_config(inner)
    build_config = config.get("build_config")
    if (
        build_config
        and hasattr(instance, "build_from_config")
        and not getattr(instance, "built", True)
    ):
        instance.build_from_config(build_config)
    return instance


def get_keras_object(
    identifier: Any,
    deserialize: Callable[[Any], Any],
    printable_module_name: str,
    error: type[Exception] = ValueError,
) -> Any:
    """Shared body of the categories' ``get``: names and configs deserialize, callables pass.

    None gives None.

    Raises:
      ``error``: ``identifier`` is none of these.
    """
    if identifier is None:
        return None
    if isinstance(identifier, (str, Mapping)):
        return deserialize(identifier)
    if callable(identifier):
        return identifier
    raise error(f"Could not interpret {printable_module_name} identifier: {identifier!r}")


# --- keras.layers.serialize / deserialize -----------------------------------------------------


def serialize(layer: Any) -> Any:
    """``keras.layers.serialize``: the config dict of a layer."""
    return serialize_keras_object(layer)


def deserialize(config: Any, custom_objects: Mapping[str, Any] | None = None) -> Any:
    """``keras.layers.deserialize``: a layer rebuilt from its config dict."""
    return deserialize_keras_object(
        config,
        module_objects=_builtin_objects.LAYERS,
        custom_objects=custom_objects,
        printable_module_name="layer",
    )


def json_default(obj: Any) -> Any:
    """``json.dumps(default=...)`` hook for numpy values, shapes and dtypes in configs."""
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    if hasattr(obj, "as_list"):
        return obj.as_list()
    if isinstance(obj, tuple):
        return list(obj)
    name = getattr(obj, "name", None)
    if isinstance(name, str) and hasattr(obj, "as_datatype_enum"):
        return name
    if hasattr(obj, "numpy"):
        return obj.numpy().tolist()
    if hasattr(obj, "get_config"):
        return serialize_keras_object(obj)
    raise TypeError(f"Not JSON Serializable: {obj!r}")
