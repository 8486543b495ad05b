"""How optimizers reach into savedflow Variables: storage tensors, creation, names.

Kept in one place so the optimizer math never depends on Variable internals.

Reads and in-place writes during an update go through :func:`read` and :func:`target`: inside
a ``savedflow.function`` they ask the trace's observer (``tape_state.state.observer``) for the
tensor standing for the Variable, so the recorded graph reads and writes its inputs; outside a
function both are the storage tensor itself. :func:`storage` is for everything else (shapes,
devices, ``get_weights``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from savedflow.ops.tape_state import state as _tape


def storage(variable: Any) -> torch.Tensor:
    """The torch tensor holding ``variable``'s value (not for updates: see :func:`target`)."""
    tensor = getattr(variable, "_storage", None)
    if tensor is not None:
        return tensor
    if isinstance(variable, torch.Tensor):
        return variable
    raise TypeError(f"Expected a savedflow.Variable, received: {type(variable).__name__}.")


def target(variable: Any) -> torch.Tensor:
    """The tensor an in-place update of ``variable`` reads from and writes into.

    Outside a function trace this is the storage. Inside one, the observer is told the
    Variable is written and may hand back a stand-in (a graph input) to write instead.
    """
    if _tape.observer is not None and is_variable(variable):
        return variable._inplace_target()
    return storage(variable)


def read(variable: Any) -> torch.Tensor:
    """The tensor a read-only use of ``variable`` takes (the observer's, inside a trace)."""
    observer = _tape.observer
    if observer is not None and is_variable(variable):
        return observer.read(variable)
    return storage(variable)


_CONSTANTS: dict[tuple[float, torch.dtype, torch.device], torch.Tensor] = {}


def constant(
    value: float, device: torch.device, dtype: torch.dtype = torch.float32
) -> torch.Tensor:
    """A 0-d tensor holding a fixed number, made once per device: per-step math creates none.

    Use it in expressions, never write into it; a function trace records it as a constant.
    """
    key = (value, dtype, device)
    tensor = _CONSTANTS.get(key)
    if tensor is None:
        if len(_CONSTANTS) > 256:
            _CONSTANTS.clear()
        tensor = _CONSTANTS[key] = torch.tensor(value, dtype=dtype, device=device)
    return tensor


def in_function() -> bool:
    """True while a ``savedflow.function`` records or traces (values must stay tensors)."""
    return _tape.observer is not None


def is_variable(value: Any) -> bool:
    """True for savedflow Variables (anything with a storage tensor)."""
    return getattr(value, "_storage", None) is not None


def make_variable(value: torch.Tensor, name: str) -> Any:
    """A non-trainable savedflow Variable holding ``value`` (no autograd)."""
    from savedflow.variables import Variable

    return Variable(value, trainable=False, name=name)


def move_to(variable: Any, device: torch.device) -> None:
    """Give ``variable`` its value on ``device`` (an optimizer's own state, before it is used)."""
    tensor = storage(variable)
    if tensor.device != device:
        variable.__dict__["_storage"] = tensor.to(device)


def assign(variable: Any, value: Any) -> None:
    """Write ``value`` into ``variable`` without recording gradients."""
    out = target(variable)
    with torch.no_grad():
        out.copy_(to_tensor(value, out))


def to_tensor(value: Any, like: torch.Tensor) -> torch.Tensor:
    """``value`` (tensor, Variable, numpy, number) as a tensor with ``like``'s dtype/device."""
    if is_variable(value):
        value = read(value)
    if isinstance(value, torch.Tensor):
        return value.detach().to(device=like.device, dtype=like.dtype)
    return torch.as_tensor(np.asarray(value), dtype=like.dtype, device=like.device)


def to_float(value: Any) -> float:
    """A Python float from a number, numpy scalar, tensor or Variable."""
    if is_variable(value):
        value = storage(value)
    if isinstance(value, torch.Tensor):
        return float(value.detach().item())
    return float(value)


def scalar(value: Any, device: torch.device) -> torch.Tensor:
    """A hyper-parameter value as a 0-d float32 tensor on ``device``, without reading it on the host.

    Variables are read through :func:`read`; Python numbers become float32 constants.
    """
    if is_variable(value):
        value = read(value)
    if not isinstance(value, torch.Tensor):
        return torch.tensor(float(np.float32(value)), dtype=torch.float32, device=device)
    if value.requires_grad:
        value = value.detach()
    if value.dtype is not torch.float32 or value.device != device:
        value = value.to(device=device, dtype=torch.float32)
    return value if value.dim() == 0 else value.reshape(())


def host_float(variable: Any, cache: dict[int, tuple[Any, int, float]]) -> float:
    """``variable``'s value as a Python float, read on the host only after it was written.

    The storage's version counter (bumped by every in-place write) tells whether the value
    in ``cache`` is still current, so steady-state calls cost no host read or device sync.
    """
    tensor = storage(variable)
    try:
        version = tensor._version
    except RuntimeError:  # inference tensors keep no version counter
        return float(tensor.item())
    hit = cache.get(id(variable))
    if hit is not None and hit[0] is tensor and hit[1] == version:
        return hit[2]
    value = float(tensor.item())
    cache[id(variable)] = (tensor, version, value)
    return value


def grad_tensor(grad: Any, variable: Any) -> torch.Tensor:
    """A gradient as a dense torch tensor on the variable's device."""
    target = storage(variable)
    if type(grad) is torch.Tensor and grad.layout is torch.strided:
        if grad.requires_grad:
            grad = grad.detach()
        return grad if grad.device == target.device else grad.to(target.device)
    if is_variable(grad):
        grad = read(grad)
    if isinstance(grad, torch.Tensor):
        grad = grad.detach()
        if grad.is_sparse:
            grad = grad.to_dense()
        if grad.device != target.device:
            grad = grad.to(target.device)
        return grad
    values = getattr(grad, "values", None)
    indices = getattr(grad, "indices", None)
    if values is not None and indices is not None:  # an IndexedSlices-like object
        dense = torch.zeros_like(target)
        dense.index_add_(
            0,
            torch.as_tensor(indices, device=target.device).long(),
            torch.as_tensor(values, device=target.device, dtype=target.dtype),
        )
        return dense
    return torch.as_tensor(np.asarray(grad), dtype=target.dtype, device=target.device)


def name_of(variable: Any) -> str:
    """The variable's name (``dense/kernel:0``), or its repr."""
    return str(getattr(variable, "name", None) or repr(variable))


def base_name(variable: Any) -> str:
    """The variable's name without the ``:0`` suffix (``dense/kernel``)."""
    name = str(getattr(variable, "name", None) or "Variable")
    head, sep, tail = name.rpartition(":")
    return head if sep and tail.isdigit() else name


def initial_slot_value(base: torch.Tensor, initializer: Any, shape: Any) -> torch.Tensor:
    """The initial value of a slot: zeros, a constant, or an initializer called with the shape."""
    shape = tuple(base.shape) if shape is None else tuple(int(d) for d in shape)
    if isinstance(initializer, str):
        if initializer != "zeros":
            from savedflow.keras import initializers

            initializer = initializers.get(initializer)
        else:
            return torch.zeros(shape, dtype=base.dtype, device=base.device)
    if isinstance(initializer, (int, float)):
        return torch.full(shape, float(initializer), dtype=base.dtype, device=base.device)
    value = initializer(shape, dtype=base.dtype)
    return to_tensor(value, base).reshape(shape).clone()


def constant_initializer(value: Any) -> Any:
    """An initializer ``(shape, dtype) -> tensor`` returning ``value`` (a checkpointed slot)."""

    def initialize(shape: Any, dtype: Any = None) -> torch.Tensor:
        tensor = torch.as_tensor(np.asarray(value))
        return tensor.to(dtype) if isinstance(dtype, torch.dtype) else tensor

    return initialize
