"""The legal cadastre at scale: encumbrance-check and sheet-lookup latency (p50, p99) with a
million objects in the cadastre, and projection catch-up speed when rebuilding.

    .venv/bin/python -m benchmarks.bench_cadastre [--objects 1000000] [--traffic-blocks 100] [--samples 5000] [--json]

What runs (all real: LevelDB chain, registration contracts, SQLite projection, the FastAPI app):
1. a one-validator registry chain loads --objects objects by systematic registration
   (register.load txs of 1000 objects, 20 txs a block), then --traffic-blocks blocks of
   20 registrations each (arrests and legal claims on random objects); the node's projection
   applies each block as it commits (the incremental path);
2. latency of the encumbrance check and the sheet lookup, at the projection (SQLite) and
   through the HTTP API in-process (EDS signature check, access rules, book of requests write,
   JSON), on random objects, one request at a time;
3. `rebuild`: the projection dropped and rebuilt from the chain; blocks/s and objects/s, for
   the load blocks and the traffic blocks apart; the rebuilt digest must equal the incremental.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import os
import random
import sys
import tempfile
import time

import httpx

from benchmarks.common import dump_json, latency_summary, machine, print_table


def _objects(start: int, n: int) -> list[dict]:
    from contracts import builders as B
    from node import identity

    out = []
    for i in range(start, start + n):
        owner = identity.make_iin(datetime.date(1950, 1, 1) + datetime.timedelta(days=i // 9000), "M" if i % 2 else "F", i % 9000)
        cn = f"{10 + i // 10_000_000:02d}-{i // 10_000 % 1000:03d}-{i // 10 % 1000:03d}-{i % 10:03d}"
        out.append(B.loaded_object(cn, "apartment", B.ident(f"Astana, street {i // 500}, house {i % 500}", 650_000), [B.ownership(B.holder(owner))]))
    return out


async def run(objects: int, traffic_blocks: int, samples: int, base: str) -> dict:
    from api.app import create_app
    from api.client_auth import EdsAuth
    from cadastre import reads
    from cadastre.projection import Projection
    from cli.cadastre_cmd import digest
    from contracts import builders as B
    from node import envelope
    from node.runner import NodeRuntime
    from node.solo import SoloSealer
    from tests.cadastre_support import People, register, write_node
    from tests.ledger_support import TestPKI

    test_pki = TestPKI()
    people = People(test_pki)
    config = write_node(os.path.join(base, "node"), test_pki, {"register": register(people)})
    rt = NodeRuntime(config)
    app = create_app(rt)
    svc = app.state.svc
    svc.catch_up()
    sealer = SoloSealer(rt.chain, rt.mempool, rt.signer, now_ms=rt.now_ms)
    chain_id = rt.genesis.chain_id
    nonce = iter(range(1, 10**9))
    block_txs = 20

    def seal_block(envelopes: list[bytes]) -> tuple[float, float]:
        t0 = time.perf_counter()
        for env in envelopes:
            rt.mempool.add(env)
        prepared = sealer.seal()
        t1 = time.perf_counter()
        rt.on_committed(prepared)          # the node's commit path: the projection applies it
        return t1 - t0, time.perf_counter() - t1

    # 1a. systematic registration of `objects` objects
    seal_s = proj_s = 0.0
    load_blocks = 0
    cns: list[str] = []
    batch = 1000
    start = time.perf_counter()
    for first in range(0, objects, batch * block_txs):
        envs = []
        for b in range(first, min(first + batch * block_txs, objects), batch):
            objs = _objects(b, min(batch, objects - b))
            cns += [o["cn"] for o in objs]
            kind, payload = B.register_load(objs, "bench register")
            envs.append(envelope.build_envelope(chain_id, kind, payload, [people.registrar.pair], next(nonce)))
        s, p = seal_block(envs)
        seal_s += s
        proj_s += p
        load_blocks += 1
        if load_blocks % 10 == 0:
            print(f"  loaded {len(cns):,} objects in {load_blocks} blocks ({time.perf_counter() - start:.0f} s)", file=sys.stderr)
    load_height = rt.chain.head.height
    # 1b. everyday traffic: arrests and legal claims on random objects
    rng = random.Random(7)
    traffic_seal = traffic_proj = 0.0
    for _ in range(traffic_blocks):
        envs = []
        for cn in rng.sample(cns, block_txs):
            if rng.random() < 0.5:
                kind, payload = B.encumbrance_impose([cn], "arrest", people.court.bin, B.act("2-1/2026", "2026-01-05", cn.encode()), "securing a claim")
            else:
                kind, payload = B.claim_register(cn, people.stranger.iin, "lawsuit", "dispute over the title", [B.doc("claim.pdf", cn.encode())])
            envs.append(envelope.build_envelope(chain_id, kind, payload, [people.court.pair], next(nonce)))
        s, p = seal_block(envs)
        traffic_seal += s
        traffic_proj += p
    head = rt.chain.head.height
    assert svc.projection.height == head
    incremental_digest = digest(svc.projection)

    # 2. latency with `objects` objects in the cadastre
    sample = [rng.choice(cns) for _ in range(samples)]
    db = svc.db
    proj_enc, proj_sheet = [], []
    for cn in sample:
        t0 = time.perf_counter()
        reads.object_row(db, cn)
        proj_sheet.append((time.perf_counter() - t0) * 1000)
    for cn in sample:
        t0 = time.perf_counter()
        _, cert, _ = reads.object_row(db, cn)
        proj_enc.append((time.perf_counter() - t0) * 1000)
    object_count = reads.counts(db)["objects"]
    db_bytes = os.path.getsize(svc.projection.path)
    http_enc, http_sheet = [], []
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://node", auth=EdsAuth(people.bank.signer, people.bank.cert, chain_id, now_ms=rt.now_ms)) as bank, \
                httpx.AsyncClient(transport=transport, base_url="http://node", auth=EdsAuth(people.registrar.signer, people.registrar.cert, chain_id, now_ms=rt.now_ms)) as registrar:
            for cn in sample:
                t0 = time.perf_counter()
                r = await bank.get(f"/v1/objects/{cn}/encumbrances")
                http_enc.append((time.perf_counter() - t0) * 1000)
                assert r.status_code == 200, r.text
            for cn in sample:
                t0 = time.perf_counter()
                r = await registrar.get(f"/v1/objects/{cn}")
                http_sheet.append((time.perf_counter() - t0) * 1000)
                assert r.status_code == 200, r.text

    # 3. rebuild from the chain
    rebuilt = Projection(os.path.join(base, "rebuilt.sqlite"))
    rebuilt.bind(rt.chain)
    marks: dict[int, float] = {}
    t0 = time.perf_counter()
    rebuilt.rebuild(lambda done, total: marks.__setitem__(done, time.perf_counter()))
    rebuild_s = time.perf_counter() - t0
    load_rebuild_s = marks[load_height] - t0
    traffic_rebuild_s = marks[head] - marks[load_height] if traffic_blocks else 0.0
    rebuilt_digest = digest(rebuilt)
    rebuilt.close()
    assert rebuilt_digest == incremental_digest, "the rebuilt projection differs from the incremental one"
    rt.kv.close()

    return {
        "objects_in_cadastre": object_count,
        "blocks": head,
        "load_blocks": load_blocks,
        "traffic_blocks": traffic_blocks,
        "build": {
            "load_seal_s": round(seal_s, 1), "load_projection_s": round(proj_s, 1),
            "incremental_objects_per_s": round(objects / proj_s) if proj_s else None,
            "traffic_seal_s": round(traffic_seal, 2), "traffic_projection_s": round(traffic_proj, 2),
            "incremental_traffic_blocks_per_s": round(traffic_blocks / traffic_proj, 1) if traffic_proj else None,
        },
        "latency_projection": {"encumbrance_check": latency_summary(proj_enc), "sheet_lookup": latency_summary(proj_sheet)},
        "latency_http": {"encumbrance_check": latency_summary(http_enc), "sheet_lookup": latency_summary(http_sheet)},
        "rebuild": {
            "seconds": round(rebuild_s, 1),
            "blocks_per_s": round(head / rebuild_s, 2),
            "load_blocks_per_s": round(load_blocks / load_rebuild_s, 3) if load_rebuild_s else None,
            "load_objects_per_s": round(objects / load_rebuild_s) if load_rebuild_s else None,
            "traffic_blocks_per_s": round(traffic_blocks / traffic_rebuild_s, 1) if traffic_rebuild_s else None,
            "digest_equal": rebuilt_digest == incremental_digest,
        },
        "db_bytes": db_bytes,
        "machine": machine(),
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--objects", type=int, default=1_000_000)
    ap.add_argument("--traffic-blocks", type=int, default=100)
    ap.add_argument("--samples", type=int, default=5000)
    ap.add_argument("--dir", default=None, help="keep the chain and databases here (default: a temporary directory)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    if args.dir:
        os.makedirs(args.dir, exist_ok=True)
        result = asyncio.run(run(args.objects, args.traffic_blocks, args.samples, args.dir))
    else:
        with tempfile.TemporaryDirectory() as tmp:
            result = asyncio.run(run(args.objects, args.traffic_blocks, args.samples, tmp))
    if args.json:
        dump_json(result)
        return 0
    print(f"cadastre of {result['objects_in_cadastre']:,} objects, {result['blocks']} blocks ({result['load_blocks']} load, {result['traffic_blocks']} traffic)")
    rows = []
    for where in ("latency_projection", "latency_http"):
        for what, s in result[where].items():
            rows.append({"path": where.split("_")[1], "query": what, "p50_ms": s["p50_ms"], "p99_ms": s["p99_ms"], "max_ms": s["max_ms"], "count": s["count"]})
    print_table(rows, ["path", "query", "p50_ms", "p99_ms", "max_ms", "count"])
    rb = result["rebuild"]
    print(f"rebuild: {rb['seconds']} s, {rb['blocks_per_s']} blocks/s overall; load blocks {rb['load_blocks_per_s']} blocks/s "
          f"({rb['load_objects_per_s']:,} objects/s); traffic blocks {rb['traffic_blocks_per_s']} blocks/s; digest equal: {rb['digest_equal']}")
    b = result["build"]
    print(f"incremental: {b['incremental_objects_per_s']:,} objects/s while loading; {b['incremental_traffic_blocks_per_s']} traffic blocks/s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
