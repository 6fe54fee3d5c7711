"""``/metrics`` for Prometheus, read from live state at scrape time (nothing is counted twice,
nothing lives in the global registry: each app has its own). Queue figures are gauges for the
current interval and today, labelled by queue (and by service-level formula, so a change of
definition shows as a new series rather than a jump)."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from hotline.api.deps import Services, require_roles
from hotline.api.ports import ApiServices
from hotline.live.hub import LiveHub

router = APIRouter(tags=["metrics"])


class LiveCollector(Collector):
    def __init__(self, services: ApiServices) -> None:
        self._services = services

    def collect(self) -> Iterator[Metric]:
        services = self._services
        hub = services.live
        if hub is not None:
            yield from _queue_metrics(hub.stats.queue_ids(), hub)
            clients = GaugeMetricFamily("hotline_ws_clients", "Connected WebSocket clients")
            clients.add_metric([], len(hub.clients))
            yield clients
            cut = GaugeMetricFamily(
                "hotline_ws_cut_off", "WebSocket clients cut off for being too slow (since start)"
            )
            cut.add_metric([], hub.cut_offs)
            yield cut
            rebuilding = GaugeMetricFamily(
                "hotline_live_rebuilding",
                "1 while today's figures are replayed from the event log (start-up): incomplete",
            )
            rebuilding.add_metric([], float(hub.rebuilding))
            yield rebuilding
        if services.mqtt is not None:
            mqtt = services.mqtt
            for name, doc, value in (
                ("hotline_mqtt_connected", "1 while the MQTT broker is connected", mqtt.connected),
                ("hotline_mqtt_dropped", "MQTT call events dropped while away", mqtt.dropped),
                ("hotline_mqtt_buffered", "MQTT messages waiting for the broker", mqtt.buffered),
            ):
                gauge = GaugeMetricFamily(name, doc)
                gauge.add_metric([], float(value))
                yield gauge


def _queue_metrics(queue_ids: list[str], hub: LiveHub) -> Iterator[Metric]:
    waiting = GaugeMetricFamily("hotline_queue_waiting", "Calls waiting", labels=["queue"])
    longest = GaugeMetricFamily(
        "hotline_queue_longest_wait_seconds", "Longest current wait", labels=["queue"]
    )
    agents = GaugeMetricFamily("hotline_queue_agents", "Agents by state", labels=["queue", "state"])
    calls = GaugeMetricFamily(
        "hotline_queue_calls", "Calls by outcome", labels=["queue", "period", "outcome"]
    )
    sl = GaugeMetricFamily(
        "hotline_queue_service_level", "Service level (0..1)", labels=["queue", "period", "formula"]
    )
    asa = GaugeMetricFamily(
        "hotline_queue_asa_seconds", "Average speed of answer", labels=["queue", "period"]
    )
    for queue_id in queue_ids:
        figures = hub.stats.queue_stats(queue_id)
        if figures is None:
            continue
        waiting.add_metric([queue_id], figures.waiting)
        longest.add_metric([queue_id], figures.longest_wait_s)
        counts = figures.agents
        for state, value in (
            ("logged_in", counts.logged_in),
            ("available", counts.available),
            ("ringing", counts.ringing),
            ("on_call", counts.on_call),
            ("wrap_up", counts.wrap_up),
            ("paused", counts.paused),
        ):
            agents.add_metric([queue_id, state], value)
        for period_name, period in (("interval", figures.interval), ("today", figures.today)):
            for outcome, value in (
                ("offered", period.offered),
                ("answered", period.answered),
                ("abandoned", period.abandoned),
                ("short_abandoned", period.short_abandoned),
                ("overflowed", period.overflowed),
            ):
                calls.add_metric([queue_id, period_name, outcome], value)
            if period.service_level is not None:
                sl.add_metric([queue_id, period_name, figures.sl_formula], period.service_level)
            if period.asa_s is not None:
                asa.add_metric([queue_id, period_name], period.asa_s)
    yield from (waiting, longest, agents, calls, sl, asa)


def make_registry(services: ApiServices) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(LiveCollector(services))
    return registry


# Business figures are not public: Prometheus scrapes with a wallboard or admin token
# (``authorization: {credentials: ...}`` in the scrape config).
@router.get(
    "/metrics",
    dependencies=[require_roles("admin", "supervisor", "wallboard")],
    response_class=Response,
)
async def metrics(services: Services) -> Response:
    registry = make_registry(services)
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
