"""Random initializers: RandomNormal/Uniform, TruncatedNormal, VarianceScaling and its presets.

A seeded initializer returns the same values at every call (like TF's stateless generators);
an unseeded one draws from torch's global generator (seeded by ``torch.manual_seed`` or
``keras.utils.set_random_seed``). Values are drawn on the CPU and moved to the default device
so that a seed gives the same weights everywhere.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch

from savedflow.keras.initializers.initializer import (
    Initializer,
    default_device,
    float_dtype,
    normalize_shape,
    to_torch_dtype,
)
from savedflow.ops.fx_random import fresh_generator

# Standard deviation of a unit normal truncated to [-2, 2]: rescales truncated draws.
_TRUNCATED_STDDEV = 0.87962566103423978


def _generator(seed: int | None) -> torch.Generator | None:
    """A new generator per call for seeded initializers: each call gives the same values, as
    tf.keras 2.x's seeded initializers do (in a recorded graph too)."""
    if seed is None:
        return None
    return fresh_generator(int(seed))


def _finish(values: torch.Tensor, dtype: torch.dtype) -> torch.Tensor:
    return values.to(device=default_device(), dtype=dtype)


def _normal(shape, mean, stddev, seed) -> torch.Tensor:
    out = torch.empty(shape, dtype=torch.float32)
    return out.normal_(float(mean), float(stddev), generator=_generator(seed))


def _truncated(shape, mean, stddev, seed) -> torch.Tensor:
    out = torch.empty(shape, dtype=torch.float32)
    mean, stddev = float(mean), float(stddev)
    lo, hi = mean - 2.0 * stddev, mean + 2.0 * stddev
    return torch.nn.init.trunc_normal_(out, mean, stddev, lo, hi, generator=_generator(seed))


def _uniform(shape, minval, maxval, seed) -> torch.Tensor:
    out = torch.empty(shape, dtype=torch.float32)
    return out.uniform_(float(minval), float(maxval), generator=_generator(seed))


class _MeanStddev(Initializer):
    """Base of RandomNormal and TruncatedNormal: ``_sample(shape, mean, stddev, seed)`` draws."""

    _sample = staticmethod(_normal)

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: int | None = None) -> None:
        self.mean = mean
        self.stddev = stddev
        self.seed = seed

    def __call__(self, shape: Sequence[int], dtype: Any = None, **kwargs: Any) -> torch.Tensor:
        dtype = float_dtype(dtype, type(self).__name__)
        values = self._sample(normalize_shape(shape), self.mean, self.stddev, self.seed)
        return _finish(values, dtype)

    def get_config(self) -> dict[str, Any]:
        return {"mean": self.mean, "stddev": self.stddev, "seed": self.seed}


class RandomNormal(_MeanStddev):
    """Initializer drawing from a normal distribution N(mean, stddev)."""


class RandomUniform(Initializer):
    """Initializer drawing uniformly from [minval, maxval)."""

    def __init__(
        self, minval: float = -0.05, maxval: float = 0.05, seed: int | None = None
    ) -> None:
        self.minval = minval
        self.maxval = maxval
        self.seed = seed

    def __call__(self, shape: Sequence[int], dtype: Any = None, **kwargs: Any) -> torch.Tensor:
        shape = normalize_shape(shape)
        dtype = _any_numeric(dtype)
        if not dtype.is_floating_point:
            gen = _generator(self.seed)
            out = torch.randint(int(self.minval), int(self.maxval), shape, generator=gen)
            return _finish(out, dtype)
        return _finish(_uniform(shape, self.minval, self.maxval, self.seed), dtype)

    def get_config(self) -> dict[str, Any]:
        return {"minval": self.minval, "maxval": self.maxval, "seed": self.seed}


def _any_numeric(dtype: Any) -> torch.dtype:
    result = to_torch_dtype(dtype)
    if result == torch.bool or result.is_complex:
        raise ValueError(f"Invalid dtype {dtype} for RandomUniform; use a numeric dtype.")
    return result


class TruncatedNormal(_MeanStddev):
    """Initializer drawing from N(mean, stddev) with values beyond 2 stddevs redrawn."""

    _sample = staticmethod(_truncated)


def compute_fans(shape: Sequence[int]) -> tuple[float, float]:
    """Returns (fan_in, fan_out) of a weight shape as Keras computes them."""
    if len(shape) < 1:
        return 1.0, 1.0
    if len(shape) == 1:
        return float(shape[0]), float(shape[0])
    if len(shape) == 2:
        return float(shape[0]), float(shape[1])
    receptive = math.prod(shape[:-2])
    return float(shape[-2] * receptive), float(shape[-1] * receptive)


class VarianceScaling(Initializer):
    """Initializer whose scale adapts to the weight's fan-in/fan-out.

    Args:
        scale: Positive scaling factor.
        mode: One of "fan_in", "fan_out", "fan_avg".
        distribution: "truncated_normal" (alias "normal"), "untruncated_normal" or "uniform".
        seed: Optional integer seed.
    """

    def __init__(
        self,
        scale: float = 1.0,
        mode: str = "fan_in",
        distribution: str = "truncated_normal",
        seed: int | None = None,
    ) -> None:
        if scale <= 0.0:
            raise ValueError(f"`scale` must be positive float. Received: scale={scale}.")
        modes = ("fan_in", "fan_out", "fan_avg")
        if mode not in modes:
            raise ValueError(f"Invalid `mode` argument: {mode}. Please use one of {modes}.")
        distribution = distribution.lower()
        if distribution == "normal":
            distribution = "truncated_normal"
        dists = ("uniform", "truncated_normal", "untruncated_normal")
        if distribution not in dists:
            raise ValueError(
                f"Invalid `distribution` argument: {distribution}. Allowed distributions: {dists}."
            )
        self.scale = scale
        self.mode = mode
        self.distribution = distribution
        self.seed = seed

    def __call__(self, shape: Sequence[int], dtype: Any = None, **kwargs: Any) -> torch.Tensor:
        dtype = float_dtype(dtype, type(self).__name__)
        shape = normalize_shape(shape)
        fan_in, fan_out = compute_fans(shape)
        fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}
        scale = self.scale / max(1.0, fan[self.mode])
        if self.distribution == "truncated_normal":
            values = _truncated(shape, 0.0, math.sqrt(scale) / _TRUNCATED_STDDEV, self.seed)
        elif self.distribution == "untruncated_normal":
            values = _normal(shape, 0.0, math.sqrt(scale), self.seed)
        else:
            limit = math.sqrt(3.0 * scale)
            values = _uniform(shape, -limit, limit, self.seed)
        return _finish(values, dtype)

    def get_config(self) -> dict[str, Any]:
        return {
            "scale": self.scale,
            "mode": self.mode,
            "distribution": self.distribution,
            "seed": self.seed,
        }


class _Preset(VarianceScaling):
    """A VarianceScaling with fixed scale/mode/distribution; its config is only the seed."""

    _SCALE = 1.0
    _MODE = "fan_in"
    _DISTRIBUTION = "truncated_normal"

    def __init__(self, seed: int | None = None) -> None:
        super().__init__(self._SCALE, self._MODE, self._DISTRIBUTION, seed)

    def get_config(self) -> dict[str, Any]:
        return {"seed": self.seed}


class GlorotUniform(_Preset):
    """Glorot (Xavier) uniform initializer: limit sqrt(6 / (fan_in + fan_out))."""

    _MODE, _DISTRIBUTION = "fan_avg", "uniform"


class GlorotNormal(_Preset):
    """Glorot (Xavier) truncated normal initializer: stddev sqrt(2 / (fan_in + fan_out))."""

    _MODE = "fan_avg"


class HeUniform(_Preset):
    """He uniform initializer: limit sqrt(6 / fan_in)."""

    _SCALE, _DISTRIBUTION = 2.0, "uniform"


class HeNormal(_Preset):
    """He truncated normal initializer: stddev sqrt(2 / fan_in)."""

    _SCALE = 2.0


class LecunUniform(_Preset):
    """LeCun uniform initializer: limit sqrt(3 / fan_in)."""

    _DISTRIBUTION = "uniform"


class LecunNormal(_Preset):
    """LeCun truncated normal initializer: stddev sqrt(1 / fan_in)."""


class Orthogonal(Initializer):
    """Initializer producing an orthogonal matrix (rows flattened over leading dims) times gain."""

    def __init__(self, gain: float = 1.0, seed: int | None = None) -> None:
        self.gain = gain
        self.seed = seed

    def __call__(self, shape: Sequence[int], dtype: Any = None, **kwargs: Any) -> torch.Tensor:
        dtype = float_dtype(dtype, type(self).__name__)
        shape = normalize_shape(shape)
        if len(shape) < 2:
            raise ValueError(
                "The tensor to initialize must be at least two-dimensional. "
                f"Received: shape={shape} of rank {len(shape)}."
            )
        rows, cols = math.prod(shape[:-1]), shape[-1]
        flat = (max(rows, cols), min(rows, cols))
        a = _normal(flat, 0.0, 1.0, self.seed).double()
        q, r = torch.linalg.qr(a)
        q = q * torch.sign(torch.diagonal(r)).unsqueeze(0)
        if rows < cols:
            q = q.T
        return _finish(self.gain * q.reshape(shape), dtype)

    def get_config(self) -> dict[str, Any]:
        return {"gain": self.gain, "seed": self.seed}
