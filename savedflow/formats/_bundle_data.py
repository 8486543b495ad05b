"""Byte layouts inside bundle data files: file names and DT_STRING tensors (FORMATS.md §1.13)."""

from __future__ import annotations

import re
import struct

import numpy as np

from savedflow.errors import InvalidArgumentError
from savedflow.formats.crc32c import crc32c, extend, mask, unmask
from savedflow.formats.sstable import decode_varint, encode_varint

__all__ = [
    "data_filename",
    "string_array",
    "encode_string_tensor",
    "decode_string_tensor",
    "encode_variant_tensor",
    "decode_variant_tensor",
]

_U32_MAX = 0xFFFFFFFF


def data_filename(prefix: str, shard_id: int, num_shards: int) -> str:
    """``<prefix>.data-SSSSS-of-NNNNN``, TensorFlow's data file name for one shard."""
    return f"{prefix}.data-{shard_id:05d}-of-{num_shards:05d}"


def _as_bytes(item: object) -> bytes:
    if isinstance(item, bytes):
        return item
    if isinstance(item, str):
        return item.encode("utf-8")
    if isinstance(item, (bytearray, memoryview, np.bytes_)):
        return bytes(item)
    raise InvalidArgumentError(
        f"DT_STRING elements must be bytes or str. Received: {type(item).__name__}"
    )


def string_array(value: np.ndarray) -> np.ndarray:
    """An object array of ``bytes`` with ``value``'s shape (str elements are UTF-8 encoded)."""
    out = np.empty(value.shape, dtype=object)
    flat_out = out.reshape(-1)
    for i, item in enumerate(
        value.reshape(-1).tolist() if value.dtype.kind != "O" else value.reshape(-1)
    ):
        flat_out[i] = _as_bytes(item)
    return out


def _length_bytes(length: int) -> bytes:
    return struct.pack("<I", length) if length <= _U32_MAX else struct.pack("<Q", length)


def encode_string_tensor(array: np.ndarray) -> tuple[list[bytes], int]:
    """Encode an object array of bytes as TF stores it; return (pieces to write, entry crc)."""
    items = list(array.reshape(-1))
    lengths = b"".join(encode_varint(len(s)) for s in items)
    length_crc_input = b"".join(_length_bytes(len(s)) for s in items)
    length_checksum = struct.pack("<I", mask(crc32c(length_crc_input)))
    crc = extend(crc32c(length_crc_input), length_checksum)
    for s in items:
        crc = extend(crc, s)
    return [lengths, length_checksum, *items], mask(crc)


def decode_string_tensor(data: bytes, count: int) -> tuple[list[bytes], int, int]:
    """Decode ``count`` strings from an entry's bytes.

    Returns:
        ``(strings, unmasked running crc, stored length checksum)``; the caller compares
        checksums so it can name the tensor in the error.

    Raises:
        ValueError: the bytes do not hold ``count`` strings (truncated, garbled lengths).
    """
    if count > len(data):  # every length takes at least one byte
        raise ValueError(f"{count} strings cannot fit in {len(data)} bytes")
    pos = 0
    lengths = []
    for _ in range(count):
        length, pos = decode_varint(data, pos, len(data))
        lengths.append(length)
    if pos + 4 > len(data):
        raise ValueError("length checksum is missing")
    length_crc_input = b"".join(_length_bytes(n) for n in lengths)
    crc = crc32c(length_crc_input)
    (stored_length_checksum,) = struct.unpack_from("<I", data, pos)
    if unmask(stored_length_checksum) != crc:
        raise ValueError("string length checksum does not match")
    crc = extend(crc, data[pos : pos + 4])
    pos += 4
    if pos + sum(lengths) != len(data):
        raise ValueError(
            f"string lengths add up to {sum(lengths)} but {len(data) - pos} bytes remain"
        )
    strings = []
    for n in lengths:
        strings.append(data[pos : pos + n])
        pos += n
    crc = extend(crc, data[len(data) - sum(lengths) :])
    return strings, crc, stored_length_checksum


# --- DT_VARIANT tensors: serialized VariantTensorDataProto per element ---------------------------


def encode_variant_tensor(array: np.ndarray) -> tuple[list[bytes], int]:
    """Encode serialized VariantTensorDataProtos as TF stores them; return (pieces, entry crc).

    Per element: varint length, the proto bytes, then the masked running CRC so far (which
    covers each length as uint64 little-endian, the bytes and the earlier checksums).
    """
    pieces = []
    crc = 0
    for item in array.reshape(-1):
        data = _as_bytes(item)
        crc = extend(extend(crc, struct.pack("<Q", len(data))), data)
        checksum = struct.pack("<I", mask(crc))
        crc = extend(crc, checksum)
        pieces += [encode_varint(len(data)), data, checksum]
    return pieces, mask(crc)


def decode_variant_tensor(data: bytes, count: int) -> tuple[list[bytes], int]:
    """Decode ``count`` variant elements; return (serialized protos, unmasked entry crc).

    Raises:
        ValueError: truncated/garbled bytes or an element checksum that does not match.
    """
    if count * 5 > len(data):  # every element takes a length and a checksum
        raise ValueError(f"{count} variant elements cannot fit in {len(data)} bytes")
    pos, crc, items = 0, 0, []
    for i in range(count):
        length, pos = decode_varint(data, pos, len(data))
        if pos + length + 4 > len(data):
            raise ValueError(f"element {i} claims {length} bytes; only {len(data) - pos} remain")
        item = data[pos : pos + length]
        crc = extend(extend(crc, struct.pack("<Q", length)), item)
        (stored,) = struct.unpack_from("<I", data, pos + length)
        if unmask(stored) != crc:
            raise ValueError(f"checksum of element {i} does not match")
        crc = extend(crc, data[pos + length : pos + length + 4])
        items.append(item)
        pos += length + 4
    if pos != len(data):
        raise ValueError(f"{len(data) - pos} bytes follow the last element")
    return items, crc


# --- keys of partitioned-variable slices (TF's checkpoint::EncodeTensorNameSlice) ----------------

_LENGTH_HEADER = (
    (0, 0),
    (0x80, 0),
    (0xC0, 0),
    (0xE0, 0),
    (0xF0, 0),
    (0xF8, 0),
    (0xFC, 0),
    (0xFE, 0),
)
_LENGTH_HEADER += ((0xFF, 0), (0xFF, 0x80), (0xFF, 0xC0))


def _num_increasing(value: int) -> bytes:
    """OrderedCode WriteNumIncreasing: a length byte, then big-endian bytes without leading 0s."""
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big") if value else b""
    return bytes([len(raw)]) + raw


def _signed_num_increasing(value: int) -> bytes:
    """OrderedCode WriteSignedNumIncreasing: sign-extended big-endian with a unary length header."""
    magnitude = ~value if value < 0 else value
    if magnitude < 64:
        return bytes([(0x80 ^ value) & 0xFF])
    length = (magnitude.bit_length() + 1 + 6) // 7  # bits incl. sign, 7 payload bits per byte
    buf = bytearray((value & ((1 << 80) - 1)).to_bytes(10, "big"))
    begin = 10 - length
    buf[begin] ^= _LENGTH_HEADER[length][0]
    buf[begin + 1] ^= _LENGTH_HEADER[length][1]
    return bytes(buf[begin:])


_ORDERED_CODE_SPECIAL = re.compile(rb"[\x00\xff]")
_ORDERED_CODE_ESCAPES = {b"\x00": b"\x00\xff", b"\xff": b"\xff\x00"}


def slice_bounds(
    extents: list[tuple[int, int]], shape: tuple[int, ...]
) -> list[tuple[int, int]] | None:
    """``(start, stop)`` per dimension of a slice, or None if an extent lies outside ``shape``.

    ``extents`` holds ``(start, length)`` per dimension (length -1 = up to the dimension's end);
    the caller checks that it has one extent per dimension.
    """
    bounds = []
    for (start, length), size in zip(extents, shape):
        stop = size if length == -1 else start + length
        if start < 0 or length < -1 or stop > size:
            return None
        bounds.append((start, stop))
    return bounds


def encode_tensor_name_slice(name: bytes, extents: list[tuple[int, int]]) -> bytes:
    """The index key of one slice of a partitioned tensor (length -1 means the whole dimension)."""
    # OrderedCode escapes each 0x00 as 00 ff and each 0xff as ff 00, in one pass over the name.
    escaped = _ORDERED_CODE_SPECIAL.sub(lambda m: _ORDERED_CODE_ESCAPES[m.group()], name)
    out = bytearray(_num_increasing(0) + escaped + b"\x00\x01" + _num_increasing(len(extents)))
    for start, length in extents:
        out += _signed_num_increasing(start) + _signed_num_increasing(length)
    return bytes(out)
