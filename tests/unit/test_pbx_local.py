"""The local PBX's provisioning and configuration, without starting Asterisk."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cti.settings import load_settings
from hotline.cli import app
from hotline.pbx import LocalPbx, PbxError, PbxNotRootError, PbxProvisionError, local_pbx

REPO = Path(__file__).resolve().parents[2]


def _pbx(root: Path, secret: str = "s3cret-s3cret", **pbx: object) -> LocalPbx:
    return local_pbx(
        load_settings(
            ami={"secret": secret, "port": 25038},
            agi={"port": 24573},
            pbx={"root": root, "instance": "unit", **pbx},
        )
    )


def test_renders_secret_ports_and_loopback(tmp_path: Path) -> None:
    pbx = _pbx(tmp_path)
    assert pbx.render_config() is True
    etc = tmp_path / "hotline" / "unit" / "etc"
    manager = (etc / "manager.conf").read_text()
    assert "port = 25038" in manager
    assert "bindaddr = 127.0.0.1" in manager
    assert "secret = s3cret-s3cret" in manager
    assert oct((etc / "manager.conf").stat().st_mode & 0o777) == "0o600"
    assert "agi://127.0.0.1:24573" in (etc / "extensions.conf").read_text()
    assert "@@" not in "".join(p.read_text() for p in etc.glob("*.conf"))
    assert "astetcdir => /hotline/unit/etc" in (etc / "asterisk.conf").read_text()
    assert pbx.render_config() is False  # unchanged: no restart needed


@pytest.mark.parametrize(("secret", "message"), [("", "no AMI secret"), ("a b;c", "must not")])
def test_bad_secrets_are_refused(tmp_path: Path, secret: str, message: str) -> None:
    with pytest.raises(PbxError, match=message):
        _pbx(tmp_path, secret=secret).render_config()


def test_unknown_placeholder_is_an_error(tmp_path: Path) -> None:
    templates = tmp_path / "tpl"
    (templates / "etc").mkdir(parents=True)
    (templates / "etc" / "x.conf").write_text("port = @@NO_SUCH@@\n")
    with pytest.raises(PbxError, match="unknown placeholder @@NO_SUCH@@"):
        _pbx(tmp_path / "root", config_dir=templates).render_config()


def test_provision_needs_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(PbxNotRootError) as caught:
        _pbx(tmp_path / "root").provision()
    assert caught.value.exit_code == 3


def test_provision_reports_unreachable_mirror(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if os.geteuid() != 0:
        pytest.fail("the test suite runs as root (it provisions the PBX)")
    monkeypatch.setenv("HOTLINE_DEBIAN_MIRROR", "http://127.0.0.1:9/debian")
    with pytest.raises(PbxProvisionError) as caught:
        _pbx(tmp_path / "root").provision()
    assert caught.value.exit_code == 4
    assert "package mirrors" in str(caught.value)
    assert not (tmp_path / "root").exists()  # nothing half-built is taken for a root


def test_cli_on_a_stopped_instance_says_how_to_start(tmp_path: Path) -> None:
    env = {"HOTLINE_PBX__ROOT": str(tmp_path), "HOTLINE_PBX__INSTANCE": "stopped"}
    result = CliRunner().invoke(app, ["pbx", "cli", "core show uptime"], env=env)
    assert result.exit_code == 1
    assert "hotline pbx up" in result.output
    status = CliRunner().invoke(app, ["pbx", "status"], env=env)
    assert status.exit_code == 1
    assert "stopped" in status.output
