"""A small ATen-level tracer: runs a function on real tensors and records its ops as a torch.fx graph.

It does what ``make_fx(..., tracing_mode="real")`` does for savedflow's needs, without the
multi-second first-use import of torch._dynamo that make_fx triggers. A ``TorchDispatchMode``
sees every ATen op below autograd, executes it, and appends a node to an ``fx.Graph``; tensors
are matched to nodes by identity. Tensors that appear without having been produced inside the
trace become constants of the GraphModule.

Anything a replay could not reproduce raises :class:`NotTraceable`: reading a tensor value into
Python (``.item()``, ``bool(t)``, data-dependent control flow), ops returning Python scalars,
in-place ops on graph inputs.

Random ops are recorded with the generator they draw from (an explicit generator becomes an
attribute of the GraphModule; otherwise the device's default generator), so every replay draws
fresh numbers from it, as TF's stateful random ops do in a graph. The recorder keeps each
generator's state from before its first use, so a replay can be checked against the recorded
run and a trace can leave the generators as it found them (:func:`rng_states` and
:func:`preserved_rng` in :mod:`savedflow.ops.fx_random`).
"""

from __future__ import annotations

import contextlib
import operator
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import torch
import torch.fx
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_map

from savedflow.ops.fx_random import (
    GeneratorUses,
    UnrecordableGenerator,
    is_random,
)
from savedflow.ops.tensor_compat import _printing

__all__ = [
    "GraphRecording",
    "NotTraceable",
    "trace_to_graph_module",
]


class NotTraceable(Exception):
    """The function does something a recorded graph cannot replay."""


_VALUE_READS = {
    torch.ops.aten._local_scalar_dense.default,
    torch.ops.aten.equal.default,
    torch.ops.aten.is_nonzero.default,
}


class _Recorder(TorchDispatchMode):
    @classmethod
    def _should_skip_dynamo(cls) -> bool:
        # Otherwise torch wraps __torch_dispatch__ with a lazy torch._dynamo import (seconds).
        return False

    def __init__(
        self,
        graph: torch.fx.Graph,
        root: torch.nn.Module,
        inputs: dict[int, Any],
        allow_input_mutation: bool,
        soft: bool = False,
    ):
        super().__init__()
        self.graph = graph
        self.root = root
        self.allow_input_mutation = allow_input_mutation
        self.nodes: dict[int, tuple[torch.Tensor, torch.fx.Node]] = {}
        self.input_ids = set(inputs)
        self.constants = 0
        # Soft mode (GraphRecording): a failure stops recording but the ops still run.
        self.soft = soft
        self.failure: str | None = None
        self.mutable_ids: set[int] = set()
        self.rng = GeneratorUses()  # the generators drawn from, with their states before
        for tensor, node in inputs.values():
            self.nodes[id(tensor)] = (tensor, node)

    def node_for(self, tensor: torch.Tensor) -> torch.fx.Node:
        entry = self.nodes.get(id(tensor))
        if entry is not None and entry[0] is tensor:
            return entry[1]
        name = f"_constant_{self.constants}"
        self.constants += 1
        self.root.register_buffer(name, tensor.detach(), persistent=False)
        node = self.graph.get_attr(name)
        self.nodes[id(tensor)] = (tensor, node)
        return node

    def _check_mutation(
        self, func: Any, schema: Any, args: Sequence[Any], kwargs: dict[str, Any]
    ) -> None:
        """Refuse writes into tensors the graph does not own, before they happen."""
        for index, argument in enumerate(schema.arguments):
            info = argument.alias_info
            if info is None or not info.is_write:
                continue
            value = args[index] if index < len(args) else kwargs.get(argument.name)
            if not isinstance(value, torch.Tensor):
                continue
            entry = self.nodes.get(id(value))
            if entry is None or entry[0] is not value:
                raise NotTraceable(
                    f"modifies a tensor created outside the function in place ({func})"
                )
            if (
                id(value) in self.input_ids
                and not self.allow_input_mutation
                and id(value) not in self.mutable_ids
            ):
                raise NotTraceable(f"modifies a graph input in place ({func})")

    def _to_nodes(self, value: Any) -> Any:
        return tree_map(lambda v: self.node_for(v) if isinstance(v, torch.Tensor) else v, value)

    def __torch_dispatch__(
        self, func: Any, types: Any, args: Sequence[Any] = (), kwargs: Any = None
    ) -> Any:
        kwargs = kwargs or {}
        if self.soft and (self.failure is not None or _printing.depth):
            return func(*args, **kwargs)  # printing reads values but feeds nothing
        try:
            node_args, node_kwargs = self._prepare(func, args, kwargs)
        except NotTraceable as err:
            if not self.soft:
                raise
            self.failure = str(err)
            return func(*args, **kwargs)
        out = func(*args, **kwargs)
        try:
            self._record(func, node_args, node_kwargs, out)
        except NotTraceable as err:
            if not self.soft:
                raise
            self.failure = str(err)
        return out

    def _prepare(self, func: Any, args: Sequence[Any], kwargs: dict[str, Any]) -> Any:
        if func in _VALUE_READS:
            raise NotTraceable(
                f"reads a tensor value into Python ({func}); data-dependent code cannot be a graph"
            )
        schema = getattr(func, "_schema", None)
        if schema is not None and schema.is_mutable:
            self._check_mutation(func, schema, args, kwargs)
        node_args, node_kwargs = self._to_nodes(tuple(args)), self._to_nodes(dict(kwargs))
        if is_random(func):
            try:
                generator, where = self.rng.note_op(func, args, kwargs)
            except UnrecordableGenerator as err:
                raise NotTraceable(str(err)) from None
            if generator is not None:
                node = self.rng.attribute_node(self.graph, generator)
                if isinstance(where, int):
                    node_args = (*node_args[:where], node, *node_args[where + 1 :])
                else:
                    node_kwargs["generator"] = node
        return node_args, node_kwargs

    def _record(self, func: Any, node_args: Any, node_kwargs: Any, out: Any) -> None:
        node = self.graph.call_function(func, node_args, node_kwargs)
        if isinstance(out, torch.Tensor):
            self.nodes[id(out)] = (out, node)
        elif isinstance(out, (tuple, list)):
            for index, item in enumerate(out):
                if isinstance(item, torch.Tensor):
                    self.nodes[id(item)] = (
                        item,
                        self.graph.call_function(operator.getitem, (node, index)),
                    )
                elif item is not None:
                    raise NotTraceable(f"{func} returned a {type(item).__name__}")
        elif out is not None:
            raise NotTraceable(f"{func} returned a Python {type(out).__name__}")


def _symbolic_repr(self: torch.Tensor, *args: Any, **kwargs: Any) -> str:
    return f"Tensor(shape={tuple(self.shape)}, dtype={self.dtype})"


@contextlib.contextmanager
def _symbolic_printing() -> Iterator[None]:
    """Print tensors by shape and dtype while tracing, as TF prints symbolic tensors.

    Formatting a tensor's values would read them into Python and make the trace fail.
    """
    saved = {
        name: torch.Tensor.__dict__.get(name) for name in ("__repr__", "__str__", "__format__")
    }
    for name in saved:
        setattr(torch.Tensor, name, _symbolic_repr)
    try:
        yield
    finally:
        for name, original in saved.items():
            if original is None:
                delattr(torch.Tensor, name)
            else:
                setattr(torch.Tensor, name, original)


def trace_to_graph_module(
    fn: Callable[..., Sequence[torch.Tensor]],
    example_inputs: Sequence[torch.Tensor],
    allow_input_mutation: bool = False,
    record_autograd: bool = False,
) -> torch.fx.GraphModule:
    """Run ``fn(*example_inputs)`` (which returns a tuple of tensors) and record it as a GraphModule.

    The GraphModule's ``forward`` takes the inputs positionally and returns a tuple of tensors.
    With ``allow_input_mutation``, in-place writes into the inputs are recorded (replaying the
    graph then writes into the tensors passed to it). With ``record_autograd``, grad mode stays
    on so gradients computed inside ``fn`` are recorded as explicit backward ops.

    Raises:
      NotTraceable: ``fn`` reads tensor values into Python or otherwise cannot be replayed.
    """
    graph = torch.fx.Graph()
    root = torch.nn.Module()
    inputs = {}
    placeholders = []
    for index, tensor in enumerate(example_inputs):
        node = graph.placeholder(f"arg{index}")
        inputs[id(tensor)] = (tensor, node)
        placeholders.append(tensor)
    recorder = _Recorder(graph, root, inputs, allow_input_mutation)
    grad_mode = torch.enable_grad() if record_autograd else torch.no_grad()
    try:
        with grad_mode, _symbolic_printing(), recorder:
            outputs = fn(*placeholders)
    finally:
        recorder.rng.restore()  # tracing draws no random numbers
    graph.output(tuple(recorder.node_for(t) for t in outputs))
    graph.eliminate_dead_code()
    return _graph_module(root, graph, recorder)


def _graph_module(
    root: torch.nn.Module, graph: torch.fx.Graph, recorder: _Recorder
) -> torch.fx.GraphModule:
    states = recorder.rng.install(root, graph)
    module = torch.fx.GraphModule(root, graph, class_name="SavedflowGraph")
    module._sf_rng_states = states
    return module


class GraphRecording:
    """Records the ATen ops of one real run as a GraphModule while the run goes on as usual.

    Unlike :func:`trace_to_graph_module`, nothing is refused: an op the graph could not replay
    only ends the recording (``failure`` says why) and the run continues on the real tensors.
    Inputs are the ``example_inputs`` (which the graph may not write) followed by tensors added
    with :meth:`add_input` while running (Variable storages, which it may write).
    """

    def __init__(self, example_inputs: Sequence[torch.Tensor]):
        self.graph = torch.fx.Graph()
        self.root = torch.nn.Module()
        self._last: torch.fx.Node | None = None
        self._count = 0
        self._recorder = _Recorder(self.graph, self.root, {}, False, soft=True)
        for tensor in example_inputs:
            self.add_input(tensor)

    @property
    def failure(self) -> str | None:
        return self._recorder.failure

    def fail(self, reason: str) -> None:
        """Stop recording (the graph could not replay the run)."""
        if self._recorder.failure is None:
            self._recorder.failure = reason

    def add_input(self, tensor: torch.Tensor, writable: bool = False) -> None:
        """Make ``tensor`` the next graph input (before any recorded op)."""
        if self._last is None:
            context = self.graph.inserting_before(None)
        else:
            context = self.graph.inserting_after(self._last)
        with context:
            node = self.graph.placeholder(f"arg{self._count}")
        self._count += 1
        self._last = node
        recorder = self._recorder
        recorder.nodes[id(tensor)] = (tensor, node)
        recorder.input_ids.add(id(tensor))
        if writable:
            recorder.mutable_ids.add(id(tensor))

    def alias(self, tensor: torch.Tensor, original: torch.Tensor) -> None:
        """Let ``tensor`` stand for the same graph value as ``original`` (same values)."""
        entry = self._recorder.nodes.get(id(original))
        if entry is not None and entry[0] is original and tensor is not original:
            self._recorder.nodes[id(tensor)] = (tensor, entry[1])

    def __enter__(self) -> GraphRecording:
        self._recorder.__enter__()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._recorder.__exit__(*exc)

    def finish(self, outputs: Sequence[torch.Tensor]) -> torch.fx.GraphModule:
        """The recorded GraphModule returning ``outputs``.

        Raises:
          NotTraceable: the recording failed.
        """
        if self.failure is not None:
            raise NotTraceable(self.failure)
        self.graph.output(tuple(self._recorder.node_for(t) for t in outputs))
        self.graph.eliminate_dead_code()
        return _graph_module(self.root, self.graph, self._recorder)
