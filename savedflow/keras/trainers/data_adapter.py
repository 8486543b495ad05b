"""Turning fit/evaluate/predict inputs into per-epoch batch iterators.

Accepted: numpy arrays, torch tensors, Variables, lists/tuples/dicts of them (batched here by
slicing, ``batch_size`` default 32), ``savedflow.data.Dataset`` and other iterables of batches
(used as they are), and Python generators/iterators (consumed across epochs).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np
import torch

from savedflow.keras.utils import tree

log = logging.getLogger(__name__)


def unpack_x_y_sample_weight(data: Any) -> tuple[Any, Any, Any]:
    """Split a batch into ``(x, y, sample_weight)`` as ``keras.utils.unpack_x_y_sample_weight``."""
    if isinstance(data, list):
        data = tuple(data)
    if not isinstance(data, tuple):
        return data, None, None
    if len(data) == 1:
        return data[0], None, None
    if len(data) == 2:
        return data[0], data[1], None
    if len(data) == 3:
        return data[0], data[1], data[2]
    raise ValueError(
        f"Data is expected to be in format `x`, `(x,)`, `(x, y)`, or `(x, y, sample_weight)`, found: {data}"
    )


def pack_x_y_sample_weight(x: Any, y: Any = None, sample_weight: Any = None) -> Any:
    """Inverse of :func:`unpack_x_y_sample_weight`."""
    if y is None:
        return x if not isinstance(x, (list, tuple)) else (x,)
    if sample_weight is None:
        return (x, y)
    return (x, y, sample_weight)


def _to_tensor(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, torch.Tensor):
        return value.detach()
    storage = getattr(value, "_storage", None)
    if storage is not None:
        return storage.detach()
    if isinstance(value, np.ndarray):
        if value.dtype == np.float64:
            value = value.astype(np.float32)
        elif value.dtype.kind == "U" or value.dtype.kind == "O":
            return value
        return torch.from_numpy(np.ascontiguousarray(value))
    if isinstance(value, (int, float, bool)):
        return value
    return torch.as_tensor(
        np.asarray(value, dtype=np.float32 if np.asarray(value).dtype == np.float64 else None)
    )


def _is_array_leaf(value: Any) -> bool:
    return (
        isinstance(value, (np.ndarray, torch.Tensor))
        or getattr(value, "_storage", None) is not None
    )


def _is_array_data(x: Any) -> bool:
    leaves = tree.flatten(x)
    return bool(leaves) and all(
        _is_array_leaf(v) or isinstance(v, (list, float, int)) for v in leaves
    )


def _convert_structure(x: Any) -> Any:
    if isinstance(x, Mapping):
        return {k: _convert_structure(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)) and x and not all(isinstance(v, (int, float)) for v in x):
        return (
            type(x)(_convert_structure(v) for v in x)
            if isinstance(x, tuple)
            else [_convert_structure(v) for v in x]
        )
    return _to_tensor(x)


def _num_samples(data: Any) -> int:
    sizes = {
        int(v.shape[0]) for v in tree.flatten(data) if hasattr(v, "shape") and len(v.shape) > 0
    }
    if len(sizes) > 1:
        raise ValueError(
            f"Data cardinality is ambiguous: the inputs have different numbers of samples {sorted(sizes)}. Make sure all arrays contain the same number of samples."
        )
    if not sizes:
        raise ValueError("Expected arrays with a leading batch dimension; received scalars.")
    return sizes.pop()


def _take(data: Any, index: Any) -> Any:
    if data is None:
        return None
    if isinstance(data, Mapping):
        return {k: _take(v, index) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return type(data)(_take(v, index) for v in data)
    if isinstance(data, np.ndarray):
        return data[index.numpy() if isinstance(index, torch.Tensor) else index]
    if isinstance(index, torch.Tensor) and isinstance(data, torch.Tensor) and data.dim() > 0:
        # index_select gathers rows about 3x faster than advanced indexing
        return torch.index_select(data, 0, index.to(data.device))
    return data[index]


def train_validation_split(
    arrays: tuple[Any, ...], validation_split: float
) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
    """Split array data: the last ``validation_split`` fraction becomes validation data (before shuffling)."""
    if not all(a is None or _is_array_data(a) for a in arrays):
        raise ValueError(
            "`validation_split` is only supported for Tensors or NumPy arrays, found following types in the input: "
            f"{[type(a).__name__ for a in arrays]}"
        )
    converted = tuple(None if a is None else _convert_structure(a) for a in arrays)
    total = _num_samples([a for a in converted if a is not None])
    split_at = int(math.floor(total * (1.0 - validation_split)))
    if split_at == 0 or split_at == total:
        raise ValueError(
            f"Training data contains {total} samples, which is not sufficient to split it into a validation "
            f"and training set as specified by `validation_split={validation_split}`. Either provide more "
            "data, or a different value for the `validation_split` argument."
        )
    train = tuple(_take(a, slice(0, split_at)) for a in converted)
    val = tuple(_take(a, slice(split_at, total)) for a in converted)
    return train, val


class DataHandler:
    """Yields ``(epoch, step iterator)`` for fit, or a single pass for evaluate/predict."""

    def __init__(
        self,
        x: Any,
        y: Any = None,
        sample_weight: Any = None,
        batch_size: int | None = None,
        steps_per_epoch: int | None = None,
        initial_epoch: int = 0,
        epochs: int = 1,
        shuffle: Any = False,
        class_weight: Mapping[int, float] | None = None,
    ):
        self._initial_epoch = initial_epoch
        self._epochs = epochs
        self._steps_per_epoch = steps_per_epoch
        self._shuffle = shuffle
        # class index -> weight, built once (not per batch)
        self._class_table = None if class_weight is None else _class_weight_table(class_weight)
        self._array_mode = _is_array_data(x)
        self._iterator: Iterator[Any] | None = None
        self._insufficient_data = False
        if self._array_mode:
            self._x = _convert_structure(x)
            self._y = None if y is None else _convert_structure(y)
            self._sw = None if sample_weight is None else _convert_structure(sample_weight)
            self._size = _num_samples([d for d in (self._x, self._y, self._sw) if d is not None])
            self._batch_size = batch_size or 32
            self.inferred_steps = steps_per_epoch or math.ceil(self._size / self._batch_size)
        else:
            if y is not None:
                raise ValueError("`y` argument is not supported when using dataset as input.")
            if sample_weight is not None:
                raise ValueError(
                    "`sample_weight` argument is not supported when using dataset as input."
                )
            self._dataset = x
            self.inferred_steps = steps_per_epoch or _cardinality(x)
        self._known_steps = self.inferred_steps

    @property
    def batch_size(self) -> int | None:
        """The batch size for array data (None for datasets)."""
        return self._batch_size if self._array_mode else None

    def enumerate_epochs(self) -> Iterator[tuple[int, Iterator[Any]]]:
        """``(epoch, batches)`` for each epoch from ``initial_epoch`` to ``epochs``."""
        for epoch in range(self._initial_epoch, self._epochs):
            if self._insufficient_data:  # the data ran out in the previous epoch, as in TF
                break
            yield epoch, self._epoch_batches()

    def single_pass(self) -> Iterator[Any]:
        """The batches of one pass (evaluate/predict)."""
        return self._epoch_batches()

    def _epoch_batches(self) -> Iterator[Any]:
        if self._array_mode:
            return self._array_batches()
        return self._dataset_batches()

    def _array_batches(self) -> Iterator[Any]:
        """One epoch of array batches.

        With ``steps_per_epoch`` the batches come from one stream of ``epochs`` passes over the
        data (each pass reshuffled), as tf.keras builds it: epochs continue where the last one
        stopped, and training stops with a warning when the stream runs out.
        """
        limit = self._steps_per_epoch
        if limit is None:
            yield from self._array_pass()
            return
        if self._iterator is None:
            passes = self._epochs - self._initial_epoch
            self._iterator = (batch for _ in range(passes) for batch in self._array_pass())
        count = 0
        for batch in self._iterator:
            yield batch
            count += 1
            if count == limit:
                return
        self._ran_out(limit)

    def _array_pass(self) -> Iterator[Any]:
        order = None
        if self._shuffle and self._shuffle != "batch":
            order = torch.randperm(self._size)
        bs = self._batch_size
        for start in range(0, self._size, bs):
            stop = min(start + bs, self._size)
            index = slice(start, stop) if order is None else order[start:stop]
            x = _take(self._x, index)
            y = _take(self._y, index)
            sw = _take(self._sw, index)
            if self._class_table is not None and y is not None:
                sw = _apply_class_weight(y, sw, self._class_table)
            yield pack_x_y_sample_weight(x, y, sw)

    def _dataset_batches(self) -> Iterator[Any]:
        """One epoch of dataset batches, with tf.keras' iterator rules.

        A fresh iterator each epoch unless ``steps_per_epoch`` is given and differs from the
        dataset's length: then one iterator runs across epochs, and when it is exhausted
        training stops after that epoch with a warning (as tf.keras' "ran out of data").
        """
        source = self._dataset
        limit = self._steps_per_epoch
        fresh = _is_reiterable(source) and (limit is None or limit == _cardinality(source))
        if fresh:
            iterator = iter(source)
        else:
            if self._iterator is None:
                self._iterator = iter(source)
            iterator = self._iterator
        count = 0
        while limit is None or count < limit:
            try:
                batch = next(iterator)
            except StopIteration:
                if limit is not None:
                    self._ran_out(limit)
                break
            count += 1
            if self._class_table is not None:
                x, y, sw = unpack_x_y_sample_weight(batch)
                batch = pack_x_y_sample_weight(x, y, _apply_class_weight(y, sw, self._class_table))
            yield batch
        if self._known_steps is None:
            self._known_steps = count
            self.inferred_steps = count

    def _ran_out(self, limit: int) -> None:
        self._insufficient_data = True
        log.warning(
            "Your input ran out of data; interrupting training. Make sure that your dataset or "
            "generator can generate at least `steps_per_epoch * epochs` batches (in this case, "
            "%d batches). You may need to use the repeat() function when building your dataset.",
            limit * (self._epochs - self._initial_epoch),
        )


def _is_reiterable(source: Any) -> bool:
    return hasattr(source, "__iter__") and not hasattr(source, "__next__")


def _cardinality(dataset: Any) -> int | None:
    card = getattr(dataset, "cardinality", None)
    if card is None:
        try:
            return len(dataset)
        except TypeError:
            return None
    value = int(card() if callable(card) else card)
    return value if value >= 0 else None


def _class_weight_table(class_weight: Mapping[int, float]) -> torch.Tensor:
    """``class_weight`` as a float32 lookup table indexed by class (absent classes weigh 0)."""
    table = torch.zeros(max(int(k) for k in class_weight) + 1, dtype=torch.float32)
    for key, value in class_weight.items():
        table[int(key)] = float(value)
    return table


def _apply_class_weight(y: Any, sample_weight: Any, table: torch.Tensor) -> torch.Tensor:
    labels = torch.as_tensor(y)
    if labels.dim() > 1 and labels.shape[-1] > 1:
        labels = torch.argmax(labels, dim=-1)
    labels = labels.reshape(labels.shape[0], -1)[:, 0].long()
    weights = table[labels.clamp(0, table.numel() - 1).cpu()].to(labels.device)
    if sample_weight is not None:
        weights = weights * torch.as_tensor(sample_weight, dtype=weights.dtype).reshape(
            weights.shape
        )
    return weights
