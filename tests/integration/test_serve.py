"""``hotline serve`` against the real Asterisk: ready only with AMI, PBX info from AMI, the
FastAGI route table answering calls, and a clean exit on SIGTERM."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.integration.pbx import PbxUnderTest

TOKEN = "test-admin-token-0123456789"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _env(pbx: PbxUnderTest, http_port: int, db: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HOTLINE_")}
    env.update(
        HOTLINE_AMI__PORT=str(pbx.ami_settings.port),
        HOTLINE_AMI__SECRET=pbx.ami_settings.secret.get_secret_value(),
        HOTLINE_AGI__PORT=str(pbx.agi_port),
        HOTLINE_HTTP__PORT=str(http_port),
        HOTLINE_DATABASE__URL=f"sqlite+aiosqlite:///{db}",
        HOTLINE_API__TOKENS=f'[{{"name": "t", "role": "admin", "token": "{TOKEN}"}}]',
        HOTLINE_LOG_FORMAT="json",
        HOTLINE_PBX__INSTANCE=pbx.settings.pbx.instance,
        HOTLINE_CONFIG_DIR=str(Path(__file__).resolve().parents[2] / "config"),
    )
    return env


def _wait_ready(
    base: str, proc: subprocess.Popen[bytes], log_path: Path, timeout: float = 20
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"hotline serve exited early:\n{log_path.read_text()}"
        try:
            if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError("hotline serve never became ready")


def test_serve_end_to_end_and_sigterm(pbx: PbxUnderTest, tmp_path: Path) -> None:
    http_port = _free_port()
    base = f"http://127.0.0.1:{http_port}"
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "hotline", "serve"],
            env=_env(pbx, http_port, tmp_path / "hotline.db"),
            cwd=tmp_path,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_ready(base, proc, log_path)
        with httpx.Client(base_url=base) as client:
            info = client.get("/api/v1/pbx", headers={"Authorization": f"Bearer {TOKEN}"})
            assert info.status_code == 200, info.text
            assert info.json()["version"].startswith("Asterisk 22.")
            assert client.get("/api/v1/pbx").status_code == 401
            config = client.get(
                "/api/v1/config/status", headers={"Authorization": f"Bearer {TOKEN}"}
            )
            assert config.status_code == 200, config.text
            assert config.json()["serving"] is True, config.json()
            assert config.json()["last_error"] is None

        # A call to a hotline is taken by the engine's FastAGI server (the IVR), not by the
        # dialplan's native-queue safety net.
        pbx.cli("channel request hangup all")
        pbx.cli("channel originate Local/95555@hotline-entry application Wait 10")
        in_ivr = re.compile(rf"95555@hotline-entry.*AGI\(agi://127\.0\.0\.1:{pbx.agi_port}/ivr")
        deadline = time.monotonic() + 8
        while time.monotonic() < deadline:
            channels = pbx.cli("core show channels")
            if in_ivr.search(channels):
                break
            time.sleep(0.1)
        else:
            raise AssertionError(f"caller never reached the IVR:\n{channels}")
        time.sleep(1.0)  # still in the IVR a second later: the session is alive
        assert in_ivr.search(pbx.cli("core show channels"))
        queue = pbx.cli("queue show hotline-fallback")
        assert "has 0 calls" in queue, queue
    finally:
        pbx.cli("channel request hangup all")
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(15)
    output = log_path.read_text()
    assert code == 0, output
    assert '"msg":"hotline stopped"' in output
    assert '"ivr_event":"CallStarted"' in output and '"ivr_did":"95555"' in output
    assert pbx.ami_settings.secret.get_secret_value() not in output
