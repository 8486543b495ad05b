"""OwnedIterator: the iterator ``iter(dataset)`` returns, checkpointable like tf.data's.

Its position is saved under the attribute name :data:`ITERATOR_STATE_NAME`
(``<path>/.ATTRIBUTES/ITERATOR_STATE_SAVEDFLOW``) as one string tensor holding the encoded state of
every pipeline stage (see :mod:`savedflow.data.iterator_state`). TensorFlow 2.21 names its iterator
attribute ``ITERATOR`` in the object graph and stores a DT_VARIANT tensor under
``<path>/.ATTRIBUTES/ITERATOR_STATE``; the names differ on purpose, so neither side tries to decode
the other's: a TF checkpoint restored here leaves ``ITERATOR`` unmatched (the checkpoint status
reports it) and the iterator keeps its current position.

Example::

    it = iter(savedflow.data.Dataset.range(10).shuffle(10, seed=3).batch(4))
    first = next(it)
    ckpt = savedflow.train.Checkpoint(iterator=it)
    path = ckpt.save("/tmp/ckpt")
    second = next(it)
    ckpt.restore(path)
    assert (next(it) == second).all()
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from savedflow.data import iterator_state
from savedflow.data.dataset_ops import Dataset
from savedflow.data.shuffle import ShuffleDataset
from savedflow.data.stage import IteratorContext
from savedflow.errors import CorruptCheckpointError, OutOfRangeError
from savedflow.tracking.base import Trackable

ITERATOR_STATE_NAME = "ITERATOR_STATE_SAVEDFLOW"
_STATE_VERSION = 1


class OwnedIterator(Trackable):
    """Iterates a Dataset; a Trackable whose position is saved in checkpoints."""

    def __init__(self, dataset: Dataset):
        if not isinstance(dataset, Dataset):
            raise TypeError(f"OwnedIterator needs a savedflow.data.Dataset; Received: {dataset!r}.")
        self._dataset = dataset
        self._ctx = IteratorContext()
        self._pass_index = dataset._next_iteration_index()
        self._stage = dataset._make_iterator(self._ctx, (self._pass_index,))
        self._exhausted = False

    @property
    def element_spec(self) -> Any:
        """The TensorSpec structure of the elements."""
        return self._dataset.element_spec

    def __iter__(self) -> OwnedIterator:
        return self

    def __next__(self) -> Any:
        if self._exhausted:
            raise StopIteration
        try:
            return self._stage.next()
        except StopIteration:
            self._exhausted = True
            raise

    def get_next(self) -> Any:
        """The next element; raises ``savedflow.errors.OutOfRangeError`` at the end."""
        try:
            return next(self)
        except StopIteration:
            raise OutOfRangeError("End of sequence") from None

    def __repr__(self) -> str:
        return f"<OwnedIterator element_spec={self.element_spec}>"

    # --- checkpointing ----------------------------------------------------------------------

    def _shuffle_datasets(self) -> list[ShuffleDataset]:
        found: list[ShuffleDataset] = []
        seen: set[int] = set()
        stack = [self._dataset]
        while stack:
            ds = stack.pop()
            if id(ds) in seen:
                continue
            seen.add(id(ds))
            if isinstance(ds, ShuffleDataset):
                found.append(ds)
            stack.extend(reversed(ds._inputs()))
        return found

    def _state(self) -> dict[str, Any]:
        seeds = [
            [str(s) for s in self._ctx.seed_overrides.get(id(ds), ds._seeds)]
            for ds in self._shuffle_datasets()
        ]
        return {
            "version": _STATE_VERSION,
            "pass_index": self._pass_index,
            "exhausted": self._exhausted,
            "shuffle_seeds": seeds,
            "stages": self._stage.get_state(),
        }

    def _set_state(self, state: Mapping[str, Any]) -> None:
        if state.get("version") != _STATE_VERSION:
            raise CorruptCheckpointError(
                f"Iterator state version {state.get('version')!r} is not supported "
                f"(expected {_STATE_VERSION})."
            )
        shuffles = self._shuffle_datasets()
        saved_seeds = state["shuffle_seeds"]
        if len(saved_seeds) != len(shuffles):
            raise CorruptCheckpointError(
                f"The checkpointed iterator had {len(saved_seeds)} shuffle stages but this "
                f"pipeline has {len(shuffles)}; restore into the same Dataset pipeline."
            )
        ctx = IteratorContext()
        for ds, seeds in zip(shuffles, saved_seeds):
            ctx.seed_overrides[id(ds)] = [int(s) for s in seeds]
        pass_index = int(state["pass_index"])
        stage = self._dataset._make_iterator(ctx, (pass_index,))
        try:
            stage.set_state(state["stages"])
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise CorruptCheckpointError(
                f"The checkpointed iterator state does not fit this Dataset pipeline: {exc!r}"
            ) from exc
        self._ctx, self._stage, self._pass_index = ctx, stage, pass_index
        self._exhausted = bool(state["exhausted"])

    def _serialize_to_tensors(self) -> dict[str, Any]:
        """``{ITERATOR_STATE_SAVEDFLOW: bytes}``: the encoded position of every stage."""
        return {ITERATOR_STATE_NAME: self.save_state()}

    def _restore_from_tensors(self, restored_tensors: Mapping[str, Any]) -> None:
        """Jump to the checkpointed position; TF's variant ``ITERATOR`` state is ignored."""
        if ITERATOR_STATE_NAME not in restored_tensors:
            return
        self.restore_state(_as_bytes(restored_tensors[ITERATOR_STATE_NAME]))

    def save_state(self) -> bytes:
        """The iterator's position as bytes (what checkpoints store)."""
        return iterator_state.encode_state(self._state())

    def restore_state(self, data: bytes) -> None:
        """Jump to a position produced by :meth:`save_state`."""
        self._set_state(iterator_state.decode_state(data))


def _as_bytes(value: Any) -> bytes:
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value)
    if isinstance(value, np.ndarray):
        if value.size != 1:
            raise CorruptCheckpointError(
                f"Iterator state must be a scalar string tensor; found shape {value.shape}."
            )
        return _as_bytes(value.reshape(()).item())
    if isinstance(value, str):
        return value.encode("latin-1")
    raise CorruptCheckpointError(f"Iterator state has type {type(value).__name__}; expected bytes.")


Iterator = OwnedIterator

__all__ = ["ITERATOR_STATE_NAME", "Iterator", "OwnedIterator"]
