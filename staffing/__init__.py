"""Staffing: Erlang C and Erlang A figures and the agents a service-level target needs."""

from staffing.erlang import (
    ErlangCMetrics,
    agents_needed,
    average_speed_of_answer,
    erlang_b,
    erlang_c,
    erlang_c_metrics,
    occupancy,
    positions_after_shrinkage,
    service_level,
    traffic_intensity,
)
from staffing.erlang_a import ErlangAMetrics, agents_needed_erlang_a, erlang_a_metrics

__all__ = [
    "ErlangAMetrics",
    "ErlangCMetrics",
    "agents_needed",
    "agents_needed_erlang_a",
    "average_speed_of_answer",
    "erlang_a_metrics",
    "erlang_b",
    "erlang_c",
    "erlang_c_metrics",
    "occupancy",
    "positions_after_shrinkage",
    "service_level",
    "traffic_intensity",
]
