"""Bundles written by savedflow's BundleWriter load in real TensorFlow with identical contents."""

from __future__ import annotations

import base64

import numpy as np
import pytest
from _oracle_support import requires

pytestmark = [pytest.mark.tf_oracle, requires("savedflow.formats.tensor_bundle")]

_SPECIAL = [np.nan, np.inf, -np.inf, -0.0, 0.0, 1.5, -2.25, 1e-30]


def _floats(dtype, shape):
    n = int(np.prod(shape))
    return np.resize(np.array(_SPECIAL), n).reshape(shape).astype(dtype)


def _ints(dtype, shape):
    info = np.iinfo(dtype)
    return np.resize(np.array([info.min, info.max, 0, 1], dtype), int(np.prod(shape))).reshape(
        shape
    )


def bundle_contents() -> dict[str, tuple[np.ndarray, str | None]]:
    """key -> (value, dtype name passed to BundleWriter.add or None)."""
    bf16_bits = (_floats(np.float32, [2, 3]).view(np.uint32) >> 16).astype(np.uint16)
    out: dict[str, tuple[np.ndarray, str | None]] = {
        "f16": (_floats(np.float16, [2, 4]), None),
        "bf16": (bf16_bits, "bfloat16"),
        "f32": (_floats(np.float32, [3, 2, 2]), None),
        "f64": (_floats(np.float64, [5]), None),
        "bool": (np.array([[True, False], [False, True]]), None),
        "c64": (np.array([1 + 2j, np.nan - 1j], np.complex64), None),
        "c128": (np.array([[np.inf + 0j], [-0.0 + 3j]], np.complex128), None),
        "scalar/f32": (np.array(3.5, np.float32), None),
        "scalar/i64": (np.array(-(2**62), np.int64), None),
        "scalar/bool": (np.array(True), None),
        "empty/f32": (np.zeros([0], np.float32), None),
        "empty/i32_2_0_3": (np.zeros([2, 0, 3], np.int32), None),
        "empty/str": (np.array([], dtype=object), None),
        "str/scalar": (np.array(b"hello", dtype=object), None),
        "str/vector": (np.array([b"", b"a", "\u00e9\u4e16".encode(), b"\x00\xff"], object), None),
        "str/long": (np.array([b"x" * 200, b"y" * 129], object), None),
        "zz/last_key_but_first_written": (np.arange(4, dtype=np.uint8), None),
    }
    for name in ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"]:
        out[name] = (_ints(np.dtype(name), [2, 3]), None)
    return out


def _write(writer_cls, prefix, contents, **kwargs) -> None:
    writer = writer_cls(str(prefix), **kwargs)
    # Data order deliberately differs from key order.
    for key in sorted(contents, reverse=True):
        value, dtype = contents[key]
        if dtype is None:
            writer.add(key, value)
        else:
            writer.add(key, value, dtype=dtype)
    writer.finish()


_READ_BACK = """
out = {}
for name, prefix in ARGS["prefixes"].items():
    reader = tf.train.load_checkpoint(prefix)
    shapes = reader.get_variable_to_shape_map()
    dtypes = reader.get_variable_to_dtype_map()
    numeric, strings = {}, {}
    for key in shapes:
        value = reader.get_tensor(key)
        if dtypes[key] == tf.string:
            strings[key] = [b64(s) for s in np.asarray(value, dtype=object).reshape(-1)]
        elif dtypes[key] == tf.bfloat16:
            numeric[key] = np.asarray(value).view(np.uint16)
        else:
            numeric[key] = np.asarray(value)
    arrays_to_npz(name + ".npz", numeric)
    out[name] = {"shapes": {k: list(v) for k, v in shapes.items()},
                 "dtypes": {k: v.name for k, v in dtypes.items()}, "strings": strings,
                 "npz": str(WORK / (name + ".npz"))}
# The sharded bundle must also restore through the op the Python saver uses.
names = sorted(out["sharded"]["shapes"])
dts = [tf.as_dtype(out["sharded"]["dtypes"][k]) for k in names]
restored = tf.raw_ops.RestoreV2(prefix=ARGS["prefixes"]["sharded"], tensor_names=names,
                                shape_and_slices=[""] * len(names), dtypes=dts)
out["restorev2_count"] = len(restored)
result = out
"""

_EXPECTED_DTYPE = {"f16": "float16", "bf16": "bfloat16", "f32": "float32", "f64": "float64",
                   "bool": "bool", "c64": "complex64", "c128": "complex128"}  # fmt: skip


def _expected_dtype(key: str, value: np.ndarray) -> str:
    if value.dtype == object:
        return "string"
    return _EXPECTED_DTYPE.get(key, value.dtype.name)


def test_bundles_written_by_savedflow_read_identically_in_tensorflow(tf_python, tmp_path) -> None:
    from savedflow.formats.tensor_bundle import BundleReader, BundleWriter

    contents = bundle_contents()
    _write(BundleWriter, tmp_path / "plain" / "bundle", contents)
    _write(BundleWriter, tmp_path / "sharded" / "bundle", contents, max_shard_size=64)
    with BundleReader(str(tmp_path / "sharded" / "bundle")) as reader:
        assert reader.header.num_shards >= 3
    prefixes = {n: str(tmp_path / n / "bundle") for n in ("plain", "sharded")}
    out = tf_python(_READ_BACK, {"prefixes": prefixes})
    assert out["restorev2_count"] == len(contents)
    for name in prefixes:
        got = out[name]
        assert set(got["shapes"]) == set(contents), name
        numeric = np.load(got["npz"])
        for key, (value, _) in contents.items():
            assert got["shapes"][key] == list(value.shape), (name, key)
            assert got["dtypes"][key] == _expected_dtype(key, value), (name, key)
            if value.dtype == object:
                decoded = [base64.b64decode(s) for s in got["strings"][key]]
                assert decoded == list(value.reshape(-1)), (name, key)
            else:
                stored = numeric[key]
                assert stored.dtype == value.dtype, (name, key)
                assert stored.tobytes() == value.tobytes(), (name, key)  # bit-exact, NaN too
