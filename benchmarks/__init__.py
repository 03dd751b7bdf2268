"""Benchmarks: scripts that print numbers (throughput, latency percentiles) beside a
reference measured in the same run. Not tests; nothing here asserts speed."""
