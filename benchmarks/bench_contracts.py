"""Contract execution rate (tx/s) for a pledge-heavy mix over a loaded register.

Loads N objects (default 100,000) through the genesis bulk path (init_chain), then executes
blocks of a pledge-heavy mix the way the node does: begin_block, then per tx check_tx and
deliver_tx against a per-tx overlay that is committed on success and dropped on refusal.
Only check_tx + deliver_tx (+ the overlay commit) are timed; building the transactions is not.

Mix (by share of transactions): pledge.file 35%, application.decide (register) 35%,
pledge.discharge 12%, pledge.change 5%, sale.file 5%, encumbrance.impose 3%,
claim.register 3%, token.issue 2%.

    .venv/bin/python benchmarks/bench_contracts.py [--objects 100000] [--txs 20000] [--block 500] [--json]

Not a pass/fail test: it reports numbers.
"""

from __future__ import annotations

import argparse
import collections
import datetime
import hashlib
import json
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from contracts import RegistryExecutor, builders as B, businessdays, queries  # noqa: E402
from node.codec import encode  # noqa: E402
from node.errors import Refusal, TamgaError  # noqa: E402
from node.identity import make_bin, make_iin  # noqa: E402
from node.interfaces import BlockContext, Credential, VerifiedTx  # noqa: E402

T0_MS = businessdays.start_ms(businessdays.day_from_iso("2026-03-02")) + 10 * 3600 * 1000


class DictState:
    def __init__(self):
        self.data: dict[bytes, bytes] = {}

    def get(self, key):
        return self.data.get(key)

    def set(self, key, value):
        self.data[key] = value

    def delete(self, key):
        self.data.pop(key, None)


class Overlay:
    _GONE = object()

    def __init__(self, base):
        self.base, self.writes = base, {}

    def get(self, key):
        v = self.writes.get(key, self)
        if v is self:
            return self.base.get(key)
        return None if v is Overlay._GONE else v

    def set(self, key, value):
        self.writes[key] = value

    def delete(self, key):
        self.writes[key] = Overlay._GONE

    def commit(self):
        for k, v in self.writes.items():
            if v is Overlay._GONE:
                self.base.data.pop(k, None)
            else:
                self.base.data[k] = v


def cred(name, roles, iin=None, bin_=None):
    fp = hashlib.sha256(f"{name}{iin}{bin_}{roles}".encode()).digest()
    return Credential(fp, 1, name, iin, bin_, None, tuple(roles), fp, 0, 2**62)


_nonce = [0]


def vtx(built, *signers):
    _nonce[0] += 1
    kind, payload = built
    body = encode({"k": kind, "n": _nonce[0]})
    return VerifiedTx(hashlib.sha256(body).digest(), kind, payload, _nonce[0], "", tuple(signers), body, body)


def cadastral(i: int) -> str:
    return f"{1 + i % 20:02d}-{i // 20 % 1000:03d}-{i // 20000 % 1000:03d}-{i // 20000000 % 10000:04d}"


def build_register(n: int, people: list[Credential]) -> list[dict]:
    objs = []
    for i in range(n):
        owner = people[i % len(people)].iin
        if i % 5 == 0:
            co = people[(i * 7 + 3) % len(people)].iin
            holders = [B.holder(owner, 1, 2), B.holder(co, 1, 2)] if co != owner else [B.holder(owner)]
        else:
            holders = [B.holder(owner)]
        kind = "apartment" if i % 3 else "land"
        ident = B.ident(f"Astana, street {i % 997}, {i}", 450_000 + i % 900_000, floors=9 if kind == "apartment" else None)
        objs.append(B.loaded_object(cadastral(i), kind, ident, [B.ownership(*holders)]))
    return objs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--objects", type=int, default=100_000)
    ap.add_argument("--txs", type=int, default=20_000)
    ap.add_argument("--block", type=int, default=500)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    rnd = random.Random(args.seed)

    people = [cred(f"P{i}", ("citizen",), iin=make_iin(datetime.date(1950 + i % 50, 1 + i % 12, 1 + i % 28), "M", i))
              for i in range(max(1000, args.objects // 2))]
    by_iin = {p.iin: p for p in people}
    banks = [cred(f"Bank {i}", ("bank",), iin=make_iin(datetime.date(1980, 1, 1), "F", i), bin_=make_bin(datetime.date(2000 + i, 1, 1), i))
             for i in range(5)]
    registrar = cred("Registrar", ("registrar",), iin=make_iin(datetime.date(1985, 5, 5), "F", 9000), bin_=make_bin(datetime.date(2016, 1, 1), 1))
    bailiff = cred("Bailiff", ("bailiff",), bin_=make_bin(datetime.date(2010, 1, 1), 77))
    issuer = cred("Issuer", ("token_issuer",), bin_=make_bin(datetime.date(2011, 1, 1), 78))

    register = build_register(args.objects, people)
    ex = RegistryExecutor()
    state = DictState()
    t = time.perf_counter()
    ex.init_chain({"register": register, "register_source": "bench"}, state, BlockContext("bench", 0, T0_MS, b"\0" * 32))
    load_s = time.perf_counter() - t
    del register

    cns = [cadastral(i) for i in range(args.objects)]
    pending: collections.deque[int] = collections.deque()
    pledges: list[int] = []
    stats = collections.Counter()
    exec_s = 0.0
    done = 0
    height = 0
    now = T0_MS
    mix = [("pledge.file", 35), ("decide", 35), ("pledge.discharge", 12), ("pledge.change", 5), ("sale.file", 5),
           ("encumbrance.impose", 3), ("claim.register", 3), ("token.issue", 2)]
    names, weights = zip(*mix)

    def holders_of(cn):
        return [by_iin[h["id"]] for h in queries.encumbrance_certificate(state, cn)["holders"]]

    while done < args.txs:
        height += 1
        now += 5_000
        ctx = BlockContext("bench", height, now, b"\0" * 32)
        t = time.perf_counter()
        ex.begin_block(ctx, state)
        exec_s += time.perf_counter() - t
        for _ in range(min(args.block, args.txs - done)):
            what = rnd.choices(names, weights)[0]
            cn = cns[rnd.randrange(len(cns))]
            bank = banks[rnd.randrange(len(banks))]
            if what == "decide" and pending:
                tx = vtx(B.application_decide(pending.popleft(), "register"), registrar)
            elif what == "pledge.discharge" and pledges:
                pid = pledges.pop(rnd.randrange(len(pledges)))
                e = queries.entry(state, pid)
                tx = vtx(B.pledge_discharge(pid), next(b for b in banks if b.bin == e["pledgee"]))
            elif what == "pledge.change" and pledges:
                pid = pledges[rnd.randrange(len(pledges))]
                e = queries.entry(state, pid)
                pledgors = [by_iin[p] for p in e["pledgors"]]
                tx = vtx(B.pledge_change(pid, [B.doc("addendum", b"a")], amount_tiyn=e["amount_tiyn"] - 1),
                         next(b for b in banks if b.bin == e["pledgee"]), *pledgors)
            elif what == "sale.file":
                buyer = people[rnd.randrange(len(people))]
                sellers = holders_of(cn)
                tx = vtx(B.sale_file(cn, [B.seller(s.iin, *queries_share(state, cn, s.iin)) for s in sellers],
                                     [B.buyer(buyer.iin)], 10_000_000_00, [B.doc("contract", b"c")]), *sellers, buyer)
            elif what == "encumbrance.impose":
                tx = vtx(B.encumbrance_impose([cn], "arrest", bailiff.bin, B.act("2-1", "2026-01-01", b"x"), "enforcement"), bailiff)
            elif what == "claim.register":
                claimant = people[rnd.randrange(len(people))]
                tx = vtx(B.claim_register(cn, claimant.iin, "lawsuit", "dispute", [B.doc("suit", b"s")]), claimant)
            elif what == "token.issue":
                tx = vtx(B.token_issue(people[rnd.randrange(len(people))].iin, 10**9, "deposit"), issuer)
            else:
                what = "pledge.file"
                tx = vtx(B.pledge_file(cn, bank.bin, rnd.randrange(1, 10**12), "2036-01-01", "loan",
                                       [B.doc("title", b"t"), B.doc("receipt", b"r")]), bank, *holders_of(cn))
            t = time.perf_counter()
            try:
                ex.check_tx(tx)
                view = Overlay(state)
                outcome = ex.deliver_tx(ctx, tx, view)
                view.commit()
                code = outcome.code
            except Refusal as exc:
                code = exc.code
                outcome = None
            except TamgaError as exc:
                code = exc.code
                outcome = None
            exec_s += time.perf_counter() - t
            done += 1
            stats[(what, code)] += 1
            if outcome is not None:
                for ev in outcome.events:
                    if ev.kind == "application.filed" and outcome.code == "FILED":
                        pending.append(ev.data["application"])
                    elif ev.kind == "application.registered" and "pledge" in ev.data and ev.data["type"] == "pledge":
                        pledges.append(ev.data["pledge"])

    result = {
        "objects": args.objects,
        "txs": done,
        "blocks": height,
        "load_seconds": round(load_s, 2),
        "load_objects_per_second": round(args.objects / load_s),
        "execute_seconds": round(exec_s, 3),
        "tx_per_second": round(done / exec_s),
        "state_keys": len(state.data),
        "outcomes": {f"{k} {c}": v for (k, c), v in sorted(stats.items())},
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"loaded {args.objects} objects in {load_s:.1f} s ({result['load_objects_per_second']} objects/s)")
        print(f"executed {done} txs in {height} blocks: {exec_s:.2f} s, {result['tx_per_second']} tx/s (pledge-heavy mix)")
        for k, v in result["outcomes"].items():
            print(f"  {k}: {v}")


def queries_share(state, cn, iin):
    for h in queries.encumbrance_certificate(state, cn)["holders"]:
        if h["id"] == iin:
            return h["share"]
    raise AssertionError


if __name__ == "__main__":
    main()
