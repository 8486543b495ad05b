"""Learning-rate schedules: callables from the optimizer step to a learning rate.

Values are computed in float32 as tf.keras 2.x computes them and returned as 0-d torch
tensors, on the step's device. An optimizer given a schedule calls it with its ``iterations``
(a float32 tensor) before each update; a tensor step is never read into Python, so the
schedule records into a ``savedflow.function`` graph.
"""

from __future__ import annotations

import math
from typing import Any

import torch

from savedflow.keras.optimizers import _state
from savedflow.keras.utils import serialization

_F32 = torch.float32


def _f32(value: Any, like: torch.Tensor | None = None) -> torch.Tensor:
    """``value`` as a 0-d float32 tensor: tensors and Variables where they are, numbers on ``like``'s device.

    Numbers become constants made once per value and device: use the result in expressions,
    never return it or write into it.
    """
    if isinstance(value, torch.Tensor):
        return value.detach().to(_F32)
    if hasattr(value, "_sf_read"):  # a Variable: read it as ops do (function traces see it)
        return value._sf_read().detach().to(_F32)
    device = like.device if like is not None else torch.device("cpu")
    return _state.constant(float(value), device)


def _step_f32(step: Any) -> torch.Tensor:
    """The step as a float32 tensor (a fresh one for Python numbers)."""
    if isinstance(step, torch.Tensor) or hasattr(step, "_sf_read"):
        return _f32(step)
    return torch.tensor(float(step), dtype=_F32)


class LearningRateSchedule:
    """Base class: subclasses implement ``__call__(step)`` and ``get_config()``."""

    def __call__(self, step: Any) -> torch.Tensor:
        raise NotImplementedError(
            f"Learning rate schedule '{type(self).__name__}' must override `__call__(self, step)`."
        )

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments."""
        raise NotImplementedError(
            f"Learning rate schedule '{type(self).__name__}' must override `get_config()`."
        )

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> LearningRateSchedule:
        """Rebuild from :meth:`get_config` output."""
        return cls(**config)


class _StepDecay(LearningRateSchedule):
    """Shared state of the schedules driven by ``step / decay_steps`` (floored if ``staircase``)."""

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: float,
        decay_rate: float,
        staircase: bool = False,
        name: str | None = None,
    ):
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.decay_rate = decay_rate
        self.staircase = staircase
        self.name = name

    def _progress(self, step: Any) -> torch.Tensor:
        step_t = _step_f32(step)
        p = step_t / _f32(self.decay_steps, step_t)
        return torch.floor(p) if self.staircase else p

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments."""
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "decay_rate": self.decay_rate,
            "staircase": self.staircase,
            "name": self.name,
        }


class ExponentialDecay(_StepDecay):
    """``initial_learning_rate * decay_rate ** (step / decay_steps)`` (floored if ``staircase``).

    Example::

        schedule = keras.optimizers.schedules.ExponentialDecay(0.1, decay_steps=1000, decay_rate=0.96)
        opt = keras.optimizers.SGD(learning_rate=schedule)
    """

    def __call__(self, step: Any) -> torch.Tensor:
        p = self._progress(step)
        return _f32(self.initial_learning_rate, p) * torch.pow(_f32(self.decay_rate, p), p)


class PiecewiseConstantDecay(LearningRateSchedule):
    """``values[i]`` while ``boundaries[i-1] < step <= boundaries[i]``.

    Example::

        schedule = keras.optimizers.schedules.PiecewiseConstantDecay([1000, 2000], [1.0, 0.5, 0.1])
    """

    def __init__(self, boundaries: list[Any], values: list[Any], name: str | None = None):
        if len(boundaries) != len(values) - 1:
            raise ValueError(
                "The length of boundaries should be 1 less than the length of values. "
                f"Received: boundaries={boundaries} of length {len(boundaries)}, and "
                f"values={values} of length {len(values)}."
            )
        self.boundaries = boundaries
        self.values = values
        self.name = name

    def __call__(self, step: Any) -> torch.Tensor:
        x = step._sf_read() if hasattr(step, "_sf_read") else step
        if not isinstance(x, torch.Tensor):  # a Python or numpy number
            x = x if isinstance(x, int) else float(x)
            chosen = next((v for b, v in zip(self.boundaries, self.values) if x <= b), None)
            return torch.tensor(float(self.values[-1] if chosen is None else chosen), dtype=_F32)
        # A tensor step: boundaries take its dtype (as TF casts them), chosen with where.
        result = torch.full((), float(self.values[-1]), dtype=_F32, device=x.device)
        for boundary, value in reversed(list(zip(self.boundaries, self.values))):
            bound = torch.tensor(boundary, device=x.device).to(x.dtype)
            result = torch.where(x <= bound, _f32(value, x), result)
        return result

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments."""
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


class PolynomialDecay(LearningRateSchedule):
    """Polynomial interpolation from ``initial_learning_rate`` to ``end_learning_rate`` over ``decay_steps``.

    Example::

        schedule = keras.optimizers.schedules.PolynomialDecay(0.1, 10000, end_learning_rate=0.01, power=0.5)
    """

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: int,
        end_learning_rate: float = 0.0001,
        power: float = 1.0,
        cycle: bool = False,
        name: str | None = None,
    ):
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.end_learning_rate = end_learning_rate
        self.power = power
        self.cycle = cycle
        self.name = name

    def __call__(self, step: Any) -> torch.Tensor:
        step_t = _step_f32(step)
        initial = _f32(self.initial_learning_rate, step_t)
        end = _f32(self.end_learning_rate, step_t)
        steps = _f32(self.decay_steps, step_t)
        if self.cycle:
            # The first multiple of decay_steps above the step (1 at step 0).
            one = _f32(1.0, step_t)
            multiplier = torch.where(step_t == 0, one, torch.ceil(step_t / steps))
            steps = steps * multiplier
        else:
            step_t = torch.minimum(step_t, steps)
        p = step_t / steps
        return (initial - end) * torch.pow(1 - p, _f32(self.power, step_t)) + end

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments."""
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "end_learning_rate": self.end_learning_rate,
            "power": self.power,
            "cycle": self.cycle,
            "name": self.name,
        }


class InverseTimeDecay(_StepDecay):
    """``initial_learning_rate / (1 + decay_rate * step / decay_steps)`` (floored if ``staircase``).

    Example::

        schedule = keras.optimizers.schedules.InverseTimeDecay(0.1, decay_steps=1.0, decay_rate=0.5)
    """

    def __call__(self, step: Any) -> torch.Tensor:
        p = self._progress(step)
        return _f32(self.initial_learning_rate, p) / (1 + _f32(self.decay_rate, p) * p)


class CosineDecay(LearningRateSchedule):
    """Cosine decay to ``alpha * initial`` over ``decay_steps``, after an optional linear warmup.

    Example::

        schedule = keras.optimizers.schedules.CosineDecay(0.1, decay_steps=1000, alpha=0.0)
    """

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: int,
        alpha: float = 0.0,
        name: str | None = None,
        warmup_target: float | None = None,
        warmup_steps: int = 0,
    ):
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.alpha = alpha
        self.name = name
        self.warmup_target = warmup_target
        self.warmup_steps = warmup_steps

    def _decay(self, step: torch.Tensor, steps: torch.Tensor, start: torch.Tensor) -> torch.Tensor:
        fraction = step / steps
        cosine = 0.5 * (1.0 + torch.cos(_f32(math.pi, step) * fraction))
        return start * ((1 - self.alpha) * cosine + self.alpha)

    def __call__(self, step: Any) -> torch.Tensor:
        step_t = _step_f32(step)
        initial = _f32(self.initial_learning_rate, step_t)
        steps = _f32(self.decay_steps, step_t)
        if self.warmup_target is None:
            return self._decay(torch.minimum(step_t, steps), steps, initial)
        target = _f32(self.warmup_target, step_t)
        warmup = _f32(self.warmup_steps, step_t)
        step_t = torch.minimum(step_t, steps + warmup)
        warming = (target - initial) * (step_t / warmup) + initial
        return torch.where(step_t < warmup, warming, self._decay(step_t - warmup, steps, target))

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments."""
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "alpha": self.alpha,
            "name": self.name,
            "warmup_target": self.warmup_target,
            "warmup_steps": self.warmup_steps,
        }


ALL_OBJECTS: dict[str, type] = {
    cls.__name__: cls
    for cls in (
        ExponentialDecay,
        PiecewiseConstantDecay,
        PolynomialDecay,
        InverseTimeDecay,
        CosineDecay,
    )
}


def serialize(schedule: LearningRateSchedule) -> dict[str, Any]:
    """``{'module', 'class_name', 'config', 'registered_name'}`` as tf_keras writes it."""
    return serialization.serialize_keras_object(schedule)


def deserialize(
    config: dict[str, Any], custom_objects: dict[str, Any] | None = None
) -> LearningRateSchedule:
    """Inverse of :func:`serialize` (also accepts Keras 2's ``{'class_name', 'config'}``).

    Raises:
      UnknownObjectError: the schedule is neither built in nor a known custom object.
    """
    return serialization.deserialize_keras_object(
        config, ALL_OBJECTS, custom_objects, printable_module_name="learning rate schedule"
    )
