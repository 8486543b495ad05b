"""Restoring a checkpoint into live objects: matching by named edges, deferred and slot restoration.

A restore walks the checkpoint's object graph and the program's objects side by side from the
root, following edges with the same local name. Each checkpoint node is *bound* to at most one
program object. When a checkpoint edge leads to a child the program does not have yet, a
:class:`CheckpointPosition` is queued in the parent's ``_deferred_dependencies`` under that name;
:meth:`Trackable._track_trackable` hands it the child the moment one is attached (a Dense layer
built later, ``fake_layer.kernel = v``, ``ListWrapper.append(v)``). Slot variables are restored
when the optimizer creates them (see :mod:`savedflow.checkpoint.slots`).

Every restore gets a fresh ``restore_uid``; an object remembers (``_update_uid``) the newest
restore that wrote it, so an older deferred restore never overwrites a newer value.

Reading values: the index is parsed once at restore time and kept in memory with the
coordinator; data files are opened only while values are being copied and closed right after
each batch, so nothing stays open between a restore and a later deferred restoration. Values
are read lazily when their object appears. If a
:class:`~savedflow.checkpoint.checkpoint_manager.CheckpointManager` deletes a checkpoint that
still has pending deferred restorations, the pending values are read into memory first
(:func:`release_checkpoint_files`).
"""

from __future__ import annotations

import collections
import itertools
import logging
import os
import weakref
from typing import Any

import numpy as np

from savedflow import errors
from savedflow.checkpoint.graph_view import ObjectGraphView, escape_local_name
from savedflow.checkpoint.slots import restore_slot
from savedflow.formats import datatypes as dt
from savedflow.formats.tensor_bundle import BundleReader
from savedflow.tracking.base import Trackable

__all__ = [
    "CheckpointPosition",
    "RestoreCoordinator",
    "release_checkpoint_files",
    "next_restore_uid",
]

logger = logging.getLogger("savedflow.checkpoint")
_RESTORE_UIDS = itertools.count(1)
_LIVE_COORDINATORS: weakref.WeakSet[RestoreCoordinator] = weakref.WeakSet()
_PARALLEL_BYTES = 32 << 20  # batches smaller than this are read in the calling thread
VARIANT_REASON = (
    "DT_VARIANT value (TensorFlow-internal state such as a tf.data iterator) cannot be decoded"
)


def next_restore_uid() -> int:
    """A new, strictly increasing restore id (later restores win)."""
    return next(_RESTORE_UIDS)


def release_checkpoint_files(save_path: str) -> None:
    """Read values still awaited by deferred restorations of ``save_path`` into memory.

    Called before a checkpoint is deleted so pending deferred restorations keep working.
    """
    target = os.path.abspath(save_path)
    for coordinator in list(_LIVE_COORDINATORS):
        if os.path.abspath(coordinator.save_path) == target:
            coordinator.materialize_pending()


class CheckpointPosition:
    """One node of a checkpoint's object graph, waiting to be (or being) restored into an object."""

    __slots__ = ("checkpoint", "proto_id", "__weakref__")

    def __init__(self, checkpoint: RestoreCoordinator, proto_id: int):
        self.checkpoint = checkpoint
        self.proto_id = proto_id

    @property
    def restore_uid(self) -> int:
        return self.checkpoint.restore_uid

    @property
    def object_proto(self) -> Any:
        return self.checkpoint.nodes[self.proto_id]

    def restore(self, trackable: Trackable) -> None:
        """Bind ``trackable`` to this node and restore it and its descendants."""
        self.checkpoint.restore_into(self.proto_id, trackable)

    def value_tensors(self) -> dict[str, np.ndarray]:
        """This node's checkpointed tensors by attribute name (read now, as numpy)."""
        out = {}
        for attr in self.object_proto.attributes:
            if self.checkpoint.value_available(attr.checkpoint_key):
                out[attr.name] = self.checkpoint.read_value(attr.checkpoint_key)
        self.checkpoint.close_files_if_idle()
        return out

    def __repr__(self) -> str:
        return f"<CheckpointPosition node {self.proto_id} of {self.checkpoint.save_path!r}>"


class _Ref:
    """A weak reference when the object allows one, else a strong one."""

    __slots__ = ("_ref", "_obj")

    def __init__(self, obj: Any):
        try:
            self._ref, self._obj = weakref.ref(obj), None
        except TypeError:
            self._ref, self._obj = None, obj

    def __call__(self) -> Any:
        return self._obj if self._ref is None else self._ref()


class RestoreCoordinator:
    """State of one ``restore()`` call: the proto, the reader, bindings and bookkeeping."""

    def __init__(
        self,
        save_path: str,
        reader: BundleReader,
        proto: Any,
        view: ObjectGraphView,
        options: Any = None,
    ):
        self.save_path = save_path
        self.reader: BundleReader | None = reader
        self.proto = proto
        self.nodes = proto.nodes
        self.view = view
        self.options = options
        self.restore_uid = next_restore_uid()
        self.expect_partial = False
        self._bound: dict[int, _Ref] = {}
        self.python_objects: dict[int, _Ref] = {}
        self.restored_keys: set[str] = set()
        self.unused_attributes: dict[int, list[str]] = {}
        self.missing_in_file: dict[int, list[str]] = {}
        self.skipped: dict[str, str] = {}
        self.queued: collections.Counter[int] = collections.Counter()
        self._cache: dict[str, np.ndarray] = {}
        self._depth = 0
        self._slots_by_optimizer: dict[int, list[Any]] = {}
        self._slots_by_variable: dict[int, list[tuple[int, Any]]] = {}
        for node_id, node in enumerate(self.nodes):
            for ref in node.slot_variables:
                self._slots_by_optimizer.setdefault(node_id, []).append(ref)
                self._slots_by_variable.setdefault(ref.original_variable_node_id, []).append(
                    (node_id, ref)
                )
        self._waiting_slots: dict[int, list[tuple[int, Any]]] = {}
        _LIVE_COORDINATORS.add(self)

    # --- bindings ------------------------------------------------------------------------------

    def bound_object(self, node_id: int) -> Trackable | None:
        ref = self._bound.get(node_id)
        return None if ref is None else ref()

    def bound_items(self) -> list[tuple[int, Trackable]]:
        return [(i, obj) for i, ref in self._bound.items() if (obj := ref()) is not None]

    def note_python_object(self, obj: Trackable) -> None:
        self.python_objects.setdefault(id(obj), _Ref(obj))

    def _bind(self, node_id: int, obj: Trackable) -> bool:
        """Bind ``obj`` to ``node_id``; False if the node was already bound (to it or another)."""
        self.note_python_object(obj)
        current = self.bound_object(node_id)
        if current is not None:
            if current is not obj:
                logger.warning(
                    "Inconsistent references when loading %s: checkpoint node %d is already bound to a "
                    "%s, not restoring it into a %s.",
                    self.save_path,
                    node_id,
                    type(current).__name__,
                    type(obj).__name__,
                )
            return False
        self._bound[node_id] = _Ref(obj)
        self._handle_slots(node_id, obj)
        return True

    def _handle_slots(self, node_id: int, obj: Trackable) -> None:
        for ref in self._slots_by_optimizer.get(node_id, ()):
            variable = self.bound_object(ref.original_variable_node_id)
            if variable is None:
                self._waiting_slots.setdefault(ref.original_variable_node_id, []).append(
                    (node_id, ref)
                )
            else:
                self._restore_slot(obj, ref, variable)
        for optimizer_id, ref in self._waiting_slots.pop(node_id, ()):
            optimizer = self.bound_object(optimizer_id)
            if optimizer is not None:
                self._restore_slot(optimizer, ref, obj)

    def _restore_slot(self, optimizer: Any, ref: Any, variable: Trackable) -> None:
        position = CheckpointPosition(self, ref.slot_variable_node_id)
        restore_slot(optimizer, position, ref.slot_name, variable)

    # --- walking -------------------------------------------------------------------------------

    def _children(self, obj: Trackable) -> dict[str, Trackable]:
        if obj is self.view.root:
            return self.view.children(obj)
        return obj._trackable_children("checkpoint")

    def restore_into(self, node_id: int, trackable: Trackable) -> None:
        """Bind ``trackable`` to ``node_id`` and restore the whole matching subtree."""
        if self.queued.get(node_id):
            self.queued[node_id] -= 1
        self._depth += 1
        try:
            batch = self._walk(node_id, trackable)
            jobs: list[tuple[str, np.ndarray]] = []
            for nid, obj in batch:
                self._restore_object(nid, obj, jobs)
            self._run_read_jobs(jobs)
        finally:
            self._depth -= 1
            self.close_files_if_idle()

    def _walk(self, node_id: int, trackable: Trackable) -> list[tuple[int, Trackable]]:
        batch = []
        queue = collections.deque([(node_id, trackable)])
        while queue:
            nid, obj = queue.popleft()
            if not self._bind(nid, obj):
                continue
            batch.append((nid, obj))
            node = self.nodes[nid]
            if not node.children:
                continue
            children = self._children(obj)
            for ref in node.children:
                child = children.get(ref.local_name)
                if child is None:
                    child = obj._lookup_dependency(ref.local_name)
                if child is None:
                    deferred = obj._deferred_dependencies.setdefault(ref.local_name, [])
                    deferred.append(CheckpointPosition(self, ref.node_id))
                    self.queued[ref.node_id] += 1
                else:
                    queue.append((ref.node_id, child))
        return batch

    # --- values --------------------------------------------------------------------------------

    def _restore_object(
        self, node_id: int, obj: Trackable, jobs: list[tuple[str, np.ndarray]]
    ) -> None:
        if obj._update_uid >= self.restore_uid:
            return  # a newer restore (or this one, via an alias) already wrote it
        obj._update_uid = self.restore_uid
        node = self.nodes[node_id]
        current = obj._serialize_to_tensors()
        if not node.attributes:
            if current:
                self.missing_in_file[node_id] = sorted(current)
            return
        by_name = {escape_local_name(k): k for k in current}
        matched: dict[str, str] = {}
        for attr in node.attributes:
            name = by_name.pop(attr.name, None)
            if name is None:
                self.unused_attributes.setdefault(node_id, []).append(attr.name)
                self._note_variant(attr.checkpoint_key)
            elif self._check_available(attr.checkpoint_key):
                matched[name] = attr.checkpoint_key
        if by_name:
            self.missing_in_file[node_id] = sorted(by_name.values())
        if matched:
            self._apply(obj, node_id, matched, current, jobs)

    def _apply(
        self,
        obj: Trackable,
        node_id: int,
        matched: dict[str, str],
        current: dict[str, Any],
        jobs: list[Any],
    ) -> None:
        for name, key in matched.items():
            self._validate(key, node_id, current[name])
        storage = getattr(obj, "_storage", None)
        if (
            list(matched) == ["VARIABLE_VALUE"]
            and storage is not None
            and hasattr(storage, "numpy")
        ):
            self._read_into_storage(matched["VARIABLE_VALUE"], storage, jobs)
        else:
            obj._restore_from_tensors({name: self.read_value(key) for name, key in matched.items()})
        self.restored_keys.update(matched.values())

    def _check_available(self, key: str) -> bool:
        """True if ``key`` can be restored; records DT_VARIANT values as skipped."""
        if key in self._cache:
            return True
        reader = self._require_reader()
        if key in reader:
            if reader.dtype(key) in (dt.DT_VARIANT, dt.DT_RESOURCE):
                self.skipped[key] = VARIANT_REASON
                return False
            return True
        if self._note_variant(key):
            return False
        raise errors.NotFoundError(
            f"Key {key!r} is listed in the object graph of checkpoint {self.save_path!r} but is missing "
            "from its index; the checkpoint is incomplete or was edited."
        )

    def _note_variant(self, key: str) -> bool:
        """Record unusable DT_VARIANT values (e.g. TF's iterator state) at ``key`` as skipped.

        TF iterators list ".../ITERATOR" but store ".../ITERATOR_STATE", so a key missing from
        the index stands for the entries it prefixes. Returns True if any was recorded.
        """
        reader = self.reader
        if reader is None:
            return False
        keys = [key] if key in reader else [k for k in reader.keys() if k.startswith(key)]
        variants = [k for k in keys if reader.dtype(k) == dt.DT_VARIANT]
        for k in variants:
            self.skipped[k] = VARIANT_REASON
        return bool(variants)

    def value_available(self, key: str) -> bool:
        return key in self._cache or (self.reader is not None and key in self.reader)

    def _require_reader(self) -> BundleReader:
        if self.reader is None:
            raise errors.NotFoundError(
                f"Checkpoint {self.save_path!r} was released; its pending values were not kept."
            )
        return self.reader

    def _object_path(self, key: str) -> str:
        return key.split("/.ATTRIBUTES/", 1)[0]

    def _validate(self, key: str, node_id: int, current: Any) -> None:
        if key in self._cache:
            value = self._cache[key]
            saved_shape, saved_dtype = tuple(value.shape), None
        else:
            reader = self._require_reader()
            saved_shape, saved_dtype = tuple(reader.shape(key)), reader.dtype(key)
        shape = getattr(current, "shape", None)
        if shape is not None and tuple(shape) != saved_shape:
            raise errors.ShapeMismatchError(
                f"Checkpoint value at {key!r} has shape {saved_shape} but the object at "
                f"{self._object_path(key)!r} has shape {tuple(shape)}. Received: save_path={self.save_path!r}"
            )
        expected = _datatype_enum(current)
        if saved_dtype is not None and expected is not None and saved_dtype != expected:
            raise errors.DTypeMismatchError(
                f"Checkpoint value at {key!r} has dtype {dt.info(saved_dtype).name} but the object at "
                f"{self._object_path(key)!r} has dtype {dt.info(expected).name}. "
                f"Received: save_path={self.save_path!r}"
            )

    def read_value(self, key: str) -> np.ndarray:
        """One checkpointed tensor as numpy (from memory if it was materialized)."""
        if key in self._cache:
            return self._cache[key]
        return self._require_reader().read(key)

    def _read_into_storage(
        self, key: str, storage: Any, jobs: list[tuple[str, np.ndarray]]
    ) -> None:
        """Copy a variable's value into its storage: queued as a direct file read when possible."""
        import torch

        with torch.no_grad():
            target = storage.detach()
            if key not in self._cache and target.device.type == "cpu" and target.is_contiguous():
                if target.dtype == torch.bfloat16:
                    target = target.view(torch.int16)
                jobs.append((key, target.numpy()))
                return
            value = self.read_value(key)
            tensor = torch.from_numpy(np.ascontiguousarray(value))
            if storage.dtype == torch.bfloat16:
                tensor = tensor.view(torch.bfloat16)
            storage.copy_(tensor.reshape(storage.shape))

    def _run_read_jobs(self, jobs: list[tuple[str, np.ndarray]]) -> None:
        """Read values straight into variable storage, checksums verified.

        Large batches go through :meth:`BundleReader.read_many_into`, which splits them into
        pieces of a few MiB spread over threads (one huge tensor is read in parallel too);
        small ones are read in the calling thread.
        """
        if not jobs:
            return
        total = sum(out.nbytes for _, out in jobs)
        threads = None if total >= _PARALLEL_BYTES else 1
        self._require_reader().read_many_into(jobs, num_threads=threads)

    # --- file lifetime ---------------------------------------------------------------------------

    def close_files_if_idle(self) -> None:
        """Close the data files between batches (the parsed index stays in memory)."""
        if self._depth == 0 and self.reader is not None:
            self.reader.close()

    def pending_node_ids(self) -> set[int]:
        """Unbound nodes that a queued deferred restoration (or slot queue) may still reach."""
        pending: set[int] = set()
        stack = [i for i, n in self.queued.items() if n > 0]
        while stack:
            node_id = stack.pop()
            if node_id in pending or self.bound_object(node_id) is not None:
                continue
            pending.add(node_id)
            stack.extend(ref.node_id for ref in self.nodes[node_id].children)
        for optimizer_id, refs in self._slots_by_optimizer.items():
            opt_ok = optimizer_id in pending or self.bound_object(optimizer_id) is not None
            for ref in refs:
                var_id = ref.original_variable_node_id
                var_ok = var_id in pending or self.bound_object(var_id) is not None
                if opt_ok and var_ok and self.bound_object(ref.slot_variable_node_id) is None:
                    pending.add(ref.slot_variable_node_id)
        return pending

    def materialize_pending(self) -> None:
        """Read every value a pending restoration may still need into memory, then drop the reader."""
        if self.reader is None:
            return
        for node_id in sorted(self.pending_node_ids()):
            for attr in self.nodes[node_id].attributes:
                key = attr.checkpoint_key
                if key in self.reader and self.reader.dtype(key) not in (
                    dt.DT_VARIANT,
                    dt.DT_RESOURCE,
                ):
                    self._cache[key] = self.reader.read(key)
        self.reader.close()
        self.reader = None

    def __del__(self) -> None:
        try:
            if self.reader is not None:
                self.reader.close()
            if not self.expect_partial and logger.isEnabledFor(logging.WARNING):
                done = self.restored_keys.union(self.skipped)
                unused = [
                    a.checkpoint_key
                    for n in self.nodes
                    for a in n.attributes
                    if a.checkpoint_key not in done
                    and not any(k.startswith(a.checkpoint_key) for k in self.skipped)
                ]
                if unused:
                    logger.warning(
                        "Checkpoint %s: %d value(s) were never restored (e.g. %s). Call "
                        "status.expect_partial() to silence this, or status.report() to list them.",
                        self.save_path,
                        len(unused),
                        unused[0],
                    )
        except Exception:  # noqa: BLE001 - never raise from a finalizer
            pass


def _datatype_enum(value: Any) -> int | None:
    """DataType enum of a torch tensor / numpy array, or None when unknown."""
    dtype = getattr(value, "dtype", None)
    if dtype is None:
        return None
    if isinstance(dtype, np.dtype):
        try:
            return dt.from_numpy(dtype).enum
        except errors.InvalidArgumentError:
            return None
    name = str(dtype).removeprefix("torch.")
    try:
        return dt.info(name).enum
    except errors.InvalidArgumentError:
        return None
