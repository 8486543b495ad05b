"""ProgbarLogger: prints ``Epoch 1/3`` and the Keras progress bar during fit/evaluate/predict."""

from __future__ import annotations

import sys
from typing import Any

from savedflow.keras.callbacks.callback import Callback
from savedflow.keras.utils.progbar import Progbar


class ProgbarLogger(Callback):
    """Progress output for verbose=1 (bar) and verbose=2 (one line per epoch)."""

    def __init__(self, count_mode: str = "samples", stateful_metrics: Any = None):
        super().__init__()
        if count_mode not in ("samples", "steps"):
            raise ValueError(
                f'Unknown `count_mode`: {count_mode}. Expected values are ["samples", "steps"]'
            )
        self.use_steps = count_mode == "steps"
        self.stateful_metrics = set(stateful_metrics or ())
        self.seen = 0
        self.progbar: Progbar | None = None
        self.target: int | None = None
        self.verbose = 1
        self.epochs = 1
        self._called_in_fit = False

    def set_params(self, params: dict[str, Any]) -> None:
        """Pick up verbose, epochs and steps."""
        super().set_params(params)
        self.verbose = params.get("verbose", 1)
        self.epochs = params.get("epochs", 1)
        self.target = params.get("steps")

    def _implements_batch_hooks(self) -> bool:
        return self.verbose == 1

    def on_train_begin(self, logs: dict | None = None) -> None:
        """Remember that we are in fit (evaluate during fit stays silent)."""
        self._called_in_fit = True

    def on_test_begin(self, logs: dict | None = None) -> None:
        """Start a bar for evaluate (not for fit's validation)."""
        if not self._called_in_fit:
            self._reset()
            self._maybe_init()

    def on_predict_begin(self, logs: dict | None = None) -> None:
        """Start a bar for predict."""
        self._reset()
        self._maybe_init()

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        """Print ``Epoch i/n`` (when training for more than one epoch) and start a bar."""
        self._reset()
        if self.verbose and self.epochs > 1:
            sys.stdout.write(f"Epoch {epoch + 1}/{self.epochs}\n")
            sys.stdout.flush()
        self._maybe_init()

    def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:
        """Advance the bar."""
        self._batch_update(batch, logs)

    def on_test_batch_end(self, batch: int, logs: dict | None = None) -> None:
        """Advance the evaluate bar."""
        if not self._called_in_fit:
            self._batch_update(batch, logs)

    def on_predict_batch_end(self, batch: int, logs: dict | None = None) -> None:
        """Advance the predict bar (no values shown)."""
        self._batch_update(batch, None)

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        """Finish the epoch's bar with the epoch's (non-validation and validation) logs."""
        self._finalize(logs)

    def on_test_end(self, logs: dict | None = None) -> None:
        """Finish the evaluate bar."""
        if not self._called_in_fit:
            self._finalize(logs)

    def on_predict_end(self, logs: dict | None = None) -> None:
        """Finish the predict bar."""
        self._finalize({})

    def _reset(self) -> None:
        self.seen = 0
        self.progbar = None

    def _maybe_init(self) -> None:
        if self.progbar is None:
            self.progbar = Progbar(
                target=self.target,
                verbose=self.verbose,
                stateful_metrics=self.stateful_metrics or None,
                unit_name="step" if self.use_steps else "sample",
            )

    def _batch_update(self, batch: int, logs: dict | None) -> None:
        self._maybe_init()
        self.seen = batch + 1
        if self.verbose == 1:
            self.progbar.update(self.seen, self._shown(logs), finalize=False)

    def _finalize(self, logs: dict | None) -> None:
        self._maybe_init()
        values = self._shown(logs)
        if self.target is None:
            self.target = self.seen
            self.progbar.target = self.seen
        self.progbar.update(self.target, values, finalize=True)

    def _shown(self, logs: dict | None) -> list[tuple[str, Any]]:
        """The log entries the bar shows, as is (the bar averages none of them)."""
        values = [
            (k, v) for k, v in (logs or {}).items() if k not in ("batch", "size", "num_steps")
        ]
        self.progbar.stateful_metrics.update(k for k, _ in values)
        return values
