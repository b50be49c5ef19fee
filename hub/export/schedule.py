"""When an export fires: cron expressions in a time zone, DST-correct (pure functions).

Times in and out are UTC (a naive input is taken as UTC). On the
autumn DST change a wall-clock time happens twice; a schedule fires at the
first one only, as cron does. On the spring change a skipped time fires at the
first valid moment after the gap (croniter's behaviour).
"""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter

MAX_SCAN = 10_000  # fire times examined when looking backwards; a minutely cron covers a week


def schedule_errors(cron: str, tz: str) -> dict[str, str]:
    """Why a schedule is unusable, by setting name; empty when it is fine."""
    errors: dict[str, str] = {}
    if not cron.strip() or not croniter.is_valid(cron):
        errors["schedule"] = f"'{cron}' is not a cron expression (minute hour day month weekday, e.g. '0 9 * * MON')"
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        errors["timezone"] = f"'{tz}' is not a time zone name (e.g. 'Europe/London', 'UTC')"
    return errors


def _aware(moment: datetime) -> datetime:
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment


def _local(moment_utc: datetime, tz: str) -> datetime:
    return _aware(moment_utc).astimezone(ZoneInfo(tz))


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc)


def _is_repeat(moment: datetime) -> bool:
    """The second occurrence of an ambiguous wall-clock time (autumn DST change)."""
    return moment.fold == 1 and moment.utcoffset() != moment.replace(fold=0).utcoffset()


def next_fire_times(cron: str, tz: str, after_utc: datetime, count: int = 5) -> list[datetime]:
    """The next ``count`` fire times strictly after ``after_utc``."""
    it = croniter(cron, _local(after_utc, tz))
    out: list[datetime] = []
    while len(out) < count:
        moment = it.get_next(datetime)
        if not _is_repeat(moment):
            out.append(_utc(moment))
    return out


def latest_fire_time(cron: str, tz: str, now_utc: datetime, after_utc: datetime | None = None) -> datetime | None:
    """The most recent fire time at or before ``now_utc`` (and after ``after_utc``), or None.

    A hub that was down over several fire times gets only the latest: one run
    whose window reaches back to the last successful one, never one per slot.
    """
    it = croniter(cron, _local(now_utc, tz))
    if croniter.match(cron, _local(now_utc, tz)) and _local(now_utc, tz).second == 0:
        candidate = _local(now_utc, tz)
    else:
        candidate = it.get_prev(datetime)
    for _ in range(MAX_SCAN):
        if not _is_repeat(candidate):
            moment = _utc(candidate)
            return moment if after_utc is None or moment > _aware(after_utc) else None
        candidate = it.get_prev(datetime)
    return None
