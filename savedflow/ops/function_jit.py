"""``jit_compile=True``: recorded function graphs compiled with ``torch.compile``.

A :class:`savedflow.function` trace is already a flat torch.fx graph of ATen ops (forward,
backward and Variable updates), so compiling it needs no Python-level tracing of user code:
dynamo sees a straight-line graph. The compiler is chosen per device by :func:`jit_backend`;
a graph it rejects runs uncompiled, with a warning, as TF runs a function XLA cannot compile
only when asked not to fail.
"""

from __future__ import annotations

import os
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
    """Calls a recorded graph through ``torch.compile``, compiling on the first call."""

    def __init__(self, graph_module: torch.fx.GraphModule, name: str):
        self._graph_module = graph_module
        self._name = name
        self._compiled: Any = None
        self._failed = False

    def _device(self) -> torch.device:
        for node in self._graph_module.graph.nodes:
            value = node.meta.get("val")
            if isinstance(value, torch.Tensor):
                return value.device
        return torch.device("cpu")

    def __call__(self, *inputs: torch.Tensor) -> Any:
        if self._failed:
            return self._graph_module.forward(*inputs)
        try:
            if self._compiled is None:
                device = next((t.device for t in inputs if isinstance(t, torch.Tensor)), None)
                backend = jit_backend(device or self._device())
                self._compiled = torch.compile(
                    self._graph_module, backend=backend, dynamic=False, fullgraph=True
                )
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # torch's own notes while compiling
                return self._compiled(*inputs)
        except Exception as err:  # noqa: BLE001 - a compiler failure falls back to the graph
            self._failed = True
            warnings.warn(
                f"jit_compile: torch.compile could not compile function '{self._name}' "
                f"({type(err).__name__}: {err}); running its graph uncompiled.",
                RuntimeWarning,
                stacklevel=2,
            )
            return self._graph_module.forward(*inputs)
