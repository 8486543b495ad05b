"""ConcreteFunction: one trace of a ``savedflow.function``, run as a torch.fx graph when possible.

See :mod:`savedflow.ops.function` for the rules. This module holds the trace itself: the
first run recorded as a graph (:mod:`savedflow.ops.fx_tracer`, with the observers of
:mod:`savedflow.ops.function_observers`) whose inputs are the tensor arguments followed by the
captured Variables, the re-tracing for new shapes, and the call paths (graph or eager).
"""

from __future__ import annotations

import contextlib
import io
import logging
from collections.abc import Callable, Iterator
from typing import Any

import torch
from torch._subclasses.fake_tensor import FakeTensorMode
from torch.utils._python_dispatch import _disable_current_modes

from savedflow import dtypes as _dtypes
from savedflow.errors import UnimplementedError
from savedflow.ops import nest, tensor_compat
from savedflow.ops.function_jit import CompiledGraph
from savedflow.ops.function_observers import (
    _FxObserver,
    _NotGraphable,
    _Observer,
    _observing,
    _restore_variables,
    _variable_creation_error,
)
from savedflow.ops.fx_random import preserved_rng, rng_states
from savedflow.ops.fx_tracer import GraphRecording, trace_to_graph_module
from savedflow.ops.tape_state import state
from savedflow.ops.tensor_spec import TensorSpec

__all__ = ["ConcreteFunction", "spec_of"]

tensor_compat.install()  # tensor value reads must reach the trace observers

_PENDING, _GRAPH, _EAGER = "pending", "graph", "eager"


def _is_variable(value: Any) -> bool:
    return hasattr(type(value), "_sf_read") and hasattr(value, "_storage")


def spec_of(leaf: Any, name: str | None = None, relax: bool = False) -> Any:
    """A TensorSpec for tensors and Variables; other leaves are kept as they are."""
    if isinstance(leaf, torch.Tensor):
        shape = [None] * leaf.dim() if relax else tuple(leaf.shape)
        return TensorSpec(shape, _dtypes.as_dtype(leaf.dtype), name)
    if _is_variable(leaf):
        return TensorSpec(leaf.shape, leaf.dtype, name)
    if isinstance(leaf, TensorSpec):
        return TensorSpec(leaf.shape, leaf.dtype, leaf.name or name)
    return leaf


def _same_results(graph_out: tuple[torch.Tensor, ...], eager_out: list[torch.Tensor]) -> bool:
    if len(graph_out) != len(eager_out):
        return False
    for g, e in zip(graph_out, eager_out):
        e = e.detach()
        if g.shape != e.shape or g.dtype != e.dtype:
            return False
        if not torch.equal(g, e) and not torch.allclose(g, e, rtol=1e-5, atol=1e-6, equal_nan=True):
            return False
    return True


def _graph_outputs(result: Any) -> list[Any]:
    """The leaves of a function's result; a graph returns tensors and keeps constants.

    Raises:
      _NotGraphable: a leaf is neither a tensor nor a constant.
    """
    out_flat = nest.flatten(result)
    for leaf in out_flat:
        if not isinstance(leaf, (torch.Tensor, type(None), int, float, bool, str, bytes)):
            raise _NotGraphable(f"returns a {type(leaf).__name__}")
    return out_flat


def _graph_key(flat: Any) -> tuple[tuple[torch.dtype, torch.Size, torch.device], ...]:
    """Which recorded graph serves these tensor arguments: one per dtypes, shapes and devices.

    Graphs hold their devices (constants, ``device=`` arguments, random generators), so
    arguments on another device get a graph of their own, as TF places a function's ops on the
    devices of each call.
    """
    return tuple((t.dtype, t.shape, t.device) for t in flat)


@contextlib.contextmanager
def _quiet_fake() -> Iterator[None]:
    """Silence torch's error log for shapes a probe expects may not propagate."""
    logger = logging.getLogger("torch._subclasses.fake_tensor")
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        logger.setLevel(level)


def _detach_outside_tapes(result: Any) -> Any:
    """With no tape recording, return plain tensors (as TF's function outputs are)."""
    if type(result) is torch.Tensor:
        return (
            result.detach()
            if result.requires_grad and not state.recording and state.observer is None
            else result
        )
    if state.recording or state.observer is not None:
        return result
    if not nest.is_nested(result):
        return result
    return nest.map_structure(
        lambda t: t.detach() if isinstance(t, torch.Tensor) and t.requires_grad else t, result
    )


# Called as ``observer(concrete_function, graph_module_or_None)`` after each call of a concrete
# function (``savedflow.summary.trace_on`` registers one to collect graphs). Empty by default.
call_observers: list[Callable[[Any, Any], None]] = []


def _graph_module_of(forward: Any) -> Any:
    """The GraphModule a graph call ran (``forward`` is its bound method or a CompiledGraph)."""
    graph = getattr(forward, "_graph_module", None)
    return graph if graph is not None else getattr(forward, "__self__", None)


def _notify_observers(function: Any, graph: Any) -> None:
    for observer in list(call_observers):
        observer(function, graph)


class ConcreteFunction:
    """One trace of a :class:`savedflow.function.Function` for one input signature.

    Attributes:
      structured_input_signature: ``(args, kwargs)`` with TensorSpecs for tensor arguments.
      structured_outputs: the output structure with TensorSpecs for tensors (after tracing).
    """

    def __init__(
        self,
        python_callable: Callable[..., Any],
        signature: tuple[tuple[Any, ...], dict[str, Any]],
        name: str = "function",
        jit_compile: bool = False,
    ):
        self._fn = python_callable
        self._jit_compile = jit_compile
        self.structured_input_signature = signature
        self.name = name
        self.structured_outputs: Any = None
        self._mode = _PENDING
        self._not_graphable_reason: str | None = None
        self._captures: list[Any] = []
        self._graphs: dict[Any, Any] = {}
        self._graph_module: Any = None
        self._only_forward: Any = None
        self._only_devices: tuple[torch.device, ...] = ()
        self._mutating = False
        self._records_autograd = False
        self._output_template: Any = None
        self._output_flat: list[Any] = []
        # Set by Function: binds keywords and defaults to positions, as for Function calls.
        self._bind_arguments: Callable[..., tuple[Any, Any]] | None = None

    # --- introspection ------------------------------------------------------------------------

    @property
    def graph(self) -> Any:
        """The traced torch.fx GraphModule (inputs: tensor args, then captured Variables).

        Raises:
          UnimplementedError: the function could not be traced to a graph (the reason is given).
        """
        if self._graph_module is None:
            raise UnimplementedError(
                f"Function '{self.name}' has no graph: "
                f"{self._not_graphable_reason or 'it has not been traced to a graph yet (call it first)'}."
            )
        return self._graph_module

    @property
    def captured_inputs(self) -> list[Any]:
        """The Variables the function reads, in graph-input order."""
        return list(self._captures)

    @property
    def variables(self) -> tuple[Any, ...]:
        """The Variables the function reads or writes (TF's ``ConcreteFunction.variables``)."""
        return tuple(self._captures)

    @property
    def trainable_variables(self) -> tuple[Any, ...]:
        return tuple(v for v in self._captures if v.trainable)

    @property
    def inputs(self) -> list[TensorSpec]:
        """Specs of the graph inputs: flat tensor arguments, then captured Variables."""
        captured = [TensorSpec(v.shape, v.dtype, v._shared_name) for v in self._captures]
        return self._argument_specs() + captured

    def _argument_specs(self) -> list[TensorSpec]:
        """The TensorSpecs of the input signature, flat (one per tensor argument)."""
        return [
            s for s in nest.flatten(self.structured_input_signature) if isinstance(s, TensorSpec)
        ]

    @property
    def outputs(self) -> list[TensorSpec]:
        return [s for s in nest.flatten(self.structured_outputs) if isinstance(s, TensorSpec)]

    @property
    def function_mode(self) -> str:
        """``"graph"`` when calls run the fx graph, ``"eager"`` when they re-run Python."""
        return self._mode

    def __repr__(self) -> str:
        return f"<ConcreteFunction {self.name}{self.structured_input_signature} mode={self._mode}>"

    # --- matching ---------------------------------------------------------------------------

    def _accepts(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> bool:
        template = nest.flatten(self.structured_input_signature)
        try:
            leaves = nest.flatten((args, kwargs))
        except Exception:
            return False
        if len(template) != len(leaves):
            return False
        for want, got in zip(template, leaves):
            if isinstance(want, TensorSpec):
                if not isinstance(got, torch.Tensor) or not want.is_compatible_with(got):
                    return False
            elif want is not got:
                try:
                    if type(want) is not type(got) or not bool(want == got):
                        return False
                except Exception:
                    return False
        return not any(_is_variable(leaf) for leaf in leaves)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Call this trace directly; arguments must match its input signature."""
        if self._bind_arguments is not None:
            args, kwargs = self._bind_arguments(args, kwargs)
        if not self._accepts(args, kwargs):
            raise TypeError(
                f"ConcreteFunction {self.name} was called with arguments that do not match its "
                f"signature {self.structured_input_signature}. Received: args={args!r}, kwargs={kwargs!r}."
            )
        return self._call_impl(args, kwargs, allow_variable_creation=False)

    # --- calling ------------------------------------------------------------------------------

    def _call_impl(
        self, args: tuple[Any, ...], kwargs: dict[str, Any], allow_variable_creation: bool
    ) -> Any:
        if self._mode == _GRAPH:
            if not kwargs and all(type(a) is torch.Tensor for a in args):
                flat = args
            else:
                flat = [
                    leaf for leaf in nest.flatten((args, kwargs)) if isinstance(leaf, torch.Tensor)
                ]
            forward = self._only_forward
            if forward is not None:
                for tensor, device in zip(flat, self._only_devices):
                    if tensor.device != device:  # the graph was recorded on other devices
                        forward = None
                        break
            if forward is None:
                key = _graph_key(flat)
                forward = self._graphs.get(key)
            if self._mutating and (state.recording or state.observer is not None):
                # A graph that writes Variables runs only at top level; elsewhere re-run Python
                # so tapes and outer traces see the reads and writes.
                forward = None
            elif forward is None and not isinstance(state.observer, _FxObserver):
                forward = self._trace_graph(args, kwargs, flat, key)
            if forward is not None:
                caps = [v._sf_read() for v in self._captures]
                outputs = forward(*flat, *caps)
                if not state.recording and state.observer is None:  # plain tensors, as in TF
                    outputs = tuple(t.detach() if t.requires_grad else t for t in outputs)
                result = self._pack(outputs)
                if call_observers:
                    _notify_observers(self, _graph_module_of(forward))
                return result
        if self._mode == _PENDING:
            result = _detach_outside_tapes(self._observe(args, kwargs, allow_variable_creation))
            if call_observers:
                _notify_observers(self, self._graph_module)
            return result
        previous = state.creation_guard
        state.creation_guard = _variable_creation_error
        try:
            result = self._fn(*args, **kwargs)
        finally:
            state.creation_guard = previous
        return _detach_outside_tapes(result)

    def _trace_with(self, args: Any, kwargs: Any, allow_variable_creation: bool) -> None:
        """Trace from example arguments (``get_concrete_function``); the result is discarded.

        As in TF, tracing does not change Variables: those the run wrote get their values back.
        """
        self._observe(args, kwargs, allow_variable_creation, restore=True)

    def _observe(
        self,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        allow_creation: bool,
        restore: bool = False,
    ) -> Any:
        """Run the Python function once, recording it as a graph while it runs.

        The graph is kept when the run was pure: replayed from the Variables' values from
        before the run, it must reproduce the run's outputs and Variable updates.
        """
        parent = state.observer
        flat = [leaf for leaf in nest.flatten((args, kwargs)) if isinstance(leaf, torch.Tensor)]
        # Inlined in an outer fx trace, the outer trace records the ops; nothing to record here.
        recording = None if isinstance(parent, _FxObserver) else GraphRecording(flat)
        observer = _Observer(parent, allow_creation, recording)
        outer_tapes = bool(state.recording)
        if recording is None:
            with _observing(observer):
                result = self._fn(*args, **kwargs)
        else:
            with _observing(observer), recording:
                result = self._fn(*args, **kwargs)
        if restore and observer.mutates:
            _restore_variables(observer)
        self.structured_outputs = nest.map_structure(lambda leaf: spec_of(leaf), result)
        if observer.new_variables or recording is None:
            return result  # variables were just built (or we are inlined in an outer trace)
        if observer.impure_reason is not None:
            self._set_eager(f"it {observer.impure_reason}")
            return result
        if observer.mutates and outer_tapes:
            # Tapes that read a Variable make its writes copy-on-write, which a graph does not
            # replay; stay pending so a call outside tapes records the graph.
            return result
        self._captures = list(observer.reads.values())
        self._mutating = observer.mutates
        self._records_autograd = observer.uses_tape
        key = _graph_key(flat)
        self._mode = _GRAPH
        try:
            graph_module = self._finish_recording(recording, result, flat, observer.snapshots)
        except Exception as err:  # any failure to record or to match means: run eagerly
            self._set_eager(f"it cannot be traced to a graph ({type(err).__name__}: {err})")
            return result
        self._install_graph(graph_module, key)
        self._probe_unknown_dims(graph_module, flat, observer.snapshots)
        return result

    def _probe_unknown_dims(
        self, graph_module: Any, flat: list[torch.Tensor], snapshots: dict[int, torch.Tensor]
    ) -> None:
        """Mark output dimensions unknown (None) when they follow an unknown input dimension.

        The graph's shapes are propagated once (fake tensors: no data, no kernel runs, so an op
        that trusts its shapes cannot touch memory) from inputs whose unknown dimensions are one
        larger; output dimensions that change become None. A graph whose shapes cannot be
        propagated for other sizes keeps the traced dimensions (they are then right for every
        call it serves).
        """
        specs = self._argument_specs()
        if len(specs) != len(flat) or all(s.shape.is_fully_defined() for s in specs):
            return
        try:
            with _disable_current_modes(), preserved_rng(rng_states(graph_module)), _quiet_fake():
                with FakeTensorMode(allow_non_fake_inputs=True), torch.no_grad():
                    probe = [
                        torch.empty(
                            [n + 1 if d is None else n for d, n in zip(spec.shape, t.shape)],
                            dtype=t.dtype,
                            device=t.device,
                        )
                        for spec, t in zip(specs, flat)
                    ]
                    values = [torch.empty_like(snapshots[id(v)]) for v in self._captures]
                    outputs = graph_module.forward(*probe, *values)
                    shapes = tuple(torch.empty(o.shape, device="meta") for o in outputs)
        except Exception:
            return
        self._relax_outputs(self._pack(shapes))

    def _finish_recording(
        self,
        recording: GraphRecording,
        result: Any,
        flat: list[torch.Tensor],
        snapshots: dict[int, torch.Tensor],
    ) -> Any:
        out_flat = _graph_outputs(result)
        expected = [leaf for leaf in out_flat if isinstance(leaf, torch.Tensor)]
        graph_module = recording.finish(expected)
        # An outer function's recording must not see the check; random ops draw the numbers the
        # run drew, and the generators end where the run left them.
        with _disable_current_modes(), preserved_rng(rng_states(graph_module)):
            values = [snapshots[id(v)].clone() for v in self._captures]
            self._check_graph(graph_module, [t.detach() for t in flat], values, expected)
        self._keep_output_structure(result, out_flat)
        return graph_module

    def _install_graph(self, graph_module: Any, key: Any) -> Any:
        if self._graph_module is None:
            self._graph_module = graph_module
        forward = graph_module.forward
        if self._jit_compile:
            forward = CompiledGraph(graph_module, self.name)
        self._graphs[key] = forward
        # A signature with fully defined tensor shapes has exactly one graph: skip the lookup.
        exact = all(s.shape.is_fully_defined() for s in self._argument_specs())
        self._only_forward = forward if exact and len(self._graphs) == 1 else None
        self._only_devices = tuple(device for _, _, device in key)
        return forward

    def _relax_outputs(self, other_result: Any) -> None:
        """Merge the output specs with those of another call: differing dimensions become None."""
        other = nest.map_structure(lambda leaf: spec_of(leaf), other_result)

        def merge(a: Any, b: Any) -> Any:
            if isinstance(a, TensorSpec) and isinstance(b, TensorSpec):
                return a.most_specific_compatible_type(b)
            return a

        try:
            self.structured_outputs = nest.map_structure(merge, self.structured_outputs, other)
        except ValueError:
            pass

    def _set_eager(self, reason: str) -> None:
        self._mode = _EAGER
        self._not_graphable_reason = reason
        self._graphs.clear()
        self._only_forward = None

    def _trace_graph(
        self,
        args: Any,
        kwargs: Any,
        flat: list[torch.Tensor],
        key: Any,
        check: tuple[list[torch.Tensor], dict[int, torch.Tensor]] | None = None,
    ) -> Any:
        """Trace the function to an fx graph for these tensor shapes; returns its forward or None.

        ``check`` holds the eager run's outputs and the Variables' values before it: the graph
        is replayed from those values and must reproduce the outputs and the Variables' current
        values, or the function stays eager.
        """
        captures = self._captures
        leaves = nest.flatten((args, kwargs))
        positions = [i for i, leaf in enumerate(leaves) if isinstance(leaf, torch.Tensor)]
        holder: dict[str, Any] = {}

        def traced(*inputs: torch.Tensor) -> tuple[torch.Tensor, ...]:
            tensors, caps = inputs[: len(positions)], inputs[len(positions) :]
            new_leaves = list(leaves)
            for pos, tensor in zip(positions, tensors):
                new_leaves[pos] = tensor
            call_args, call_kwargs = nest.pack_sequence_as((args, kwargs), new_leaves)
            observer = _FxObserver({id(v): c for v, c in zip(captures, caps)}, self._mutating)
            with _observing(observer, pause_tapes=True):
                out = self._fn(*call_args, **call_kwargs)
            out_flat = _graph_outputs(out)
            holder["template"], holder["flat"] = out, out_flat
            return tuple(leaf for leaf in out_flat if isinstance(leaf, torch.Tensor))

        def start_values() -> list[torch.Tensor]:
            # Copies: tracing and checking must never write into the real Variables.
            if check is not None:
                return [check[1][id(v)].clone() for v in captures]
            return [v._storage.detach().clone() for v in captures]

        try:
            with contextlib.redirect_stdout(io.StringIO()):
                graph_module = trace_to_graph_module(
                    traced,
                    [t.detach() for t in flat] + start_values(),
                    allow_input_mutation=self._mutating,
                    record_autograd=self._records_autograd,
                )
                if check is not None:
                    self._check_graph(
                        graph_module, [t.detach() for t in flat], start_values(), check[0]
                    )
        except Exception as err:  # any failure to trace or to match means: run eagerly
            self._set_eager(f"it cannot be traced to a graph ({type(err).__name__}: {err})")
            return None
        self._keep_output_structure(holder["template"], holder["flat"])
        self._relax_outputs(holder["template"])  # another size: differing dimensions are None
        return self._install_graph(graph_module, key)

    def _check_graph(
        self,
        graph_module: Any,
        flat: list[torch.Tensor],
        values: list[torch.Tensor],
        expected: list[torch.Tensor],
    ) -> None:
        """Replay the graph from the pre-run values; outputs and written Variables must match.

        A graph holding backward ops replays in grad mode, as it ran: some forward kernels
        (oneDNN's LSTM) keep what their backward op needs only when gradients are on.
        """
        with torch.enable_grad() if self._records_autograd else torch.no_grad():
            outputs = graph_module.forward(*flat, *values)
        if not _same_results(outputs, expected):
            raise _NotGraphable("gives different results as a graph (Python-side state?)")
        if self._mutating:
            current = [v._storage.detach() for v in self._captures]
            if not _same_results(tuple(values), current):
                raise _NotGraphable("updates Variables differently as a graph")

    def _keep_output_structure(self, result: Any, out_flat: list[Any]) -> None:
        """Keep the output structure for :meth:`_pack`, its tensors replaced by empty meta tensors.

        The traced run's own output tensors (and through them its autograd graph, with every
        activation saved for the backward pass) must not live as long as the function.
        """
        placeholder = torch.empty(0, device="meta")
        flat = [placeholder if isinstance(leaf, torch.Tensor) else leaf for leaf in out_flat]
        if isinstance(result, torch.Tensor):
            self._output_template = placeholder
        elif flat:
            self._output_template = nest.pack_sequence_as(result, flat)
        else:
            self._output_template = result
        self._output_flat = flat

    def _pack(self, outputs: tuple[torch.Tensor, ...]) -> Any:
        if type(self._output_template) is torch.Tensor:
            return outputs[0]
        if not self._output_flat:
            return self._output_template
        it = iter(outputs)
        flat = [next(it) if isinstance(leaf, torch.Tensor) else leaf for leaf in self._output_flat]
        if len(flat) == 1 and not nest.is_nested(self._output_template):
            return flat[0]
        return nest.pack_sequence_as(self._output_template, flat)
