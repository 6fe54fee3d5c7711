"""What live state looks like from outside: frozen views built by ``LiveStats`` and sent as they
are over REST, WebSocket and MQTT (``dataclasses.asdict`` is JSON-safe: strings, numbers,
lists and dicts only; times are ISO 8601 strings)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class QueueDefinition:
    """A queue as the ACD configures it (``acd.model.Queue`` in the composition root)."""

    id: str
    name: str = ""
    product: str = ""
    sl_target: float | None = None  # 0..1; None: LiveSettings.sl_target
    sl_threshold_s: float | None = None  # None: LiveSettings.sl_threshold_s


@dataclass(frozen=True, slots=True)
class PeriodStats:
    """Counts and ratios since ``start`` (the current 15-minute interval, or today).

    ``offered`` counts calls that entered the queue; ``abandoned`` leaves out the short abandons
    (counted apart in ``short_abandoned``); ratios are None until there is something to divide.
    """

    start: str
    offered: int
    answered: int
    answered_within_t: int
    abandoned: int
    abandoned_within_t: int
    short_abandoned: int
    overflowed: int
    service_level: float | None
    asa_s: float | None  # average speed of answer: mean wait of answered calls
    aht_s: float | None  # average handle time: (talk + hold + wrap-up) ÷ completed calls
    abandon_rate: float | None  # abandoned_over_queued: abandoned ÷ (offered − short abandons)
    occupancy: float | None  # (on call + wrap-up) ÷ staffed time of the queue's agents


@dataclass(frozen=True, slots=True)
class AgentCounts:
    logged_in: int
    available: int
    ringing: int
    on_call: int
    wrap_up: int
    paused: int
    paused_by_reason: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class StaffingNow:
    """Agents needed in the next ``horizon_s`` at the recent pace (``hotline.live.staffing_now``)
    against the agents logged in. ``needed`` is None while the handle time is unknown."""

    window_s: float  # the pace is measured over this much of the recent past
    horizon_s: float
    offered: int  # calls that entered the queue within the window
    calls_per_hour: float
    aht_s: float | None  # recent (talk + hold + wrap-up) per completed call; else today's
    traffic: float | None  # Erlang: λ·AHT
    needed: int | None  # Erlang C, against the queue's service-level target
    logged_in: int
    shortfall: int | None  # needed − logged in; negative: agents to spare


@dataclass(frozen=True, slots=True)
class QueueStats:
    queue: str
    name: str
    sl_formula: str  # which service-level definition the figures use
    sl_threshold_s: float
    sl_target: float
    short_abandon_s: float
    waiting: int
    longest_wait_s: int  # whole seconds: a wallboard shows no more, and deltas stay rare
    ewt_s: int | None  # estimated wait for a caller joining now
    agents: AgentCounts
    interval: PeriodStats
    today: PeriodStats
    staffing: StaffingNow | None = None  # "needed in the next 30 minutes vs logged in"
    # Today's figures are still being replayed from the event log (start-up): incomplete.
    rebuilding: bool = False


@dataclass(frozen=True, slots=True)
class AgentView:
    agent_id: str
    state: str  # logged_out, available, reserved, on_call, wrap_up, paused
    reason: str | None  # pause reason
    since: str | None  # when the current state began (wall clock)
    device: str | None
    queues: list[str]
    call_id: str | None  # the call ringing, connected, or in wrap-up
    answered_today: int


@dataclass(frozen=True, slots=True)
class CallView:
    """An active call with what the IVR learnt; collected fields named sensitive are masked."""

    call_id: str
    state: str  # ivr, waiting, ringing, connected, held
    queue: str | None
    agent_id: str | None
    caller: str | None
    caller_name: str | None
    hotline: str | None
    product: str | None
    language: str | None
    vip: str | None
    ivr_path: str | None
    fields: dict[str, str]
    started: str
    queued: str | None
