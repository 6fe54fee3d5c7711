"""AMI parsing speed: cti.ami's codec vs panoramisk 1.4's protocol, same bytes, same run.

Run from the repo root: ``.venv/bin/python bench/ami_parse.py [--events N] [--rounds R]``.
The stream is the real Asterisk 22 capture in tests/fixtures/ami/, replicated to N events and
fed in 64 KiB reads (what the asyncio client reads). panoramisk is driven through its own
``AMIProtocol.data_received`` with a stub factory, i.e. exactly its per-packet work minus the
network. Rounds alternate between the two parsers; the best round of each is reported (the
machine is shared, so the minimum is the least noisy estimate). Last line: one JSON object.
"""

from __future__ import annotations

import argparse
import gc
import json
import logging
import statistics
import time
from pathlib import Path
from typing import Any, ClassVar

from cti.ami import AmiCodec
from cti.settings import AmiSettings

CAPTURE = (
    Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "ami" / "login_and_call.raw"
)
READ = 65536


def build_stream(min_events: int) -> tuple[bytes, int]:
    raw = CAPTURE.read_bytes()
    body = raw[raw.index(b"\r\n") + 2 :]  # drop the greeting: it appears once per connection
    per_copy = body.count(b"\r\n\r\n")
    copies = -(-min_events // per_copy)
    return body * copies, per_copy * copies


def chunks(stream: bytes) -> list[bytes]:
    return [stream[i : i + READ] for i in range(0, len(stream), READ)]


def run_ours(parts: list[bytes], ignore: frozenset[str]) -> tuple[float, int]:
    codec = AmiCodec(ignore_events=ignore, expect_greeting=False)
    count = 0
    start = time.perf_counter()
    for part in parts:
        codec.receive_data(part)
        while codec.next_message() is not None:
            count += 1
    return time.perf_counter() - start, count + codec.events_ignored


class _Factory:
    """What AMIProtocol needs from panoramisk's Manager, minus callbacks."""

    save_stream = None
    forgetable_actions: tuple[str, ...] = ()
    awaiting_actions: ClassVar[list[Any]] = []

    def __init__(self) -> None:
        self.events = 0

    def dispatch(self, event: Any) -> list[str]:
        self.events += 1
        return []


class _Transport:
    def write(self, data: bytes) -> None:
        pass

    def close(self) -> None:
        pass


def run_panoramisk(parts: list[bytes]) -> tuple[float, int]:
    from panoramisk.ami_protocol import AMIProtocol

    protocol = AMIProtocol()
    protocol.connection_made(_Transport())
    protocol.encoding = "utf8"  # panoramisk.Manager's default
    protocol.version = "11.0.0"  # greeting already seen
    factory = _Factory()
    protocol.factory = factory
    start = time.perf_counter()
    for part in parts:
        protocol.data_received(part)
    return time.perf_counter() - start, factory.events


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)  # panoramisk logs each message at DEBUG

    stream, frames = build_stream(args.events)
    parts = chunks(stream)
    default_ignore = frozenset(AmiSettings().ignore_events)
    events_in_stream = stream.count(b"\r\nEvent: ") + stream.startswith(b"Event: ")
    print(f"stream: {len(stream) / 1e6:.1f} MB, {frames} messages ({events_in_stream} events),")
    print(f"        {len(parts)} reads of {READ} bytes, {args.rounds} rounds, best round shown")

    runs: dict[str, list[float]] = {"ours": [], "ours_ignore": [], "panoramisk": []}
    for _ in range(args.rounds):
        for name in runs:
            gc.collect()
            if name == "ours":
                elapsed, count = run_ours(parts, frozenset())
                assert count == frames, (count, frames)
            elif name == "ours_ignore":
                elapsed, count = run_ours(parts, default_ignore)
                assert count == frames, (count, frames)
            else:
                elapsed, count = run_panoramisk(parts)
                assert count == events_in_stream, (count, events_in_stream)
            runs[name].append(frames / elapsed)

    best = {name: max(rates) for name, rates in runs.items()}
    labels = {
        "ours": "cti.ami AmiCodec, full parse",
        "ours_ignore": f"cti.ami AmiCodec, ignore {sorted(default_ignore)}",
        "panoramisk": "panoramisk 1.4 AMIProtocol.data_received",
    }
    print(f"\n{'parser':<70} {'best msg/s':>12} {'median':>12} {'vs pano':>8}")
    for name, rates in runs.items():
        ratio = best[name] / best["panoramisk"]
        print(
            f"{labels[name]:<70} {best[name]:>12,.0f} "
            f"{statistics.median(rates):>12,.0f} {ratio:>7.2f}x"
        )
    print(
        json.dumps(
            {
                "events_per_s": round(best["ours"]),
                "panoramisk_events_per_s": round(best["panoramisk"]),
                "ratio": round(best["ours"] / best["panoramisk"], 2),
                "events_per_s_with_ignore_events": round(best["ours_ignore"]),
                "messages": frames,
            }
        )
    )


if __name__ == "__main__":
    main()
