"""BackupAndRestore: resume an interrupted fit from the last completed epoch."""

from __future__ import annotations

import os
import shutil
from typing import Any

import torch

from savedflow.keras.callbacks.callback import Callback


class BackupAndRestore(Callback):
    """Checkpoint model, optimizer and epoch counter into ``backup_dir`` at each epoch end.

    When fit starts and a backup exists, weights and optimizer state are restored and training
    continues after the last saved epoch. The backup is deleted when fit completes (unless
    ``delete_checkpoint=False``).

    Example::

        model.fit(x, y, epochs=10, callbacks=[keras.callbacks.BackupAndRestore("/tmp/backup")])
    """

    def __init__(
        self,
        backup_dir: Any,
        save_freq: Any = "epoch",
        delete_checkpoint: bool = True,
        save_before_preemption: bool = False,
    ):
        super().__init__()
        if not backup_dir:
            raise ValueError("Empty `backup_dir` argument passed")
        if save_freq != "epoch" and not isinstance(save_freq, int):
            raise ValueError(
                f"Unrecognized save_freq value: {save_freq}. Expected save_freq are 'epoch' or integer values"
            )
        self.backup_dir = os.fspath(backup_dir)
        self.save_freq = save_freq
        self.delete_checkpoint = delete_checkpoint
        self.save_before_preemption = save_before_preemption
        self._manager: Any = None
        self._epoch_var: Any = None
        self._batches_seen = 0
        self._current_epoch = 0

    def _implements_batch_hooks(self) -> bool:
        return self.save_freq != "epoch"

    def _state(self) -> Any:
        if self._manager is None:
            from savedflow.train import Checkpoint, CheckpointManager
            from savedflow.variables import Variable

            self._epoch_var = Variable(
                torch.tensor(-1, dtype=torch.int64), trainable=False, name="ckpt_saved_epoch"
            )
            checkpoint = Checkpoint(model=self.model, ckpt_saved_epoch=self._epoch_var)
            self._manager = CheckpointManager(
                checkpoint, os.path.join(self.backup_dir, "chief"), max_to_keep=1
            )
        return self._manager

    def on_train_begin(self, logs: dict | None = None) -> None:
        """Restore from the latest backup and tell fit where to resume."""
        manager = self._state()
        if manager.latest_checkpoint:
            manager.checkpoint.restore(manager.latest_checkpoint)
            saved_epoch = int(self._epoch_var.numpy())
            if saved_epoch >= 0:
                self.model._backup_initial_epoch = saved_epoch + 1

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        """Remember the epoch for batch-level backups."""
        self._current_epoch = epoch

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        """With an integer ``save_freq``, back up every that many batches."""
        if self.save_freq == "epoch":
            return
        self._batches_seen += 1
        if self._batches_seen >= self.save_freq:
            self._batches_seen = 0
            self._save(self._current_epoch - 1)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        """Back up after the epoch."""
        if self.save_freq == "epoch":
            self._save(epoch)

    def _save(self, epoch: int) -> None:
        self._epoch_var.assign(epoch)
        self._state().save()

    def on_train_end(self, logs: dict | None = None) -> None:
        """Delete the backup (``backup_dir/chief``; ``backup_dir`` itself stays, as in TF)."""
        chief = os.path.join(self.backup_dir, "chief")
        if self.delete_checkpoint and os.path.isdir(chief):
            shutil.rmtree(chief, ignore_errors=True)
        self._manager = None
