"""The load generator: drives a real consortium of node processes through its public APIs
(the HTTP API for the pilot-rate runs, the gRPC Ledger for saturation) with realistic,
EDS-signed transactions, and turns what it measured into a report.

Modules, each with one job:
- population: the people, banks, registrar and Ministry system whose keys the generator
  holds, and the demo register (genesis app_state) they own;
- workload: the generator's model of the register and the request flows (pledge, sale,
  discharge, claim, encumbrance check) built and signed from it;
- records: what happened to every tx and request, and the summaries (percentiles, counts);
- drivers: submitting over HTTP or gRPC, and following notifications (server-sent events);
- runner: open loop (requests at scheduled times) and closed loop (N clients);
- consortium: a benchmark cluster of real node processes (tests/cluster_harness.Cluster),
  per-process CPU, a node started under py-spy;
- profile: reading py-spy's samples into the top costs;
- phases: the scenarios of the report, one function each;
- report: report.md and the PNG plots.

May import: benchmarks.common, contracts.builders, contracts.genesis, node, api.client_auth,
proto, tests.cluster_harness; httpx, grpc, rich; matplotlib only in report.
"""
