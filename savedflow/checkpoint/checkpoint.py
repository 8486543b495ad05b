"""``tf.train.Checkpoint``: group trackable objects and save/restore all their variables.

Example::

    >>> import savedflow as tf
    >>> ckpt = tf.train.Checkpoint(step=tf.Variable(1), net=net, optimizer=opt)
    >>> path = ckpt.save("/tmp/ckpts/ckpt")          # "/tmp/ckpts/ckpt-1"
    >>> status = ckpt.restore(path)
    >>> status.assert_consumed()
    >>> print(status.report())

Keyword arguments become the children of the checkpoint's root node, in sorted name order, so
their variables get keys such as ``net/l1/kernel/.ATTRIBUTES/VARIABLE_VALUE``. ``save()`` numbers
checkpoints with the lazily created ``save_counter`` variable and records them in the directory's
``checkpoint`` file; ``write()`` writes exactly the given prefix and nothing else.
"""

from __future__ import annotations

import inspect
import os
import weakref
from typing import Any

from savedflow import errors
from savedflow.checkpoint import commit
from savedflow.checkpoint.checkpoint_options import CheckpointOptions
from savedflow.checkpoint.graph_view import (
    OBJECT_GRAPH_PROTO_KEY,
    ObjectGraphView,
    read_object_graph,
)
from savedflow.checkpoint.restore import RestoreCoordinator, next_restore_uid
from savedflow.checkpoint.save_util import serialize_graph
from savedflow.checkpoint.status import (
    CheckpointLoadStatus,
    InitializationOnlyStatus,
    NameBasedSaverStatus,
)
from savedflow.formats.tensor_bundle import BundleReader
from savedflow.tracking.autotrackable import AutoTrackable
from savedflow.tracking.base import Trackable

__all__ = ["Checkpoint"]


def _assert_trackable(obj: Any, name: str) -> None:
    if not isinstance(obj, Trackable):
        raise ValueError(
            f"`Checkpoint` was expecting {name} to be a trackable object (an object derived from "
            f"`Trackable`, such as a Variable, Module, Layer or optimizer). Received: {name}={obj!r}"
        )


def _run_callbacks(options: CheckpointOptions, save_path: str) -> None:
    for callback in options.experimental_write_callbacks or ():
        try:
            takes_arg = len(inspect.signature(callback).parameters) > 0
        except (TypeError, ValueError):
            takes_arg = True
        callback(save_path) if takes_arg else callback()


def _saved_model_variables_path(path: str) -> str:
    if os.path.isdir(path) and any(
        os.path.exists(os.path.join(path, f)) for f in ("saved_model.pb", "saved_model.pbtxt")
    ):
        return os.path.join(path, "variables", "variables")
    return path


def _restore_by_name(
    view: ObjectGraphView, reader: BundleReader, save_path: str
) -> NameBasedSaverStatus:
    """TF1 checkpoints have no object graph: match variables by their names, as TF does."""
    restored, unmatched, used = [], [], set()
    for node in view.build():
        tensors = node.obj._serialize_to_tensors()
        name = getattr(node.obj, "_shared_name", None)
        if list(tensors) != ["VARIABLE_VALUE"] or not isinstance(name, str):
            continue
        if name not in reader:
            unmatched.append(node.path)
            continue
        value = reader.read(name)
        current = tensors["VARIABLE_VALUE"]
        if tuple(value.shape) != tuple(current.shape):
            raise errors.ShapeMismatchError(
                f"Checkpoint value {name!r} in {save_path!r} has shape {tuple(value.shape)} but the variable at "
                f"{node.path!r} has shape {tuple(current.shape)}."
            )
        node.obj._restore_from_tensors({"VARIABLE_VALUE": value})
        restored.append(name)
        used.add(name)
    unused = [k for k in reader.keys() if k not in used]
    return NameBasedSaverStatus(save_path, restored, unmatched, unused)


class Checkpoint(AutoTrackable):
    """Groups trackable objects; saves and restores the variables reachable from them.

    Args:
      root: optional object to use as the graph root instead of the Checkpoint itself
        (``Checkpoint(root=model)`` writes ``model``'s variables without a prefix).
      **kwargs: objects to checkpoint, e.g. ``model=model, optimizer=opt, step=step``.

    Raises:
      ValueError: a value is not trackable, or ``root`` already has a different child of a
        keyword's name.
    """

    def __init__(self, root: Any = None, **kwargs: Any):
        super().__init__()
        d = self.__dict__
        d["_save_counter"] = None
        d["_options"] = CheckpointOptions()
        attached: list[tuple[str, Trackable]] = []
        trackable_root = root() if isinstance(root, weakref.ref) else root
        if root is not None:
            _assert_trackable(trackable_root, "root")
            kwargs["root"] = root
            trackable_root._maybe_initialize_trackable()
        for name, value in sorted(kwargs.items(), key=lambda item: item[0]):
            setattr(self, name, value)
            converted = getattr(self, name)
            if isinstance(converted, weakref.ref):
                converted = converted()
            _assert_trackable(converted, name)
            if trackable_root is not None:
                child = trackable_root._lookup_dependency(name)
                if child is None:
                    attached.append((name, converted))
                elif child is not converted:
                    raise ValueError(
                        f"Cannot create a Checkpoint with keyword argument {name} if root.{name} already exists."
                    )
        d["_root_ref"] = trackable_root
        d["_attached"] = attached
        d["_view"] = ObjectGraphView(
            trackable_root if trackable_root is not None else self, attached
        )

    # --- save counter ----------------------------------------------------------------------------

    @property
    def save_counter(self) -> Any:
        """Number of ``save()`` calls so far (an int64 Variable created on first use)."""
        self._maybe_create_save_counter()
        return self._save_counter

    def _maybe_create_save_counter(self) -> None:
        if self._save_counter is not None:
            return
        from savedflow.variables import Variable

        counter = Variable(0, dtype="int64", trainable=False, name="save_counter")
        self.__dict__["_save_counter"] = counter
        root = self._root_ref
        if root is None:
            self._track_trackable(counter, "save_counter")
            return
        self._attached.append(("save_counter", counter))
        queued = root._deferred_dependencies.pop("save_counter", ())
        for position in sorted(queued, key=lambda p: getattr(p, "restore_uid", 0)):
            position.restore(counter)

    # --- writing -----------------------------------------------------------------------------------

    def write(
        self, file_prefix: str | os.PathLike, options: CheckpointOptions | None = None
    ) -> str:
        """Write a checkpoint at exactly ``file_prefix`` (no numbering, no ``checkpoint`` file).

        Returns:
          The prefix written (``<file_prefix>.index`` and ``.data-*`` exist).
        """
        return self._write(os.fspath(file_prefix), options or self._options, update_state=False)

    def save(self, file_prefix: str | os.PathLike, options: CheckpointOptions | None = None) -> str:
        """Write ``<file_prefix>-<N>`` (N = ``save_counter`` + 1) and record it in ``checkpoint``.

        Returns:
          The numbered prefix, e.g. ``"/tmp/ckpts/ckpt-3"``.
        """
        self._maybe_create_save_counter()
        number = int(self._save_counter.assign_add(1))
        return self._write(
            f"{os.fspath(file_prefix)}-{number}", options or self._options, update_state=True
        )

    def _write(self, prefix: str, options: CheckpointOptions, update_state: bool) -> str:
        _, entries = serialize_graph(
            self._view, skip_slot_variables=options.experimental_skip_slot_variables
        )
        commit.commit_bundle(
            prefix, entries, fsync=options.fsync, max_shard_size=options.max_shard_size
        )
        if update_state:
            path = os.path.abspath(prefix)
            commit.write_checkpoint_state(os.path.dirname(path), path, [path])
            commit.crash_point("state_written")
        _run_callbacks(options, prefix)
        return prefix

    def sync(self) -> None:
        """Wait for outstanding saves (TF's async checkpointing); saves here are synchronous."""

    # --- reading -----------------------------------------------------------------------------------

    def read(
        self, save_path: str | os.PathLike | None, options: CheckpointOptions | None = None
    ) -> Any:
        """Restore from ``save_path`` without creating ``save_counter``; returns the load status.

        ``save_path=None`` restores nothing and returns a status whose assertions fail, as TF.

        Raises:
          NotFoundError: no checkpoint at ``save_path``.
          ShapeMismatchError / DTypeMismatchError: a value disagrees with its object.
        """
        options = options or self._options
        if save_path is None:
            return InitializationOnlyStatus(self._view, next_restore_uid())
        save_path = os.fspath(save_path)
        reader = BundleReader(save_path)
        if OBJECT_GRAPH_PROTO_KEY not in reader:
            with reader:
                return _restore_by_name(self._view, reader, save_path)
        try:
            proto = read_object_graph(reader, save_path)
            coordinator = RestoreCoordinator(save_path, reader, proto, self._view, options)
            coordinator.restore_into(0, self._view.root)
        finally:
            reader.close()
        return CheckpointLoadStatus(coordinator, self._view)

    def restore(
        self, save_path: str | os.PathLike | None, options: CheckpointOptions | None = None
    ) -> Any:
        """Restore from ``save_path`` (a prefix, or a SavedModel directory); returns the load status.

        Objects that do not exist yet are restored when they are created. ``None`` restores
        nothing (status assertions then fail, as in TF).

        Raises:
          NotFoundError: no checkpoint at ``save_path`` (the message reminds of the ``-N`` suffix).
        """
        original = save_path
        if save_path is not None:
            save_path = _saved_model_variables_path(os.fspath(save_path))
        try:
            status = self.read(save_path, options)
        except errors.NotFoundError as e:
            raise errors.NotFoundError(
                f"Error when restoring from checkpoint or SavedModel at {original}: {e}\nPlease double-check "
                "that the path is correct. You may be missing the checkpoint suffix (e.g. the '-1' in "
                "'path/to/ckpt-1')."
            ) from e
        self._maybe_create_save_counter()
        return status

    def __repr__(self) -> str:
        return f"<savedflow.train.Checkpoint with children {sorted(self._view.children(self._view.root))}>"
