"""A bounded, append-only disk spool of batches: JSON lines in numbered segment files.

Invariants:
- ``append`` returns only after the line is written and fsync'd (a spooled batch survives a
  crash or power loss); the directory is fsync'd when a segment is created.
- Segments are read oldest first, lines in the order written; a segment is deleted only by
  ``remove`` (after its batches reached the database), so a crash in between replays it.
- A torn last line (crash in the middle of a write) is skipped and counted, never fatal.
- Past ``max_bytes`` ``append`` refuses (returns False): the caller counts the loss.
- Blocking calls (file IO, fsync): run them in a thread (``asyncio.to_thread``) from async
  code, as ``hotline.storage.event_log`` does.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

log = logging.getLogger(__name__)

_SEGMENT = re.compile(r"^(\d{12})\.jsonl$")


class Spool:
    def __init__(self, directory: Path, segment_bytes: int, max_bytes: int) -> None:
        self.directory = directory
        self.segment_bytes = segment_bytes
        self.max_bytes = max_bytes
        self.torn_lines = 0
        directory.mkdir(parents=True, exist_ok=True)
        self._current: BinaryIO | None = None
        self._current_path: Path | None = None
        self._current_size = 0
        existing = self.segments()
        # Never append to a segment of a previous run: its tail may be torn.
        self._next_seq = int(existing[-1].stem) + 1 if existing else 1
        self._bytes = sum(p.stat().st_size for p in existing)

    @property
    def size(self) -> int:
        return self._bytes

    def segments(self) -> list[Path]:
        """Every segment, oldest first (the one being written included)."""
        found = [p for p in self.directory.iterdir() if _SEGMENT.match(p.name)]
        return sorted(found, key=lambda p: p.name)

    def closed_segments(self) -> list[Path]:
        return [p for p in self.segments() if p != self._current_path]

    def is_empty(self) -> bool:
        return self._bytes == 0 and not self.segments()

    def append(self, line: bytes) -> bool:
        """Write one record (no newline inside) durably; False when the spool is full."""
        data = line + b"\n"
        if self._bytes + len(data) > self.max_bytes:
            return False
        if self._current is None or self._current_size + len(data) > self.segment_bytes:
            self.rotate()
            self._open_segment()
        assert self._current is not None
        self._current.write(data)
        self._current.flush()
        os.fsync(self._current.fileno())
        self._current_size += len(data)
        self._bytes += len(data)
        return True

    def _open_segment(self) -> None:
        path = self.directory / f"{self._next_seq:012d}.jsonl"
        self._next_seq += 1
        self._current = path.open("ab")
        self._current_path = path
        self._current_size = 0
        _fsync_dir(self.directory)  # the new name itself must survive a crash

    def rotate(self) -> None:
        """Close the segment being written; the next append starts a new one."""
        if self._current is not None:
            self._current.close()
        self._current = None
        self._current_path = None
        self._current_size = 0

    def read(self, segment: Path) -> Iterator[bytes]:
        """The complete records of ``segment``, in order."""
        with segment.open("rb") as handle:
            for raw in handle:
                if not raw.endswith(b"\n"):
                    # Torn tail: the writer died during this append, so it never returned
                    # True and nobody counted this batch as stored.
                    self.torn_lines += 1
                    log.warning("spool segment %s ends with a torn line; skipped", segment.name)
                    return
                if raw.strip():
                    yield raw.rstrip(b"\n")

    def remove(self, segment: Path) -> None:
        if segment == self._current_path:
            self.rotate()
        size = segment.stat().st_size
        segment.unlink()
        self._bytes = max(0, self._bytes - size)
        _fsync_dir(self.directory)

    def close(self) -> None:
        self.rotate()


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
