"""Crash-safe commit of a tensor bundle: temporary names, fsync, rename, then bookkeeping.

Layering (after Orbax): :class:`~savedflow.checkpoint.checkpoint_manager.CheckpointManager`
decides *which* checkpoints exist (numbering, retention); :func:`commit_bundle` makes one
checkpoint appear atomically; :class:`~savedflow.formats.tensor_bundle.BundleWriter` is the
format handler that turns tensors into bytes.

Protocol of :func:`commit_bundle` for a final prefix ``dir/ckpt-7``:

1. delete stale temporary files left in ``dir`` by *dead* processes (only names matching
   ``<anything>.sftmp-<pid>-<8 hex>.index`` / ``.data-NNNNN-of-NNNNN``; nothing else);
2. write every data file and the index under ``dir/ckpt-7.sftmp-<pid>-<hex>`` and fsync them;
3. rename the data files to their final names, then the index (the index is the bundle's
   commit marker: without it no reader considers the prefix a checkpoint), fsync ``dir``;
4. only then the caller updates the ``checkpoint`` state file (temp + fsync + rename) and
   deletes old checkpoints: :func:`move_to_trash` first renames their files (index first, so a
   half-moved checkpoint is never "complete") to ``<prefix>.sfdel-<pid>-<hex>.*`` names, then
   :func:`remove_files` unlinks them (possibly in a background thread: unlinking a large file
   is slow on some file systems). Trash of a dead process is removed like stale temporaries.

A SIGKILL at any moment therefore leaves the state file pointing at a complete checkpoint: it
names the new prefix only after step 3 finished. A failed write (disk full, permission denied)
removes its temporary files and raises a savedflow error chained to the ``OSError``; earlier
checkpoints are never touched. Overwriting an existing prefix in place (``write()`` twice to the
same path) is not atomic across its two files; managers always use fresh numbered prefixes.

For tests, ``SAVEDFLOW_CHECKPOINT_CRASH_AT=<point>`` makes the process SIGKILL itself at a named
point (``bundle_written``, ``data_renamed``, ``index_renamed``, ``state_written``,
``before_sweep``, ``sweep_index_deleted`` (index moved to the trash), ``trash_moved``,
``trash_partly_removed``).
"""

from __future__ import annotations

import errno
import glob
import os
import re
import secrets
import signal
from collections.abc import Callable, Iterable
from typing import Any

from savedflow import errors
from savedflow.checkpoint.save_util import SaveEntry
from savedflow.formats import checkpoint_state
from savedflow.formats.tensor_bundle import BundleWriter

__all__ = [
    "commit_bundle",
    "cleanup_stale_temp_files",
    "delete_checkpoint",
    "move_to_trash",
    "remove_files",
    "write_checkpoint_state",
]

TEMP_MARKER = ".sftmp-"
TRASH_MARKER = ".sfdel-"
_TEMP_RE = re.compile(
    r"^.+\.sf(?P<kind>tmp|del)-(?P<pid>\d+)-[0-9a-f]{8}"
    r"(?:\.index|\.data-\d{5}-of-\d{5}|\.data-\d{5}\.tmp-unsharded)$"
)
_STATE_TEMP_RE = re.compile(r"^.+\.tmp[0-9a-f]{32}$")
CRASH_ENV = "SAVEDFLOW_CHECKPOINT_CRASH_AT"


def crash_point(name: str) -> None:
    """Kill this process with SIGKILL if the crash-injection variable names ``name`` (tests only)."""
    if os.environ.get(CRASH_ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return False  # our own leftovers: no save of this process is in flight while we clean
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def cleanup_stale_temp_files(directory: str, state_temp_prefix: str | None = None) -> list[str]:
    """Delete temporary checkpoint files of dead processes in ``directory``; return their paths.

    Only bundle temporaries named by :func:`commit_bundle` (``*.sftmp-<pid>-<hex>.*``), trash
    named by :func:`move_to_trash` (``*.sfdel-<pid>-<hex>.*``) and, if
    ``state_temp_prefix`` is given, state-file temporaries ``<state_temp_prefix>.tmp<32 hex>``
    older than a minute are removed.
    """
    removed = []
    try:
        names = os.listdir(directory or ".")
    except OSError:
        return removed
    for name in names:
        match = _TEMP_RE.match(name)
        # Our own trash may be being unlinked by a background thread right now: leave it.
        stale = match is not None and not (
            _pid_alive(int(match.group("pid")))
            or (match.group("kind") == "del" and int(match.group("pid")) == os.getpid())
        )
        if not stale and state_temp_prefix and name.startswith(state_temp_prefix + ".tmp"):
            stale = _STATE_TEMP_RE.match(name) is not None and _older_than(
                os.path.join(directory, name), 60
            )
        if stale:
            path = os.path.join(directory, name)
            try:
                os.remove(path)
                removed.append(path)
            except OSError:
                pass
    return removed


def _older_than(path: str, seconds: float) -> bool:
    import time

    try:
        return time.time() - os.path.getmtime(path) > seconds
    except OSError:
        return False


def bundle_files(prefix: str) -> list[str]:
    """Existing files of the bundle at ``prefix``: data files (sorted) then the index."""
    data = sorted(
        glob.glob(
            glob.escape(prefix) + ".data-[0-9][0-9][0-9][0-9][0-9]-of-[0-9][0-9][0-9][0-9][0-9]"
        )
    )
    index = prefix + ".index"
    return data + ([index] if os.path.exists(index) else [])


def _remove_quietly(paths: Iterable[str]) -> None:
    for path in paths:
        try:
            os.remove(path)
        except OSError:
            pass


def wrap_os_error(error: OSError, what: str) -> errors.OpError:
    """A savedflow error for an ``OSError`` raised while ``what`` (message says where and why)."""
    message = (
        f"{what} failed: {error.strerror or error} (errno {error.errno}, path {error.filename!r})."
    )
    if error.errno == errno.ENOSPC or error.errno == errno.EDQUOT:
        return errors.ResourceExhaustedError(
            message + " The disk is full; free space and save again."
        )
    if error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return errors.PermissionDeniedError(message)
    if error.errno == errno.ENOENT:
        return errors.NotFoundError(message)
    return errors.UnknownError(message)


def write_checkpoint_state(
    directory: str, latest: str, all_paths: list[str], **fields: Any
) -> None:
    """Atomically rewrite ``directory``'s ``checkpoint`` state file; OS failures become savedflow errors.

    ``fields`` are passed on to :func:`savedflow.formats.checkpoint_state.update_checkpoint_state`.
    """
    try:
        checkpoint_state.update_checkpoint_state(directory, latest, all_paths, **fields)
    except OSError as e:
        raise wrap_os_error(e, f"Updating the checkpoint state file in {directory!r}") from e


def commit_bundle(
    prefix: str,
    entries: list[SaveEntry],
    *,
    fsync: bool = True,
    max_shard_size: int | None = None,
    writer_factory: Callable[..., BundleWriter] = BundleWriter,
) -> str:
    """Write ``entries`` as a tensor bundle at ``prefix`` atomically (see module docstring).

    Raises:
      ResourceExhaustedError / PermissionDeniedError / UnknownError: the write failed; no file
        of this save is left behind and existing checkpoints are untouched.
    """
    directory = os.path.dirname(prefix)
    temp = f"{prefix}{TEMP_MARKER}{os.getpid()}-{secrets.token_hex(4)}"
    try:
        if directory:
            os.makedirs(directory, exist_ok=True)
        cleanup_stale_temp_files(directory)
        _write_temp_bundle(temp, entries, fsync, max_shard_size, writer_factory)
        crash_point("bundle_written")
        _rename_into_place(temp, prefix, fsync)
    except BaseException as e:
        _remove_quietly(bundle_files(temp) + glob.glob(glob.escape(temp) + ".data-*"))
        if isinstance(e, OSError):
            raise wrap_os_error(e, f"Writing checkpoint {prefix!r}") from e
        raise
    return prefix


def _write_temp_bundle(
    temp: str,
    entries: list[SaveEntry],
    fsync: bool,
    max_shard_size: int | None,
    writer_factory: Callable[..., BundleWriter],
) -> None:
    writer = writer_factory(temp, max_shard_size=max_shard_size)
    try:
        for entry in entries:
            writer.add(entry.key, entry.value, dtype=entry.dtype)
        writer.finish(fsync=fsync)
    except BaseException:
        writer.abort()
        raise


def _rename_into_place(temp: str, prefix: str, fsync: bool) -> None:
    new_files = bundle_files(temp)
    new_data = [f for f in new_files if not f.endswith(".index")]
    suffixes = {f[len(temp) :] for f in new_data}
    # Data files of an older bundle at the same prefix with another shard count would linger.
    stale = [
        f
        for f in bundle_files(prefix)
        if not f.endswith(".index") and f[len(prefix) :] not in suffixes
    ]
    had_index = os.path.exists(prefix + ".index")
    moved: list[str] = []
    try:
        for path in new_data:
            os.replace(path, prefix + path[len(temp) :])
            moved.append(prefix + path[len(temp) :])
        crash_point("data_renamed")
        os.replace(temp + ".index", prefix + ".index")
    except OSError:
        if not had_index:  # a fresh prefix: no index, so these data files would be orphans
            _remove_quietly(moved)
        raise
    crash_point("index_renamed")
    _remove_quietly(stale)
    if fsync:
        checkpoint_state.fsync_directory(os.path.dirname(prefix))


def move_to_trash(prefix: str) -> tuple[list[str], int]:
    """Rename the bundle at ``prefix`` to trash names, index first; return (new paths, bytes).

    Renaming is a metadata operation, so this is fast even for huge checkpoints; the returned
    files are then unlinked by :func:`remove_files`. Missing files are skipped.
    """
    token = f"{TRASH_MARKER}{os.getpid()}-{secrets.token_hex(4)}"
    index = prefix + ".index"
    files = [index] + [f for f in bundle_files(prefix) if f != index]
    moved, size = [], 0
    for path in files:
        target = prefix + token + path[len(prefix) :]
        try:
            size += os.path.getsize(path)
            os.replace(path, target)
        except OSError:
            continue
        moved.append(target)
        if path == index:
            crash_point("sweep_index_deleted")
    crash_point("trash_moved")
    return moved, size


def remove_files(paths: Iterable[str]) -> None:
    """Unlink ``paths``, ignoring errors (files already gone, permissions)."""
    for i, path in enumerate(paths):
        if i == 1:
            crash_point("trash_partly_removed")
        _remove_quietly([path])


def delete_checkpoint(prefix: str) -> None:
    """Delete the bundle at ``prefix`` now: moved to the trash (index first), then unlinked."""
    moved, _ = move_to_trash(prefix)
    remove_files(moved)
