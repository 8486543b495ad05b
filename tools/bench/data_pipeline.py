"""Time savedflow.data pipelines Keras fit relies on (60k x 784 float32, batch 128).

Prints seconds per epoch and the ratio against a hand-written torch loop over the same tensors
(the floor any pipeline can reach). Run: .venv/bin/python tools/bench/data_pipeline.py
"""

from __future__ import annotations

import torch
from _timing import durations

import savedflow as tf


def _time(fn, repeats: int = 3) -> float:
    return min(durations(fn, repeats))


def main() -> None:
    x, y = torch.randn(60000, 784), torch.randint(0, 10, (60000,))

    def floor() -> None:
        perm = torch.randperm(60000)
        for i in range(0, 60000, 128):
            rows = perm[i : i + 128]
            x[rows], y[rows]

    base = _time(floor)
    cases = {
        "slices.batch": lambda: tf.data.Dataset.from_tensor_slices((x, y)).batch(128),
        "slices.shuffle(60000).batch": lambda: (
            tf.data.Dataset.from_tensor_slices((x, y)).shuffle(60000, seed=1).batch(128)
        ),
        "slices.map.batch": lambda: (
            tf.data.Dataset.from_tensor_slices((x, y)).map(lambda a, b: (a, b)).batch(128)
        ),
    }
    print(f"torch randperm gather floor: {base:.3f} s/epoch")
    for name, make in cases.items():
        seconds = _time(lambda make=make: sum(1 for _ in make()))
        print(f"{name:32s} {seconds:.3f} s/epoch  ({seconds / base:.2f}x floor)")


if __name__ == "__main__":
    main()
