"""Deterministic simulation of Tamga's consensus core (test code).

N validators run the real consensus core (consensus/) with real Ed25519 signatures on a
virtual clock and a simulated network, all driven by one seed: message loss, duplication,
delay and reordering, symmetric and asymmetric partitions that heal, crashes with restarts
from persisted state (including crashes between persisting and sending, and between
committing and advancing), and a Byzantine validator run as twins (two copies with one key,
each talking to a different part of the network). A checker asserts agreement (also across
restarts and block sync), valid commit certificates, no double-signing by honest validators,
monotonic block time, and liveness once the network heals.

Replay one seed:  python -m tests.simulation.run --seed N [--bug quorum|lock] [-v]

Modules: app (a trivial block builder), network (virtual time, faults), node (what the
runtime does with Ready: persist, send, commit, advance; crash/restart; block sync),
checker (the properties), scenario (faults drawn from the seed, two families), simulation
(the run), bugs (planted bugs for the negative controls), run (command line), scripted (a
hand-driven cluster for the scripted scenarios of tests/test_consensus_core.py).
regression_seeds.txt lists seeds that once failed; the suite always runs them.

May import anything: this is test code (random.Random(seed) is the only randomness).
"""
