"""Adam, as tf.keras 2.x (epsilon 1e-7, bias correction folded into the step size)."""

from __future__ import annotations

from typing import Any

import torch

from savedflow.keras.optimizers import _adam_update, _state
from savedflow.keras.optimizers.optimizer import Optimizer


class Adam(Optimizer):
    """Adam: slots ``m`` and ``v`` (and ``vhat`` with ``amsgrad=True``).

    Per step ``t`` (1-based): ``m += (g - m) * (1 - beta_1)``, ``v += (g^2 - v) * (1 - beta_2)``,
    ``w -= lr * sqrt(1 - beta_2^t) / (1 - beta_1^t) * m / (sqrt(v) + epsilon)``.

    Example::

        opt = keras.optimizers.Adam(0.1)
        opt.minimize(lambda: tf.reduce_sum(var ** 2), [var])
    """

    def __init__(
        self,
        learning_rate: Any = 0.001,
        beta_1: Any = 0.9,
        beta_2: Any = 0.999,
        epsilon: float = 1e-7,
        amsgrad: bool = False,
        name: str = "Adam",
        **kwargs: Any,
    ):
        super().__init__(name, **kwargs)
        self._set_learning_rate(learning_rate, kwargs)
        self._set_hyper("beta_1", beta_1)
        self._set_hyper("beta_2", beta_2)
        self.epsilon = epsilon if epsilon is not None else 1e-7
        self.amsgrad = amsgrad

    def _create_slots(self, var_list: list[Any]) -> None:
        for var in var_list:
            self.add_slot(var, "m")
        for var in var_list:
            self.add_slot(var, "v")
        if self.amsgrad:
            for var in var_list:
                self.add_slot(var, "vhat")

    def _prepare_local(self, iterations: torch.Tensor, device: torch.device) -> dict[str, Any]:
        """Adds ``alpha = lr * sqrt(1 - beta_2^t) / (1 - beta_1^t)`` for step ``t = iterations + 1``.

        Float32 throughout, in TF's ApplyAdam order.
        """
        coefficients = super()._prepare_local(iterations, device)
        one = _state.constant(1.0, device)
        local_step = torch.add(iterations, _state.constant(1, device, torch.int64)).float()
        beta_1 = self._hyper_tensor("beta_1", device)
        beta_2 = self._hyper_tensor("beta_2", device)
        beta_1_power = torch.pow(beta_1, local_step)
        beta_2_power = torch.pow(beta_2, local_step)
        alpha = coefficients["lr_t"] * torch.sqrt(one - beta_2_power) / (one - beta_1_power)
        coefficients.update(alpha=alpha, beta_1=beta_1, beta_2=beta_2)
        return coefficients

    def _apply_dense(
        self,
        params: list[torch.Tensor],
        grads: list[torch.Tensor],
        slots: dict[str, list[torch.Tensor]],
        coefficients: dict[str, Any],
    ) -> None:
        vhat = slots["vhat"] if self.amsgrad else []
        state = (params, grads, slots["m"], slots["v"], vhat, coefficients["alpha"])
        if _state.in_function():  # one op reading the betas' tensors when the graph runs
            _adam_update.recorded_update(
                *state, coefficients["beta_1"], coefficients["beta_2"], self.epsilon
            )
            return
        if self._fused_ok and params[0].dtype in _adam_update.FUSED_DTYPES:
            betas = self._hyper_float("beta_1"), self._hyper_float("beta_2")
            try:
                _adam_update.fused_update(*state, *betas, self.epsilon)
                return
            except (RuntimeError, NotImplementedError):
                self._fused_ok = False
        _adam_update.foreach_update(
            *state, coefficients["beta_1"], coefficients["beta_2"], self.epsilon
        )

    _fused_ok = True

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments."""
        config = super().get_config()
        config.update(
            self._hyper_config("beta_1", "beta_2"), epsilon=self.epsilon, amsgrad=self.amsgrad
        )
        return config
