"""Calendar days, business days and terms, computed from block time only (pure).

How block time maps to a calendar day: block time is UTC milliseconds from the header (BFT
time). The law's terms run in Kazakhstan's local time, and since 1 March 2024 the whole
country keeps one zone, UTC+5 with no daylight saving. So a block belongs to local day
    day = (time_ms + 5 h) // 24 h
counted from 1970-01-01 (local). Every term is a whole local day: "within N business days
from filing" ends at the end of the Nth business day after the filing day; an item "falls
due" on the first local day after its last day, and begin_block of the first block on or
after that day acts on it. Nothing here reads the clock; datetime.date is used only for
arithmetic on the day numbers it is given.

Business days: Monday to Friday, minus holidays, plus weekend days declared working. The
calendar of a year is maintained on the ledger by a governance transaction (calendar.set,
state key reg/c/<year>). For a year nobody has set, the fixed-date public holidays of the
Law "On holidays in the Republic of Kazakhstan" apply, with the Labour Code's rule (Art 85)
that a holiday falling on a weekend moves the day off to the next working day; the movable
religious holiday (Kurban ait) and the government's yearly day-off transfers need the
governance transaction.
"""

from __future__ import annotations

import datetime
import functools
from typing import Callable

from contracts import keys
from node.codec import decode_trusted as decode  # state is hash-checked by the tree (or a proof)

LOCAL_OFFSET_MS = 5 * 3600 * 1000          # Kazakhstan: UTC+5 all year
DAY_MS = 24 * 3600 * 1000
EPOCH = datetime.date(1970, 1, 1)          # day 0; a Thursday
BUSINESS_DAYS_SCAN_MAX = 400               # a named limit: no calendar has 400 days off in a row

# (month, day) of the fixed-date public holidays that are days off.
FIXED_HOLIDAYS = (
    (1, 1), (1, 2),            # New Year
    (3, 8),                    # International Women's Day
    (3, 21), (3, 22), (3, 23), # Nauryz meirami
    (5, 1),                    # Unity of the people of Kazakhstan
    (5, 7),                    # Defender of the Fatherland
    (5, 9),                    # Victory Day
    (7, 6),                    # Capital Day
    (8, 30),                   # Constitution Day
    (10, 25),                  # Republic Day
    (12, 16),                  # Independence Day
)


def day_of(time_ms: int) -> int:
    """The local (UTC+5) calendar day number of a block time."""
    return (time_ms + LOCAL_OFFSET_MS) // DAY_MS


def date_of(day: int) -> datetime.date:
    return EPOCH + datetime.timedelta(days=day)


@functools.lru_cache(maxsize=8192)
def year_of(day: int) -> int:
    # Deadline arithmetic asks this for every day it steps over; building a date each time
    # was a measurable share of executing a filing.
    return date_of(day).year


def day_from_date(date: datetime.date) -> int:
    return (date - EPOCH).days


def day_from_iso(text: str) -> int:
    return day_from_date(datetime.date.fromisoformat(text))


@functools.lru_cache(maxsize=4096)
def iso(day: int) -> str:
    # Every event stamps its day: one string per day rather than a date per call.
    return date_of(day).isoformat()


def start_ms(day: int) -> int:
    """Block time (UTC ms) at which local day `day` begins."""
    return day * DAY_MS - LOCAL_OFFSET_MS


def weekday(day: int) -> int:
    """0 = Monday ... 6 = Sunday."""
    return (day + 3) % 7


def add_months(day: int, months: int) -> int:
    """The same day of the month `months` later, clamped to the month's end (31 Jan + 1 -> 28/29 Feb)."""
    d = date_of(day)
    m = d.month - 1 + months
    year, month = d.year + m // 12, m % 12 + 1
    last = (datetime.date(year + (month == 12), month % 12 + 1, 1) - datetime.timedelta(days=1)).day
    return day_from_date(datetime.date(year, month, min(d.day, last)))


def add_years(day: int, years: int) -> int:
    return add_months(day, 12 * years)


@functools.lru_cache(maxsize=64)
def _default_days_off(year: int) -> tuple[int, ...]:
    return tuple(default_year(year)["holidays"])


def default_year(year: int) -> dict:
    """The calendar of a year nobody has set on the ledger: fixed holidays, weekend carry-over."""
    holidays: list[int] = []
    for month, dom in FIXED_HOLIDAYS:
        holidays.append(day_from_date(datetime.date(year, month, dom)))
    off = set(holidays)
    carried: list[int] = []
    for h in holidays:
        if weekday(h) >= 5:
            d = h + 1
            while weekday(d) >= 5 or d in off:
                d += 1
            off.add(d)
            carried.append(d)
    return {"year": year, "holidays": sorted(off), "working_days": [], "source": "default"}


@functools.lru_cache(maxsize=64)
def _year_sets(year: int, raw: bytes | None) -> tuple[frozenset[int], frozenset[int]]:
    """(holidays, working days) of a year from its ledger record (None: the default year).
    A pure function of the record's bytes, so shared by every Calendar: the same frozensets
    come back for the same record, and their hashes are computed once."""
    if raw is None:
        return frozenset(_default_days_off(year)), frozenset()
    rec = decode(raw)
    return frozenset(rec["holidays"]), frozenset(rec["working_days"])


# Business-day scans already made: (start day, n, direction, the calendars of the years the
# scan may cross) -> result. The key holds every input the scan reads, so an entry is right
# for any Calendar; several txs a block file against the same day and term.
_SCANS: dict[tuple, int] = {}
SCANS_KEPT = 4096


class Calendar:
    """Business-day arithmetic over the calendar records in a state (read through `get`).

    One instance serves one transaction or one begin_block; it caches the year records it
    has read, which is safe because nothing changes the calendar in between."""

    def __init__(self, get: Callable[[bytes], bytes | None]):
        self._get = get
        self._years: dict[int, tuple[frozenset[int], frozenset[int]]] = {}

    def _year(self, year: int) -> tuple[frozenset[int], frozenset[int]]:
        cached = self._years.get(year)
        if cached is None:
            cached = self._years[year] = _year_sets(year, self._get(keys.calendar_year(year)))
        return cached

    def is_business_day(self, day: int) -> bool:
        holidays, working = self._year(year_of(day))
        if day in working:
            return True
        if day in holidays:
            return False
        return weekday(day) < 5

    def add_business_days(self, day: int, n: int) -> int:
        """The nth business day after `day` (n >= 1); `day` itself never counts."""
        return self._scan(day, n, 1)

    def sub_business_days(self, day: int, n: int) -> int:
        """The nth business day before `day` (n >= 1)."""
        return self._scan(day, n, -1)

    def _scan(self, day: int, n: int, step: int) -> int:
        y = year_of(day)
        key = (day, n, step, self._year(y), self._year(y + step))
        found = _SCANS.get(key)
        if found is None:
            found = self._scan_days(day, n, step)
            if abs(year_of(found) - y) <= 1:  # within the years the key names
                if len(_SCANS) >= SCANS_KEPT:
                    _SCANS.clear()
                _SCANS[key] = found
        return found

    def _scan_days(self, day: int, n: int, step: int) -> int:
        assert n >= 1
        d, counted = day, 0
        for _ in range(BUSINESS_DAYS_SCAN_MAX + n * 7):
            d += step
            if self.is_business_day(d):
                counted += 1
                if counted == n:
                    return d
        raise AssertionError("calendar without business days")
