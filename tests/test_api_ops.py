"""Operations endpoints against a real node: /health with height, peers and lag (503 when the
cadastre falls behind), /metrics in Prometheus format, the node's certificates."""

from __future__ import annotations

import pytest

from contracts import builders as B
from tests.cadastre_support import CN, api_node  # noqa: F401  (api_node is a fixture)

pytestmark = pytest.mark.anyio


@pytest.fixture
def node(api_node):
    return api_node


async def test_health_reports_height_peers_and_lag(node):
    h = (await node.client().get("/health")).json()
    assert h["status"] == "ok" and h["height"] == h["cadastre_height"] == 0 and h["lag_blocks"] == 0 and h["peers"] == []
    # The cadastre stops following (its listener detached): commits go on, health degrades.
    node.rt.commit_listeners.remove(node.svc.on_commit)
    p = node.people
    for i in range(11):
        await node.submit(B.claim_register(CN, p.stranger.iin, "lawsuit", f"case 2-{i}/2026", [B.doc("c.pdf", bytes([i]))]), p.stranger)
    r = await node.client().get("/health")
    assert r.status_code == 503 and r.json()["status"] == "degraded" and r.json()["lag_blocks"] == 11
    node.svc.catch_up()
    r = await node.client().get("/health")
    assert r.status_code == 200 and r.json()["lag_blocks"] == 0 and r.json()["cadastre_height"] == 11


async def test_metrics_in_prometheus_format(node):
    p = node.people
    await node.client(p.bank).get(f"/v1/objects/{CN}/encumbrances")
    await node.client(p.stranger).get(f"/v1/objects/{CN}", params={"view": "full"})
    r = await node.client().get("/metrics")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    text = r.text
    assert "tamga_chain_height 0.0" in text and "tamga_cadastre_lag_blocks 0.0" in text
    assert 'tamga_http_requests_total{method="GET",route="/v1/objects/{cn}/encumbrances",status="200"} 1.0' in text
    assert 'tamga_cadastre_info_requests_total{action="object_sheet",outcome="refused"} 1.0' in text
    assert "tamga_http_request_seconds_bucket" in text and "tamga_webhook_pending 0.0" in text
    assert f"tamga_state_tree_store_reads_total {float(node.rt.chain.tree.store_reads)}" in text


async def test_node_certificate(node):
    from cadastre.extract import certificate_key
    from node.pki import CertificateVerifier

    c = (await node.client().get("/v1/node/certificate")).json()
    assert c["validator_key"] == node.rt.signer.public_key.hex() and len(c["validator_certificates"]) == 1
    ca = CertificateVerifier(c["ca_certificate"].encode())
    assert certificate_key(ca, c["validator_certificates"][0]).hex() == c["validator_key"]
