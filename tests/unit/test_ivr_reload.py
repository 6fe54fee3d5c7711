"""Hot reload: a good change is swapped in, a bad one refused (old version keeps serving, the
error is visible with file:line:col), calls in progress keep their snapshot, each batch of
changes is one reload; and the status endpoint shows it all. The real file watcher (a burst
of writes is one batch): tests/integration/test_ivr_reload_watch.py."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from watchfiles import Change

from cti.settings import ApiSettings, ApiToken, Settings
from hotline.api.app import create_app
from hotline.api.ports import ApiServices
from ivr.actions import demo_registry
from ivr.reload import ConfigStore, is_config_change
from ivr.runner import IvrRunner
from tests.fakes.ivr import OPEN, FakeChannel, Recorder, config_store, edit, editable_test_bank
from tests.fakes.live import FakeDb, FakePbx

TOKEN = "supervisor-token-0123456789"


def version(store: ConfigStore) -> str:
    snapshot = store.current()
    assert snapshot is not None, "no configuration served"
    return snapshot.version


@pytest.fixture
def config_dir(tmp_path: Path) -> Path:
    return editable_test_bank(tmp_path)


def test_bad_change_is_refused_and_the_old_version_keeps_serving(config_dir: Path) -> None:
    store = config_store(config_dir)
    assert store.load()
    serving = store.current()
    assert serving is not None
    flow = config_dir / "ivr" / "bank.yaml"
    edit(flow, "next: lost_card_agent", "next: no_such_node")
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
    edit(flow, "next: no_such_node", "next: lost_card_agent")
    edit(flow, "en: Hello", "en: Hello again")
    assert store.load()
    current = store.current()
    assert current is not None and current is not serving
    assert current.version != serving.version
    assert store.config_status().last_error is None
    assert store.config_status().reloads == 2


def test_invalid_yaml_is_refused_with_its_position(config_dir: Path) -> None:
    store = config_store(config_dir)
    assert store.load()
    (config_dir / "queues.yaml").write_text("queues:\n  - {id: general, product: [\n")
    assert not store.load()
    error = store.config_status().last_error
    assert error is not None
    assert error.problems[0].file.endswith("queues.yaml")
    assert error.problems[0].line >= 2


def test_unchanged_files_are_not_reloaded(config_dir: Path) -> None:
    store = config_store(config_dir)
    assert store.load()
    first = store.current()
    assert store.load()
    assert store.current() is first
    assert store.config_status().reloads == 1


def test_a_broken_first_load_leaves_no_snapshot_until_fixed(config_dir: Path) -> None:
    hotlines = config_dir / "hotlines.yaml"
    good = hotlines.read_text()
    hotlines.write_text(good.replace("default_queue: general", "default_queue: nowhere"))
    store = config_store(config_dir)
    assert not store.load()
    assert store.current() is None
    assert store.config_status().version is None
    hotlines.write_text(good)
    assert store.load()
    assert store.current() is not None


async def test_call_in_progress_keeps_its_snapshot(config_dir: Path) -> None:
    store = config_store(config_dir)
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
    old_version = version(store)
    # While the caller is in the main menu, agents' queue changes for new calls.
    edit(config_dir / "ivr" / "bank.yaml", "queue: general\n", "queue: lost-card\n")
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


async def test_each_batch_of_changes_is_one_reload_and_a_bad_one_is_refused(
    config_dir: Path,
) -> None:
    store = config_store(config_dir)
    assert store.load()
    flow = config_dir / "ivr" / "bank.yaml"
    changed = {(Change.modified, str(flow))}

    async def editor() -> AsyncIterator[set[tuple[Change, str]]]:
        # The watcher asks for the next batch only once it has reloaded the last one.
        for index in range(5):  # an editor saving several times in a row: one batch
            edit(flow, f"Hello{'!' * index}", f"Hello{'!' * (index + 1)}")
        yield changed
        current = store.current()
        assert current is not None and store.config_status().reloads == 2
        assert current.config.prompts["bank.welcome"].text["en"] == "Hello!!!!!"
        edit(flow, "kind: play", "kind: dance")
        yield changed
        assert store.current() is current and store.config_status().refused == 1
        yield changed  # the same bad files again: refused again, nothing swapped
        assert store.current() is current

    await store.watch(changes=editor())
    assert store.config_status().reloads == 2


def test_only_yaml_files_outside_hidden_places_are_watched(config_dir: Path) -> None:
    assert is_config_change(Change.modified, f"{config_dir}/ivr/bank.yaml")
    assert is_config_change(Change.added, f"{config_dir}/hotlines.yml")
    assert not is_config_change(Change.modified, f"{config_dir}/ivr/bank.yaml.swp")
    assert not is_config_change(Change.modified, f"{config_dir}/ivr/.bank.yaml")
    assert not is_config_change(Change.modified, f"{config_dir}/.git/x.yaml")


def test_status_endpoint_shows_version_and_last_error(config_dir: Path) -> None:
    store = config_store(config_dir)
    assert store.load()
    api = ApiSettings(tokens=[ApiToken(name="sup", role="supervisor", token=SecretStr(TOKEN))])
    app = create_app(Settings(api=api), ApiServices(FakePbx(), FakeDb(), config_status=store))
    client = TestClient(app)
    assert client.get("/api/v1/config/status").status_code == 401
    headers = {"Authorization": f"Bearer {TOKEN}"}
    body = client.get("/api/v1/config/status", headers=headers).json()
    assert body["serving"] is True
    assert body["version"] == version(store)
    assert body["last_error"] is None
    assert "ivr/bank.yaml" in body["files"]
    edit(config_dir / "skills.yaml", "- {id: general}", "- {id: general, colour: red}")
    assert not store.load()
    body = client.get("/api/v1/config/status", headers=headers).json()
    assert body["version"] == version(store)
    problem = body["last_error"]["problems"][0]
    assert problem["file"].endswith("skills.yaml")
    assert problem["line"] == 4
    assert problem["text"].startswith(f"{problem['file']}:4:")
