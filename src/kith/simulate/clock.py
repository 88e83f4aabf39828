"""Working time for many people at once: local clocks, shifts, and "after N working minutes".

Vectorised over numpy arrays so that a million timestamps cost a fraction of a second. Each
office's UTC offset is looked up per local date (at local noon, so a daylight-saving change
moves the whole day, never the working hours inside it). Shifts start and end on the same
local day (the synthetic organisation has no night shifts).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

DAY = 86_400
Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]


@dataclass(frozen=True, slots=True)
class WorkClock:
    """The local clock and working days of every person over ``span`` days from ``start``.

    ``offsets[o, d + 1]`` is office ``o``'s UTC offset in seconds on local day ``d`` (day -1
    to ``span``); ``working[p, d]`` whether person ``p`` works on day ``d``;
    ``shift_start[p]`` and ``shift_end[p]`` are local seconds after midnight.
    """

    base: int  # unix seconds of ``start`` at 00:00 UTC
    span: int
    offsets: Ints
    office: Ints
    shift_start: Ints
    shift_end: Ints
    working: Bools

    @classmethod
    def build(
        cls,
        start: date,
        span: int,
        zones: list[str],
        office: Ints,
        shift_start: Ints,
        shift_end: Ints,
        working: Bools,
    ) -> WorkClock:
        base = int(datetime.combine(start, time(0), tzinfo=UTC).timestamp())
        offsets = np.zeros((len(zones), span + 2), dtype=np.int64)
        for o, name in enumerate(zones):
            zone = ZoneInfo(name)
            for d in range(-1, span + 1):
                noon = datetime.combine(start + timedelta(days=d), time(12), tzinfo=zone)
                offset = noon.utcoffset()
                offsets[o, d + 1] = int(offset.total_seconds()) if offset is not None else 0
        return cls(base, span, offsets, office, shift_start, shift_end, working)

    def _offset(self, people: Ints, day: Ints) -> Ints:
        return self.offsets[self.office[people], np.clip(day, -1, self.span) + 1]

    def local(self, people: Ints, at: Ints) -> tuple[Ints, Ints]:
        """Each person's local day index and seconds after local midnight at UTC ``at``."""
        guess = (at - self.base) // DAY
        local = at + self._offset(people, guess) - self.base
        local = at + self._offset(people, local // DAY) - self.base
        return local // DAY, local % DAY

    def utc(self, people: Ints, day: Ints, seconds: Ints) -> Ints:
        """UTC unix seconds of local ``seconds`` after midnight of local ``day``."""
        return self.base + day * DAY + seconds - self._offset(people, day)

    def works(self, people: Ints, day: Ints) -> Bools:
        inside = (day >= 0) & (day < self.span)
        result = np.zeros(people.shape, dtype=np.bool_)
        result[inside] = self.working[people[inside], day[inside]]
        return result

    def after(self, people: Ints, at: Ints, work_delay: Ints) -> Ints:
        """When ``work_delay`` seconds of each person's working time have passed since ``at``.

        Time outside the person's shift (evenings, days off, leave) does not count: a
        message that arrives on Friday evening is answered some time after Monday's start.
        Past the clock's span, or for ``at`` before it, the answer is -1.
        """
        result = np.full(people.shape, -1, dtype=np.int64)
        pending = np.flatnonzero(at >= self.base - DAY)  # nothing answers what never came
        now = at[pending].astype(np.int64)
        left = work_delay[pending].astype(np.int64)
        while pending.size:
            who = people[pending]
            day, sec = self.local(who, now)
            alive = day < self.span
            if not alive.all():
                pending, who, now, left, day, sec = (x[alive] for x in (pending, who, now, left, day, sec))
            start, end = self.shift_start[who], self.shift_end[who]
            working = self.works(who, day)
            early = working & (sec < start)
            now = now + np.where(early, start - sec, 0)
            sec = np.where(early, start, sec)
            on_shift = working & (sec < end)
            room = end - sec
            done = on_shift & (left <= room)
            result[pending[done]] = now[done] + left[done]
            left = left - np.where(on_shift, room, 0)
            now = now + (DAY - sec)  # the next local midnight
            keep = ~done
            pending, now, left = pending[keep], now[keep], left[keep]
        return result
