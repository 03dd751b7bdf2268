"""The ledger routes against a real node: submitting envelopes (protobuf or JSON), following a
tx to its receipt -- filed, registered, refused with the reason and article --, duplicates and
bad envelopes refused with typed errors, blocks for ledger readers, public status."""

from __future__ import annotations

import base64

import pytest

from contracts import builders as B
from tests.cadastre_support import CN, api_node, application_number, pledge  # noqa: F401  (api_node is a fixture)

pytestmark = pytest.mark.anyio


@pytest.fixture
def node(api_node):
    return api_node


async def test_submit_then_follow_the_receipt_to_registration(node):
    p = node.people
    env = node.envelope(pledge(p), p.bank, p.owner)
    r = await node.client().post("/v1/txs", content=env, headers={"content-type": "application/octet-stream"})
    assert r.status_code == 202 and r.json()["status"] == "pending"
    tx_id = r.json()["tx_id"]
    bank = node.client(p.bank)
    first = await bank.get(f"/v1/txs/{tx_id}")
    assert first.status_code == 200 and first.json()["status"] in ("pending", "committed")
    await node.rt.hub.wait_tx(bytes.fromhex(tx_id), 20, lambda t: (node.rt.chain.tx_location(t) or (None,))[0])
    st = (await bank.get(f"/v1/txs/{tx_id}")).json()
    assert st["status"] == "committed" and st["outcome"] == "filed" and st["receipt"]["article"]
    assert st["application"]["status"] == "filed" and st["application"]["deadline"]
    assert any(e["kind"] == "application.filed" for e in st["events"])
    decided = await node.submit(B.application_decide(application_number(st), "register"), p.registrar)
    assert decided["outcome"] == "registered"
    # The filing tx now shows its application registered.
    again = (await bank.get(f"/v1/txs/{tx_id}")).json()
    assert again["application"]["status"] == "registered" and again["application"]["decision"]["status"] == "registered"


async def test_refusal_carries_reason_and_article(node):
    p = node.people
    st = await node.submit(B.application_decide(9999, "register"), p.registrar)
    assert st["outcome"] == "refused" and st["receipt"]["status"] == "refused"
    assert st["receipt"]["code"] == "APPLICATION_NOT_FOUND" and "9999" in st["receipt"]["message"]
    filed = await node.submit(pledge(p), p.bank, p.owner)
    refused = await node.submit(B.application_decide(application_number(filed), "refuse"), p.registrar)
    assert refused["receipt"]["code"] == "DECISION_INCOMPLETE"
    refused = await node.submit(B.application_decide(application_number(filed), "refuse", "the title document is not notarised", "Art 31.1.2"), p.registrar)
    assert refused["outcome"] == "refused" and refused["receipt"]["article"] == "Art 31.1.2"
    app = (await node.client(p.owner).get(f"/v1/applications/{application_number(filed)}")).json()
    assert app["status"] == "refused" and app["decision"]["reason"] == "the title document is not notarised"


async def test_json_submission_and_typed_refusals_of_bad_envelopes(node):
    p = node.people
    c = node.client()
    env = node.envelope(B.claim_register(CN, p.stranger.iin, "lawsuit", "case 2-1/2026", [B.doc("c.pdf", b"c")]), p.stranger)
    ok = await c.post("/v1/txs?wait_ms=20000", json={"envelope": base64.b64encode(env).decode()})
    assert ok.status_code == 200 and ok.json()["outcome"] == "registered"
    dup = await c.post("/v1/txs", content=env, headers={"content-type": "application/octet-stream"})
    assert dup.status_code == 409 and dup.json()["code"] == "DUPLICATE_TX"
    cases = [
        ({"content": b"\xff\x00garbage", "headers": {"content-type": "application/octet-stream"}}, 400, "MALFORMED"),
        ({"content": b"{not json", "headers": {"content-type": "application/json"}}, 400, "MALFORMED"),
        ({"json": {"envelope": "***"}}, 400, "MALFORMED"),
        ({"json": {"other": 1}}, 400, "MALFORMED"),
        ({"content": b"x", "headers": {"content-type": "text/plain"}}, 400, "MALFORMED"),
    ]
    for kwargs, status, code in cases:
        r = await c.post("/v1/txs", **kwargs)
        assert (r.status_code, r.json()["code"]) == (status, code), (kwargs, r.text)
    # A body signed by one party but claiming another's certificate.
    from proto import tamga_pb2 as pb

    e = pb.Envelope.FromString(node.envelope(pledge(p), p.bank))
    e.signatures[0].certificate = p.owner.cert
    r = await c.post("/v1/txs", content=e.SerializeToString(), headers={"content-type": "application/octet-stream"})
    assert r.status_code == 401 and r.json()["code"] == "BAD_SIGNATURE"
    # A role the kind does not allow: a citizen filing a pledge.
    r = await c.post("/v1/txs", content=node.envelope(pledge(p), p.owner), headers={"content-type": "application/octet-stream"})
    assert r.status_code == 403 and r.json()["code"] == "WRONG_ROLE"


async def test_tx_status_is_for_its_parties_and_ledger_readers(node):
    p = node.people
    st = await node.submit(pledge(p), p.bank, p.owner)
    path = f"/v1/txs/{st['tx_id']}"
    for who in (p.bank, p.owner, p.registrar, p.auditor):
        assert (await node.client(who).get(path)).status_code == 200
    r = await node.client(p.stranger).get(path)
    assert r.status_code == 403 and r.json()["code"] == "ACCESS_DENIED"
    r = await node.client().get(path)
    assert r.status_code == 401 and r.json()["code"] == "UNAUTHENTICATED"
    r = await node.client(p.owner).get("/v1/txs/" + "ab" * 32)
    assert r.status_code == 404 and r.json()["code"] == "NOT_FOUND"
    r = await node.client(p.owner).get("/v1/txs/xyz")
    assert r.status_code == 400 and r.json()["code"] == "MALFORMED"


async def test_tx_status_while_the_cadastre_lags_is_read_from_the_chain(node):
    """A tx id is resolved through the chain's tx index; while the cadastre has not
    projected the tx yet, its status is built from the block and receipt instead, and says
    the same as the cadastre's once it has caught up."""
    p = node.people
    node.rt.commit_listeners.remove(node.svc.on_commit)
    tx_id = (await node.submit(pledge(p), p.bank, p.owner))["tx_id"]
    bank = node.client(p.bank)
    st = (await bank.get(f"/v1/txs/{tx_id}")).json()
    assert node.svc.projection.height < st["height"]
    assert st["status"] == "committed" and st["outcome"] == "filed" and st["application"] is None
    node.svc.catch_up()
    again = (await bank.get(f"/v1/txs/{tx_id}")).json()
    assert again["application"]["status"] == "filed"
    assert {k: v for k, v in again.items() if k != "application"} == {k: v for k, v in st.items() if k != "application"}


async def test_blocks_for_ledger_readers(node):
    p = node.people
    st = await node.submit(pledge(p), p.bank, p.owner)
    h = st["height"]
    b = (await node.client(p.auditor).get(f"/v1/blocks/{h}")).json()
    assert b["height"] == h and b["txs"][0]["tx_id"] == st["tx_id"] and b["commit"]["signatures"][0]["validator"] == "solo"
    assert b["header"]["state_root"] == node.rt.chain.block(h)[1].state_root.hex()
    listed = (await node.client(p.registrar).get("/v1/blocks", params={"from_height": 1})).json()
    assert [x["height"] for x in listed["blocks"]] == list(range(1, node.rt.chain.head.height + 1))
    assert (await node.client(p.stranger).get(f"/v1/blocks/{h}")).status_code == 403
    assert (await node.client(p.auditor).get(f"/v1/blocks/{h + 100}")).json()["code"] == "NOT_FOUND"


async def test_status_is_public(node):
    s = (await node.client().get("/v1/status")).json()
    assert s["chain_id"] == node.chain_id and s["engine"] == "solo" and s["cadastre_height"] == s["height"]


async def test_wallet_is_given_to_its_holder_the_issuer_and_auditors(node, test_pki):
    import datetime

    from node import identity

    p = node.people
    issuer = test_pki.party("Settlement token desk", ("token_issuer",), iin=identity.make_iin(datetime.date(1981, 1, 1), "M", 120),
                            bin=identity.make_bin(datetime.date(2000, 1, 1), 7007), organisation="Token issuer JSC")
    issued = await node.submit(B.token_issue(p.stranger.iin, 12_345_00, "payment order 1"), issuer)
    assert issued["receipt"]["status"] == "applied"
    own = await node.client(p.stranger).get(f"/v1/persons/{p.stranger.iin}/wallet")
    assert own.status_code == 200
    assert (own.json()["available_tiyn"], own.json()["locked_tiyn"]) == (12_345_00, 0)
    assert (await node.client(issuer).get(f"/v1/persons/{p.stranger.iin}/wallet")).json()["available_tiyn"] == 12_345_00
    assert (await node.client(p.auditor).get(f"/v1/persons/{p.stranger.iin}/wallet")).status_code == 200
    denied = await node.client(p.owner).get(f"/v1/persons/{p.stranger.iin}/wallet")
    assert denied.status_code == 403 and denied.json()["code"]
    assert (await node.client().get(f"/v1/persons/{p.stranger.iin}/wallet")).status_code == 401
    assert (await node.client(p.stranger).get("/v1/persons/123456789012/wallet")).status_code in (400, 403)
