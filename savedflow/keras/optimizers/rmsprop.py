"""RMSprop (plain, momentum, centered), as tf.keras 2.x."""

from __future__ import annotations

from typing import Any

import torch

from savedflow.keras.optimizers import _state
from savedflow.keras.optimizers.optimizer import (
    Optimizer,
    descend_by_root,
    host_factors,
    repeat,
)


class RMSprop(Optimizer):
    """RMSprop: slot ``rms`` (plus ``momentum`` when momentum > 0, ``mg`` when centered).

    ``rms = rho * rms + (1 - rho) * g^2``. Without momentum
    ``w -= lr * g / (sqrt(rms - mg^2 if centered else rms) + epsilon)``; with momentum
    ``mom = momentum * mom + lr * g / sqrt(denominator + epsilon)`` and ``w -= mom``.

    Example::

        opt = keras.optimizers.RMSprop(learning_rate=0.01, momentum=0.9, centered=True)
    """

    def __init__(
        self,
        learning_rate: Any = 0.001,
        rho: Any = 0.9,
        momentum: Any = 0.0,
        epsilon: float = 1e-7,
        centered: bool = False,
        name: str = "RMSprop",
        **kwargs: Any,
    ):
        super().__init__(name, **kwargs)
        self._set_learning_rate(learning_rate, kwargs)
        self._set_hyper("rho", rho)
        self._set_momentum(momentum)
        self.epsilon = epsilon if epsilon is not None else 1e-7
        self.centered = centered

    def _create_slots(self, var_list: list[Any]) -> None:
        for var in var_list:
            self.add_slot(var, "rms")
        if self._momentum:
            for var in var_list:
                self.add_slot(var, "momentum")
        if self.centered:
            for var in var_list:
                self.add_slot(var, "mg")

    def _prepare_local(self, iterations: torch.Tensor, device: torch.device) -> dict[str, Any]:
        coefficients = super()._prepare_local(iterations, device)
        rho = self._hyper_tensor("rho", device)
        coefficients.update(rho=rho, one_minus_rho=_state.constant(1.0, device) - rho)
        return coefficients

    def _apply_dense(
        self,
        params: list[torch.Tensor],
        grads: list[torch.Tensor],
        slots: dict[str, list[torch.Tensor]],
        coefficients: dict[str, Any],
    ) -> None:
        rho = coefficients["rho"]
        one_minus_rho = repeat(coefficients["one_minus_rho"], len(params))
        rms = slots["rms"]
        torch._foreach_mul_(rms, rho)  # rms = rho * rms + (1 - rho) * g^2
        factors = host_factors(coefficients["one_minus_rho"], len(params))
        if factors is not None:
            torch._foreach_addcmul_(rms, grads, grads, factors)
        else:
            torch._foreach_addcmul_(rms, torch._foreach_mul(grads, grads), one_minus_rho)
        denom = rms
        if self.centered:
            mg = slots["mg"]
            torch._foreach_mul_(mg, rho)
            torch._foreach_addcmul_(mg, grads, one_minus_rho)
            denom = torch._foreach_sub(rms, torch._foreach_mul(mg, mg))
        if self._momentum:
            mom = slots["momentum"]
            scale = torch._foreach_add(denom, self.epsilon)
            torch._foreach_rsqrt_(scale)
            torch._foreach_mul_(scale, grads)
            torch._foreach_mul_(mom, coefficients["momentum"])
            torch._foreach_addcmul_(mom, scale, repeat(coefficients["lr_t"], len(params)))
            torch._foreach_sub_(params, mom)
        else:
            descend_by_root(params, grads, denom, self.epsilon, -coefficients["lr_t"])

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments."""
        config = super().get_config()
        config.update(
            self._hyper_config("rho", "momentum"), epsilon=self.epsilon, centered=self.centered
        )
        return config
