"""Embedding: maps integer indices to dense vectors (an (input_dim, output_dim) table)."""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from savedflow.keras import constraints, initializers, regularizers
from savedflow.keras.layers._layer_utils import shape_list, value
from savedflow.keras.layers.layer import Layer
from savedflow.ops.tape_state import state as _tape


class Embedding(Layer):
    """Turns non-negative integer indices into vectors: (batch, n) -> (batch, n, output_dim).

    The table is the weight ``embeddings`` of shape ``(input_dim, output_dim)``. With
    ``mask_zero=True`` index 0 is reserved for padding and the layer emits a mask.

    Example::

        emb = keras.layers.Embedding(1000, 64)
        emb(torch.tensor([[4, 20, 0]])).shape  # torch.Size([1, 3, 64])
    """

    def __init__(
        self,
        input_dim: int,
        output_dim: int,
        embeddings_initializer: Any = "uniform",
        embeddings_regularizer: Any = None,
        activity_regularizer: Any = None,
        embeddings_constraint: Any = None,
        mask_zero: bool = False,
        input_length: int | None = None,
        sparse: bool = False,
        **kwargs: Any,
    ) -> None:
        if "input_shape" not in kwargs and "batch_input_shape" not in kwargs:
            kwargs["input_shape"] = (input_length,) if input_length else (None,)
        if input_dim <= 0 or output_dim <= 0:
            raise ValueError(
                "Both `input_dim` and `output_dim` should be positive. "
                f"Received input_dim={input_dim} and output_dim={output_dim}"
            )
        kwargs.setdefault("autocast", False)
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.input_dim = input_dim
        self.output_dim = output_dim
        self.embeddings_initializer = initializers.get(embeddings_initializer)
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer)
        self.embeddings_constraint = constraints.get(embeddings_constraint)
        self.mask_zero = mask_zero
        self.supports_masking = mask_zero
        self.input_length = input_length
        self.sparse = sparse

    def build(self, input_shape: Any = None) -> None:
        self.embeddings = self.add_weight(
            "embeddings",
            shape=(self.input_dim, self.output_dim),
            initializer=self.embeddings_initializer,
            regularizer=self.embeddings_regularizer,
            constraint=self.embeddings_constraint,
            dtype=self.dtype,
            trainable=True,
        )
        self.built = True

    def call(self, inputs: Any) -> torch.Tensor:
        indices = inputs
        if indices.dtype not in (torch.int32, torch.int64):
            indices = indices.to(torch.int64)
        if indices.numel():
            self._check_range(indices)
        out = F.embedding(indices, value(self.embeddings))
        return out

    def _check_range(self, indices: torch.Tensor) -> None:
        """Out-of-range indices are an error (as TF's gather on CPU), in graphs too.

        Inside a ``savedflow.function`` trace the check is an op of the graph (reading the
        indices into Python would make every training step run eagerly).
        """
        low, high = indices.min(), indices.max()
        if _tape.observer is not None:
            torch._assert_async(
                (low >= 0) & (high < self.input_dim),
                f"Embedding layer '{self.name}': an index is out of range [0, {self.input_dim}).",
            )
            return
        if int(low) < 0 or int(high) >= self.input_dim:
            bad = int(high) if int(high) >= self.input_dim else int(low)
            raise IndexError(
                f"Embedding layer '{self.name}': index {bad} is out of range "
                f"[0, {self.input_dim}). Received input shape {tuple(indices.shape)}."
            )

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        if not self.mask_zero:
            return None
        return torch.as_tensor(inputs) != 0

    def compute_output_shape(self, input_shape: Any) -> tuple[int | None, ...]:
        dims = shape_list(input_shape)
        return (*dims, self.output_dim)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(
            {
                "input_dim": self.input_dim,
                "output_dim": self.output_dim,
                "embeddings_initializer": initializers.serialize(self.embeddings_initializer),
                "embeddings_regularizer": regularizers.serialize(self.embeddings_regularizer),
                "activity_regularizer": regularizers.serialize(self.activity_regularizer),
                "embeddings_constraint": constraints.serialize(self.embeddings_constraint),
                "mask_zero": self.mask_zero,
                "input_length": self.input_length,
            }
        )
        if self.sparse:
            config["sparse"] = True
        return config
