"""Dropout: zeroes a random fraction ``rate`` of the inputs during training, scaling the rest."""

from __future__ import annotations

from typing import Any

import torch

from savedflow.keras.layers._layer_utils import resolve_training
from savedflow.keras.layers.layer import Layer


class Dropout(Layer):
    """Randomly sets inputs to 0 with frequency ``rate`` during training; identity at inference.

    Kept values are scaled by ``1 / (1 - rate)`` so the expected sum is unchanged.

    Args:
        rate: Float in [0, 1], fraction of the inputs to drop.
        noise_shape: Shape of the binary mask, broadcast against the input; ``None``
            entries take the input's size (e.g. ``(None, 1, None)`` drops whole timesteps' features).
        seed: Integer seed making the sequence of masks reproducible.

    Example::

        layer = keras.layers.Dropout(0.5, seed=1)
        layer(torch.ones(2, 4), training=True)  # half zeros, the rest 2.0
    """

    def __init__(
        self, rate: float, noise_shape: Any = None, seed: int | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        if isinstance(rate, (int, float)) and not 0 <= rate <= 1:
            raise ValueError(
                f"Invalid value received for argument `rate`. Expected a float value between "
                f"0 and 1. Received: rate={rate}"
            )
        self.rate = rate
        self.noise_shape = noise_shape
        self.seed = seed
        self.supports_masking = True
        self._sf_generators: dict[torch.device, torch.Generator] = {}

    def _noise_shape(self, inputs: torch.Tensor) -> tuple[int, ...]:
        if self.noise_shape is None:
            return tuple(inputs.shape)
        noise = list(self.noise_shape)
        if len(noise) != inputs.dim():
            raise ValueError(
                f"Dropout `noise_shape` must have the input's rank {inputs.dim()}. "
                f"Received: noise_shape={self.noise_shape}, input shape={tuple(inputs.shape)}"
            )
        return tuple(int(inputs.shape[i]) if d is None else int(d) for i, d in enumerate(noise))

    def _generator(self, device: torch.device) -> torch.Generator | None:
        if self.seed is None:
            return None
        gen = self._sf_generators.get(device)
        if gen is None:
            gen = torch.Generator(device=device).manual_seed(int(self.seed))
            self._sf_generators[device] = gen
        return gen

    def call(self, inputs: Any, training: Any = None) -> Any:
        if not resolve_training(training):
            return inputs
        rate = float(self.rate)
        if rate == 0.0:
            return inputs
        if rate >= 1.0:
            return torch.zeros_like(inputs)
        keep = 1.0 - rate
        shape = self._noise_shape(inputs)
        noise = torch.rand(shape, generator=self._generator(inputs.device), device=inputs.device)
        mask = (noise >= rate).to(inputs.dtype) / keep
        return inputs * mask

    def compute_output_shape(self, input_shape: Any) -> Any:
        return input_shape

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update({"rate": self.rate, "noise_shape": self.noise_shape, "seed": self.seed})
        return config
