"""Queue overflow to voicemail on the real Asterisk: the caller's message lands in the box the
queue names (asterisk/etc/voicemail.conf), which operations can then collect."""

from __future__ import annotations

import asyncio
import shutil

from cti.ami.client import AmiClient
from tests.integration.pbx import PbxUnderTest


async def test_overflow_to_voicemail_leaves_a_message(pbx: PbxUnderTest) -> None:
    inbox = pbx.pbx.instance_dir / "spool" / "voicemail" / "default" / "complaints" / "INBOX"
    shutil.rmtree(inbox, ignore_errors=True)
    async with AmiClient(pbx.ami_settings) as ami:
        await ami.action(
            "Originate",
            Channel="Local/voicemail@hotline-acd-overflow",
            Application="Playback",
            # The caller listens to the greeting, speaks after the beep, then hangs up.
            Data="silence/7&demo-thanks",
            Variable="__HOTLINE_OVERFLOW_TARGET=complaints",
            Async="true",
        )
        for _ in range(250):
            if list(inbox.glob("msg*.txt")):
                break
            await asyncio.sleep(0.1)
    messages = sorted(inbox.glob("msg*.txt"))
    assert messages, f"no voicemail in {inbox}"
    details = messages[0].read_text()
    assert "context=hotline-acd-overflow" in details or "origmailbox=complaints" in details
    assert list(inbox.glob("msg*.wav"))
