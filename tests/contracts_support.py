"""Test support for the registration contracts: credentials, transactions, a dict-backed
state, and a Chain that runs blocks the way the node does (begin_block, then each tx with
its writes discarded when it is refused).

No X.509 here: Credentials are built directly, as the node would after verifying a
certificate. Identities are valid IINs/BINs from node.identity.
"""

from __future__ import annotations

import dataclasses
import datetime
import hashlib
from typing import Any

from contracts import RegistryExecutor, builders as B, businessdays, queries
from node.codec import encode
from node.errors import Refusal, TamgaError
from node.identity import make_bin, make_iin
from node.interfaces import BlockContext, Credential, Event, Outcome, VerifiedTx
from node.schema import state_revoked

CHAIN_ID = "tamga-test"
# Monday 2 March 2026, 10:00 in Astana (UTC+5) = 05:00 UTC.
T0_MS = businessdays.start_ms(businessdays.day_from_iso("2026-03-02")) + 10 * 3600 * 1000
DAY_MS = businessdays.DAY_MS


class DictState:
    """A StateView over a dict."""

    def __init__(self, data: dict[bytes, bytes] | None = None):
        self.data: dict[bytes, bytes] = dict(data or {})

    def get(self, key: bytes) -> bytes | None:
        return self.data.get(key)

    def set(self, key: bytes, value: bytes) -> None:
        assert isinstance(key, bytes) and isinstance(value, bytes)
        self.data[key] = value

    def delete(self, key: bytes) -> None:
        self.data.pop(key, None)

    def digest(self) -> bytes:
        """A hash of the whole state, standing in for the state root in determinism checks."""
        h = hashlib.sha256()
        for k in sorted(self.data):
            h.update(len(k).to_bytes(4, "big") + k + len(self.data[k]).to_bytes(4, "big") + self.data[k])
        return h.digest()


class Overlay:
    """One transaction's view: reads fall through to the base, writes are kept until commit."""

    _GONE = object()

    def __init__(self, base: DictState):
        self.base = base
        self.writes: dict[bytes, Any] = {}

    def get(self, key: bytes) -> bytes | None:
        if key in self.writes:
            v = self.writes[key]
            return None if v is Overlay._GONE else v
        return self.base.get(key)

    def set(self, key: bytes, value: bytes) -> None:
        assert isinstance(key, bytes) and isinstance(value, bytes)
        self.writes[key] = value

    def delete(self, key: bytes) -> None:
        self.writes[key] = Overlay._GONE

    def commit(self) -> None:
        for k, v in self.writes.items():
            if v is Overlay._GONE:
                self.base.delete(k)
            else:
                self.base.set(k, v)


# --- people ----------------------------------------------------------------------------------
_serial = [1000]


def _next_serial() -> int:
    _serial[0] += 1
    return _serial[0]


def cred(name: str, roles: tuple[str, ...], *, iin: str | None = None, bin: str | None = None,
         organisation: str | None = None, key_tag: str = "") -> Credential:
    serial = _next_serial()
    fp = hashlib.sha256(f"{name}|{iin}|{bin}|{roles}|{key_tag}|{serial}".encode()).digest()
    return Credential(fingerprint=fp, serial=serial, name=name, iin=iin, bin=bin, organisation=organisation,
                      roles=tuple(sorted(roles)), public_key=fp, not_before_ms=0, not_after_ms=2**62)


def citizen(n: int, name: str | None = None, sex: str = "M") -> Credential:
    iin = make_iin(datetime.date(1960 + n % 40, 1 + n % 12, 1 + n % 28), sex, n)
    return cred(name or f"Citizen {n}", ("citizen",), iin=iin)


def org(n: int, role: str, name: str | None = None, person_n: int | None = None) -> Credential:
    """An employee signing for an organisation: the organisation's BIN and the employee's IIN."""
    bin_ = make_bin(datetime.date(1995 + n % 25, 1 + n % 12, 1), n)
    iin = make_iin(datetime.date(1970 + (person_n or n) % 30, 1 + (person_n or n) % 12, 2), "F", (person_n or n) + 500)
    return cred(name or f"{role} {n}", (role,), iin=iin, bin=bin_, organisation=name or f"{role} org {n}")


def person_cred(iin: str, name: str, roles: tuple[str, ...] = ("citizen",), key_tag: str = "") -> Credential:
    return cred(name, roles, iin=iin, key_tag=key_tag)


def doc(name: str = "agreement.pdf") -> dict:
    return B.doc(name, name.encode())


def act(number: str = "2-123/2026", date: str = "2026-03-01") -> dict:
    return B.act(number, date, number.encode())


def ident(address: str = "Astana, Mangilik El 1", area: int = 650_000, **more: Any) -> dict:
    return B.ident(address, area, **more)


def land(cn: str, *holders: dict, encumbrances: list[dict] | None = None, common: str | None = None) -> dict:
    return B.loaded_object(cn, "land", ident(f"plot {cn}", 6_000_000, land_category="settlements"),
                           [B.ownership(*holders, common=common)], encumbrances=encumbrances)


def apartment(cn: str, *holders: dict, parent: str | None = None, common: str | None = None) -> dict:
    return B.loaded_object(cn, "apartment", ident(f"Astana, apt {cn}", 650_000, floors=9, area_living_dm2=420_000),
                           [B.ownership(*holders, common=common)], parent=parent)


# --- transactions and blocks -------------------------------------------------------------------
_nonce = [0]


def tx(built: tuple[str, dict], *signers: Credential, memo: str = "") -> VerifiedTx:
    kind, payload = built
    _nonce[0] += 1
    body = encode({"kind": kind, "payload": payload, "nonce": _nonce[0]})
    return VerifiedTx(tx_id=hashlib.sha256(body).digest(), kind=kind, payload=payload, nonce=_nonce[0], memo=memo,
                      signers=tuple(signers), body=body, envelope=body)


@dataclasses.dataclass
class Receipt:
    tx: VerifiedTx
    outcome: Outcome | None = None
    refusal: TamgaError | None = None

    @property
    def ok(self) -> bool:
        return self.outcome is not None

    @property
    def code(self) -> str:
        return self.outcome.code if self.outcome is not None else self.refusal.code

    @property
    def events(self) -> tuple[Event, ...]:
        return self.outcome.events if self.outcome is not None else ()

    def event(self, kind: str) -> Event:
        found = [e for e in self.events if e.kind == kind]
        assert len(found) == 1, (kind, [e.kind for e in self.events])
        return found[0]


@dataclasses.dataclass
class BlockResult:
    begin_events: list[Event]
    receipts: list[Receipt]


class Chain:
    """Runs blocks against a DictState the way the node does."""

    def __init__(self, register: list[dict] | None = None, *, app_state: dict | None = None, time_ms: int = T0_MS):
        self.executor = RegistryExecutor()
        self.state = DictState()
        self.height = 0
        self.time_ms = time_ms
        state = dict(app_state or {})
        if register is not None:
            state["register"] = register
        self.executor.init_chain(state, self.state, self.ctx())
        self.blocks: list[list[VerifiedTx]] = []
        self.log: list[tuple[int, int, list[VerifiedTx]]] = []

    def ctx(self) -> BlockContext:
        return BlockContext(chain_id=CHAIN_ID, height=self.height, time_ms=self.time_ms, proposer=b"\x00" * 32)

    def block(self, *txs: VerifiedTx, advance_ms: int = 60_000) -> BlockResult:
        self.height += 1
        self.time_ms += advance_ms
        self.log.append((self.height, self.time_ms, list(txs)))
        ctx = self.ctx()
        begin = self.executor.begin_block(ctx, self.state)
        receipts = []
        for t in txs:
            receipts.append(self._deliver(ctx, t))
        return BlockResult(begin, receipts)

    def _deliver(self, ctx: BlockContext, t: VerifiedTx) -> Receipt:
        # What the node does before execution: stateless checks and the revocation check.
        try:
            self.executor.check_tx(t)
        except TamgaError as exc:
            return Receipt(t, refusal=exc)
        for s in t.signers:
            if self.state.get(state_revoked(s.fingerprint)) is not None:
                return Receipt(t, refusal=Refusal("CERTIFICATE_REVOKED", "revoked", ""))
        view = Overlay(self.state)
        try:
            outcome = self.executor.deliver_tx(ctx, t, view)
        except Refusal as exc:
            # The contracts buffer their writes and flush only on success: a refusal wrote nothing.
            assert not view.writes, f"{t.kind} refused ({exc.code}) after writing {len(view.writes)} keys"
            assert exc.article is not None
            return Receipt(t, refusal=exc)
        view.commit()
        return Receipt(t, outcome=outcome)

    def run(self, built: tuple[str, dict], *signers: Credential, advance_ms: int = 60_000) -> Receipt:
        """One tx in its own block."""
        return self.block(tx(built, *signers), advance_ms=advance_ms).receipts[0]

    def ok(self, built: tuple[str, dict], *signers: Credential, advance_ms: int = 60_000) -> Receipt:
        r = self.run(built, *signers, advance_ms=advance_ms)
        assert r.ok, f"{built[0]} refused: {r.refusal}"
        return r

    def refused(self, built: tuple[str, dict], *signers: Credential, code: str) -> Receipt:
        r = self.run(built, *signers)
        assert not r.ok, f"{built[0]} was expected to be refused with {code}, got {r.code}"
        assert r.refusal.code == code, f"expected {code}, got {r.refusal}"
        return r

    def advance_to(self, date_iso: str, hour: int = 10) -> BlockResult:
        """Run an empty block at `hour` local time on `date_iso`."""
        target = businessdays.start_ms(businessdays.day_from_iso(date_iso)) + hour * 3600 * 1000
        assert target > self.time_ms
        return self.block(advance_ms=target - self.time_ms)

    def today(self) -> str:
        return businessdays.iso(businessdays.day_of(self.time_ms))

    # reads ------------------------------------------------------------------------------
    def sheet(self, cn: str) -> dict:
        s = queries.read_object(self.state, cn)
        assert s is not None, cn
        return s

    def cert(self, cn: str) -> dict:
        return queries.encumbrance_certificate(self.state, cn)

    def app(self, number: int) -> dict:
        return queries.application(self.state, number)

    def owners(self, cn: str) -> dict[str, tuple[int, int]]:
        out = {}
        for r in self.sheet(cn)["rights"]:
            for h in r["holders"]:
                out[h["id"]] = tuple(h["share"])
        return out


def app_number(r: Receipt) -> int:
    for e in r.events:
        if "application" in e.data:
            return e.data["application"]
    raise AssertionError("no application number in the events")


def replay(log: list[tuple[int, int, list[VerifiedTx]]], app_state: dict, genesis_time_ms: int = T0_MS) -> DictState:
    """Re-execute a chain's blocks from genesis on a fresh executor and state."""
    ex = RegistryExecutor()
    st = DictState()
    ex.init_chain(app_state, st, BlockContext(CHAIN_ID, 0, genesis_time_ms, b"\x00" * 32))
    for height, time_ms, txs in log:
        ctx = BlockContext(CHAIN_ID, height, time_ms, b"\x00" * 32)
        ex.begin_block(ctx, st)
        for t in txs:
            try:
                ex.check_tx(t)
            except TamgaError:
                continue
            if any(st.get(state_revoked(s.fingerprint)) is not None for s in t.signers):
                continue
            view = Overlay(st)
            try:
                ex.deliver_tx(ctx, t, view)
            except Refusal:
                continue
            view.commit()
    return st
