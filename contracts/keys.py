"""Every ledger-state key the registration contracts read or write, built in this one module.

State keys live inside the state tree (not LevelDB keys; those are node/schema.py). All of
ours start with b"reg/" and a one-letter table; integers are big-endian so keys of one table
sort by number. The only key we write outside b"reg/" is the certificate revocation record
the node itself reads (node.schema.state_revoked), written by the lost-key contract.

Tables (values are canonical msgpack, node.codec):
- reg/o/<cadastral number>   object: identification characteristics + index lists of its
                             active rights, encumbrances, claims, notes, full history,
                             pending applications (Art 14 registration sheet)
- reg/e/<u64 entry id>       an entry of a registration sheet (right, encumbrance, legal
                             claim, note, correction, cancellation) with its status
- reg/a/<u64 number>         an application in the book of documents received (Art 13, 26)
- reg/h/<IIN|BIN>            holdings: sorted cadastral numbers where the person holds a right
- reg/w/<IIN|BIN>            settlement-token wallet {"available", "locked"} in tiyn
- reg/t/supply               total settlement tokens issued minus redeemed, in tiyn
- reg/d/<u32 day>            due index: number of pages of deadlines falling due that local day
- reg/d/<u32 day><u32 page>  one page (at most deadlines.PAGE_ITEMS_MAX items) of that day's deadlines
- reg/c/<u16 year>           business-day calendar of one year (holidays, working weekends)
- reg/k/<IIN|BIN>            a person's certificate fingerprints (lost-key replacement)
- reg/b/<fingerprint>        which person a certificate fingerprint is bound to
- reg/m/...                  counters, the due-index cursor, the consortium policy
"""

from __future__ import annotations

import struct

from node.schema import state_revoked  # re-exported: the lost-key contract writes it

PREFIX = b"reg/"

OBJECT_PREFIX = PREFIX + b"o/"
ENTRY_PREFIX = PREFIX + b"e/"
APPLICATION_PREFIX = PREFIX + b"a/"
HOLDINGS_PREFIX = PREFIX + b"h/"
WALLET_PREFIX = PREFIX + b"w/"
DUE_PREFIX = PREFIX + b"d/"
CALENDAR_PREFIX = PREFIX + b"c/"
PERSON_KEYS_PREFIX = PREFIX + b"k/"
KEY_BINDING_PREFIX = PREFIX + b"b/"

TOKEN_SUPPLY = PREFIX + b"t/supply"
SEQ_APPLICATION = PREFIX + b"m/seq/application"
SEQ_ENTRY = PREFIX + b"m/seq/entry"
DUE_CURSOR = PREFIX + b"m/due-cursor"
POLICY = PREFIX + b"m/policy"
GENESIS = PREFIX + b"m/genesis"


def obj(cadastral_number: str) -> bytes:
    return OBJECT_PREFIX + cadastral_number.encode()


def entry(entry_id: int) -> bytes:
    return ENTRY_PREFIX + struct.pack(">Q", entry_id)


def application(number: int) -> bytes:
    return APPLICATION_PREFIX + struct.pack(">Q", number)


def holdings(person_id: str) -> bytes:
    return HOLDINGS_PREFIX + person_id.encode()


def wallet(person_id: str) -> bytes:
    return WALLET_PREFIX + person_id.encode()


def due(day: int) -> bytes:
    """How many pages of due items the day has."""
    assert 0 <= day < 2**32, day
    return DUE_PREFIX + struct.pack(">I", day)


def due_page(day: int, page: int) -> bytes:
    assert 0 <= day < 2**32 and 0 <= page < 2**32, (day, page)
    return DUE_PREFIX + struct.pack(">II", day, page)


def calendar_year(year: int) -> bytes:
    assert 0 < year < 2**16, year
    return CALENDAR_PREFIX + struct.pack(">H", year)


def person_keys(person_id: str) -> bytes:
    return PERSON_KEYS_PREFIX + person_id.encode()


def key_binding(fingerprint: bytes) -> bytes:
    return KEY_BINDING_PREFIX + fingerprint


revoked = state_revoked

__all__ = [
    "application", "calendar_year", "due", "due_page", "entry", "holdings", "key_binding", "obj",
    "person_keys", "revoked", "wallet", "TOKEN_SUPPLY", "SEQ_APPLICATION", "SEQ_ENTRY",
    "DUE_CURSOR", "POLICY", "GENESIS",
]
