"""Blocking file work on recordings, run in a worker thread (``asyncio.to_thread``): hashing a
long recording would otherwise stall the event loop, and with it the AMI reader."""

from __future__ import annotations

import asyncio
import hashlib
import wave
from dataclasses import dataclass
from pathlib import Path

from recordings.ports import Clock

_CHUNK = 1 << 20


@dataclass(frozen=True, slots=True)
class FileFacts:
    size_bytes: int
    sha256: str
    duration_s: float | None  # from the WAV header; None when it cannot be read


def file_facts(path: Path) -> FileFacts:
    digest = hashlib.sha256()
    size = 0
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return FileFacts(size, digest.hexdigest(), wav_duration(path))


def wav_duration(path: Path) -> float | None:
    try:
        with wave.open(str(path), "rb") as audio:
            rate = audio.getframerate()
            return round(audio.getnframes() / rate, 3) if rate else None
    except (wave.Error, EOFError, OSError):
        return None


async def settled_size(
    path: Path, timeout_s: float, clock: Clock, step_s: float = 0.1
) -> int | None:
    """Wait until the file exists and its size stops changing (MixMonitor closes it on its own
    thread after the hang-up); None if it never appeared within ``timeout_s``."""
    deadline = clock.monotonic() + timeout_s
    last: int | None = None
    while True:
        size = size_or_none(path)
        if size is not None and size == last:
            return size
        if clock.monotonic() >= deadline:
            return size
        last = size
        await clock.sleep(step_s)


def size_or_none(path: Path) -> int | None:
    # A stat is cheap enough for the loop; hashing is not.
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return None


async def facts_off_loop(path: Path) -> FileFacts:
    return await asyncio.to_thread(file_facts, path)


def delete_file(path: Path) -> bool:
    """Remove a recording; True if it was there. Empty date/product folders stay (cheap)."""
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True
