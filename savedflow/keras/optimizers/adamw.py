"""AdamW: Adam with decoupled weight decay, as tf.keras 2.x's AdamW."""

from __future__ import annotations

from typing import Any

import torch

from savedflow.keras.optimizers import _state
from savedflow.keras.optimizers.adam import Adam


class AdamW(Adam):
    """Adam with decoupled weight decay: ``w -= w * weight_decay * lr`` before the Adam step.

    The decay uses the step's (scheduled) learning rate, as tf.keras does; the state and
    checkpoint layout are Adam's.

    Example::

        opt = keras.optimizers.AdamW(learning_rate=1e-3, weight_decay=0.004)
    """

    def __init__(
        self,
        learning_rate: Any = 0.001,
        weight_decay: float = 0.004,
        beta_1: Any = 0.9,
        beta_2: Any = 0.999,
        epsilon: float = 1e-7,
        amsgrad: bool = False,
        name: str = "AdamW",
        **kwargs: Any,
    ):
        if weight_decay is None:
            raise ValueError("Argument `weight_decay` must be a float. Received: weight_decay=None")
        super().__init__(learning_rate, beta_1, beta_2, epsilon, amsgrad, name=name, **kwargs)
        self.weight_decay = float(weight_decay)
        self._exclude_from_weight_decay: set[str] = set()
        self._exclude_names: list[str] = []
        self._decay_masks: dict[tuple[int, ...], list[bool]] = {}

    def exclude_from_weight_decay(self, var_list: Any = None, var_names: Any = None) -> None:
        """Skip weight decay for these variables, or variables whose name contains any of ``var_names``."""
        for var in var_list or []:
            self._exclude_from_weight_decay.add(str(getattr(var, "name", id(var))))
        self._exclude_names.extend(var_names or [])
        self._decay_masks.clear()

    def _decays(self, variable: Any) -> bool:
        """Whether weight decay applies to ``variable`` (see :meth:`exclude_from_weight_decay`)."""
        if str(getattr(variable, "name", id(variable))) in self._exclude_from_weight_decay:
            return False
        name = str(getattr(variable, "name", ""))
        return not any(n in name for n in self._exclude_names)

    def _apply_group(
        self,
        group: Any,
        params: list[torch.Tensor],
        grads: list[torch.Tensor],
        slots: dict[str, list[torch.Tensor]],
        coefficients: dict[str, Any],
    ) -> None:
        """``w *= 1 - lr * weight_decay`` (the step's learning rate), then the Adam update."""
        if self.weight_decay:
            key = tuple(map(id, group.variables))
            mask = self._decay_masks.get(key)
            if mask is None:
                mask = self._decay_masks[key] = [self._decays(v) for v in group.variables]
            decayed = [p for p, keep in zip(params, mask) if keep]
            if decayed:
                one = _state.constant(1.0, params[0].device)
                torch._foreach_mul_(decayed, one - coefficients["lr_t"] * self.weight_decay)
        super()._apply_group(group, params, grads, slots, coefficients)

    def get_config(self) -> dict[str, Any]:
        """Constructor arguments."""
        config = super().get_config()
        config["weight_decay"] = self.weight_decay
        return config
