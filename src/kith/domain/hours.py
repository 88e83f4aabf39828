"""Working hours and time zones. Time is UTC inside, local at the edge."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from kith.domain.models import WEEKDAYS, WorkingHours


def valid_timezone(name: str) -> bool:
    """True when ``name`` is an IANA time zone this machine knows."""
    if not name or name != name.strip():
        return False
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return False
    return name in _zones()


_ZONES: frozenset[str] | None = None


def _zones() -> frozenset[str]:
    global _ZONES
    if _ZONES is None:
        _ZONES = frozenset(available_timezones())
    return _ZONES


def parse_clock(text: str) -> time:
    """Parse ``HH:MM`` (24-hour) into a time; raises ValueError with a readable message."""
    parts = text.strip().split(":")
    # isdigit() alone admits "²" and other digits int() refuses; only ASCII digits are a clock.
    if len(parts) != 2 or not all(p.isascii() and p.isdigit() for p in parts):
        raise ValueError(f"{text!r} is not a time of day as HH:MM")
    hour, minute = int(parts[0]), int(parts[1])
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        raise ValueError(f"{text!r} is not a time of day as HH:MM")
    return time(hour, minute)


def parse_days(text: str) -> frozenset[int]:
    """Parse working days: ``mon-fri``, ``mon,tue,thu`` or ``sun-thu`` (0 = Monday)."""
    days: set[int] = set()
    for part in text.lower().replace(" ", "").split(","):
        if not part:
            continue
        first, _, last = part.partition("-")
        if first not in WEEKDAYS or (last and last not in WEEKDAYS):
            raise ValueError(f"{text!r} is not a list of days like mon-fri or mon,wed,fri")
        start = WEEKDAYS.index(first)
        end = WEEKDAYS.index(last) if last else start
        day = start
        while True:
            days.add(day)
            if day == end:
                break
            day = (day + 1) % 7
    if not days:
        raise ValueError("at least one working day is needed")
    return frozenset(days)


def format_days(days: frozenset[int]) -> str:
    """The inverse of :func:`parse_days`, as a comma list in week order."""
    return ",".join(WEEKDAYS[d] for d in sorted(days))


def days_to_mask(days: frozenset[int]) -> int:
    return sum(1 << d for d in days)


def mask_to_days(mask: int) -> frozenset[int]:
    return frozenset(d for d in range(7) if mask & (1 << d))


def local_time(zone: str, at: datetime) -> datetime:
    """``at`` (aware) in the person's zone."""
    return at.astimezone(ZoneInfo(zone))


def is_working(hours: WorkingHours, zone: str, at: datetime) -> bool:
    """Whether ``at`` falls within working hours in ``zone``.

    A shift that ends before it starts (22:00-06:00) runs past midnight and belongs to the
    day it started on.
    """
    local = local_time(zone, at)
    now = local.time().replace(tzinfo=None)
    if hours.start <= hours.end:
        return local.weekday() in hours.days and hours.start <= now < hours.end
    if now >= hours.start:
        return local.weekday() in hours.days
    return now < hours.end and (local.weekday() - 1) % 7 in hours.days


def work_periods(
    hours: WorkingHours, zone: str, start: datetime, end: datetime
) -> list[tuple[datetime, datetime]]:
    """The person's working periods overlapping [``start``, ``end``), as UTC intervals clipped to it.

    Computed day by day in the person's zone, so a daylight-saving change moves the UTC times
    the way the person's clock does. A shift past midnight belongs to the day it starts on.
    """
    zone_info = ZoneInfo(zone)
    periods: list[tuple[datetime, datetime]] = []
    day = start.astimezone(zone_info).date() - timedelta(days=1)
    last = end.astimezone(zone_info).date()
    while day <= last:
        if day.weekday() in hours.days:
            opens = datetime.combine(day, hours.start, zone_info)
            closes_day = day if hours.start < hours.end else day + timedelta(days=1)
            closes = datetime.combine(closes_day, hours.end, zone_info)
            lo, hi = max(opens.astimezone(UTC), start), min(closes.astimezone(UTC), end)
            if lo < hi:
                periods.append((lo, hi))
        day += timedelta(days=1)
    return periods


def next_work_start(hours: WorkingHours, zone: str, at: datetime) -> datetime:
    """When the person's next working period starts after ``at`` (UTC); ``at`` itself if working.

    Looks up to two weeks ahead (working days are never empty).
    """
    if is_working(hours, zone, at):
        return at
    zone_info = ZoneInfo(zone)
    day = at.astimezone(zone_info).date()
    for offset in range(15):
        current = day + timedelta(days=offset)
        if current.weekday() in hours.days:
            opens = datetime.combine(current, hours.start, zone_info).astimezone(UTC)
            if opens > at:
                return opens
    raise ValueError("no working day within two weeks")  # pragma: no cover - days are never empty


def work_start_on(hours: WorkingHours, zone: str, day: date) -> datetime | None:
    """When the working day ``day`` (local date) starts, in UTC; None if it is not a working day."""
    if day.weekday() not in hours.days:
        return None
    return datetime.combine(day, hours.start, ZoneInfo(zone)).astimezone(UTC)
