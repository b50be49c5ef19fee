"""Schedules: cron in a time zone across DST, the latest missed slot, bad input named."""

from __future__ import annotations

from datetime import UTC, datetime

from hub.export.schedule import latest_fire_time, next_fire_times, schedule_errors


def test_daily_schedule_follows_local_time_across_dst():
    # 09:00 London is 09:00 UTC in winter and 08:00 UTC in summer.
    times = next_fire_times("0 9 * * *", "Europe/London", datetime(2026, 3, 27, 12, tzinfo=UTC), 3)
    assert times == [datetime(2026, 3, 28, 9, tzinfo=UTC), datetime(2026, 3, 29, 8, tzinfo=UTC), datetime(2026, 3, 30, 8, tzinfo=UTC)]


def test_a_repeated_wall_clock_time_fires_once_in_autumn():
    times = next_fire_times("30 1 * * *", "Europe/London", datetime(2026, 10, 24, 12, tzinfo=UTC), 3)
    assert times == [datetime(2026, 10, 25, 0, 30, tzinfo=UTC), datetime(2026, 10, 26, 1, 30, tzinfo=UTC), datetime(2026, 10, 27, 1, 30, tzinfo=UTC)]


def test_a_skipped_wall_clock_time_fires_once_after_the_gap_in_spring():
    times = next_fire_times("30 1 * * *", "Europe/London", datetime(2026, 3, 28, 12, tzinfo=UTC), 2)
    assert times == [datetime(2026, 3, 29, 1, 0, tzinfo=UTC), datetime(2026, 3, 30, 0, 30, tzinfo=UTC)]


def test_latest_fire_time_gives_one_slot_however_many_were_missed():
    now = datetime(2026, 11, 22, 10, tzinfo=UTC)
    assert latest_fire_time("0 9 * * *", "UTC", now) == datetime(2026, 11, 22, 9, tzinfo=UTC)
    # Down for a week: still only the latest slot, after the last run.
    assert latest_fire_time("0 9 * * *", "UTC", now, after_utc=datetime(2026, 11, 15, 9, tzinfo=UTC)) == datetime(2026, 11, 22, 9, tzinfo=UTC)
    assert latest_fire_time("0 9 * * *", "UTC", now, after_utc=datetime(2026, 11, 22, 9, tzinfo=UTC)) is None
    assert latest_fire_time("0 9 * * *", "UTC", datetime(2026, 11, 22, 9, tzinfo=UTC)) == datetime(2026, 11, 22, 9, tzinfo=UTC)


def test_weekly_schedule_in_a_zone():
    monday = latest_fire_time("0 8 * * MON", "America/New_York", datetime(2026, 11, 25, 0, tzinfo=UTC))
    assert monday == datetime(2026, 11, 23, 13, tzinfo=UTC)  # 08:00 EST


def test_bad_schedules_are_named():
    assert set(schedule_errors("61 * * * *", "Nowhere/City")) == {"schedule", "timezone"}
    assert schedule_errors("0 9 * * MON", "Europe/London") == {}
