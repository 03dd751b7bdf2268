"""Legal claims (Art 53), temporary stops (Art 29), arrests by authorities (Art 22.8, 23.2) and
the business-day calendar the terms are computed from (Art 23, 27, 29, 53)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from contracts import builders as B, businessdays, keys, queries
from tests.contracts_support import Chain, act, app_number, citizen, doc, land, org

CN = "11-222-333-444"
OWNER, BUYER, OTHER = citizen(1, "Owner"), citizen(2, "Counterparty"), citizen(3, "Someone else")
CLAIMANT = citizen(4, "Claimant")
LAWYER = org(5, "lawyer", "Bar association")
BANK = org(10, "bank", "Halyk Bank")
REGISTRAR = org(20, "registrar", "Government for Citizens")
BAILIFF = org(40, "bailiff", "Bailiffs")
OTHER_BAILIFF = org(41, "bailiff", "Other bailiffs")
TAX = org(42, "tax_body", "State revenue")
COURT = org(50, "court", "Court")
GOV = org(90, "governance", "Consortium")


def chain(**kw) -> Chain:
    return Chain([land(CN, B.holder(OWNER.iin))], **kw)


def sale_to(who):
    return B.sale_file(CN, [B.seller(OWNER.iin)], [B.buyer(who.iin)], 100, [doc()])


# --- legal claims ------------------------------------------------------------------------------
def claim():
    return B.claim_register(CN, CLAIMANT.iin, "lawsuit", "suit over the boundary", [doc("suit.pdf")])


def test_claim_is_registered_at_once_and_blocks_nothing_art_53_3():
    ch = chain()
    r = ch.ok(claim(), CLAIMANT)
    assert r.code == "REGISTERED"
    ev = r.event("claim.registered")
    assert ev.data["lapse"] == "2029-03-02" and OWNER.iin in ev.recipients and CLAIMANT.iin in ev.recipients
    assert ch.cert(CN)["claims"][0]["claimant"] == CLAIMANT.iin
    assert ch.cert(CN)["encumbered"] is False                      # a claim is no encumbrance
    n = app_number(ch.ok(sale_to(BUYER), OWNER, BUYER))
    ch.ok(B.application_decide(n, "register"), REGISTRAR)
    assert ch.owners(CN) == {BUYER.iin: (1, 1)}


def test_claim_registered_by_a_lawyer_or_only_by_the_claimant():
    ch = chain()
    ch.refused(claim(), OTHER, code="NOT_CLAIMANT")
    ch.ok(claim(), LAWYER)


@pytest.mark.parametrize("who,code", [("claimant", "REGISTERED"), ("court", "REGISTERED"), ("owner", "NOT_CLAIMANT")])
def test_claim_withdrawal_art_53_4(who, code):
    ch = chain()
    eid = ch.ok(claim(), CLAIMANT).event("claim.registered").data["entry"]
    signer = {"claimant": CLAIMANT, "court": COURT, "owner": OWNER}[who]
    r = ch.run(B.claim_withdraw(eid, "consent", "settled out of court"), signer)
    assert r.code == code
    if r.ok:
        assert ch.cert(CN)["claims"] == []
        assert [e["status"] for e in ch.sheet(CN)["history"] if e["type"] == "legal_claim"] == ["withdrawn"]


def test_claim_lapses_three_years_after_registration_with_notice_art_53_4():
    ch = chain()
    eid = ch.ok(claim(), CLAIMANT).event("claim.registered").data["entry"]
    lapse = businessdays.day_from_iso("2029-03-02")
    notice_day = businessdays.iso(businessdays.Calendar(ch.state.get).sub_business_days(lapse, 10))
    day_before = businessdays.iso(businessdays.day_from_iso(notice_day) - 1)
    assert ch.advance_to(day_before).begin_events == []
    ev = ch.advance_to(notice_day).begin_events
    assert [e.kind for e in ev] == ["claim.lapse_notice"]
    assert set(ev[0].recipients) == {"MOJ", CLAIMANT.iin} and ev[0].data["lapse"] == "2029-03-02"
    assert ch.cert(CN)["claims"]                                     # still there the day before
    ev = ch.advance_to("2029-03-02", hour=0).begin_events
    assert [e.kind for e in ev] == ["claim.lapsed"] and ev[0].data["entry"] == eid and ev[0].data["objects"] == [CN]
    assert ch.cert(CN)["claims"] == []


def test_extended_claim_does_not_lapse_on_the_old_date():
    ch = chain()
    eid = ch.ok(claim(), CLAIMANT).event("claim.registered").data["entry"]
    ch.advance_to("2028-12-01")
    r = ch.ok(B.claim_extend(eid, "the suit is still pending"), CLAIMANT)
    assert r.event("claim.extended").data["lapse"] == "2032-03-02"
    ev = ch.advance_to("2029-03-05").begin_events
    assert not [e for e in ev if e.kind.startswith("claim.")]
    assert ch.cert(CN)["claims"][0]["lapse"] == "2032-03-02"


# --- arrests -------------------------------------------------------------------------------------
def arrest(authority=BAILIFF, kind="arrest"):
    return B.encumbrance_impose([CN], kind, authority.bin, act(), "enforcement of judgment 2-1/2026")


def test_arrest_registered_at_once_and_holders_and_pledgees_told_art_23_2():
    ch = chain()
    n = app_number(ch.ok(B.pledge_file(CN, BANK.bin, 100, "2035-01-01", "loan", [doc()]), BANK, OWNER))
    ch.ok(B.application_decide(n, "register"), REGISTRAR)
    r = ch.ok(arrest(), BAILIFF)
    assert r.code == "REGISTERED"
    ev = r.event("encumbrance.imposed")
    assert {OWNER.iin, BANK.bin, BAILIFF.bin, "MOJ"} <= set(ev.recipients)
    cert = ch.cert(CN)
    assert cert["excluding"] and cert["arrests"][0]["authority"] == BAILIFF.bin


LIFT_CASES = [
    ("Art 22.8", "the imposing bailiff lifts", BAILIFF, "REGISTERED"),
    ("Art 22.8", "a court lifts", COURT, "REGISTERED"),
    ("Art 22.8", "another bailiff cannot", OTHER_BAILIFF, "NOT_IMPOSING_AUTHORITY"),
    ("study: insider abuse", "a registrar cannot", REGISTRAR, "WRONG_ROLE"),
    ("Art 22.8", "the owner cannot", OWNER, "WRONG_ROLE"),
]


@pytest.mark.parametrize("article,what,signer,code", LIFT_CASES, ids=[c[1] for c in LIFT_CASES])
def test_who_may_lift_an_arrest(article, what, signer, code):
    ch = chain()
    eid = ch.ok(arrest(), BAILIFF).event("encumbrance.imposed").data["entry"]
    r = ch.run(B.encumbrance_lift(eid, act("lift-1"), "debt paid"), signer)
    assert r.code == code, (article, r.refusal)
    assert ch.cert(CN)["excluding"] is (not r.ok)


def test_authority_must_sign_its_own_act():
    ch = chain()
    ch.refused(B.encumbrance_impose([CN], "prohibition", TAX.bin, act(), "tax audit"), BAILIFF, code="NOT_IMPOSING_AUTHORITY")
    ch.ok(B.encumbrance_impose([CN], "prohibition", TAX.bin, act(), "tax audit"), TAX)


# --- temporary stop --------------------------------------------------------------------------------
def stop(**kw):
    kw.setdefault("counterparty", [BUYER.iin])
    return B.stop_request(CN, "guarantee", "guarantee to the buyer before the deal", **kw)


def test_during_a_stop_only_the_counterparty_acquires_art_29_2():
    ch = chain()
    earlier = app_number(ch.ok(B.pledge_file(CN, BANK.bin, 100, "2035-01-01", "loan", [doc()]), BANK, OWNER))
    r = ch.ok(stop(), OWNER)
    assert r.event("stop.registered").data["until"] == "2026-03-27"   # default calendar: 9, 24, 25 March off
    cert = ch.cert(CN)
    assert cert["temporary_stop"]["counterparty"] == [BUYER.iin]
    r = ch.refused(sale_to(OTHER), OWNER, OTHER, code="TEMPORARY_STOP")
    assert r.refusal.article == "Art 29.2"
    ch.refused(B.pledge_file(CN, org(11, "bank").bin, 100, "2035-01-01", "loan", [doc()]), org(11, "bank"), OWNER, BANK,
               code="TEMPORARY_STOP")
    # Art 29.3: an application filed before the stop, state acts and legal claims go on.
    ch.ok(B.application_decide(earlier, "register"), REGISTRAR)
    ch.ok(B.claim_register(CN, CLAIMANT.iin, "lawsuit", "suit", [doc()]), CLAIMANT)
    ch.ok(sale_to(BUYER), OWNER, BUYER, BANK)                      # the counterparty's deal proceeds
    ch.ok(B.encumbrance_impose([CN], "restriction", TAX.bin, act(), "audit"), TAX)


def test_stop_ends_after_fifteen_business_days_by_the_calendar():
    # Holidays of March 2026 as a governance calendar: 9 March (8 March fell on a Sunday),
    # 23-25 March (Nauryz and carried days).
    cal = {"year": 2026, "holidays": ["2026-03-09", "2026-03-23", "2026-03-24", "2026-03-25"], "working_days": []}
    ch = chain(app_state={"calendar": [cal]})
    r = ch.ok(stop(), OWNER)
    # Business days after Mon 2 March: 3-6 (4), 10-13 (8), 16-20 (13), 26, 27 (15).
    assert r.event("stop.registered").data["until"] == "2026-03-27"
    assert ch.advance_to("2026-03-27", hour=23).begin_events == []
    ev = ch.advance_to("2026-03-28", hour=0).begin_events
    assert [e.kind for e in ev] == ["stop.ended"] and ev[0].data["objects"] == [CN]
    assert ch.cert(CN)["temporary_stop"] is None
    ch.ok(sale_to(OTHER), OWNER, OTHER)


def test_stop_for_risk_of_loss_lasts_until_cancelled_art_29_4():
    ch = chain()
    ch.ok(B.stop_request(CN, "loss_risk", "title document lost"), OWNER)
    ch.advance_to("2026-06-01")
    r = ch.refused(sale_to(BUYER), OWNER, BUYER, code="TEMPORARY_STOP")
    assert r.refusal.article == "Art 29.4"
    ch.refused(B.stop_cancel(CN, "found it"), OTHER, code="NOT_RIGHT_HOLDER")
    ch.ok(B.stop_cancel(CN, "found it"), OWNER)
    ch.ok(sale_to(BUYER), OWNER, BUYER)


STOP_REQUEST_CASES = [
    ("Art 29.1", "not the owner", lambda: stop(), OTHER, "NOT_RIGHT_HOLDER"),
    ("Art 29.1.1", "guarantee without counterparty", lambda: B.stop_request(CN, "guarantee", "x"), OWNER, "STOP_INVALID"),
    ("Art 29.2", "more than 15 business days", lambda: stop(business_days=16), OWNER, "INVALID_PAYLOAD"),
    ("Art 29.2", "a shorter stop", lambda: stop(business_days=5), OWNER, "REGISTERED"),
]


@pytest.mark.parametrize("article,what,build,signer,code", STOP_REQUEST_CASES, ids=[c[1] for c in STOP_REQUEST_CASES])
def test_stop_request_table(article, what, build, signer, code):
    assert chain().run(build(), signer).code == code


def test_one_stop_at_a_time():
    ch = chain()
    ch.ok(stop(), OWNER)
    ch.refused(stop(), OWNER, code="STOP_ACTIVE")


# --- the calendar ------------------------------------------------------------------------------
def test_block_time_maps_to_kazakhstan_local_days():
    midnight_local = businessdays.start_ms(businessdays.day_from_iso("2026-03-02"))
    assert businessdays.iso(businessdays.day_of(midnight_local)) == "2026-03-02"
    assert businessdays.iso(businessdays.day_of(midnight_local - 1)) == "2026-03-01"
    assert midnight_local % businessdays.DAY_MS == businessdays.DAY_MS - 5 * 3600 * 1000   # 19:00 UTC
    assert businessdays.weekday(businessdays.day_from_iso("2026-03-02")) == 0


@pytest.mark.parametrize("start,months,expected", [("2026-01-31", 1, "2026-02-28"), ("2028-01-31", 1, "2028-02-29"),
                                                    ("2026-12-15", 1, "2027-01-15"), ("2028-02-29", 36, "2031-02-28")])
def test_month_arithmetic(start, months, expected):
    assert businessdays.iso(businessdays.add_months(businessdays.day_from_iso(start), months)) == expected


def test_default_calendar_moves_a_weekend_holiday_to_the_next_working_day():
    cal = businessdays.Calendar(lambda key: None)
    d = businessdays.day_from_iso
    assert not cal.is_business_day(d("2026-03-08"))                 # Sunday and a holiday
    assert not cal.is_business_day(d("2026-03-09"))                 # carried over (Labour Code Art 85)
    assert cal.is_business_day(d("2026-03-10"))
    assert not cal.is_business_day(d("2026-12-16"))
    assert businessdays.iso(cal.add_business_days(d("2026-12-31"), 1)) == "2027-01-05"   # 1 Jan Fri; 2 Jan Sat -> Mon 4 Jan off
    assert businessdays.iso(cal.sub_business_days(d("2026-03-10"), 1)) == "2026-03-06"


def test_governance_calendar_adds_holidays_and_working_saturdays():
    ch = chain()
    ch.refused(B.calendar_set(2026, ["2026-05-27"]), OWNER, code="WRONG_ROLE")
    ch.refused(B.calendar_set(2026, ["2027-01-01"]), GOV, code="POLICY_INVALID")
    ch.ok(B.calendar_set(2026, ["2026-05-27"], working_days=["2026-05-30"]), GOV)   # Kurban ait; a working Saturday
    assert not queries.is_business_day(ch.state, "2026-05-27")
    assert queries.is_business_day(ch.state, "2026-05-30")
    assert queries.is_business_day(ch.state, "2026-03-09")          # the set calendar replaces the default


@settings(max_examples=200, deadline=None)
@given(
    start=st.integers(businessdays.day_from_iso("2026-11-01"), businessdays.day_from_iso("2027-02-01")),
    n=st.integers(1, 40),
    offs=st.lists(st.integers(20_740, 20_920), max_size=30),
    working=st.lists(st.integers(20_740, 20_920), max_size=5),
    backwards=st.booleans(),
)
def test_remembered_business_day_scans_agree_with_counting_day_by_day(start, n, offs, working, backwards):
    """Scans are remembered across Calendars (one per tx) by every input they read: two
    calendars that differ in one day off never share an answer."""
    from node import codec

    def record(year):
        hol = sorted({d for d in offs if businessdays.year_of(d) == year})
        wk = sorted({d for d in working if businessdays.year_of(d) == year} - set(hol))
        return codec.encode({"year": year, "holidays": hol, "working_days": wk}) if hol or wk else None

    records = {keys.calendar_year(y): record(y) for y in (2025, 2026, 2027, 2028)}
    for get in (records.get, lambda key: None):
        cal = businessdays.Calendar(get)
        got = cal.sub_business_days(start, n) if backwards else cal.add_business_days(start, n)
        d, counted, step = start, 0, -1 if backwards else 1
        while counted < n:
            d += step
            counted += cal.is_business_day(d)
        assert got == d
        again = businessdays.Calendar(get)  # a fresh Calendar: served from the shared memo
        assert (again.sub_business_days(start, n) if backwards else again.add_business_days(start, n)) == d
