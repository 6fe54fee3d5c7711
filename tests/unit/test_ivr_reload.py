"""Hot reload: a good change is swapped in, a bad one refused (old version keeps serving, the
error is visible with file:line:col), calls in progress keep their snapshot, bursts are one
reload; and the status endpoint shows it all."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from cti.settings import ApiSettings, ApiToken
from hotline.api.config_status import config_status_router
from ivr.actions import demo_registry
from ivr.reload import ConfigStore
from ivr.runner import IvrRunner
from tests.fakes.ivr import OPEN, FakeChannel, Recorder

FIXTURE = Path(__file__).parent.parent / "fixtures" / "ivr" / "e2e"
TOKEN = "supervisor-token-0123456789"


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    target = tmp_path / "config"
    shutil.copytree(FIXTURE, target)
    return target


def _store(directory: Path) -> ConfigStore:
    return ConfigStore(directory, action_names=demo_registry().names())


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_bad_change_is_refused_and_the_old_version_keeps_serving(config_dir: Path) -> None:
    store = _store(config_dir)
    assert store.load()
    serving = store.current()
    assert serving is not None
    flow = config_dir / "ivr" / "bank.yaml"
    _edit(flow, "next: lost_card_agent", "next: no_such_node")
    assert not store.load()
    assert store.current() is serving
    status = store.config_status()
    assert status.version == serving.version
    assert status.last_error is not None and status.refused == 1
    problem = status.last_error.problems[0]
    assert problem.file == str(flow)
    assert problem.message == "unknown node 'no_such_node'"
    line = flow.read_text().splitlines()[problem.line - 1]
    assert "no_such_node" in line and problem.col > 1
    # Fixing it swaps the new version in and clears the error.
    _edit(flow, "next: no_such_node", "next: lost_card_agent")
    _edit(flow, "en: Hello", "en: Hello again")
    assert store.load()
    current = store.current()
    assert current is not None and current is not serving
    assert current.version != serving.version
    assert store.config_status().last_error is None
    assert store.config_status().reloads == 2


def test_invalid_yaml_is_refused_with_its_position(config_dir: Path) -> None:
    store = _store(config_dir)
    assert store.load()
    (config_dir / "queues.yaml").write_text("queues:\n  - {id: general, product: [\n")
    assert not store.load()
    error = store.config_status().last_error
    assert error is not None
    assert error.problems[0].file.endswith("queues.yaml")
    assert error.problems[0].line >= 2


def test_unchanged_files_are_not_reloaded(config_dir: Path) -> None:
    store = _store(config_dir)
    assert store.load()
    first = store.current()
    assert store.load()
    assert store.current() is first
    assert store.config_status().reloads == 1


def test_a_broken_first_load_leaves_no_snapshot_until_fixed(config_dir: Path) -> None:
    hotlines = config_dir / "hotlines.yaml"
    good = hotlines.read_text()
    hotlines.write_text(good.replace("default_queue: general", "default_queue: nowhere"))
    store = _store(config_dir)
    assert not store.load()
    assert store.current() is None
    assert store.config_status().version is None
    hotlines.write_text(good)
    assert store.load()
    assert store.current() is not None


async def test_call_in_progress_keeps_its_snapshot(config_dir: Path) -> None:
    store = _store(config_dir)
    assert store.load()
    reloaded = asyncio.Event()
    proceed = asyncio.Event()

    class SlowChannel(FakeChannel):
        async def get_data(
            self, file: str, timeout_ms: int | None = None, max_digits: int | None = None
        ) -> tuple[str, bool]:
            if file.endswith("bank-main"):
                reloaded.set()
                await proceed.wait()
            return await super().get_data(file, timeout_ms, max_digits)

    channel = SlowChannel(keys=["2", "0"])
    runner = IvrRunner(store.current, demo_registry(), prompts_dir="/p", events=Recorder(),
                       clock=lambda: OPEN)  # fmt: skip
    call = asyncio.create_task(runner(channel))
    await reloaded.wait()
    old_version = store.current().version  # type: ignore[union-attr]
    # While the caller is in the main menu, agents' queue changes for new calls.
    _edit(config_dir / "ivr" / "bank.yaml", "queue: general\n", "queue: lost-card\n")
    assert await store.reload()
    assert store.current().version != old_version  # type: ignore[union-attr]
    proceed.set()
    await call
    assert channel.variables["HOTLINE_QUEUE"] == "general"
    assert channel.variables["HOTLINE_IVR_VERSION"] == old_version
    # A new call uses the new version.
    new_call = FakeChannel(keys=["2", "0"])
    await runner(new_call)
    assert new_call.variables["HOTLINE_QUEUE"] == "lost-card"


async def test_watcher_groups_a_burst_of_writes_into_one_reload(config_dir: Path) -> None:
    store = _store(config_dir)
    assert store.load()
    stop = asyncio.Event()
    watcher = asyncio.create_task(store.watch(debounce_ms=2000, step_ms=150, stop_event=stop))
    await asyncio.sleep(0.5)  # let the watcher start
    flow = config_dir / "ivr" / "bank.yaml"
    for index in range(5):  # an editor saving several times in a row
        _edit(flow, f"Hello{'!' * index}", f"Hello{'!' * (index + 1)}")
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
    _edit(flow, "kind: play", "kind: dance")
    while store.config_status().refused < 1:
        assert asyncio.get_running_loop().time() < deadline + 10, "no refusal seen"
        await asyncio.sleep(0.05)
    assert store.current() is current
    stop.set()
    await asyncio.wait_for(watcher, 5)


def test_status_endpoint_shows_version_and_last_error(config_dir: Path) -> None:
    store = _store(config_dir)
    assert store.load()
    app = FastAPI()
    app.state.api_settings = ApiSettings(
        tokens=[ApiToken(name="sup", role="supervisor", token=TOKEN)]  # type: ignore[arg-type]
    )
    app.include_router(config_status_router(store))
    client = TestClient(app)
    assert client.get("/api/v1/config/status").status_code == 401
    headers = {"Authorization": f"Bearer {TOKEN}"}
    body = client.get("/api/v1/config/status", headers=headers).json()
    assert body["serving"] is True
    assert body["version"] == store.current().version  # type: ignore[union-attr]
    assert body["last_error"] is None
    assert "ivr/bank.yaml" in body["files"]
    _edit(config_dir / "skills.yaml", "- {id: general}", "- {id: general, colour: red}")
    assert not store.load()
    body = client.get("/api/v1/config/status", headers=headers).json()
    assert body["version"] == store.current().version  # type: ignore[union-attr]
    problem = body["last_error"]["problems"][0]
    assert problem["file"].endswith("skills.yaml")
    assert problem["line"] == 4
    assert problem["text"].startswith(f"{problem['file']}:4:")
