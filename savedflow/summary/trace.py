"""trace_on / trace_export / trace_off: record the graphs of savedflow.function calls.

While tracing is on, every call of a traced function (a concrete function holding a torch.fx
graph) is recorded once; ``trace_export`` writes all of them as one GraphDef in a ``graph_def``
event of the default writer, which TensorBoard's Graphs dashboard shows.

While tracing, ``trace_on`` registers an observer in ``savedflow.ops.function_trace``'s
``call_observers``, which every concrete function notifies after a call with the graph it ran;
``trace_off`` (and ``trace_export``) removes it. :func:`record_function_call` records a graph
directly.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from savedflow.summary import summary_ops
from savedflow.summary import writer as writer_lib
from savedflow.summary.graph_def import graph_def_from_fx

_log = logging.getLogger("savedflow.summary")
_lock = threading.Lock()


class _TraceState:
    def __init__(self) -> None:
        self.active = False
        self.graph = True
        self.profiler = False
        self.profiler_outdir: str | None = None
        self.graphs: list[tuple[str, Any]] = []
        self.seen: set[int] = set()


_state = _TraceState()


def fx_graph_of(function: Any) -> Any:
    """The torch.fx Graph/GraphModule of ``function`` (itself, or a concrete function's), or None."""
    import torch.fx

    if isinstance(function, (torch.fx.GraphModule, torch.fx.Graph)):
        return function
    graph = getattr(function, "_graph_module", None)  # a savedflow ConcreteFunction
    return graph if isinstance(graph, (torch.fx.GraphModule, torch.fx.Graph)) else None


def record_function_call(function: Any, name: str | None = None, graph: Any = None) -> None:
    """Hook for function implementations: record ``function``'s graph if tracing is on."""
    if not (_state.active and _state.graph):
        return
    graph = fx_graph_of(function) if graph is None else graph
    if graph is None:
        return
    with _lock:
        if id(graph) in _state.seen:
            return
        _state.seen.add(id(graph))
        label = name or getattr(function, "name", None) or getattr(function, "__name__", "function")
        _state.graphs.append((str(label), graph))


def _on_function_call(function: Any, graph: Any) -> None:
    if graph is not None:
        record_function_call(function, graph=graph)


def _observe_function_calls(on: bool) -> None:
    from savedflow.ops import function_trace

    observers = function_trace.call_observers
    if on and _on_function_call not in observers:
        observers.append(_on_function_call)
    elif not on and _on_function_call in observers:
        observers.remove(_on_function_call)


def trace_on(
    graph: bool = True, profiler: bool = False, profiler_outdir: str | None = None
) -> None:
    """Start recording the graphs of function calls (``profiler`` is recorded, not run)."""
    with _lock:
        if _state.active:
            _log.warning("Cannot enable trace inside a trace; trace_on() was already called.")
            return
        _state.active, _state.graph = True, bool(graph)
        _state.profiler, _state.profiler_outdir = bool(profiler), profiler_outdir
        _state.graphs, _state.seen = [], set()
    _observe_function_calls(True)


def trace_off() -> None:
    """Stop recording and forget what was recorded."""
    with _lock:
        _state.active = False
        _state.graphs, _state.seen = [], set()
    _observe_function_calls(False)


def trace_export(name: str, step: Any = None, profiler_outdir: str | None = None) -> bool:
    """Write the recorded graphs as a GraphDef event to the default writer, then stop tracing.

    Returns True when something was written. ``profiler_outdir`` is accepted for TF
    compatibility; savedflow records no profiler data (see ``savedflow.profiler``).
    """
    del profiler_outdir
    with _lock:
        graphs = list(_state.graphs)
        active = _state.active
    written = False
    if not active:
        _log.warning("Can't export trace without enabling it first: call trace_on().")
    elif writer_lib.default_writer() is None:
        _log.warning("trace_export(%r): no default summary writer; nothing written.", name)
    elif graphs:
        graph_def = graph_def_from_fx(graphs)
        no_step = step is None and writer_lib.get_step() is None
        event_step = 0 if no_step else writer_lib.resolve_step(step)
        written = summary_ops.write_graph_event(graph_def, event_step)
    trace_off()
    return written


def recorded_graphs() -> list[tuple[str, Any]]:
    """The (name, fx graph) pairs recorded since trace_on (for tests and tools)."""
    with _lock:
        return list(_state.graphs)
