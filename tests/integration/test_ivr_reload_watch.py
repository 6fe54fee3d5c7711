"""Hot reload through the real file watcher (watchfiles): a burst of writes within the
debounce window is one reload, a bad write is refused. Real files and real time, so it lives
here and not with the unit tests (tests/unit/test_ivr_reload.py feeds batches instead)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.fakes.ivr import config_store, edit, editable_test_bank


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    return editable_test_bank(tmp_path)


async def test_watcher_groups_a_burst_of_writes_into_one_reload(config_dir: Path) -> None:
    store = config_store(config_dir)
    assert store.load()
    stop = asyncio.Event()
    watcher = asyncio.create_task(store.watch(debounce_ms=2000, step_ms=150, stop_event=stop))
    await asyncio.sleep(0.5)  # let the watcher start
    flow = config_dir / "ivr" / "bank.yaml"
    for index in range(5):  # an editor saving several times in a row
        edit(flow, f"Hello{'!' * index}", f"Hello{'!' * (index + 1)}")
        await asyncio.sleep(0.02)
    deadline = asyncio.get_running_loop().time() + 10
    while store.config_status().reloads < 2:
        assert asyncio.get_running_loop().time() < deadline, "no reload seen"
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.6)
    assert store.config_status().reloads == 2
    current = store.current()
    assert current is not None
    assert current.config.prompts["bank.welcome"].text["en"] == "Hello!!!!!"
    # A bad write is refused by the watcher too.
    edit(flow, "kind: play", "kind: dance")
    while store.config_status().refused < 1:
        assert asyncio.get_running_loop().time() < deadline + 10, "no refusal seen"
        await asyncio.sleep(0.05)
    assert store.current() is current
    stop.set()
    await asyncio.wait_for(watcher, 5)
