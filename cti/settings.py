"""Hotline settings: validated once at start-up and passed in (never a module-level singleton).

Sources, highest priority first: keyword arguments, environment (``HOTLINE_*``, nested with
``__``, e.g. ``HOTLINE_AMI__PORT=5038``), a ``.env`` file, an optional YAML file named by
``HOTLINE_SETTINGS_FILE``, then the defaults below. The defaults work with the local PBX
(``hotline pbx up``) out of the box and bind everything to loopback.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

LOOPBACK = "127.0.0.1"


class AmiSettings(BaseModel):
    host: str = LOOPBACK
    port: int = Field(5038, ge=1, le=65535)
    username: str = "hotline"
    secret: SecretStr = SecretStr("")
    auth: Literal["md5", "plain"] = "md5"
    connect_timeout_s: float = Field(5.0, gt=0)
    action_timeout_s: float = Field(10.0, gt=0)
    ping_interval_s: float = Field(15.0, gt=0)
    reconnect_min_s: float = Field(0.5, gt=0)
    reconnect_max_s: float = Field(30.0, gt=0)
    max_frame_bytes: int = Field(1 << 20, ge=1024)
    # Events we never need: dropped by name before a full parse (Asterisk sends ~90 per call).
    ignore_events: list[str] = Field(
        default_factory=lambda: ["VarSet", "Newexten", "RTCPSent", "RTCPReceived"]
    )


class AgiSettings(BaseModel):
    host: str = LOOPBACK
    port: int = Field(4573, ge=0, le=65535)
    # A session that sends no command for this long is ended (a stuck handler would hold a
    # caller in silence forever).
    idle_timeout_s: float = Field(30.0, gt=0)
    env_timeout_s: float = Field(5.0, gt=0)
    shutdown_grace_s: float = Field(5.0, ge=0)


class HttpSettings(BaseModel):
    host: str = LOOPBACK
    port: int = Field(8000, ge=0, le=65535)


# qa: quality analysts (search, listen and score recordings; no call control).
Role = Literal["agent", "supervisor", "admin", "wallboard", "qa"]


class ApiToken(BaseModel):
    """A bearer token for the HTTP API; set them in the environment, e.g.
    ``HOTLINE_API__TOKENS='[{"name": "ops", "role": "admin", "token": "..."}]'``."""

    name: str = Field(min_length=1)
    role: Role
    token: SecretStr
    agent_id: str | None = None  # agents act only on themselves

    @field_validator("token")
    @classmethod
    def _long_enough(cls, value: SecretStr) -> SecretStr:
        if len(value.get_secret_value()) < 16:
            raise ValueError("API tokens must be at least 16 characters")
        return value


class ApiSettings(BaseModel):
    tokens: list[ApiToken] = Field(default_factory=list)


class DatabaseSettings(BaseModel):
    # SQLite file by default; PostgreSQL by URL, e.g. postgresql+asyncpg://user@127.0.0.1/hotline
    url: str = "sqlite+aiosqlite:///var/hotline.db"
    echo: bool = False

    @field_validator("url")
    @classmethod
    def _known_driver(cls, value: str) -> str:
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError(
                "database url must start with sqlite+aiosqlite:// or postgresql+asyncpg://"
            )
        return value


class PbxSettings(BaseModel):
    """The local Asterisk used in development and tests (``hotline pbx ...``)."""

    root: Path = Path("/var/cache/hotline/asterisk-root")
    # Several instances may share one root (the test suite runs its own on other ports).
    instance: str = Field("default", pattern=r"^[a-z0-9][a-z0-9-]{0,30}$")
    config_dir: Path = Path(__file__).resolve().parent.parent / "asterisk"
    start_timeout_s: float = Field(30.0, gt=0)


class IvrSettings(BaseModel):
    """The IVR on a real PBX: where prompts live, how actions and reloads behave."""

    # Audio built by ``hotline prompts build`` (and recorded files), on this host:
    # ``<prompts_dir>/<lang>/<audio>.wav``. ``var/`` is ignored by git.
    prompts_dir: Path = Path("var/prompts")
    # The same directory as Asterisk sees it. None: the local PBX instance's copy
    # (``/hotline/<instance>/prompts`` inside its root, synced by ``hotline pbx up``).
    asterisk_prompts_dir: str | None = None
    # espeak-ng voice per language. Debian's ``cmn`` voice reads hanzi as pinyin with the tone
    # numbers spoken in English; ``cmn-latn-pinyin`` speaks them as Mandarin.
    voices: dict[str, str] = Field(default_factory=lambda: {"zh": "cmn-latn-pinyin", "en": "en"})
    # Hot reload: changes are grouped until the directory is quiet for ``reload_step_ms``
    # (at most ``reload_debounce_ms``), so an editor's burst of writes is one reload.
    reload_debounce_ms: int = Field(1600, ge=50)
    reload_step_ms: int = Field(300, ge=10)
    # Webhook answers larger than this are refused (a caller is waiting; so is memory).
    webhook_max_bytes: int = Field(65536, ge=256)
    # Where the dialplan's ``transfer`` route dials ``Local/<destination>@<context>``.
    transfer_context: str = Field("hotline-transfer", pattern=r"^[A-Za-z0-9_-]+$")


SlFormulaName = Literal[
    "answered_within_t_over_answered", "asterisk_sl2", "removed_within_t_over_queued"
]


class MqttSettings(BaseModel):
    """Publishing live state to a broker (LED wallboards, other systems). Off when ``url`` is
    None. Topics: ``<topic_prefix>/queues/<id>/stats`` and ``<topic_prefix>/agents/<id>/state``
    (retained), ``<topic_prefix>/calls/events`` (stream), ``<topic_prefix>/status`` (retained,
    ``offline`` as the last will)."""

    url: str | None = None  # mqtt://[user:password@]host[:port]
    topic_prefix: str = Field("hotline", pattern=r"^[^#+]+$")
    client_id: str = "hotline"
    # Call events kept while the broker is away; older ones are dropped (and counted).
    # Retained states are coalesced per topic, so they need no bound of their own.
    buffer_size: int = Field(10_000, ge=1)
    reconnect_min_s: float = Field(0.5, gt=0)
    reconnect_max_s: float = Field(30.0, gt=0)
    keepalive_s: int = Field(30, ge=5)

    @field_validator("url")
    @classmethod
    def _mqtt_scheme(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("mqtt://", "tcp://")):
            raise ValueError("mqtt url must start with mqtt:// (or tcp://)")
        return value


class LiveSettings(BaseModel):
    """Live statistics, WebSocket and MQTT (issue 5)."""

    # Abandons quicker than this are reported apart and left out of service level and
    # abandon rate (a caller who hangs up in 3 s was never really waiting for an agent).
    short_abandon_s: float = Field(5.0, ge=0)
    # Defaults for queues that state no service-level target of their own.
    sl_threshold_s: float = Field(20.0, gt=0)
    sl_target: float = Field(0.8, gt=0, le=1)
    sl_formula: SlFormulaName = "answered_within_t_over_answered"
    interval_min: int = Field(15, ge=1, le=60)
    timezone: str = "UTC"  # where "today" and the 15-minute intervals begin
    pause_reasons: list[str] = Field(
        default_factory=lambda: ["break", "lunch", "training", "meeting", "coaching"]
    )
    dispositions: list[str] = Field(default_factory=list)  # empty: free text
    # IVR fields shown only masked in screen pops and call lists (publishers mask too).
    masked_fields: list[str] = Field(
        default_factory=lambda: ["card", "card_number", "account", "id_number", "pin", "cvv"]
    )
    # Messages a WebSocket client may have queued; beyond it the client is cut off.
    ws_buffer: int = Field(256, ge=4)
    # Queue statistics go out at most this often (coalesced), and every second while calls
    # wait (the longest wait grows).
    publish_interval_s: float = Field(0.2, gt=0)
    # At start-up, replay today's event log into the statistics, so a restart does not reset
    # the wallboards (off: figures count from the start of the process).
    rebuild_on_start: bool = True
    mqtt: MqttSettings = Field(default_factory=MqttSettings)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value


class EventLogSettings(BaseModel):
    """The event log writer (issue 6): batching off the hot path, and the disk spool that
    keeps every record while the database is away."""

    # A batch is written when it holds this many events or is this old, whichever first.
    batch_size: int = Field(500, ge=1)
    flush_interval_ms: int = Field(200, ge=1)
    # The writer's own bus subscription; beyond it the oldest events are dropped (counted).
    bus_buffer: int = Field(200_000, ge=100)
    # Append-only JSONL segments (fsync'd) under ``<spool_dir>/eventlog``; ``var/`` is not in git.
    spool_dir: Path = Path("var/spool")
    spool_segment_bytes: int = Field(8 << 20, ge=4096)
    # Past this the spool refuses new batches (counted as dropped, logged at error level):
    # a full disk must not take the host down with it.
    spool_max_bytes: int = Field(1 << 30, ge=1 << 16)
    # Back-off between attempts to reach the database again while batches are spooled.
    retry_min_s: float = Field(0.5, gt=0)
    retry_max_s: float = Field(15.0, gt=0)
    # Calls abandoned quicker than this get outcome ``short_abandon`` in their record.
    short_abandon_s: float = Field(5.0, ge=0)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="HOTLINE_",
        env_nested_delimiter="__",
        env_file=".env",
        extra="ignore",
    )

    ami: AmiSettings = Field(default_factory=AmiSettings)
    agi: AgiSettings = Field(default_factory=AgiSettings)
    http: HttpSettings = Field(default_factory=HttpSettings)
    api: ApiSettings = Field(default_factory=ApiSettings)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    pbx: PbxSettings = Field(default_factory=PbxSettings)
    ivr: IvrSettings = Field(default_factory=IvrSettings)
    event_log: EventLogSettings = Field(default_factory=EventLogSettings)
    live: LiveSettings = Field(default_factory=LiveSettings)
    config_dir: Path = Path("config")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    log_format: Literal["json", "text"] = "json"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings, dotenv_settings]
        yaml_file = os.environ.get("HOTLINE_SETTINGS_FILE")
        if yaml_file:
            sources.append(YamlConfigSettingsSource(settings_cls, yaml_file=yaml_file))
        return tuple(sources)


def load_settings(**overrides: Any) -> Settings:
    """Read and validate settings; raises pydantic.ValidationError with every problem listed."""
    return Settings(**overrides)
