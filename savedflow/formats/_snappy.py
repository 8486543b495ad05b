"""A small, bounded decompressor for the raw snappy format (LevelDB block compression type 1).

TensorFlow never compresses bundle indexes, but LevelDB tables may; this lets the reader accept
them. The output size is declared up front and capped by the caller, and every copy is checked.
"""

from __future__ import annotations

from savedflow.formats.sstable import decode_varint

__all__ = ["SnappyError", "decompress"]


class SnappyError(ValueError):
    """The compressed bytes are malformed."""


def decompress(data: bytes, max_size: int) -> bytes:
    """Decompress raw snappy ``data`` whose declared length must not exceed ``max_size``."""
    try:
        size, pos = decode_varint(data, 0, len(data), 5)
    except ValueError:
        raise SnappyError("bad length preamble") from None
    if size > max_size:
        raise SnappyError(f"declared length {size} exceeds the limit {max_size}")
    out = bytearray()
    n = len(data)
    while pos < n:
        tag = data[pos]
        pos += 1
        kind = tag & 3
        if kind == 0:  # literal
            length = tag >> 2
            if length >= 60:
                extra = length - 59
                if pos + extra > n:
                    raise SnappyError("truncated literal length")
                length = int.from_bytes(data[pos : pos + extra], "little")
                pos += extra
            length += 1
            if pos + length > n or len(out) + length > size:
                raise SnappyError("literal runs past the input or the declared length")
            out += data[pos : pos + length]
            pos += length
            continue
        if kind == 1:
            if pos >= n:
                raise SnappyError("truncated copy")
            length = ((tag >> 2) & 7) + 4
            offset = ((tag >> 5) << 8) | data[pos]
            pos += 1
        else:
            width = 2 if kind == 2 else 4
            if pos + width > n:
                raise SnappyError("truncated copy")
            length = (tag >> 2) + 1
            offset = int.from_bytes(data[pos : pos + width], "little")
            pos += width
        if offset == 0 or offset > len(out) or len(out) + length > size:
            raise SnappyError("copy refers outside the output")
        start = len(out) - offset
        while length > 0:  # an overlapping copy repeats the last `offset` bytes
            chunk = out[start : start + min(offset, length)]
            out += chunk
            length -= len(chunk)
    if len(out) != size:
        raise SnappyError(f"decompressed {len(out)} bytes, declared {size}")
    return bytes(out)
