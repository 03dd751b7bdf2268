"""The client-facing HTTP API (FastAPI) served by every node.

May import: node, cadastre, contracts, proto, fastapi.
"""
