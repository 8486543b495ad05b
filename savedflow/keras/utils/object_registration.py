"""The custom-object registry: how a serialized name finds the Python class or function to use.

Three ways to make a custom object known, as in tf.keras:

1. pass ``custom_objects={"Name": obj}`` to the loading function;
2. open ``with keras.utils.custom_object_scope({"Name": obj}):`` around the call;
3. decorate it with :func:`register_keras_serializable` (registered as ``"Package>Name"``).

A name is looked up in that order, then among the built-ins of the category being loaded
(see :func:`get_registered_object`). Scopes are per thread, as in tf.keras.

Example::

    >>> from savedflow import keras
    >>> @keras.utils.register_keras_serializable(package="my_pkg")
    ... class Twice(keras.layers.Layer):
    ...     def call(self, x):
    ...         return 2 * x
    >>> keras.utils.get_registered_name(Twice)
    'my_pkg>Twice'
"""

from __future__ import annotations

import inspect
import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Any

__all__ = [
    "CustomObjectScope",
    "custom_object_scope",
    "get_custom_objects",
    "register_keras_serializable",
    "get_registered_name",
    "get_registered_object",
]

# Objects registered with register_keras_serializable (and user edits of get_custom_objects()).
_GLOBAL_CUSTOM_OBJECTS: dict[str, Any] = {}
# The reverse map: registered object -> "Package>Name".
_GLOBAL_CUSTOM_NAMES: dict[Any, str] = {}


class _ScopeStack(threading.local):
    """The custom_object_scope dicts open in this thread, outermost first."""

    def __init__(self) -> None:
        self.scopes: list[dict[str, Any]] = []


_SCOPES = _ScopeStack()


class CustomObjectScope:
    """``with CustomObjectScope({"MyLayer": MyLayer}):`` makes the names resolvable inside the block.

    Args:
      *args: dicts of ``name -> class or function`` (None is ignored).

    Raises:
      TypeError: an argument is not a dict.
    """

    def __init__(self, *args: Mapping[str, Any] | None) -> None:
        merged: dict[str, Any] = {}
        for objects in args:
            if objects is None:
                continue
            if not isinstance(objects, Mapping):
                raise TypeError(f"custom_object_scope expects dicts. Received: {objects!r}")
            merged.update(objects)
        self.custom_objects = merged

    def __enter__(self) -> CustomObjectScope:
        _SCOPES.scopes.append(self.custom_objects)
        return self

    def __exit__(self, *exc: Any) -> None:
        scopes = _SCOPES.scopes
        for index in range(len(scopes) - 1, -1, -1):
            if scopes[index] is self.custom_objects:
                del scopes[index]
                break


custom_object_scope = CustomObjectScope


def get_custom_objects() -> dict[str, Any]:
    """The global registry dict (registered objects; edit it to register objects by hand)."""
    return _GLOBAL_CUSTOM_OBJECTS


def register_keras_serializable(package: str = "Custom", name: str | None = None) -> Callable:
    """Class/function decorator registering the object as ``"package>name"``.

    Registering another object under a name already taken replaces it (as tf.keras 2.x does,
    so re-running a cell that defines a class works).

    Raises:
      ValueError: a class without ``get_config``.
    """

    def decorator(arg: Any) -> Any:
        class_name = name if name is not None else arg.__name__
        registered_name = f"{package}>{class_name}"
        if inspect.isclass(arg) and not hasattr(arg, "get_config"):
            raise ValueError("Cannot register a class that does not have a get_config() method.")
        _GLOBAL_CUSTOM_OBJECTS[registered_name] = arg
        _GLOBAL_CUSTOM_NAMES[arg] = registered_name
        return arg

    return decorator


def get_registered_name(obj: Any) -> str:
    """``"package>name"`` if ``obj`` was registered, else its ``__name__``."""
    try:
        return _GLOBAL_CUSTOM_NAMES[obj]
    except (KeyError, TypeError):  # TypeError: unhashable objects are never registered
        return obj.__name__


def custom_sources(custom_objects: Mapping[str, Any] | None = None) -> list[Mapping[str, Any]]:
    """The name tables to search, highest priority first: ``custom_objects``, open scopes
    (innermost first), then the registry."""
    sources: list[Mapping[str, Any]] = [custom_objects] if custom_objects else []
    sources.extend(reversed(_SCOPES.scopes))
    sources.append(_GLOBAL_CUSTOM_OBJECTS)
    return sources


def lookup(
    names: Iterable[str],
    custom_objects: Mapping[str, Any] | None = None,
    module_objects: Mapping[str, Any] | None = None,
) -> Any | None:
    """The object for the first of ``names`` found, searching table by table.

    Order: ``custom_objects`` > open custom_object_scopes > registered objects >
    ``module_objects`` (the built-ins). None if no table has any of the names.
    """
    names = [n for n in names if isinstance(n, str)]
    for source in custom_sources(custom_objects):
        for name in names:
            if name in source:
                return source[name]
    if module_objects:
        for name in names:
            if name in module_objects:
                return module_objects[name]
    return None


def get_registered_object(
    name: str,
    custom_objects: Mapping[str, Any] | None = None,
    module_objects: Mapping[str, Any] | None = None,
) -> Any | None:
    """Resolve ``name``: ``custom_objects``, open scopes, the registry, then ``module_objects``."""
    return lookup([name], custom_objects, module_objects)
