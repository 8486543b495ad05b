"""Adagrad, as tf.keras 2.x (accumulator starts at ``initial_accumulator_value``)."""

from __future__ import annotations

from typing import Any

import torch

from savedflow.keras.optimizers.optimizer import Optimizer, descend_by_root


class Adagrad(Optimizer):
    """Adagrad: slot ``accumulator``; ``acc += g^2``, ``w -= lr * g / (sqrt(acc) + epsilon)``.

    Example::

        opt = keras.optimizers.Adagrad(learning_rate=0.1)
    """

    def __init__(
        self,
        learning_rate: Any = 0.001,
        initial_accumulator_value: float = 0.1,
        epsilon: float = 1e-7,
        name: str = "Adagrad",
        **kwargs: Any,
    ):
        if initial_accumulator_value < 0.0:
            raise ValueError(
                f"initial_accumulator_value must be non-negative: {initial_accumulator_value}"
            )
        super().__init__(name, **kwargs)
        self._set_learning_rate(learning_rate, kwargs)
        self._initial_accumulator_value = initial_accumulator_value
        self.epsilon = epsilon if epsilon is not None else 1e-7

    def _create_slots(self, var_list: list[Any]) -> None:
        for var in var_list:
            self.add_slot(var, "accumulator", float(self._initial_accumulator_value))

    def _apply_dense(
        self,
        params: list[torch.Tensor],
        grads: list[torch.Tensor],
        slots: dict[str, list[torch.Tensor]],
        coefficients: dict[str, Any],
    ) -> None:
        acc = slots["accumulator"]
        torch._foreach_addcmul_(acc, grads, grads)
        descend_by_root(params, grads, acc, self.epsilon, -coefficients["lr_t"])

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments."""
        config = super().get_config()
        config.update(
            self._hyper_config(),
            initial_accumulator_value=self._initial_accumulator_value,
            epsilon=self.epsilon,
        )
        return config
