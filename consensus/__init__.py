"""Tendermint's BFT consensus algorithm as a pure state machine.

Inputs are messages and timer ticks; outputs are messages to send, state to persist and
decisions (design decision 5, after etcd raft's Step/Ready). The runtime that drives it
over gRPC is node/runner.py; the deterministic simulation is in tests/.

May import: node.errors, node.hashing, node.signing, node.codec, node.interfaces and the
standard library's pure modules. Never the clock, randomness, files, sockets or threads.
"""
