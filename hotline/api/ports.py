"""What the HTTP API needs from the rest of the engine, as small interfaces (ports), and
``ApiServices``: the one object every router reaches them through.

The composition root (``hotline.service``) implements them over the AMI client, the ACD and
the database; tests implement them with plain objects. A port that is not wired (None in
``ApiServices``) makes its routes answer 503, so the API can come up before the ACD does;
every route exists whatever is wired (the OpenAPI document is the same).
Controls raise ``ControlRejected`` (the state forbids it now: 409) or ``UnknownTarget``
(no such agent, call or destination: 404); any other error is a 502 from the PBX side.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from acd.model import Agent
from cti.events import Scalar
from hotline.live.hub import LiveHub
from hotline.live.model import QueueDefinition
from hotline.reports.build import ReportRequest
from ivr.reload import ConfigStatus
from recordings.ports import RecordingStore
from recordings.scoring import ScoringForm
from recordings.service import RecordingService
from staffing.service import StaffingPlanner


@dataclass(frozen=True)
class PbxInfo:
    version: str
    ami_version: str
    startup: str  # wall-clock start of Asterisk, as Asterisk reports it
    last_reload: str
    uptime_s: int | None
    current_calls: int | None


class PbxPort(Protocol):
    @property
    def connected(self) -> bool: ...

    async def pbx_info(self) -> PbxInfo: ...


class DatabasePort(Protocol):
    async def ping(self) -> bool: ...


class ControlError(Exception):
    """Base of what a control port may raise on purpose."""


class ControlRejected(ControlError):
    """Not now: e.g. pausing an agent on a call, holding a call that is not connected."""


class UnknownTarget(ControlError):
    """No such agent, call, queue or number."""


class InvalidAgentSettings(ControlError):
    """An edit the ACD would refuse: e.g. a skill that is not in ``config/skills.yaml`` (422)."""


class AgentAdmin(Protocol):
    """Admins' edits of the agents' stored settings (``hotline.agent_admin``). Returns the
    agent as stored; raises ``UnknownTarget`` or ``InvalidAgentSettings``. Skills and device
    apply at the agent's next login; wrap-up and no-answer limit at its next call."""

    async def set_skills(self, agent_id: str, skills: Mapping[str, int], by: str) -> Agent: ...

    async def update(self, agent_id: str, changes: Mapping[str, object], by: str) -> Agent: ...


class AgentControl(Protocol):
    """The ACD's agent requests (``acd.service.AcdService`` behind an adapter)."""

    async def login(self, agent_id: str, device: str | None) -> None: ...

    async def logout(self, agent_id: str) -> None: ...

    async def pause(self, agent_id: str, reason: str) -> None: ...

    async def unpause(self, agent_id: str) -> None: ...

    async def set_disposition(
        self, agent_id: str, call_id: str, disposition: str, note: str
    ) -> None: ...


TransferKind = Literal["agent", "queue", "number"]


class CallControl(Protocol):
    """Actions on a connected call, by Hotline call id (AMI on the caller's channel)."""

    async def hangup(self, call_id: str) -> None: ...

    async def hold(self, call_id: str) -> None: ...

    async def unhold(self, call_id: str) -> None: ...

    async def transfer(
        self, call_id: str, kind: TransferKind, target: str, *, attended: bool
    ) -> None: ...

    async def complete_transfer(self, call_id: str) -> None:
        """Hand the held caller to whom the agent consulted (attended transfer)."""

    async def cancel_transfer(self, call_id: str) -> None:
        """Drop the consultation and take the caller off hold."""


SpyMode = Literal["listen", "whisper", "barge"]


class SupervisorControl(Protocol):
    """ChanSpy on an agent's channel, rung on the supervisor's device (AMI Originate):
    listen ``ChanSpy(chan,qE)``, whisper ``…,qEw``, barge ``…,qEB``."""

    async def spy(self, agent_id: str, supervisor_device: str, mode: SpyMode) -> None: ...


class RoutingTraces(Protocol):
    """The ACD's routing decisions for a call, oldest first (None: no such call)."""

    def routing_trace(self, call_id: str) -> Sequence[Mapping[str, Scalar]] | None: ...


class AcdDirectory(Protocol):
    """What is configured, whether or not anything happened yet."""

    def queue_definitions(self) -> Sequence[QueueDefinition]: ...

    def agent_ids(self) -> Sequence[str]: ...


class MqttStatus(Protocol):
    @property
    def connected(self) -> bool: ...

    @property
    def dropped(self) -> int: ...

    @property
    def buffered(self) -> int: ...


class Reports(Protocol):
    """Queue and agent reports over the stored calls (``hotline.reports``): plain dicts with
    the rows under ``"rows"``, ready for JSON and CSV."""

    async def queue_report(self, req: ReportRequest) -> dict[str, Any]: ...

    async def agent_report(self, req: ReportRequest) -> dict[str, Any]: ...


class ConfigStatusPort(Protocol):
    """Which IVR configuration serves calls, and why a change was refused (``ConfigStore``)."""

    def config_status(self) -> ConfigStatus: ...


@dataclass(frozen=True)
class RecordingsApi:
    """What the recordings routes use: mute controls and file paths, the metadata store, and
    the QA scoring forms by id."""

    service: RecordingService
    store: RecordingStore
    forms: Mapping[str, ScoringForm]


@dataclass(frozen=True)
class ApiServices:
    """Everything the routers reach, typed; ``create_app`` is given one."""

    pbx: PbxPort
    database: DatabasePort
    live: LiveHub | None = None
    directory: AcdDirectory | None = None
    agents: AgentControl | None = None
    agent_admin: AgentAdmin | None = None
    calls: CallControl | None = None
    supervisor: SupervisorControl | None = None
    traces: RoutingTraces | None = None
    mqtt: MqttStatus | None = None
    reports: Reports | None = None
    staffing: StaffingPlanner | None = None
    recordings: RecordingsApi | None = None
    config_status: ConfigStatusPort | None = None
