"""Which classes and functions are savedflow.keras built-ins, and where configs say they live.

Serializing: a built-in class is written with the public tf.keras module it is exported from
(``"keras.losses"``, ``"keras.layers"``, ...) and ``registered_name`` None, as tf_keras 2.21
writes its own classes (:func:`public_location`).

Deserializing: the built-ins of each category are the ``ALL_OBJECTS`` tables of the category
modules (:func:`category_objects`); a config's ``module`` only picks which of these fixed
tables to search. Nothing named in a config is ever imported.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import sys
from collections.abc import Iterator, Mapping
from typing import Any

# savedflow package -> the public tf.keras module its exported classes are written under.
_PUBLIC_MODULES: dict[str, str] = {
    "savedflow.keras.activations": "keras.activations",
    "savedflow.keras.initializers": "keras.initializers",
    "savedflow.keras.regularizers": "keras.regularizers",
    "savedflow.keras.constraints": "keras.constraints",
    "savedflow.keras.losses": "keras.losses",
    "savedflow.keras.metrics": "keras.metrics",
    # savedflow's optimizers are tf_keras' legacy (slot-based) optimizers.
    "savedflow.keras.optimizers": "keras.optimizers.legacy",
    "savedflow.keras.optimizers.schedules": "keras.optimizers.schedules",
    "savedflow.keras.layers": "keras.layers",
    "savedflow.keras.models": "keras",
}

# Built-ins tf_keras does not export: written under their tf_keras source module, with the class
# name as registered_name.
_UNEXPORTED: dict[tuple[str, str], str] = {
    ("savedflow.keras.models", "Functional"): "tf_keras.src.engine.functional",
    ("savedflow.keras.models", "TFOpLambda"): "tf_keras.src.layers.core.tf_op_layer",
    ("savedflow.keras.models", "SlicingOpLambda"): "tf_keras.src.layers.core.tf_op_layer",
}

# Public module named in a config -> the savedflow module whose ALL_OBJECTS holds its built-ins.
_CATEGORY_MODULES: dict[str, str] = {
    "keras.activations": "savedflow.keras.activations",
    "keras.initializers": "savedflow.keras.initializers",
    "keras.regularizers": "savedflow.keras.regularizers",
    "keras.constraints": "savedflow.keras.constraints",
    "keras.losses": "savedflow.keras.losses",
    "keras.metrics": "savedflow.keras.metrics",
    "keras.optimizers": "savedflow.keras.optimizers",
    "keras.optimizers.legacy": "savedflow.keras.optimizers",
    "keras.optimizers.experimental": "savedflow.keras.optimizers",
    "keras.optimizers.schedules": "savedflow.keras.optimizers.schedules.learning_rate_schedule",
}

# Categories whose tables hold plain functions, searched for ``{"class_name": "function"}``.
_FUNCTION_CATEGORIES = ("keras.activations", "keras.losses", "keras.metrics")


def _package_of(module: str) -> str | None:
    """The longest savedflow package of _PUBLIC_MODULES containing ``module``."""
    best = None
    for package in _PUBLIC_MODULES:
        if module == package or module.startswith(package + "."):
            if best is None or len(package) > len(best):
                best = package
    return best


def public_location(cls: type) -> tuple[str | None, str | None]:
    """``(module, registered_name)`` to write for an instance of ``cls`` (a built-in or not).

    Built-ins exported by a savedflow.keras package get their public module and None;
    anything else (user classes, unexported helpers) gets ``(None, registered name)``.
    """
    from savedflow.keras.utils.object_registration import get_registered_name

    package = _package_of(cls.__module__)
    if package is not None:
        unexported = _UNEXPORTED.get((package, cls.__name__))
        if unexported is not None:
            return unexported, cls.__name__
        if getattr(sys.modules.get(package), cls.__name__, None) is cls:
            return _PUBLIC_MODULES[package], None
    return None, get_registered_name(cls)


class _LayerTable(Mapping):
    """Built-in layers and models by class name, each imported only when looked up."""

    _MODELS = ("Model", "Functional", "Sequential")

    @functools.cached_property
    def _exports(self) -> dict[str, str]:
        """Class name -> module exporting it (built on first lookup, not at import time)."""
        from savedflow.keras import layers

        names = {n: "savedflow.keras.layers" for n in layers._EXPORTS if n[:1].isupper()}
        names.update((n, "savedflow.keras.models") for n in self._MODELS)
        for name in ("TFOpLambda", "SlicingOpLambda"):  # operators and TF ops on KerasTensors
            names[name] = "savedflow.keras.models.op_layer"
        return names

    def __getitem__(self, name: str) -> Any:
        module = self._exports[name]
        try:
            value = getattr(importlib.import_module(module), name)
        except (ImportError, AttributeError) as err:
            raise KeyError(name) from err
        if not inspect.isclass(value):
            raise KeyError(name)
        return value

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str) or name not in self._exports:
            return False
        try:
            self[name]
        except KeyError:
            return False
        return True

    def __iter__(self) -> Iterator[str]:
        return iter(self._exports)

    def __len__(self) -> int:
        return len(self._exports)


LAYERS = _LayerTable()


def category_module(public_module: Any) -> Any | None:
    """The savedflow module of the category a config's ``module`` names (None: layers/unknown)."""
    module = _CATEGORY_MODULES.get(public_module) if isinstance(public_module, str) else None
    return None if module is None else importlib.import_module(module)


def category_objects(public_module: str | None) -> Mapping[str, Any]:
    """The built-ins a config's ``module`` names (layers and models when it names no category)."""
    module = _CATEGORY_MODULES.get(public_module or "")
    if module is None:
        return LAYERS
    return importlib.import_module(module).ALL_OBJECTS


def builtin_functions() -> dict[str, Any]:
    """Every built-in activation, loss and metric function by name (tf_keras' "builtins")."""
    found: dict[str, Any] = {}
    for category in _FUNCTION_CATEGORIES:
        for name, obj in category_objects(category).items():
            if not inspect.isclass(obj):
                found.setdefault(name, obj)
    return found
