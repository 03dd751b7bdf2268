"""Robustness: any payload that passes check_tx either applies or is refused with a typed
Refusal — deliver_tx never fails any other way (a crash there would stop every node at once).

Valid sample transactions of every kind are mutated at random (numbers, entry ids, person ids,
cadastral numbers, dropped optional fields, signers swapped) and run against a state that
already holds pledges, arrests, claims, stops, token balances and pending applications.
"""

from __future__ import annotations

import copy

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from contracts import builders as B
from contracts.kinds import TABLE
from node.errors import Refusal, TamgaError
from node.interfaces import Outcome
from tests.contracts_support import Chain, DictState, Overlay, act, app_number, citizen, doc, land, org, tx

A, S, C = citizen(1, "A"), citizen(2, "S"), citizen(3, "C")
BANK, BANK2 = org(10, "bank", "Bank"), org(11, "bank", "Bank 2")
ISSUER = org(12, "token_issuer", "Issuer")
REGISTRAR = org(20, "registrar", "Registrar")
NOTARY = org(30, "notary", "Notary")
BAILIFF = org(40, "bailiff", "Bailiff")
COURT = org(50, "court", "Court")
OFFICER = org(80, "identity_officer", "Officer")
GOV = org(90, "governance", "Gov")
SIGNERS = [A, S, C, BANK, BANK2, ISSUER, REGISTRAR, NOTARY, BAILIFF, COURT, OFFICER, GOV]
CNS = ["04-001-001-001", "04-001-001-002", "04-001-001-003", "04-001-001-004"]
IDS = [x.subject_id for x in SIGNERS] + ["990101300015"]


def _prepared() -> Chain:
    ch = Chain([land(CNS[0], B.holder(A.iin)), land(CNS[1], B.holder(A.iin, 1, 2), B.holder(S.iin, 1, 2)),
                land(CNS[2], B.holder(S.iin)), land(CNS[3], B.holder(C.iin))])
    n = app_number(ch.ok(B.pledge_file(CNS[0], BANK.bin, 1000, "2035-01-01", "loan", [doc()]), BANK, A))
    ch.ok(B.application_decide(n, "register"), REGISTRAR)
    ch.ok(B.encumbrance_impose([CNS[2]], "arrest", BAILIFF.bin, act(), "x"), BAILIFF)
    ch.ok(B.claim_register(CNS[3], A.iin, "lawsuit", "x", [doc()]), A)
    ch.ok(B.token_issue(C.iin, 10**6, "d"), ISSUER)
    ch.ok(B.sale_file(CNS[3], [B.seller(C.iin)], [B.buyer(A.iin)], 100, [doc()]), C, A)
    ch.ok(B.stop_request(CNS[1], "guarantee", "x", counterparty=[C.iin]), A, S)
    ch.ok(B.pledge_default_notice(5, "2026-01-01", doc()), BANK)
    return ch


BASE = _prepared()


def samples() -> list[tuple[tuple[str, dict], tuple]]:
    d, a = doc(), act()
    return [
        (B.register_load([land("04-009-009-009", B.holder(A.iin))], "x"), (REGISTRAR,)),
        (B.pledge_file(CNS[1], BANK2.bin, 50, "2035-01-01", "l", [d], pledgor_consent=d), (BANK2, NOTARY, A, S)),
        (B.pledge_change(5, [d], amount_tiyn=2000, pledgee=BANK2.bin, pledgors=[A.iin]), (BANK, BANK2, A)),
        (B.pledge_discharge(5), (BANK,)),
        (B.pledge_default_notice(5, "2026-01-01", d), (BANK,)),
        (B.pledge_foreclose(5, C.iin, "auction", [d]), (BANK,)),
        (B.sale_file(CNS[0], [B.seller(A.iin, 1, 1, spouse=S.iin, receive_tiyn=100)], [B.buyer(C.iin, pay_tiyn=100)], 100, [d],
                     settlement="token", notarised=True, consents=[{"id": S.iin, "doc": d}]), (NOTARY, A, C, BANK)),
        (B.transfer_inherit(CNS[1], A.iin, [B.holder(C.iin, 1, 2)], d, "N"), (NOTARY, C)),
        (B.transfer_reorganise(BANK.bin, BANK2.bin, "merger", [CNS[0]], d, pledges=[5]), (BANK2,)),
        (B.application_decide(4, "register"), (REGISTRAR,)),
        (B.application_decide(4, "suspend", "r", "Art 27"), (REGISTRAR,)),
        (B.application_withdraw(4), (C,)),
        (B.encumbrance_impose([CNS[0]], "prohibition", BAILIFF.bin, a, "g"), (BAILIFF,)),
        (B.encumbrance_lift(6, a, "r"), (BAILIFF,)),
        (B.claim_register(CNS[0], S.iin, "appeal", "g", [d]), (S,)),
        (B.claim_withdraw(7, "consent", "r"), (A,)),
        (B.claim_extend(7, "r"), (A,)),
        (B.stop_request(CNS[0], "guarantee", "r", counterparty=[C.iin], business_days=3), (A,)),
        (B.stop_cancel(CNS[1], "r"), (A,)),
        (B.court_cancel_entry(1, a, "r"), (COURT,)),
        (B.court_transfer(CNS[2], [B.holder(A.iin)], a, lift=[6]), (COURT,)),
        (B.correction_apply(CNS[0], "r", ident={"area_total_dm2": 5}, holders=[B.holder(C.iin)], act_=a), (REGISTRAR, COURT)),
        (B.object_divide(CNS[3], [B.new_object("04-001-001-010", "land", B.ident("x", 5)),
                                  B.new_object("04-001-001-011", "land", B.ident("y", 5))], [d]), (C,)),
        (B.object_merge([CNS[2], CNS[3]], B.new_object("04-001-001-012", "land", B.ident("z", 9)), [d]), (S, C)),
        (B.object_terminate(CNS[3], "destroyed", a), (C,)),
        (B.token_issue(A.iin, 10, "r"), (ISSUER,)),
        (B.token_redeem(C.iin, 10, "r"), (ISSUER, C)),
        (B.token_transfer(C.iin, A.iin, 10), (C,)),
        (B.identity_replace_key(A.iin, bytes(32), bytes([1]) * 32, "in_person", d), (OFFICER,)),
        (B.calendar_set(2026, ["2026-05-27"], ["2026-05-30"]), (GOV,)),
        (B.policy_set(["pledge", "sale"], True, 10), (GOV,)),
    ]


SAMPLES = samples()
assert {k for (k, _), _ in SAMPLES} == set(TABLE), "every kind has a sample"


def mutate(value, draw):
    """Replace leaves with nearby or hostile values of the same shape, sometimes drop keys."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if draw(st.integers(0, 9)) == 0:
                continue
            out[k] = mutate(v, draw)
        return out
    if isinstance(value, list):
        items = [mutate(v, draw) for v in value]
        if items and draw(st.integers(0, 6)) == 0:
            items.append(copy.deepcopy(items[0]))
        return items
    if isinstance(value, bool):
        return draw(st.booleans())
    if isinstance(value, int):
        return draw(st.sampled_from([value, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 99, 10**17, 2**63 - 1, -1]))
    if isinstance(value, str):
        return draw(st.sampled_from([value, value, *IDS, *CNS, "2026-02-29", "2030-01-01", "", "x"]))
    return value


@settings(max_examples=1000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_deliver_tx_only_applies_or_refuses(data):
    (kind, payload), signers = SAMPLES[data.draw(st.integers(0, len(SAMPLES) - 1))]
    payload = mutate(payload, data.draw)
    if data.draw(st.integers(0, 4)) == 0:
        signers = tuple(data.draw(st.lists(st.sampled_from(SIGNERS), min_size=1, max_size=4, unique_by=lambda c: c.name)))
    t = tx((kind, payload), *signers)
    ex = BASE.executor
    try:
        ex.check_tx(t)
    except TamgaError:
        return
    state = DictState(BASE.state.data)
    view = Overlay(state)
    try:
        out = ex.deliver_tx(BASE.ctx(), t, view)
    except Refusal as r:
        assert r.code and r.message
        assert not view.writes
        return
    assert isinstance(out, Outcome) and out.code
    for e in out.events:
        assert "objects" in e.data and "MOJ" in e.recipients


def test_samples_mostly_apply_unmutated():
    """The samples are meaningful: most of them apply on the prepared state as they are."""
    applied = 0
    for (kind, payload), signers in SAMPLES:
        state = DictState(BASE.state.data)
        view = Overlay(state)
        try:
            BASE.executor.check_tx(tx((kind, payload), *signers))
            BASE.executor.deliver_tx(BASE.ctx(), tx((kind, payload), *signers), view)
            applied += 1
        except TamgaError:
            pass
    assert applied >= len(SAMPLES) // 2, applied

