"""Lambda: wraps an arbitrary function as a layer.

Serialization (``get_config``) never pickles. A function registered with
``keras.utils.register_keras_serializable`` (or a built-in activation) is stored by name
(``function_type: "function"``), which any loader resolves safely. Any other Python function or
lambda is stored the way tf.keras 2.x stores it: base64 of its marshalled bytecode plus its
defaults and closure (``function_type: "lambda"``), readable by tf.keras.

SECURITY: rebuilding a ``"lambda"`` function executes code read from the config, so
``Lambda.from_config`` refuses it (UnsafeLoadError) unless the caller passes
``safe_mode=False`` or opens ``safe_mode_scope(False)``. Bytecode only loads on the same
Python minor version that wrote it.
"""

from __future__ import annotations

import base64
import contextlib
import inspect
import marshal
import sys
import threading
import types
from collections.abc import Callable, Iterator
from typing import Any

from savedflow.errors import UnsafeLoadError
from savedflow.keras import activations
from savedflow.keras.layers._layer_utils import is_shape, shape_list
from savedflow.keras.layers.layer import Layer
from savedflow.keras.utils.object_registration import (
    _GLOBAL_CUSTOM_NAMES,
    get_registered_object,
)

__all__ = ["Lambda", "safe_mode_scope", "in_safe_mode"]


class _SafeMode(threading.local):
    def __init__(self) -> None:
        self.value: bool | None = None


_safe_mode = _SafeMode()


@contextlib.contextmanager
def safe_mode_scope(safe_mode: bool = True) -> Iterator[None]:
    """Within the block, Lambda configs holding bytecode load only if ``safe_mode`` is False."""
    saved = _safe_mode.value
    _safe_mode.value = bool(safe_mode)
    try:
        yield
    finally:
        _safe_mode.value = saved


def in_safe_mode() -> bool:
    """True unless a ``safe_mode_scope(False)`` is open (safe by default)."""
    return _safe_mode.value is not False


def _registered_name(fn: Any) -> str | None:
    """The name under which ``fn`` can be found again without running stored code."""
    if fn in _GLOBAL_CUSTOM_NAMES:
        return _GLOBAL_CUSTOM_NAMES[fn]
    name = getattr(fn, "__name__", None)
    if name and activations.ALL_OBJECTS.get(name) is fn:
        return name
    return None


def func_dump(fn: types.FunctionType) -> tuple[str, Any, Any]:
    """(base64 marshalled code, defaults, closure values): tf.keras's Lambda function format."""
    code = base64.encodebytes(marshal.dumps(fn.__code__)).decode("ascii")
    closure = tuple(c.cell_contents for c in fn.__closure__) if fn.__closure__ else None
    return code, fn.__defaults__, closure


def func_load(dumped: Any, globs: dict[str, Any]) -> types.FunctionType:
    """Rebuilds a function written by :func:`func_dump` (runs stored bytecode: unsafe)."""
    code_text, defaults, closure = dumped
    if isinstance(defaults, list):
        defaults = tuple(defaults)
    try:
        code = marshal.loads(base64.decodebytes(code_text.encode("ascii")))
    except (ValueError, EOFError, TypeError) as err:
        raise ValueError(
            "Could not load the Lambda layer's function bytecode: it was probably written by "
            f"another Python version (this is {sys.version_info.major}.{sys.version_info.minor})."
        ) from err
    cells = tuple(types.CellType(v) for v in closure) if closure is not None else None
    return types.FunctionType(code, globs, code.co_name, defaults, cells)


def _serialize_fn(fn: Any, allow_raw: bool = False) -> tuple[Any, str, str | None]:
    name = _registered_name(fn) if callable(fn) else None
    if name is not None:
        return name, "function", getattr(fn, "__module__", None)
    if isinstance(fn, types.FunctionType):
        return func_dump(fn), "lambda", fn.__module__
    if callable(fn):
        return fn.__name__, "function", getattr(fn, "__module__", None)
    if allow_raw:
        return fn, "raw", None
    raise ValueError(f"Invalid input for serialization, type: {type(fn)}")


def _parse_fn(config: dict, key: str, custom_objects: Any, safe_mode: bool | None) -> Any:
    module = config.pop(f"{key}_module" if key != "function" else "module", None)
    kind = config.pop(f"{key}_type" if key != "function" else "function_type", "raw")
    raw = config.get(key)
    if kind == "raw":
        return raw
    if kind == "function":
        found = get_registered_object(raw, custom_objects, activations.ALL_OBJECTS)
        if found is None:
            raise ValueError(
                f"Unknown function in Lambda layer: '{raw}'. Register it with "
                "`keras.utils.register_keras_serializable` or pass it in `custom_objects`."
            )
        return found
    if kind != "lambda":
        raise TypeError(
            "Unsupported value for `function_type` argument. Received: "
            f"function_type={kind}. Expected one of ['function', 'lambda', 'raw']"
        )
    unsafe_allowed = safe_mode is False or (safe_mode is None and not in_safe_mode())
    if not unsafe_allowed:
        raise UnsafeLoadError(
            "Requested the deserialization of a Lambda layer whose function is stored as "
            "Python bytecode. Loading it would execute code from the file, so it is refused by "
            "default. If you trust the file, pass `safe_mode=False`."
        )
    globs = dict(sys.modules[module].__dict__) if module in sys.modules else {}
    globs.setdefault("__builtins__", __builtins__)
    globs.update(custom_objects or {})
    return func_load(raw, globs)


class Lambda(Layer):
    """Wraps ``function(inputs, **arguments)`` as a layer without weights.

    Args:
        function: the function; receives the input (and ``mask``/``training`` if it accepts them).
        output_shape: a shape without the batch axis, or a function of the input shape.
        mask: a function ``(inputs, mask) -> mask`` or a fixed mask.
        arguments: extra keyword arguments for ``function``.

    Example::

        double = keras.layers.Lambda(lambda x: 2 * x)
    """

    def __init__(
        self,
        function: Callable[..., Any],
        output_shape: Any = None,
        mask: Any = None,
        arguments: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.function = function
        self.arguments = dict(arguments or {})
        self.mask = mask
        self._output_shape = output_shape
        self.supports_masking = mask is not None
        params = _parameters(function)
        self._sf_fn_mask = "mask" in params
        self._sf_fn_training = "training" in params

    def call(self, inputs: Any, mask: Any = None, training: Any = None) -> Any:
        kwargs = dict(self.arguments)
        if self._sf_fn_mask:
            kwargs["mask"] = mask
        if self._sf_fn_training:
            kwargs["training"] = training
        return self.function(inputs, **kwargs)

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        if callable(self.mask):
            return self.mask(inputs, mask)
        return self.mask

    def compute_output_shape(self, input_shape: Any) -> Any:
        if self._output_shape is None:
            return super().compute_output_shape(input_shape)
        if callable(self._output_shape):
            return self._output_shape(input_shape)
        first = input_shape if is_shape(input_shape) else input_shape[0]
        batch = shape_list(first)[0] if len(shape_list(first)) else None
        return (batch, *tuple(self._output_shape))

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        fn, fn_type, module = _serialize_fn(self.function)
        shape, shape_type, shape_module = _serialize_fn(self._output_shape, allow_raw=True)
        config.update(
            {
                "function": fn,
                "function_type": fn_type,
                "module": module,
                "output_shape": shape,
                "output_shape_type": shape_type,
                "output_shape_module": shape_module,
            }
        )
        if self.mask is not None:
            mask, mask_type, mask_module = _serialize_fn(self.mask)
            config.update({"mask": mask, "mask_type": mask_type, "mask_module": mask_module})
        config["arguments"] = self.arguments
        return config

    @classmethod
    def from_config(
        cls,
        config: dict[str, Any],
        custom_objects: dict[str, Any] | None = None,
        safe_mode: bool | None = None,
    ) -> Lambda:
        """Rebuilds the layer; bytecode functions need ``safe_mode=False`` (see module doc)."""
        config = dict(config)
        config["function"] = _parse_fn(config, "function", custom_objects, safe_mode)
        config["output_shape"] = _parse_fn(config, "output_shape", custom_objects, safe_mode)
        if "mask" in config:
            config["mask"] = _parse_fn(config, "mask", custom_objects, safe_mode)
        return cls(**config)


def _parameters(fn: Any) -> dict[str, Any]:
    try:
        return dict(inspect.signature(fn).parameters)
    except (TypeError, ValueError):
        return {}
