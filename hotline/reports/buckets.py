"""Report periods, pure: 15/30/60-minute intervals, days, ISO weeks (Monday) and months, all in
the centre's local time zone (DST-aware: a day is midnight to midnight, 23 or 25 hours too).

SQL aggregates per UTC *slot* (a fixed number of seconds since the epoch, the same on every
database); this module rolls slots up into local periods. That is exact when every UTC offset
the zone uses in the range is a multiple of the slot: ``slot_seconds`` picks the largest slot
that is (15 minutes always is: every zone offset in use is a multiple of 15 minutes).
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_QUARTER = timedelta(minutes=15)
_MINUTES = {"15m": 15, "30m": 30, "60m": 60}
PERIODS = ("15m", "30m", "60m", "day", "week", "month")


@dataclass(frozen=True, slots=True)
class Period:
    name: str  # one of PERIODS
    zone: ZoneInfo

    @classmethod
    def parse(cls, text: str, zone: ZoneInfo) -> Period:
        name = {"1h": "60m", "hour": "60m", "d": "day", "w": "week", "m": "month"}.get(text, text)
        if name not in PERIODS:
            raise ValueError(f"interval must be one of {', '.join(PERIODS)}, not {text!r}")
        return cls(name, zone)

    @property
    def minutes(self) -> int | None:
        return _MINUTES.get(self.name)

    def start_of(self, ts: datetime) -> datetime:
        """The local start of the period holding ``ts`` (aware, in the zone)."""
        local = ts.astimezone(self.zone)
        minutes = self.minutes
        if minutes is not None:
            return local.replace(
                minute=local.minute - local.minute % minutes, second=0, microsecond=0
            )
        day = local.replace(hour=0, minute=0, second=0, microsecond=0)
        if self.name == "week":
            day = day - timedelta(days=day.weekday())
        elif self.name == "month":
            day = day.replace(day=1)
        # Re-attach the zone: the offset at midnight may differ from the offset at ``ts``.
        return datetime(day.year, day.month, day.day, tzinfo=self.zone)

    def next_start(self, bucket: datetime) -> datetime:
        """The start of the period after the one starting at ``bucket``."""
        minutes = self.minutes
        if minutes is not None:
            # Step in UTC: local wall-clock arithmetic would repeat or skip an hour at DST.
            return (bucket.astimezone(UTC) + timedelta(minutes=minutes)).astimezone(self.zone)
        if self.name == "day":
            nxt = bucket + timedelta(days=1)
        elif self.name == "week":
            nxt = bucket + timedelta(days=7)
        else:
            nxt = bucket.replace(year=bucket.year + bucket.month // 12, month=bucket.month % 12 + 1)
        return datetime(nxt.year, nxt.month, nxt.day, tzinfo=self.zone)

    def end_of(self, ts: datetime) -> datetime:
        """Where the time from ``ts`` stops counting for its period: the first instant after
        ``ts`` that ``start_of`` puts in another period (UTC).

        Usually ``next_start`` of the period, not always across a DST change that shifts the
        clock by less than the period, or not at a period boundary. By the hour in Lord Howe
        (half an hour at 02:00), the hour the clock goes back in lasts 90 minutes, the one it
        skips into 30; in Chatham (an hour at 02:45 local), ``start_of`` puts the first quarter
        of an hour after the change in the hour before it. So minute periods are walked quarter
        by quarter (UTC), where ``start_of`` can change: every UTC offset in use is a whole
        number of quarter hours, and so is every local time a clock changes at (since 2011;
        before, a boundary off the quarter-hours is read at the next one). Days, weeks and
        months end at the next one's local midnight, unless the clock went back across midnight
        (Newfoundland until 2010): walked too.

        Instants only (UTC): aware datetimes of one zone compare and subtract by their
        wall-clock times, which repeat or skip at DST.
        """
        at = _utc(ts)
        bucket = _utc(self.start_of(at))
        if self.minutes is None:
            midnight = _utc(self.next_start(self.start_of(at)))
            if midnight > at:
                return midnight
        end = _EPOCH + (at - _EPOCH) // _QUARTER * _QUARTER + _QUARTER
        while _utc(self.start_of(end)) == bucket:
            end += _QUARTER
        return end

    def slot_seconds(self, start: datetime, end: datetime) -> int:
        """The widest UTC slot that never straddles two periods of this kind in [start, end)."""
        minutes = self.minutes or 60
        width = 60 * min(minutes, 60)
        if width == 900:
            return width
        for offset in _offsets(self.zone, start, end):
            if offset % width:
                return 900 if offset % 1800 else 1800
        return width


def _offsets(zone: ZoneInfo, start: datetime, end: datetime) -> set[int]:
    # Sampled daily (plus both ends): zones change offset at most a few times a year.
    seen: set[int] = set()
    at = start.astimezone(UTC)
    stop = end.astimezone(UTC)
    while True:
        offset = at.astimezone(zone).utcoffset()
        seen.add(int(offset.total_seconds()) if offset is not None else 0)
        if at >= stop:
            return seen
        at = min(at + timedelta(hours=12), stop)


def _utc(ts: datetime) -> datetime:
    return ts.astimezone(UTC)


def clip(start: datetime, end: datetime, low: datetime, high: datetime) -> float:
    """Seconds of [start, end) inside [low, high) (elapsed: in UTC, whatever the zones)."""
    return max(0.0, (min(_utc(end), _utc(high)) - max(_utc(start), _utc(low))).total_seconds())


def split(start: datetime, end: datetime, period: Period) -> list[tuple[datetime, float]]:
    """[start, end) cut where ``start_of`` changes: (period start, seconds in it) in order.

    Seconds elapsed, computed in UTC: a local quarter-hour holds 900 s across a DST change too,
    a spring-forward day 82,800 s; every piece is longer than 0 s and the pieces add up to the
    length of [start, end). Consecutive pieces are in different periods (the same period may
    come back later, where ``start_of`` does: Chatham, see ``Period.end_of``).
    """
    pieces: list[tuple[datetime, float]] = []
    at, stop_at = _utc(start), _utc(end)
    while at < stop_at:
        stop = min(stop_at, period.end_of(at))
        pieces.append((period.start_of(at), (stop - at).total_seconds()))
        at = stop
    return pieces


@dataclass(frozen=True, slots=True)
class SlotPeriods:
    """The periods of a report over UTC slots ``first``..``last`` (slot n: [n·slot_s,
    (n+1)·slot_s) seconds after the epoch). A slot is in the period its start is in
    (``Period.start_of``), so period i holds the slots from ``slots[i]`` (``first`` for the
    first period) to ``slots[i + 1]`` (excluded), and starts at ``starts[i]`` (local, as
    ``Period`` computes it). Both lists end with the period after the last.
    """

    starts: list[datetime]
    slots: list[int]
    # Where each period's time begins, in UTC (instants, not wall-clock times): its first
    # slot's start (the first period's: its start, if earlier). Increasing, unlike ``starts``
    # where ``start_of`` goes back (Chatham, see ``Period.end_of``).
    _bounds: list[datetime]

    @classmethod
    def of(cls, period: Period, first: int, last: int, slot_s: int) -> SlotPeriods:
        width = timedelta(seconds=slot_s)

        def period_of(slot: int) -> tuple[datetime, datetime]:
            start = period.start_of(_EPOCH + slot * width)
            return start, start.astimezone(UTC)

        starts: list[datetime] = []
        slots: list[int] = []
        slot = first
        start, start_utc = period_of(slot)
        bounds = [min(start_utc, _EPOCH + slot * width)]
        while True:
            starts.append(start)
            slots.append(slot)
            if slot > last:
                return cls(starts, slots, bounds)
            # The next period's first slot: where ``next_start`` says it starts (rounded up to
            # a slot), checked against ``start_of`` on both sides; slot by slot where they
            # disagree (a zone shifting by less than the period: Lord Howe's half-hour DST, by
            # the hour).
            following = max(slot + 1, -((_EPOCH - period.next_start(start)) // width))
            if following - 1 > slot and period_of(following - 1)[1] != start_utc:
                following = slot + 1
            after, after_utc = period_of(following)
            while after_utc == start_utc:
                following += 1
                after, after_utc = period_of(following)
            slot, start, start_utc = following, after, after_utc
            bounds.append(_EPOCH + slot * width)

    def runs(self) -> list[tuple[int, int]]:
        """(first slot, width in slots) of each run of consecutive periods of one width, in
        order. Slot s of the run (b, w) is in the period whose first slot is b + (s − b) // w · w.
        """
        runs: list[tuple[int, int]] = []
        for begin, following in pairwise(self.slots):
            if not (runs and runs[-1][1] == following - begin):
                runs.append((begin, following - begin))
        return runs

    def index(self) -> dict[int, int]:
        """The first slot of each period → the period's index."""
        return {slot: i for i, slot in enumerate(self.slots[:-1])}

    def split(self, start: datetime, end: datetime) -> list[tuple[int, float]]:
        """``split`` for [start, end) within these periods: (period index, seconds in it) in
        order. The period is looked up rather than computed, the seconds are computed as
        ``split`` computes them (elapsed, in UTC)."""
        pieces: list[tuple[int, float]] = []
        at, stop_at = _utc(start), _utc(end)
        i = bisect_right(self._bounds, at) - 1
        while at < stop_at and i + 1 < len(self._bounds):
            stop = min(stop_at, self._bounds[i + 1])
            pieces.append((i, (stop - at).total_seconds()))
            at = stop
            i += 1
        return pieces
