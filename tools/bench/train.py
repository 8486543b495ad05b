"""Benchmark: Keras fit() throughput and single-example predict latency, savedflow vs tf_keras 2.x.

    .venv/bin/python tools/bench/train.py [--repeats 9] [--no-jit] [--threads N] [--tf-python PATH]

Each peer runs in its own long-lived worker process: savedflow with this interpreter, tf_keras
(``TF_USE_LEGACY_KERAS=1``) with the TF oracle venv's. Both build the same models, compile them
and run warm-up epochs; then the driver asks for one timed epoch at a time, **alternating the
peers** (ABBA order, so drift in the machine's speed hits both alike) and computes each ratio
from the epochs of the same round. The figure reported is the median over rounds, with the
lowest and highest round beside it: on a shared or virtual machine a single sequential
measurement of each peer can be off by a factor of two, a paired ratio is not.

Models (synthetic data, Adam, sparse categorical crossentropy from logits, batch 128):

* MLP 784-256-256-10
* small CNN 28x28x1: Conv2D(32,3)-MaxPool-Conv2D(64,3)-MaxPool-Flatten-Dense(10)

Cases: fit with the defaults (TF runs its train step as a graph, savedflow eagerly) and with
``jit_compile=True`` (XLA for TF, torch.compile for savedflow); the ``jit`` rows compare
savedflow's compiled fit with both of TF's. Latency: median of ``model.predict(x[:1])`` and of a
direct ``model(x[:1])`` call.

Both workers use their library's defaults for threads (torch: one intra-op thread per core;
TF: its own pools over all cores) unless ``--threads`` sets torch's.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

import numpy as np
from _timing import durations

DEFAULT_TF_PYTHON = "/root/.cache/savedflow/tf-2.21/bin/python"
MODELS = {
    "mlp": {"samples": 12800, "shape": (784,)},
    "cnn": {"samples": 2560, "shape": (28, 28, 1)},
}
BATCH = 128
WARMUP_EPOCHS = 2


def _build(keras: Any, name: str) -> Any:
    L = keras.layers
    if name == "mlp":
        return keras.Sequential(
            [
                L.Dense(256, activation="relu", input_shape=(784,)),
                L.Dense(256, activation="relu"),
                L.Dense(10),
            ]
        )
    return keras.Sequential(
        [
            L.Conv2D(32, 3, activation="relu", input_shape=(28, 28, 1)),
            L.MaxPooling2D(),
            L.Conv2D(64, 3, activation="relu"),
            L.MaxPooling2D(),
            L.Flatten(),
            L.Dense(10),
        ]
    )


def _data(name: str) -> tuple[np.ndarray, np.ndarray]:
    spec = MODELS[name]
    rng = np.random.default_rng(0)
    x = rng.standard_normal((spec["samples"], *spec["shape"])).astype(np.float32)
    y = rng.integers(0, 10, spec["samples"]).astype(np.int64)
    return x, y


def _median_latency(fn: Any, repeats: int = 50) -> float:
    fn()
    return statistics.median(durations(fn, repeats))


# --- worker side ----------------------------------------------------------------------------


class Worker:
    """One peer's models, driven by JSON commands on stdin (one per line)."""

    def __init__(self, backend: str, threads: int):
        self.backend = backend
        if backend == "tf":
            os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
            import tensorflow as tf

            self.keras = tf.keras
            self.threads = "tf default"
        else:
            import torch

            from savedflow import keras

            if threads:
                torch.set_num_threads(threads)
            self.keras = keras
            self.threads = torch.get_num_threads()
        self.models: dict[str, tuple[Any, np.ndarray, np.ndarray]] = {}

    def setup(self, case: str) -> dict[str, Any]:
        name, _, jit = case.partition("_")
        keras = self.keras
        x, y = _data(name)
        model = _build(keras, name)
        optimizer = (
            keras.optimizers.legacy.Adam(1e-3)
            if self.backend == "tf"
            else keras.optimizers.Adam(1e-3)
        )
        model.compile(
            optimizer=optimizer,
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            jit_compile=bool(jit),
        )
        start = time.perf_counter()
        for _ in range(WARMUP_EPOCHS):
            model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0)
        self.models[case] = (model, x, y)
        return {"warmup_sec": time.perf_counter() - start, "threads": self.threads}

    def epoch(self, case: str) -> dict[str, Any]:
        model, x, y = self.models[case]
        start = time.perf_counter()
        model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0)
        return {"sec": time.perf_counter() - start, "examples": len(x)}

    def latency(self, case: str) -> dict[str, Any]:
        model, x, _ = self.models[case]
        one = x[:1]
        return {
            "predict_ms": 1000 * _median_latency(lambda: model.predict(one, verbose=0)),
            "call_ms": 1000 * _median_latency(lambda: model(one, training=False)),
        }

    def serve(self) -> None:
        for line in sys.stdin:
            request = json.loads(line)
            if request["cmd"] == "quit":
                return
            reply = getattr(self, request["cmd"])(request["case"])
            print(json.dumps(reply), flush=True)


# --- driver side ----------------------------------------------------------------------------


class Peer:
    """The driver's handle on one worker process."""

    def __init__(self, python: str, backend: str, threads: int):
        env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
        if backend == "tf":
            env["TF_USE_LEGACY_KERAS"] = "1"
        cmd = [python, os.path.abspath(__file__), "--worker", backend, "--threads", str(threads)]
        self.stderr = tempfile.TemporaryFile(mode="w+")  # shown only if the worker fails
        self.proc = subprocess.Popen(
            cmd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self.stderr,
            text=True,
            env=env,
        )

    def ask(self, cmd: str, case: str = "") -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps({"cmd": cmd, "case": case}) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            self.stderr.seek(0)
            raise RuntimeError(
                f"benchmark worker {self.proc.args} exited ({self.proc.wait()}):\n"
                + self.stderr.read()[-4000:]
            )
        return json.loads(line)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.ask_quit()

    def ask_quit(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(json.dumps({"cmd": "quit"}) + "\n")
        self.proc.stdin.close()
        self.proc.wait(timeout=60)


def _rounds(peers: dict[str, Peer], cases: list[str], repeats: int) -> dict[str, list[float]]:
    """Timed epochs, ``{peer/case: [examples per second, one per round]}``, peers alternating."""
    runs = [(peer, case) for case in cases for peer in peers]
    rates: dict[str, list[float]] = {f"{p}/{c}": [] for p, c in runs}
    for index in range(repeats):
        order = runs if index % 2 == 0 else runs[::-1]
        for peer, case in order:
            reply = peers[peer].ask("epoch", case)
            rates[f"{peer}/{case}"].append(reply["examples"] / reply["sec"])
    return rates


def _ratio_row(label: str, ours: list[float], theirs: list[float]) -> str:
    ratios = sorted(a / b for a, b in zip(ours, theirs))
    return (
        f"{label:<34} {statistics.median(ours):9.0f} {statistics.median(theirs):9.0f}"
        f"   {statistics.median(ratios):5.2f}x  ({ratios[0]:.2f}-{ratios[-1]:.2f})"
    )


def _report(rates: dict[str, list[float]], latency: dict[str, Any], jit: bool) -> list[str]:
    lines = [
        f"{'fit throughput (examples/s)':<34} {'savedflow':>9} {'tf_keras':>9}   "
        "ratio (lowest-highest round)"
    ]
    for name in MODELS:
        sf, tf = f"savedflow/{name}", f"tf/{name}"
        lines.append(_ratio_row(f"{name}: default fit", rates[sf], rates[tf]))
        if jit:
            sf_jit, tf_jit = f"savedflow/{name}_jit", f"tf/{name}_jit"
            lines.append(_ratio_row(f"{name}: sf jit vs TF default fit", rates[sf_jit], rates[tf]))
            lines.append(_ratio_row(f"{name}: sf jit vs TF XLA fit", rates[sf_jit], rates[tf_jit]))
    lines.append(f"{'latency (ms, median of 50)':<34} {'savedflow':>9} {'tf_keras':>9}")
    for name in MODELS:
        sf, tf = latency["savedflow"][name], latency["tf"][name]
        lines.append(
            f"{name + ': predict(x[:1])':<34} {sf['predict_ms']:9.2f} {tf['predict_ms']:9.2f}"
        )
        lines.append(f"{name + ': model(x[:1])':<34} {sf['call_ms']:9.2f} {tf['call_ms']:9.2f}")
    return lines


def run(args: argparse.Namespace) -> int:
    """Start both workers, set up every case, time alternating rounds and print the table."""
    if not os.path.exists(args.tf_python):
        print(f"TF python {args.tf_python} not found (run tools/tf_env.sh)", file=sys.stderr)
        return 2
    cases = [c for name in MODELS for c in ((name, f"{name}_jit") if not args.no_jit else (name,))]
    peers = {
        "savedflow": Peer(sys.executable, "savedflow", args.threads),
        "tf": Peer(args.tf_python, "tf", 0),
    }
    try:
        setup = {p: {c: peer.ask("setup", c) for c in cases} for p, peer in peers.items()}
        rates = _rounds(peers, cases, args.repeats)
        latency = {p: {n: peer.ask("latency", n) for n in MODELS} for p, peer in peers.items()}
    finally:
        for peer in peers.values():
            peer.close()
    threads = setup["savedflow"][cases[0]]["threads"]
    print(
        f"cores {os.cpu_count()}; savedflow torch threads {threads}; batch {BATCH}; "
        f"{args.repeats} alternating rounds; load average {os.getloadavg()[0]:.1f}"
    )
    print("\n".join(_report(rates, latency, not args.no_jit)))
    warmups = {p: {c: round(s["warmup_sec"], 2) for c, s in v.items()} for p, v in setup.items()}
    print(json.dumps({"rates": rates, "latency": latency, "warmup_sec": warmups}))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=9, help="alternating timed rounds")
    parser.add_argument("--no-jit", action="store_true", help="skip the jit_compile=True cases")
    parser.add_argument(
        "--threads", type=int, default=0, help="torch intra-op threads (0: torch's default)"
    )
    parser.add_argument(
        "--tf-python", default=os.environ.get("SAVEDFLOW_TF_PYTHON", DEFAULT_TF_PYTHON)
    )
    parser.add_argument("--worker", choices=["savedflow", "tf"], help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        Worker(args.worker, args.threads).serve()
        return 0
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
