"""Fuzzing of the node's decoders (trust suite, issue 7): shared targets and mutators
(targets.py), the atheris harness (fuzz_envelope.py) and pinned crashing inputs
(regressions/). Test code only; may import node.*, proto and tests.ledger_support."""
