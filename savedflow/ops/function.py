"""``savedflow.function``: TF's ``tf.function`` with traces kept as torch.fx graphs.

Tracing rules are TF's: one trace (a :class:`ConcreteFunction`) per input signature, where a
signature is the dtype and shape of each tensor argument, the identity of each Variable argument
and the value of every other Python argument. ``input_signature`` fixes a single signature whose
``None`` dimensions accept any size; calls that do not fit raise TypeError naming what was
expected and what was received.

How a trace runs:

1. The first call with a new signature runs the Python function once, for real, while
   recording it: every ATen op is executed on the real tensors and appended to a torch.fx
   graph (:class:`savedflow.ops.fx_tracer.GraphRecording`) whose inputs are the tensor
   arguments followed by the Variables the function touches (their values from before the run
   are kept). Gradients taken with a GradientTape inside the function are recorded as explicit
   backward ops and Variable writes (``assign*``) as in-place writes into the graph inputs, so a
   whole training step can be one graph. Random ops are recorded with the generator they draw
   from, so each call of the graph draws new numbers, continuing the sequence Python calls
   would draw (:mod:`savedflow.ops.fx_random`). The run also notes anything a graph cannot
   replay: tensor or Variable values read into Python (``.numpy()``, ``float(t)``,
   data-dependent ``if``), writes into tensors created outside the function. Variables may
   only be created by the first call of a Function, as in TF; a run that creates them is
   recorded again on the next call.
2. If the run was pure, the graph is replayed from the pre-run values and must reproduce the
   run's outputs and Variable updates; later calls then run the graph, so Python side effects
   such as ``print`` or appending to a list happen once per trace, as in TF. (A graph is
   recorded for concrete shapes: a signature with ``None`` dimensions records one more graph,
   re-running the Python function, for each new size.)
3. Otherwise every call re-runs the Python function eagerly under the same rules. A graph that
   writes Variables also re-runs Python when called inside a recording GradientTape or another
   function's trace. Gradients are correct either way: graph calls read Variables through the
   active GradientTape.

Example::

    >>> import savedflow as tf
    >>> @tf.function
    ... def double(x):
    ...     return x * 2
    >>> double(tf.constant([1.0])).tolist(), double.experimental_get_tracing_count()
    ([2.0], 1)
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import io
import weakref
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
import torch

from savedflow.ops import nest
from savedflow.ops.function_trace import ConcreteFunction, spec_of
from savedflow.ops.fx_random import rng_untouched
from savedflow.ops.tape_state import state
from savedflow.ops.tensor_spec import TensorSpec

__all__ = ["function", "Function", "ConcreteFunction"]


def function(
    func: Callable[..., Any] | None = None,
    input_signature: Any = None,
    autograph: bool = True,
    jit_compile: Any = None,
    reduce_retracing: bool = False,
    experimental_implements: Any = None,
    experimental_autograph_options: Any = None,
    experimental_attributes: Any = None,
    experimental_relax_shapes: Any = None,
    experimental_compile: Any = None,
    experimental_follow_type_hints: Any = None,
) -> Any:
    """Decorate a function or method so it is traced once per input signature (``tf.function``).

    Args:
      func: the Python function; omit to use ``@function(...)`` with arguments.
      input_signature: optional list of :class:`TensorSpec` (nested structures allowed), one
        per positional argument; fixes a single trace.
      reduce_retracing: trace once per tensor rank instead of once per exact shape.
      jit_compile: compile each recorded graph with ``torch.compile`` (TF compiles with XLA),
        random draws included (see :mod:`savedflow.ops.function_jit`); a graph the compiler
        rejects runs uncompiled, with a warning.
      autograph and ``experimental_*``: accepted for TF compatibility.
    """
    relax = bool(reduce_retracing or experimental_relax_shapes)
    jit = bool(jit_compile or experimental_compile)

    def decorate(fn: Callable[..., Any]) -> Function:
        return Function(
            fn, input_signature=input_signature, reduce_retracing=relax, jit_compile=jit
        )

    return decorate if func is None else decorate(func)


class _Skip:
    """Marks an argument left out of a signature key (bound ``self``)."""


class Function:
    """A callable that traces ``python_function`` per input signature; see :func:`function`."""

    def __init__(
        self,
        python_function: Callable[..., Any],
        input_signature: Any = None,
        reduce_retracing: bool = False,
        instance: Any = None,
        jit_compile: bool = False,
    ):
        self._python_function = python_function
        self._input_signature = None if input_signature is None else list(input_signature)
        self._reduce_retracing = reduce_retracing
        self._jit_compile = jit_compile
        self._instance_ref = None if instance is None else _ref(instance)
        self._concretes: dict[Any, ConcreteFunction] = {}
        self._called = False
        self._bound: dict[int, Function] = {}
        self._signature = inspect.signature(python_function)
        functools.update_wrapper(self, python_function)  # type: ignore[arg-type]
        if not hasattr(self, "__name__"):  # partials and callable objects
            self.__name__ = getattr(python_function, "__name__", type(python_function).__name__)
        params = list(self._signature.parameters.values())
        if instance is not None and params:
            params = params[1:]
        self._params = params
        self._simple = all(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) for p in params)

    # --- descriptor: one Function per instance ---------------------------------------------------

    def __get__(self, instance: Any, owner: Any = None) -> Any:
        if instance is None or self._instance_ref is not None:
            return self
        key = id(instance)
        bound = self._bound.get(key)
        if bound is None or bound._instance_ref() is not instance:
            bound = Function(
                self._python_function,
                self._input_signature,
                self._reduce_retracing,
                instance,
                self._jit_compile,
            )
            try:
                weakref.finalize(instance, self._bound.pop, key, None)
            except TypeError:  # not weak-referenceable: do not cache (the cache could go stale)
                return bound
            self._bound[key] = bound
        return bound

    @property
    def python_function(self) -> Callable[..., Any]:
        return self._python_function

    @property
    def jit_compile(self) -> bool:
        """Whether recorded graphs are compiled with ``torch.compile``."""
        return self._jit_compile

    def _rebuilt(self) -> Function:
        """A Function with the same configuration and no traces."""
        instance = None if self._instance_ref is None else self._instance_ref()
        return Function(
            self._python_function,
            self._input_signature,
            self._reduce_retracing,
            instance,
            self._jit_compile,
        )

    def _graph_count(self) -> int:
        """How many graphs the traces hold (one per recorded shape)."""
        return sum(len(c._graphs) for c in self._concretes.values())

    def _eager_reason(self) -> str | None:
        """Why some trace re-runs Python on every call (None if every trace runs a graph)."""
        for concrete in self._concretes.values():
            if concrete.function_mode == "eager":
                return concrete._not_graphable_reason
        return None

    @property
    def input_signature(self) -> Any:
        return None if self._input_signature is None else tuple(self._input_signature)

    def _callable(self) -> Callable[..., Any]:
        if self._instance_ref is None:
            return self._python_function
        instance = self._instance_ref()
        if instance is None:
            raise ReferenceError(
                "The object this tf.function method was bound to no longer exists."
            )
        return functools.partial(self._python_function, instance)

    # --- calling ------------------------------------------------------------------------------

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if kwargs or not self._simple or self._needs_defaults(args):
            args, kwargs = self._canonicalize(args, kwargs)
        if self._input_signature is not None:
            args = self._apply_signature(args, kwargs)
            key: Any = "input_signature"
        else:
            args, key = _call_key(args, kwargs, self._reduce_retracing)
        concrete = self._concretes.get(key)
        if concrete is None:
            concrete = self._find_compatible(args, kwargs) or self._new_concrete(key, args, kwargs)
        first = not self._called
        self._called = True
        return _outputs_as_tensors(concrete._call_impl(args, kwargs, allow_variable_creation=first))

    def _needs_defaults(self, args: tuple[Any, ...]) -> bool:
        """Defaults are bound so ``f(x)`` and ``f(x, default)`` share a trace, as in TF."""
        return self._input_signature is None and len(args) < len(self._params)

    def _canonicalize(
        self, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> tuple[tuple[Any, ...], dict[str, Any]]:
        """Bind keywords to positions so ``f(x=1)`` and ``f(1)`` share a trace."""
        try:
            bound = inspect.Signature(self._params).bind(*args, **kwargs)
        except TypeError as err:
            raise TypeError(f"{self.__name__}(): {err}") from None
        bound.apply_defaults()
        positional: list[Any] = []
        extra: dict[str, Any] = {}
        for param in self._params:
            value = bound.arguments.get(param.name)
            if param.kind in (param.POSITIONAL_ONLY, param.POSITIONAL_OR_KEYWORD):
                positional.append(value)
            elif param.kind is param.VAR_POSITIONAL:
                positional.extend(value or ())
            elif param.kind is param.KEYWORD_ONLY:
                extra[param.name] = value
            elif param.kind is param.VAR_KEYWORD:
                extra.update(value or {})
        return tuple(positional), extra

    def _apply_signature(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...]:
        specs = self._input_signature
        assert specs is not None
        if kwargs or len(args) != len(specs):
            raise TypeError(
                f"{self.__name__}() was called with {len(args)} positional and {len(kwargs)} keyword "
                f"arguments, but its input_signature has {len(specs)} entries: {_format_specs(specs)}. "
                f"Received: args={args!r}, kwargs={kwargs!r}."
            )
        return tuple(
            _conform(arg, spec, param.name if i < len(self._params) else f"arg{i}", self.__name__)
            for i, (arg, spec, param) in enumerate(
                zip(args, specs, self._params + [None] * len(specs))
            )
        )

    def _named_signature(self) -> tuple[Any, ...]:
        """The input_signature with unnamed top-level specs named after their parameter (TF)."""
        assert self._input_signature is not None
        names = [p.name for p in self._params]
        return tuple(
            TensorSpec(spec.shape, spec.dtype, names[i])
            if isinstance(spec, TensorSpec) and spec.name is None and i < len(names)
            else spec
            for i, spec in enumerate(self._input_signature)
        )

    def _find_compatible(
        self, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> ConcreteFunction | None:
        for concrete in self._concretes.values():
            if concrete._accepts(args, kwargs):
                return concrete
        return None

    def _new_concrete(
        self, key: Any, args: tuple[Any, ...], kwargs: dict[str, Any], signature: Any = None
    ) -> ConcreteFunction:
        if signature is None:
            if self._input_signature is not None:
                signature = (self._named_signature(), {})
            else:
                signature = _signature_of(args, kwargs, self._params, relax=self._reduce_retracing)
        concrete = ConcreteFunction(
            self._callable(), signature, name=self.__name__, jit_compile=self._jit_compile
        )
        if self._input_signature is None:
            concrete._bind_arguments = self._canonicalize  # direct calls bind defaults too
        self._concretes[key] = concrete
        return concrete

    # --- TF's introspection API -------------------------------------------------------------

    def experimental_get_tracing_count(self) -> int:
        """How many traces (concrete functions) exist."""
        return len(self._concretes)

    def get_concrete_function(self, *args: Any, **kwargs: Any) -> ConcreteFunction:
        """The trace for these arguments (TensorSpecs or example values), tracing if needed."""
        if not args and not kwargs and self._input_signature is not None:
            args = tuple(self._input_signature)
        elif kwargs or not self._simple or self._needs_defaults(args):
            args, kwargs = self._canonicalize(args, kwargs)
        has_specs = any(isinstance(leaf, TensorSpec) for leaf in nest.flatten((args, kwargs)))
        if self._input_signature is not None:
            key: Any = "input_signature"
            if not has_specs:
                args = self._apply_signature(args, kwargs)
            signature = (self._named_signature(), {})
        else:
            args, key = _call_key(args, kwargs, self._reduce_retracing)
            signature = _signature_of(args, kwargs, self._params, relax=self._reduce_retracing)
        concrete = self._concretes.get(key)
        if concrete is None and not has_specs:
            concrete = self._find_compatible(args, kwargs)
        if concrete is None:
            concrete = self._new_concrete(key, args, kwargs, signature)
            first = not self._called
            self._called = True
            with rng_untouched():  # tracing draws no random numbers
                self._trace_concrete(concrete, args, kwargs, first)
        return concrete

    def _trace_concrete(
        self, concrete: ConcreteFunction, args: Any, kwargs: dict[str, Any], first: bool
    ) -> None:
        concrete._trace_with(
            _example_args(args), _example_args(kwargs), allow_variable_creation=first
        )
        if any(
            isinstance(leaf, TensorSpec) and not leaf.shape.is_fully_defined()
            for leaf in nest.flatten((args, kwargs))
        ):
            # A second example with other sizes shows which output dimensions are unknown.
            saved = [(v, v._storage.detach().clone()) for v in concrete._captures]
            with contextlib.redirect_stdout(io.StringIO()):
                other = concrete._call_impl(
                    _example_args(args, 2),
                    _example_args(kwargs, 2),
                    allow_variable_creation=False,
                )
            with torch.no_grad():  # tracing does not change Variables
                for variable, value in saved:
                    variable._storage.copy_(value)
            concrete._relax_outputs(other)

    def _list_all_concrete_functions(self) -> list[ConcreteFunction]:
        return list(self._concretes.values())

    def _list_all_concrete_functions_for_serialization(self) -> list[ConcreteFunction]:
        return self._list_all_concrete_functions()

    def __repr__(self) -> str:
        return f"<savedflow.function {self.__name__} at 0x{id(self):x}>"


# --- signatures ---------------------------------------------------------------------------


def _numpy_to_tensor(value: Any) -> Any:
    if isinstance(value, np.ndarray) and value.dtype.kind not in "OUS":
        return torch.from_numpy(np.array(value, copy=True))
    return value


def _outputs_as_tensors(result: Any) -> Any:
    """Python numbers and numpy arrays returned by the function become tensors, as in TF."""
    if type(result) is torch.Tensor or result is None:
        return result

    leaves = nest.flatten(result)
    if (
        leaves
        and not any(map(_is_number, leaves))
        and not state.recording
        and state.observer is None
    ):
        # Outside tapes and traces the structure is already a fresh one (packed from a graph's
        # outputs, or rebuilt when detached): nothing to convert, nothing to rebuild.
        return result
    from savedflow.ops.tensor_conversion import to_tensor

    return nest.map_structure(lambda leaf: to_tensor(leaf) if _is_number(leaf) else leaf, result)


def _is_number(leaf: Any) -> bool:
    """Python numbers and numeric numpy values (a function returns them as tensors)."""
    if isinstance(leaf, np.ndarray):
        return leaf.dtype.kind not in "OUS"
    return isinstance(leaf, (bool, int, float, np.generic))


def _ref(instance: Any) -> Callable[[], Any]:
    """A weak reference when possible, else a strong one."""
    try:
        return weakref.ref(instance)
    except TypeError:
        return lambda: instance


def _call_key(
    args: tuple[Any, ...], kwargs: dict[str, Any], relax: bool
) -> tuple[tuple[Any, ...], Any]:
    """Arguments (numpy arrays become tensors) and their retracing key."""
    if not kwargs and not relax:
        fast = []
        for a in args:
            if type(a) is not torch.Tensor:
                break
            fast.append((a.dtype, a.shape))
        else:
            return args, tuple(fast)
    args = tuple(_numpy_to_tensor(a) for a in args)
    return args, (_key(args, relax), _key(kwargs, relax) if kwargs else None)


def _key(value: Any, relax: bool) -> Any:
    """A hashable retracing key: tensor dtype/shape, Variable identity, Python value."""
    kind = type(value)
    if kind is torch.Tensor:
        return (value.dtype, value.shape) if not relax else ("T", value.dtype, (value.dim(),))
    if kind is tuple or kind is list:  # before the slower checks below (a batch is a tuple)
        return (kind.__name__, tuple(_key(v, relax) for v in value))
    if isinstance(value, torch.Tensor):
        shape = tuple(value.shape)
        return ("T", value.dtype, (len(shape),) if relax else shape)
    if hasattr(type(value), "_sf_read"):
        return ("V", id(value))
    if isinstance(value, TensorSpec):
        return ("S", value)
    if isinstance(value, Mapping):
        return ("D", tuple((k, _key(value[k], relax)) for k in nest._sorted_keys(value)))
    if isinstance(value, (list, tuple)) and not isinstance(value, torch.Size):
        return (type(value).__name__, tuple(_key(v, relax) for v in value))
    try:
        hash(value)
    except TypeError:
        return ("id", id(value))
    return ("P", type(value), value)


def _signature_of(
    args: tuple[Any, ...], kwargs: dict[str, Any], params: list[inspect.Parameter], relax: bool
) -> tuple[tuple[Any, ...], dict[str, Any]]:
    names = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    out_args = []
    for i, arg in enumerate(args):
        name = names[i] if i < len(names) else f"args_{i}"
        out_args.append(nest.map_structure(lambda leaf, n=name: spec_of(leaf, n, relax), arg))
    out_kwargs = {
        k: nest.map_structure(lambda leaf, n=k: spec_of(leaf, n, relax), v)
        for k, v in kwargs.items()
    }
    return tuple(out_args), out_kwargs


def _format_specs(specs: Any) -> str:
    return "(" + ", ".join(repr(s) for s in specs) + ")"


def _conform(arg: Any, spec: Any, name: str, fn_name: str) -> Any:
    """Check one argument against its spec (nested), converting Python values to tensors."""
    if not isinstance(spec, TensorSpec):
        if isinstance(spec, Mapping):
            if not isinstance(arg, Mapping) or set(arg) != set(spec):
                raise _structure_error(arg, spec, name, fn_name)
            return {k: _conform(arg[k], spec[k], name, fn_name) for k in spec}
        if isinstance(spec, (list, tuple)):
            if not isinstance(arg, (list, tuple)) or len(arg) != len(spec):
                raise _structure_error(arg, spec, name, fn_name)
            items = [_conform(a, s, name, fn_name) for a, s in zip(arg, spec)]
            return type(spec)(*items) if hasattr(spec, "_fields") else type(spec)(items)
        return arg  # a Python value fixed by the signature
    from savedflow.ops.tensor_conversion import to_tensor

    try:
        tensor = to_tensor(
            arg,
            None if hasattr(type(arg), "_sf_read") or isinstance(arg, torch.Tensor) else spec.dtype,
        )
    except (TypeError, ValueError) as err:
        raise TypeError(
            f"{fn_name}(): argument '{name}' expected {spec!r} but received {arg!r} ({err})."
        ) from None
    received = TensorSpec(tuple(tensor.shape), tensor.dtype)
    if not spec.is_compatible_with(received):
        raise TypeError(
            f"{fn_name}(): argument '{name}' does not match the input_signature: expected {spec!r} "
            f"but received a tensor with shape={received.shape} and dtype={received.dtype.name}."
        )
    return arg if hasattr(type(arg), "_sf_read") else tensor


def _structure_error(arg: Any, spec: Any, name: str, fn_name: str) -> TypeError:
    return TypeError(
        f"{fn_name}(): argument '{name}' should have the structure {spec!r}; received {arg!r}."
    )


def _example_args(value: Any, unknown_size: int = 1) -> Any:
    """Replace TensorSpecs by zero tensors (unknown dims get ``unknown_size``) to trace from specs."""

    def make(leaf: Any) -> Any:
        if isinstance(leaf, TensorSpec):
            if leaf.shape.rank is None:
                raise ValueError(f"Cannot trace from {leaf!r}: its rank is unknown.")
            dims = [unknown_size if d is None else d for d in leaf.shape]
            return torch.zeros(dims, dtype=leaf.dtype.as_torch_dtype)
        return leaf

    return nest.map_structure(make, value)
