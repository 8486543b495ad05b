"""Generate golden files with real TensorFlow / Keras for savedflow's tests.

Run with the oracle venv's python (see tools/tf_env.sh)::

    PY=$(tools/tf_env.sh)
    $PY tools/goldens/generate.py                 # dry run: build every missing case in a temp
                                                  # dir and print what would be written
    $PY tools/goldens/generate.py --write         # write missing cases to tests/goldens/<case>/
    $PY tools/goldens/generate.py --case all_dtypes --write

A case directory that already exists is never touched: goldens are not regenerated in place.
To change a golden, add a new case (new name). Each case runs in its own subprocess because the
Keras flavour (``TF_USE_LEGACY_KERAS``) must be fixed before TensorFlow is imported.
"""

from __future__ import annotations

import argparse
import importlib
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
DEFAULT_OUT = REPO / "tests" / "goldens"


@dataclass(frozen=True)
class Case:
    """One golden case: which function builds it and under which Keras flavour."""

    name: str
    module: str
    function: str
    legacy_keras: bool
    description: str


CASES: list[Case] = [
    Case("seed001_sequential_module", "cases_checkpoint", "seed001_sequential_module", True,
         "Seed 001 SequentialModule (tf.Module Dense w/b) written with "
         "tf.train.Checkpoint(model=my_model).write('my_checkpoint')."),
    Case("seed004_training", "cases_training", "seed004_legacy_adam", True,
         "Seed 004 Net + tf_keras legacy Adam(0.1) + dataset iterator, CheckpointManager "
         "max_to_keep=3, 50 training steps saving every 10."),
    Case("seed004_training_new_adam", "cases_training", "seed004_new_adam", True,
         "As seed004_training with tf_keras' new (non-legacy) Adam: optimizer/_variables/N."),
    Case("seed004_training_keras3", "cases_training", "seed004_keras3", False,
         "As seed004_training with Keras 3 (TF_USE_LEGACY_KERAS unset) Net and Adam."),
    Case("seed004_tracked_containers", "cases_checkpoint", "seed004_tracked_containers", True,
         "Seed 004 list/dict tracking example: save.listed / save.mapped, save('tf_list_example')."),
    Case("tfkeras_functional_adam", "cases_functional", "tfkeras_functional_adam", True,
         "tf_keras functional Input(4)-Dense(3,relu)-BatchNormalization-Dense(2), Adam, fit 2 "
         "epochs; Checkpoint(model, optimizer).write, save_weights TF/h5, model .h5/.keras."),
    Case("keras3_functional_adam", "cases_functional", "keras3_functional_adam", False,
         "Keras 3 functional Input(4)-Dense(3,relu)-BatchNormalization-Dense(2), Adam, fit 2 "
         "epochs; Checkpoint(model, optimizer).write, .weights.h5, .keras, legacy .h5."),
    Case("all_dtypes", "cases_checkpoint", "all_dtypes", True,
         "One variable per dtype (16 dtypes incl. bfloat16, unsigned, complex, bool, string) "
         "with NaN/inf/-0.0 and integer extremes, multi-dim shapes."),
    Case("multi_shard", "cases_checkpoint", "multi_shard", True,
         "Checkpoint written with MaxShardSizePolicy(max_shard_size=64): several data shards."),
    Case("multi_shard_whole", "cases_checkpoint", "multi_shard_whole", True,
         "Checkpoint written with a custom ShardingCallback putting whole tensors into >= 3 data "
         "shards (greedy, 100-byte limit): BundleWriter(max_shard_size=100) can reproduce it."),
    Case("escaped_names", "cases_checkpoint", "escaped_names", True,
         "Names needing escaping ('/' and '.'), nested lists/dicts, a variable aliased twice."),
    Case("scalars_empty_strings", "cases_checkpoint", "scalars_empty_strings", True,
         "Scalars of several dtypes, empty tensors ([0], [2,0,3]), string scalar/vectors with "
         "empty and non-ASCII bytes, more than 16 keys (index restart points)."),
    Case("index_two_blocks", "cases_checkpoint", "index_two_blocks", True,
         "Raw SaveV2 bundle whose index needs 2 SSTable data blocks (long keys, > 256 KiB)."),
    Case("raw_savev2_order", "cases_checkpoint", "raw_savev2_order", True,
         "tf.raw_ops.SaveV2 with unsorted names: data-file order = caller order."),
    Case("keras_layers_numeric", "cases_layers", "keras_layers_numeric", True,
         "tf_keras built-in layers: get_config, weights (seeded) and outputs on fixed inputs."),
    Case("keras_training_curves", "cases_curves", "keras_training_curves", True,
         "tf_keras MLP 20-32-32-10 and small CNN trained with SGD(momentum 0.9) and Adam (new "
         "and legacy) from fixed initial weights: per-epoch/per-batch losses, final weights, "
         "predictions."),
    Case("seed002_tfkeras_saving", "cases_saving", "seed002_tfkeras_saving", True,
         "Seed 002 (tf_keras): get_model() fitted and saved as SavedModel dir, .h5 and .keras; "
         "CustomModel SavedModel; CustomLayer tf.train.Checkpoint.save."),
]  # fmt: skip


def _child_env(case: Case) -> dict[str, str]:
    env = dict(os.environ)
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    env["PYTHONHASHSEED"] = "0"
    env["TF_DETERMINISTIC_OPS"] = "1"
    env["CUDA_VISIBLE_DEVICES"] = ""
    env["TF_ENABLE_ONEDNN_OPTS"] = "0"
    if case.legacy_keras:
        env["TF_USE_LEGACY_KERAS"] = "1"
    else:
        env.pop("TF_USE_LEGACY_KERAS", None)
    return env


def run_case_here(name: str, into: Path) -> None:
    """Build case ``name`` into the (empty) directory ``into`` in this process."""
    case = next(c for c in CASES if c.name == name)
    sys.path.insert(0, str(HERE))
    from golden_io import CaseRecorder

    os.chdir(into)  # anything a case writes with a relative path stays inside the case
    recorder = CaseRecorder(case.name, into, case.description)
    builder: Callable[[CaseRecorder], None] = getattr(
        importlib.import_module(case.module), case.function
    )
    builder(recorder)
    recorder.finish()


def _build(case: Case, into: Path) -> None:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--run-case", case.name, str(into)]
    subprocess.run(cmd, env=_child_env(case), check=True)


def _describe(built: Path) -> None:
    """Print each file built for a case with its size, then the total."""
    total = 0
    for p in sorted(built.rglob("*")):
        if p.is_file():
            size = p.stat().st_size
            total += size
            print(f"    {p.relative_to(built).as_posix():60s} {size:>9d} B")
    print(f"    {'total':60s} {total:>9d} B")


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true", help="write missing cases (else dry run)")
    parser.add_argument("--case", action="append", help="only these cases (repeatable)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="goldens root directory")
    parser.add_argument("--list", action="store_true", help="list case names and exit")
    parser.add_argument("--run-case", nargs=2, metavar=("NAME", "DIR"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.run_case:
        run_case_here(args.run_case[0], Path(args.run_case[1]).resolve())
        return 0
    if args.list:
        for case in CASES:
            print(f"{case.name:32s} {case.description}")
        return 0
    known = {c.name for c in CASES}
    unknown = set(args.case or ()) - known
    if unknown:
        parser.error(f"unknown case(s) {sorted(unknown)}; known: {sorted(known)}")
    selected = [c for c in CASES if not args.case or c.name in args.case]
    status = 0
    for case in selected:
        target = args.out / case.name
        if target.exists():
            print(f"{case.name}: exists at {target}; not regenerating (add a new case instead)")
            if args.case:
                status = 1
            continue
        with tempfile.TemporaryDirectory(prefix=f"golden-{case.name}-") as tmp:
            built = Path(tmp) / case.name
            built.mkdir()
            try:
                _build(case, built)
            except subprocess.CalledProcessError as exc:
                print(f"{case.name}: FAILED ({exc}); nothing written")
                status = 1
                continue
            verb = "writing" if args.write else "would write"
            print(f"{case.name}: {verb} {target}")
            _describe(built)
            if args.write:
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copytree(built, target)
    return status


if __name__ == "__main__":
    sys.exit(main())
