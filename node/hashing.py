"""Hash functions by name (pure).

Genesis names the algorithm (design decision 3); every digest is at least 256 bits, which
meets the pilot's ST RK 1073-2007 requirement of at least 250 bits.
"""

from __future__ import annotations

import hashlib
from typing import Callable

DIGEST_BITS_MIN = 256

_ALGORITHMS: dict[str, Callable[[bytes], bytes]] = {
    "sha256": lambda data: hashlib.sha256(data).digest(),
    "sha3-256": lambda data: hashlib.sha3_256(data).digest(),
}

DEFAULT_ALGORITHM = "sha256"


def hasher(name: str) -> Callable[[bytes], bytes]:
    """The hash function called `name`; raises ValueError for an unknown or short one."""
    try:
        fn = _ALGORITHMS[name]
    except KeyError:
        raise ValueError(f"unknown hash algorithm {name!r}; known: {sorted(_ALGORITHMS)}") from None
    assert len(fn(b"")) * 8 >= DIGEST_BITS_MIN
    return fn


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


HASH_SIZE = 32
ZERO_HASH = bytes(HASH_SIZE)
