"""Hypothesis stateful tests: random sequences of registration transactions, checking after
every step the invariants the law and the study demand:

- the shares of every active right sum to exactly one, and every right has a holder;
- the holdings index agrees with the registration sheets;
- an arrested object changes hands only by a court act or by inheritance (Art 44.1, 33.1-1,
  31.1-1.2; see contracts/bars.py for the reading);
- the settlement-token supply changes only by issue and redemption, and always equals the sum
  of all balances; locked tokens equal the payments of open token sales;
- determinism: replaying the recorded blocks from genesis on a fresh executor reproduces the
  state byte for byte (what the node's state-root comparison relies on).
A failing run prints its steps; pin it below as a regression test.
"""

from __future__ import annotations

from fractions import Fraction

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from contracts import builders as B, keys, queries
from node.codec import decode
from tests.contracts_support import Chain, act, citizen, doc, land, org, replay, tx

PEOPLE = [citizen(i, f"Person {i}") for i in range(1, 6)]
BANKS = [org(10, "bank", "Bank A"), org(11, "bank", "Bank B")]
REGISTRAR = org(20, "registrar", "Government for Citizens")
ISSUER = org(21, "token_issuer", "Issuer")
NOTARY = org(30, "notary", "Notary")
BAILIFF = org(40, "bailiff", "Bailiffs")
COURT = org(50, "court", "Court")
CNS = [f"03-100-200-{300 + i}" for i in range(4)]
IDS = [p.iin for p in PEOPLE] + [b.bin for b in BANKS]


def genesis() -> dict:
    p = PEOPLE
    return {"register": [
        land(CNS[0], B.holder(p[0].iin)),
        land(CNS[1], B.holder(p[1].iin, 1, 2), B.holder(p[2].iin, 1, 2), common="shared"),
        land(CNS[2], B.holder(p[3].iin, 2, 3), B.holder(p[4].iin, 1, 3), common="shared"),
        land(CNS[3], B.holder(p[0].iin, 1, 4), B.holder(p[1].iin, 3, 4), common="shared"),
    ]}


def signer_for(pid: str):
    for c in PEOPLE + BANKS:
        if c.subject_id == pid:
            return c
    raise AssertionError(pid)


class Registry(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.app_state = genesis()
        self.ch = Chain(app_state=self.app_state)
        self.issued = 0
        self.redeemed = 0
        self.known = list(CNS)
        self.next_cn = 500

    # --- helpers --------------------------------------------------------------------------
    def _obj(self, cn):
        raw = self.ch.state.get(keys.obj(cn))
        return decode(raw) if raw is not None else None

    def _holders(self, cn) -> dict[str, Fraction]:
        o = self._obj(cn)
        out: dict[str, Fraction] = {}
        for eid in o["rights"]:
            for h in queries.entry(self.ch.state, eid)["holders"]:
                out[h["id"]] = out.get(h["id"], Fraction(0)) + Fraction(*h["share"])
        return out

    def _arrested(self, cn) -> bool:
        o = self._obj(cn)
        return any(queries.entry(self.ch.state, e)["type"] == "arrest" for e in o["encs"])

    def _existing(self) -> list[str]:
        """Objects in the register (a division's new objects exist once it is registered)."""
        return [cn for cn in self.known if self.ch.state.get(keys.obj(cn)) is not None]

    def _active(self) -> list[str]:
        return [cn for cn in self._existing() if self._obj(cn)["status"] == "active"]

    def _run(self, built, *signers):
        """Run one tx; check the arrest invariant around it."""
        before = {cn: (self._arrested(cn), self._holders(cn)) for cn in self._active()}
        kind = built[0]
        app_type = None
        if kind == "application.decide":
            a = queries.application(self.ch.state, built[1]["number"])
            app_type = a["type"] if a else None
        r = self.ch.run(built, *signers)
        for cn, (arrested, holders) in before.items():
            if arrested and self._obj(cn)["status"] == "active" and self._holders(cn) != holders:
                assert kind.startswith("court.") or app_type == "inheritance", \
                    f"arrested {cn} changed hands by {kind} ({app_type})"
        return r

    def _pick(self, seq, i):
        return seq[i % len(seq)] if seq else None

    # --- rules ------------------------------------------------------------------------------
    @rule(who=st.integers(0, 4), amount=st.integers(1, 10**9))
    def issue(self, who, amount):
        r = self._run(B.token_issue(PEOPLE[who].iin, amount, "deposit"), ISSUER)
        if r.ok:
            self.issued += amount

    @rule(who=st.integers(0, 4), amount=st.integers(1, 10**9))
    def redeem(self, who, amount):
        r = self._run(B.token_redeem(PEOPLE[who].iin, amount, "payout"), ISSUER, PEOPLE[who])
        if r.ok:
            self.redeemed += amount

    @rule(a=st.integers(0, 4), b=st.integers(0, 4), amount=st.integers(1, 10**8))
    def transfer_tokens(self, a, b, amount):
        self._run(B.token_transfer(PEOPLE[a].iin, PEOPLE[b].iin, amount), PEOPLE[a])

    @rule(o=st.integers(0, 50), bank=st.integers(0, 1), all_sign=st.booleans(), amount=st.integers(1, 10**12))
    def file_pledge(self, o, bank, all_sign, amount):
        cn = self._pick(self._active(), o)
        holders = sorted(self._holders(cn))
        signers = [BANKS[bank]] + [signer_for(h) for h in (holders if all_sign else holders[:1])]
        self._run(B.pledge_file(cn, BANKS[bank].bin, amount, "2035-01-01", "loan", [doc()]), *signers)

    @rule(o=st.integers(0, 50), buyers=st.lists(st.integers(0, 4), min_size=1, max_size=3, unique=True),
          whole=st.booleans(), tokens=st.booleans(), pledgee_signs=st.booleans(), price=st.integers(1, 10**9))
    def file_sale(self, o, buyers, whole, tokens, pledgee_signs, price):
        cn = self._pick(self._active(), o)
        held = self._holders(cn)
        sellers = sorted(held) if whole else sorted(held)[:1]
        sold = sum((held[s] for s in sellers), Fraction(0))
        buyer_ids = [PEOPLE[b].iin for b in buyers]
        each = sold / len(buyer_ids)
        pays = [price // len(buyer_ids)] * len(buyer_ids)
        pays[0] += price - sum(pays)
        gets = [price // len(sellers)] * len(sellers)
        gets[0] += price - sum(gets)
        sellers_p = [B.seller(s, held[s].numerator, held[s].denominator, receive_tiyn=gets[i] if tokens else None) for i, s in enumerate(sellers)]
        buyers_p = [B.buyer(b, each.numerator, each.denominator, pay_tiyn=pays[i] if tokens else None) for i, b in enumerate(buyer_ids)]
        signers = [signer_for(x) for x in sorted(set(held) | set(buyer_ids))]
        if pledgee_signs:
            for e in self._obj(cn)["encs"]:
                ent = queries.entry(self.ch.state, e)
                if ent["type"] == "pledge":
                    signers.append(signer_for(ent["pledgee"]))
        self._run(B.sale_file(cn, sellers_p, buyers_p, price, [doc()], settlement="token" if tokens else "off_ledger"), *signers)

    @rule(o=st.integers(0, 50), heirs=st.lists(st.integers(0, 4), min_size=1, max_size=2, unique=True))
    def inherit(self, o, heirs):
        cn = self._pick(self._active(), o)
        held = self._holders(cn)
        deceased = sorted(held)[0]
        heir_ids = [PEOPLE[h].iin for h in heirs if PEOPLE[h].iin != deceased]
        if not heir_ids:
            return
        each = held[deceased] / len(heir_ids)
        self._run(B.transfer_inherit(cn, deceased, [B.holder(h, each.numerator, each.denominator) for h in heir_ids], doc(), "N-1"),
                  NOTARY, signer_for(heir_ids[0]))

    def _open_apps(self) -> list[int]:
        out: list[int] = []
        for cn in self._existing():
            out += [n for n in self._obj(cn)["pending"] if n not in out]
        return sorted(out)

    @precondition(lambda self: bool(self._open_apps()))
    @rule(i=st.integers(0, 50), decision=st.sampled_from(["register", "register", "suspend", "refuse"]))
    def decide(self, i, decision):
        n = self._pick(self._open_apps(), i)
        reason = None if decision == "register" else "grounds"
        article = None if decision == "register" else "Art 31.1.3"
        self._run(B.application_decide(n, decision, reason, article), REGISTRAR)

    @precondition(lambda self: bool(self._open_apps()))
    @rule(i=st.integers(0, 50), rarely=st.integers(0, 3))
    def withdraw(self, i, rarely):
        if rarely:
            return self.decide(i, "register")
        n = self._pick(self._open_apps(), i)
        a = queries.application(self.ch.state, n)
        who = [c for c in PEOPLE + BANKS + [NOTARY] if c.subject_id in a["applicants"]]
        self._run(B.application_withdraw(n), who[0])

    @precondition(lambda self: len(self._arrests()) < 2)    # arrests block most else: keep them rare
    @rule(o=st.integers(0, 50))
    def arrest(self, o):
        self._run(B.encumbrance_impose([self._pick(self._active(), o)], "arrest", BAILIFF.bin, act(), "enforcement"), BAILIFF)

    def _arrests(self) -> list[int]:
        return [e for cn in self._active() for e in self._obj(cn)["encs"] if queries.entry(self.ch.state, e)["type"] == "arrest"]

    @precondition(lambda self: bool(self._arrests()))
    @rule(i=st.integers(0, 50), who=st.sampled_from(["bailiff", "court", "registrar"]))
    def lift(self, i, who):
        signer = {"bailiff": BAILIFF, "court": COURT, "registrar": REGISTRAR}[who]
        r = self._run(B.encumbrance_lift(self._pick(self._arrests(), i), act(), "paid"), signer)
        assert r.ok == (who != "registrar")

    @rule(o=st.integers(0, 50), to=st.integers(0, 4), lift=st.booleans())
    def court_transfer(self, o, to, lift):
        cn = self._pick(self._active(), o)
        arrests = [e for e in self._obj(cn)["encs"] if queries.entry(self.ch.state, e)["type"] == "arrest"]
        self._run(B.court_transfer(cn, [B.holder(PEOPLE[to].iin)], act(), lift=arrests if lift else None), COURT)

    @rule(i=st.integers(0, 500), current=st.booleans())
    def court_cancel(self, i, current):
        if current:      # mostly the live entries; sometimes any, to hit superseded ones
            rights = [e for cn in self._active() for e in self._obj(cn)["rights"] if queries.entry(self.ch.state, e).get("replaces")]
        else:
            rights = [e for cn in self._existing() for e in self._obj(cn)["history"] if queries.entry(self.ch.state, e)["section"] == "rights"]
        self._run(B.court_cancel_entry(self._pick(rights, i), act(), "declared invalid"), COURT)

    @rule(o=st.integers(0, 50), claimant=st.integers(0, 4))
    def claim(self, o, claimant):
        self._run(B.claim_register(self._pick(self._active(), o), PEOPLE[claimant].iin, "lawsuit", "dispute", [doc()]), PEOPLE[claimant])

    @rule(o=st.integers(0, 50))
    def divide(self, o):
        cn = self._pick(self._active(), o)
        new = [f"03-100-200-{self.next_cn}", f"03-100-200-{self.next_cn + 1}"]
        self.next_cn += 2
        into = [B.new_object(x, "land", B.ident("part", 1_000_000)) for x in new]
        r = self._run(B.object_divide(cn, into, [doc()]), *[signer_for(h) for h in sorted(self._holders(cn))])
        if r.ok:
            self.known += new

    @rule(days=st.integers(0, 45))
    def time_passes(self, days):
        self.ch.block(advance_ms=days * 86_400_000 + 1)

    # --- invariants --------------------------------------------------------------------------------
    @invariant()
    def shares_sum_to_one_and_every_right_has_a_holder(self):
        for cn in self._existing():
            o = self._obj(cn)
            for eid in o["rights"]:
                e = queries.entry(self.ch.state, eid)
                assert e["status"] == "active" and e["holders"], (cn, e)
                assert sum((Fraction(*h["share"]) for h in e["holders"]), Fraction(0)) == 1, (cn, e)
                assert all(Fraction(*h["share"]) > 0 for h in e["holders"])
            if o["status"] == "active":
                assert o["rights"], f"active object {cn} without a right"

    @invariant()
    def holdings_index_matches_the_sheets(self):
        for pid in IDS:
            expect = sorted(cn for cn in self._active() if pid in self._holders(cn))
            assert [h["cadastral_number"] for h in queries.holdings(self.ch.state, pid)] == expect, pid

    @invariant()
    def token_supply_changes_only_by_issue_and_redemption(self):
        supply = queries.token_supply(self.ch.state)
        assert supply == self.issued - self.redeemed
        wallets = [queries.wallet(self.ch.state, pid) for pid in IDS]
        assert sum(w["available"] + w["locked"] for w in wallets) == supply
        locked = 0
        for n in self._open_apps():
            locked += sum(a for _, a in queries.application(self.ch.state, n).get("lock") or [])
        assert sum(w["locked"] for w in wallets) == locked

    def teardown(self):
        again = replay(self.ch.log, self.app_state)
        assert again.digest() == self.ch.state.digest(), "replay from genesis diverged"


Registry.TestCase.settings = settings(max_examples=40, stateful_step_count=30, deadline=None,
                                      suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
TestRegistry = Registry.TestCase


def test_regression_replay_of_a_fixed_sequence():
    """A fixed sequence through most kinds, checked and replayed from genesis."""
    m = Registry()
    m.issue(who=3, amount=10**9)
    m.issue(who=4, amount=10**9)
    m.file_sale(o=1, buyers=[3, 4], whole=True, tokens=True, pledgee_signs=False, price=5 * 10**8)   # app 1
    m.file_pledge(o=0, bank=0, all_sign=True, amount=10**6)                                          # app 2
    assert m._open_apps() == [1, 2]
    m.decide(i=0, decision="register")
    assert m._holders(CNS[1]) == {PEOPLE[3].iin: Fraction(1, 2), PEOPLE[4].iin: Fraction(1, 2)}
    m.decide(i=0, decision="register")
    assert m._open_apps() == []
    m.arrest(o=1)
    sale_entry = m._obj(CNS[1])["rights"][0]
    assert m._run(B.court_cancel_entry(sale_entry, act(), "declared invalid"), COURT).ok
    assert m._holders(CNS[1]) == {PEOPLE[1].iin: Fraction(1, 2), PEOPLE[2].iin: Fraction(1, 2)}
    m.inherit(o=1, heirs=[2])
    m.decide(i=0, decision="register")
    m.time_passes(days=40)
    m.court_transfer(o=1, to=0, lift=True)
    assert m._holders(CNS[1]) == {PEOPLE[0].iin: Fraction(1)} and not m._arrested(CNS[1])
    m.shares_sum_to_one_and_every_right_has_a_holder()
    m.holdings_index_matches_the_sheets()
    m.token_supply_changes_only_by_issue_and_redemption()
    m.teardown()
