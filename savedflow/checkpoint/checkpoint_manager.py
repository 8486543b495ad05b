"""``tf.train.CheckpointManager``: numbered checkpoints in a directory, with retention.

State lives in the directory's TF-format ``checkpoint`` file (all four fields, as TensorFlow
writes them), so TensorFlow's ``tf.train.latest_checkpoint`` and ``CheckpointManager`` read
directories written here and a manager created on an existing directory (ours or TF's) picks up
its checkpoints.

Each save is crash-safe (:mod:`savedflow.checkpoint.commit`): the bundle is committed first, the
state file is updated atomically next, and old checkpoints are deleted last.

Deleting old checkpoints: their files are first renamed to trash names
(``ckpt-3.sfdel-<pid>-<hex>.index`` ...), which is instant, and the state file is rewritten
without them. Small ones are then unlinked on the spot, so after ``save()`` returns the
directory looks exactly as TensorFlow leaves it. When the files total at least
``BACKGROUND_DELETE_BYTES`` (unlinking a 1 GiB file can take half a second on file systems
with online discard), a background thread unlinks them while training goes on; the next
``save()``, :meth:`CheckpointManager.sync` and interpreter exit wait for it. A process killed
mid-deletion leaves only trash-named files, which the next save in that directory removes
(only trash and temporaries of dead processes: files named like checkpoints but absent from the
state file, such as those kept by ``keep_checkpoint_every_n_hours``, are never swept).

Example::

    >>> ckpt = tf.train.Checkpoint(step=tf.Variable(1), net=net)
    >>> manager = tf.train.CheckpointManager(ckpt, "./tf_ckpts", max_to_keep=3)
    >>> ckpt.restore(manager.latest_checkpoint)
    >>> manager.save()
    './tf_ckpts/ckpt-1'
"""

from __future__ import annotations

import collections
import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any

from savedflow.checkpoint import commit
from savedflow.checkpoint.checkpoint_options import CheckpointOptions
from savedflow.checkpoint.restore import release_checkpoint_files
from savedflow.formats import checkpoint_state

__all__ = ["CheckpointManager"]

logger = logging.getLogger("savedflow.checkpoint")
BACKGROUND_DELETE_BYTES = 64 << 20  # old checkpoints at least this large are unlinked in a thread


def _evaluate(value: Any) -> int:
    numpy = getattr(value, "numpy", None)
    return int(numpy() if callable(numpy) else value)


class CheckpointManager:
    """Manages numbered checkpoints of one ``Checkpoint`` in a directory.

    Args:
      checkpoint: the ``tf.train.Checkpoint`` to save and restore.
      directory: where checkpoints and the ``checkpoint`` state file live.
      max_to_keep: how many recent checkpoints to keep (None keeps all).
      keep_checkpoint_every_n_hours: additionally keep one checkpoint per this many hours.
      checkpoint_name: prefix of the file names (``ckpt`` gives ``ckpt-7``).
      step_counter: a Variable/int read by ``save()`` when ``checkpoint_interval`` is set.
      checkpoint_interval: save only when ``step_counter`` advanced by at least this much.
      init_fn: called by ``restore_or_initialize()`` when there is nothing to restore.

    Raises:
      ValueError: ``max_to_keep`` <= 0, or ``checkpoint_interval`` without ``step_counter``.
    """

    def __init__(
        self,
        checkpoint: Any,
        directory: str | os.PathLike,
        max_to_keep: int | None,
        keep_checkpoint_every_n_hours: float | None = None,
        checkpoint_name: str = "ckpt",
        step_counter: Any = None,
        checkpoint_interval: int | None = None,
        init_fn: Callable[[], Any] | None = None,
    ):
        if max_to_keep is not None and max_to_keep <= 0:
            raise ValueError(
                f"Expected a positive integer or `None` for `max_to_keep`, got {max_to_keep}."
            )
        if checkpoint_interval is not None and step_counter is None:
            raise ValueError(
                "`step_counter` should be passed if `checkpoint_interval` is not None."
            )
        self._checkpoint = checkpoint
        self._max_to_keep = max_to_keep
        self._keep_checkpoint_every_n_hours = keep_checkpoint_every_n_hours
        self._directory = os.fspath(directory)
        self._checkpoint_prefix = os.path.join(self._directory, checkpoint_name)
        self._step_counter = step_counter
        self._checkpoint_interval = checkpoint_interval
        self._last_checkpoint_step: int | None = None
        self._init_fn = init_fn
        self._maybe_delete: collections.OrderedDict[str, float] = collections.OrderedDict()
        self._deleter: threading.Thread | None = None
        self._recover_state()

    def _recover_state(self) -> None:
        state = checkpoint_state.get_checkpoint_state(self._directory)
        now = time.time()
        if state is None:
            self._latest_checkpoint = None
            # Slightly in the past, so quickly re-created managers don't race (as TF).
            self._last_preserved_timestamp = now - 1.0
            return
        self._latest_checkpoint = state.model_checkpoint_path
        self._last_preserved_timestamp = state.last_preserved_timestamp
        if now < self._last_preserved_timestamp:
            logger.warning(
                "The last preserved checkpoint timestamp in %s is in the future; the clock went backwards. "
                "Using the current time instead.",
                self._directory,
            )
            self._last_preserved_timestamp = now
        paths = list(state.all_model_checkpoint_paths)
        stamps = list(state.all_model_checkpoint_timestamps) or [
            self._last_preserved_timestamp
        ] * len(paths)
        for path, stamp in zip(paths, stamps):
            stamp = min(stamp, now)
            if stamp > self._last_preserved_timestamp:
                self._maybe_delete[path] = stamp

    # --- properties ----------------------------------------------------------------------------

    @property
    def directory(self) -> str:
        return self._directory

    @property
    def checkpoint(self) -> Any:
        return self._checkpoint

    @property
    def checkpoint_interval(self) -> int | None:
        return self._checkpoint_interval

    @property
    def latest_checkpoint(self) -> str | None:
        """Prefix of the newest checkpoint (pass it to ``Checkpoint.restore``), or None."""
        return self._latest_checkpoint

    @property
    def checkpoints(self) -> list[str]:
        """Prefixes of the managed checkpoints, oldest first."""
        return list(self._maybe_delete)

    # --- saving ----------------------------------------------------------------------------------

    def save(
        self,
        checkpoint_number: Any = None,
        check_interval: bool = True,
        options: CheckpointOptions | None = None,
    ) -> str | None:
        """Save a new checkpoint ``<directory>/<name>-<N>`` and apply retention.

        Args:
          checkpoint_number: number for the file name (an int or an integer Variable); by default
            the checkpoint's ``save_counter`` after incrementing it.
          check_interval: honour ``checkpoint_interval`` (skip if the step did not advance enough).
            With False, saves unless a checkpoint was already saved at the current step.

        Returns:
          The new prefix, or None when skipped by ``checkpoint_interval``.
        """
        self.sync()
        if self._checkpoint_interval is not None:
            step = _evaluate(self._step_counter)
            last = self._last_checkpoint_step
            if last is not None:
                if step == last:  # never two checkpoints for one step, even unchecked
                    return None
                if check_interval and step < last + self._checkpoint_interval:
                    return None
            self._last_checkpoint_step = step
        save_counter = self._checkpoint.save_counter
        save_counter.assign_add(1)
        number = _evaluate(save_counter if checkpoint_number is None else checkpoint_number)
        prefix = f"{self._checkpoint_prefix}-{number}"
        base = options or CheckpointOptions()
        callbacks = list(base.experimental_write_callbacks or []) + [self._record_and_sweep_state]
        options = CheckpointOptions(**{**vars(base), "experimental_write_callbacks": callbacks})
        return self._checkpoint._write(prefix, options, update_state=False)

    def _record_and_sweep_state(self, save_path: str) -> None:
        timestamp = time.time()
        # An overwritten checkpoint moves to the end of the queue.
        self._maybe_delete.pop(save_path, None)
        self._maybe_delete[save_path] = timestamp
        self._latest_checkpoint = save_path
        # Record the new checkpoint before deleting anything, and again after the deletion.
        self._record_state()
        commit.crash_point("before_sweep")
        trash, size = self._sweep()
        if trash is None:
            return
        self._record_state()
        if size >= BACKGROUND_DELETE_BYTES:
            self._deleter = threading.Thread(
                target=commit.remove_files, args=(trash,), name="savedflow-checkpoint-delete"
            )
            self._deleter.start()  # not a daemon: interpreter exit waits for it
        else:
            commit.remove_files(trash)

    def _sweep(self) -> tuple[list[str] | None, int]:
        """Drop checkpoints beyond ``max_to_keep``; move their files to the trash.

        Returns the trash files to unlink and their total size; None when the queue did not
        change (nothing to record again).
        """
        if not self._max_to_keep or len(self._maybe_delete) <= self._max_to_keep:
            return None, 0
        trash: list[str] = []
        size = 0
        while len(self._maybe_delete) > self._max_to_keep:
            path, timestamp = self._maybe_delete.popitem(last=False)
            hours = self._keep_checkpoint_every_n_hours
            if hours and timestamp - hours * 3600.0 >= self._last_preserved_timestamp:
                self._last_preserved_timestamp = timestamp
                continue
            release_checkpoint_files(path)
            moved, nbytes = commit.move_to_trash(path)
            trash.extend(moved)
            size += nbytes
        return trash, size

    def sync(self) -> None:
        """Wait for outstanding work: old checkpoints being deleted in the background."""
        deleter, self._deleter = self._deleter, None
        if deleter is not None:
            deleter.join()
        sync = getattr(self._checkpoint, "sync", None)
        if callable(sync):
            sync()

    def _record_state(self) -> None:
        if self._latest_checkpoint is None:
            return
        directory = os.path.abspath(self._directory)
        commit.write_checkpoint_state(
            directory,
            os.path.abspath(self._latest_checkpoint),
            [os.path.abspath(p) for p in self._maybe_delete],
            all_model_checkpoint_timestamps=list(self._maybe_delete.values()),
            last_preserved_timestamp=self._last_preserved_timestamp,
        )
        commit.cleanup_stale_temp_files(
            directory, state_temp_prefix=checkpoint_state.DEFAULT_FILENAME
        )

    # --- restoring -------------------------------------------------------------------------------

    def restore_or_initialize(self) -> str | None:
        """Restore the latest checkpoint if any (returning its path), else run ``init_fn``."""
        if self._latest_checkpoint is not None:
            self._checkpoint.restore(self._latest_checkpoint)
            if self._checkpoint_interval is not None:
                self._last_checkpoint_step = _evaluate(self._step_counter)
            return self._latest_checkpoint
        if self._init_fn is not None:
            self._init_fn()
            logger.info("Customized initialization is done through the passed `init_fn`.")
        return None
