"""The slip's date is written as ``strftime`` writes it, faster where that is the same."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from terminal_sim.receipts.layout import DATE_FORMAT, date_text

ZONES = st.none() | st.just(dt.UTC) | st.just(dt.timezone(dt.timedelta(hours=-3)))


class Later(dt.datetime):
    def isoformat(self, sep: str = "T", timespec: str = "auto") -> str:
        return "not a date"


@given(st.datetimes(timezones=ZONES), st.booleans())
def test_the_date_is_strftime(when: dt.datetime, whole: bool) -> None:
    if whole:
        when = when.replace(microsecond=0)
    assert date_text(when) == when.strftime(DATE_FORMAT)


def test_examples() -> None:
    assert date_text(dt.datetime(2026, 1, 5, 8, 6, 15)) == "2026-01-05 08:06:15"
    assert date_text(dt.datetime(5, 1, 1)) == dt.datetime(5, 1, 1).strftime(DATE_FORMAT)
    assert date_text(dt.datetime(2026, 1, 5, 8, 6, 15, 7)) == "2026-01-05 08:06:15"
    assert date_text(Later(2026, 1, 5)) == "2026-01-05 00:00:00"
