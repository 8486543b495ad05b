"""The text ``checkpoint`` state file: which checkpoints a directory holds (FORMATS.md §3).

It is a ``tensorflow.CheckpointState`` message in protobuf text format, e.g.::

    model_checkpoint_path: "ckpt-3"
    all_model_checkpoint_paths: "ckpt-2"
    all_model_checkpoint_paths: "ckpt-3"

Paths are written relative to the directory (TF2's default) and resolved against it on reading.
Writes are atomic: a temporary file in the same directory is written, fsynced and renamed.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Sequence

from google.protobuf import text_format

from savedflow.errors import FormatError, InvalidArgumentError
from savedflow.formats.protos.checkpoint_state_pb2 import CheckpointState

__all__ = [
    "CheckpointState",
    "DEFAULT_FILENAME",
    "parse_checkpoint_state",
    "checkpoint_state_to_text",
    "get_checkpoint_state",
    "generate_checkpoint_state",
    "update_checkpoint_state",
    "atomic_write",
    "fsync_directory",
]

DEFAULT_FILENAME = "checkpoint"


def parse_checkpoint_state(text: str | bytes, path: str = "<text>") -> CheckpointState:
    """Parse the text format of a ``checkpoint`` file.

    Raises:
        FormatError: the text is not a CheckpointState (the message names ``path``).
    """
    state = CheckpointState()
    try:
        if isinstance(text, bytes):
            text = text.decode("utf-8")
        text_format.Parse(text, state)
    except (text_format.ParseError, UnicodeDecodeError) as err:
        raise FormatError(
            f"Checkpoint state file {path!r} is not a valid CheckpointState: {err}"
        ) from None
    return state


def checkpoint_state_to_text(state: CheckpointState) -> str:
    """The exact text TensorFlow writes for ``state`` (one ``field: value`` per line)."""
    return text_format.MessageToString(state, as_utf8=True)


def get_checkpoint_state(
    checkpoint_dir: str | os.PathLike, latest_filename: str | None = None
) -> CheckpointState | None:
    """Read ``<checkpoint_dir>/checkpoint``; return None if it does not exist.

    Relative paths in the file are joined to ``checkpoint_dir``, as TensorFlow does.

    Raises:
        FormatError: the file exists but is garbled or names no checkpoint.
    """
    checkpoint_dir = os.fspath(checkpoint_dir)
    path = os.path.join(checkpoint_dir, latest_filename or DEFAULT_FILENAME)
    try:
        with open(path, "rb") as f:
            raw = f.read(1 << 24)
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError):
        return None
    state = parse_checkpoint_state(raw, path)
    if not state.model_checkpoint_path:
        raise FormatError(f"Checkpoint state file {path!r} has no model_checkpoint_path")
    if not os.path.isabs(state.model_checkpoint_path):
        state.model_checkpoint_path = os.path.join(checkpoint_dir, state.model_checkpoint_path)
    for i, p in enumerate(state.all_model_checkpoint_paths):
        if not os.path.isabs(p):
            state.all_model_checkpoint_paths[i] = os.path.join(checkpoint_dir, p)
    return state


def generate_checkpoint_state(
    save_dir: str,
    model_checkpoint_path: str,
    all_model_checkpoint_paths: Sequence[str] | None = None,
    all_model_checkpoint_timestamps: Sequence[float] | None = None,
    last_preserved_timestamp: float | None = None,
    save_relative_paths: bool = True,
) -> CheckpointState:
    """Build the CheckpointState TensorFlow would write (newest path last, relative paths).

    Raises:
        InvalidArgumentError: timestamps given but not one per path.
    """
    paths = list(all_model_checkpoint_paths or [])
    if not paths or paths[-1] != model_checkpoint_path:
        paths.append(model_checkpoint_path)
    timestamps = list(all_model_checkpoint_timestamps or [])
    if timestamps and len(timestamps) != len(paths):
        raise InvalidArgumentError(
            f"Need one timestamp per checkpoint path. Received: {len(timestamps)} timestamps for {len(paths)} paths"
        )
    if save_relative_paths:
        save_dir = os.fspath(save_dir)

        def rel(p: str) -> str:
            return os.path.relpath(p, save_dir) if os.path.isabs(p) else p

        model_checkpoint_path = rel(model_checkpoint_path)
        paths = [rel(p) for p in paths]
    state = CheckpointState(
        model_checkpoint_path=model_checkpoint_path,
        all_model_checkpoint_paths=paths,
        all_model_checkpoint_timestamps=timestamps,
    )
    if last_preserved_timestamp is not None:
        state.last_preserved_timestamp = last_preserved_timestamp
    return state


def atomic_write(path: str, data: bytes) -> None:
    """Write ``data`` to ``path`` via a fsynced temporary file in the same directory + rename."""
    directory = os.path.dirname(path) or "."
    tmp = f"{path}.tmp{uuid.uuid4().hex}"
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    fsync_directory(directory)


def fsync_directory(path: str) -> None:
    """Make renames and deletions inside ``path`` durable (no-op where directories can't be opened)."""
    try:
        fd = os.open(path or ".", os.O_RDONLY)
    except OSError:  # pragma: no cover - e.g. Windows cannot open directories
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover - some filesystems refuse directory fsync
        pass
    finally:
        os.close(fd)


def update_checkpoint_state(
    save_dir: str | os.PathLike,
    model_checkpoint_path: str,
    all_model_checkpoint_paths: Sequence[str] | None = None,
    latest_filename: str | None = None,
    all_model_checkpoint_timestamps: Sequence[float] | None = None,
    last_preserved_timestamp: float | None = None,
    save_relative_paths: bool = True,
) -> CheckpointState:
    """Atomically (re)write ``<save_dir>/checkpoint`` and return the state written."""
    save_dir = os.fspath(save_dir)
    state = generate_checkpoint_state(
        save_dir,
        model_checkpoint_path,
        all_model_checkpoint_paths,
        all_model_checkpoint_timestamps,
        last_preserved_timestamp,
        save_relative_paths,
    )
    path = os.path.join(save_dir, latest_filename or DEFAULT_FILENAME)
    atomic_write(path, checkpoint_state_to_text(state).encode("utf-8"))
    return state
