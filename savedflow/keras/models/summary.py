"""``model.summary()``: the layer table tf.keras 2.x prints, column for column.

Sequential-like models get three columns (65 characters: ``Layer (type)``, ``Output Shape``,
``Param #``); graphs with branches get a fourth, ``Connected to`` (98 characters). Text too wide
for its column wraps onto continuation lines, preferring to break after ``),``/``],``/``},``/``',``.
"""

from __future__ import annotations

import re
from typing import Any

from savedflow.keras import backend
from savedflow.keras.utils import layer_tracking

__all__ = ["print_summary", "readable_memory_size"]

_BREAKS = ("),", "},", "],", "',")


def readable_memory_size(size: float) -> str:
    """``212.50 KB`` style size (1024-based units: Byte, KB, MB, GB, TB, PB)."""
    units = ["Byte", "KB", "MB", "GB", "TB", "PB"]
    for unit in units:
        if size / 1024 < 1:
            return f"{size:.2f} {unit}"
        size /= 1024
    return f"{size:.2f} {units[-1]}"


def _count(weights: list[Any]) -> int:
    return sum(backend.count_params(w) for w in layer_tracking.dedup(weights))


def _memory(weights: list[Any]) -> int:
    return sum(backend.count_params(w) * w.dtype.size for w in layer_tracking.dedup(weights))


def _is_sequential_like(model: Any) -> bool:
    if type(model).__name__ == "Sequential" or not model._is_graph_network:
        return True
    nodes = []
    for depth_nodes in model._nodes_by_depth.values():
        if len(depth_nodes) > 1 or (len(depth_nodes) == 1 and len(depth_nodes[0].keras_inputs) > 1):
            return False
        nodes += depth_nodes
    for layer in model.layers:
        if sum(1 for node in layer._inbound_nodes if any(node is n for n in nodes)) > 1:
            return False
    return True


def _format_row(fields: list[Any], positions: list[int], nested_level: int = 0) -> list[str]:
    """The printed lines of one table row (continuation lines included)."""
    remaining = [str(x) for x in fields]
    lines = []
    last = len(positions) - 1
    while any(remaining):
        line = ""
        for col in range(len(remaining)):
            start = positions[col - 1] if col > 0 else 0
            gap = 0 if col == last else 2
            width = positions[col] - start - gap - (1 if col != last else 0)
            if col == 0:
                width -= nested_level
            chunk = remaining[col][:width]
            cuts = [chunk.find(b) + len(b) for b in _BREAKS if chunk.find(b) >= 0]
            if cuts:
                width = min(cuts)
                chunk = chunk[:width]
            if col == 0:
                line += "|" * nested_level + " "
            line += chunk + " " * gap
            remaining[col] = remaining[col][width:]
            pad_to = positions[col] - (nested_level if nested_level and col == last else 0)
            line += " " * (pad_to - len(line))
        lines.append(line + "|" * nested_level)
    return lines


def _output_shape(layer: Any) -> Any:
    try:
        return layer.output_shape
    except AttributeError:
        return "multiple"


def _layer_fields(layer: Any, connections: list[str] | None, show_trainable: bool) -> list[Any]:
    if not layer.built and not getattr(layer, "_is_graph_network", False):
        params: Any = "0 (unused)"
    else:
        params = layer.count_params()
    fields = [f"{layer.name} ({type(layer).__name__})", _output_shape(layer), params]
    if connections is not None:
        fields.append(connections)
    if show_trainable:
        fields.append("Y" if layer.trainable else "N")
    return fields


def _connections(layer: Any, relevant: list[Any]) -> list[str]:
    out = []
    for node in layer._inbound_nodes:
        if relevant and not any(node is n for n in relevant):
            continue
        for inbound_layer, node_index, tensor_index, _ in node.iterate_inbound():
            out.append(f"{inbound_layer.name}[{node_index}][{tensor_index}]")
    return out


def _layer_range(model: Any, layer_range: Any) -> tuple[int, int]:
    layers = model.layers
    if layer_range is None:
        return 0, len(layers)
    if len(layer_range) != 2:
        raise ValueError(
            f"layer_range must be a list or tuple of length 2. Received: layer_range={layer_range}"
        )
    names = [layer.name for layer in layers]
    starts = [i for i, n in enumerate(names) if re.match(layer_range[0], n)]
    ends = [i for i, n in enumerate(names) if re.match(layer_range[1], n)]
    if not starts or not ends:
        raise ValueError(
            f"Passed layer_range does not match any layer names in the model. Received: {layer_range}"
        )
    return starts[0], ends[-1] + 1


def print_summary(
    model: Any,
    line_length: int | None = None,
    positions: list[float] | None = None,
    print_fn: Any = None,
    expand_nested: bool = False,
    show_trainable: bool = False,
    layer_range: Any = None,
) -> None:
    """Print the summary table of ``model`` line by line through ``print_fn`` (default print)."""
    print_fn = print_fn or print
    sequential_like = _is_sequential_like(model)
    if sequential_like:
        line_length = line_length or 65
        positions = list(positions or [0.45, 0.85, 1.0])
        header = ["Layer (type)", "Output Shape", "Param #"]
        relevant = None
    else:
        line_length = line_length or 98
        positions = list(positions or [0.3, 0.6, 0.70, 1.0])
        header = ["Layer (type)", "Output Shape", "Param #", "Connected to"]
        relevant = [n for nodes in model._nodes_by_depth.values() for n in nodes]
    if positions[-1] <= 1:
        positions = [int(line_length * p) for p in positions]
    if show_trainable:
        line_length += 11
        positions.append(line_length)
        header.append("Trainable")
    start, stop = _layer_range(model, layer_range)

    def emit_row(fields: list[Any], level: int = 0) -> None:
        for line in _format_row(fields, positions, level):
            print_fn(line)

    def emit_layer(layer: Any, level: int = 0, is_last: bool = False) -> None:
        connections = None if sequential_like else _connections(layer, relevant)
        emit_row(_layer_fields(layer, connections, show_trainable), level)
        inner = getattr(layer, "layers", None) if expand_nested else None
        if inner:
            print_fn("|" * (level + 1) + "¯" * (line_length - 2 * level - 2) + "|" * (level + 1))
            for i, sub in enumerate(inner):
                emit_layer(sub, level + 1, i == len(inner) - 1)
            print_fn("|" * level + "¯" * (line_length - 2 * level) + "|" * level)
            is_last = True  # tf.keras prints no blank separator after an expanded model
        if not is_last:
            print_fn("|" * level + " " * (line_length - 2 * level) + "|" * level)

    print_fn(f'Model: "{model.name}"')
    print_fn("_" * line_length)
    emit_row(header)
    print_fn("=" * line_length)
    for layer in model.layers[start:stop]:
        emit_layer(layer)
    print_fn("=" * line_length)
    trainable, non_trainable = model.trainable_weights, model.non_trainable_weights
    t_count, n_count = _count(trainable), _count(non_trainable)
    t_mem, n_mem = _memory(trainable), _memory(non_trainable)
    print_fn(f"Total params: {t_count + n_count} ({readable_memory_size(t_mem + n_mem)})")
    print_fn(f"Trainable params: {t_count} ({readable_memory_size(t_mem)})")
    print_fn(f"Non-trainable params: {n_count} ({readable_memory_size(n_mem)})")
    print_fn("_" * line_length)
