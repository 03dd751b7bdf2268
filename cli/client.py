"""gRPC client helpers for the CLI, the demo and the load generator."""

from __future__ import annotations

import grpc

from node.peers import GRPC_OPTIONS
from proto import tamga_pb2_grpc as pbg


def ledger_stub(address: str) -> pbg.LedgerStub:
    return pbg.LedgerStub(grpc.insecure_channel(address, options=GRPC_OPTIONS))
