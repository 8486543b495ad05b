"""SGD: gradient descent with optional (Nesterov) momentum, as tf.keras 2.x."""

from __future__ import annotations

from typing import Any

import torch

from savedflow.keras.optimizers.optimizer import Optimizer, repeat


class SGD(Optimizer):
    """Gradient descent (with momentum).

    Without momentum ``w -= lr * g``. With momentum the ``momentum`` slot accumulates
    ``accum = momentum * accum - lr * g`` and ``w += accum``; with ``nesterov=True``,
    ``w += momentum * accum - lr * g``.

    Example::

        opt = keras.optimizers.SGD(learning_rate=0.1, momentum=0.9)
        opt.apply_gradients(zip(grads, model.trainable_variables))
    """

    def __init__(
        self,
        learning_rate: Any = 0.01,
        momentum: float = 0.0,
        nesterov: bool = False,
        name: str = "SGD",
        **kwargs: Any,
    ):
        super().__init__(name, **kwargs)
        self._set_learning_rate(learning_rate, kwargs)
        self._set_momentum(momentum)
        self.nesterov = nesterov

    def _create_slots(self, var_list: list[Any]) -> None:
        if self._momentum:
            for var in var_list:
                self.add_slot(var, "momentum")

    def _apply_dense(
        self,
        params: list[torch.Tensor],
        grads: list[torch.Tensor],
        slots: dict[str, list[torch.Tensor]],
        coefficients: dict[str, Any],
    ) -> None:
        neg_lr = repeat(-coefficients["lr_t"], len(params))
        if not self._momentum:
            torch._foreach_addcmul_(params, grads, neg_lr)  # w -= g * lr
            return
        momentum = coefficients["momentum"]
        accums = slots["momentum"]
        torch._foreach_mul_(accums, momentum)
        torch._foreach_addcmul_(accums, grads, neg_lr)  # accum = accum * momentum - g * lr
        if self.nesterov:
            torch._foreach_addcmul_(params, accums, repeat(momentum, len(params)))
            torch._foreach_addcmul_(params, grads, neg_lr)
        else:
            torch._foreach_add_(params, accums)

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments."""
        config = super().get_config()
        config.update(self._hyper_config("momentum"), nesterov=self.nesterov)
        return config
