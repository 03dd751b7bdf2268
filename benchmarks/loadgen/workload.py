"""The generator's model of the register and the request flows it drives.

A request is what a bank, citizen or court asks of the registering body, as in the pilot:
- pledge (the pilot's smart pledge contract): the bank reads the encumbrance certificate
  (HTTP GET), files pledge.file signed by the bank and every pledgor, and the registrar
  decides "register" (application.decide) once the filing is committed;
- sale: sale.file signed by every seller and the buyer, then the registrar's decision;
- discharge: the pledgee bank discharges a pledge it holds (registered at filing under the
  default consortium policy);
- claim: a citizen registers a legal claim (immediate, Art 53);
- check: a bank only reads an encumbrance certificate (no transaction).
Injected faults, for showing that bad runs are visible (weight 0 unless asked for):
- bad_refused: a decision on an application that does not exist (committed, refused);
- bad_error: an envelope whose signature does not verify (refused at submission).

Flows are generators: they yield steps (a tx to submit, or a check to make) and receive each
step's result, so the same flow runs over HTTP or gRPC, open or closed loop. The first tx of
every flow is built and signed when the flow is planned (before timing); later steps depend
on the ledger's answer (the application number, the pledge entry) and are signed on the spot
(one registrar signature).

The model only hands an object to one flow at a time: a free object to a pledge or a sale, a
pledged one to a discharge. An object whose flow ended unexpectedly (refusal, error, timeout)
is retired, so one surprise does not cascade into more refusals.
"""

from __future__ import annotations

import dataclasses
import itertools
import random
from typing import Any, Generator

from benchmarks.loadgen.population import Party, Population
from contracts import builders as B
from node import envelope

APPLIED, REFUSED, ERROR, TIMEOUT = "applied", "refused", "error", "timeout"

DEFAULT_MIX = {"pledge": 50, "discharge": 20, "sale": 12, "claim": 8, "check": 10, "bad_refused": 0, "bad_error": 0}
TX_FREE_MIX = ("check",)   # flows without a transaction (HTTP only)


@dataclasses.dataclass
class TxStep:
    label: str                   # what the report calls it: "pledge.file", "application.decide (pledge)", ...
    envelope: bytes
    notify: str                  # whose notification ends it: "bank:<BIN>" (the pledgee bank) or "moj"
    signatures: int = 1


@dataclasses.dataclass
class CheckStep:
    party: Party
    cn: str


@dataclasses.dataclass
class StepResult:
    outcome: str                 # applied / refused / error / timeout (checks: applied or error)
    code: str = ""               # receipt code (FILED, REGISTERED, refusal code) or error code
    events: list[tuple[str, dict]] = dataclasses.field(default_factory=list)
    height: int = 0
    tx_id: bytes = b""

    def event(self, kind: str) -> dict | None:
        return next((d for k, d in self.events if k == kind), None)


Flow = Generator[Any, StepResult, None]


class Pool:
    """A set with O(1) random removal."""

    def __init__(self, items=()):
        self.items: list = []
        self.pos: dict = {}
        for i in items:
            self.add(i)

    def __len__(self) -> int:
        return len(self.items)

    def __contains__(self, item) -> bool:
        return item in self.pos

    def add(self, item) -> None:
        if item not in self.pos:
            self.pos[item] = len(self.items)
            self.items.append(item)

    def remove(self, item) -> None:
        i = self.pos.pop(item)
        last = self.items.pop()
        if i < len(self.items):
            self.items[i] = last
            self.pos[last] = i

    def pop_random(self, rnd: random.Random):
        item = self.items[rnd.randrange(len(self.items))]
        self.remove(item)
        return item


@dataclasses.dataclass
class PlannedFlow:
    kind: str
    flow: Flow
    notify: str
    undo: Any = None             # gives back what planning reserved, if the flow is never run


class Workload:
    def __init__(self, population: Population, chain_id: str, *, mix: dict[str, int] | None = None, seed: int = 11, with_checks: bool = True):
        self.pop = population
        self.chain_id = chain_id
        self.rnd = random.Random(seed)
        self.mix = {**DEFAULT_MIX, **(mix or {})}
        self.with_checks = with_checks
        self.free = Pool(population.holders)
        self.pledged: dict[str, tuple[int, Party]] = {}
        self.pledged_pool = Pool()
        self.retired: dict[str, str] = {}          # cn -> why
        self.substituted = 0                        # flows planned as another kind for want of objects
        self._nonce = itertools.count(self.rnd.randrange(1, 2**40))
        self._bad = itertools.count(1)
        self.signatures = 0                         # Ed25519 signatures made by the generator

    # --- building ----------------------------------------------------------------------
    def sign(self, built: tuple[str, dict], *parties: Party) -> bytes:
        kind, payload = built
        self.signatures += len(parties)
        return envelope.build_envelope(self.chain_id, kind, payload, [p.pair for p in parties], next(self._nonce))

    def decide(self, number: int) -> bytes:
        return self.sign(B.application_decide(number, "register"), self.pop.registrar)

    def _bank(self) -> Party:
        return self.pop.banks[self.rnd.randrange(len(self.pop.banks))]

    def _person(self, not_in: list[str] = ()) -> Party:
        while True:
            p = self.pop.people[self.rnd.randrange(len(self.pop.people))]
            if p.iin not in not_in:
                return p

    # --- planning ----------------------------------------------------------------------
    def plan(self, n: int, *, txs_only: bool = False, mix: dict[str, int] | None = None) -> list[PlannedFlow]:
        """Pick n flows by the mix and sign their first transactions now (not timed)."""
        weights = {k: v for k, v in (mix or self.mix).items() if v > 0 and not (txs_only and k in TX_FREE_MIX)}
        names, w = list(weights), list(weights.values())
        return [self._plan_one(self.rnd.choices(names, w)[0], checks=self.with_checks and not txs_only) for _ in range(n)]

    def _plan_one(self, kind: str, checks: bool) -> PlannedFlow:
        if kind == "discharge" and not self.pledged_pool:
            kind = "pledge"
            self.substituted += 1
        if kind in ("pledge", "sale") and not self.free:
            kind = "claim"
            self.substituted += 1
        if kind == "pledge":
            cn = self.free.pop_random(self.rnd)
            bank = self._bank()
            holders = self.pop.holders[cn]
            env = self.sign(B.pledge_file(cn, bank.bin, self.rnd.randrange(10_000_000_00, 90_000_000_00), "2036-01-01", f"loan agreement {next(self._bad)}",
                                          [B.doc("title.pdf", cn.encode()), B.doc("payment-receipt.pdf", env_salt(self.rnd))]),
                            bank, *(self.pop.by_id[h] for h in holders))
            return PlannedFlow(kind, self._pledge(cn, bank, env, 1 + len(holders), checks), "bank:" + bank.bin, lambda: self.release(cn))
        if kind == "discharge":
            cn = self.pledged_pool.pop_random(self.rnd)
            pid, bank = self.pledged.pop(cn)
            env = self.sign(B.pledge_discharge(pid, "fulfilled", [B.doc("bank-letter.pdf", env_salt(self.rnd))]), bank)
            return PlannedFlow(kind, self._discharge(cn, bank, env), "bank:" + bank.bin, lambda: self._pledged(cn, pid, bank))
        if kind == "sale":
            cn = self.free.pop_random(self.rnd)
            holders = self.pop.holders[cn]
            buyer = self._person(holders)
            sellers = [B.seller(h, 1, len(holders)) for h in holders]
            env = self.sign(B.sale_file(cn, sellers, [B.buyer(buyer.iin)], self.rnd.randrange(20_000_000_00, 80_000_000_00), [B.doc("contract.pdf", env_salt(self.rnd))]),
                            *(self.pop.by_id[h] for h in holders), buyer)
            return PlannedFlow(kind, self._sale(cn, buyer, env, len(holders) + 1), "moj", lambda: self.release(cn))
        if kind == "claim":
            cn = self.pop.objects[self.rnd.randrange(len(self.pop.objects))]["cn"]
            claimant = self._person()
            env = self.sign(B.claim_register(cn, claimant.iin, "lawsuit", f"case 2-{next(self._bad)}/2026", [B.doc("suit.pdf", env_salt(self.rnd))]), claimant)
            return PlannedFlow(kind, self._single("claim.register", env, "moj"), "moj")
        if kind == "check":
            cn = self.pop.objects[self.rnd.randrange(len(self.pop.objects))]["cn"]
            return PlannedFlow(kind, self._check(self._bank(), cn), "")
        if kind == "bad_refused":
            env = self.sign(B.application_decide(10**12 + next(self._bad), "register"), self.pop.registrar)
            return PlannedFlow(kind, self._single("application.decide (no such application)", env, "moj"), "moj")
        if kind == "bad_error":
            claimant = self._person()
            cn = self.pop.objects[0]["cn"]
            env = bytearray(self.sign(B.claim_register(cn, claimant.iin, "lawsuit", f"case 3-{next(self._bad)}/2026", [B.doc("suit.pdf", b"x")]), claimant))
            env[-1] ^= 0xFF  # the last byte is inside the signature: it no longer verifies
            return PlannedFlow(kind, self._single("claim.register (bad signature)", bytes(env), "moj"), "moj")
        raise AssertionError(f"unknown flow kind {kind}")

    def unplan(self, flows) -> None:
        """Give back the objects of planned flows that were never started."""
        for f in flows:
            if f.undo is not None:
                f.undo()
            f.flow.close()

    def release(self, cn: str) -> None:
        self.free.add(cn)

    def _pledged(self, cn: str, pid: int, bank: Party) -> None:
        self.pledged[cn] = (pid, bank)
        self.pledged_pool.add(cn)

    def retire(self, cn: str, why: str) -> None:
        self.retired[cn] = why

    # --- the flows -----------------------------------------------------------------------
    def _check(self, bank: Party, cn: str) -> Flow:
        yield CheckStep(bank, cn)

    def _single(self, label: str, env: bytes, notify: str) -> Flow:
        yield TxStep(label, env, notify)

    def _pledge(self, cn: str, bank: Party, env: bytes, sigs: int, check: bool) -> Flow:
        if check:
            r = yield CheckStep(bank, cn)
            if r.outcome != APPLIED:
                self.release(cn)
                return
        r = yield TxStep("pledge.file", env, "bank:" + bank.bin, sigs)
        filed = r.event("application.filed")
        if r.outcome != APPLIED or r.code != "FILED" or filed is None:
            self.retire(cn, f"pledge.file {r.outcome} {r.code}")
            return
        r = yield TxStep("application.decide (pledge)", self.decide(int(filed["application"])), "bank:" + bank.bin)
        reg = r.event("application.registered")
        if r.outcome != APPLIED or r.code != "REGISTERED" or reg is None:
            self.retire(cn, f"decide pledge {r.outcome} {r.code}")
            return
        self._pledged(cn, int(reg["pledge"]), bank)

    def _discharge(self, cn: str, bank: Party, env: bytes) -> Flow:
        r = yield TxStep("pledge.discharge", env, "bank:" + bank.bin)
        if r.outcome == APPLIED and r.code == "REGISTERED":
            self.release(cn)
        else:
            self.retire(cn, f"pledge.discharge {r.outcome} {r.code}")

    def _sale(self, cn: str, buyer: Party, env: bytes, sigs: int) -> Flow:
        r = yield TxStep("sale.file", env, "moj", sigs)
        filed = r.event("application.filed")
        if r.outcome != APPLIED or r.code != "FILED" or filed is None:
            self.retire(cn, f"sale.file {r.outcome} {r.code}")
            return
        r = yield TxStep("application.decide (sale)", self.decide(int(filed["application"])), "moj")
        if r.outcome != APPLIED or r.code != "REGISTERED":
            self.retire(cn, f"decide sale {r.outcome} {r.code}")
            return
        self.pop.holders[cn] = [buyer.iin]
        self.release(cn)


def env_salt(rnd: random.Random) -> bytes:
    """Distinct document content, so documents (and their hashes) differ between requests."""
    return rnd.randbytes(16)
