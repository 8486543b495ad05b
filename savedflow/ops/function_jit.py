"""``jit_compile=True``: recorded function graphs compiled with ``torch.compile``.

A :class:`savedflow.function` trace is already a flat torch.fx graph of ATen ops (forward,
backward and Variable updates), so compiling it needs no Python-level tracing of user code:
dynamo sees a straight-line graph. The compiler is chosen per device by :func:`jit_backend`;
a graph it rejects runs uncompiled, with a warning. On CPU the first calls after compiling
time the compiled graph against the recorded one and keep the faster (:class:`CompiledGraph`).
"""

from __future__ import annotations

import os
import statistics
import time
import warnings
from typing import Any

import torch

__all__ = ["CompiledGraph", "jit_backend"]


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
    benchmark mode picks among algorithms. Both compute the same function; results may differ
    in the last bits. ``SAVEDFLOW_JIT_AUTOTUNE=0`` keeps the compiled graph unconditionally.
    """

    def __init__(self, graph_module: torch.fx.GraphModule, name: str):
        self._graph_module = graph_module
        self._name = name
        self._compiled: Any = None
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
        if self._compiled is None:
            device = next((t.device for t in inputs if isinstance(t, torch.Tensor)), None)
            device = device or self._device()
            result = self._compile_and_run(device, inputs)
            if not self._failed and (device.type != "cpu" or not _autotune()):
                self._chosen = self._run_compiled
            return result
        return self._timed(inputs)

    def _compile_and_run(self, device: torch.device, inputs: tuple[torch.Tensor, ...]) -> Any:
        try:
            self._compiled = torch.compile(
                self._graph_module, backend=jit_backend(device), dynamic=False, fullgraph=True
            )
            return self._run_compiled(*inputs)
        except Exception as err:  # noqa: BLE001 - a compiler failure falls back to the graph
            self._failed = True
            warnings.warn(
                f"jit_compile: torch.compile could not compile function '{self._name}' "
                f"({type(err).__name__}: {err}); running its graph uncompiled.",
                RuntimeWarning,
                stacklevel=3,
            )
            return self._graph_module.forward(*inputs)

    def _run_compiled(self, *inputs: torch.Tensor) -> Any:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # torch's own notes while compiling
            return self._compiled(*inputs)

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
