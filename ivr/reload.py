"""Hot reload of the IVR configuration: validate, then swap one immutable snapshot.

Invariants:
- ``current()`` returns one ``ConfigSnapshot``; a new one replaces it by a single reference
  assignment (atomic under asyncio), so a reader sees the old or the new version, never a mix.
- The runner takes the snapshot once at call start: calls in progress finish on their version.
- A change that does not validate is refused: the old snapshot keeps serving; the problems (each
  ``file:line:col: message``) are logged and kept in ``status().last_error`` until a good change.
- If the very first load fails there is no snapshot: the runner sends callers to the native
  queue, and the watcher keeps trying, so fixing the files brings the IVR up.
- Bursts of writes (an editor saving, ``git checkout``) are grouped into one reload, and a reload
  whose files hash to the serving version is a no-op.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import AsyncIterable, Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from watchfiles import Change, awatch

from ivr.config import FLOWS_DIR, IvrConfig
from ivr.loader import Problem
from ivr.validate import validate_directory

log = logging.getLogger("hotline.ivr.reload")

CONFIG_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class ConfigSnapshot:
    config: IvrConfig
    version: str  # hash of the files' bytes
    loaded_at: datetime
    files: tuple[str, ...]


@dataclass(frozen=True)
class ReloadFailure:
    at: datetime
    version: str  # hash of the refused files
    problems: tuple[Problem, ...]


@dataclass(frozen=True)
class ConfigStatus:
    directory: str
    version: str | None
    loaded_at: datetime | None
    files: tuple[str, ...]
    last_error: ReloadFailure | None
    reloads: int  # snapshots swapped in since start (the first load counts)
    refused: int


def config_files(directory: Path) -> list[Path]:
    """The files a snapshot is made of (what ``ivr.config.load_config`` reads)."""
    files = [directory / name for name in ("hotlines.yaml", "queues.yaml", "skills.yaml")]
    files += sorted((directory / FLOWS_DIR).glob("*.yaml"))
    return [path for path in files if path.is_file()]


def fingerprint(directory: Path) -> tuple[str, tuple[str, ...]]:
    digest = hashlib.sha256()
    names = []
    for path in config_files(directory):
        name = path.relative_to(directory).as_posix()
        names.append(name)
        digest.update(name.encode() + b"\0")
        try:
            digest.update(path.read_bytes())
        except OSError:  # deleted between listing and reading: the next event reloads again
            digest.update(b"\0missing")
        digest.update(b"\0")
    return digest.hexdigest()[:12], tuple(names)


Validate = Callable[[Path], tuple[IvrConfig | None, list[Problem]]]
Changes = AsyncIterable[set[tuple[Change, str]]]


def is_config_change(change: Change, path: str) -> bool:
    """A YAML file of the configuration; not a hidden file or directory (editor swap files,
    ``.git``)."""
    return path.endswith(CONFIG_SUFFIXES) and "/." not in path


class ConfigStore:
    def __init__(
        self,
        directory: Path,
        *,
        action_names: Iterable[str] = (),
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.directory = directory
        self._actions = frozenset(action_names)
        self._clock = clock
        self._snapshot: ConfigSnapshot | None = None
        self._last_error: ReloadFailure | None = None
        self._reloads = 0
        self._refused = 0
        self._lock = asyncio.Lock()

    def current(self) -> ConfigSnapshot | None:
        return self._snapshot

    def config_status(self) -> ConfigStatus:
        snapshot = self._snapshot
        return ConfigStatus(
            directory=str(self.directory),
            version=snapshot.version if snapshot else None,
            loaded_at=snapshot.loaded_at if snapshot else None,
            files=snapshot.files if snapshot else (),
            last_error=self._last_error,
            reloads=self._reloads,
            refused=self._refused,
        )

    def load(self) -> bool:
        """Load and validate now (blocking); True when the serving snapshot is valid and current.

        Used once at start-up, by tests, and (in a worker thread) by ``reload``.
        """
        version, files = fingerprint(self.directory)
        serving = self._snapshot
        if serving is not None and serving.version == version:
            return True
        config, problems = validate_directory(self.directory, action_names=self._actions)
        if config is None:
            self._refuse(version, problems)
            return False
        self._snapshot = ConfigSnapshot(config, version, self._clock(), files)
        self._last_error = None
        self._reloads += 1
        log.info(
            "IVR configuration loaded",
            extra={"config_version": version, "previous_version": serving.version if serving
                   else None, "files": len(files), "directory": str(self.directory)},
        )  # fmt: skip
        return True

    def _refuse(self, version: str, problems: list[Problem]) -> None:
        if not problems:  # pragma: no cover - validate_directory always says why
            problems = [Problem(str(self.directory), 1, 1, "configuration refused")]
        self._last_error = ReloadFailure(self._clock(), version, tuple(problems))
        self._refused += 1
        serving = self._snapshot.version if self._snapshot else None
        log.error(
            "IVR configuration refused (%d problems); still serving %s:\n%s",
            len(problems),
            serving or "nothing (callers go to the native queue)",
            "\n".join(str(problem) for problem in problems[:50]),
            extra={"config_version": version, "serving_version": serving,
                   "problems": [str(problem) for problem in problems[:50]]},
        )  # fmt: skip

    async def reload(self) -> bool:
        """``load`` in a worker thread (YAML and pydantic take milliseconds, the loop must not)."""
        async with self._lock:  # one reload at a time; a later one sees the latest files
            try:
                return await asyncio.to_thread(self.load)
            except Exception:  # e.g. the directory vanished: keep serving what we have
                log.exception("IVR configuration reload failed; keeping the current version")
                return False

    async def watch(
        self,
        *,
        debounce_ms: int = 1600,
        step_ms: int = 300,
        stop_event: asyncio.Event | None = None,
        changes: Changes | None = None,
    ) -> None:
        """Reload once per batch of changes to the YAML files under the directory, until
        stopped. The batches come from watchfiles (a burst of writes within ``debounce_ms`` is
        one batch) unless ``changes`` supplies them (tests)."""
        if changes is None:
            changes = awatch(
                self.directory,
                watch_filter=is_config_change,
                debounce=debounce_ms,
                step=step_ms,
                stop_event=stop_event,
                recursive=True,
            )
        async for batch in changes:
            log.info("IVR configuration changed", extra={"changes": len(batch)})
            await self.reload()
