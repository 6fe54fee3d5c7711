"""The FastAGI route table: script name (the path in ``agi://host:port/<script>``) → handler.

Explicit, built in one place; the dialplan's ``hotline-entry`` context calls ``ivr``. The IVR
parts (configuration store with hot reload, runner) are built here from settings; the
composition root runs ``IvrParts.store.watch`` and serves ``IvrParts.store`` at
``GET /api/v1/config/status``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from cti.agi.server import Handler
from cti.settings import Settings
from hotline.ivr.webhook import WebhookCaller
from hotline.pbx import local_pbx
from ivr.actions import ActionRegistry, demo_registry
from ivr.ports import EventSink, RecordingControl
from ivr.reload import ConfigStore
from ivr.runner import IvrRunner, log_event

log = logging.getLogger("hotline.routes")

# Actions must answer before the AGI idle watchdog ends the session.
_ACTION_WATCHDOG_MARGIN_S = 2.0


@dataclass
class IvrParts:
    store: ConfigStore
    runner: IvrRunner
    webhooks: WebhookCaller
    routes: dict[str, Handler]


def asterisk_prompts_dir(settings: Settings) -> str:
    """Where Asterisk finds the prompts: the setting, or the local PBX instance's copy."""
    if settings.ivr.asterisk_prompts_dir:
        return settings.ivr.asterisk_prompts_dir
    return local_pbx(settings).prompts_path


def build_ivr(
    settings: Settings,
    *,
    registry: ActionRegistry | None = None,
    events: EventSink = log_event,
    recording: RecordingControl | None = None,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    store: ConfigStore | None = None,
) -> IvrParts:
    """Load the configuration now (a broken one is logged and refused: callers then reach the
    native queue until it is fixed) and build the runner over it."""
    registry = registry if registry is not None else demo_registry()
    if store is None:
        store = ConfigStore(settings.config_dir, action_names=registry.names())
        store.load()
    webhooks = WebhookCaller(max_bytes=settings.ivr.webhook_max_bytes)
    runner = IvrRunner(
        store.current,
        registry,
        prompts_dir=asterisk_prompts_dir(settings),
        events=events,
        recording=recording,
        webhooks=webhooks,
        clock=clock,
        transfer_context=settings.ivr.transfer_context,
        max_action_s=max(settings.agi.idle_timeout_s - _ACTION_WATCHDOG_MARGIN_S, 0.5),
    )
    return IvrParts(store, runner, webhooks, {"ivr": runner})


def build_routes(settings: Settings) -> dict[str, Handler]:
    """The route table with the IVR over ``settings.config_dir`` (no hot reload: use
    ``build_ivr`` and run ``store.watch`` for that)."""
    return build_ivr(settings).routes
