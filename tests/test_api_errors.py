"""Bad input to the API gets a 4xx with a machine-readable code and a clear message, never a
500, and changes nothing -- except that a refused request for cadastre information is itself
written to the book of requests (Art 16)."""

from __future__ import annotations

import base64

import pytest

from api.client_auth import CERTIFICATE_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, signed_headers
from api.services import BODY_BYTES_MAX
from cadastre import requests_book
from tests.cadastre_support import CN, People, pledge, register, running_node
from tests.ledger_support import TestPKI

pytestmark = pytest.mark.anyio


@pytest.fixture
async def node(tmp_path, test_pki):
    people = People(test_pki)
    async with running_node(str(tmp_path / "node"), test_pki, {"register": register(people)}) as n:
        n.people = people
        await n.submit(pledge(people), people.bank, people.owner)
        yield n


def snapshot(node) -> tuple:
    db = node.svc.db
    return (
        node.rt.chain.head,
        len(node.rt.mempool),
        list(node.svc.projection.dump()),
        db.execute("SELECT COUNT(*) FROM l_webhooks").fetchone()[0],
        db.execute("SELECT COUNT(*) FROM l_outbox").fetchone()[0],
    )


def _check(r, status: int, code: str) -> dict:
    assert r.status_code == status, (r.status_code, r.text)
    body = r.json()
    assert body["code"] == code and isinstance(body["message"], str) and len(body["message"]) > 10, body
    return body


async def test_bad_requests_get_typed_errors_and_change_nothing_but_the_book(node):
    p = node.people
    before = snapshot(node)
    book_before = requests_book.count(node.svc.db)
    owner = node.client(p.owner)
    anon = node.client()
    info_refusals = [
        (await anon.get(f"/v1/objects/{CN}"), 401, "UNAUTHENTICATED"),
        (await owner.get("/v1/objects/21-320-030-999"), 404, "NOT_FOUND"),
        (await owner.get("/v1/objects/not-a-number"), 400, "MALFORMED"),
        (await owner.get(f"/v1/objects/{CN}", params={"height": "x"}), 400, "MALFORMED"),
        (await owner.get(f"/v1/objects/{CN}", params={"view": "everything"}), 400, "MALFORMED"),
        (await node.client(p.stranger).get(f"/v1/persons/{p.owner.iin}/holdings"), 403, "ACCESS_DENIED"),
        (await node.client(p.stranger).get(f"/v1/objects/{CN}/extract"), 403, "ACCESS_DENIED"),
        (await node.client(p.court).get(f"/v1/persons/{p.owner.iin}/holdings"), 403, "GROUND_REQUIRED"),
        (await owner.get("/v1/applications/0"), 400, "MALFORMED"),
        (await owner.get("/v1/applications/424242"), 404, "NOT_FOUND"),
    ]
    for r, status, code in info_refusals:
        _check(r, status, code)
    other = [
        (await owner.get("/v1/no/such/route"), 404, "NOT_FOUND"),
        (await owner.delete(f"/v1/objects/{CN}"), 405, "METHOD_NOT_ALLOWED"),
        (await owner.post("/v1/webhooks", content=b"{", headers={"content-type": "application/json"}), 400, "MALFORMED"),
        (await owner.post("/v1/webhooks", json={"url": "http://bank.example/hook"}), 403, "ACCESS_DENIED"),
        (await node.client(p.bank).post("/v1/webhooks", json={"url": "ftp://bank.example/hook"}), 400, "INVALID_PAYLOAD"),
        (await node.client(p.bank).post("/v1/webhooks", json={"url": "http://bank.example/hook", "recipients": [p.owner.iin]}), 403, "ACCESS_DENIED"),
        (await node.client(p.bank).post("/v1/webhooks", json={"url": "http://bank.example/hook", "surprise": 1}), 400, "MALFORMED"),
        (await node.client(p.stranger).get("/v1/blocks/1"), 403, "ACCESS_DENIED"),
        (await node.client(p.bank).get("/v1/events", params={"after": "yesterday"}), 400, "MALFORMED"),
        (await anon.post("/v1/txs", content=b"\x00" * (BODY_BYTES_MAX + 1), headers={"content-type": "application/octet-stream"}), 413, "TOO_LARGE"),
        (await anon.post("/v1/txs", content=b"\x0a\x05hello", headers={"content-type": "application/octet-stream"}), 400, "MALFORMED"),
    ]
    for r, status, code in other:
        _check(r, status, code)
    assert snapshot(node) == before
    written = requests_book.entries(node.svc.db, after_id=0, limit=500)[book_before:]
    assert len(written) == len(info_refusals)
    assert all(w["outcome"] == "refused" for w in written)
    assert [w["http_status"] for w in written] == [s for _, s, _ in info_refusals]
    assert written[0]["requester_id"] is None and written[0]["code"] == "UNAUTHENTICATED"


async def test_streamed_body_over_the_limit(node):
    async def chunks():
        for _ in range(BODY_BYTES_MAX // 65536 + 2):
            yield b"\x00" * 65536

    r = await node.client().post("/v1/txs", content=chunks(), headers={"content-type": "application/octet-stream"})
    _check(r, 413, "TOO_LARGE")


async def test_signatures_timestamps_replays_and_certificates(node):
    p = node.people
    c = node.client()
    path = f"/v1/objects/{CN}/encumbrances"
    now = node.rt.now_ms()

    def headers(party, method="GET", signed_path=path, ts=None, body=b""):
        return signed_headers(party.signer, party.cert, node.chain_id, method, signed_path, body, now if ts is None else ts)

    good = headers(p.bank)
    assert (await c.get(path, headers=good)).status_code == 200
    _check(await c.get(path, headers=good), 401, "REPLAYED")
    _check(await c.get(path, headers=headers(p.bank, signed_path=f"/v1/objects/{CN}")), 401, "BAD_SIGNATURE")
    _check(await c.get(path, headers=headers(p.bank, ts=now - 3_600_000)), 401, "REPLAYED")
    wrong_chain = signed_headers(p.bank.signer, p.bank.cert, "another-chain", "GET", path, b"", now + 1)
    _check(await c.get(path, headers=wrong_chain), 401, "BAD_SIGNATURE")
    foreign = TestPKI().party("Outsider", ("bank",))
    _check(await c.get(path, headers=signed_headers(foreign.signer, foreign.cert, node.chain_id, "GET", path, b"", now + 2)), 401, "UNTRUSTED_CERTIFICATE")
    h = headers(p.bank, ts=now + 3)
    h[CERTIFICATE_HEADER] = "%%%"
    _check(await c.get(path, headers=h), 400, "MALFORMED")
    h = headers(p.bank, ts=now + 4)
    h[TIMESTAMP_HEADER] = "soon"
    _check(await c.get(path, headers=h), 400, "MALFORMED")
    h = headers(p.bank, ts=now + 5)
    h[SIGNATURE_HEADER] = base64.b64encode(b"\x01" * 64).decode()
    _check(await c.get(path, headers=h), 401, "BAD_SIGNATURE")
    # A certificate whose signature algorithm OID was altered: refused, not a crash.
    der = bytearray(p.bank.cert)
    i = der.find(bytes.fromhex("2a8648ce3d040302"))       # ecdsa-with-SHA256
    der[i + 7] ^= 0x7F
    h = signed_headers(p.bank.signer, bytes(der), node.chain_id, "GET", path, b"", now + 6)
    _check(await c.get(path, headers=h), 401, "UNTRUSTED_CERTIFICATE")


async def test_revoked_certificates_are_refused(node, test_pki):
    from contracts import builders as B
    from node.pki import fingerprint

    p = node.people
    officer = test_pki.party("Identity officer", ("identity_officer",))
    new = test_pki.party("Aigerim Owner (new key)", ("citizen",), iin=p.owner.iin)
    st = await node.submit(B.identity_replace_key(p.owner.iin, fingerprint(p.owner.cert), fingerprint(new.cert), "in_person", B.doc("passport.pdf", b"id")), officer)
    assert st["outcome"] != "refused", st
    _check(await node.client(p.owner).get(f"/v1/objects/{CN}"), 401, "CERTIFICATE_REVOKED")
    assert (await node.client(new).get(f"/v1/objects/{CN}")).json()["access"]["basis"] == "holder"
