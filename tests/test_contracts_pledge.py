"""The smart pledge contract end to end: filing, the registrar's decision, suspension, priority,
changes, discharge, foreclosure (Law 310 Art 13, 20-31, 48; the pilot's flow)."""

from __future__ import annotations

import pytest

from contracts import builders as B
from tests.contracts_support import Chain, act, app_number, citizen, doc, land, org

CN = "21-320-030-406"
CN2 = "21-320-030-407"
OWNER = citizen(1, "Aigerim")
CO_OWNER = citizen(2, "Nurlan")
BANK = org(10, "bank", "Halyk Bank")
BANK2 = org(11, "bank", "Kaspi Bank")
REGISTRAR = org(20, "registrar", "Government for Citizens")
REGISTRAR2 = org(20, "registrar", "Government for Citizens", person_n=77)
NOTARY = org(30, "notary", "Notary Seitkali")
BAILIFF = org(40, "bailiff", "Astana bailiffs")
COURT = org(50, "court", "Astana city court")
AMOUNT = 30_000_000_00      # 30 million tenge in tiyn


def chain(**app_state) -> Chain:
    return Chain([land(CN, B.holder(OWNER.iin)),
                  land(CN2, B.holder(OWNER.iin, 1, 2), B.holder(CO_OWNER.iin, 1, 2))], app_state=app_state)


def pledge(cn=CN, pledgee=BANK, **kw):
    return B.pledge_file(cn, pledgee.bin, kw.pop("amount", AMOUNT), kw.pop("term_end", "2036-03-01"), "loan 2026/1",
                         [doc("title.pdf"), doc("receipt.pdf")], **kw)


def registered_pledge(ch: Chain, cn=CN, pledgee=BANK, *signers) -> int:
    r = ch.ok(pledge(cn, pledgee), pledgee, *(signers or (OWNER,)))
    ch.ok(B.application_decide(app_number(r), "register"), REGISTRAR)
    return ch.cert(cn)["pledges"][-1]["entry"]


def test_pilot_flow_certificate_file_register_notify():
    """Art 48, 20.1, 34.1-1 and the study's Figure 2: the bank reads the encumbrance certificate,
    files the pledge signed by bank and pledgor, the registrar registers, bank + MoJ + applicant are told."""
    ch = chain()
    cert = ch.cert(CN)
    assert cert["encumbered"] is False and cert["holders"][0]["id"] == OWNER.iin
    filed = ch.ok(pledge(), BANK, OWNER)
    assert filed.code == "FILED"
    ev = filed.event("application.filed")
    assert ev.data["objects"] == [CN] and ev.data["status"] == "filed"
    assert ev.data["deadline"] == "2026-03-03"          # Art 23.1-1: one working day
    assert {"MOJ", BANK.bin, OWNER.iin} <= set(ev.recipients)
    n = app_number(filed)
    assert ch.sheet(CN)["pending_applications"] == [n]
    reg = ch.ok(B.application_decide(n, "register"), REGISTRAR)
    ev = reg.event("application.registered")
    assert {"MOJ", BANK.bin, OWNER.iin} <= set(ev.recipients)
    assert ev.data["objects"] == [CN] and ev.data["pledgee"] == BANK.bin and ev.data["amount_tiyn"] == AMOUNT
    cert = ch.cert(CN)
    assert cert["encumbered"] and cert["pledges"][0]["pledgee"] == BANK.bin and cert["pledges"][0]["entry"] == ev.data["pledge"]
    sheet = ch.sheet(CN)
    assert sheet["encumbrances"]["pledges"][0]["docs"][0]["name"] == "title.pdf"
    assert sheet["pending_applications"] == []
    app = ch.app(n)
    assert app["status"] == "registered" and app["decision"]["by"]["name"] == REGISTRAR.name


def test_auto_registration_under_policy():
    """Art 21.4, 23.1-1: where the consortium policy allows, a bank-loan pledge registers at filing."""
    ch = chain(policy={"auto_register": ["pledge"], "require_notary_for_sale": False})
    r = ch.ok(pledge(), BANK, OWNER)
    assert r.code == "REGISTERED"
    assert r.event("application.registered").data["auto"] is True
    assert ch.cert(CN)["pledges"][0]["amount_tiyn"] == AMOUNT


def test_auto_registration_cap_leaves_large_pledges_for_review():
    ch = chain(policy={"auto_register": ["pledge"], "auto_pledge_amount_max_tiyn": AMOUNT - 1, "require_notary_for_sale": False})
    assert ch.ok(pledge(), BANK, OWNER).code == "FILED"


FILING_CASES = [
    # (article, description, build, signers, expected code)
    ("Art 22.2", "pledgor did not sign, no notarised consent", lambda: pledge(), (BANK,), "PLEDGOR_CONSENT_MISSING"),
    ("Art 22.2", "pledgee alone with the pledgor's notarised consent", lambda: pledge(pledgor_consent=doc("consent.pdf")), (BANK, NOTARY), "FILED"),
    ("Art 22.2", "the pledgee named is not a signer", lambda: pledge(pledgee=BANK2), (BANK, OWNER), "NOT_PLEDGEE"),
    ("Art 22.4", "one co-owner of common property pledges alone", lambda: pledge(CN2, pledgors=[OWNER.iin]), (BANK, OWNER), "NOT_RIGHT_HOLDER"),
    ("Art 22.4", "co-owner missing a signature", lambda: pledge(CN2), (BANK, OWNER), "PLEDGOR_CONSENT_MISSING"),
    ("Art 22.4", "all co-owners pledge", lambda: pledge(CN2), (BANK, OWNER, CO_OWNER), "FILED"),
    ("Art 3.2", "unknown object", lambda: pledge("21-320-030-999"), (BANK, OWNER), "OBJECT_NOT_FOUND"),
    ("Art 48", "a citizen cannot file a pledge without a bank", lambda: pledge(), (OWNER,), "WRONG_ROLE"),
    ("Art 48", "schema: amount must be positive", lambda: pledge(amount=0), (BANK, OWNER), "INVALID_PAYLOAD"),
]


@pytest.mark.parametrize("article,what,build,signers,code", FILING_CASES, ids=[c[1] for c in FILING_CASES])
def test_pledge_filing_table(article, what, build, signers, code):
    ch = chain()
    r = ch.run(build(), *signers)
    assert r.code == code, (article, what, r.refusal)
    if not r.ok:
        assert r.refusal.message


def test_arrest_refuses_acceptance_art_25_1_7():
    ch = chain()
    ch.ok(B.encumbrance_impose([CN], "arrest", BAILIFF.bin, act(), "enforcement of judgment 2-1/2026"), BAILIFF)
    r = ch.refused(pledge(), BANK, OWNER, code="ENCUMBRANCE_EXCLUDES")
    assert r.refusal.article == "Art 25.1.7"


def test_second_pledge_needs_first_pledgees_consent():
    ch = chain()
    registered_pledge(ch)
    ch.refused(pledge(pledgee=BANK2), BANK2, OWNER, code="ENCUMBRANCE_EXCLUDES")
    r = ch.ok(pledge(pledgee=BANK2), BANK2, OWNER, BANK)
    assert r.code == "FILED"


def test_encumbrance_checked_again_at_decision_art_31_1_4():
    ch = chain()
    n = app_number(ch.ok(pledge(), BANK, OWNER))
    ch.ok(B.encumbrance_impose([CN], "arrest", BAILIFF.bin, act(), "enforcement"), BAILIFF)
    r = ch.refused(B.application_decide(n, "register"), REGISTRAR, code="ENCUMBRANCE_EXCLUDES")
    assert r.refusal.article == "Art 31.1.4"
    assert ch.app(n)["status"] == "filed"
    refused = ch.ok(B.application_decide(n, "refuse", "the object is under arrest", "Art 31.1.4"), REGISTRAR)
    ev = refused.event("application.refused")
    assert ev.data["article"] == "Art 31.1.4" and ev.data["reason"] == "the object is under arrest"
    assert BANK.bin in ev.recipients and ch.cert(CN)["pledges"] == []


def test_suspension_then_refusal_after_one_month_art_27_3():
    ch = chain()
    n = app_number(ch.ok(pledge(), BANK, OWNER))
    r = ch.ok(B.application_decide(n, "suspend", "payment receipt missing", "Art 27.1.6", "incomplete_payment"), REGISTRAR)
    assert r.event("application.suspended").data["until"] == "2026-04-02"
    assert ch.app(n)["status"] == "suspended"
    ch.refused(B.application_decide(n, "suspend", "again", "Art 27.1.6"), REGISTRAR, code="ALREADY_SUSPENDED")
    assert ch.advance_to("2026-04-02").begin_events == []            # the last day of the month still counts
    res = ch.advance_to("2026-04-03", hour=0)
    kinds = [e.kind for e in res.begin_events]
    assert "application.refused" in kinds
    ev = [e for e in res.begin_events if e.kind == "application.refused"][0]
    assert ev.data["application"] == n and ev.data["objects"] == [CN] and "31.1.6" in ev.data["article"]
    assert ch.app(n)["status"] == "refused" and ch.sheet(CN)["pending_applications"] == []


def test_suspended_application_can_still_be_registered():
    ch = chain()
    n = app_number(ch.ok(pledge(), BANK, OWNER))
    ch.ok(B.application_decide(n, "suspend", "doubt on authenticity", "Art 28.1"), REGISTRAR)
    ch.ok(B.application_decide(n, "register"), REGISTRAR)
    res = ch.advance_to("2026-04-10")
    assert [e for e in res.begin_events if e.kind == "application.refused"] == []
    assert ch.app(n)["status"] == "registered"


def test_decision_needs_reason_and_article_art_31_3():
    ch = chain()
    n = app_number(ch.ok(pledge(), BANK, OWNER))
    ch.refused(B.application_decide(n, "refuse"), REGISTRAR, code="DECISION_INCOMPLETE")
    ch.refused(B.application_decide(n, "suspend", reason="x"), REGISTRAR, code="DECISION_INCOMPLETE")


def test_priority_by_filing_order_and_withdrawal_loses_it_art_13_27_6():
    ch = chain()
    first = app_number(ch.ok(pledge(), BANK, OWNER))
    second = app_number(ch.ok(pledge(pledgee=BANK2, amount=AMOUNT // 2), BANK2, OWNER))
    assert ch.sheet(CN)["pending_applications"] == [first, second]
    r = ch.refused(B.application_decide(second, "register"), REGISTRAR, code="PRIORITY")
    assert str(first) in r.refusal.message
    w = ch.ok(B.application_withdraw(first, "bank changed its mind"), BANK)
    assert w.event("application.withdrawn").data["article"] == "Art 27.6"
    assert ch.sheet(CN)["pending_applications"] == [second]
    ch.ok(B.application_decide(second, "register"), REGISTRAR)
    assert [p["pledgee"] for p in ch.cert(CN)["pledges"]] == [BANK2.bin]
    ch.refused(B.application_decide(first, "register"), REGISTRAR, code="APPLICATION_CLOSED")


def test_only_an_applicant_withdraws():
    ch = chain()
    n = app_number(ch.ok(pledge(), BANK, OWNER))
    ch.refused(B.application_withdraw(n), BANK2, code="NOT_APPLICANT")


def test_registrar_cannot_decide_own_deal():
    """The study's insider risk: a registrar deciding an application they are party to."""
    me = REGISTRAR2
    ch = Chain([land(CN, B.holder(me.iin))])
    n = app_number(ch.ok(pledge(), BANK, me))
    ch.refused(B.application_decide(n, "register"), me, code="SELF_SERVICE")
    ch.ok(B.application_decide(n, "register"), REGISTRAR)


def test_overdue_application_notice_art_23():
    ch = chain()
    n = app_number(ch.ok(pledge(), BANK, OWNER))
    res = ch.advance_to("2026-03-04")
    ev = [e for e in res.begin_events if e.kind == "application.overdue"]
    assert ev and ev[0].data["application"] == n and "MOJ" in ev[0].recipients


CHANGE_CASES = [
    ("Art 48.5.3", "amount raised while arrested", {"amount_tiyn": AMOUNT * 2}, True, "AMOUNT_INCREASE_EXCLUDED"),
    ("Art 31.1-1.8", "amount lowered while arrested", {"amount_tiyn": AMOUNT // 2}, True, "FILED"),
    ("Art 31.1-1.8", "term extended while arrested", {"term_end": "2040-01-01"}, True, "FILED"),
    ("Art 48.5.3", "amount raised, no arrest", {"amount_tiyn": AMOUNT * 2}, False, "FILED"),
    ("Art 48.5", "nothing changes", {"amount_tiyn": AMOUNT}, False, "NOTHING_TO_CHANGE"),
]


@pytest.mark.parametrize("article,what,change,arrest,code", CHANGE_CASES, ids=[c[1] for c in CHANGE_CASES])
def test_pledge_change_table(article, what, change, arrest, code):
    ch = chain()
    pid = registered_pledge(ch)
    if arrest:
        ch.ok(B.encumbrance_impose([CN], "arrest", BAILIFF.bin, act(), "enforcement"), BAILIFF)
    r = ch.run(B.pledge_change(pid, [doc("addendum.pdf")], **change), BANK, OWNER)
    assert r.code == code, (article, r.refusal)
    if r.ok:
        ch.ok(B.application_decide(app_number(r), "register"), REGISTRAR)
        p = ch.cert(CN)["pledges"][0]
        for k, v in change.items():
            assert p[k] == v
        notes = [e for e in ch.sheet(CN)["history"] if e["type"] == "pledge_change"]
        assert notes and notes[0]["after"][next(iter(change))] == next(iter(change.values()))


def test_cession_needs_both_banks_not_the_pledgor_art_22_2():
    ch = chain()
    pid = registered_pledge(ch)
    ch.refused(B.pledge_change(pid, [doc("cession.pdf")], pledgee=BANK2.bin), BANK, code="SIGNATURE_MISSING")
    r = ch.ok(B.pledge_change(pid, [doc("cession.pdf")], pledgee=BANK2.bin), BANK, BANK2)
    ch.ok(B.application_decide(app_number(r), "register"), REGISTRAR)
    assert ch.cert(CN)["pledges"][0]["pledgee"] == BANK2.bin


def test_discharge_on_pledgees_application_art_48_6_1():
    ch = chain()
    pid = registered_pledge(ch)
    ch.refused(B.pledge_discharge(pid), BANK2, code="NOT_PLEDGEE")
    r = ch.ok(B.pledge_discharge(pid), BANK)
    assert r.code == "REGISTERED"          # the default policy registers discharges at once (Art 23.2-1)
    assert BANK.bin in r.event("application.registered").recipients
    assert ch.cert(CN)["encumbered"] is False
    hist = {e["id"]: e for e in ch.sheet(CN)["history"]}
    assert hist[pid]["status"] == "discharged" and hist[pid]["ended"]["reason"] == "fulfilled"


def test_foreclosure_needs_default_notice_then_transfers_art_48_6_2():
    ch = chain()
    pid = registered_pledge(ch)
    buyer = citizen(99, "Auction buyer")
    ch.refused(B.pledge_foreclose(pid, buyer.iin, "auction of 2026-05-01", [doc("auction.pdf")]), BANK, code="NO_DEFAULT_NOTICE")
    notice = ch.ok(B.pledge_default_notice(pid, "2026-02-01", doc("notice.pdf")), BANK)
    assert OWNER.iin in notice.event("pledge.default_notice").recipients
    n = app_number(ch.ok(B.pledge_foreclose(pid, buyer.iin, "auction of 2026-05-01", [doc("auction.pdf")]), BANK))
    ch.ok(B.application_decide(n, "register"), REGISTRAR)
    assert ch.owners(CN) == {buyer.iin: (1, 1)}
    assert ch.cert(CN)["pledges"] == []


def test_foreclosure_to_a_third_party_is_barred_by_an_arrest():
    ch = chain()
    pid = registered_pledge(ch)
    ch.ok(B.pledge_default_notice(pid, "2026-02-01", doc("notice.pdf")), BANK)
    ch.ok(B.encumbrance_impose([CN], "arrest", BAILIFF.bin, act(), "enforcement"), BAILIFF)
    ch.refused(B.pledge_foreclose(pid, citizen(98).iin, "auction", [doc()]), BANK, code="ENCUMBRANCE_EXCLUDES")


def test_pledge_in_filing_order_numbers_are_monotonic():
    """Art 13.2, 26.1: the book gives each application its place and its exact time of filing."""
    ch = chain()
    r1 = ch.ok(pledge(), BANK, OWNER)
    r2 = ch.ok(pledge(CN2), BANK, OWNER, CO_OWNER)
    a1, a2 = ch.app(app_number(r1)), ch.app(app_number(r2))
    assert a1["number"] < a2["number"]
    assert a1["filed"]["height"] < a2["filed"]["height"] and a1["filed"]["time_ms"] < a2["filed"]["time_ms"]
    assert a1["tx"] == r1.tx.tx_id


def test_holders_changed_between_filing_and_decision_art_31_1_1():
    """The pledgor who signed must still own the object when the registrar decides."""
    ch = chain()
    n = app_number(ch.ok(pledge(), BANK, OWNER))
    ch.ok(B.court_transfer(CN, [B.holder(CO_OWNER.iin)], act("2-9/2026")), COURT)
    r = ch.refused(B.application_decide(n, "register"), REGISTRAR, code="NOT_RIGHT_HOLDER")
    assert "changed since application" in r.refusal.message


def test_refusal_before_execution_names_the_kinds_articles():
    """A proposer may include a tx this node never checked: deliver_tx refuses it with the articles."""
    from node.errors import Refusal
    from tests.contracts_support import tx
    ch = chain()
    t = tx(B.encumbrance_lift(1, act(), "x"), REGISTRAR)
    with pytest.raises(Refusal) as info:
        ch.executor.deliver_tx(ch.ctx(), t, ch.state)
    assert info.value.code == "WRONG_ROLE" and "Art 22.8" in info.value.article
