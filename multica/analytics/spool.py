"""The analytics spool (D17): segment files that hold events PostHog has not acknowledged yet.

A segment is a file of serialised events, one JSON object a line, exactly as they went (or would
have gone) into a `/batch/` request — uuid and timestamp included, so a replay is the same event.
Every write is one batch followed by an fsync. Each process appends to one *active* segment that
it holds under an exclusive `flock`, and rotates it at `segment_bytes`; a segment nobody holds is
*sealed* and may be replayed by any process sharing the directory. A replayer holds the segment's
lock while it sends it, records its progress in a `.ack` sidecar after every acknowledged batch
(so a crash mid-replay resends at most one batch), and deletes the segment only when all of it
was acknowledged. When the directory would grow past `max_bytes`, the oldest segments nobody holds
are deleted and their events counted as dropped.

Only the client's background threads call into this module: a request's thread never touches
the disk.
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from pathlib import Path

SEGMENT_SUFFIX = ".seg"
ACK_SUFFIX = ".ack"
DEFAULT_MAX_MB = 256
DEFAULT_SEGMENT_BYTES = 4 * 1024 * 1024
# How long the cached size of the directory (other processes write to it too) is trusted.
_RESCAN_SECONDS = 1.0


class SpoolFull(OSError):
    """The batch does not fit: the spool is at its bound and nothing can be deleted."""


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _lock(path: Path) -> int | None:
    """An fd of `path` under an exclusive non-blocking flock, or None when it is held or gone.

    The inode check catches a segment that another process deleted between our `open` and our
    lock: without it we would hold a lock on a file that no longer has a name, and replay it again.
    """
    try:
        fd = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        held, named = os.fstat(fd), os.stat(path)
        if (held.st_ino, held.st_dev) != (named.st_ino, named.st_dev):
            raise FileNotFoundError(path)
    except (BlockingIOError, FileNotFoundError):
        os.close(fd)
        return None
    except BaseException:
        os.close(fd)
        raise
    return fd


def _ack_path(path: Path) -> Path:
    return path.with_suffix(ACK_SUFFIX)


def _read_ack(path: Path) -> int:
    try:
        return max(0, int(_ack_path(path).read_bytes().strip() or 0))
    except (FileNotFoundError, ValueError):
        return 0


class Segment:
    """A sealed segment held for replay: hands out batches of lines and records what was acknowledged."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd = fd
        self._ack_fd: int | None = None
        self.offset = _read_ack(path)
        size = os.fstat(fd).st_size
        data = os.pread(fd, max(0, size - self.offset), self.offset) if size > self.offset else b""
        # A process killed in the middle of a write leaves a torn last line: it was never counted
        # as spooled, so it is skipped rather than sent as broken JSON.
        self._data = data[: data.rfind(b"\n") + 1]
        self._pos = 0
        self._next = 0

    def next_batch(self, size: int, max_bytes: int = 1024 * 1024) -> list[bytes]:
        """Up to `size` events (and about `max_bytes`) after the acknowledged ones; the same batch
        again until `ack()`."""
        data, pos, lines, stop = self._data, self._pos, [], self._pos + max_bytes
        while len(lines) < size and pos < len(data) and (pos < stop or not lines):
            end = data.index(b"\n", pos)
            if end > pos:
                lines.append(data[pos:end])
            pos = end + 1
        self._next = pos
        return lines

    def ack(self) -> None:
        """The batch last handed out was acknowledged: never send it again, even after a crash."""
        self._pos = self._next
        if self._ack_fd is None:
            self._ack_fd = os.open(_ack_path(self.path), os.O_RDWR | os.O_CREAT, 0o600)
        # A fixed width, so the offset is rewritten in place. No fsync: the page cache survives a
        # killed process, and losing it to a power cut costs a resend PostHog de-duplicates.
        os.pwrite(self._ack_fd, b"%020d\n" % (self.offset + self._pos), 0)

    @property
    def done(self) -> bool:
        """Every event of the segment was acknowledged."""
        return self._pos >= len(self._data)

    def count_pending(self) -> int:
        """Events not acknowledged yet."""
        return sum(1 for line in self._data[self._pos:].split(b"\n") if line)

    def delete(self) -> None:
        """Remove the segment (then its progress file) and release it."""
        try:
            self.path.unlink(missing_ok=True)
            _ack_path(self.path).unlink(missing_ok=True)
        finally:
            self.release()

    def release(self) -> None:
        """Let go of the segment without deleting it (another replay will resume after the acks)."""
        for fd in (self._ack_fd, self._fd):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self._ack_fd = None
        self._fd = -1


class Spool:
    """One spool directory, as seen by one process (its writer thread and its replaying worker)."""

    def __init__(self, directory: str | os.PathLike, max_bytes: int, *, segment_bytes: int = DEFAULT_SEGMENT_BYTES) -> None:
        self.directory = Path(directory)
        self.max_bytes = max(1, int(max_bytes))
        # Segments of at most a quarter of the bound, so dropping the oldest frees a useful share.
        self.segment_bytes = max(4096, min(segment_bytes, self.max_bytes // 4))
        self._lock = threading.Lock()
        self._reset()

    def _reset(self) -> None:
        self._active_fd: int | None = None
        self._active_path: Path | None = None
        self._active_size = 0
        self._seq = 0
        self._total = 0
        self._scanned_at = float("-inf")

    def after_fork(self) -> None:
        """In a forked child: forget the parent's active segment (the parent keeps writing it)."""
        self._lock = threading.Lock()
        if self._active_fd is not None:
            try:
                os.close(self._active_fd)  # the parent's descriptor keeps the lock
            except OSError:
                pass
        self._reset()

    # -- listing -------------------------------------------------------------------------------

    def segments(self) -> list[Path]:
        """Every segment in the directory, oldest first (names start with the creation time)."""
        try:
            names = sorted(e.name for e in os.scandir(self.directory) if e.name.endswith(SEGMENT_SUFFIX))
        except (FileNotFoundError, NotADirectoryError, PermissionError):
            return []
        return [self.directory / name for name in names]

    def size(self, *, fresh: bool = False) -> int:
        """Bytes held in the directory's segments (all processes), rescanned at most once a second."""
        now = time.monotonic()
        if fresh or now - self._scanned_at >= _RESCAN_SECONDS:
            total = 0
            try:
                with os.scandir(self.directory) as entries:
                    for entry in entries:
                        if entry.name.endswith(SEGMENT_SUFFIX):
                            try:
                                total += entry.stat().st_size
                            except FileNotFoundError:
                                pass
            except (FileNotFoundError, NotADirectoryError, PermissionError):
                total = 0
            self._total, self._scanned_at = total, now
        return self._total

    # -- writing (the client's spool thread) ---------------------------------------------------

    def append(self, records: list[bytes]) -> int:
        """Write `records` durably (one write, one fsync); returns how many old events were dropped.

        Raises OSError (SpoolFull among them) when the records could not be written; nothing of
        them is left behind in that case.
        """
        data = b"\n".join(records) + b"\n"
        with self._lock:
            dropped = self._make_room(len(data))
            fd = self._writable(len(data))
            start = self._active_size
            try:
                _write_all(fd, data)
                os.fsync(fd)
            except OSError:
                try:
                    os.ftruncate(fd, start)
                    if not start:
                        # A segment created for this write: on a full disk every refused write
                        # would otherwise leave one more empty file behind.
                        self._active_path.unlink()
                except OSError:
                    pass
                self._seal_locked()
                raise
            self._active_size += len(data)
            self._total += len(data)
        return dropped

    def _writable(self, incoming: int) -> int:
        if self._active_fd is not None and self._active_size and self._active_size + incoming > self.segment_bytes:
            self._seal_locked()
        if self._active_fd is None:
            self.directory.mkdir(parents=True, exist_ok=True)
            self._seq += 1
            name = f"{time.time_ns():020d}-{os.getpid()}-{self._seq:06d}"
            # Created under a name nobody lists, locked, then renamed: a replayer in another process
            # can never grab an empty segment that is about to be written.
            tmp = self.directory / (name + ".tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                path = self.directory / (name + SEGMENT_SUFFIX)
                os.rename(tmp, path)
            except BaseException:
                os.close(fd)
                tmp.unlink(missing_ok=True)
                raise
            self._active_fd, self._active_path, self._active_size = fd, path, 0
        return self._active_fd

    def _make_room(self, incoming: int) -> int:
        if incoming > self.max_bytes:
            raise SpoolFull("batch larger than the spool")
        if self._total + incoming <= self.max_bytes and self.size() + incoming <= self.max_bytes:
            return 0
        dropped = 0
        total = self.size(fresh=True)
        for path in self.segments():
            if total + incoming <= self.max_bytes:
                break
            if path == self._active_path:
                self._seal_locked()
            fd = _lock(path)
            if fd is None:
                continue  # being written or replayed by another process
            segment = Segment(path, fd)
            freed = os.fstat(fd).st_size
            dropped += segment.count_pending()
            segment.delete()
            total -= freed
        self._total = max(0, total)
        if total + incoming > self.max_bytes:
            raise SpoolFull("spool is full")
        return dropped

    def seal(self) -> bool:
        """Close the active segment so that it can be replayed; False when there was none."""
        with self._lock:
            if self._active_fd is None or not self._active_size:
                return False
            self._seal_locked()
            return True

    def has_active(self) -> bool:
        """This process holds a non-empty active segment."""
        return self._active_fd is not None and self._active_size > 0

    def _seal_locked(self) -> None:
        if self._active_fd is not None:
            try:
                os.close(self._active_fd)  # releases the flock
            except OSError:
                pass
        self._active_fd, self._active_path, self._active_size = None, None, 0

    def close(self) -> None:
        """Seal the active segment (the process is going away)."""
        with self._lock:
            self._seal_locked()

    def sweep(self, *, tmp_age: float = 3600.0) -> None:
        """Delete leftovers of killed processes: progress files whose segment is gone, and
        half-created segments (`.tmp`) older than `tmp_age` seconds."""
        try:
            entries = list(os.scandir(self.directory))
        except (FileNotFoundError, NotADirectoryError, PermissionError):
            return
        names = {e.name for e in entries}
        now = time.time()
        for entry in entries:
            try:
                if entry.name.endswith(ACK_SUFFIX) and entry.name[: -len(ACK_SUFFIX)] + SEGMENT_SUFFIX not in names:
                    os.unlink(entry.path)
                elif entry.name.endswith(".tmp") and now - entry.stat().st_mtime > tmp_age:
                    os.unlink(entry.path)
            except OSError:
                pass

    # -- replaying (the client's worker) -------------------------------------------------------

    def claim(self) -> Segment | None:
        """The oldest sealed segment that no other replayer holds, locked for this one; or None."""
        active = self._active_path
        for path in self.segments():
            if path == active:
                continue
            fd = _lock(path)
            if fd is not None:
                return Segment(path, fd)
        return None
