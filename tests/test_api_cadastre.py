"""The cadastre routes against a real node, under the access rules of Art 17: what the
holder, a stranger, a bank, a court, a lawyer with consent, an heir and the registrar each
receive; extracts for the parties; holdings; search; the books; and every request, given or
refused, written to the book of requests (Art 16)."""

from __future__ import annotations

import pytest

from api.client_auth import CONSENT_HEADER, GROUND_HEADER
from cadastre import consent, extract
from contracts import builders as B
from tests.cadastre_support import CN, CN2, CN3, People, application_number, pledge, register, running_node

pytestmark = pytest.mark.anyio

GROUND = {GROUND_HEADER: "civil case 2-77/2026, division of property"}


@pytest.fixture
async def node(tmp_path, test_pki):
    people = People(test_pki)
    async with running_node(str(tmp_path / "node"), test_pki, {"register": register(people)}) as n:
        n.people = people
        filed = await n.submit(pledge(people), people.bank, people.owner)
        n.app_number = application_number(filed)
        await n.submit(B.application_decide(n.app_number, "register"), people.registrar)
        yield n


def book(node) -> list[dict]:
    from cadastre import requests_book

    return requests_book.entries(node.svc.db, limit=500)


async def test_encumbrance_check_is_open_and_confirms_a_stated_holder(node):
    p = node.people
    r = await node.client(p.bank).get(f"/v1/objects/{CN}/encumbrances", params={"holder": p.owner.iin})
    assert r.status_code == 200
    body = r.json()
    cert = body["certificate"]
    assert cert["encumbered"] is True and cert["excluding"] is False and cert["pledges"][0]["pledgee"] == p.bank_bin
    assert body["holder_check"] == {"id": p.owner.iin, "holds_right": True}
    assert cert["holders"][0]["id"] == p.owner.iin           # the bank stated it; nothing new disclosed
    wrong = (await node.client(p.bank).get(f"/v1/objects/{CN}/encumbrances", params={"holder": p.stranger.iin})).json()
    assert wrong["holder_check"]["holds_right"] is False and p.owner.iin not in str(wrong)
    anyone = (await node.client(p.stranger).get(f"/v1/objects/{CN2}/encumbrances")).json()
    assert anyone["certificate"]["encumbered"] is False and "withheld (born" in anyone["certificate"]["holders"][0]["id"]
    before = (await node.client(p.bank).get(f"/v1/objects/{CN}/encumbrances", params={"height": 0})).json()
    assert before["certificate"]["encumbered"] is False and before["as_of_height"] == 0
    last = book(node)[-1]
    assert (last["action"], last["subject"], last["outcome"], last["requester_id"]) == ("encumbrance_certificate", CN, "given", p.bank_bin)
    assert last["basis"] == "open" and "no encumbrances" in last["given"]


async def test_sheet_full_for_the_holder_public_for_a_stranger(node):
    p = node.people
    own = (await node.client(p.owner).get(f"/v1/objects/{CN2}")).json()
    assert own["access"] == {"level": "full", "basis": "holder", "article": "Art 17.3"}
    ids = [h["id"] for h in own["sheet"]["rights"][0]["holders"]]
    assert p.owner.iin in ids and p.co_owner.iin not in ids and "withheld (born 1979-09-03)" in ids   # Art 17.1
    assert own["sheet"]["identification"]["address"] == "Almaty, Abay 150"
    public = (await node.client(p.stranger).get(f"/v1/objects/{CN}")).json()
    assert public["access"]["level"] == "public" and "identification" not in public["sheet"]
    assert public["sheet"]["encumbrances"]["pledges"][0]["pledgee"] == p.bank_bin
    assert public["sheet"]["withheld"]["rights_of_individuals"] == 1 and p.owner.iin not in str(public)
    company = (await node.client(p.stranger).get(f"/v1/objects/{CN3}")).json()
    assert company["sheet"]["rights_of_legal_entities"][0]["holders"][0]["id"] == p.company_bin     # Art 17.3-2
    refused = await node.client(p.stranger).get(f"/v1/objects/{CN}", params={"view": "full"})
    assert refused.status_code == 403 and refused.json()["code"] == "ACCESS_DENIED" and "Art 17.3" in refused.json()["message"]
    last = book(node)[-1]
    assert (last["outcome"], last["code"], last["http_status"], last["requester_id"]) == ("refused", "ACCESS_DENIED", 403, p.stranger.iin)


async def test_listed_requesters_state_a_ground(node):
    p = node.people
    court = node.client(p.court)
    no_ground = (await court.get(f"/v1/objects/{CN}")).json()
    assert no_ground["access"]["level"] == "public"
    r = await court.get(f"/v1/objects/{CN}", params={"view": "full"})
    assert r.status_code == 403 and r.json()["code"] == "GROUND_REQUIRED"
    full = (await court.get(f"/v1/objects/{CN}", headers=GROUND)).json()
    assert full["access"] == {"level": "full", "basis": "listed_requester:court", "article": "Art 17.3.2"}
    assert full["sheet"]["rights"][0]["holders"][0]["id"] == "withheld (born 1985-04-12)"      # name and date of birth only
    last = book(node)[-1]
    assert last["ground"] == GROUND[GROUND_HEADER] and last["basis"] == "listed_requester:court"
    bad = await court.get(f"/v1/objects/{CN}", headers={GROUND_HEADER: "x"})
    assert bad.status_code == 400 and bad.json()["code"] == "INVALID_GROUND"
    reg = (await node.client(p.registrar).get(f"/v1/objects/{CN}")).json()
    assert reg["access"]["basis"] == "registering_body" and reg["sheet"]["rights"][0]["holders"][0]["id"] == p.owner.iin


async def test_consent_and_heirs(node):
    p = node.people
    header = consent.make(p.owner.signer, p.owner.cert, node.chain_id, holder=p.owner.iin, grantee=p.lawyer.iin, scope="object", subject=CN,
                          not_after_ms=node.rt.now_ms() + 86_400_000)
    lawyer = node.client(p.lawyer)
    ok = (await lawyer.get(f"/v1/objects/{CN}", params={"view": "full"}, headers={CONSENT_HEADER: header})).json()
    assert ok["access"] == {"level": "full", "basis": "consent", "article": "Art 17.3.8"}
    other_object = await lawyer.get(f"/v1/objects/{CN2}", params={"view": "full"}, headers={CONSENT_HEADER: header})
    assert other_object.status_code == 403 and other_object.json()["code"] == "INVALID_CONSENT"
    stolen = await node.client(p.stranger).get(f"/v1/objects/{CN}", params={"view": "full"}, headers={CONSENT_HEADER: header})
    assert stolen.status_code == 403 and stolen.json()["code"] == "INVALID_CONSENT"
    heir = node.client(p.heir)
    ok = (await heir.get(f"/v1/objects/{CN}", params={"view": "full", "heir_of": p.owner.iin}, headers={GROUND_HEADER: "inheritance case 15/2026, notary Seitkali"})).json()
    assert ok["access"]["basis"] == "heir"
    r = await heir.get(f"/v1/objects/{CN}", params={"view": "full", "heir_of": p.co_owner.iin}, headers={GROUND_HEADER: "inheritance case 15/2026"})
    assert r.status_code == 403


async def test_history_and_as_of_height(node):
    p = node.people
    h = (await node.client(p.owner).get(f"/v1/objects/{CN}/history")).json()
    assert [e["type"] for e in h["entries"]] == ["ownership", "pledge"] and h["versions"][0] == 0
    then = (await node.client(p.owner).get(f"/v1/objects/{CN}", params={"height": 1})).json()
    assert then["sheet"]["pending_applications"] == [node.app_number] and then["sheet"]["encumbrances"]["pledges"] == []
    r = await node.client(p.owner).get(f"/v1/objects/{CN}", params={"height": 10_000})
    assert r.status_code == 404
    assert (await node.client(p.stranger).get(f"/v1/objects/{CN}/history")).status_code == 403


async def test_extract_for_the_parties_verifies_offline(node):
    p = node.people
    for who in (p.owner, p.bank, p.registrar):
        r = await node.client(who).get(f"/v1/objects/{CN}/extract")
        assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
        v = extract.verify(r.content, node.people.pki.ca.cert_pem)
        assert v.cadastral_number == CN and v.height == node.rt.chain.head.height and v.signed_by == ("solo",)
    enc = await node.client(p.bank).get(f"/v1/objects/{CN}/extract", params={"kind": "encumbrances", "height": 1})
    assert extract.verify(enc.content, node.people.pki.ca.cert_pem).content["encumbered"] is False
    page = await node.client(p.owner).get(f"/v1/objects/{CN}/extract", params={"format": "html"})
    assert page.headers["content-type"].startswith("text/html") and "Section 2. Rights" in page.text
    r = await node.client(p.stranger).get(f"/v1/objects/{CN}/extract")
    assert r.status_code == 403 and r.json()["code"] == "ACCESS_DENIED"
    assert [e["action"] for e in book(node)[-5:]] == ["extract"] * 5


async def test_holdings_and_search(node):
    p = node.people
    own = (await node.client(p.owner).get(f"/v1/persons/{p.owner.iin}/holdings")).json()
    assert [h["cadastral_number"] for h in own["holdings"]] == [CN, CN2] and own["access"]["basis"] == "holder"
    r = await node.client(p.stranger).get(f"/v1/persons/{p.owner.iin}/holdings")
    assert r.status_code == 403
    company = (await node.client(p.stranger).get(f"/v1/persons/{p.company_bin}/holdings")).json()
    assert company["access"]["basis"] == "open" and [h["cadastral_number"] for h in company["holdings"]] == [CN3]
    r = await node.client(p.stranger).get("/v1/persons/123456789012/holdings")
    assert r.status_code == 400 and r.json()["code"] == "INVALID_IDENTIFIER"
    found = (await node.client(p.stranger).get("/v1/search", params={"address": "Astana"})).json()
    assert [x["cadastral_number"] for x in found["results"]] == [CN3, CN] and found["results"][1]["encumbered"] is True
    by_cn = (await node.client(p.stranger).get("/v1/search", params={"cadastral_number": "21-320"})).json()
    assert [x["cadastral_number"] for x in by_cn["results"]] == [CN, CN2]
    r = await node.client(p.stranger).get("/v1/search")
    assert r.status_code == 400 and r.json()["code"] == "INVALID_PAYLOAD"


async def test_books_of_documents_and_of_requests(node):
    p = node.people
    own = (await node.client(p.owner).get(f"/v1/applications/{node.app_number}")).json()
    assert own["status"] == "registered" and own["type"] == "pledge"
    assert (await node.client(p.stranger).get(f"/v1/applications/{node.app_number}")).status_code == 403
    listing = (await node.client(p.registrar).get("/v1/applications", params={"object": CN})).json()
    assert [a["number"] for a in listing["applications"]] == [node.app_number]
    assert (await node.client(p.owner).get("/v1/applications")).status_code == 403
    await node.client(p.stranger).get(f"/v1/objects/{CN}")
    about_mine = (await node.client(p.owner).get("/v1/requests", params={"subject": CN})).json()["requests"]
    theirs = [r for r in about_mine if r["action"] == "object_sheet" and r["requester_name"] == "Random Citizen"]
    assert theirs and theirs[-1]["requester_id"] == "withheld (born 1990-01-20)"     # the holder learns who asked, not their IIN
    assert p.stranger.iin not in str(about_mine)
    assert (await node.client(p.stranger).get("/v1/requests", params={"subject": CN})).status_code == 403
    everything = (await node.client(p.auditor).get("/v1/requests", params={"limit": 500})).json()["requests"]
    assert [r["id"] for r in everything] == sorted(r["id"] for r in everything)
    assert {r["outcome"] for r in everything} == {"given", "refused"}
