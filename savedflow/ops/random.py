"""``savedflow.random``: seedable random tensors with TF's seeding rules.

``set_seed(s)`` makes the following sequence of random ops reproducible. An op-level ``seed``
gives its own stream, determined by the global seed and the op seed together: after
``set_seed(s)``, the n-th call of ``normal(shape, seed=k)`` returns the same values in every run.
Without any seed the values differ between runs.

Inside a ``savedflow.function`` these ops are recorded into the graph with the generator they
draw from, so every call draws new numbers and the calls give exactly what eager calls would
give; ``set_seed`` reseeds the generators in place, so the sequence restarts for graphs too.
TF's graphs differ in details eager TF and savedflow share: in a ``tf.function`` each op keeps
its own stream (two ``uniform(seed=1)`` ops in one function give equal values, a retrace starts
the streams anew, and the function's stream is separate from eager calls with the same seed),
whereas here every op with the same seed, traced or eager, continues one stream.

Example::

    >>> import savedflow as tf
    >>> tf.random.set_seed(1); a = tf.random.normal([2])
    >>> tf.random.set_seed(1); b = tf.random.normal([2])
    >>> bool((a == b).all())
    True
"""

from __future__ import annotations

import math
import threading
from typing import Any

import numpy as np
import torch

from savedflow import dtypes as _dtypes
from savedflow.errors import InvalidArgumentError
from savedflow.ops.array_ops import _shape_list
from savedflow.ops.tensor_conversion import to_tensor, torch_dtype

__all__ = [
    "set_seed",
    "get_global_seed",
    "normal",
    "uniform",
    "truncated_normal",
    "shuffle",
    "categorical",
]

_DEFAULT_GRAPH_SEED = 87654321  # TF's seed when only an op seed is given
_MASK = (1 << 63) - 1


class _SeedState:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.global_seed: int | None = None
        self.global_gen = torch.Generator()
        self.global_gen.seed()
        self.op_gens: dict[int, torch.Generator] = {}


_state = _SeedState()


def set_seed(seed: int | None) -> None:
    """Set the global seed; random ops that follow repeat the same sequence for the same seed.

    As in TF, the seed also governs randomness that is not a ``savedflow.random`` op: unseeded
    Keras initializers and dropout draw from torch's global generator, which is seeded too.
    """
    with _state.lock:
        _state.global_seed = None if seed is None else int(seed)
        if seed is None:
            _state.global_gen.seed()
        else:
            _state.global_gen.manual_seed(int(seed) & _MASK)
            torch.manual_seed(int(seed) & _MASK)
        # Reseeded in place: graphs recorded by savedflow.function hold these generators.
        for op_seed, gen in _state.op_gens.items():
            gen.manual_seed(_op_stream_seed(op_seed))


def get_global_seed() -> int | None:
    return _state.global_seed


def _op_stream_seed(seed: int) -> int:
    """The seed of op seed ``seed``'s stream under the current global seed."""
    base = _DEFAULT_GRAPH_SEED if _state.global_seed is None else _state.global_gen.initial_seed()
    return (base * 1_000_003 + seed) & _MASK


def _generator(seed: int | None) -> torch.Generator:
    """The generator a random op draws from: the global one, or op seed ``seed``'s own.

    Inside a ``savedflow.function`` the recorded graph keeps this generator, so each call of
    the graph continues its sequence as each eager call would.
    """
    if seed is None:
        return _state.global_gen
    seed = int(seed)
    with _state.lock:
        gen = _state.op_gens.get(seed)
        if gen is None:
            gen = torch.Generator()
            gen.manual_seed(_op_stream_seed(seed))
            _state.op_gens[seed] = gen
    return gen


def _float_dtype(dtype: Any, op: str) -> torch.dtype:
    tdtype = torch_dtype(dtype)
    if not tdtype.is_floating_point:
        raise ValueError(
            f"{op}: Invalid dtype {_dtypes.as_dtype(tdtype).name}; expected a floating point type."
        )
    return tdtype


def _place(tensor: torch.Tensor) -> torch.Tensor:
    device = torch.get_default_device()
    return tensor if tensor.device == device else tensor.to(device)


def _scale_shift(sample: torch.Tensor, tdtype: torch.dtype, scale: Any, shift: Any) -> torch.Tensor:
    """``sample * scale + shift`` in ``tdtype``, on the default device."""
    out = _place(sample.to(tdtype))
    return out * to_tensor(scale, tdtype, out.device) + to_tensor(shift, tdtype, out.device)


def normal(
    shape: Any,
    mean: Any = 0.0,
    stddev: Any = 1.0,
    dtype: Any = _dtypes.float32,
    seed: int | None = None,
    name: str | None = None,
) -> torch.Tensor:
    """Samples from a normal distribution with ``mean`` and ``stddev``."""
    tdtype = _float_dtype(dtype, "random.normal")
    sample = torch.randn(
        _shape_list(shape),
        generator=_generator(seed),
        dtype=torch.float32 if tdtype == torch.float16 else tdtype,
    )
    return _scale_shift(sample, tdtype, stddev, mean)


def truncated_normal(
    shape: Any,
    mean: Any = 0.0,
    stddev: Any = 1.0,
    dtype: Any = _dtypes.float32,
    seed: int | None = None,
    name: str | None = None,
) -> torch.Tensor:
    """Normal samples restricted to two standard deviations around the mean.

    Each value is drawn by inverting the normal distribution function on a uniform sample
    between its values at -2 and 2, so a call draws one number per value whatever they are
    (rejection sampling would redraw a data-dependent number of them, which a recorded graph
    cannot replay).
    """
    tdtype = _float_dtype(dtype, "random.truncated_normal")
    uniform = torch.rand(_shape_list(shape), generator=_generator(seed), dtype=torch.float64)
    probability = _NORMAL_CDF_MINUS_2 + uniform * (1.0 - 2.0 * _NORMAL_CDF_MINUS_2)
    sample = (torch.erfinv(2.0 * probability - 1.0) * math.sqrt(2.0)).clamp_(-2.0, 2.0)
    return _scale_shift(sample, tdtype, stddev, mean)


_NORMAL_CDF_MINUS_2 = 0.5 * math.erfc(math.sqrt(2.0))  # P(N(0, 1) < -2)


def uniform(
    shape: Any,
    minval: Any = 0,
    maxval: Any = None,
    dtype: Any = _dtypes.float32,
    seed: int | None = None,
    name: str | None = None,
) -> torch.Tensor:
    """Uniform samples in ``[minval, maxval)`` (``maxval`` defaults to 1 for floats).

    Raises:
      ValueError: an integer dtype without ``maxval``.
    """
    tdtype = torch_dtype(dtype)
    gen = _generator(seed)
    dims = _shape_list(shape)
    if not tdtype.is_floating_point:
        if maxval is None:
            raise ValueError(
                f"Must specify maxval for integer dtype {_dtypes.as_dtype(tdtype).name}"
            )
        low, high = _python_int(minval), _python_int(maxval)
        if low >= high:
            raise InvalidArgumentError(
                f"Need minval < maxval: {low} >= {high} [Op:RandomUniformInt]"
            )
        return _place(torch.randint(low, high, dims, generator=gen, dtype=tdtype))
    maxval = 1.0 if maxval is None else maxval
    sample = _place(
        torch.rand(
            dims, generator=gen, dtype=torch.float32 if tdtype == torch.float16 else tdtype
        ).to(tdtype)
    )
    low = to_tensor(minval, tdtype, sample.device)
    high = to_tensor(maxval, tdtype, sample.device)
    return sample * (high - low) + low


def _python_int(value: Any) -> int:
    """An integer bound as a Python int (a tensor's value is read, which a graph cannot record)."""
    if isinstance(value, (int, np.integer)):
        return int(value)
    return int(to_tensor(value).item())


def shuffle(value: Any, seed: int | None = None, name: str | None = None) -> torch.Tensor:
    """``value`` with its first dimension randomly permuted."""
    t = to_tensor(value)
    order = torch.randperm(t.shape[0], generator=_generator(seed)).to(t.device)
    return t[order]


def categorical(
    logits: Any,
    num_samples: int,
    dtype: Any = _dtypes.int64,
    seed: int | None = None,
    name: str | None = None,
) -> torch.Tensor:
    """Draw ``num_samples`` class indices per row of ``logits`` ([batch, classes])."""
    t = to_tensor(logits)
    probs = torch.softmax(t.to(torch.float64), dim=-1).cpu()
    draws = torch.multinomial(probs, int(num_samples), replacement=True, generator=_generator(seed))
    return _place(draws.to(torch_dtype(dtype)))
