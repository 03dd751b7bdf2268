"""NodeRuntime runs its commit listeners (the cadastre projection) after the engine's step:
the votes and proposal a commit leads to are not held up by the projection, commits made
before the listeners ran are handed over as one (the last), and a client told that its tx
committed still reads a cadastre that holds it."""

from __future__ import annotations

import asyncio

import pytest

from contracts import builders as B
from tests.cadastre_support import People, application_number, pledge, register, running_node

pytestmark = pytest.mark.anyio


@pytest.fixture
def people(test_pki):
    return People(test_pki)


async def test_listeners_run_after_the_commit_step_and_the_waiter_reads_its_own_write(tmp_path, test_pki, people):
    async with running_node(str(tmp_path / "n"), test_pki, {"register": register(people)}) as node:
        rt = node.rt
        calls: list[tuple[int, bool]] = []
        in_commit = [False]
        on_committed = rt.on_committed

        def watched(prepared):
            in_commit[0] = True
            try:
                on_committed(prepared)
            finally:
                in_commit[0] = False

        rt.on_committed = watched  # the engine looks it up on the runtime at each commit
        rt.commit_listeners.append(lambda prepared: calls.append((prepared.height, in_commit[0])))

        filed = await node.submit(pledge(people), people.bank, people.owner)
        # Told it committed, the client reads the cadastre: it holds the filing already.
        assert node.svc.projection.height >= filed["height"]
        assert calls and all(not inside for _, inside in calls), calls
        decided = await node.submit(B.application_decide(application_number(filed), "register"), people.registrar)
        assert node.svc.projection.height >= decided["height"]
        assert max(h for h, _ in calls) >= decided["height"]

        # Two commits before the listeners get the loop: one call, with the last block.
        calls.clear()
        runs = []
        rt.commit_listeners.append(lambda prepared: runs.append(prepared.height))

        class Fake:
            def __init__(self, height):
                self.height, self.txs = height, []

        rt._schedule_commit_listeners(Fake(10**6))
        rt._schedule_commit_listeners(Fake(10**6 + 1))
        assert runs == []  # not inside the caller's step
        await asyncio.sleep(0)
        assert runs == [10**6 + 1]
        rt.commit_listeners.pop()


async def test_event_stream_followers_wait_on_the_projection_not_the_chain(tmp_path, test_pki, people):
    """The chain's hub announces a block before the projection has applied it; a follower of
    the cadastre (the event stream) waits on `Services.projected`, which moves only when the
    projection has applied the block (it used to see the chain ahead, take the cadastre for
    stalled and sleep a second before looking again)."""
    async with running_node(str(tmp_path / "n"), test_pki, {"register": register(people)}) as node:
        svc = node.svc
        start = svc.projection.height
        assert svc.projected.height == start
        follower = asyncio.create_task(svc.projected.wait_height_above(start, 20))
        chain_seen = []
        node.rt.commit_listeners.insert(0, lambda prepared: chain_seen.append((prepared.height, follower.done())))
        await node.submit(pledge(people), people.bank, people.owner)
        height = await follower
        # The follower woke for the first block the projection applied after `start`; when
        # the listeners started on that block (the chain had committed it), it was waiting.
        first_height, follower_done = chain_seen[0]
        assert follower_done is False
        assert start < first_height <= height <= svc.projection.height
