"""``jit_compile=True``: recorded function graphs compiled with ``torch.compile``.

A :class:`savedflow.function` trace is already a flat torch.fx graph of ATen ops (forward,
backward and Variable updates), so compiling it needs no Python-level tracing of user code:
dynamo sees a straight-line graph. The compiler is chosen per device by :func:`jit_backend`;
a graph it rejects runs uncompiled, with a warning. On CPU the first calls after compiling
time the compiled graph against the recorded one and keep the faster (:class:`CompiledGraph`).

Random ops give the numbers the recorded graph gives, so compiled and uncompiled calls can
take turns: inductor calls ATen's random kernels (``fallback_random``) rather than its own
generator, and ops drawing from an explicit generator (which dynamo cannot take as an input)
run uncompiled before the compiled rest of the graph, their results passed in
(:func:`split_random`). A graph whose explicit-generator draws depend on its inputs runs
uncompiled, with an INFO log.
"""

from __future__ import annotations

import logging
import operator
import os
import statistics
import time
import warnings
from typing import Any

import torch
import torch.fx

from savedflow.ops.fx_random import is_random, restart_generator, rng_states

__all__ = ["CompiledGraph", "jit_backend", "split_random"]

_log = logging.getLogger("savedflow")


def jit_backend(device: torch.device) -> str:
    """The ``torch.compile`` backend for graphs whose tensors live on ``device``.

    ``inductor`` generates fused kernels for the elementwise parts of a step (activations and
    their gradients, optimizer updates, metric updates) and calls the vendor libraries for
    matrix products and convolutions. ``SAVEDFLOW_JIT_BACKEND`` overrides the choice (any
    backend name ``torch.compile`` accepts, e.g. ``aot_eager``).
    """
    override = os.environ.get("SAVEDFLOW_JIT_BACKEND")
    if override:
        return override
    del device
    return "inductor"


class CompiledGraph:
    """Calls a recorded graph through ``torch.compile``, compiling on the first call.

    On CPU, where a compiled graph is not always faster than the recorded one (ATen's
    convolution and pooling kernels often beat generated code), the next calls alternate
    between the two and time them (:data:`TRIALS` each), then keep the faster, as cuDNN's
    benchmark mode picks among algorithms. Both compute the same function, random draws
    included; results may differ in the last bits. ``SAVEDFLOW_JIT_AUTOTUNE=0`` keeps the
    compiled graph unconditionally.
    """

    def __init__(self, graph_module: torch.fx.GraphModule, name: str):
        self._graph_module = graph_module
        self._name = name
        self._compiled: Any = None
        self._main: Any = None  # the graph torch.compile compiles (without the prefix)
        self._prefix: Any = None  # explicit-generator draws, run before the compiled graph
        self._backend = "inductor"
        self._failed = False
        self._chosen: Any = None
        self._timings: dict[str, list[float]] = {"compiled": [], "graph": []}

    @property
    def chosen(self) -> str | None:
        """``"compiled"`` or ``"graph"`` once decided (None while compiling or timing)."""
        if self._failed:
            return "graph"
        if self._chosen is None:
            return None
        return "graph" if self._chosen == self._graph_module.forward else "compiled"

    def _device(self) -> torch.device:
        for node in self._graph_module.graph.nodes:
            value = node.meta.get("val")
            if isinstance(value, torch.Tensor):
                return value.device
        return torch.device("cpu")

    def __call__(self, *inputs: torch.Tensor) -> Any:
        if self._chosen is not None:
            return self._chosen(*inputs)
        if self._failed:
            return self._graph_module.forward(*inputs)
        if self._main is None:
            device = next((t.device for t in inputs if isinstance(t, torch.Tensor)), None)
            device = device or self._device()
            result = self._compile_and_run(device, inputs)
            if not self._failed and (device.type != "cpu" or not _autotune()):
                self._chosen = self._run_compiled
            return result
        return self._timed(inputs)

    def _compile_and_run(self, device: torch.device, inputs: tuple[torch.Tensor, ...]) -> Any:
        split = split_random(self._graph_module)
        if split is None:
            self._failed = True
            _log.info(
                "jit_compile: function '%s' runs uncompiled: it draws random numbers from an "
                "explicit generator with arguments computed in the graph, which torch.compile "
                "cannot take.",
                self._name,
            )
            return self._graph_module.forward(*inputs)
        self._prefix, self._main = split
        self._backend = jit_backend(device)
        return self._run_compiled(*inputs)

    def _run_compiled(self, *inputs: torch.Tensor) -> Any:
        """Run the compiled graph (compiling on first use); on any failure, the recorded graph."""
        states = [(gen, gen.get_state()) for gen, _ in rng_states(self._graph_module)]
        try:
            if self._compiled is None:
                # ATen's random kernels: the recorded graph's numbers, from the same generators.
                options = {"fallback_random": True} if self._backend == "inductor" else None
                self._compiled = torch.compile(
                    self._main,
                    backend=self._backend,
                    dynamic=False,
                    fullgraph=True,
                    options=options,
                )
            drawn = self._prefix.forward() if self._prefix is not None else ()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # torch's own notes while compiling
                return self._compiled(*inputs, *drawn)
        except Exception as err:  # noqa: BLE001 - a compiler failure falls back to the graph
            for gen, state in states:  # the graph draws what the failed attempt drew
                gen.set_state(state)
            self._failed = True
            self._chosen = self._graph_module.forward
            warnings.warn(
                f"jit_compile: torch.compile could not compile function '{self._name}' "
                f"({type(err).__name__}: {err}); running its graph uncompiled.",
                RuntimeWarning,
                stacklevel=3,
            )
            return self._graph_module.forward(*inputs)

    def _timed(self, inputs: tuple[torch.Tensor, ...]) -> Any:
        timings = self._timings
        kind = "compiled" if len(timings["compiled"]) <= len(timings["graph"]) else "graph"
        run = self._run_compiled if kind == "compiled" else self._graph_module.forward
        start = time.perf_counter()
        result = run(*inputs)
        timings[kind].append(time.perf_counter() - start)
        if len(timings["graph"]) >= TRIALS:
            faster = statistics.median(timings["compiled"]) <= statistics.median(timings["graph"])
            self._chosen = self._run_compiled if faster else self._graph_module.forward
        return result


TRIALS = 3


def _autotune() -> bool:
    return os.environ.get("SAVEDFLOW_JIT_AUTOTUNE", "1") != "0"


# --- explicit generators out of the compiled region -----------------------------------------


def _inputs(node: torch.fx.Node) -> list[torch.fx.Node]:
    return list(node.all_input_nodes)


def _generator_nodes(gm: torch.fx.GraphModule) -> set[torch.fx.Node]:
    found = set()
    for node in gm.graph.nodes:
        if node.op == "get_attr" and isinstance(getattr(gm, node.target, None), torch.Generator):
            found.add(node)
        elif node.op == "call_function" and node.target is restart_generator:
            found.add(node)
    return found


def _is_default_generator(generator: torch.Generator) -> bool:
    if generator._cdata == torch.default_generator._cdata:
        return True
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        return any(generator._cdata == g._cdata for g in torch.cuda.default_generators)
    return False


def _writes_into(node: torch.fx.Node) -> list[torch.fx.Node]:
    """The argument nodes an op writes into (per its schema)."""
    schema = getattr(node.target, "_schema", None)
    if node.op != "call_function" or schema is None or not schema.is_mutable:
        return []
    written = []
    for index, argument in enumerate(schema.arguments):
        info = argument.alias_info
        if info is None or not info.is_write:
            continue
        value = node.args[index] if index < len(node.args) else node.kwargs.get(argument.name)
        if isinstance(value, torch.fx.Node):
            written.append(value)
    return written


def _prefix_nodes(gm: torch.fx.GraphModule) -> set[torch.fx.Node] | None:
    """The draws from explicit generators and everything they need, or None if not separable."""
    generators = _generator_nodes(gm)
    draws = [
        n
        for n in gm.graph.nodes
        if n.op == "call_function" and n not in generators and generators & set(_inputs(n))
    ]
    prefix: set[torch.fx.Node] = set()
    stack = list(draws)
    while stack:
        node = stack.pop()
        if node in prefix:
            continue
        if node.op == "placeholder":
            return None  # a draw depending on the graph's inputs
        prefix.add(node)
        stack.extend(_inputs(node))
    for node in list(gm.graph.nodes):
        if node.op == "call_function" and node.target is operator.getitem:
            if node.args[0] in prefix:
                prefix.add(node)
    for node in prefix:
        if node.op == "get_attr" and node in generators:
            if _is_default_generator(getattr(gm, node.target)):
                return None  # its draws must keep their order with the graph's other draws
        elif node.op == "call_function" and is_random(node.target) and node not in draws:
            return None  # a default-generator draw would move ahead of the graph's others
        for written in _writes_into(node):
            if any(user not in prefix for user in written.users):
                return None  # the compiled part would see the value after the write
    return prefix


def split_random(
    gm: torch.fx.GraphModule,
) -> tuple[torch.fx.GraphModule | None, torch.fx.GraphModule] | None:
    """Split off the draws from explicit generators: ``(prefix, main)`` or None if impossible.

    ``prefix()`` takes no input and returns the drawn tensors the rest needs; ``main`` takes
    the graph's inputs followed by those tensors. Without explicit generators the prefix is
    None and ``main`` is ``gm`` itself. None when a draw depends on the graph's inputs (or
    would move ahead of another draw from the same generator).
    """
    if not _generator_nodes(gm):
        return None, gm
    prefix_nodes = _prefix_nodes(gm)
    if prefix_nodes is None:
        return None
    nodes = list(gm.graph.nodes)
    boundary = [
        n for n in nodes if n in prefix_nodes and any(u not in prefix_nodes for u in n.users)
    ]
    prefix_graph = torch.fx.Graph()
    env: dict[torch.fx.Node, torch.fx.Node] = {}
    for node in nodes:
        if node in prefix_nodes:
            env[node] = prefix_graph.node_copy(node, env.__getitem__)
    prefix_graph.output(tuple(env[n] for n in boundary))
    main_graph = torch.fx.Graph()
    env = {}
    for node in nodes:
        if node.op == "placeholder":
            env[node] = main_graph.node_copy(node)
    for index, node in enumerate(boundary):
        env[node] = main_graph.placeholder(f"drawn_{index}")
    for node in nodes:
        if node.op != "placeholder" and node not in prefix_nodes:
            env[node] = main_graph.node_copy(node, env.__getitem__)
    prefix = torch.fx.GraphModule(gm, prefix_graph, class_name="SavedflowDraws")
    main = torch.fx.GraphModule(gm, main_graph, class_name="SavedflowGraph")
    return prefix, main
