"""Cron expressions of schedules: read, checked, said in words, and their next run.

The expression is the usual five fields, minute hour day month day-of-week (``0 3 * * *``:
every day at 03:00 UTC), read by huey's ``crontab`` — the queue's own cron parser, so what is
accepted here is exactly what the worker runs. The values each field matches are read with it
too, one field at a time against every value the field could take, so what is said here is
what the worker does — including huey's rule that a restricted day of the month *and* a
restricted day of the week must both match (classic cron fires when either does).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from huey import crontab

from microfluence.kernel.errors import InputError

FIELDS = ("minute", "hour", "day", "month", "day_of_week")
Matcher = Callable[[dt.datetime], bool]

WEEKDAYS = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
MONTHS = (
    "January February March April May June July August September October November December"
).split()
# How far ahead the next run is looked for: 29 February on a given weekday comes around
# within 28 years (a day per step, at most about 10,000 steps, only for such rare schedules).
HORIZON_DAYS = 28 * 366
MAX_LENGTH = 100  # job_schedules.cron
SHORT_LIST = 4  # at most this many times of day, days or months are spelled out


def parse_cron(text: str) -> Matcher:
    """The matcher of a five-field cron expression; InputError (field ``cron``) naming the
    part that is wrong."""
    parts = text.split()
    if len(parts) != len(FIELDS):
        raise InputError(
            f"cron {text!r} needs 5 fields (minute hour day month day-of-week), not {len(parts)}",
            field="cron",
        )
    try:
        return crontab(**dict(zip(FIELDS, parts, strict=True)), strict=True)  # type: ignore[no-any-return]
    except (ValueError, TypeError) as exc:
        raise InputError(f"cron {text!r}: {exc}", field="cron") from exc


def check_cron(text: str) -> str:
    """``text`` with its fields separated by single spaces, once it is known to parse and to
    match some date (not 30 February): InputError (field ``cron``) otherwise."""
    text = " ".join(text.split())
    if len(text) > MAX_LENGTH:
        raise InputError(f"cron is longer than {MAX_LENGTH} characters", field="cron")
    values = cron_values(text)
    if not any(
        day <= (29 if month == 2 else 30 if month in (4, 6, 9, 11) else 31)
        for month in values.months
        for day in values.days
    ):
        raise InputError(f"cron {text!r} never fires: no month has those days", field="cron")
    return text


@dataclass(frozen=True)
class CronValues:
    """The values each field of an expression matches (weekdays: 0 is Sunday)."""

    minutes: tuple[int, ...]
    hours: tuple[int, ...]
    days: tuple[int, ...]
    months: tuple[int, ...]
    weekdays: tuple[int, ...]

    @property
    def every_day(self) -> bool:
        return len(self.days) == 31 and len(self.months) == 12 and len(self.weekdays) == 7


def cron_values(text: str) -> CronValues:
    """The values matched by each field of ``text``; InputError (field ``cron``) as
    :func:`~microfluence.jobs.schedules.parse_cron` for an expression it refuses."""
    parse_cron(text)  # the one validation, with its messages
    minute, hour, day, month, weekday = text.split()
    base = dt.datetime(2001, 1, 1)  # a Monday in January (31 days)

    def matched(field: str, part: str, moments: list[tuple[int, dt.datetime]]) -> tuple[int, ...]:
        test = crontab(**{field: part}, strict=True)
        return tuple(value for value, moment in moments if test(moment))

    return CronValues(
        minutes=matched("minute", minute, [(m, base.replace(minute=m)) for m in range(60)]),
        hours=matched("hour", hour, [(h, base.replace(hour=h)) for h in range(24)]),
        days=matched("day", day, [(d, base.replace(day=d)) for d in range(1, 32)]),
        months=matched("month", month, [(m, base.replace(month=m)) for m in range(1, 13)]),
        # 2001-01-07 was a Sunday: weekday w (0 = Sunday) is 2001-01-07 + w days.
        weekdays=matched(
            "day_of_week",
            weekday,
            [(w, dt.datetime(2001, 1, 7) + dt.timedelta(days=w)) for w in range(7)],
        ),
    )


def _listed(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _step(values: tuple[int, ...], size: int) -> int | None:
    """n when ``values`` is 0, n, 2n, … up to ``size`` (and n > 1), else None."""
    if len(values) < 2 or values[0] != 0:
        return None
    n = values[1]
    return n if values == tuple(range(0, size, n)) else None


def _time_words(v: CronValues) -> str | None:
    all_hours = len(v.hours) == 24
    if all_hours and len(v.minutes) == 60:
        return "every minute"
    if all_hours and (n := _step(v.minutes, 60)):
        return f"every {n} minutes"
    if all_hours and len(v.minutes) == 1:
        return f"every hour at :{v.minutes[0]:02d}"
    if len(v.minutes) == 1 and (n := _step(v.hours, 24)):
        return f"every {n} hours at :{v.minutes[0]:02d}"
    if len(v.hours) * len(v.minutes) <= SHORT_LIST:
        return "at " + _listed([f"{h:02d}:{m:02d}" for h in v.hours for m in v.minutes])
    return None


def _weekday_words(weekdays: tuple[int, ...]) -> str:
    if weekdays == (1, 2, 3, 4, 5):
        return "Monday to Friday"
    if weekdays == (0, 6):
        return "on Saturdays and Sundays"
    return "on " + _listed([WEEKDAYS[w] + "s" for w in weekdays])


def _date_words(v: CronValues) -> str | None:
    if v.every_day:
        return "every day"
    parts = []
    if len(v.days) < 31:
        if len(v.days) > SHORT_LIST:
            return None
        days = _listed([str(d) for d in v.days])
        parts.append(("on day " if len(v.days) == 1 else "on days ") + days)
    if len(v.months) < 12:
        if len(v.months) > SHORT_LIST:
            return None
        parts.append("in " + _listed([MONTHS[m - 1] for m in v.months]))
    elif parts:
        parts.append("of every month")
    if len(v.weekdays) < 7 and len(v.days) < 31:
        # huey: a restricted day of the month and day of the week must both match.
        parts.append("if it is a " + " or a ".join(WEEKDAYS[w] for w in v.weekdays))
    elif len(v.weekdays) < 7:
        parts.append(_weekday_words(v.weekdays))
    return " ".join(parts)


def describe_cron(text: str) -> str | None:
    """A schedule in words when it is simple enough to say briefly ("every day at 03:00
    UTC", "Monday to Friday every 15 minutes"); None for anything else (or an invalid one)."""
    try:
        values = cron_values(text)
    except InputError:
        return None
    time_words, date_words = _time_words(values), _date_words(values)
    if time_words is None or date_words is None:
        return None
    if time_words.startswith("every") and date_words == "every day":
        return time_words
    return f"{date_words} {time_words}" + (" UTC" if ":" in time_words else "")


def next_run(text: str, after: dt.datetime) -> dt.datetime | None:
    """The first minute after ``after`` (naive UTC) when ``text`` fires; None when it never
    does (30 February) or not within :data:`HORIZON_DAYS`."""
    v = cron_values(text)
    if after.tzinfo is not None:
        after = after.astimezone(dt.UTC).replace(tzinfo=None)
    start = after.replace(second=0, microsecond=0) + dt.timedelta(minutes=1)
    times = [(h, m) for h in v.hours for m in v.minutes]  # at most 1,440, sorted
    day = start.date()
    months, days, weekdays = set(v.months), set(v.days), set(v.weekdays)
    for _ in range(HORIZON_DAYS):
        if day.month in months and day.day in days and (day.isoweekday() % 7) in weekdays:
            for hour, minute in times:
                moment = dt.datetime(day.year, day.month, day.day, hour, minute)
                if moment >= start:
                    return moment
        day += dt.timedelta(days=1)
    return None
