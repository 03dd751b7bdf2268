"""Access rules of Art 17 and Order 1382 as pure decisions, the personal-data filter of
Art 17.1, the public view, and the holder's written consent."""

from __future__ import annotations

import datetime

import pytest

from cadastre import access, consent, redact
from node import identity
from node.errors import BadSignature, CertificateRevoked
from node.interfaces import Credential
from tests.cadastre_support import People
from tests.ledger_support import CHAIN_ID, TestPKI

OWNER = identity.make_iin(datetime.date(1985, 4, 12), "F", 101)
CO = identity.make_iin(datetime.date(1979, 9, 3), "M", 102)
OTHER = identity.make_iin(datetime.date(1990, 1, 20), "M", 103)
BANK = identity.make_bin(datetime.date(1999, 12, 1), 3003)
CN = "21-320-030-406"


def cred(roles=("citizen",), iin=OTHER, bin=None) -> Credential:
    return Credential(b"f" * 32, 1, "someone", iin, bin, None, tuple(roles), b"k" * 32, 0, 2**62)


def caller(roles=("citizen",), iin=OTHER, bin=None, **kw) -> access.Caller:
    return access.Caller(cred(roles, iin, bin), **kw)


def test_holder_and_registering_body_see_the_full_sheet():
    assert access.object_access(caller(iin=OWNER), CN, {OWNER}, want_full=True).basis == "holder"
    reg = access.object_access(caller(("registrar",)), CN, {OWNER}, want_full=True)
    assert (reg.level, reg.basis, reg.article) == ("full", "registering_body", "Art 11")


@pytest.mark.parametrize("role,article", sorted(access.LISTED_REQUESTERS.items()))
def test_listed_requesters_need_a_ground(role, article):
    with_ground = access.object_access(caller((role,), ground="civil case 2-77/2026"), CN, {OWNER}, want_full=True)
    assert (with_ground.level, with_ground.basis, with_ground.article) == ("full", f"listed_requester:{role}", article)
    assert access.object_access(caller((role,)), CN, {OWNER}, want_full=False).level == "public"
    with pytest.raises(access.GroundRequired):
        access.object_access(caller((role,)), CN, {OWNER}, want_full=True)


def test_others_get_the_public_view_or_a_refusal():
    assert access.object_access(caller(), CN, {OWNER}, want_full=False) == access.Access("public", "open", "Art 17.3-1, 17.3-2")
    with pytest.raises(access.AccessDenied):
        access.object_access(caller(), CN, {OWNER}, want_full=True)
    # A bank is not a listed requester: before a pledge it reads encumbrances (open).
    with pytest.raises(access.AccessDenied):
        access.object_access(caller(("bank",), bin=BANK), CN, {OWNER}, want_full=True)


def test_heirs_name_the_holder_and_state_a_ground():
    ok = access.object_access(caller(heir_of=OWNER, ground="inheritance case 15/2026 at notary Seitkali"), CN, {OWNER}, want_full=True)
    assert (ok.basis, ok.article) == ("heir", "Art 17.3.5")
    for bad in (dict(heir_of=OWNER), dict(heir_of=OTHER, ground="inheritance case 15/2026")):
        with pytest.raises(access.AccessDenied):
            access.object_access(caller(**bad), CN, {OWNER}, want_full=True)


def test_consent_of_a_holder_for_this_object():
    ok = access.object_access(caller(consent_from=OWNER, consent_subject=CN), CN, {OWNER, CO}, want_full=True)
    assert (ok.basis, ok.article) == ("consent", "Art 17.3.8")
    with pytest.raises(access.AccessDenied):    # consent for another object
        access.object_access(caller(consent_from=OWNER, consent_subject="21-320-030-407"), CN, {OWNER}, want_full=True)
    with pytest.raises(access.AccessDenied):    # consent from someone who holds nothing here
        access.object_access(caller(consent_from=OTHER, consent_subject=CN), CN, {OWNER}, want_full=True)


def test_holdings_of_individuals_and_of_legal_entities():
    assert access.holdings_access(caller(), BANK).basis == "open"                  # Art 17.3-2
    assert access.holdings_access(caller(iin=OWNER), OWNER).basis == "holder"
    assert access.holdings_access(caller(("tax_body",), ground="tax audit 2026/11"), OWNER).article == "Art 17.3.4"
    with pytest.raises(access.GroundRequired):
        access.holdings_access(caller(("bailiff",)), OWNER)
    with pytest.raises(access.AccessDenied):
        access.holdings_access(caller(), OWNER)


def test_applications_and_documents():
    assert access.application_access(caller(iin=OWNER), {OWNER, BANK}).basis == "party"
    assert access.application_access(caller(("court",), ground="case 2-1/2026"), {OWNER}).article == "Art 17.2"
    with pytest.raises(access.GroundRequired):
        access.application_access(caller(("court",)), {OWNER})
    with pytest.raises(access.AccessDenied):
        access.application_access(caller(("lawyer",), ground="case 2-1/2026"), {OWNER})   # Art 17.2 does not list lawyers


def test_ground_length():
    assert access.check_ground("  ") is None
    assert access.check_ground(" case 2-1/2026 ") == "case 2-1/2026"
    for bad in ("abc", "x" * 501):
        with pytest.raises(access.InvalidGround):
            access.check_ground(bad)


def test_personal_data_filter_keeps_name_date_of_birth_and_bins():
    sheet = {"rights": [{"holders": [{"id": OWNER, "share": [1, 2]}, {"id": CO, "share": [1, 2]}]}], "pledgee": BANK, "note": "plot 123456789012"}
    out = redact.personal_data(sheet, keep={OWNER})
    assert out["rights"][0]["holders"][0]["id"] == OWNER
    assert out["rights"][0]["holders"][1]["id"] == "withheld (born 1979-09-03)"
    assert out["pledgee"] == BANK and out["note"] == "plot 123456789012"
    assert OWNER not in str(redact.personal_data(sheet))
    assert redact.is_iin(OWNER) and not redact.is_iin(BANK) and not redact.is_iin("123456789012")


def test_public_view_withholds_individuals_rights_and_identification():
    sheet = {
        "cadastral_number": CN, "type": "apartment", "status": "active", "identification": {"address": "Astana", "area_total_dm2": 650000},
        "rights": [{"id": 1, "holders": [{"id": OWNER, "share": [1, 1]}]}, {"id": 2, "type": "easement", "holders": [{"id": BANK, "share": [1, 1]}]}],
        "encumbrances": {"pledges": [{"id": 3, "pledgee": BANK, "pledgors": [OWNER]}], "other": []},
        "claims_and_transactions": {"claims": [{"id": 4, "claimant": CO}], "notes": [{"id": 5}]},
        "temporary_stop": None, "pending_applications": [7], "history": [{"id": 1}, {"id": 2}, {"id": 3}, {"id": 4}, {"id": 5}],
    }
    v = redact.public_view(sheet)
    assert v["address"] == "Astana" and "identification" not in v and "history" not in v and "pending_applications" not in v
    assert [e["id"] for e in v["rights_of_legal_entities"]] == [2]
    assert v["encumbrances"]["pledges"][0]["id"] == 3 and v["legal_claims"][0]["id"] == 4
    assert v["withheld"]["rights_of_individuals"] == 1 and v["withheld"]["history"] == 5 and v["withheld"]["notes"] == 1


@pytest.fixture(scope="module")
def people():
    return People(TestPKI())


def test_consent_document_round_trip_and_refusals(people):
    verifier = people.pki.verifier
    o = people.owner
    header = consent.make(o.signer, o.cert, CHAIN_ID, holder=o.iin, grantee=people.lawyer.iin, scope="object", subject=CN, not_after_ms=2_000_000_000_000)
    c = consent.verify(header, CHAIN_ID, verifier, 1_800_000_000_000, lambda fp: False)
    assert (c.holder, c.grantee, c.scope, c.subject) == (o.iin, people.lawyer.iin, "object", CN)
    with pytest.raises(consent.InvalidConsent):
        consent.verify(header, CHAIN_ID, verifier, 2_000_000_000_001, lambda fp: False)       # expired
    other_chain = consent.make(o.signer, o.cert, "other-chain", holder=o.iin, grantee=people.lawyer.iin, scope="object", subject=CN, not_after_ms=2_000_000_000_000)
    with pytest.raises(BadSignature):   # signed for another chain id: the signature does not cover this one
        consent.verify(other_chain, CHAIN_ID, verifier, 1_800_000_000_000, lambda fp: False)
    with pytest.raises(CertificateRevoked):
        consent.verify(header, CHAIN_ID, verifier, 1_800_000_000_000, lambda fp: True)
    body, cert, sig = header.split(".")
    with pytest.raises(BadSignature):
        consent.verify(".".join((body, cert, sig[:-4] + ("AAAA" if sig[-4:] != "AAAA" else "BBBB"))), CHAIN_ID, verifier, 1_800_000_000_000, lambda fp: False)
    # Someone signing a consent in another holder's name.
    forged = consent.make(people.stranger.signer, people.stranger.cert, CHAIN_ID, holder=o.iin, grantee=people.lawyer.iin, scope="object", subject=CN, not_after_ms=2_000_000_000_000)
    with pytest.raises(consent.InvalidConsent):
        consent.verify(forged, CHAIN_ID, verifier, 1_800_000_000_000, lambda fp: False)
    for junk in ("", "a.b", "!!!.???.###"):
        with pytest.raises(consent.InvalidConsent):
            consent.verify(junk, CHAIN_ID, verifier, 1, lambda fp: False)
