"""Reading TensorFlow tensor bundles one tensor at a time (FORMATS.md §1).

Opening a bundle parses only the ``.index`` file; each ``read`` touches only the bytes of the
requested tensor, and every size claimed by the index is checked against the data file before
any memory is allocated.
"""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Iterable
from typing import Any

import numpy as np

from savedflow.errors import (
    CorruptCheckpointError,
    FormatError,
    InvalidArgumentError,
    NotFoundError,
    UnimplementedError,
)
from savedflow.formats import datatypes as dt
from savedflow.formats._bulk_read import read_pieces, read_span
from savedflow.formats._bundle_data import (
    data_filename,
    decode_string_tensor,
    decode_variant_tensor,
    encode_tensor_name_slice,
    slice_bounds,
)
from savedflow.formats.crc32c import combine, mask
from savedflow.formats.protos import tensor_bundle_pb2
from savedflow.formats.sstable import read_table

__all__ = ["BundleReader"]

_SUPPORTED_VERSION = 1  # kTensorBundleVersion
_MAX_DIMS = 254  # TensorShape::MaxDimensions()
_MAX_ELEMENTS = 1 << 58  # numpy cannot describe larger arrays, even empty ones
_READ_CHUNK = 1 << 30
_PIECE = 8 << 20  # unit of work of parallel reads
_MAP_MIN = 1 << 20  # single reads at least this large copy from a memory map
_MAX_THREADS = 4


def _extents(piece: Any) -> list[tuple[int, int]]:
    """(start, length) per dimension of a TensorSliceProto; length -1 = the whole dimension."""
    return [(e.start, e.length if e.HasField("length") else -1) for e in piece.extent]


def _key_name(key: bytes) -> str:
    """An index key as text; bytes that are not UTF-8 survive as surrogate escapes."""
    return key.decode("utf-8", errors="surrogateescape")


def entry_nbytes(info: dt.DataTypeInfo, shape: tuple[int, ...]) -> int:
    """Bytes of a fixed-size tensor of ``shape``."""
    return math.prod(shape) * info.itemsize


class _DataFile:
    """An open shard: its descriptor and size, read with pread so reads are thread-safe."""

    def __init__(self, path: str) -> None:
        try:
            self.fd = os.open(path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
        except FileNotFoundError:
            raise NotFoundError(f"Checkpoint data file {path!r} is missing") from None
        self.path = path
        self.size = os.fstat(self.fd).st_size
        self._lock = threading.Lock()

    def read_into(self, view: memoryview, offset: int) -> None:
        done = 0
        total = view.nbytes
        while done < total:
            chunk = view[done : done + _READ_CHUNK]
            if hasattr(os, "preadv"):
                n = os.preadv(self.fd, [chunk], offset + done)
            else:  # pragma: no cover - platforms without preadv
                with self._lock:
                    os.lseek(self.fd, offset + done, os.SEEK_SET)
                    n = os.readv(self.fd, [chunk])
            if n <= 0:
                raise FormatError(
                    f"Data file {self.path!r} ended at byte {offset + done}; expected {total - done} more"
                )
            done += n

    def close(self) -> None:
        os.close(self.fd)


class BundleReader:
    """Read the tensors of a ``<prefix>.index`` / ``<prefix>.data-*`` checkpoint.

    Example::

        with BundleReader("/tmp/ckpt-1") as r:
            for key in r.keys():
                print(key, r.dtype(key), r.shape(key))
            kernel = r.read("model/kernel/.ATTRIBUTES/VARIABLE_VALUE")

    Raises:
        NotFoundError: ``<prefix>.index`` does not exist.
        FormatError: the index is truncated or garbled (the message names file and offset).
    """

    def __init__(self, prefix: str | os.PathLike) -> None:
        self.prefix = os.fspath(prefix)
        self.index_path = self.prefix + ".index"
        try:
            with open(self.index_path, "rb") as f:
                raw = f.read()
        except (FileNotFoundError, NotADirectoryError):
            raise NotFoundError(
                f"No checkpoint index at {self.index_path!r} (prefix {self.prefix!r})"
            ) from None
        entries = read_table(raw, self.index_path)
        if not entries or entries[0][0] != b"":
            raise FormatError(
                f"Checkpoint index {self.index_path!r} has no header entry (empty key)"
            )
        self.header = self._parse_header(entries[0][1])
        parsed = {k: self._parse_entry(_key_name(k), v) for k, v in entries[1:]}
        slice_keys = {
            encode_tensor_name_slice(k, _extents(piece))
            for k, e in parsed.items()
            for piece in e.slices
        }
        # Slices of partitioned tensors live under encoded keys; like TF, list only the whole.
        self._slices = {k: parsed[k] for k in slice_keys if k in parsed}
        self._entries: dict[str, tensor_bundle_pb2.BundleEntryProto] = {
            _key_name(k): e for k, e in parsed.items() if k not in slice_keys
        }
        self._files: dict[int, _DataFile] = {}
        self._files_lock = threading.Lock()

    # --- index parsing -------------------------------------------------------------------------

    def _error(self, what: str) -> FormatError:
        return FormatError(f"Invalid checkpoint index {self.index_path!r}: {what}")

    def _parse_header(self, value: bytes) -> tensor_bundle_pb2.BundleHeaderProto:
        header = tensor_bundle_pb2.BundleHeaderProto()
        try:
            header.ParseFromString(value)
        except Exception:  # protobuf raises DecodeError or RuntimeWarning-like errors
            raise self._error("header entry is not a BundleHeaderProto") from None
        version = header.version
        if version.min_consumer > _SUPPORTED_VERSION or _SUPPORTED_VERSION in version.bad_consumers:
            raise self._error(
                f"written for readers of version >= {version.min_consumer} (bad: {list(version.bad_consumers)}); "
                f"this reader is version {_SUPPORTED_VERSION}"
            )
        if header.num_shards < 1:
            raise self._error(f"header claims {header.num_shards} data shards")
        if header.endianness not in (header.LITTLE, header.BIG):
            raise self._error(f"unknown endianness {header.endianness}")
        return header

    def _parse_entry(self, key: str, value: bytes) -> tensor_bundle_pb2.BundleEntryProto:
        entry = tensor_bundle_pb2.BundleEntryProto()
        try:
            entry.ParseFromString(value)
        except Exception:
            raise self._error(f"entry for {key!r} is not a BundleEntryProto") from None
        try:
            info = dt.info(entry.dtype)
        except InvalidArgumentError:
            raise self._error(f"entry for {key!r} has unknown dtype {entry.dtype}") from None
        dims = entry.shape.dim
        if (
            entry.shape.unknown_rank
            or len(dims) > _MAX_DIMS
            or any(d.size < 0 for d in dims)
            or math.prod(d.size for d in dims if d.size) > _MAX_ELEMENTS
        ):
            raise self._error(f"entry for {key!r} has an invalid shape {[d.size for d in dims]}")
        if entry.slices:
            return entry
        if not 0 <= entry.shard_id < self.header.num_shards:
            raise self._error(
                f"entry for {key!r} is in shard {entry.shard_id} of {self.header.num_shards}"
            )
        if entry.offset < 0 or entry.size < 0:
            raise self._error(f"entry for {key!r} has offset {entry.offset}, size {entry.size}")
        if info.fixed_size:
            expected = entry_nbytes(info, tuple(d.size for d in dims))
            if expected != entry.size:
                raise self._error(
                    f"entry for {key!r}: shape {[d.size for d in dims]} of {info.name} needs {expected} bytes, "
                    f"entry says {entry.size}"
                )
        return entry

    # --- queries ---------------------------------------------------------------------------------

    def keys(self) -> list[str]:
        """All tensor names, sorted as in the index (bytewise)."""
        return list(self._entries)

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def entry(self, key: str) -> tensor_bundle_pb2.BundleEntryProto:
        """The ``BundleEntryProto`` stored for ``key``."""
        try:
            return self._entries[key]
        except KeyError:
            raise NotFoundError(f"Key {key!r} not found in checkpoint {self.prefix!r}") from None

    def dtype(self, key: str) -> int:
        """The DataType enum number of ``key`` (see :mod:`savedflow.formats.datatypes`)."""
        return int(self.entry(key).dtype)

    def shape(self, key: str) -> tuple[int, ...]:
        """The shape of ``key`` as a tuple of ints (``()`` for scalars)."""
        return tuple(int(d.size) for d in self.entry(key).shape.dim)

    # --- data ----------------------------------------------------------------------------------

    def _data_file(self, shard_id: int) -> _DataFile:
        with self._files_lock:
            file = self._files.get(shard_id)
            if file is None:
                path = data_filename(self.prefix, shard_id, self.header.num_shards)
                file = self._files[shard_id] = _DataFile(path)
            return file

    def _locate(
        self, key: str
    ) -> tuple[tensor_bundle_pb2.BundleEntryProto, dt.DataTypeInfo, _DataFile]:
        entry = self.entry(key)
        info = dt.info(entry.dtype)
        if info.enum in (dt.DT_VARIANT, dt.DT_RESOURCE):
            raise UnimplementedError(
                f"Tensor {key!r} in {self.prefix!r} has dtype {info.name} (e.g. tf.data iterator "
                "state), which cannot be materialised as an array (BundleReader.read_variant "
                "returns its serialized VariantTensorDataProtos)"
            )
        return entry, info, self._checked_file(key, entry)

    def _checked_file(self, key: str, entry: Any) -> _DataFile:
        """The entry's data file, after checking the entry's bytes lie inside it."""
        file = self._data_file(entry.shard_id)
        if entry.offset + entry.size > file.size:
            raise FormatError(
                f"Entry for {key!r} claims bytes [{entry.offset}, {entry.offset + entry.size}) "
                f"of {file.path!r}, which has only {file.size} bytes"
            )
        return file

    def _corrupt(
        self, key: str, file: _DataFile, entry: Any, detail: str
    ) -> CorruptCheckpointError:
        return CorruptCheckpointError(
            f"Data for tensor {key!r} in {file.path!r} (bytes {entry.offset}..{entry.offset + entry.size}) "
            f"is corrupted: {detail}"
        )

    def _check_crc(self, key: str, file: _DataFile, entry: Any, crc: int) -> None:
        """Raise CorruptCheckpointError unless ``crc`` (unmasked) matches the entry's checksum."""
        actual = mask(crc)
        if actual != entry.crc32c:
            raise self._corrupt(
                key, file, entry, f"checksum {actual:#010x}, expected {entry.crc32c:#010x}"
            )

    def read(self, key: str) -> np.ndarray:
        """Read one tensor into a new numpy array, verifying its checksum.

        Numeric types come back as their numpy dtype (bfloat16 and float8 as their raw-bits
        storage dtype, uint16/uint8); DT_STRING as an object array of ``bytes``.

        Raises:
            NotFoundError: no such key.
            CorruptCheckpointError: the stored bytes do not match their checksum.
            UnimplementedError: DT_VARIANT/DT_RESOURCE or partitioned entries.
        """
        entry = self.entry(key)
        shape = self.shape(key)
        if entry.slices:
            parts = self._slice_parts(key, entry)  # validate before allocating
            out = np.zeros(shape, dtype=self._fixed_info(key, entry).storage)
            self._read_sliced(key, entry, parts, out)
            return out
        entry, info, file = self._locate(key)
        if info.enum == dt.DT_STRING:
            return self._read_strings(key, entry, file, shape)
        out = np.empty(shape, dtype=info.storage)
        self._read_fixed(key, entry, info, file, out)
        return out

    def read_into(self, key: str, out: Any) -> None:
        """Read one fixed-size tensor into ``out``, a writable C-contiguous buffer.

        ``out`` may be a numpy array (e.g. ``tensor.numpy()`` of a CPU torch tensor) of any dtype
        with the same byte size; the checksum is verified after reading.

        Raises:
            InvalidArgumentError: ``out`` has the wrong byte size or is read-only/non-contiguous.
            CorruptCheckpointError: the stored bytes do not match their checksum.
        """
        entry = self.entry(key)
        if entry.slices:
            info = self._fixed_info(key, entry)
            view = memoryview(out)
            shape = self.shape(key)
            if view.readonly or not view.c_contiguous or view.nbytes != entry_nbytes(info, shape):
                raise InvalidArgumentError(
                    f"read_into({key!r}) needs a writable C-contiguous buffer of "
                    f"{entry_nbytes(info, shape)} bytes"
                )
            flat = np.frombuffer(view.cast("B") if view.nbytes else bytearray(), np.uint8)
            parts = self._slice_parts(key, entry)
            self._read_sliced(key, entry, parts, flat.view(info.storage).reshape(shape))
            return
        entry, info, file = self._locate(key)
        if not info.fixed_size:
            raise InvalidArgumentError(
                f"read_into needs a fixed-size dtype; {key!r} is {info.name}"
            )
        self._read_fixed(key, entry, info, file, out)

    def _fixed_info(self, key: str, entry: Any) -> dt.DataTypeInfo:
        info = dt.info(entry.dtype)
        if not info.fixed_size:
            raise self._error(f"partitioned tensor {key!r} has variable-size dtype {info.name}")
        return info

    def _slice_parts(self, key: str, entry: Any) -> list[tuple[tuple[slice, ...], Any]]:
        """Validated ``(index into the full tensor, slice entry)`` pairs of a partitioned tensor.

        The slices' stored bytes must add up to the full tensor's size, so a hostile index cannot
        make the reader allocate a tensor larger than the data files.
        """
        info = self._fixed_info(key, entry)
        shape = self.shape(key)
        raw_key = key.encode("utf-8", errors="surrogateescape")
        parts = []
        for piece in entry.slices:
            extents = _extents(piece)
            index = self._slice_index(key, extents, shape)
            part = self._slices.get(encode_tensor_name_slice(raw_key, extents))
            if part is None:
                raise self._error(f"slice {extents} of {key!r} has no entry")
            want = tuple(s.stop - s.start for s in index)
            part_shape = tuple(d.size for d in part.shape.dim)
            if part.dtype != entry.dtype or part_shape != want or part.slices:
                raise self._error(f"slice {extents} of {key!r} does not match its extent")
            parts.append((index, part))
        if sum(part.size for _, part in parts) != entry_nbytes(info, shape):
            raise self._error(f"the slices of {key!r} do not add up to its shape {list(shape)}")
        return parts

    def _read_sliced(self, key: str, entry: Any, parts: list, out: np.ndarray) -> None:
        """Assemble a partitioned tensor from its validated slice ``parts`` into ``out``."""
        info = dt.info(entry.dtype)
        for index, part in parts:
            target = out[index]
            buf = np.empty(target.shape, dtype=info.storage)
            self._read_fixed(key, part, info, self._checked_file(key, part), buf)
            target[...] = buf

    def _slice_index(
        self, key: str, extents: list[tuple[int, int]], shape: tuple[int, ...]
    ) -> tuple[slice, ...]:
        if len(extents) != len(shape):
            raise self._error(f"slice {extents} of {key!r} does not match rank {len(shape)}")
        bounds = slice_bounds(extents, shape)
        if bounds is None:
            raise self._error(f"slice {extents} of {key!r} lies outside shape {list(shape)}")
        return tuple(slice(start, stop) for start, stop in bounds)

    def _flat_view(self, key: str, entry: Any, info: dt.DataTypeInfo, out: Any) -> memoryview:
        """``out`` as a flat writable byte view, after checking it can hold the tensor."""
        view = memoryview(out)
        if view.readonly or not view.c_contiguous:
            raise InvalidArgumentError(f"read_into({key!r}) needs a writable C-contiguous buffer")
        if view.nbytes != entry.size:
            raise InvalidArgumentError(
                f"Buffer for {key!r} has {view.nbytes} bytes; the tensor has {entry.size} "
                f"(shape {list(self.shape(key))}, {info.name})"
            )
        if view.nbytes == 0:
            return memoryview(b"")
        if view.format != "B" or view.ndim != 1:
            return view.cast("B")
        return view

    def _read_fixed(
        self, key: str, entry: Any, info: dt.DataTypeInfo, file: _DataFile, out: Any
    ) -> None:
        flat = self._flat_view(key, entry, info, out)
        if flat.nbytes >= _MAP_MIN:  # large: copy out of a memory map (see _bulk_read)
            crc = read_pieces([(key, entry, info, file, flat)], [(0, 0, flat.nbytes)], 1)[0]
        else:
            crc = read_span(file, flat, entry.offset, 0, flat.nbytes)
        self._finish_fixed(key, entry, info, file, flat, crc)

    def _finish_fixed(
        self, key: str, entry: Any, info: dt.DataTypeInfo, file: _DataFile, flat: Any, crc: int
    ) -> None:
        """Compare the checksum of bytes just read, then fix their byte order if needed."""
        self._check_crc(key, file, entry, crc)
        if self.header.endianness == self.header.BIG and info.itemsize > 1:
            array = np.frombuffer(flat, dtype=info.storage)
            array.byteswap(inplace=True)

    def read_many_into(
        self, items: Iterable[tuple[str, Any]], *, num_threads: int | None = None
    ) -> None:
        """Read many tensors into existing buffers, with several threads, verifying checksums.

        Same contract as calling :meth:`read_into` for each ``(key, out)`` pair, but the bytes
        are read and checksummed in pieces of a few MiB spread over ``num_threads`` threads
        (default: up to 4, at most the CPU count), so one large tensor is read in parallel too.
        Copying and checksumming both release the GIL. Like TF's reader, this expects the data
        files not to be truncated while they are read (savedflow and TF write new files and
        rename them into place).

        Raises:
            InvalidArgumentError: a buffer has the wrong size (checked before anything is read).
            CorruptCheckpointError: a tensor's bytes do not match its checksum (names the key).
        """
        plan, sliced = [], []
        for key, out in items:
            entry = self.entry(key)
            if entry.slices:
                sliced.append((key, out))
                continue
            entry, info, file = self._locate(key)
            if not info.fixed_size:
                raise InvalidArgumentError(
                    f"read_many_into needs fixed-size dtypes; {key!r} is {info.name}"
                )
            plan.append((key, entry, info, file, self._flat_view(key, entry, info, out)))
        threads = num_threads or min(_MAX_THREADS, os.cpu_count() or 1)
        pieces = [
            (i, start, min(start + _PIECE, p[4].nbytes))
            for i, p in enumerate(plan)
            for start in range(0, p[4].nbytes, _PIECE)
        ]
        crcs = [0] * len(plan)
        for (i, start, stop), crc in zip(pieces, read_pieces(plan, pieces, threads)):
            crcs[i] = combine(crcs[i], crc, stop - start)
        for (key, entry, info, file, flat), crc in zip(plan, crcs):
            self._finish_fixed(key, entry, info, file, flat, crc)
        for key, out in sliced:
            self.read_into(key, out)

    def read_variant(self, key: str) -> np.ndarray:
        """A DT_VARIANT tensor as an object array of serialized ``VariantTensorDataProto`` bytes.

        Raises:
            InvalidArgumentError: ``key`` is not a variant tensor.
            CorruptCheckpointError: its bytes are garbled or do not match their checksums.
        """
        entry = self.entry(key)
        if entry.dtype != dt.DT_VARIANT or entry.slices:
            raise InvalidArgumentError(
                f"read_variant needs a DT_VARIANT tensor; {key!r} is {dt.info(entry.dtype).name}"
            )
        file = self._checked_file(key, entry)
        shape = self.shape(key)
        data = self._read_bytes(file, entry)
        try:
            items, crc = decode_variant_tensor(data, math.prod(shape))
        except ValueError as err:
            raise self._corrupt(key, file, entry, str(err)) from None
        self._check_crc(key, file, entry, crc)
        out = np.empty(len(items), dtype=object)
        out[:] = items
        return out.reshape(shape)

    def _read_bytes(self, file: _DataFile, entry: Any) -> bytes:
        buf = bytearray(entry.size)
        file.read_into(memoryview(buf), entry.offset)
        return bytes(buf)

    def _read_strings(
        self, key: str, entry: Any, file: _DataFile, shape: tuple[int, ...]
    ) -> np.ndarray:
        count = math.prod(shape)
        data = self._read_bytes(file, entry)
        try:
            strings, crc, _ = decode_string_tensor(data, count)
        except ValueError as err:
            raise self._corrupt(key, file, entry, str(err)) from None
        self._check_crc(key, file, entry, crc)
        out = np.empty(count, dtype=object)
        out[:] = strings
        return out.reshape(shape)

    def close(self) -> None:
        """Close the data files opened so far.

        The parsed index stays in memory, so the reader remains usable: a later read reopens the
        data file it needs. Deferred restorations rely on this to keep no file open while they
        wait for their objects.
        """
        with self._files_lock:
            for file in self._files.values():
                file.close()
            self._files.clear()

    def __enter__(self) -> BundleReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # noqa: S110 - interpreter shutdown
            pass
