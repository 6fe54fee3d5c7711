"""The local PBX itself: provisioned, configured from asterisk/, lean and loopback-only."""

from __future__ import annotations

import re
import subprocess
import time

from hotline.pbx import ASTERISK
from tests.integration.pbx import TEST_AMI_PORT, PbxUnderTest


def test_runs_asterisk_22(pbx: PbxUnderTest) -> None:
    status = pbx.pbx.status()
    assert status.running
    assert "Asterisk 22." in status.version


def test_ami_bound_to_loopback_on_instance_port(pbx: PbxUnderTest) -> None:
    out = pbx.cli("manager show settings")
    assert re.search(rf"TCP Bindaddress:\s+127\.0\.0\.1:{TEST_AMI_PORT}\b", out), out
    assert re.search(r"Manager \(AMI\):\s+Yes", out), out
    assert re.search(r"Web Manager \(AMI/HTTP\):\s+No", out), out


def test_hotline_dialplan_loaded(pbx: PbxUnderTest) -> None:
    out = pbx.cli("dialplan show hotline-entry")
    assert f"agi://127.0.0.1:{pbx.agi_port}" in pbx.cli("dialplan show globals")
    assert "AGI(${HOTLINE_AGI}/ivr?did=${EXTEN})" in out
    assert "hotline-fallback" in pbx.cli("queue show hotline-fallback")


def test_lean_modules_no_sip(pbx: PbxUnderTest) -> None:
    out = pbx.cli("module show like pjsip")
    assert "0 modules loaded" in out


def test_up_is_idempotent(pbx: PbxUnderTest) -> None:
    pid = pbx.pbx.status().pid
    assert "already running" in pbx.pbx.up()
    assert pbx.pbx.status().pid == pid


def test_cli_reports_unknown_command(pbx: PbxUnderTest) -> None:
    out = pbx.cli("no such command at all")
    assert "No such command" in out


def test_up_replaces_a_second_daemon_of_the_same_instance(pbx: PbxUnderTest) -> None:
    # Two racing starts (or a crash) can leave a second Asterisk holding the AMI port while
    # the pid file names the other: `up` must notice and come back with exactly one.
    local = pbx.pbx
    (local.instance_dir / "run" / "asterisk.ctl").unlink()  # as if the first had not bound it yet
    subprocess.run(
        ["chroot", str(local.root), ASTERISK, "-C", local.conf_path],
        check=True,
        capture_output=True,
    )
    deadline = time.monotonic() + 5
    while len(local.daemon_pids()) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(local.daemon_pids()) == 2
    local.up()
    assert local.daemon_pids() == [local.status().pid]
    assert "Asterisk 22." in local.status().version
