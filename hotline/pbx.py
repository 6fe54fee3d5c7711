"""The local Asterisk 22 PBX for development and tests (``hotline pbx up|down|status|cli``).

Debian 12 has no asterisk package, so Asterisk runs from a Debian sid root made once with
debootstrap (``asterisk/scripts/provision-root.sh``, cached). Each instance (``default`` for
development, ``test`` for the test suite) renders the project's ``asterisk/etc`` templates into
``ROOT/hotline/<instance>/etc`` with its own ports and secret, and keeps its run, log, spool and
database directories there too, so instances can share one root. The root shares the host's
network: AMI and FastAGI meet on 127.0.0.1.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cti.settings import AgiSettings, AmiSettings, PbxSettings, Settings

ASTERISK = "/usr/sbin/asterisk"
_PLACEHOLDER = re.compile(r"@@([A-Z_]+)@@")


class PbxError(Exception):
    exit_code = 1


class PbxNotRootError(PbxError):
    exit_code = 3


class PbxProvisionError(PbxError):
    exit_code = 4


@dataclass(frozen=True)
class PbxStatus:
    instance: str
    running: bool
    pid: int | None = None
    version: str = ""
    uptime: str = ""
    ami: str = ""

    def describe(self) -> str:
        if not self.running:
            return f"pbx {self.instance}: stopped"
        return (
            f"pbx {self.instance}: running (pid {self.pid})\n"
            f"  {self.version}\n  {self.uptime}\n  AMI {self.ami}"
        )


class LocalPbx:
    def __init__(
        self,
        pbx: PbxSettings,
        ami: AmiSettings,
        agi: AgiSettings,
        prompts_dir: Path | None = None,
    ) -> None:
        self._pbx = pbx
        self._ami = ami
        self._agi = agi
        self._prompts_dir = prompts_dir  # built prompts on the host, copied in by up()
        self.root = pbx.root
        # Paths as Asterisk sees them inside the root, and as we see them from outside.
        self.instance_path = f"/hotline/{pbx.instance}"
        self.instance_dir = self.root / "hotline" / pbx.instance
        self.conf_path = f"{self.instance_path}/etc/asterisk.conf"
        # Prompts as Asterisk sees them (the IVR plays <prompts_path>/<lang>/<audio>).
        self.prompts_path = f"{self.instance_path}/prompts"

    # -- provisioning and configuration ------------------------------------------------------

    def provision(self) -> None:
        script = self._pbx.config_dir / "scripts" / "provision-root.sh"
        if (self.root / ".hotline-provisioned").exists():
            return
        if os.geteuid() != 0:
            raise PbxNotRootError(
                "the local PBX needs root to build its Debian sid root (debootstrap, chroot)"
            )
        proc = subprocess.run(["bash", str(script), str(self.root)], check=False)
        if proc.returncode == 3:
            raise PbxNotRootError("the local PBX needs root (debootstrap, chroot)")
        if proc.returncode != 0:
            raise PbxProvisionError(
                f"could not provision the Asterisk root at {self.root} (exit {proc.returncode});"
                " are Debian's package mirrors reachable?"
            )

    def render_config(self) -> bool:
        """Write the instance's config; returns True when anything changed."""
        secret = self._ami.secret.get_secret_value()
        if not secret:
            raise PbxError("no AMI secret: set HOTLINE_AMI__SECRET in the environment or in .env")
        if re.search(r"[\s;]", secret):
            raise PbxError("the AMI secret must not contain spaces or ';'")
        values = {
            "INSTANCE_DIR": self.instance_path,
            "AMI_PORT": str(self._ami.port),
            "AMI_USER": self._ami.username,
            "AMI_SECRET": secret,
            "AGI_HOST": self._agi.host if self._agi.host not in ("0.0.0.0", "") else "127.0.0.1",
            "AGI_PORT": str(self._agi.port),
        }
        etc = self.instance_dir / "etc"
        for sub in ("etc", "run", "log", "spool", "db", "cache"):
            (self.instance_dir / sub).mkdir(parents=True, exist_ok=True)
        changed = False
        for template in sorted((self._pbx.config_dir / "etc").glob("*.conf")):
            text = template.read_text(encoding="utf-8")

            def fill(match: re.Match[str], name: str = template.name) -> str:
                key = match.group(1)
                if key not in values:
                    raise PbxError(f"{name}: unknown placeholder @@{key}@@")
                return values[key]

            rendered = _PLACEHOLDER.sub(fill, text)
            target = etc / template.name
            if not target.exists() or target.read_text(encoding="utf-8") != rendered:
                target.write_text(rendered, encoding="utf-8")
                target.chmod(0o600)
                changed = True
        return changed

    def sync_prompts(self, source: Path) -> int:
        """Mirror the built prompts into the instance (``<instance>/prompts``); returns the number
        of files copied. A copy, not a bind mount: nothing to undo, and Asterisk never sees a
        half-written file (each file is replaced atomically). Files gone from ``source`` go."""
        target = self.instance_dir / "prompts"
        target.mkdir(parents=True, exist_ok=True)
        wanted: set[Path] = set()
        copied = 0
        for path in sorted(source.rglob("*")):
            if not path.is_file() or path.name.startswith("."):
                continue
            relative = path.relative_to(source)
            wanted.add(relative)
            destination = target / relative
            stat = path.stat()
            try:
                current = destination.stat()
                if current.st_size == stat.st_size and current.st_mtime_ns == stat.st_mtime_ns:
                    continue
            except FileNotFoundError:
                pass
            destination.parent.mkdir(parents=True, exist_ok=True)
            partial = destination.with_name(f".{destination.name}.partial")
            shutil.copy2(path, partial)
            os.replace(partial, destination)
            copied += 1
        for path in sorted(target.rglob("*"), reverse=True):
            relative = path.relative_to(target)
            if path.is_file() and relative not in wanted:
                path.unlink()
            elif path.is_dir() and not any(path.iterdir()):
                path.rmdir()
        return copied

    # -- lifecycle ---------------------------------------------------------------------------

    @contextmanager
    def _exclusive(self) -> Iterator[None]:
        """One start/stop of an instance at a time, across processes (two test runs, a test
        and `hotline pbx up`): without it both start an Asterisk and one loses its sockets."""
        self.instance_dir.mkdir(parents=True, exist_ok=True)
        with (self.instance_dir.parent / f"{self._pbx.instance}.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def up(self) -> str:
        self.provision()
        with self._exclusive():
            return self._up()

    def _up(self) -> str:
        changed = self.render_config()
        if self._prompts_dir is not None and self._prompts_dir.is_dir():
            self.sync_prompts(self._prompts_dir)
        pid = self._pid()
        if pid is not None:
            if not changed and self.daemon_pids() == [pid]:
                return f"pbx {self._pbx.instance}: already running (pid {pid})"
            self._stop(pid)
        self._kill_strays()
        self._mount_proc()
        log = self.instance_dir / "log" / "startup.log"
        with log.open("ab") as out:
            proc = subprocess.run(
                ["chroot", str(self.root), ASTERISK, "-C", self.conf_path],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=out,
                check=False,
                timeout=30,
            )
        if proc.returncode != 0:
            raise PbxError(f"asterisk failed to start (exit {proc.returncode}); see {log}")
        self._wait_booted()
        return (
            f"pbx {self._pbx.instance}: running (pid {self._pid()}), "
            f"AMI 127.0.0.1:{self._ami.port}, FastAGI target {self._agi.host}:{self._agi.port}"
        )

    def down(self) -> str:
        with self._exclusive():
            pid = self._pid()
            if pid is not None:
                self._stop(pid)
            stray = self._kill_strays()
        if pid is None and not stray:
            return f"pbx {self._pbx.instance}: not running"
        return f"pbx {self._pbx.instance}: stopped"

    def restart(self) -> None:
        self.provision()
        with self._exclusive():
            pid = self._pid()
            if pid is not None:
                self._stop(pid)
            self._up()

    def status(self) -> PbxStatus:
        pid = self._pid()
        if pid is None:
            return PbxStatus(self._pbx.instance, running=False)
        return PbxStatus(
            self._pbx.instance,
            running=True,
            pid=pid,
            version=self.cli("core show version").strip(),
            uptime=self.cli("core show uptime").strip().replace("\n", "; "),
            ami=f"127.0.0.1:{self._ami.port}",
        )

    def cli(self, command: str, timeout: float = 15.0) -> str:
        if self._pid() is None:
            raise PbxError(f"pbx {self._pbx.instance} is not running: run `hotline pbx up`")
        proc = subprocess.run(
            ["chroot", str(self.root), ASTERISK, "-C", self.conf_path, "-rx", command],
            capture_output=True,
            text=True,
            check=False,
            timeout=timeout,
        )
        if proc.returncode != 0:
            raise PbxError(f"asterisk -rx {command!r} failed: {proc.stderr.strip()}")
        return proc.stdout

    # -- internals ---------------------------------------------------------------------------

    def _pid(self) -> int | None:
        pidfile = self.instance_dir / "run" / "asterisk.pid"
        try:
            pid = int(pidfile.read_text().strip())
        except (OSError, ValueError):
            return None
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            return None
        return pid if b"asterisk" in cmdline and self.conf_path.encode() in cmdline else None

    def _wait_booted(self) -> None:
        deadline = time.monotonic() + self._pbx.start_timeout_s
        last = ""
        while time.monotonic() < deadline:
            if self._pid() is not None:
                proc = subprocess.run(
                    [
                        "chroot",
                        str(self.root),
                        ASTERISK,
                        "-C",
                        self.conf_path,
                        "-rx",
                        "core waitfullybooted",
                    ],
                    capture_output=True,
                    text=True,
                    check=False,
                    timeout=self._pbx.start_timeout_s,
                )
                if proc.returncode == 0 and "fully booted" in proc.stdout:
                    return
                last = proc.stdout + proc.stderr
            time.sleep(0.1)
        raise PbxError(
            f"asterisk did not boot within {self._pbx.start_timeout_s:.0f}s: {last.strip()} "
            f"(see {self.instance_dir / 'log'})"
        )

    def _stop(self, pid: int) -> None:
        stop = subprocess.run(
            ["chroot", str(self.root), ASTERISK, "-C", self.conf_path, "-rx", "core stop now"],
            capture_output=True,
            check=False,
            timeout=15,
        )
        if stop.returncode != 0:  # no control socket: ask the process itself
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and Path(f"/proc/{pid}").exists():
            time.sleep(0.05)
        if Path(f"/proc/{pid}").exists():
            os.kill(pid, signal.SIGKILL)
            time.sleep(0.2)

    def daemon_pids(self) -> list[int]:
        """Every Asterisk daemon process of this instance, whatever its pid file says."""
        marker = self.conf_path.encode()
        pids = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                cmdline = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if cmdline[:1] == [ASTERISK.encode()] and marker in cmdline and b"-rx" not in cmdline:
                pids.append(int(entry.name))
        return pids

    def _kill_strays(self, keep: int | None = None) -> int:
        """Kill Asterisk processes of this instance other than ``keep`` (left by a crash or a
        race: a second daemon holds the AMI port or the control socket); returns how many."""
        strays = [pid for pid in self.daemon_pids() if pid != keep]
        for pid in strays:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        if strays:
            time.sleep(0.2)
        return len(strays)

    def _mount_proc(self) -> None:
        proc_dir = self.root / "proc"
        if not os.path.ismount(proc_dir):
            subprocess.run(["mount", "-t", "proc", "proc", str(proc_dir)], check=True)


def local_pbx(settings: Settings) -> LocalPbx:
    return LocalPbx(settings.pbx, settings.ami, settings.agi, settings.ivr.prompts_dir)
