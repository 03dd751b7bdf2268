"""Running planned flows against the consortium: open loop and closed loop.

- open loop: requests start at scheduled times (Poisson arrivals at the given rate, or fixed
  spacing) whether or not earlier ones finished; how late each start was is recorded, so an
  overloaded generator shows up instead of silently lowering the rate;
- closed loop: N clients, each starting its next request when its previous one finished
  (each step waits for its commit).
Each request's steps run in order; a step's node is chosen by `route(step, client)`.
"""

from __future__ import annotations

import asyncio
import collections
import random
import time
from typing import Callable

from benchmarks.loadgen.records import CheckRecord, Recorder, RequestRecord, TxRecord
from benchmarks.loadgen.workload import ERROR, CheckStep, PlannedFlow, TxStep

Route = Callable[[object, int], str]
Progress = Callable[[int], None]


async def run_flow(planned: PlannedFlow, driver, route: Route, rec: Recorder, client: int = 0, t_scheduled: float | None = None) -> RequestRecord:
    now = time.monotonic()
    req = RequestRecord(planned.kind, t_scheduled if t_scheduled is not None else now, now)
    rec.requests.append(req)
    gen = planned.flow
    last_tx: TxRecord | None = None
    try:
        step = next(gen)
        while True:
            node = route(step, client)
            if isinstance(step, TxStep):
                t = TxRecord(step.label, planned.kind, node, time.monotonic(), notify=step.notify, signatures=step.signatures)
                rec.txs.append(t)
                res = await driver.submit(node, step.envelope)
                t.outcome, t.code, t.height, t.tx_id = res.outcome, res.code, res.height, res.tx_id
                if res.outcome in ("applied", "refused"):
                    t.t_commit = time.monotonic()
                last_tx = t
            else:
                assert isinstance(step, CheckStep)
                t0 = time.monotonic()
                res = await driver.check(node, step.party, step.cn)
                rec.checks.append(CheckRecord(t0, time.monotonic(), res.outcome != ERROR, res.code))
            req.steps += 1
            req.outcome, req.code = res.outcome, res.code
            step = gen.send(res)
    except StopIteration:
        pass
    req.t_end = time.monotonic()
    req.last_tx = last_tx  # type: ignore[attr-defined]
    return req


async def open_loop(flows: list[PlannedFlow] | Callable[[], PlannedFlow], driver, route: Route, rec: Recorder, *, rate_per_s: float,
                    duration_s: float, poisson: bool = True, seed: int = 3, progress: Progress | None = None, drain_s: float = 40.0) -> tuple[float, float]:
    """Start requests at rate_per_s for duration_s; then wait (at most drain_s) for those in flight.
    `flows` is a planned list, or a function planning the next flow when it is due (so a
    request can use what earlier ones registered, e.g. discharge a pledge registered minutes
    before). Returns the (start, end) of the schedule."""
    rnd = random.Random(seed)
    times = []
    t = 0.0
    while True:
        t += rnd.expovariate(rate_per_s) if poisson else 1.0 / rate_per_s
        if t >= duration_s:
            break
        times.append(t)
    assert callable(flows) or len(times) <= len(flows), f"planned {len(flows)} flows for {len(times)} starts"
    t0 = time.monotonic()
    tasks = []
    for i, at in enumerate(times):
        delay = t0 + at - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        rec.start_lag_ms.append(max(0.0, (time.monotonic() - (t0 + at)) * 1000))
        flow = flows() if callable(flows) else flows[i]
        tasks.append(asyncio.create_task(run_flow(flow, driver, route, rec, i, t0 + at)))
        if progress:
            progress(i + 1)
    end = max(time.monotonic(), t0 + duration_s)
    rest = t0 + duration_s - time.monotonic()
    if rest > 0:
        await asyncio.sleep(rest)
    await _drain(tasks, drain_s)
    return t0, end


async def closed_loop(flows: "collections.deque[PlannedFlow]", driver, route: Route, rec: Recorder, *, clients: int, duration_s: float,
                      progress: Progress | None = None, drain_s: float = 40.0,
                      refill: Callable[[int], list[PlannedFlow]] | None = None) -> tuple[float, float]:
    """`clients` clients run requests back to back for duration_s. Returns (start, end).
    When the planned flows run low, `refill(n)` plans more during the run (the generator's
    CPU then competes with the nodes': the caller counts how often)."""
    t0 = time.monotonic()
    end = t0 + duration_s
    done = [0]

    async def client(i: int) -> None:
        while time.monotonic() < end:
            if len(flows) < 1 and refill is not None:
                flows.extend(refill(max(clients, 200)))
            if not flows:
                return
            await run_flow(flows.popleft(), driver, route, rec, i)
            done[0] += 1
            if progress:
                progress(done[0])

    tasks = [asyncio.create_task(client(i)) for i in range(clients)]
    rest = end - time.monotonic()
    if rest > 0:
        await asyncio.wait(tasks, timeout=rest)
    await _drain(tasks, drain_s)
    return t0, end


async def _drain(tasks: list[asyncio.Task], drain_s: float) -> None:
    pending = [t for t in tasks if not t.done()]
    if pending:
        _, still = await asyncio.wait(pending, timeout=drain_s)
        for t in still:
            t.cancel()
        if still:
            await asyncio.wait(still, timeout=5)
    for t in tasks:
        if t.done() and not t.cancelled() and t.exception() is not None:
            raise t.exception()


def match_notifications(rec: Recorder, streams: dict) -> None:
    """Fill each tx's (and request's) notification time from the subscribers' streams."""
    for t in rec.txs:
        s = streams.get(t.notify)
        if s is not None and t.tx_id:
            t.t_notified = s.arrivals.get(t.tx_id)
    for r in rec.requests:
        last = getattr(r, "last_tx", None)
        if last is not None:
            r.t_notified = last.t_notified
