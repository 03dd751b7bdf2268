"""The environment one contract call runs in: records, block context, signers, events.

`Records` reads decoded records through the StateView once and buffers writes until the
handler returns, so a handler that refuses half way writes nothing (the node discards a
refused tx's writes too; this makes the contracts safe on their own) and a record read twice
is the same object. Writes are flushed in the order they were made; the state root does not
depend on that order.

May import: contracts.keys, contracts.businessdays, node.codec, node.interfaces.
"""

from __future__ import annotations

from typing import Any, Iterable

from contracts import businessdays, keys
from node.codec import decode_trusted, encode_trusted
from node.interfaces import BlockContext, Event, StateView, VerifiedTx

MOJ = "MOJ"    # recipient: the Ministry of Justice legal cadastre IS
_DELETED = object()


class Records:
    def __init__(self, state: StateView):
        self.state = state
        self._cache: dict[bytes, Any] = {}
        self._dirty: dict[bytes, Any] = {}

    def get(self, key: bytes) -> Any:
        if key in self._cache:
            v = self._cache[key]
            return None if v is _DELETED else v
        raw = self.state.get(key)
        v = decode_trusted(raw) if raw is not None else None  # state reads are hash-checked by the tree
        self._cache[key] = v if v is not None else _DELETED
        return v

    def raw(self, key: bytes) -> bytes | None:
        """Undecoded read for keys written outside this buffer's knowledge (calendar reader)."""
        if key in self._dirty:
            v = self._dirty[key]
            return None if v is _DELETED else encode_trusted(v)
        return self.state.get(key)

    def put(self, key: bytes, value: Any) -> None:
        assert value is not None
        self._cache[key] = value
        self._dirty[key] = value

    def delete(self, key: bytes) -> None:
        self._cache[key] = _DELETED
        self._dirty[key] = _DELETED

    def flush(self) -> None:
        for k, v in self._dirty.items():
            if v is _DELETED:
                self.state.delete(k)
            else:
                self.state.set(k, encode_trusted(v))
        self._dirty.clear()

    # counters --------------------------------------------------------------------------
    def next_seq(self, key: bytes) -> int:
        n = (self.get(key) or 0) + 1
        self.put(key, n)
        return n


class Env:
    """Block context + transaction + records + the events being emitted."""

    def __init__(self, ctx: BlockContext, state: StateView, tx: VerifiedTx | None = None):
        self.ctx = ctx
        self.tx = tx
        self.rec = Records(state)
        self.events: list[Event] = []
        self.today = businessdays.day_of(ctx.time_ms)
        self._calendar: businessdays.Calendar | None = None

    @property
    def calendar(self) -> businessdays.Calendar:
        if self._calendar is None:
            self._calendar = businessdays.Calendar(self.rec.raw)
        return self._calendar

    # signers ---------------------------------------------------------------------------
    def signed_by(self, person_id: str) -> bool:
        assert self.tx is not None
        return self.tx.signed_by(person_id)

    def signers_with_role(self, *roles: str) -> list:
        assert self.tx is not None
        return self.tx.signers_with_role(*roles)

    def signer_ids(self) -> list[str]:
        """Every IIN/BIN the signers' certificates bind, sorted, once each."""
        assert self.tx is not None
        out: list[str] = []
        for s in self.tx.signers:
            for pid in (s.bin, s.iin):
                if pid and pid not in out:
                    out.append(pid)
        return sorted(out)

    def official(self, *roles: str) -> dict:
        """Who acted for a body (registrar, court, ...): the first signer with one of `roles`."""
        found = self.signers_with_role(*roles)
        assert found, f"handler reached without a signer of role {roles} (check_tx enforces it)"
        s = found[0]
        # Art 30.2: the decision names the responsible employee, not only their organisation.
        return {"name": s.name, "id": s.subject_id, "iin": s.iin, "role": next(r for r in roles if r in s.roles)}

    def stamp(self) -> dict:
        """When something happened: block height and time (Art 26: exact time of filing)."""
        return {"height": self.ctx.height, "time_ms": self.ctx.time_ms, "day": businessdays.iso(self.today)}

    # events ----------------------------------------------------------------------------
    def emit(self, event_kind: str, objects: Iterable[str], recipients: Iterable[str | None], **data: Any) -> None:
        """An event for `recipients` (MoJ always), whose data always lists the objects affected."""
        who = sorted({r for r in recipients if r} | {MOJ})
        body = {"objects": sorted(set(objects))}
        for k, v in data.items():
            if v is not None:
                body[k] = v
        self.events.append(Event(kind=event_kind, data=body, recipients=tuple(who)))
