"""Read TensorFlow checkpoints by key: ``load_checkpoint``, ``list_variables``, ``load_variable``.

These mirror ``tf.train.load_checkpoint`` and friends. A checkpoint is named by its prefix
(``/tmp/run/ckpt-3``) or by its directory, which resolves through the ``checkpoint`` state file.
Reading one tensor reads only that tensor's bytes.

Example::

    reader = load_checkpoint("/tmp/run")
    for name, shape in list_variables("/tmp/run"):
        print(name, shape, reader.get_variable_to_dtype_map()[name].name)
    kernel = reader.get_tensor("model/kernel/.ATTRIBUTES/VARIABLE_VALUE")
"""

from __future__ import annotations

import logging
import os
from typing import Any

import numpy as np

from savedflow.dtypes import as_dtype
from savedflow.errors import FormatError, NotFoundError
from savedflow.formats import datatypes as dt
from savedflow.formats.checkpoint_state import get_checkpoint_state
from savedflow.formats.tensor_bundle import BundleReader

__all__ = [
    "CheckpointReader",
    "load_checkpoint",
    "list_variables",
    "load_variable",
    "latest_checkpoint",
]

_log = logging.getLogger(__name__)
_INDEX_SUFFIX = ".index"


def latest_checkpoint(
    checkpoint_dir: str | os.PathLike, latest_filename: str | None = None
) -> str | None:
    """The prefix of the newest checkpoint recorded in ``checkpoint_dir``, or None.

    Like TensorFlow, returns None when there is no state file, when it cannot be parsed, or
    when the checkpoint it names no longer exists.
    """
    try:
        state = get_checkpoint_state(checkpoint_dir, latest_filename)
    except FormatError as err:
        _log.warning("%s", err)
        return None
    if state is None or not state.model_checkpoint_path:
        return None
    prefix = state.model_checkpoint_path
    if os.path.exists(prefix + _INDEX_SUFFIX) or os.path.isfile(prefix):
        return prefix
    _log.error("Couldn't match files for checkpoint %s", prefix)
    return None


def _resolve_prefix(ckpt_dir_or_file: str | os.PathLike) -> str:
    path = os.fspath(ckpt_dir_or_file)
    if os.path.isdir(path):
        prefix = latest_checkpoint(path)
        if prefix is None:
            raise NotFoundError(
                f"Couldn't find 'checkpoint' file or checkpoints in given directory {path!r}"
            )
        return prefix
    if not os.path.exists(path + _INDEX_SUFFIX):
        if path.endswith(_INDEX_SUFFIX) and os.path.isfile(path):
            return path[: -len(_INDEX_SUFFIX)]
        base, sep, _tail = path.rpartition(".data-")
        if sep and os.path.exists(base + _INDEX_SUFFIX):
            return base
    return path


class CheckpointReader:
    """Random access to the tensors of one checkpoint (``tf.train.load_checkpoint``'s result).

    Raises:
        NotFoundError: the checkpoint does not exist.
        FormatError: its index is damaged.
    """

    def __init__(self, prefix: str | os.PathLike) -> None:
        self._prefix = os.fspath(prefix)
        try:
            self._bundle = BundleReader(self._prefix)
        except NotFoundError:
            raise NotFoundError(
                f"Unsuccessful checkpoint reader constructor: failed to find any matching files for {self._prefix!r}"
            ) from None

    @property
    def prefix(self) -> str:
        """The checkpoint prefix being read."""
        return self._prefix

    @property
    def bundle(self) -> BundleReader:
        """The underlying :class:`~savedflow.formats.tensor_bundle.BundleReader`."""
        return self._bundle

    def get_variable_to_shape_map(self) -> dict[str, list[int]]:
        """``{key: shape as a list of ints}`` for every tensor."""
        return {key: list(self._bundle.shape(key)) for key in self._bundle.keys()}

    def get_variable_to_dtype_map(self) -> dict[str, Any]:
        """``{key: DType}`` for every tensor (DT_VARIANT entries included)."""
        return {key: as_dtype(self._bundle.dtype(key)) for key in self._bundle.keys()}

    def has_tensor(self, key: str) -> bool:
        """True if ``key`` names a tensor in the checkpoint."""
        return key in self._bundle

    def get_tensor(self, key: str) -> Any:
        """The value of ``key`` as numpy, verified against its checksum.

        As in TensorFlow, scalars come back as numpy scalars (``bytes`` for strings) and string
        tensors as object arrays of ``bytes``. bfloat16 has no numpy dtype: its values come back
        exactly as float32.

        Raises:
            NotFoundError: no such key.
            CorruptCheckpointError: the stored bytes were altered.
            UnimplementedError: DT_VARIANT entries (e.g. tf.data iterator state).
        """
        if key not in self._bundle:
            raise NotFoundError(f"Key {key} not found in checkpoint {self._prefix!r}")
        value = self._bundle.read(key)
        if self._bundle.dtype(key) == dt.DT_BFLOAT16:
            value = (value.astype(np.uint32) << 16).view(np.float32)
        return value[()] if value.ndim == 0 else value

    def debug_string(self) -> bytes:
        """One ``key (dtype) [shape]`` line per tensor, as bytes (like TF's DebugString)."""
        lines = [
            f"{key} ({dt.info(self._bundle.dtype(key)).name}) {list(self._bundle.shape(key))}"
            for key in self._bundle.keys()
        ]
        return ("\n".join(lines) + "\n").encode()

    def close(self) -> None:
        """Release the open data files."""
        self._bundle.close()

    def __enter__(self) -> CheckpointReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def load_checkpoint(ckpt_dir_or_file: str | os.PathLike) -> CheckpointReader:
    """Open a checkpoint given its prefix or its directory (newest checkpoint there).

    Raises:
        NotFoundError: no checkpoint at that path.
    """
    return CheckpointReader(_resolve_prefix(ckpt_dir_or_file))


def list_variables(ckpt_dir_or_file: str | os.PathLike) -> list[tuple[str, list[int]]]:
    """Sorted ``(key, shape)`` pairs of every tensor in a checkpoint."""
    with load_checkpoint(ckpt_dir_or_file) as reader:
        shapes = reader.get_variable_to_shape_map()
    return [(name, shapes[name]) for name in sorted(shapes)]


def load_variable(ckpt_dir_or_file: str | os.PathLike, name: str) -> Any:
    """The value of one tensor (a trailing ``:0`` in ``name`` is ignored, as in TF)."""
    if name.endswith(":0"):
        name = name[:-2]
    with load_checkpoint(ckpt_dir_or_file) as reader:
        return reader.get_tensor(name)
