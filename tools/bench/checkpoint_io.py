"""Benchmark checkpoint write/read: savedflow's tensor bundle vs raw file I/O, torch and TF.

Usage::

    .venv/bin/python tools/bench/checkpoint_io.py                 # 1 GiB in 64 float32 tensors
    .venv/bin/python tools/bench/checkpoint_io.py --size-mb 64 --repeats 2 --no-tf

For each directory (``/dev/shm`` and a disk directory) it times, in the same run and on the same
bytes: savedflow ``BundleWriter`` write, raw ``write()`` of the same buffers, ``torch.save``;
savedflow ``read_many_into`` existing arrays (crc32c verified, threads) and
the same one tensor at a time with ``read_into``, raw ``readinto`` of the same bytes,
``torch.load``; and TensorFlow's ``tf.train.Checkpoint.write``/``read`` (into existing
variables) through the oracle venv. No write is fsynced (none of the peers does by default),
so disk figures mostly measure the page cache; before each timed write the previous output is
deleted and ``os.sync()`` flushes earlier writes, so no writer is throttled by another's dirty
pages. Peak memory while writing is measured in a
fresh subprocess as VmHWM minus the RSS before writing.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from _timing import durations

REPO = Path(__file__).resolve().parents[2]
TF_PYTHON = Path("/root/.cache/savedflow/tf-2.21/bin/python")

TF_SCRIPT = r"""
import json, os, sys, time, statistics
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np, tensorflow as tf
directory, size_mb, tensors, repeats = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
n = size_mb * (1 << 20) // 4 // tensors
rng = np.random.default_rng(0)
variables = {f"v{i}": tf.Variable(rng.standard_normal(n, dtype=np.float32)) for i in range(tensors)}
ckpt = tf.train.Checkpoint(**variables)
prefix = os.path.join(directory, "tf_ckpt")
writes, reads = [], []
def settle():
    for name in os.listdir(directory):
        if name.startswith("tf_ckpt"):
            os.remove(os.path.join(directory, name))
    os.sync()
for _ in range(repeats):
    settle()
    t = time.perf_counter(); ckpt.write(prefix); writes.append(time.perf_counter() - t)
for _ in range(repeats):
    t = time.perf_counter(); ckpt.read(prefix).assert_consumed(); reads.append(time.perf_counter() - t)
print(json.dumps({"write": statistics.median(writes), "read": statistics.median(reads)}))
"""

PEAK_SCRIPT = r"""
import sys, numpy as np
sys.path.insert(0, sys.argv[4])
from savedflow.formats.tensor_bundle import BundleWriter
def rss(field):
    for line in open("/proc/self/status"):
        if line.startswith(field):
            return int(line.split()[1]) * 1024
directory, size_mb, tensors = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
n = size_mb * (1 << 20) // 4 // tensors
arrays = [np.random.default_rng(i).standard_normal(n, dtype=np.float32) for i in range(tensors)]
before = rss("VmRSS:")
with BundleWriter(directory + "/peak") as w:
    for i, a in enumerate(arrays):
        w.add(f"v{i}", a)
print(rss("VmHWM:") - before, before)
"""


def _settle(directory: str, stem: str) -> None:
    """Delete the files a write is about to produce and flush all dirty pages (not timed)."""
    for name in os.listdir(directory):
        if name.startswith(stem):
            os.remove(os.path.join(directory, name))
    os.sync()


def _median_time(fn, repeats: int) -> float:
    return statistics.median(durations(fn, repeats))


def _bench_dir(
    directory: str, arrays: list[np.ndarray], repeats: int, with_torch: bool
) -> dict[str, float]:
    from savedflow.formats.tensor_bundle import BundleReader, BundleWriter

    prefix = os.path.join(directory, "sf_ckpt")
    raw_path = os.path.join(directory, "raw.bin")

    def sf_write() -> None:
        with BundleWriter(prefix) as writer:
            for i, a in enumerate(arrays):
                writer.add(f"v{i}", a)

    def raw_write() -> None:
        with open(raw_path, "wb") as f:
            for a in arrays:
                f.write(memoryview(a).cast("B"))

    outs = [np.empty_like(a) for a in arrays]
    for out in outs:  # fault the pages in now, so no reader pays for first touch
        out.fill(0)

    def sf_read() -> None:
        with BundleReader(prefix) as reader:
            reader.read_many_into([(f"v{i}", out) for i, out in enumerate(outs)])

    def sf_read_serial() -> None:
        with BundleReader(prefix) as reader:
            for i, out in enumerate(outs):
                reader.read_into(f"v{i}", out)

    def raw_read() -> None:
        with open(raw_path, "rb", buffering=0) as f:
            for out in outs:
                f.readinto(memoryview(out).cast("B"))

    ops = {
        "savedflow write": sf_write,
        "raw write": raw_write,
        "savedflow read_many_into (crc)": sf_read,
        "savedflow read_into, 1 thread": sf_read_serial,
        "raw readinto": raw_read,
    }
    if with_torch:
        import torch

        tensors = {f"v{i}": torch.from_numpy(a) for i, a in enumerate(arrays)}
        torch_path = os.path.join(directory, "torch.pt")
        ops["torch.save"] = lambda: torch.save(tensors, torch_path)
        ops["torch.load"] = lambda: torch.load(torch_path, weights_only=True)
    # Each write starts on a clean slate: its previous output deleted and earlier writes
    # flushed (os.sync), so no writer pays for another's truncation or write-back.
    writes = {"savedflow write": "sf_ckpt", "raw write": "raw.bin", "torch.save": "torch.pt"}
    # Interleave the peers within each repeat so that background load hits them alike.
    times: dict[str, list[float]] = {name: [] for name in ops}
    names = list(ops)
    for name in writes:  # untimed warm-up: every file exists before any read
        if name in ops:
            ops[name]()
    for r in range(repeats):
        # Rotate the order each repeat, so no peer always runs right after the big writes.
        for name in names[r % len(names) :] + names[: r % len(names)]:
            fn = ops[name]
            if name in writes:
                _settle(directory, writes[name])
            times[name].append(_median_time(fn, 1))
    assert all(np.array_equal(a, o) for a, o in zip(arrays, outs))
    return {name: statistics.median(values) for name, values in times.items()}


def _tf_figures(directory: str, size_mb: int, tensors: int, repeats: int) -> dict[str, float]:
    if not TF_PYTHON.exists():
        return {}
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    out = subprocess.run(
        [str(TF_PYTHON), "-c", TF_SCRIPT, directory, str(size_mb), str(tensors), str(repeats)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    figures = json.loads(out.stdout.strip().splitlines()[-1])
    return {"tf Checkpoint.write": figures["write"], "tf Checkpoint.read": figures["read"]}


def _peak_write_memory(directory: str, size_mb: int, tensors: int) -> tuple[int, int]:
    out = subprocess.run(
        [sys.executable, "-c", PEAK_SCRIPT, directory, str(size_mb), str(tensors), str(REPO)],
        capture_output=True,
        text=True,
        check=True,
    )
    extra, baseline = out.stdout.split()
    return int(extra), int(baseline)


_READ = "savedflow read_many_into (crc)"


def _report(label: str, size: int, results: dict[str, float]) -> None:
    print(f"\n== {label} ==")
    for name, seconds in results.items():
        print(f"  {name:28s} {seconds * 1000:9.1f} ms  {size / seconds / 1e9:6.2f} GB/s")
    ratios = [
        ("savedflow write / raw write (throughput)", "raw write", "savedflow write"),
        ("savedflow write / TF write (throughput)", "tf Checkpoint.write", "savedflow write"),
        ("savedflow write / torch.save (throughput)", "torch.save", "savedflow write"),
        ("savedflow read / raw readinto (throughput)", "raw readinto", _READ),
        ("savedflow read / TF read (throughput)", "tf Checkpoint.read", _READ),
        ("savedflow read / torch.load (throughput)", "torch.load", _READ),
    ]
    for text, peer, ours in ratios:
        if peer in results and ours in results:
            print(f"  {text:44s} {results[peer] / results[ours]:6.2f}x")


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print medians and ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=1024)
    parser.add_argument("--tensors", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--dirs", nargs="*", default=["/dev/shm", str(REPO.parent)])
    parser.add_argument("--no-tf", action="store_true")
    parser.add_argument("--no-torch", action="store_true")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(REPO))

    n = args.size_mb * (1 << 20) // 4 // args.tensors
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(n, dtype=np.float32) for _ in range(args.tensors)]
    size = sum(a.nbytes for a in arrays)
    print(f"{size / (1 << 20):.0f} MiB float32 in {args.tensors} tensors, median of {args.repeats}")
    for base in args.dirs:
        if not os.path.isdir(base):
            print(f"skipping {base}: not a directory")
            continue
        directory = tempfile.mkdtemp(prefix="savedflow-bench-", dir=base)
        try:
            results = _bench_dir(directory, arrays, args.repeats, not args.no_torch)
            for f in os.listdir(directory):
                os.remove(os.path.join(directory, f))
            if not args.no_tf:
                results.update(_tf_figures(directory, args.size_mb, args.tensors, args.repeats))
            _report(f"{base} (free: {shutil.disk_usage(base).free / 2**30:.0f} GiB)", size, results)
            extra, baseline = _peak_write_memory(directory, args.size_mb, args.tensors)
            print(
                f"  peak extra memory while writing: {extra / (1 << 20):.1f} MiB "
                f"({extra / size:.1%} of the model; process RSS before writing {baseline / 2**20:.0f} MiB)"
            )
        finally:
            shutil.rmtree(directory, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
