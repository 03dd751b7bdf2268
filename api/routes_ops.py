"""Operations: /health for load balancers and operators, /metrics for Prometheus, and the
node's own certificate (the key its extracts and webhooks are signed with). Open to anyone.
May import: api, node, fastapi.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from api.metrics import CONTENT_TYPE

router = APIRouter(tags=["operations"])

LAG_BLOCKS_DEGRADED = 10


def _svc(request: Request):
    return request.app.state.svc


@router.get("/health", summary="Liveness and lag: 200 when the cadastre keeps up with the chain, 503 otherwise")
async def health(request: Request):
    svc = _svc(request)
    st = svc.rt.status_dict()
    height = svc.chain.head.height
    cadastre = svc.projection.height
    lag = max(0, height - cadastre)
    ok = lag <= LAG_BLOCKS_DEGRADED and svc.projection_error is None
    body = {
        "status": "ok" if ok else "degraded",
        "node": st.get("node"),
        "chain_id": st.get("chain_id"),
        "height": height,
        "cadastre_height": cadastre,
        "lag_blocks": lag,
        "peers": st.get("peers", []),
        "engine": st.get("engine"),
        "mempool": st.get("mempool"),
        "projection_error": svc.projection_error,
    }
    return JSONResponse(body, status_code=200 if ok else 503)


@router.get("/metrics", summary="Prometheus metrics", response_class=Response, responses={200: {"content": {CONTENT_TYPE: {}}}})
async def metrics(request: Request):
    return Response(_svc(request).metrics.render(), media_type=CONTENT_TYPE)


@router.get("/v1/node/certificate", summary="This node's validator key and the TLS certificates of validators it knows (CA-issued)")
async def node_certificate(request: Request):
    svc = _svc(request)
    return {"node": svc.rt.config.name, "validator_key": svc.rt.signer.public_key.hex(), "validator_certificates": svc.validator_certificates,
            "ca_certificate": svc.rt.genesis.ca_certificate_pem}
