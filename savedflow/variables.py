"""``savedflow.Variable``: TF's mutable tensor, stored in a torch tensor.

A Variable owns one torch tensor, :attr:`Variable._storage`, that never requires grad. Reading it
outside a GradientTape gives that tensor (operators and ops compute new tensors from it); inside a
recording tape a read gives a per-tape tensor that requires grad, so gradients flow to the
variable (see :mod:`savedflow.ops.gradient_tape`). Writes (``assign*``, checkpoint restores) copy
into ``_storage`` in place under ``torch.no_grad()``.

Example::

    >>> import savedflow as tf
    >>> v = tf.Variable(5.0, name="train_me")
    >>> v
    <tf.Variable 'train_me:0' shape=() dtype=float32, numpy=5.0>
    >>> v.assign_add(1.0).numpy()
    np.float32(6.0)
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import torch

from savedflow import dtypes as _dtypes
from savedflow import variable_operators as _variable_operators
from savedflow.errors import DTypeMismatchError, ShapeMismatchError
from savedflow.ops import tensor_conversion as _conv
from savedflow.ops.name_scope import current_name_scope
from savedflow.ops.tape_state import hooks as _hooks
from savedflow.ops.tape_state import state as _tape
from savedflow.ops.tensor_shape import TensorShape, as_shape
from savedflow.tracking.base import Trackable

__all__ = ["Variable", "VariableSynchronization", "VariableAggregation", "VariableReference"]

VARIABLE_VALUE_KEY = "VARIABLE_VALUE"


class VariableSynchronization(enum.Enum):
    """Accepted for TF compatibility; savedflow runs on one device, so it has no effect."""

    AUTO = 0
    NONE = 1
    ON_WRITE = 2
    ON_READ = 3


class VariableAggregation(enum.Enum):
    """Accepted for TF compatibility; savedflow runs on one device, so it has no effect."""

    NONE = 0
    SUM = 1
    MEAN = 2
    ONLY_FIRST_REPLICA = 3


class VariableReference:
    """A hashable handle on a Variable (``v.ref()``); ``deref()`` gives the variable back."""

    __slots__ = ("_variable",)

    def __init__(self, variable: Variable):
        self._variable = variable

    def deref(self) -> Variable:
        return self._variable

    def __hash__(self) -> int:
        return id(self._variable)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, VariableReference) and other._variable is self._variable

    def __repr__(self) -> str:
        return f"<Reference wrapping {self._variable!r}>"


def _string_array(value: Any) -> np.ndarray:
    """A numpy object array of bytes for a string variable's value."""
    array = np.array(value, dtype=object)
    flat = array.reshape(-1)
    for index, item in enumerate(flat):
        if isinstance(item, str):
            flat[index] = item.encode("utf-8")
        elif not isinstance(item, bytes):
            raise DTypeMismatchError(
                f"Expected a string value, got {item!r} of type {type(item).__name__}."
            )
    return array


def _is_string_value(value: Any, dtype: _dtypes.DType | None) -> bool:
    if dtype is not None:
        return dtype is _dtypes.string
    if isinstance(value, (str, bytes)):
        return True
    if isinstance(value, np.ndarray):
        return value.dtype.kind in ("U", "S", "O")
    if isinstance(value, (list, tuple)) and value:
        first = value
        while isinstance(first, (list, tuple)) and first:
            first = first[0]
        return isinstance(first, (str, bytes))
    return False


def _initial_tensor(initial_value: Any, dtype: _dtypes.DType | None) -> torch.Tensor:
    if isinstance(initial_value, Variable):
        initial_value = initial_value.read_value()
    try:
        tensor = _conv.to_tensor(initial_value, dtype)
    except DTypeMismatchError as err:
        raise DTypeMismatchError(f"initial_value: {err}") from None
    tensor = tensor.detach()
    # Own the memory: never alias the caller's tensor or numpy array.
    return tensor.clone(memory_format=torch.contiguous_format)


class Variable(Trackable):
    """A named, mutable, trackable tensor (``tf.Variable``).

    Args:
      initial_value: a Python number, nested list, numpy array, torch tensor, Variable, or a
        callable returning one (called with no arguments).
      trainable: whether GradientTape watches it automatically and Modules list it among
        ``trainable_variables`` (default True).
      name: the name, prefixed by the active :class:`savedflow.name_scope` (default
        ``"Variable"``); ``.name`` adds TF's ``":0"``.
      dtype: optional dtype; Python values and numpy arrays are converted to it.
      shape: optional (partial) shape the variable may take; ``None`` dimensions let
        ``assign`` change that dimension. ``validate_shape=False`` allows any shape.
      constraint: optional callable applied by optimizers after each update.
      synchronization, aggregation, caching_device, import_scope, variable_def: accepted
        for TF compatibility and ignored.

    Raises:
      ValueError: no initial value was given.
      DTypeMismatchError: the initial value cannot be converted to ``dtype``.

    Storage contract (for the checkpoint and optimizer code): ``_storage`` is the torch tensor
    holding the value (a numpy object array of bytes for string variables). It never requires
    grad; write into it in place under ``torch.no_grad()``. Always fetch it from the attribute
    rather than keeping a reference: an ``assign`` while a GradientTape that has read the
    variable is recording replaces it by a copy (so the tape keeps the values it saw), and an
    ``assign`` of a new shape allowed by a partial ``shape`` replaces it too.
    Variables are unhashable, as in TF2; use ``v.ref()`` (or ``id(v)``) as a dict key.
    """

    # numpy defers binary operators to the Variable (``np.float32(2) * v`` is a tensor), as in TF.
    __array_priority__ = 100

    def __init__(
        self,
        initial_value: Any = None,
        trainable: bool | None = None,
        validate_shape: bool = True,
        caching_device: Any = None,
        name: str | None = None,
        variable_def: Any = None,
        dtype: Any = None,
        import_scope: Any = None,
        constraint: Callable[[Any], Any] | None = None,
        synchronization: Any = VariableSynchronization.AUTO,
        aggregation: Any = VariableAggregation.NONE,
        shape: Any = None,
        experimental_enable_variable_lifting: bool = True,
    ):
        del caching_device, variable_def, import_scope, experimental_enable_variable_lifting
        if initial_value is None:
            raise ValueError("The initial_value must be specified.")
        if constraint is not None and not callable(constraint):
            raise ValueError(
                f"The `constraint` argument must be a callable. Received: constraint={constraint!r}"
            )
        if callable(initial_value) and not isinstance(initial_value, (torch.Tensor, Variable)):
            initial_value = initial_value()
        tf_dtype = None if dtype is None else _dtypes.as_dtype(dtype)
        if trainable is None:
            trainable = synchronization != VariableSynchronization.ON_READ
        base = name if name is not None else "Variable"
        base = base.removesuffix(":0")
        d = self.__dict__
        d["_shared_name_value"] = current_name_scope() + base
        d["_trainable"] = bool(trainable)
        d["_constraint"] = constraint
        d["_synchronization"] = synchronization
        d["_aggregation"] = aggregation
        if _is_string_value(initial_value, tf_dtype):
            d["_storage"] = _string_array(initial_value)
            d["_dtype"] = _dtypes.string
        else:
            d["_storage"] = _initial_tensor(initial_value, tf_dtype)
            d["_dtype"] = _dtypes.as_dtype(self._storage.dtype)
        if not validate_shape:
            shape = TensorShape(None)
        d["_shape_spec"] = None if shape is None else as_shape(shape)
        if _tape.observer is not None:
            _tape.observer.created(self)
        if _tape.creation_guard is not None:
            raise _tape.creation_guard(self)
        if self._shape_spec is not None and not self._shape_spec.is_compatible_with(
            self._storage.shape
        ):
            raise ShapeMismatchError(
                f"Variable '{self.name}': the initial value has shape {TensorShape(self._storage.shape)} "
                f"which is not compatible with shape={self._shape_spec}."
            )

    # --- identity -------------------------------------------------------------------------

    @property
    def name(self) -> str:
        """TF's tensor name, ``"<scope/>name:0"``."""
        return self._shared_name_value + ":0"

    @property
    def _shared_name(self) -> str:
        """The name without ``":0"``; TF stores it as the variable's full name in checkpoints."""
        return self._shared_name_value

    @property
    def dtype(self) -> _dtypes.DType:
        return self._dtype

    @property
    def shape(self) -> TensorShape:
        return TensorShape(self._storage.shape)

    def get_shape(self) -> TensorShape:
        return self.shape

    @property
    def trainable(self) -> bool:
        return self._trainable

    @property
    def constraint(self) -> Callable[[Any], Any] | None:
        return self._constraint

    @property
    def synchronization(self) -> Any:
        return self._synchronization

    @property
    def aggregation(self) -> Any:
        return self._aggregation

    @property
    def device(self) -> str:
        """TF-style device string, e.g. ``/job:localhost/replica:0/task:0/device:CPU:0``."""
        if isinstance(self._storage, np.ndarray):
            return "/job:localhost/replica:0/task:0/device:CPU:0"
        dev = self._storage.device
        kind = "CPU" if dev.type == "cpu" else "GPU" if dev.type == "cuda" else dev.type.upper()
        return f"/job:localhost/replica:0/task:0/device:{kind}:{dev.index or 0}"

    @property
    def initializer(self) -> None:
        return None

    def ref(self) -> VariableReference:
        """A hashable reference (Variables themselves are unhashable, as in TF2)."""
        return VariableReference(self)

    def experimental_ref(self) -> VariableReference:
        return self.ref()

    def __hash__(self) -> int:
        raise TypeError(
            f"Variable is unhashable. Instead, use variable.ref() as the key. (Variable: {self!r})"
        )

    # --- reading ----------------------------------------------------------------------------

    def _sf_read(self) -> Any:
        """The tensor ops should use for this read (tape-aware, may alias the storage)."""
        state = _tape
        if state.observer is not None:
            return state.observer.read(self)
        if state.recording and _hooks.read is not None:
            return _hooks.read(self, state.recording)
        return self._storage

    def _sf_read_default(self) -> Any:
        """:meth:`_sf_read` without the function-trace observer (used by the observer itself)."""
        if _tape.recording and _hooks.read is not None:
            return _hooks.read(self, _tape.recording)
        return self._storage

    def _current(self) -> Any:
        """The value an update starts from: the storage, or its stand-in inside a function trace."""
        if _tape.observer is not None:
            target = _tape.observer.update_base(self)
            if target is not None:
                return target
        return self._storage

    def _inplace_target(self) -> Any:
        """The tensor an in-place update writes: the storage, or its stand-in in a function trace.

        For code that updates state without ``assign`` (optimizers, metrics): inside a
        ``savedflow.function`` the trace is told the Variable is written, so the write becomes
        part of the recorded graph.
        """
        if _tape.observer is not None:
            target = _tape.observer.assigned(self)
            if target is not None:
                return target
        return self._storage

    def value(self) -> Any:
        """A snapshot of the current value as a torch tensor (watched inside a GradientTape)."""
        tensor = self._sf_read()
        if tensor is self._storage and isinstance(tensor, torch.Tensor):
            return tensor.clone()
        return tensor

    def read_value(self) -> Any:
        """Same as :meth:`value`."""
        return self.value()

    def initialized_value(self) -> Any:
        return self.value()

    def numpy(self) -> Any:
        """The value as a numpy array (a numpy scalar for shape ``()``), a copy."""
        if _tape.observer is not None:
            _tape.observer.value_read(self)
        if isinstance(self._storage, np.ndarray):
            array = self._storage.copy()
        else:
            tensor = self._storage.detach().cpu()
            if tensor.dtype == torch.bfloat16:  # numpy has no bfloat16
                tensor = tensor.float()
            array = tensor.numpy().copy()
        return array[()] if array.ndim == 0 else array

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        array = np.asarray(self.numpy())
        return array if dtype is None else array.astype(dtype)

    # --- writing ----------------------------------------------------------------------------

    def _convert_for_assign(self, value: Any) -> Any:
        if self._dtype is _dtypes.string:
            return _string_array(value)
        if isinstance(value, Variable):
            value = value._sf_read()
        try:
            return _conv.to_tensor(value, self._storage.dtype, self._storage.device)
        except DTypeMismatchError as err:
            raise DTypeMismatchError(
                f"Cannot assign to variable '{self.name}': dtype mismatch. The variable has dtype "
                f"{self._dtype.name} but the value has dtype {_dtype_name_of(value)}. ({err})"
            ) from None

    def _convert_delta(self, delta: Any, op: str) -> Any:
        """``delta`` for assign_add/assign_sub: same dtype and exactly the variable's shape."""
        if self._dtype is _dtypes.string:
            raise DTypeMismatchError(f"{op} is not defined on string variable '{self.name}'.")
        delta = self._convert_for_assign(delta)
        if tuple(delta.shape) != tuple(self._storage.shape):
            raise ShapeMismatchError(
                f"{op} on variable '{self.name}': cannot update a variable of shape "
                f"{list(self._storage.shape)} using a tensor of shape {list(delta.shape)}; "
                "shapes must be equal."
            )
        return delta

    def _check_assign_shape(self, shape: tuple[int, ...]) -> bool:
        """True if the storage must be replaced (a partial shape spec allows a new shape)."""
        current = tuple(self._storage.shape)
        if tuple(shape) == current:
            return False
        if self._shape_spec is not None and self._shape_spec.is_compatible_with(shape):
            return True
        raise ShapeMismatchError(
            f"Cannot assign value to variable '{self.name}': Shape mismatch. The variable shape "
            f"{TensorShape(current)}, and the assigned value shape {TensorShape(shape)} are incompatible."
        )

    def _write(self, new_value: Any) -> None:
        """Copy ``new_value`` (already converted) into the storage."""
        if _tape.observer is not None:
            # A function trace may redirect the write to the graph input standing for us.
            target = _tape.observer.assigned(self)
            if target is not None:
                if tuple(new_value.shape) != tuple(target.shape):
                    _tape.observer.impure(f"changes the shape of Variable '{self.name}'")
                with torch.no_grad():
                    target.copy_(new_value)
                return
        if isinstance(self._storage, np.ndarray):
            if self._check_assign_shape(new_value.shape):
                self.__dict__["_storage"] = new_value.copy()
            else:
                self._storage[...] = new_value
            return
        replace = self._check_assign_shape(tuple(new_value.shape))
        if _tape.recording and _hooks.assign is not None:
            _hooks.assign(self, _tape.recording)
        with torch.no_grad():
            if replace:
                self.__dict__["_storage"] = new_value.detach().clone().to(self._storage.device)
            else:
                self._storage.copy_(new_value)

    def assign(
        self, value: Any, use_locking: Any = None, name: Any = None, read_value: bool = True
    ) -> Any:
        """Set the value in place; returns the variable (None with ``read_value=False``).

        Raises:
          DTypeMismatchError: ``value`` has another dtype.
          ShapeMismatchError: ``value`` has another shape.
        """
        del use_locking, name
        self._write(self._convert_for_assign(value))
        return self if read_value else None

    def assign_add(
        self, delta: Any, use_locking: Any = None, name: Any = None, read_value: bool = True
    ) -> Any:
        """Add ``delta`` (same dtype and shape) in place; returns the variable."""
        del use_locking, name
        self._write(self._current() + self._convert_delta(delta, "assign_add"))
        return self if read_value else None

    def assign_sub(
        self, delta: Any, use_locking: Any = None, name: Any = None, read_value: bool = True
    ) -> Any:
        """Subtract ``delta`` (same dtype and shape) in place; returns the variable."""
        del use_locking, name
        self._write(self._current() - self._convert_delta(delta, "assign_sub"))
        return self if read_value else None

    # --- checkpoint hooks -------------------------------------------------------------------

    def _serialize_to_tensors(self) -> dict[str, Any]:
        """``{"VARIABLE_VALUE": value}``: the storage tensor, or a bytes object array for strings."""
        return {VARIABLE_VALUE_KEY: self._storage}

    def _restore_from_tensors(self, restored_tensors: Mapping[str, Any]) -> None:
        """Copy a restored numpy value into the storage in place, checking shape and dtype.

        Raises:
          ShapeMismatchError, DTypeMismatchError: naming the variable and both shapes/dtypes.
        """
        if VARIABLE_VALUE_KEY not in restored_tensors:
            raise ValueError(
                f"Variable '{self.name}': restore is missing {VARIABLE_VALUE_KEY!r}; got {sorted(restored_tensors)}."
            )
        value = restored_tensors[VARIABLE_VALUE_KEY]
        array = np.asarray(value) if not isinstance(value, torch.Tensor) else value
        if (
            self._dtype is _dtypes.bfloat16
            and isinstance(array, np.ndarray)
            and array.dtype.itemsize == 2
            and array.dtype.kind in "ui"
        ):
            # bfloat16 travels as its raw 16-bit patterns (numpy has no bfloat16).
            array = torch.from_numpy(np.ascontiguousarray(array).view(np.int16)).view(
                torch.bfloat16
            )
        found = _dtypes.as_dtype(array.dtype)
        if found is not self._dtype:
            raise DTypeMismatchError(
                f"Checkpoint value for variable '{self._shared_name}' has dtype {found.name} but the "
                f"variable has dtype {self._dtype.name}."
            )
        if tuple(array.shape) != tuple(self._storage.shape):
            raise ShapeMismatchError(
                f"Checkpoint value for variable '{self._shared_name}' has shape {tuple(array.shape)} but "
                f"the variable has shape {tuple(self._storage.shape)}."
            )
        if self._dtype is _dtypes.string:
            self._storage[...] = _string_array(array)
            return
        tensor = (
            array
            if isinstance(array, torch.Tensor)
            else torch.from_numpy(np.array(array, copy=True))
        )
        self._write(tensor.to(self._storage.device))

    # --- Python protocol ----------------------------------------------------------------------

    def __repr__(self) -> str:
        array = self.numpy()
        text = str(array) if np.ndim(array) == 0 else repr(array)
        if np.ndim(array) == 0 and isinstance(array, bytes):
            text = repr(array)
        sep = "\n" if "\n" in text else ""
        return f"<tf.Variable '{self.name}' shape={self.shape} dtype={self._dtype.name}, numpy={sep}{text}>"

    def __str__(self) -> str:
        return self.__repr__()

    def __bool__(self) -> bool:
        return bool(self._scalar("bool"))

    def _scalar(self, kind: str) -> Any:
        if self._storage.shape != () and int(np.prod(self._storage.shape)) != 1:
            raise ValueError(
                "The truth value of an array with more than one element is ambiguous. Use a.any() or a.all()"
            )
        return (
            self.numpy().reshape(()).item()
            if isinstance(self.numpy(), np.ndarray)
            else self.numpy().item()
        )

    def __int__(self) -> int:
        return int(self._scalar("int"))

    def __float__(self) -> float:
        return float(self._scalar("float"))

    def __complex__(self) -> complex:
        return complex(self._scalar("complex"))

    def __index__(self) -> int:
        if not self._dtype.is_integer:
            raise TypeError(
                f"Only integer variables can be used as an index; '{self.name}' has dtype {self._dtype.name}."
            )
        return int(self._scalar("index"))

    def __iter__(self) -> Any:
        if len(self._storage.shape) == 0:
            raise TypeError("Cannot iterate over a scalar tensor.")
        tensor = self.value()
        return iter([tensor[i] for i in range(tensor.shape[0])])

    def __getitem__(self, key: Any) -> Any:
        if isinstance(self._storage, np.ndarray):
            return self._storage[key]
        return self.value()[_unwrap(key)]

    @classmethod
    def __torch_function__(cls, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        """Let any torch function take a Variable where it takes a tensor (``torch.matmul(v, x)``)."""
        return func(*_unwrap(args), **(_unwrap(kwargs) if kwargs else {}))

    def __reduce__(self) -> Any:
        raise TypeError(
            f"Variable '{self.name}' cannot be pickled; save it with a Checkpoint instead."
        )

    def __deepcopy__(self, memo: dict[int, Any]) -> Variable:
        copy = Variable(
            self.numpy() if self._dtype is _dtypes.string else self._storage,
            trainable=self._trainable,
            name=self._shared_name,
            dtype=self._dtype,
            constraint=self._constraint,
        )
        copy.__dict__["_shared_name_value"] = self._shared_name_value
        memo[id(self)] = copy
        return copy


def _dtype_name_of(value: Any) -> str:
    """The dtype TF would give ``value`` (for error messages)."""
    if hasattr(value, "dtype"):
        return _dtypes.as_dtype(value.dtype).name
    try:
        return _dtypes.as_dtype(_conv.to_tensor(value).dtype).name
    except (TypeError, ValueError):
        return type(value).__name__


def _unwrap(value: Any) -> Any:
    """Replace Variables by their tensors inside (nested) args of a torch call."""
    if isinstance(value, Variable):
        return value._sf_read()
    if isinstance(value, (list, tuple)):
        if not any(isinstance(v, (Variable, list, tuple, dict)) for v in value):
            return value
        return (
            type(value)(_unwrap(v) for v in value)
            if not hasattr(value, "_fields")
            else type(value)(*(_unwrap(v) for v in value))
        )
    if isinstance(value, dict):
        return {k: _unwrap(v) for k, v in value.items()}
    return value


_variable_operators.install(Variable)
