"""Benchmarks: scripts that print numbers (throughput, latency percentiles) beside a
reference measured in the same run. Not tests; nothing here asserts speed."""

from node import native

native.enable()  # before anything imports a hot module: the nodes' own code, as they run it
