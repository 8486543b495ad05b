"""TensorFlow's tensor bundle: ``<prefix>.index`` + ``<prefix>.data-NNNNN-of-NNNNN`` (FORMATS.md §1).

The index is a table (see :mod:`savedflow.formats.sstable`) mapping ``""`` to a
``BundleHeaderProto`` and each tensor name to a ``BundleEntryProto`` (dtype, shape, shard id,
offset, size, masked CRC-32C). Data files hold the tensors' bytes back to back in the order they
were added.

:class:`BundleWriter` streams each tensor straight from its buffer to the data file, so writing
needs no memory beyond the tensors themselves; :class:`BundleReader` reads one tensor at a time,
straight into a caller's buffer if asked, and verifies every checksum.

Example::

    with BundleWriter("/tmp/ckpt") as w:
        w.add("w", np.ones((2, 3), np.float32))
    with BundleReader("/tmp/ckpt") as r:
        r.read("w")
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from savedflow.errors import InvalidArgumentError
from savedflow.formats import datatypes as dt
from savedflow.formats._bundle_data import (
    data_filename,
    encode_string_tensor,
    encode_tensor_name_slice,
    encode_variant_tensor,
    slice_bounds,
    string_array,
)
from savedflow.formats._bundle_reader import BundleReader
from savedflow.formats.crc32c import extend, mask
from savedflow.formats.protos import tensor_bundle_pb2, tensor_shape_pb2
from savedflow.formats.sstable import TableWriter

__all__ = ["BundleWriter", "BundleReader", "data_filename", "TENSOR_BUNDLE_VERSION", "HEADER_KEY"]

TENSOR_BUNDLE_VERSION = 1  # kTensorBundleVersion: written as version.producer
HEADER_KEY = ""
_CRC_CHUNK = 2 << 20  # write and checksum in cache-sized pieces


def _shape_proto(shape: tuple[int, ...]) -> tensor_shape_pb2.TensorShapeProto:
    proto = tensor_shape_pb2.TensorShapeProto()
    for size in shape:
        proto.dim.add().size = size
    return proto


class _Shard:
    """One open data file being written."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.file = open(path, "wb")  # noqa: SIM115 - closed in BundleWriter.finish/abort
        self.size = 0

    def write_with_crc(self, flat: np.ndarray) -> int:
        """Write a flat uint8 array, checksumming each piece while it is in cache.

        (A second thread checksumming while this one writes was measured on a 2-core machine:
        as fast as a raw write when idle, slower than this when other processes were busy.)
        """
        crc = 0
        for start in range(0, flat.nbytes, _CRC_CHUNK):
            piece = flat[start : start + _CRC_CHUNK]
            crc = extend(crc, piece)
            self.write(piece)
        return crc

    def write(self, data: Any) -> None:
        view = memoryview(data)
        if view.nbytes:
            self.file.write(view)
            self.size += view.nbytes


def _slice_box(
    name: str, full_shape: tuple[int, ...], extents: list[tuple[int, int]]
) -> list[tuple[int, int]]:
    """``[(start, stop)]`` per dimension of a slice, checked against the full shape."""
    if len(extents) != len(full_shape):
        raise InvalidArgumentError(
            f"Slice of {name!r} has {len(extents)} extents for shape {list(full_shape)}"
        )
    box = slice_bounds(extents, full_shape)
    if box is None or any(length == -1 and start != 0 for start, length in extents):
        raise InvalidArgumentError(
            f"Slice {list(extents)} of {name!r} lies outside shape {list(full_shape)}"
        )
    return box


class BundleWriter:
    """Write tensors to ``<prefix>.index`` and ``<prefix>.data-*`` exactly as TensorFlow does.

    Data is written in ``add`` order; the index is sorted by key. Adding the same entries in
    the same order as TensorFlow gives byte-identical files.

    Args:
        prefix: the checkpoint prefix; files are written at exactly this prefix.
        max_shard_size: if set, start a new data file whenever the current one would grow past
            this many bytes (a tensor larger than the limit gets a data file of its own).
    """

    def __init__(self, prefix: str | os.PathLike, *, max_shard_size: int | None = None) -> None:
        self.prefix = os.fspath(prefix)
        if max_shard_size is not None and max_shard_size <= 0:
            raise InvalidArgumentError(
                f"max_shard_size must be positive. Received: max_shard_size={max_shard_size}"
            )
        self._max_shard_size = max_shard_size
        self._entries: dict[bytes, tensor_bundle_pb2.BundleEntryProto] = {}
        directory = os.path.dirname(self.prefix)
        if directory:
            os.makedirs(directory, exist_ok=True)
        self._shards: list[_Shard] = [_Shard(self._shard_path(0))]
        self._finished = False
        self._boxes: dict[bytes, list[list[tuple[int, int]]]] = {}

    def _shard_path(self, index: int) -> str:
        if self._max_shard_size is None and index == 0:
            return data_filename(self.prefix, 0, 1)
        return f"{self.prefix}.data-{index:05d}.tmp-unsharded"

    def __enter__(self) -> BundleWriter:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            self.finish()
        else:
            self.abort()

    def add(
        self,
        key: str,
        value: Any,
        *,
        dtype: int | str | None = None,
        shape: tuple[int, ...] | list[int] | None = None,
    ) -> None:
        """Append one tensor.

        Args:
            key: the tensor's name in the checkpoint.
            value: a numpy array (object/bytes/str arrays are DT_STRING), or any C-contiguous
                buffer together with ``dtype`` and ``shape``.
            dtype: DataType enum or TF name; needed for types numpy lacks, e.g.
                ``add(key, uint16_array, dtype=DT_BFLOAT16)``. With ``DT_VARIANT``, ``value``
                holds one serialized ``VariantTensorDataProto`` (bytes) per element.
            shape: the tensor shape when ``value`` is a flat buffer.

        Raises:
            InvalidArgumentError: duplicate key, or value/dtype/shape that do not agree.
        """
        if self._finished:
            raise InvalidArgumentError(f"BundleWriter for {self.prefix!r} is already finished")
        key_bytes = key.encode("utf-8") if isinstance(key, str) else bytes(key)
        if key_bytes == b"" or key_bytes in self._entries:
            raise InvalidArgumentError(
                f"Checkpoint keys must be unique and non-empty. Received: key={key!r}"
            )
        info, array = self._normalize(key, value, dtype, shape)
        self._entries[key_bytes] = self._write_entry(key, info, array)

    def _write_entry(
        self, key: Any, info: dt.DataTypeInfo, array: np.ndarray
    ) -> tensor_bundle_pb2.BundleEntryProto:
        """Append ``array``'s bytes to the current data file; return its index entry."""
        entry = tensor_bundle_pb2.BundleEntryProto(dtype=info.enum)
        entry.shape.CopyFrom(_shape_proto(tuple(int(s) for s in array.shape)))
        if info.enum in (dt.DT_STRING, dt.DT_VARIANT):
            encode = encode_string_tensor if info.enum == dt.DT_STRING else encode_variant_tensor
            pieces, crc = encode(array)
            nbytes = sum(len(p) for p in pieces)
        elif info.fixed_size:
            flat = array.reshape(-1).view(np.uint8)
            pieces, crc, nbytes = [flat], None, flat.nbytes
        else:
            raise InvalidArgumentError(
                f"Cannot write a {info.name} tensor to a checkpoint. Received: key={key!r}"
            )
        shard = self._shard_for(nbytes)
        entry.shard_id = len(self._shards) - 1
        entry.offset = shard.size
        entry.size = nbytes
        if crc is None:
            crc = mask(shard.write_with_crc(pieces[0]))
        else:
            for piece in pieces:
                shard.write(piece)
        entry.crc32c = crc
        return entry

    def add_slice(
        self,
        name: str,
        full_shape: tuple[int, ...] | list[int],
        extents: list[tuple[int, int]],
        value: Any,
        *,
        dtype: int | str | None = None,
    ) -> None:
        """Append one slice of a partitioned tensor, as TensorFlow's sharding policies write them.

        The slice's bytes go under TF's encoded slice key; the entry for ``name`` lists every
        slice added so far (with no data of its own). Readers assemble the full tensor.

        Args:
            name: the full tensor's key.
            full_shape: the full tensor's shape.
            extents: ``(start, length)`` per dimension (length -1 = the whole dimension).
            value: the slice's values, of shape ``lengths``.
            dtype: as in :meth:`add`.

        Raises:
            InvalidArgumentError: extents outside the shape or overlapping an earlier slice,
                a value of the wrong shape/dtype, or ``name`` already added as a whole tensor.
        """
        if self._finished:
            raise InvalidArgumentError(f"BundleWriter for {self.prefix!r} is already finished")
        name_bytes = name.encode("utf-8") if isinstance(name, str) else bytes(name)
        full_shape = tuple(int(s) for s in full_shape)
        box = _slice_box(name, full_shape, extents)
        info, array = self._normalize(name, value, dtype, None)
        if not info.fixed_size or array.shape != tuple(stop - start for start, stop in box):
            raise InvalidArgumentError(
                f"Slice {list(extents)} of {name!r} needs a fixed-size value of shape "
                f"{[stop - start for start, stop in box]}. Received: {info.name} {list(array.shape)}"
            )
        full = self._full_entry(name, name_bytes, info, full_shape, box)
        slice_key = encode_tensor_name_slice(name_bytes, extents)
        entry = self._write_entry(name, info, array)
        if not full.slices:
            full.shard_id = entry.shard_id
        piece = full.slices.add()
        for start, length in extents:
            extent = piece.extent.add()
            extent.start = start
            if length != -1:
                extent.length = length
        self._entries[slice_key] = entry
        self._boxes.setdefault(name_bytes, []).append(box)

    def _full_entry(
        self,
        name: str,
        name_bytes: bytes,
        info: dt.DataTypeInfo,
        full_shape: tuple[int, ...],
        box: list[tuple[int, int]],
    ) -> tensor_bundle_pb2.BundleEntryProto:
        """The data-less entry listing ``name``'s slices, after checking the new slice fits."""
        full = self._entries.get(name_bytes)
        if full is None:
            if not name_bytes:
                raise InvalidArgumentError("Checkpoint keys must be non-empty")
            full = tensor_bundle_pb2.BundleEntryProto(dtype=info.enum)
            full.shape.CopyFrom(_shape_proto(full_shape))
            self._entries[name_bytes] = full
            return full
        shape = tuple(d.size for d in full.shape.dim)
        if name_bytes not in self._boxes or full.dtype != info.enum or shape != full_shape:
            raise InvalidArgumentError(
                f"Slice of {name!r} ({info.name} {list(full_shape)}) does not match the earlier "
                f"entry ({dt.info(full.dtype).name} {list(shape)}, sliced: {bool(full.slices)})"
            )
        for other in self._boxes[name_bytes]:
            if all(a < d and c < b for (a, b), (c, d) in zip(box, other)):
                raise InvalidArgumentError(f"Slice {box} of {name!r} overlaps slice {other}")
        return full

    def new_shard(self) -> None:
        """Write the tensors added from now on to a new data file (as a sharding policy would)."""
        if self._finished:
            raise InvalidArgumentError(f"BundleWriter for {self.prefix!r} is already finished")
        self._shards.append(_Shard(self._shard_path(len(self._shards))))

    def _normalize(
        self, key: str, value: Any, dtype: Any, shape: Any
    ) -> tuple[dt.DataTypeInfo, np.ndarray]:
        """Turn ``value`` into a C-contiguous little-endian array and its DataType."""
        if not isinstance(value, np.ndarray):
            if (
                dtype is not None
                and dt.info(dtype).fixed_size
                and not isinstance(value, (list, tuple, str, int, float, complex))
            ):
                return self._from_buffer(key, value, dt.info(dtype), shape)
            value = np.asarray(value, dtype=object if isinstance(value, (str, bytes)) else None)
        info = dt.from_numpy(value.dtype) if dtype is None else dt.info(dtype)
        if info.enum in (dt.DT_STRING, dt.DT_VARIANT):
            array = string_array(value)
        else:
            if (
                value.dtype.kind in "OSU"
                or info.storage is None
                or value.dtype.itemsize != info.itemsize
            ):
                raise InvalidArgumentError(
                    f"Value for {key!r} has numpy dtype {value.dtype}, which cannot hold {info.name}"
                )
            array = value if value.flags.c_contiguous else value.copy(order="C")
            if array.dtype.byteorder == ">":
                array = array.astype(array.dtype.newbyteorder("<"))
        if shape is not None and tuple(shape) != array.shape:
            array = array.reshape(shape)
        return info, array

    def _from_buffer(
        self, key: str, value: Any, info: dt.DataTypeInfo, shape: Any
    ) -> tuple[dt.DataTypeInfo, np.ndarray]:
        """View a raw C-contiguous buffer as a ``shape`` tensor of ``info``'s storage dtype."""
        flat = np.frombuffer(
            memoryview(value).cast("B") if memoryview(value).nbytes else b"", dtype=np.uint8
        )
        if shape is None:
            shape = (flat.nbytes // info.itemsize,)
        expected = int(np.prod(shape, dtype=np.int64)) * info.itemsize
        if flat.nbytes != expected:
            raise InvalidArgumentError(
                f"Buffer for {key!r} has {flat.nbytes} bytes; shape {tuple(shape)} of {info.name} needs {expected}"
            )
        return info, flat.view(info.storage).reshape(shape)

    def _shard_for(self, nbytes: int) -> _Shard:
        shard = self._shards[-1]
        limit = self._max_shard_size
        if limit is not None and shard.size > 0 and shard.size + nbytes > limit:
            shard = _Shard(self._shard_path(len(self._shards)))
            self._shards.append(shard)
        return shard

    def finish(self, *, fsync: bool = False) -> None:
        """Close the data files and write the index (fsyncing every file if ``fsync``)."""
        if self._finished:
            return
        self._finished = True
        num_shards = len(self._shards)
        for i, shard in enumerate(self._shards):
            shard.file.flush()
            if fsync:
                os.fsync(shard.file.fileno())
            shard.file.close()
            final = data_filename(self.prefix, i, num_shards)
            if shard.path != final:
                os.replace(shard.path, final)
        header = tensor_bundle_pb2.BundleHeaderProto(num_shards=num_shards)
        header.version.producer = TENSOR_BUNDLE_VERSION
        with open(self.prefix + ".index", "wb") as f:
            table = TableWriter(f)
            table.add(HEADER_KEY.encode(), header.SerializeToString())
            for key in sorted(self._entries):
                table.add(key, self._entries[key].SerializeToString())
            table.finish()
            if fsync:
                f.flush()
                os.fsync(f.fileno())

    def abort(self) -> None:
        """Close and delete the data files written so far; no index is written."""
        if self._finished:
            return
        self._finished = True
        for shard in self._shards:
            shard.file.close()
            try:
                os.remove(shard.path)
            except FileNotFoundError:
                pass
