"""report.md, results.json and the PNG plots from what the phases measured.

Plots (matplotlib, the `bench` extra; without it the report says so and still lists every
figure): throughput.png (committed tx/s over the whole run, phase by phase), latency.png
(p50/p95/p99/max submit-to-commit and submit-to-notification beside the pilot's 10 s average
and 30 s maximum and the 100 ms target), saturation.png (committed tx/s and latency by the
number of closed-loop clients).
"""

from __future__ import annotations

import json
import math
import os

PILOT_AVG_S = 10.0
PILOT_MAX_S = 30.0
TARGET_TX_PER_S = 1000
TARGET_PEAK_P99_MS = 100
TARGET_LONE_P50_MS = 30
INDY_TX_PER_S = 200
INDY_LONE_P50_MS = 55


def _g(d, *path, default=None):
    for p in path:
        if not isinstance(d, dict) or p not in d:
            return default
        d = d[p]
    return d


def _pilot_requests(phase: dict) -> dict:
    """End-to-end figures of the pilot's requests: every request with a transaction, from
    its first step to the notification of its last (to its end where no notification)."""
    reqs = _g(phase, "by_request", default={}) or {}
    out = {}
    for kind, r in reqs.items():
        if kind in ("check", "bad_refused", "bad_error"):
            continue
        out[kind] = {"requests": r["requests"], "completed": r["completed"], "to_notification": r["to_notification"], "latency": r["latency"]}
    return out


def headline(results: dict) -> dict:
    sat = _g(results, "saturation", "best") or {}
    ref = results.get("reference", {})
    sigs = _g(results, "saturation", "signatures_per_tx")
    from benchmarks.loadgen.phases import signature_bound  # noqa: PLC0415

    bound = round(signature_bound(ref.get("ed25519_verify_per_s", 0), ref.get("cpus", 2), 4, sigs)) if sigs and ref.get("ed25519_verify_per_s") else None
    h = {
        "ed25519_verify_per_s": ref.get("ed25519_verify_per_s"),
        "signatures_per_tx": sigs,
        "signature_bound_tx_per_s": bound,
        "saturation_committed_tx_per_s": sat.get("committed_tx_per_s"),
        "saturation_clients": sat.get("clients"),
        "saturation_commit_ms": _pct(sat.get("commit")),
        "lone_commit_p50_ms": {k: _g(results, "lone", k, "commit", "p50_ms") for k in ("http", "grpc")},
        "lone_pledge_file_p50_ms": {k: _g(results, "lone", k, "by_label", "pledge.file", "commit", "p50_ms") for k in ("http", "grpc")},
        "recovery_s": {k: _g(results, "recovery", f"restart_to_{k}_s") for k in ("answering", "current", "voting")},
        "catchup_blocks_per_s": _g(results, "catchup", "catchup_blocks_per_s"),
        "catchup_blocks": _g(results, "catchup", "catchup_blocks"),
        "verify_tx_per_s": _g(results, "verify", "tx_per_s"),
        "verify_txs": _g(results, "verify", "txs"),
        "verify_ok": _g(results, "verify", "ok"),
        "total_seconds": results.get("total_seconds"),
    }
    for key in ("normal", "peak"):
        ph = results.get(key) or {}
        if "commit" not in ph:
            h[key] = {"failed": ph.get("failed", "not run")}
            continue
        pledge = _pilot_requests(ph).get("pledge", {})
        h[key] = {
            "requests": ph["requests"],
            "commit_ms": _pct(ph["commit"]),
            "notification_ms": _pct(ph["notification"]),
            "pledge_request_to_notification_ms": _pct(pledge.get("to_notification")),
            "outcomes": ph["outcomes"],
            "notifications_missing": ph["notifications_missing"],
        }
    bad = {"error": 0, "refused": 0, "timeout": 0}
    for key in ("normal", "peak"):
        for k in bad:
            bad[k] += _g(results, key, "outcomes", k, default=0) or 0
    for step in _g(results, "saturation", "steps", default=[]) or []:
        for k in bad:
            bad[k] += step["outcomes"].get(k, 0)
    h["bad_txs_all_load_phases"] = bad
    h["failed_phases"] = [k for k, v in results.items() if isinstance(v, dict) and "failed" in v]
    return h


def _pct(s: dict | None) -> dict | None:
    if not s:
        return None
    return {k: s.get(k) for k in ("count", "p50_ms", "p95_ms", "p99_ms", "max_ms", "mean_ms")}


def _ms(v) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    if v >= 10_000:
        return f"{v / 1000:.1f} s"
    if v >= 100:
        return f"{v:.0f} ms"
    return f"{v:.1f} ms"


def _n(v, digits: int = 0) -> str:
    if v is None:
        return "–"
    return f"{v:,.{digits}f}"


def _lat_row(name: str, s: dict | None) -> str:
    s = s or {}
    return f"| {name} | {s.get('count', 0)} | {_ms(s.get('p50_ms'))} | {_ms(s.get('p95_ms'))} | {_ms(s.get('p99_ms'))} | {_ms(s.get('max_ms'))} | {_ms(s.get('mean_ms'))} |"


LAT_HEAD = "| | samples | p50 | p95 | p99 | max | mean |\n|---|---:|---:|---:|---:|---:|---:|"


def print_headline(h: dict, out: str) -> None:
    print(f"\nreport: {os.path.join(out, 'report.md')}")
    print(f"  saturation: {_n(h['saturation_committed_tx_per_s'])} committed tx/s at N={h['saturation_clients']} "
          f"(Ed25519 {_n(h['ed25519_verify_per_s'])}/s/core -> signature bound {_n(h['signature_bound_tx_per_s'])} tx/s)")
    for key in ("normal", "peak"):
        p = h.get(key) or {}
        c, n = p.get("commit_ms") or {}, p.get("notification_ms") or {}
        print(f"  {key}: commit p50 {_ms(c.get('p50_ms'))} p95 {_ms(c.get('p95_ms'))} p99 {_ms(c.get('p99_ms'))} max {_ms(c.get('max_ms'))}; "
              f"notification p50 {_ms(n.get('p50_ms'))} p99 {_ms(n.get('p99_ms'))} max {_ms(n.get('max_ms'))}; outcomes {p.get('outcomes')}")
    print(f"  lone commit p50: HTTP {_ms(h['lone_commit_p50_ms']['http'])}, gRPC {_ms(h['lone_commit_p50_ms']['grpc'])}")
    r = h["recovery_s"]
    print(f"  recovery after kill -9: answering {r['answering']} s, current {r['current']} s, voting {r['voting']} s")
    print(f"  catch-up: {_n(h['catchup_blocks_per_s'], 1)} blocks/s over {_n(h['catchup_blocks'])} blocks")
    print(f"  chain verify: {_n(h['verify_tx_per_s'])} tx/s over {_n(h['verify_txs'])} txs (ok={h['verify_ok']})")
    print(f"  bad txs in load phases: {h['bad_txs_all_load_phases']}; failed phases: {h['failed_phases'] or 'none'}")


# --- the Markdown -----------------------------------------------------------------------------------------
def write(out: str, results: dict, recorders: dict, t_run0: float) -> None:
    plots = _plots(out, results, recorders, t_run0)
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump(results, f, indent=2, sort_keys=True, default=str)
    with open(os.path.join(out, "report.md"), "w") as f:
        f.write(markdown(results, plots))


def markdown(r: dict, plots: dict) -> str:
    h = r["headline"]
    s = r["settings"]
    L: list[str] = []
    add = L.append
    add(f"# Tamga benchmark report ({r['started']})\n")
    m = r["machine"]
    # Older results carry no interpreter fields.
    interp = f" ({m['interpreter']}, libpython {m['libpython']})" if m.get("interpreter") else ""
    add(f"Machine: {m['cpus']} cores, Python {m['python']}{interp}, {m['platform']}. "
        f"Command: `.venv/bin/python -m benchmarks.report{' --quick' if s['quick'] else ''}`; run took {r.get('total_seconds', 0) / 60:.1f} min "
        f"(phases: {', '.join(f'{k} {v:.0f} s' for k, v in r['phase_seconds'].items())}).\n")
    code = r.get("code") or {}
    add(f"Code measured: the nodes ran commit `{code.get('commit')}` (a snapshot of git HEAD taken at the start; the generator ran from the working tree)."
        + (f" Uncommitted changes in the working tree, not measured: {', '.join(code['uncommitted_changes_not_measured'])}." if code.get("uncommitted_changes_not_measured") else "")
        + "\n")
    if s["quick"]:
        add("**This is a --quick run: every phase is shortened and the percentiles rest on few samples. Run without --quick for the figures to quote.**\n")
    add(f"The consortium: 4 validator processes (moj, gov4c, bank, nitec) on this machine, mutual-TLS gRPC between them, each serving the HTTP API "
        f"with its cadastre projection, genesis register of {s['objects']:,} objects owned by {s['people']:,} people (a fifth in shared ownership). "
        f"Consensus parameters (genesis, the defaults of `tamga cluster init`): `{json.dumps(r.get('consensus', {}), sort_keys=True)}`.\n")

    add("## Headline\n")
    add("| measure | result | pilot / target |\n|---|---|---|")
    sat = h.get("saturation_commit_ms") or {}
    add(f"| saturation, committed tx/s (closed loop, gRPC, 4 validators) | **{_n(h['saturation_committed_tx_per_s'])}** at N={h['saturation_clients']} clients; "
        f"commit p50 {_ms(sat.get('p50_ms'))}, p95 {_ms(sat.get('p95_ms'))}, p99 {_ms(sat.get('p99_ms'))} | target ≥ {TARGET_TX_PER_S:,}; Indy RBFT ~{INDY_TX_PER_S} writes/s |")
    add(f"| raw Ed25519 verify rate (1 core, this run) and the bound it implies | {_n(h['ed25519_verify_per_s'])}/s; "
        f"{_n(h['signatures_per_tx'], 2)} signatures/tx × 4 nodes on {r['machine']['cpus']} cores → ≤ {_n(h['signature_bound_tx_per_s'])} tx/s | |")
    for key, rate in (("normal", 360), ("peak", 2000)):
        p = h.get(key) or {}
        c, n, e2e = p.get("commit_ms") or {}, p.get("notification_ms") or {}, p.get("pledge_request_to_notification_ms") or {}
        target = f"p99 < {TARGET_PEAK_P99_MS} ms (target); " if key == "peak" else ""
        add(f"| {key} load {rate}/h: submit→commit p50/p95/p99/max | {_ms(c.get('p50_ms'))} / {_ms(c.get('p95_ms'))} / {_ms(c.get('p99_ms'))} / {_ms(c.get('max_ms'))} "
            f"({c.get('count', 0)} txs) | {target}pilot: 10 s average, 30 s max per request |")
        add(f"| {key} load: submit→notification p50/p95/p99/max | {_ms(n.get('p50_ms'))} / {_ms(n.get('p95_ms'))} / {_ms(n.get('p99_ms'))} / {_ms(n.get('max_ms'))} | |")
        add(f"| {key} load: a whole pledge request (check → filed → registered → bank notified), mean / max | {_ms(e2e.get('mean_ms'))} / {_ms(e2e.get('max_ms'))} "
            f"({e2e.get('count', 0)} requests) | pilot: 10 s average, 30 s max |")
        add(f"| {key} load: outcomes of all txs | {p.get('outcomes')}; notifications missing: {p.get('notifications_missing')} | |")
    lone = h["lone_commit_p50_ms"]
    add(f"| lone registration, submit→commit p50 (pledge.file and decision, one at a time) | HTTP {_ms(lone['http'])}, gRPC {_ms(lone['grpc'])} | "
        f"target ≤ {TARGET_LONE_P50_MS} ms; Indy ~{INDY_LONE_P50_MS} ms |")
    rc = h["recovery_s"]
    add(f"| recovery after kill -9: restart → answering / current / voting | {rc['answering']} s / {rc['current']} s / {rc['voting']} s | pilot: 3 hours; target: seconds |")
    add(f"| catch-up after missing {_n(h['catchup_blocks'])} blocks | {_n(h['catchup_blocks_per_s'], 1)} blocks/s | pilot: 3 hours |")
    add(f"| `tamga chain verify` over the whole chain | {_n(h['verify_tx_per_s'])} tx/s ({_n(h['verify_txs'])} txs, ok={h['verify_ok']}) | |")
    add(f"| bad transactions in the load phases | {h['bad_txs_all_load_phases']} | |")
    if h["failed_phases"]:
        add(f"| **phases that failed** | {', '.join(h['failed_phases'])} (see below) | |")
    add("")
    for name in ("throughput", "latency", "saturation"):
        if name in plots:
            add(f"![{name}]({plots[name]})\n")
    if "error" in plots:
        add(f"Plots not drawn: {plots['error']}\n")

    add("## How it was measured\n")
    add("- **Requests** follow the pilot's flow: a pledge is the bank's EDS-signed GET of the encumbrance certificate, `pledge.file` signed by the "
        "bank and every pledgor (2-3 signatures), and once it is committed the registrar's `application.decide` (register). Mixed in: sales "
        "(`sale.file` signed by sellers and buyer, then the decision), discharges (`pledge.discharge`, registered at filing under the default "
        "policy), legal claims (`claim.register`), and checks that only read an encumbrance certificate. Mix by requests: "
        f"`{json.dumps({k: v for k, v in __import__('benchmarks.loadgen.workload', fromlist=['DEFAULT_MIX']).DEFAULT_MIX.items() if v})}`. "
        "In the saturation steps the first transaction of every request is built and signed before the step starts; in the pilot-rate "
        "phases each request is built and signed when it is due (the generator is idle there, see its CPU), so discharges can use pledges "
        "registered earlier in the phase. Decisions need the application number the ledger assigned and are signed when the filing "
        "commits (one signature each).")
    add("- **Pilot-rate phases** go through the HTTP API, as the pilot's participants would: banks submit to the bank's node, the registrar to "
        "the State Corporation's (gov4c), citizens through NITEC's (the e-government operator). A tx is `POST /v1/txs?wait_ms=30000`: "
        "**submit→commit** is that request's round trip (200 = committed with its receipt; 202 after 30 s = timeout). **submit→notification** "
        "ends when the tx's event arrives on the server-sent event stream (`/v1/events/stream`, EDS-signed) of the party it concerns: the "
        "pledgee bank's stream on the bank's node for pledges and discharges, the Ministry of Justice's stream on its node for the rest. "
        "Arrivals are open loop: Poisson at the given rate, whatever the earlier requests are doing.")
    mode = r.get("grpc_mode") or _g(r, "saturation", "grpc_mode") or "two"
    how = {"stream": "SubmitStream: one stream per node, each message carrying every envelope queued by the N clients at that moment, "
                     "results back per envelope as it commits, the way a bank's bulk integration submits",
           "one": "SubmitAndWait: one call per tx that returns the receipt when the tx commits",
           "two": "Submit, then WaitTx: two calls per tx"}.get(mode, mode)
    add(f"- **Saturation** uses the gRPC Ledger ({how}; `--grpc-mode {mode}`), closed loop: N clients spread over the four nodes, each "
        f"starting its next request when its previous tx committed; N takes the values {', '.join(map(str, s['sat_clients']))} in turn, "
        "stopping from the third step on once committed tx/s stops growing (< 3 % more). The first "
        f"{s['sat_warmup_s']:.0f} s of each step are left out of its figures; encumbrance checks are left out (they are not transactions).")
    add("- **Committed** = applied + refused by a contract (both are in a block with a receipt); **error** = not accepted (typed error from the "
        "node, or the transport failed); **timeout** = accepted but not committed within 30 s.")
    add("- **CPU**: the generator runs in one process on the same 2 cores as the four nodes; its CPU and each node's are read from the OS "
        "for every load phase (below).\n")

    for key, title in (("normal", "Normal load: 360 requests/hour"), ("peak", "Peak load: 2,000 requests/hour")):
        _open_section(L, r, key, title)
    _lone_section(L, r)
    _saturation_section(L, r, h)
    _profile_section(L, r)
    _recovery_section(L, r)
    _catchup_section(L, r)
    _verify_section(L, r)
    _problems_section(L, r)
    return "\n".join(L) + "\n"


def _failed(L, phase: dict | None, title: str) -> bool:
    if phase is None:
        L.append(f"## {title}\n\nNot run.\n")
        return True
    if "failed" in phase:
        L.append(f"## {title}\n\n**The phase failed**: `{phase['failed']}`\n\n```\n{phase.get('traceback', '')}\n```\n")
        return True
    return False


def _open_section(L, r, key, title):
    ph = r.get(key)
    if _failed(L, ph, title):
        return
    add = L.append
    add(f"## {title}\n")
    add(f"{ph['requests']} requests in {ph['duration_s'] / 60:.1f} min (open loop, Poisson), {ph['txs']} transactions "
        f"(~{_n(ph['tx_per_hour_offered'])} tx/hour). Requests started late by the generator: p99 {_ms(ph['start_lag_ms'].get('p99_ms'))}, "
        f"max {_ms(ph['start_lag_ms'].get('max_ms'))}.\n")
    if ph["requests"] < 100:
        add(f"*{ph['requests']} requests: the p99 is close to the maximum of a small sample; a longer phase gives a firmer p99.*\n")
    add("All transactions:\n")
    add(LAT_HEAD)
    add(_lat_row("submit → commit", ph["commit"]))
    add(_lat_row("submit → notification", ph["notification"]))
    add("\nBy transaction (submit → commit, then → notification):\n")
    add(LAT_HEAD)
    for label, v in ph["by_label"].items():
        add(_lat_row(f"{label} → commit", v["commit"]))
        if v["notification"].get("count"):
            add(_lat_row(f"{label} → notification", v["notification"]))
    add("\nWhole requests (first step to the end of the last; to the notification of the last):\n")
    add(LAT_HEAD)
    for kind, v in ph["by_request"].items():
        add(_lat_row(f"{kind} ({v['completed']}/{v['requests']} completed)", v["latency"]))
        if v["to_notification"].get("count"):
            add(_lat_row(f"{kind} → notification", v["to_notification"]))
    ck = ph["checks"]
    add(f"\nEncumbrance certificate GETs: {ck.get('count', 0)} answered, p50 {_ms(ck.get('p50_ms'))}, p99 {_ms(ck.get('p99_ms'))}, "
        f"errors {ck.get('errors')} {ck.get('error_codes') or ''}.\n")
    add(f"Outcomes: {ph['outcomes']}. Errors: {ph['errors'] or 'none'}. Refusals: {ph['refusals'] or 'none'}. Timeouts: {ph['timeouts'] or 'none'}. "
        f"Applied txs whose notification never arrived: {ph['notifications_missing']}. Event streams: "
        + "; ".join(f"{k}: {v['events']} events, {v['reconnects']} reconnects{', errors ' + str(v['errors']) if v['errors'] else ''}" for k, v in ph["streams"].items())
        + ".\n")
    add(_cpu_line(ph["cpu"]) + "\n")


def _cpu_line(c: dict) -> str:
    nodes = ", ".join(f"{k} {v if v is not None else 'restarted'}" for k, v in c["nodes_cpu_s"].items())
    return (f"CPU over {c['wall_s']:.0f} s: generator {c['generator_cpu_s']:.1f} s ({c['generator_cores']:.2f} cores), "
            f"nodes {c['nodes_cores']:.2f} cores ({nodes} CPU-s); machine {c['machine_busy_pct']:.0f} % busy of {c['machine_cores']} cores."
            + (f" {c['nodes_off_loop_pct']:.0f} % of the nodes' CPU was off their event loops (LevelDB compaction, cadastre checkpoints, gRPC threads)."
               if c.get("nodes_off_loop_pct") is not None else ""))


def _lone_section(L, r):
    ph = r.get("lone")
    if _failed(L, ph, "Lone registrations"):
        return
    L.append("## Lone registrations\n")
    L.append("One request at a time on an otherwise idle consortium, 300 ms apart: `pledge.file` (bank + pledgor), then the registrar's "
             "decision. Submit → commit:\n")
    L.append(LAT_HEAD)
    for api in ("http", "grpc"):
        for label, v in ph[api]["by_label"].items():
            L.append(_lat_row(f"{api.upper()} {label}", v["commit"]))
        L.append(_lat_row(f"{api.upper()} all", ph[api]["commit"]))
    L.append(f"\nOutcomes: HTTP {ph['http']['outcomes']}, gRPC {ph['grpc']['outcomes']}.\n")


def _share(v) -> str:
    return "–" if v is None else f"{v:.0f} %"


def cpu_ms_per_tx(st: dict) -> float | None:
    """The nodes' CPU over a whole saturation step per tx committed in it (ms); None when a
    node restarted during the step or nothing committed."""
    used = [v for v in (st["cpu"].get("nodes_cpu_s") or {}).values() if v is not None]
    committed = st["outcomes"]["applied"] + st["outcomes"]["refused"]
    if len(used) != len(st["cpu"].get("nodes_cpu_s") or {}) or not committed:
        return None
    return 1000 * sum(used) / committed


def _cpu_per_tx(st: dict) -> str:
    ms = cpu_ms_per_tx(st)
    return "n/a" if ms is None else f"{ms:.2f} ms"


def _chain_at_start(st: dict) -> str:
    at = st.get("chain_at_start")
    if not at:
        return "n/a"
    return f"{'?' if at['height'] is None else format(at['height'], ',')} / {at['txs_before']:,}"


def _saturation_section(L, r, h):
    ph = r.get("saturation")
    if _failed(L, ph, "Saturation"):
        return
    add = L.append
    add("## Saturation: committed tx/s of the 4 validators\n")
    add("| clients N | chain at start: height / txs | committed tx/s | applied tx/s | commit p50 | p95 | p99 | max | errors | refused | timeouts | "
        "generator cores | nodes cores | nodes' CPU per committed tx | nodes' CPU off the loop |")
    add("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for st in ph["steps"]:
        c = st["commit"]
        add(f"| {st['clients']} | {_chain_at_start(st)} | {_n(st['committed_tx_per_s'], 1)} | {_n(st['applied_tx_per_s'], 1)} | {_ms(c.get('p50_ms'))} | "
            f"{_ms(c.get('p95_ms'))} | {_ms(c.get('p99_ms'))} | {_ms(c.get('max_ms'))} | {st['outcomes']['error']} | {st['outcomes']['refused']} | "
            f"{st['outcomes']['timeout']} | {st['cpu']['generator_cores']:.2f} | {st['cpu']['nodes_cores']:.2f} | {_cpu_per_tx(st)} | "
            f"{_share(st['cpu'].get('nodes_off_loop_pct'))} |")
    add("")
    add("*Chain at start*: the steps run one after another on one chain, so each starts on what the steps (and phases) before it "
        "committed; txs counts those this generator committed. The nodes' CPU per tx grows with the chain: at N=1024 it was "
        "2.06 ms after all the steps before it and 1.88-1.96 ms after N=256 alone (`--phases saturation`, 2026-11-26). In-process "
        "(`benchmarks.bench_node_pipeline --txs 110000 --people 3000 --objects 30000 --every 50`) the cadastre projection's cost per "
        "tx grows from 78 to 92 µs between 25,000 and 72,000 txs, as its indexes' random inserts dirty more pages per block, but "
        "a node's whole pipeline stays flat (admission gets cheaper as certificates are cached), so most of the growth lies "
        "outside it. A step at large N runs on a longer chain than one at small N.\n")
    add("*CPU per committed tx*: the four nodes' CPU over the whole step divided by the txs committed in it. It depends on "
        "this machine's speed but not on how the load lined up with the window, so it compares runs better than tx/s does. At small N it is mostly what every block costs (consensus "
        "messages, synced writes, a cadastre transaction), spread over a few txs.\n")
    add("*Off the loop*: node CPU on threads other than the event loop, which the profile below does not sample: LevelDB's "
        "compaction (it writes each full memtable out and merges it into the levels below, and the merges grow with the store), "
        "the cadastre's WAL checkpoints, gRPC's threads; the table below gives each.\n")
    _cpu_parts_table(add, ph["steps"])
    add(f"Best: **{_n(h['saturation_committed_tx_per_s'])} committed tx/s** at N={h['saturation_clients']}. The raw Ed25519 verify rate measured in this "
        f"run is {_n(h['ed25519_verify_per_s'])}/s on one core; a committed tx carried {_n(h['signatures_per_tx'], 2)} signatures on average and "
        f"every node verifies each once, so signatures alone would allow {_n(h['signature_bound_tx_per_s'])} tx/s on {r['machine']['cpus']} cores "
        f"shared by 4 nodes: signature checking is not what limits throughput (see the profile).\n")
    for st in ph["steps"]:
        if st.get("mix"):
            add(f"- N={st['clients']}: committed in the window by kind: {', '.join(f'{k} {v}' for k, v in st['mix'].items())}")
        if st["errors"] or st["timeouts"] or st["refusals"]:
            add(f"- N={st['clients']}: errors {st['errors'] or 'none'}; refusals {st['refusals'] or 'none'}; timeouts {st['timeouts'] or 'none'}")
        if st["flows_planned_during_run"]:
            add(f"- N={st['clients']}: the generator ran out of pre-signed requests and signed {st['flows_planned_during_run']} during the step")
    add("")


# Nodes before the threads were told apart report them as one part, "threads"; a table shows
# the columns its steps have, so results (and `benchmarks.ab` runs) of either kind render.
CPU_PARTS = [("admission", "admission"), ("build", "build"), ("validate", "validate"), ("commit", "commit"), ("cadastre", "cadastre"),
             ("loop_other", "rest of the event loop"), ("grpc_threads", "gRPC threads"), ("checkpoint_thread", "cadastre checkpoints"),
             ("other_threads", "LevelDB compaction (other threads)"), ("threads", "other threads")]


def _cpu_parts_table(add, steps: list) -> None:
    """µs of CPU per committed tx by part of a node (tamga_cpu_seconds), the mean of the nodes."""
    rows = [(st["clients"], st.get("cpu_by_part_us_per_tx"), st.get("pipeline_reference_us_per_tx")) for st in steps]
    if not any(p for _, p, _ in rows):
        return
    add("Where a node's CPU goes, per committed tx (µs; the mean of the nodes; from each node's `tamga_cpu_seconds` at both ends "
        "of the step):\n")
    present = {k for _, p, _ in rows if p for k in p["parts"]}
    columns = [(k, label) for k, label in CPU_PARTS if k in present] + [(k, k) for k in sorted(present - {k for k, _ in CPU_PARTS})]
    add("| clients N | " + " | ".join(label for _, label in columns) + " | total | in-process reference | total ÷ reference |")
    add("|---:|" + "---:|" * (len(columns) + 3))
    for n, p, ref in rows:
        ref_cells = f"{_n(ref, 0)} | " + (_n(sum(p['parts'].values()) / ref, 2) if p and ref else "n/a")
        if not p:
            add(f"| {n} | " + " | ".join("n/a" for _ in columns) + f" | n/a | {ref_cells} |")
            continue
        parts = p["parts"]
        add(f"| {n} | " + " | ".join(_n(parts.get(k), 0) for k, _ in columns) + f" | {_n(sum(parts.values()), 0)} | {ref_cells} |")
    add("")
    add("*In-process reference*: µs of CPU per tx of one node's whole pipeline in one process (`benchmarks.bench_node_pipeline "
        "--txs 3000`, the generator's checkout; every signer's certificate checked once before timing, as in a node that has run a while), "
        "run just before the step while the consortium idles. It is how fast this shared "
        "machine was at that moment for a node's kind of work; *total ÷ reference* is then what the consortium adds (four processes "
        "sharing the cores, networking, consensus, client APIs, a longer chain) and compares runs made at different moments.\n")
    add("*Parts*: thread CPU (not wall-clock time) on each node's event loop in admission (signatures, certificates, stateless checks "
        "of submitted and gossiped txs), build (the proposer's block), validate (re-executing a peer's proposal), commit (the synced "
        "batch, answering waiting clients) and cadastre (the SQLite projection); the rest of the event loop (gRPC messages, consensus, "
        "the API, the loop itself); and the node's other threads, told apart by the names the kernel knows them by: gRPC's "
        "(its event engine and timers), the cadastre's WAL checkpointer, and the one left, LevelDB's compaction thread. "
        "One node builds each block and the others validate it, so build + validate is about one execution of each tx. "
        "`benchmarks.bench_node_pipeline` measures the same stages in one process with nothing else running; here four nodes share "
        "the machine's cores, and each stage costs more.\n")


def _profile_section(L, r):
    ph = r.get("profile")
    if _failed(L, ph, "Where the time goes"):
        return
    add = L.append
    add("## Where the time goes: a node under saturation\n")
    if not ph.get("ok"):
        add(f"No profile: {ph.get('why')}\n")
        return
    st = ph["step"]
    add(f"Node `{ph['node']}` was restarted under py-spy (sampling 100/s with native stacks, so compiled modules show under their source files; idle threads left out) and the closed loop ran at "
        f"N={st['clients']} for {st['window_s']:.0f} s: {_n(st['committed_tx_per_s'], 1)} committed tx/s (profiling slows the node a little). "
        f"{ph['samples']} busy samples; raw samples in `{ph['file']}`. The samples include the node's restart and its first seconds "
        f"(the store check at start-up, certificates parsed once and a cold state-tree cache), which a node running for a while "
        f"does not pay.\n")
    add("By area (each sample counted once, under the innermost area on its stack):\n")
    add("| area | share of busy samples |\n|---|---:|")
    for a in ph["areas"]:
        add(f"| {a['area']} | {a['pct']} % |")
    add("\nProject functions by inclusive share (on the stack):\n")
    add("| function | inclusive |\n|---|---:|")
    for a in ph["inclusive"]:
        add(f"| `{a['function']}` | {a['pct']} % |")
    add("\nLeaf functions (self time):\n")
    add("| function | self |\n|---|---:|")
    for a in ph["self"]:
        add(f"| `{a['function']}` | {a['pct']} % |")
    add("")


def _recovery_section(L, r):
    ph = r.get("recovery")
    if _failed(L, ph, "Recovery after kill -9"):
        return
    add = L.append
    add("## Recovery after kill -9\n")
    add(f"Under light load ({ph['load_requests_per_s']} requests/s over gRPC to the three other nodes), validator `{ph['victim']}` was killed with "
        f"SIGKILL at height {ph.get('killed_at_height')}, left down {ph['down_s']:.0f} s (the others went on to height {ph.get('head_at_restart')}, "
        f"{ph.get('blocks_missed')} blocks), then restarted. Times from the restart (process start):\n")
    add(f"- answering: its gRPC Status answers: **{ph.get('restart_to_answering_s')} s**;")
    add(f"- current: its committed height is at the head of the others: **{ph.get('restart_to_current_s')} s**;")
    add(f"- voting: the first block decided after the restart whose commit certificate (as stored by moj, or as carried in the next block's "
        f"last commit) holds its precommit: **{ph.get('restart_to_voting_s')} s** (height {ph.get('voting_height')}).")
    if ph.get("failure"):
        add(f"\n**Failure**: {ph['failure']}")
    ld = ph.get("load", {})
    add(f"\nThe light load meanwhile: {ld.get('txs')} txs, outcomes {ld.get('outcomes')}, errors {ld.get('errors') or 'none'}, "
        f"timeouts {ld.get('timeouts') or 'none'}, commit p50 {_ms(_g(ld, 'commit', 'p50_ms'))}, max {_ms(_g(ld, 'commit', 'max_ms'))}.\n")


def _catchup_section(L, r):
    ph = r.get("catchup")
    if _failed(L, ph, "Catch-up after missing many blocks"):
        return
    add = L.append
    add("## Catch-up after missing many blocks\n")
    add(f"A second consortium (no register, genesis consensus `{json.dumps(ph.get('consensus'), sort_keys=True)}`) ran without `{ph['victim']}`; the three others wrote "
        f"{_n(ph.get('produced_blocks'))} empty blocks in {ph.get('produce_s')} s ({ph.get('produce_blocks_per_s')} blocks/s: the consensus rate of "
        f"three nodes with nothing to execute). Then a second node was stopped so the head stood still at {ph.get('head')}, and `{ph['victim']}` "
        f"restarted: it fetched, checked (commit certificates) and re-executed **{_n(ph.get('catchup_blocks'))} blocks in {ph.get('catchup_s')} s = "
        f"{ph.get('catchup_blocks_per_s')} blocks/s** (from process start, so start-up is included). With it back, three of four could commit "
        f"again {ph.get('restart_to_commits_again_s')} s after its restart. The pilot allowed 3 hours for recovery.\n")
    if ph.get("note"):
        add(f"*{ph['note']}*\n")
    if ph.get("failure"):
        add(f"**Failure**: {ph['failure']}\n")
    v = ph.get("verify") or {}
    add(f"`tamga chain verify` over the caught-up node's store: ok={v.get('ok')}, {_n(v.get('blocks'))} blocks in {v.get('seconds')} s "
        f"({_n(v.get('blocks_per_s'))} blocks/s).\n")


def _verify_section(L, r):
    ph = r.get("verify")
    if _failed(L, ph, "The auditor: tamga chain verify"):
        return
    L.append("## The auditor: `tamga chain verify`\n")
    L.append(f"Over the whole chain of the main consortium (node moj, stopped), replaying from genesis (every signature, certificate, commit "
             f"certificate, re-execution, and a byte-for-byte comparison of the store): ok={ph.get('ok')}, **{_n(ph.get('txs'))} txs in "
             f"{ph.get('blocks')} blocks in {ph.get('seconds')} s = {_n(ph.get('tx_per_s'))} tx/s** ({ph.get('wall_s')} s wall with start-up).\n")
    if ph.get("findings"):
        L.append(f"**Findings**: {ph['findings']}\n")
    if not ph.get("ok"):
        L.append(f"**Not ok**: {ph.get('why') or ph.get('findings')}\n")


def _problems_section(L, r):
    add = L.append
    add("## What went wrong\n")
    items = []
    for k, v in r.items():
        if isinstance(v, dict) and "failed" in v:
            items.append(f"- phase **{k}** failed: `{v['failed']}`")
    for key in ("normal", "peak"):
        ph = r.get(key) or {}
        for what in ("errors", "refusals", "timeouts"):
            if ph.get(what):
                items.append(f"- {key}: {what} {ph[what]}")
        if ph.get("notifications_missing"):
            items.append(f"- {key}: {ph['notifications_missing']} applied txs whose notification never arrived")
        for name, st in (ph.get("streams") or {}).items():
            if st.get("errors"):
                why = (" (the stream sent nothing for 30 s, the generator's read timeout, and was reopened from its Last-Event-ID; "
                       "notifications missing above tell whether anything was lost)") if any("ReadTimeout" in e for e in st["errors"]) else ""
                items.append(f"- {key}: event stream {name}: {st['reconnects']} reconnects after {st['errors']}{why}")
    for st in _g(r, "saturation", "steps", default=[]) or []:
        for what in ("errors", "refusals", "timeouts"):
            if st.get(what):
                items.append(f"- saturation N={st['clients']}: {what} {st[what]}")
    for key in ("recovery", "catchup"):
        if _g(r, key, "failure"):
            items.append(f"- {key}: {r[key]['failure']}")
    g = r.get("generator", {})
    if g.get("objects_retired"):
        items.append(f"- the generator retired {g['objects_retired']} objects after unexpected outcomes: {g['retired_why']}")
    for node, counts in (r.get("node_logs") or {}).items():
        for msg, n in counts.items():
            items.append(f"- node {node} logged {n}× `{msg}` (its stderr over the whole run, shutdown included)")
    add("\n".join(items) if items else "Nothing: no errors, refusals, timeouts, missing notifications or warnings in the node logs.")
    add(f"\nThe generator made {g.get('signatures_made')} signatures; {g.get('flows_substituted')} requests were planned as another kind for want "
        f"of a suitable object.\n")


# --- plots ---------------------------------------------------------------------------------------------------
def _plots(out: str, results: dict, recorders: dict, t_run0: float) -> dict:
    try:
        import matplotlib  # noqa: PLC0415

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt  # noqa: PLC0415
    except ImportError:
        return {"error": "matplotlib is not installed (.venv/bin/pip install -e '.[bench]')"}
    made = {}
    try:
        made["throughput"] = _plot_throughput(plt, out, recorders, t_run0)
        made["latency"] = _plot_latency(plt, out, results)
        if (results.get("saturation") or {}).get("steps"):
            made["saturation"] = _plot_saturation(plt, out, results)
    except Exception as exc:  # noqa: BLE001 - a plot must not lose the report
        made["error"] = f"{type(exc).__name__}: {exc}"
    return {k: v for k, v in made.items() if v}


def _plot_throughput(plt, out, recorders, t_run0) -> str:
    fig, ax = plt.subplots(figsize=(12, 4.5))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for i, (key, rec) in enumerate(recorders.items()):
        bucket = 1.0 if key.startswith(("saturation", "recovery", "lone")) else 60.0
        tl = rec.timeline(t_run0, bucket)
        if not tl:
            continue
        xs = [(t + bucket / 2) / 60 for t, _ in tl]
        ys = [c / bucket for _, c in tl]
        ax.plot(xs, ys, drawstyle="steps-mid", color=colors[i % len(colors)], label=f"{key} ({bucket:.0f} s buckets)", lw=1.2)
    ax.set_yscale("symlog", linthresh=1)
    ax.set_xlabel("minutes since the start of the run")
    ax.set_ylabel("committed tx/s")
    ax.set_title("Throughput over time (txs whose commit the generator saw)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=7, ncol=3, loc="upper left")
    fig.tight_layout()
    path = "throughput.png"
    fig.savefig(os.path.join(out, path), dpi=110)
    plt.close(fig)
    return path


def _plot_latency(plt, out, results) -> str:
    groups = []
    for key, label in (("lone", "lone (HTTP)"), ("normal", "normal 360/h"), ("peak", "peak 2,000/h")):
        ph = results.get(key) or {}
        if key == "lone":
            ph = ph.get("http") or {}
        if "commit" in ph:
            groups.append((f"{label}\ncommit", ph["commit"]))
            if ph["notification"].get("count"):
                groups.append((f"{label}\nnotification", ph["notification"]))
            pl = (ph.get("by_request") or {}).get("pledge")
            if pl and pl["to_notification"].get("count"):
                groups.append((f"{label}\npledge request", pl["to_notification"]))
    best = (results.get("saturation") or {}).get("best")
    if best:
        groups.append((f"saturation N={best['clients']}\ncommit", best["commit"]))
    fig, ax = plt.subplots(figsize=(12, 5))
    width = 0.2
    for j, p in enumerate(("p50_ms", "p95_ms", "p99_ms", "max_ms")):
        xs = [i + (j - 1.5) * width for i in range(len(groups))]
        ys = [max(0.1, g[1].get(p) or 0.1) if not (isinstance(g[1].get(p), float) and math.isnan(g[1].get(p))) else 0.1 for g in groups]
        ax.bar(xs, ys, width, label=p.replace("_ms", ""))
    ax.axhline(PILOT_MAX_S * 1000, color="red", ls="--", lw=1)
    ax.text(len(groups) - 0.5, PILOT_MAX_S * 1000 * 1.1, "pilot maximum 30 s", color="red", ha="right", fontsize=8)
    ax.axhline(PILOT_AVG_S * 1000, color="orange", ls="--", lw=1)
    ax.text(len(groups) - 0.5, PILOT_AVG_S * 1000 * 0.75, "pilot average 10 s", color="orange", ha="right", fontsize=8)
    ax.axhline(TARGET_PEAK_P99_MS, color="green", ls=":", lw=1)
    ax.text(len(groups) - 0.5, TARGET_PEAK_P99_MS * 1.1, "target: peak p99 100 ms", color="green", ha="right", fontsize=8)
    ax.set_yscale("log")
    ax.set_xticks(range(len(groups)))
    ax.set_xticklabels([g[0] for g in groups], fontsize=8)
    ax.set_ylabel("milliseconds (log)")
    ax.set_title("Latency percentiles: submit → commit, submit → notification, whole pledge request → bank notified")
    ax.legend(fontsize=8)
    ax.grid(True, axis="y", which="both", alpha=0.3)
    fig.tight_layout()
    path = "latency.png"
    fig.savefig(os.path.join(out, path), dpi=110)
    plt.close(fig)
    return path


def _plot_saturation(plt, out, results) -> str:
    steps = results["saturation"]["steps"]
    ns = [s["clients"] for s in steps]
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(12, 4.5))
    a1.plot(ns, [s["committed_tx_per_s"] for s in steps], "o-", label="committed tx/s")
    a1.plot(ns, [s["applied_tx_per_s"] for s in steps], "s--", label="applied tx/s")
    a1.axhline(TARGET_TX_PER_S, color="green", ls=":", lw=1, label="target 1,000 tx/s")
    bound = (results.get("headline") or {}).get("signature_bound_tx_per_s")
    if bound:
        a1.axhline(bound, color="grey", ls="--", lw=1, label=f"Ed25519 bound {bound:,} tx/s")
    a1.set_xscale("log", base=2)
    a1.set_xlabel("closed-loop clients N")
    a1.set_ylabel("tx/s")
    a1.set_title("Saturation throughput (gRPC, 4 validators)")
    a1.grid(True, alpha=0.3)
    a1.legend(fontsize=8)
    for p in ("p50_ms", "p95_ms", "p99_ms", "max_ms"):
        a2.plot(ns, [s["commit"].get(p) for s in steps], "o-", label=p.replace("_ms", ""))
    a2.set_xscale("log", base=2)
    a2.set_yscale("log")
    a2.set_xlabel("closed-loop clients N")
    a2.set_ylabel("submit → commit, ms (log)")
    a2.set_title("Latency at each step")
    a2.grid(True, which="both", alpha=0.3)
    a2.legend(fontsize=8)
    fig.tight_layout()
    path = "saturation.png"
    fig.savefig(os.path.join(out, path), dpi=110)
    plt.close(fig)
    return path
