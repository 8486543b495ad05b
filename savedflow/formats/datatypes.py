"""TensorFlow's DataType enum (framework/types.proto) and how each type is stored as bytes.

``DATATYPES`` lists every type that can appear in a checkpoint entry. Each row gives the enum
number, TensorFlow's name, the numpy dtype that represents it (``None`` when numpy has no such
type: bfloat16, float8 variants, 4/2-bit ints), the numpy dtype used to hold its raw bytes
(``storage``: e.g. uint16 for bfloat16), the element size in a data file (0 for variable-size
types) and a coarse ``kind``.

bfloat16 values travel as uint16 arrays holding the raw bits (the top half of a float32), tagged
by the entry's dtype; ``savedflow.dtypes`` maps them to ``torch.bfloat16``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from savedflow.errors import InvalidArgumentError

__all__ = [
    "DataTypeInfo",
    "DATATYPES",
    "info",
    "from_numpy",
    *(f"DT_{n}" for n in ("INVALID", "FLOAT", "DOUBLE", "INT32", "UINT8", "INT16", "INT8")),
    *(f"DT_{n}" for n in ("STRING", "COMPLEX64", "INT64", "BOOL", "QINT8", "QUINT8", "QINT32")),
    *(f"DT_{n}" for n in ("BFLOAT16", "QINT16", "QUINT16", "UINT16", "COMPLEX128", "HALF")),
    *(f"DT_{n}" for n in ("RESOURCE", "VARIANT", "UINT32", "UINT64", "FLOAT8_E5M2")),
    *(f"DT_{n}" for n in ("FLOAT8_E4M3FN", "FLOAT8_E4M3FNUZ", "FLOAT8_E4M3B11FNUZ")),
    *(f"DT_{n}" for n in ("FLOAT8_E5M2FNUZ", "INT4", "UINT4", "INT2", "UINT2", "FLOAT4_E2M1FN")),
]

DT_INVALID = 0
DT_FLOAT = 1
DT_DOUBLE = 2
DT_INT32 = 3
DT_UINT8 = 4
DT_INT16 = 5
DT_INT8 = 6
DT_STRING = 7
DT_COMPLEX64 = 8
DT_INT64 = 9
DT_BOOL = 10
DT_QINT8 = 11
DT_QUINT8 = 12
DT_QINT32 = 13
DT_BFLOAT16 = 14
DT_QINT16 = 15
DT_QUINT16 = 16
DT_UINT16 = 17
DT_COMPLEX128 = 18
DT_HALF = 19
DT_RESOURCE = 20
DT_VARIANT = 21
DT_UINT32 = 22
DT_UINT64 = 23
DT_FLOAT8_E5M2 = 24
DT_FLOAT8_E4M3FN = 25
DT_FLOAT8_E4M3FNUZ = 26
DT_FLOAT8_E4M3B11FNUZ = 27
DT_FLOAT8_E5M2FNUZ = 28
DT_INT4 = 29
DT_UINT4 = 30
DT_INT2 = 31
DT_UINT2 = 32
DT_FLOAT4_E2M1FN = 33

_REF_OFFSET = 100  # DT_FLOAT_REF = 101, ...: graph-only reference types, never stored


@dataclass(frozen=True)
class DataTypeInfo:
    """One DataType: enum number, TF name, numpy representation and byte size."""

    enum: int
    name: str
    numpy_dtype: np.dtype | None
    storage: np.dtype | None
    itemsize: int
    kind: str  # "float", "int", "uint", "complex", "bool", "quantized", "string", "variant", "resource"

    @property
    def fixed_size(self) -> bool:
        """True when every element takes ``itemsize`` bytes in a data file."""
        return self.itemsize > 0


def _row(
    enum: int, name: str, numpy_name: str | None, storage: str | None, kind: str
) -> DataTypeInfo:
    np_dtype = np.dtype(numpy_name).newbyteorder("<") if numpy_name else None
    store = np.dtype(storage).newbyteorder("<") if storage else None
    return DataTypeInfo(enum, name, np_dtype, store, store.itemsize if store else 0, kind)


DATATYPES: tuple[DataTypeInfo, ...] = (
    _row(DT_FLOAT, "float32", "float32", "float32", "float"),
    _row(DT_DOUBLE, "float64", "float64", "float64", "float"),
    _row(DT_INT32, "int32", "int32", "int32", "int"),
    _row(DT_UINT8, "uint8", "uint8", "uint8", "uint"),
    _row(DT_INT16, "int16", "int16", "int16", "int"),
    _row(DT_INT8, "int8", "int8", "int8", "int"),
    _row(DT_STRING, "string", None, None, "string"),
    _row(DT_COMPLEX64, "complex64", "complex64", "complex64", "complex"),
    _row(DT_INT64, "int64", "int64", "int64", "int"),
    _row(DT_BOOL, "bool", "bool", "bool", "bool"),
    _row(DT_QINT8, "qint8", None, "int8", "quantized"),
    _row(DT_QUINT8, "quint8", None, "uint8", "quantized"),
    _row(DT_QINT32, "qint32", None, "int32", "quantized"),
    _row(DT_BFLOAT16, "bfloat16", None, "uint16", "float"),
    _row(DT_QINT16, "qint16", None, "int16", "quantized"),
    _row(DT_QUINT16, "quint16", None, "uint16", "quantized"),
    _row(DT_UINT16, "uint16", "uint16", "uint16", "uint"),
    _row(DT_COMPLEX128, "complex128", "complex128", "complex128", "complex"),
    _row(DT_HALF, "float16", "float16", "float16", "float"),
    _row(DT_RESOURCE, "resource", None, None, "resource"),
    _row(DT_VARIANT, "variant", None, None, "variant"),
    _row(DT_UINT32, "uint32", "uint32", "uint32", "uint"),
    _row(DT_UINT64, "uint64", "uint64", "uint64", "uint"),
    _row(DT_FLOAT8_E5M2, "float8_e5m2", None, "uint8", "float"),
    _row(DT_FLOAT8_E4M3FN, "float8_e4m3fn", None, "uint8", "float"),
    _row(DT_FLOAT8_E4M3FNUZ, "float8_e4m3fnuz", None, "uint8", "float"),
    _row(DT_FLOAT8_E4M3B11FNUZ, "float8_e4m3b11fnuz", None, "uint8", "float"),
    _row(DT_FLOAT8_E5M2FNUZ, "float8_e5m2fnuz", None, "uint8", "float"),
    _row(DT_INT4, "int4", None, "int8", "int"),
    _row(DT_UINT4, "uint4", None, "uint8", "uint"),
    _row(DT_INT2, "int2", None, "int8", "int"),
    _row(DT_UINT2, "uint2", None, "uint8", "uint"),
    _row(DT_FLOAT4_E2M1FN, "float4_e2m1fn", None, "uint8", "float"),
)

_BY_ENUM: dict[int, DataTypeInfo] = {d.enum: d for d in DATATYPES}
_BY_NAME: dict[str, DataTypeInfo] = {d.name: d for d in DATATYPES}
_BY_NAME.update({"half": _BY_NAME["float16"], "float": _BY_NAME["float32"]})
_BY_NAME.update({"double": _BY_NAME["float64"]})
_BY_NUMPY: dict[np.dtype, DataTypeInfo] = {
    d.numpy_dtype: d for d in DATATYPES if d.numpy_dtype is not None
}


def info(dtype: int | str) -> DataTypeInfo:
    """Look a DataType up by enum number (``1``) or TF name (``"float32"``, ``"bfloat16"``).

    Raises:
        InvalidArgumentError: the number or name is not a storable DataType.
    """
    if isinstance(dtype, DataTypeInfo):
        return dtype
    found = _BY_NAME.get(dtype) if isinstance(dtype, str) else _BY_ENUM.get(int(dtype))
    if found is None:
        hint = (
            " (reference types are never stored)"
            if isinstance(dtype, int) and dtype > _REF_OFFSET
            else ""
        )
        raise InvalidArgumentError(f"Unknown TensorFlow DataType{hint}. Received: dtype={dtype!r}")
    return found


def from_numpy(dtype: np.dtype | type) -> DataTypeInfo:
    """The DataType that stores a numpy dtype (object, bytes and str arrays map to string).

    Raises:
        InvalidArgumentError: numpy dtype with no TF counterpart (e.g. float128, datetime64).
    """
    dt = np.dtype(dtype)
    if dt.kind in "OSU":
        return _BY_ENUM[DT_STRING]
    found = _BY_NUMPY.get(dt.newbyteorder("<") if dt.byteorder == ">" else dt)
    if found is None:
        raise InvalidArgumentError(f"numpy dtype has no TensorFlow DataType. Received: dtype={dt}")
    return found
