"""The days a user may name (`--as-of`, `--at`, `--since`, `--effective`, `as_of=`, `at=`,
`since=`, `effective=`): one range for the CLI, the REST API and the explorer.

The reads compute days around the one asked for (the day after `as_of` bounds an event window,
a report looks 30 days ahead, a trend 56 days back, a chart 15 days either side), and Python's
dates end at 9999-12-31 and begin at 0001-01-01. So a day is accepted with a year to spare at
either end: no read can step outside the calendar and fail."""

from __future__ import annotations

from datetime import date

FIRST_DAY = date(2, 1, 1)
LAST_DAY = date(9998, 12, 31)
OUT_OF_RANGE = f"must be a day from {FIRST_DAY.isoformat()} to {LAST_DAY.isoformat()}"
"""The message for a valid date outside [FIRST_DAY, LAST_DAY]."""


class DayError(ValueError):
    """`text` is not a date YYYY-MM-DD, or one outside the accepted range; the message says which."""


def check_day(day: date) -> date:
    """`day` itself when FIRST_DAY <= day <= LAST_DAY; a DayError (OUT_OF_RANGE) otherwise."""
    if not FIRST_DAY <= day <= LAST_DAY:
        raise DayError(OUT_OF_RANGE)
    return day


def parse_day(text: str) -> date:
    """`text` (YYYY-MM-DD) as a date in the accepted range; a DayError saying what is wrong otherwise."""
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise DayError(f"'{text}' is not a date YYYY-MM-DD") from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise DayError(f"'{text}' {OUT_OF_RANGE}")
    return day
