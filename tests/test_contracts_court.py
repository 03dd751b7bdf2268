"""Court acts and corrections: cancellation of an entry with restitution (Art 33, 44.4; the study's
open risk 1), a right established by a court (Art 44.1), correction of errors (Art 32)."""

from __future__ import annotations

import pytest

from contracts import builders as B, queries
from tests.contracts_support import Chain, act, app_number, citizen, doc, land, org

CN = "05-010-020-030"
A, C1, C2 = citizen(1, "Seller"), citizen(2, "Buyer"), citizen(3, "Second buyer")
BANK = org(10, "bank", "Halyk Bank")
ISSUER = org(11, "token_issuer", "Settlement issuer")
REGISTRAR = org(20, "registrar", "Government for Citizens")
BAILIFF = org(40, "bailiff", "Bailiffs")
COURT = org(50, "court", "Astana city court")
PRICE = 40_000_000_00


def chain() -> Chain:
    return Chain([land(CN, B.holder(A.iin))])


def sell(ch, seller, buyer, tokens=False, extra=()):
    if tokens:
        ch.ok(B.token_issue(buyer.iin, PRICE, "deposit"), ISSUER)
        built = B.sale_file(CN, [B.seller(seller.iin, receive_tiyn=PRICE)], [B.buyer(buyer.iin, pay_tiyn=PRICE)], PRICE, [doc()], settlement="token")
    else:
        built = B.sale_file(CN, [B.seller(seller.iin)], [B.buyer(buyer.iin)], PRICE, [doc()])
    n = app_number(ch.ok(built, seller, buyer, *extra))
    reg = ch.ok(B.application_decide(n, "register"), REGISTRAR)
    return reg.event("application.registered").data["right"]


def pledge(ch, pledgor):
    n = app_number(ch.ok(B.pledge_file(CN, BANK.bin, 100, "2035-01-01", "loan", [doc()]), BANK, pledgor))
    ch.ok(B.application_decide(n, "register"), REGISTRAR)
    return ch.cert(CN)["pledges"][0]["entry"]


def test_invalid_sale_reversed_by_court_study_risk_1_art_33():
    """The prior holder is restored, the payment goes back, the cancelled entry stays in history,
    the pledge the buyer gave stays and its pledgee is notified (Art 33.1-1)."""
    ch = chain()
    sale_entry = sell(ch, A, C1, tokens=True)
    assert queries.wallet(ch.state, A.iin)["available"] == PRICE
    pid = pledge(ch, C1)
    r = ch.ok(B.court_cancel_entry(sale_entry, act("2-77/2026", "2026-03-02"), "sale declared invalid: fraud"), COURT)
    assert ch.owners(CN) == {A.iin: (1, 1)}
    assert queries.wallet(ch.state, C1.iin) == {"available": PRICE, "locked": 0}
    assert queries.wallet(ch.state, A.iin) == {"available": 0, "locked": 0}
    assert queries.token_supply(ch.state) == PRICE
    history = {e["id"]: e for e in ch.sheet(CN)["history"]}
    assert history[sale_entry]["status"] == "cancelled" and history[sale_entry]["holders"][0]["id"] == C1.iin
    restored = [e for e in history.values() if e.get("restores")]
    assert restored and restored[0]["status"] == "active" and restored[0]["holders"] == [{"id": A.iin, "share": [1, 1]}]
    assert [e for e in history.values() if e["type"] == "cancellation"][0]["cancelled"] == sale_entry
    assert ch.cert(CN)["pledges"][0]["entry"] == pid
    notice = r.event("encumbrance.notice")
    assert BANK.bin in notice.recipients and notice.data["article"] == "Art 33.1-1"
    ev = r.event("entry.cancelled")
    assert ev.data["refund"]["shortfalls"] == [] and {A.iin, C1.iin, "MOJ"} <= set(ev.recipients)
    assert r.event("settlement.refunded").data["application"] > 0


def test_refund_shortfall_when_the_seller_spent_the_tokens():
    ch = chain()
    sale_entry = sell(ch, A, C1, tokens=True)
    ch.ok(B.token_transfer(A.iin, C2.iin, PRICE - 1000), A)
    r = ch.ok(B.court_cancel_entry(sale_entry, act(), "invalid"), COURT)
    assert r.event("settlement.refunded").data["shortfalls"] == [{"id": A.iin, "owed_tiyn": PRICE - 1000}]
    assert queries.wallet(ch.state, C1.iin)["available"] == 1000
    assert ch.owners(CN) == {A.iin: (1, 1)}


def test_encumbrances_do_not_stop_a_cancellation_art_33_1_1():
    ch = chain()
    sale_entry = sell(ch, A, C1)
    ch.ok(B.encumbrance_impose([CN], "arrest", BAILIFF.bin, act(), "C1's debt"), BAILIFF)
    r = ch.ok(B.court_cancel_entry(sale_entry, act(), "invalid"), COURT)
    assert ch.owners(CN) == {A.iin: (1, 1)} and ch.cert(CN)["arrests"]
    assert BAILIFF.bin in r.event("encumbrance.notice").recipients


def test_resale_chain_is_cancelled_newest_first():
    """Each cancellation restores the holder before it and refunds that sale's payment."""
    ch = chain()
    first = sell(ch, A, C1, tokens=True)
    second = sell(ch, C1, C2, tokens=True)
    assert queries.wallet(ch.state, C2.iin)["available"] == 0 and queries.wallet(ch.state, A.iin)["available"] == PRICE
    r = ch.refused(B.court_cancel_entry(first, act(), "invalid"), COURT, code="ENTRY_NOT_CANCELLABLE")
    assert str(second) in r.refusal.message
    ch.ok(B.court_cancel_entry(second, act(), "invalid"), COURT)
    assert ch.owners(CN) == {C1.iin: (1, 1)}
    restored = ch.sheet(CN)["rights"][0]["id"]
    assert queries.wallet(ch.state, C2.iin)["available"] == PRICE
    ch.ok(B.court_cancel_entry(restored, act(), "the first sale was invalid too"), COURT)
    assert ch.owners(CN) == {A.iin: (1, 1)}
    assert queries.wallet(ch.state, A.iin)["available"] == 0 and queries.wallet(ch.state, C1.iin)["available"] == PRICE
    statuses = [e["status"] for e in ch.sheet(CN)["history"] if e["section"] == "rights"]
    assert statuses.count("cancelled") == 2 and statuses[-1] == "active"


CANCEL_CASES = [
    ("Art 33.1", "a registrar cannot cancel", REGISTRAR, "loaded", "WRONG_ROLE"),
    ("Art 33", "a right with no earlier holder to restore", COURT, "loaded", "ENTRY_NOT_CANCELLABLE"),
    ("Art 33", "no such entry", COURT, 999, "ENTRY_NOT_FOUND"),
]


@pytest.mark.parametrize("article,what,signer,entry,code", CANCEL_CASES, ids=[c[1] for c in CANCEL_CASES])
def test_cancellation_table(article, what, signer, entry, code):
    ch = chain()
    eid = ch.sheet(CN)["rights"][0]["id"] if entry == "loaded" else entry
    assert ch.run(B.court_cancel_entry(eid, act(), "x"), signer).code == code


def test_court_cancels_a_pledge_entry():
    ch = chain()
    pid = pledge(ch, A)
    r = ch.ok(B.court_cancel_entry(pid, act(), "pledge agreement void"), COURT)
    assert ch.cert(CN)["pledges"] == [] and BANK.bin in r.event("entry.cancelled").recipients


def test_court_transfer_of_an_arrested_object_art_44_1():
    """An arrested object changes hands by court act only, and the act must lift a judicial arrest."""
    ch = chain()
    pledge(ch, A)
    aid = ch.ok(B.encumbrance_impose([CN], "arrest", BAILIFF.bin, act(), "enforcement"), BAILIFF).event("encumbrance.imposed").data["entry"]
    ch.refused(B.court_transfer(CN, [B.holder(C1.iin)], act()), COURT, code="JUDICIAL_ENCUMBRANCE")
    ch.refused(B.court_transfer(CN, [B.holder(C1.iin, 1, 2)], act(), lift=[aid]), COURT, code="SHARES_INVALID")
    r = ch.ok(B.court_transfer(CN, [B.holder(C1.iin)], act(), lift=[aid]), COURT)
    assert ch.owners(CN) == {C1.iin: (1, 1)}
    cert = ch.cert(CN)
    assert cert["arrests"] == [] and cert["pledges"]              # the pledge stays
    assert BANK.bin in r.event("encumbrance.notice").recipients
    assert r.event("right.registered").data["lifted"] == [aid]


# --- corrections (Art 32) ---------------------------------------------------------------------
CORRECTION_CASES = [
    ("Art 32.2", "registrar corrects the address alone", {"ident": {"address": "Astana, Kabanbay batyr 2"}}, (REGISTRAR,), "REGISTERED", False),
    ("Art 32.3", "registrar cannot change the area alone", {"ident": {"area_total_dm2": 7_000_000}}, (REGISTRAR,), "CORRECTION_NEEDS_CONSENT", True),
    ("Art 32.3", "area with the owner's and the pledgee's consent", {"ident": {"area_total_dm2": 7_000_000}}, (REGISTRAR, A, BANK), "REGISTERED", True),
    ("Art 32.3", "area without the pledgee's consent", {"ident": {"area_total_dm2": 7_000_000}}, (REGISTRAR, A), "CORRECTION_NEEDS_CONSENT", True),
    ("Art 32.2", "area by court act", {"ident": {"area_total_dm2": 7_000_000}, "act_": "court"}, (REGISTRAR, COURT), "REGISTERED", True),
    ("Art 32.3", "registrar cannot rewrite the owner (insider risk)", {"holders": [B.holder(C1.iin)]}, (REGISTRAR,), "CORRECTION_NEEDS_CONSENT", True),
    ("Art 32.3", "owner changed with everyone's consent", {"holders": [B.holder(C1.iin)]}, (REGISTRAR, A, C1, BANK), "REGISTERED", True),
    ("Art 32", "nothing to correct", {"ident": {"address": "plot 05-010-020-030"}}, (REGISTRAR,), "NOTHING_TO_CORRECT", False),
    ("Art 1.12", "unknown characteristic", {"ident": {"colour": "red"}}, (REGISTRAR,), "INVALID_PAYLOAD", False),
    ("Art 32", "a court alone is not the registering body", {"ident": {"address": "x"}}, (COURT,), "WRONG_ROLE", False),
]


@pytest.mark.parametrize("article,what,change,signers,code,substantive", CORRECTION_CASES, ids=[c[1] for c in CORRECTION_CASES])
def test_correction_table(article, what, change, signers, code, substantive):
    ch = chain()
    pledge(ch, A)
    change = dict(change)
    if change.pop("act_", None):
        change["act_"] = act("court-correction")
    r = ch.run(B.correction_apply(CN, "typing error in the register", **change), *signers)
    assert r.code == code, (article, what, r.refusal)
    if r.ok:
        ev = r.event("correction.applied")
        assert ev.data["substantive"] is substantive
        assert {A.iin, BANK.bin, "MOJ"} <= set(ev.recipients)      # every interested person is told (Art 32.2)
        note = [e for e in ch.sheet(CN)["history"] if e["type"] == "correction"][0]
        assert note["reason"] == "typing error in the register" and note["before"] and note["after"]
        if "holders" in change:
            assert ch.owners(CN) == {C1.iin: (1, 1)}
        else:
            assert ch.sheet(CN)["identification"][next(iter(change["ident"]))] == next(iter(change["ident"].values()))
