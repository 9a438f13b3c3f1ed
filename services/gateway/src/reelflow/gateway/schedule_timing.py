"""When scheduled items are due: IANA time zones, local due times and cron cadences, as pure functions.

A due time is given as a local wall-clock time with its zone, as a person plans it ("09:00 in Asia/Seoul"); it is
stored as epoch seconds (see ``stored_times``). A wall-clock time that does not exist (the hour skipped when the
clocks go forward) is read with the offset before the change, so 02:30 becomes 03:30; one that happens twice (the
hour repeated when they go back) is the first of the two. Cron cadences are evaluated in the schedule's zone by
cronsim, so "0 9 * * *" stays at 09:00 local across a DST change; an occurrence in a skipped hour fires at the
first minute after the gap (02:30 → 03:00), once.
"""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cronsim import CronSim, CronSimError

TIMEZONE_EXAMPLES = "e.g. Asia/Seoul, Europe/Berlin, America/New_York or UTC"
MAX_ZONE_CHARS = 64


def zone_of(name: str) -> ZoneInfo:
    """The IANA zone ``name``; ValueError (naming it and what to write instead) when there is none."""
    problem = f"{name!r} is not an IANA time zone ({TIMEZONE_EXAMPLES})"
    if not name or len(name) > MAX_ZONE_CHARS or name != name.strip() or name.startswith("/") or ".." in name:
        raise ValueError(problem)
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError) as error:
        raise ValueError(problem) from error


def cron_problem(expression: str) -> str | None:
    """Why ``expression`` is not a cron cadence this scheduler runs, or None when it is one."""
    fields = expression.split()
    if len(fields) != 5:
        return (
            f"{expression!r} is not a 5-field cron expression (minute hour day-of-month month day-of-week, "
            "e.g. '0 9 * * 1-5' for 09:00 on weekdays)"
        )
    try:
        next(CronSim(expression, datetime(2000, 1, 1, tzinfo=UTC)))
    except CronSimError as error:
        return f"{expression!r} is not a valid cron expression: {error}"
    except StopIteration:
        return f"{expression!r} never fires"
    return None


def due_epoch(local: datetime, timezone: str) -> float:
    """The instant of ``local`` (a wall-clock time in ``timezone``; an aware time is taken as it is)."""
    if local.tzinfo is not None:
        return local.timestamp()
    return local.replace(tzinfo=zone_of(timezone), fold=0).timestamp()


def local_time(epoch: float, timezone: str) -> datetime:
    """``epoch`` as the wall-clock time in ``timezone`` (aware)."""
    return datetime.fromtimestamp(epoch, zone_of(timezone))


def next_occurrence(cron: str, timezone: str, after: float) -> float:
    """The first time ``cron`` fires in ``timezone`` strictly after the instant ``after``, as epoch seconds."""
    # cronsim answers the first firing minute after the minute ``after`` falls in, in the start's zone.
    occurrence: datetime = next(CronSim(cron, local_time(after, timezone)))
    return occurrence.timestamp()
