"""The client-facing HTTP API (FastAPI) served by every node.

May import: node, cadastre, contracts, proto, fastapi (with its starlette and pydantic),
httpx (webhooks, client signing), prometheus_client, uvicorn (tests and benchmarks serve the
app with it), and cryptography.exceptions in api/auth.py only (see certificate_errors).
"""
