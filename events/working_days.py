"""Which days are working days in Sweden, for choosing dates people can come.

A working day is a Monday to Friday that is neither a public holiday (lagen (1989:253) om
allmänna helgdagar: trettondedag jul, långfredagen, …) nor one of the eves that are days
off in practice (julafton, midsommarafton, nyårsafton): the `holidays` package's Sweden,
categories "public" and "de_facto".
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache
from typing import Any


@lru_cache(maxsize=8)
def _days_off(year: int) -> Any:
    from holidays.countries.sweden import Sweden  # loaded on first use, as series_dates does

    return Sweden(years=year, categories=("public", "de_facto"), language="sv")


def day_off(day: date) -> str | None:
    """The Swedish name of the holiday or eve on `day`, "lördag"/"söndag" for a weekend
    day, None for a working day."""
    named: str | None = _days_off(day.year).get(day)
    if named:
        return named
    if day.weekday() >= 5:
        return "lördag" if day.weekday() == 5 else "söndag"
    return None


def is_working_day(day: date) -> bool:
    return day_off(day) is None


def first_working_day(day: date, *, step: timedelta = timedelta(days=1)) -> date:
    """`day` if it is a working day, else the first working day after it in steps of `step`
    (a week keeps the weekday)."""
    while not is_working_day(day):
        day += step
    return day
