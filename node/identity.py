"""Kazakh personal (IIN) and business (BIN) identification numbers (pure).

Both are 12 digits with a check digit in the last place, computed with weights 1..11
modulo 11; when that gives 10, the weights 3..11,1,2 are used instead; when that too gives
10 the number is never issued, so it is invalid.
- IIN: YYMMDD, a century-and-sex digit (1-2: 1800s, 3-4: 1900s, 5-6: 2000s), 4 serial
  digits, the check digit.
- BIN: YYMM of registration, the kind of entity (4 resident legal entity, 5 non-resident,
  6 joint individual entrepreneurship), an attribute (0 head office, 1 branch,
  2 representative office, 3 peasant farm), 5 serial digits, the check digit.
"""

from __future__ import annotations

import datetime
import functools

from node.errors import InvalidIdentifier

_WEIGHTS_1 = tuple(range(1, 12))
_WEIGHTS_2 = (3, 4, 5, 6, 7, 8, 9, 10, 11, 1, 2)
_CENTURY = {1: 1800, 2: 1800, 3: 1900, 4: 1900, 5: 2000, 6: 2000}


def check_digit(first11: str) -> int | None:
    """The check digit of the first 11 digits, or None when the number cannot be issued."""
    digits = [int(c) for c in first11]
    c = sum(w * d for w, d in zip(_WEIGHTS_1, digits)) % 11
    if c == 10:
        c = sum(w * d for w, d in zip(_WEIGHTS_2, digits)) % 11
        if c == 10:
            return None
    return c


def _twelve_digits(value: str, what: str) -> str:
    if not isinstance(value, str) or len(value) != 12 or not value.isdigit():
        raise InvalidIdentifier(f"{what} must be exactly 12 digits, got {value!r}")
    c = check_digit(value[:11])
    if c is None or c != int(value[11]):
        raise InvalidIdentifier(f"{what} {value} fails its check digit; re-read it from the document")
    return value


# Every admitted tx checks the identifiers in its payload (pledgors, buyers, the bank's BIN)
# and the same few thousand recur; validity is a pure function of the string, so valid ones
# are remembered (lru_cache keeps no exceptions: an invalid one is re-checked and refused
# every time). Anything but a str skips the cache and gets the typed error.
VALID_IDS_CACHED = 1 << 16


def _cached_for_strings(check):
    cached = functools.lru_cache(maxsize=VALID_IDS_CACHED)(check)

    @functools.wraps(check)
    def validate(value: str) -> str:
        return cached(value) if type(value) is str else check(value)

    return validate


@_cached_for_strings
def validate_iin(value: str) -> str:
    """Return `value` when it is a valid IIN; raise InvalidIdentifier otherwise."""
    _twelve_digits(value, "IIN")
    century_digit = int(value[6])
    if century_digit not in _CENTURY:
        raise InvalidIdentifier(f"IIN {value}: 7th digit {century_digit} is not a century-and-sex code (1-6)")
    year = _CENTURY[century_digit] + int(value[0:2])
    try:
        datetime.date(year, int(value[2:4]), int(value[4:6]))
    except ValueError:
        raise InvalidIdentifier(f"IIN {value}: digits 1-6 are not a valid date of birth") from None
    return value


@_cached_for_strings
def validate_bin(value: str) -> str:
    """Return `value` when it is a valid BIN; raise InvalidIdentifier otherwise."""
    _twelve_digits(value, "BIN")
    month = int(value[2:4])
    if not 1 <= month <= 12:
        raise InvalidIdentifier(f"BIN {value}: digits 3-4 ({value[2:4]}) are not a month of registration")
    if value[4] not in "456":
        raise InvalidIdentifier(f"BIN {value}: 5th digit must be 4, 5 or 6 (kind of entity)")
    if value[5] not in "0123":
        raise InvalidIdentifier(f"BIN {value}: 6th digit must be 0-3 (head office, branch, ...)")
    return value


def is_bin(value: str) -> bool:
    """Tell a valid BIN from anything else (an IIN's 5th digit is a day's tens digit, 0-3)."""
    try:
        validate_bin(value)
        return True
    except InvalidIdentifier:
        return False


@_cached_for_strings
def validate_person_id(value: str) -> str:
    """An IIN or a BIN; the error names both possibilities."""
    try:
        return validate_iin(value)
    except InvalidIdentifier as iin_error:
        try:
            return validate_bin(value)
        except InvalidIdentifier:
            raise InvalidIdentifier(f"{value!r} is neither a valid IIN nor a valid BIN ({iin_error.message})") from None


def make_iin(birth: datetime.date, sex: str, serial: int) -> str:
    """Build a valid IIN (for test data and the demo register). Tries the next serials
    until one has a check digit."""
    base = {1800: 1, 1900: 3, 2000: 5}[birth.year // 100 * 100] + (1 if sex == "F" else 0)
    for s in range(serial, serial + 100):
        first = f"{birth:%y%m%d}{base}{s % 10000:04d}"
        c = check_digit(first)
        if c is not None:
            return first + str(c)
    raise AssertionError("no issuable IIN in 100 serials")  # cannot happen: 1 in 11 fails


def make_bin(registered: datetime.date, serial: int, kind: int = 4, attribute: int = 0) -> str:
    """Build a valid BIN (for test data and the demo register)."""
    for s in range(serial, serial + 100):
        first = f"{registered:%y%m}{kind}{attribute}{s % 100000:05d}"
        c = check_digit(first)
        if c is not None:
            return first + str(c)
    raise AssertionError("no issuable BIN in 100 serials")
