"""Sale with any number of parties, notary, spouses, encumbrance exceptions, settlement in tokens
(delivery versus payment), inheritance and reorganisation (Law 310 Art 22, 31, 45, 46; the
study's section 5 and open risks 2 and 4)."""

from __future__ import annotations

import pytest

from contracts import builders as B, queries
from tests.contracts_support import Chain, act, app_number, citizen, doc, land, org

CN = "02-123-045-001"        # one owner
CO = "02-123-045-002"        # two co-owners, 1/2 each
A, S, C1, C2, C3 = citizen(1, "Asel"), citizen(2, "Serik"), citizen(3, "Buyer one"), citizen(4, "Buyer two"), citizen(5, "Buyer three")
SPOUSE = citizen(6, "Spouse", sex="F")
BANK = org(10, "bank", "Halyk Bank")
ISSUER = org(11, "token_issuer", "National Bank settlement")
REGISTRAR = org(20, "registrar", "Government for Citizens")
NOTARY = org(30, "notary", "Notary Seitkali")
BAILIFF = org(40, "bailiff", "Bailiffs")
LESSEE = org(60, "legal_entity", "Lessee LLP")
PRICE = 25_000_000_00


def chain(**app_state) -> Chain:
    return Chain([land(CN, B.holder(A.iin)),
                  land(CO, B.holder(A.iin, 1, 2), B.holder(S.iin, 1, 2), common="shared")], app_state=app_state)


def sale(cn=CN, sellers=None, buyers=None, settlement="off_ledger", **kw):
    sellers = sellers or [B.seller(A.iin)]
    buyers = buyers or [B.buyer(C1.iin)]
    return B.sale_file(cn, sellers, buyers, PRICE, [doc("contract.pdf")], settlement=settlement, **kw)


def register(ch, r):
    assert r.ok, r.refusal
    return ch.ok(B.application_decide(app_number(r), "register"), REGISTRAR)


def test_two_party_sale_changes_owner_and_holdings_art_22_2():
    ch = chain()
    reg = register(ch, ch.ok(sale(), A, C1))
    assert ch.owners(CN) == {C1.iin: (1, 1)}
    assert [h["cadastral_number"] for h in queries.holdings(ch.state, C1.iin)] == [CN]
    assert CN not in [h["cadastral_number"] for h in queries.holdings(ch.state, A.iin)]
    ev = reg.event("application.registered")
    assert {A.iin, C1.iin, "MOJ"} <= set(ev.recipients) and ev.data["objects"] == [CN]
    history = ch.sheet(CN)["history"]
    assert [e["status"] for e in history if e["section"] == "rights"] == ["terminated", "active"]


SIGNATURE_CASES = [
    ("Art 22.2", "buyer did not sign", lambda: sale(), (A,), "SIGNATURE_MISSING"),
    ("Art 22.2", "seller did not sign", lambda: sale(), (C1,), "SIGNATURE_MISSING"),
    ("Art 21.1", "seller is not the holder", lambda: sale(sellers=[B.seller(S.iin)]), (S, C1), "NOT_RIGHT_HOLDER"),
    ("Art 22.5", "co-owner sells a share, the other did not waive first refusal",
     lambda: sale(CO, [B.seller(A.iin, 1, 2)], [B.buyer(C1.iin, 1, 2)]), (A, C1), "SIGNATURE_MISSING"),
    ("Art 22.5", "co-owner sells a share with the other's signature",
     lambda: sale(CO, [B.seller(A.iin, 1, 2)], [B.buyer(C1.iin, 1, 2)]), (A, C1, S), "FILED"),
    ("Art 14.2.2", "shares sold differ from shares bought",
     lambda: sale(CO, [B.seller(A.iin, 1, 2)], [B.buyer(C1.iin, 1, 3)]), (A, C1, S), "SHARES_INVALID"),
    ("Art 22.6", "married seller without the spouse's consent", lambda: sale(sellers=[B.seller(A.iin, spouse=SPOUSE.iin)]), (A, C1), "SPOUSE_CONSENT_MISSING"),
    ("Art 22.6", "married seller, spouse co-signs", lambda: sale(sellers=[B.seller(A.iin, spouse=SPOUSE.iin)]), (A, C1, SPOUSE), "FILED"),
    ("Art 22.1", "notarised: notary and the seller suffice", lambda: sale(notarised=True), (NOTARY, A), "FILED"),
    ("Art 22.1", "notarised flag without a notary's signature", lambda: sale(notarised=True), (A, C1), "WRONG_ROLE"),
    ("Art 22.1", "notarised, but no party signed", lambda: sale(notarised=True), (NOTARY, S), "SIGNATURE_MISSING"),
    ("Art 22.6", "notarised with the spouse's consent attested",
     lambda: sale(sellers=[B.seller(A.iin, spouse=SPOUSE.iin)], notarised=True, consents=[{"id": SPOUSE.iin, "doc": doc("consent.pdf")}]),
     (NOTARY, A), "FILED"),
    ("Art 22.6", "notarised without the spouse's consent",
     lambda: sale(sellers=[B.seller(A.iin, spouse=SPOUSE.iin)], notarised=True), (NOTARY, A), "SPOUSE_CONSENT_MISSING"),
]


@pytest.mark.parametrize("article,what,build,signers,code", SIGNATURE_CASES, ids=[c[1] for c in SIGNATURE_CASES])
def test_who_must_sign_table(article, what, build, signers, code):
    ch = chain()
    r = ch.run(build(), *signers)
    assert r.code == code, (article, what, r.refusal)


def test_three_or_more_participants_study_risk_2():
    """Two co-owners sell to three buyers in unequal shares; the shares keep summing to one."""
    ch = chain()
    r = ch.ok(sale(CO, [B.seller(A.iin, 1, 2), B.seller(S.iin, 1, 2)],
                   [B.buyer(C1.iin, 1, 2), B.buyer(C2.iin, 1, 3), B.buyer(C3.iin, 1, 6)]), A, S, C1, C2, C3)
    register(ch, r)
    assert ch.owners(CO) == {C1.iin: (1, 2), C2.iin: (1, 3), C3.iin: (1, 6)}
    assert ch.sheet(CO)["rights"][0]["common"] == "shared"


def test_policy_can_require_a_notary_study_risk_4():
    ch = chain(policy={"auto_register": [], "require_notary_for_sale": True})
    ch.refused(sale(), A, C1, code="NOTARY_REQUIRED")
    assert ch.ok(sale(notarised=True), NOTARY, A, C1).code == "FILED"


def issue(ch, who, amount):
    ch.ok(B.token_issue(who.iin, amount, "deposit 1"), ISSUER)


def token_sale(**kw):
    return sale(sellers=[B.seller(A.iin, receive_tiyn=PRICE)], buyers=[B.buyer(C1.iin, pay_tiyn=PRICE)], settlement="token", **kw)


def test_delivery_versus_payment_title_and_payment_move_together():
    ch = chain()
    issue(ch, C1, PRICE + 500)
    filed = ch.ok(token_sale(), A, C1)
    assert filed.event("settlement.locked").data["payments"] == [[C1.iin, PRICE]]
    assert queries.wallet(ch.state, C1.iin) == {"available": 500, "locked": PRICE}
    assert ch.owners(CN) == {A.iin: (1, 1)}                       # nothing moved yet
    reg = register(ch, filed)
    assert ch.owners(CN) == {C1.iin: (1, 1)}
    assert queries.wallet(ch.state, C1.iin) == {"available": 500, "locked": 0}
    assert queries.wallet(ch.state, A.iin) == {"available": PRICE, "locked": 0}
    assert reg.event("application.registered").data["settled"]["receipts"] == [[A.iin, PRICE]]
    assert queries.token_supply(ch.state) == PRICE + 500


@pytest.mark.parametrize("how", ["refuse", "withdraw", "suspension lapses"])
def test_neither_title_nor_payment_moves_when_the_sale_fails(how):
    ch = chain()
    issue(ch, C1, PRICE)
    n = app_number(ch.ok(token_sale(), A, C1))
    if how == "refuse":
        r = ch.ok(B.application_decide(n, "refuse", "contract does not match the object", "Art 31.1.3"), REGISTRAR)
        assert r.event("application.refused").data["released"] == [[C1.iin, PRICE]]
    elif how == "withdraw":
        ch.ok(B.application_withdraw(n), C1)
    else:
        ch.ok(B.application_decide(n, "suspend", "documents missing", "Art 27.1.3"), REGISTRAR)
        ev = ch.advance_to("2026-04-03").begin_events
        assert any(e.kind == "settlement.unlocked" for e in ev)
    assert queries.wallet(ch.state, C1.iin) == {"available": PRICE, "locked": 0}
    assert ch.owners(CN) == {A.iin: (1, 1)}
    assert queries.wallet(ch.state, A.iin) == {"available": 0, "locked": 0}


def test_token_sale_needs_funds_and_matching_payments():
    ch = chain()
    issue(ch, C1, PRICE - 1)
    ch.refused(token_sale(), A, C1, code="INSUFFICIENT_FUNDS")
    bad = sale(sellers=[B.seller(A.iin, receive_tiyn=PRICE)], buyers=[B.buyer(C1.iin, pay_tiyn=PRICE - 1)], settlement="token")
    ch.refused(bad, A, C1, code="SETTLEMENT_MISMATCH")


def test_token_issue_redeem_transfer_roles():
    ch = chain()
    ch.refused(B.token_issue(C1.iin, 100, "x"), BANK, code="WRONG_ROLE")
    issue(ch, C1, 1000)
    ch.refused(B.token_redeem(C1.iin, 100, "payout"), ISSUER, code="SIGNATURE_MISSING")
    ch.ok(B.token_redeem(C1.iin, 100, "payout"), ISSUER, C1)
    ch.refused(B.token_transfer(C1.iin, C2.iin, 50), C2, code="SIGNATURE_MISSING")
    ch.ok(B.token_transfer(C1.iin, C2.iin, 50), C1)
    ch.refused(B.token_transfer(C1.iin, C2.iin, 10_000), C1, code="INSUFFICIENT_FUNDS")
    assert queries.wallet(ch.state, C1.iin)["available"] == 850 and queries.wallet(ch.state, C2.iin)["available"] == 50
    assert queries.token_supply(ch.state) == 900


def pledged(ch):
    r = ch.ok(B.pledge_file(CN, BANK.bin, 10_000_000_00, "2035-01-01", "loan", [doc()]), BANK, A)
    register(ch, r)
    return ch.cert(CN)["pledges"][0]["entry"]


def test_pledge_bars_a_sale_without_the_pledgees_consent_art_31_1_4():
    ch = chain()
    pid = pledged(ch)
    ch.refused(sale(), A, C1, code="ENCUMBRANCE_EXCLUDES")
    reg = register(ch, ch.ok(sale(), A, C1, BANK))
    assert ch.owners(CN) == {C1.iin: (1, 1)}
    assert ch.cert(CN)["pledges"][0]["entry"] == pid                # the pledge follows the object
    notice = reg.event("encumbrance.notice")
    assert set(notice.recipients) == {"MOJ", BANK.bin}
    assert notice.data["entry"] == pid and notice.data["article"] == "Art 31.1-1"


def test_sale_to_the_pledgee_passes_its_pledge_art_31_1_1_1():
    ch = chain()
    pledged(ch)
    notarised = B.sale_file(CN, [B.seller(A.iin)], [B.buyer(BANK.bin)], PRICE, [doc()], notarised=True)
    assert ch.run(notarised, NOTARY, A).code == "FILED"
    other = B.sale_file(CN, [B.seller(A.iin)], [B.buyer(C1.iin)], PRICE, [doc()], notarised=True)
    assert ch.run(other, NOTARY, A).code == "ENCUMBRANCE_EXCLUDES"


def test_share_of_common_property_passes_a_pledge_art_31_1_1_5():
    ch = chain()
    register(ch, ch.ok(B.pledge_file(CO, BANK.bin, 100, "2035-01-01", "loan", [doc()]), BANK, A, S))
    r = register(ch, ch.ok(sale(CO, [B.seller(A.iin, 1, 2)], [B.buyer(C1.iin, 1, 2)]), A, C1, S))
    assert ch.owners(CO) == {C1.iin: (1, 2), S.iin: (1, 2)}
    assert r.event("encumbrance.notice").data["encumbrance"] == "pledge"


def test_lease_does_not_bar_a_sale_and_the_lessee_is_told_art_31_1_1_4():
    lease = {"type": "lease", "beneficiary": LESSEE.bin, "until": "2030-01-01"}
    ch = Chain([land(CN, B.holder(A.iin), encumbrances=[lease])])
    r = register(ch, ch.ok(sale(), A, C1))
    assert LESSEE.bin in r.event("encumbrance.notice").recipients


@pytest.mark.parametrize("when", ["before filing", "between filing and decision"])
def test_arrest_bars_a_sale(when):
    ch = chain()
    arrest = B.encumbrance_impose([CN], "arrest", BAILIFF.bin, act(), "enforcement of judgment")
    if when == "before filing":
        ch.ok(arrest, BAILIFF)
        ch.refused(sale(), A, C1, code="ENCUMBRANCE_EXCLUDES")
        ch.refused(sale(CN, notarised=True), NOTARY, A, C1, code="ENCUMBRANCE_EXCLUDES")
    else:
        n = app_number(ch.ok(sale(), A, C1))
        ch.ok(arrest, BAILIFF)
        r = ch.refused(B.application_decide(n, "register"), REGISTRAR, code="ENCUMBRANCE_EXCLUDES")
        assert r.refusal.article == "Art 31.1.4"
    assert ch.owners(CN) == {A.iin: (1, 1)}


def test_inheritance_passes_an_arrest_which_stays_art_31_1_1_2_and_45():
    ch = chain()
    ch.ok(B.encumbrance_impose([CO], "arrest", BAILIFF.bin, act(), "debt of the deceased"), BAILIFF)
    heirs = [B.holder(C1.iin, 1, 4), B.holder(C2.iin, 1, 4)]
    ch.refused(B.transfer_inherit(CO, A.iin, [B.holder(C1.iin, 1, 2), B.holder(C2.iin, 1, 4)], doc("cert.pdf"), "N-1"),
               NOTARY, C1, code="SHARES_INVALID")
    ch.refused(B.transfer_inherit(CO, A.iin, heirs, doc("cert.pdf"), "N-1"), C1, code="WRONG_ROLE")
    r = register(ch, ch.ok(B.transfer_inherit(CO, A.iin, heirs, doc("cert.pdf"), "N-1"), NOTARY, C1))
    assert ch.owners(CO) == {C1.iin: (1, 4), C2.iin: (1, 4), S.iin: (1, 2)}
    assert ch.cert(CO)["arrests"] and BAILIFF.bin in r.event("encumbrance.notice").recipients


def test_reorganisation_moves_objects_and_pledges_to_the_successor_art_46():
    old, new = org(70, "legal_entity", "Old LLP"), org(71, "legal_entity", "New JSC")
    bank_old, bank_new = org(72, "bank", "Old Bank"), org(73, "bank", "New Bank")
    ch = Chain([land(CN, B.holder(old.bin)), land(CO, B.holder(A.iin))])
    register(ch, ch.ok(B.pledge_file(CO, bank_old.bin, 100, "2035-01-01", "loan", [doc()]), bank_old, A))
    pid = ch.cert(CO)["pledges"][0]["entry"]
    register(ch, ch.ok(B.transfer_reorganise(old.bin, new.bin, "merger", [CN], doc("act.pdf")), new))
    assert ch.owners(CN) == {new.bin: (1, 1)}
    register(ch, ch.ok(B.transfer_reorganise(bank_old.bin, bank_new.bin, "accession", [], doc("act.pdf"), pledges=[pid]), bank_new))
    assert ch.cert(CO)["pledges"][0]["pledgee"] == bank_new.bin
    ch.refused(B.transfer_reorganise(old.bin, new.bin, "merger", [CN], doc("act.pdf")), new, code="NOT_RIGHT_HOLDER")


def test_reorganisation_is_barred_by_an_arrest():
    old, new = org(70, "legal_entity", "Old LLP"), org(71, "legal_entity", "New JSC")
    ch = Chain([land(CN, B.holder(old.bin))])
    ch.ok(B.encumbrance_impose([CN], "arrest", BAILIFF.bin, act(), "tax debt"), BAILIFF)
    ch.refused(B.transfer_reorganise(old.bin, new.bin, "merger", [CN], doc("act.pdf")), new, code="ENCUMBRANCE_EXCLUDES")
