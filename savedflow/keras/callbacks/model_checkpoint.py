"""ModelCheckpoint: save the model or its weights during fit."""

from __future__ import annotations

import os
from typing import Any

from savedflow.keras.callbacks._monitor import log, monitor_op
from savedflow.keras.callbacks.callback import Callback


class ModelCheckpoint(Callback):
    """Save after every epoch (or every ``save_freq`` batches), optionally only the best.

    ``filepath`` may contain format fields filled from the epoch and the logs, e.g.
    ``"weights.{epoch:02d}-{val_loss:.2f}.h5"``.

    Example::

        keras.callbacks.ModelCheckpoint("ckpt/best", save_weights_only=True, save_best_only=True)
    """

    def __init__(
        self,
        filepath: Any,
        monitor: str = "val_loss",
        verbose: int = 0,
        save_best_only: bool = False,
        save_weights_only: bool = False,
        mode: str = "auto",
        save_freq: Any = "epoch",
        options: Any = None,
        initial_value_threshold: float | None = None,
        **kwargs: Any,
    ):
        super().__init__()
        self.monitor = monitor
        self.verbose = verbose
        self.filepath = os.fspath(filepath)
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        self.save_freq = save_freq
        self._options = options
        self.epochs_since_last_save = 0
        self._batches_seen_since_last_saving = 0
        self._current_epoch = 0
        if save_freq != "epoch" and not isinstance(save_freq, int):
            raise ValueError(
                f"Unrecognized save_freq: {save_freq}. Expected save_freq are 'epoch' or integer"
            )
        self.period = kwargs.pop("period", 1)
        self.monitor_op, self.best = monitor_op(mode, monitor, "ModelCheckpoint")
        if initial_value_threshold is not None:
            self.best = initial_value_threshold

    def on_train_begin(self, logs: dict | None = None) -> None:
        """Fail before any training when the requested file kind cannot be written yet."""
        if not self.save_weights_only:
            raise NotImplementedError(
                "ModelCheckpoint(save_weights_only=False) saves whole models (SavedModel, .keras, "
                ".h5), which savedflow does not support yet; pass save_weights_only=True to write "
                f"TF checkpoints. Received: filepath={self.filepath!r}"
            )
        if self.filepath.endswith((".h5", ".hdf5", ".keras")):
            raise NotImplementedError(
                "ModelCheckpoint writes TF checkpoints only for now (HDF5 and .keras files are not "
                f"supported yet); use a path without that suffix. Received: filepath={self.filepath!r}"
            )

    def _implements_batch_hooks(self) -> bool:
        return self.save_freq != "epoch"

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        """Remember the epoch for file names."""
        self._current_epoch = epoch

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        """With an integer ``save_freq``, save every that many batches."""
        if self.save_freq == "epoch":
            return
        self._batches_seen_since_last_saving += 1
        if self._batches_seen_since_last_saving >= self.save_freq:
            self._batches_seen_since_last_saving = 0
            self._save_model(self._current_epoch, batch, logs)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        """With ``save_freq='epoch'``, save (every ``period`` epochs)."""
        self.epochs_since_last_save += 1
        if self.save_freq == "epoch" and self.epochs_since_last_save >= self.period:
            self.epochs_since_last_save = 0
            self._save_model(epoch, None, logs)

    def _file_path(self, epoch: int, batch: int | None, logs: dict | None) -> str:
        logs = dict(logs or {})
        try:
            if batch is None or "batch" in logs:
                return self.filepath.format(epoch=epoch + 1, **logs)
            return self.filepath.format(epoch=epoch + 1, batch=batch + 1, **logs)
        except KeyError as err:
            raise KeyError(
                f'Failed to format this callback filepath: "{self.filepath}". Reason: {err}'
            ) from err

    def _save_model(self, epoch: int, batch: int | None, logs: dict | None) -> None:
        logs = logs or {}
        filepath = self._file_path(epoch, batch, logs)
        if self.save_best_only:
            current = logs.get(self.monitor)
            if current is None:
                log.warning("Can save best model only with %s available, skipping.", self.monitor)
                return
            if not self.monitor_op(current, self.best):
                if self.verbose > 0:
                    print(
                        f"\nEpoch {epoch + 1}: {self.monitor} did not improve from {self.best:.5f}"
                    )
                return
            if self.verbose > 0:
                print(
                    f"\nEpoch {epoch + 1}: {self.monitor} improved from {self.best:.5f} to {current:.5f}, saving model to {filepath}"
                )
            self.best = current
        elif self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: saving model to {filepath}")
        directory = os.path.dirname(filepath)
        if directory:
            os.makedirs(directory, exist_ok=True)
        if self.save_weights_only:
            self.model.save_weights(filepath, overwrite=True)
        else:
            self.model.save(filepath, overwrite=True)
