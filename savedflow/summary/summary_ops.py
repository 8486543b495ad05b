"""Summary ops: scalar, histogram, text, write, graph, in the layout TensorBoard's plugins read.

Each op writes one ``Event{step, summary{value{tag, tensor, metadata{plugin_data}}}}`` to the
default writer and returns True, or returns False when there is no default writer (or recording
is switched off with :func:`record_if`). Layouts follow TF 2 with TensorBoard installed: scalars
are float32 scalar tensors under plugin "scalars"; histograms are float64 ``[k, 3]`` tensors of
``(left, right, count)`` under "histograms"; text is a string tensor under "text".
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import torch

from savedflow.formats import datatypes as dt
from savedflow.formats.protos import event_pb2, summary_pb2, tensor_pb2
from savedflow.summary import writer as writer_lib

DEFAULT_BUCKET_COUNT = 30
_record: dict[str, Any] = {"condition": True}


@contextlib.contextmanager
def record_if(condition: Any) -> Iterator[None]:
    """Record summaries only while ``condition`` (a bool or zero-arg callable) is true."""
    previous = _record["condition"]
    _record["condition"] = condition
    try:
        yield
    finally:
        _record["condition"] = previous


def should_record_summaries() -> bool:
    """True when a default writer exists and recording is switched on."""
    condition = _record["condition"]
    if callable(condition):
        condition = condition()
    return writer_lib.default_writer() is not None and bool(condition)


def _tensor_proto(array: np.ndarray, dtype_enum: int) -> tensor_pb2.TensorProto:
    proto = tensor_pb2.TensorProto(dtype=dtype_enum)
    proto.tensor_shape.SetInParent()  # TF writes `tensor_shape {}` even for scalars
    for dim in array.shape:
        proto.tensor_shape.dim.add(size=int(dim))
    if dtype_enum == dt.DT_STRING:
        proto.string_val.extend(array.reshape(-1).tolist())
    else:
        proto.tensor_content = (
            np.ascontiguousarray(array).astype(array.dtype.newbyteorder("<")).tobytes()
        )
    return proto


def _metadata(plugin: str, description: str | None, content: bytes = b"") -> Any:
    metadata = summary_pb2.SummaryMetadata()
    metadata.plugin_data.plugin_name = plugin
    if content:
        metadata.plugin_data.content = content
    if description:
        metadata.summary_description = description
    return metadata


def _emit(
    name: str, make_tensor: Callable[[], tensor_pb2.TensorProto], metadata: Any, step: Any
) -> bool:
    """Write one summary value; the tensor is built only when summaries are being recorded."""
    if not should_record_summaries():
        return False
    event = event_pb2.Event(step=writer_lib.resolve_step(step))
    value = event.summary.value.add(tag=name)
    value.tensor.CopyFrom(make_tensor())
    value.metadata.CopyFrom(metadata)
    writer = writer_lib.default_writer()
    assert writer is not None
    writer.add_event(event)
    return True


def _to_numpy(data: Any) -> np.ndarray:
    if isinstance(data, torch.Tensor):
        return data.detach().cpu().numpy()
    if hasattr(data, "read_value"):
        return _to_numpy(data.read_value())
    return np.asarray(data)


def scalar(name: str, data: Any, step: Any = None, description: str | None = None) -> bool:
    """Write a scalar (stored as float32) for TensorBoard's Scalars dashboard."""
    array = _to_numpy(data)
    if array.ndim != 0:
        raise ValueError(
            f"summary.scalar({name!r}): data must be a scalar. Received: shape {array.shape}."
        )
    array = array.astype(np.float32)
    return _emit(
        name, lambda: _tensor_proto(array, dt.DT_FLOAT), _metadata("scalars", description), step
    )


def histogram_buckets(data: Any, buckets: int | None = None) -> np.ndarray:
    """``[k, 3]`` float64 rows ``(left_edge, right_edge, count)`` as TensorBoard expects.

    ``k`` equal-width buckets span [min, max]; a value on the top edge goes in the last bucket.
    All-equal data puts every count in the last bucket with zero-width edges; empty data gives
    zeros.
    """
    count = DEFAULT_BUCKET_COUNT if buckets is None else max(0, int(buckets))
    values = _to_numpy(data).astype(np.float64).reshape(-1)
    if values.size == 0 or count == 0:
        return np.zeros((count, 3), dtype=np.float64)
    low, high = float(values.min()), float(values.max())
    if high == low:
        counts = np.zeros(count, dtype=np.float64)
        counts[-1] = values.size
        edges = np.full(count, high, dtype=np.float64)
        return np.stack([edges, edges, counts], axis=1)
    width = (high - low) / count
    index = np.minimum(np.floor((values - low) / width).astype(np.int64), count - 1)
    counts = np.bincount(index, minlength=count).astype(np.float64)
    edges = np.linspace(low, high, count + 1)
    edges[-1] = high
    return np.stack([edges[:-1], edges[1:], counts], axis=1)


def histogram(
    name: str,
    data: Any,
    step: Any = None,
    buckets: int | None = None,
    description: str | None = None,
) -> bool:
    """Write a histogram of ``data`` for TensorBoard's Histograms dashboard.

    The buckets are computed only when summaries are being recorded (as TF's lazy tensor does).
    """

    def make_tensor() -> tensor_pb2.TensorProto:
        return _tensor_proto(histogram_buckets(data, buckets), dt.DT_DOUBLE)

    return _emit(name, make_tensor, _metadata("histograms", description), step)


def text(name: str, data: Any, step: Any = None, description: str | None = None) -> bool:
    """Write a string (or array of strings; Markdown is rendered) for the Text dashboard."""
    if isinstance(data, (str, bytes)):
        array = np.array(data.encode("utf-8") if isinstance(data, str) else data, dtype=object)
    else:
        array = np.vectorize(
            lambda s: s.encode("utf-8") if isinstance(s, str) else bytes(s), otypes=[object]
        )(np.asarray(data, dtype=object))
    return _emit(
        name, lambda: _tensor_proto(array, dt.DT_STRING), _metadata("text", description), step
    )


def write(
    tag: str, tensor: Any, step: Any = None, metadata: Any = None, name: str | None = None
) -> bool:
    """Write a raw tensor summary with optional SummaryMetadata (proto or bytes)."""
    del name
    if isinstance(metadata, (bytes, bytearray)):
        metadata = summary_pb2.SummaryMetadata.FromString(bytes(metadata))
    if metadata is None:
        metadata = summary_pb2.SummaryMetadata()
    array = _to_numpy(tensor)
    if array.dtype.kind in "USO":
        proto = _tensor_proto(
            np.vectorize(lambda s: s.encode() if isinstance(s, str) else s, otypes=[object])(array),
            dt.DT_STRING,
        )
    else:
        proto = _tensor_proto(array, dt.from_numpy(array.dtype).enum)
    return _emit(tag, lambda: proto, metadata, step)


def graph(graph_data: Any) -> bool:
    """Write a GraphDef (proto or serialized bytes) as a ``graph_def`` event (Graphs dashboard)."""
    return write_graph_event(graph_data, 0)


def write_graph_event(graph_data: Any, step: int) -> bool:
    """Write ``graph_data`` as a ``graph_def`` event at ``step`` to the default writer."""
    writer = writer_lib.default_writer()
    if writer is None or not should_record_summaries():
        return False
    if isinstance(graph_data, (bytes, bytearray)):
        data = bytes(graph_data)
    else:
        data = graph_data.SerializeToString(deterministic=True)
    writer.add_event(event_pb2.Event(step=int(step), graph_def=data))
    return True
