"""Tamga's wire format: the protobuf schema (`tamga.proto`) and its generated Python modules.

May import: protobuf and grpc only. Nothing here holds logic; the generated modules are
committed and `tests/test_proto_generated.py` fails when they are stale.
"""
