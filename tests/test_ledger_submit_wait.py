"""The gRPC Ledger's one-call paths against a real node (NodeRuntime with the solo engine,
LevelDB, the registration contracts) over a real gRPC channel: SubmitAndWait and
SubmitStream answer with the receipt, refuse bad envelopes and duplicates with typed codes
and store nothing for them, time out like WaitTx; committed txs are answered from the
recent-commit index and, once it has dropped them, from the store, identically. The load
generator's GrpcDriver records the same outcomes whichever of its three modes it uses."""

from __future__ import annotations

import asyncio
import os
import socket

import grpc
import pytest

from benchmarks.loadgen.drivers import GRPC_MODES, GrpcDriver
from benchmarks.loadgen.workload import APPLIED, ERROR, TIMEOUT
from contracts import builders as B
from node.config import NodeConfig
from node.hub import RecentTxs
from proto import tamga_pb2 as pb
from proto import tamga_pb2_grpc as pbg
from tests.cadastre_support import CN, CN2, People, pledge, register, running_node, write_node

pytestmark = pytest.mark.anyio


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
async def ledger(tmp_path, test_pki):
    """A running node and a Ledger stub connected to it over TCP."""
    people = People(test_pki)
    base = str(tmp_path / "node")
    write_node(base, test_pki, {"register": register(people)})
    path = os.path.join(base, "config.json")
    cfg = NodeConfig.load(path)
    cfg.ledger_listen = f"127.0.0.1:{_free_port()}"
    cfg.save(path)
    async with running_node(base, test_pki, {}) as node:
        node.people = people
        async with grpc.aio.insecure_channel(cfg.ledger_listen) as channel:
            node.stub = pbg.LedgerStub(channel)
            yield node


def _pledge(node, cn=CN) -> bytes:
    p = node.people
    return node.envelope(pledge(p, cn), p.bank, p.owner)


def _store_answer(node, tx_id: bytes) -> pb.GetTxResponse:
    height, index, envelope, receipt = node.rt.chain.tx(tx_id)
    return pb.GetTxResponse(height=height, index=index, envelope=envelope, receipt=receipt)


async def _code_of(call) -> tuple[grpc.StatusCode, str, str]:
    with pytest.raises(grpc.aio.AioRpcError) as info:
        await call
    err = info.value
    return err.code(), dict(err.trailing_metadata() or ()).get("tamga-code", ""), err.details()


async def test_submit_and_wait_returns_the_committed_receipt(ledger):
    env = _pledge(ledger)
    got = await ledger.stub.SubmitAndWait(pb.SubmitAndWaitRequest(envelope=env, timeout_ms=20_000), timeout=30)
    assert got.envelope == env
    assert got.receipt.status == "applied" and got.receipt.code and got.receipt.article
    assert any(e.kind == "application.filed" for e in got.receipt.events)
    # What the index answered is what the store holds.
    assert got == _store_answer(ledger, got.receipt.tx_id)
    assert got.height == ledger.rt.chain.tx_location(got.receipt.tx_id)[0]
    # The old two calls still work and say the same.
    again = await ledger.stub.WaitTx(pb.WaitTxRequest(tx_id=got.receipt.tx_id, timeout_ms=1000), timeout=10)
    assert again == got
    assert await ledger.stub.GetTx(pb.GetTxRequest(tx_id=got.receipt.tx_id), timeout=10) == got


async def test_a_refused_tx_comes_back_with_its_reason(ledger):
    p = ledger.people
    env = ledger.envelope(B.application_decide(9999, "register"), p.registrar)
    got = await ledger.stub.SubmitAndWait(pb.SubmitAndWaitRequest(envelope=env), timeout=30)
    assert got.receipt.status == "refused" and got.receipt.code == "APPLICATION_NOT_FOUND"


async def test_bad_envelopes_get_the_submit_codes_and_change_nothing(ledger):
    p = ledger.people
    head = ledger.rt.chain.head.height
    good = _pledge(ledger)
    tampered = pb.Envelope.FromString(good)
    tampered.signatures[0].signature = bytes(64)
    cases = [(b"\xff\x00not protobuf", "MALFORMED"), (tampered.SerializeToString(), "BAD_SIGNATURE")]
    for env, code in cases:
        via_submit = await _code_of(ledger.stub.Submit(pb.Envelope.FromString(env) if code != "MALFORMED" else pb.Envelope(body=b"\xff"), timeout=10))
        via_wait = await _code_of(ledger.stub.SubmitAndWait(pb.SubmitAndWaitRequest(envelope=env, timeout_ms=5000), timeout=10))
        assert via_wait[1] == code, via_wait
        assert via_wait[0] == via_submit[0] and via_submit[1] == code
        assert via_wait[2].startswith(code + ": ")
    assert len(ledger.rt.mempool) == 0 and ledger.rt.chain.head.height == head
    # A wrong role is refused at admission too, with its own code.
    stranger = ledger.envelope(pledge(p, CN2), p.stranger)
    code, tamga_code, _ = await _code_of(ledger.stub.SubmitAndWait(pb.SubmitAndWaitRequest(envelope=stranger), timeout=10))
    assert tamga_code and code != grpc.StatusCode.OK
    assert len(ledger.rt.mempool) == 0 and ledger.rt.chain.head.height == head


async def test_a_duplicate_is_refused_like_submit(ledger):
    env = _pledge(ledger)
    first = await ledger.stub.SubmitAndWait(pb.SubmitAndWaitRequest(envelope=env, timeout_ms=20_000), timeout=30)
    head = ledger.rt.chain.head.height
    code, tamga_code, details = await _code_of(ledger.stub.SubmitAndWait(pb.SubmitAndWaitRequest(envelope=env), timeout=10))
    assert (code, tamga_code) == (grpc.StatusCode.ALREADY_EXISTS, "DUPLICATE_TX")
    assert first.receipt.tx_id.hex() in details
    assert (code, tamga_code) == (await _code_of(ledger.stub.Submit(pb.Envelope.FromString(env), timeout=10)))[:2]
    assert ledger.rt.chain.head.height == head and len(ledger.rt.mempool) == 0


async def test_not_committed_in_time_is_deadline_exceeded_like_wait_tx(ledger):
    await ledger.rt.engine.stop()          # nothing commits from here on
    env = _pledge(ledger)
    code, tamga_code, details = await _code_of(ledger.stub.SubmitAndWait(pb.SubmitAndWaitRequest(envelope=env, timeout_ms=200), timeout=10))
    assert code == grpc.StatusCode.DEADLINE_EXCEEDED and details.startswith("NOT_COMMITTED: ")
    # The tx stays pending (its id is in the message), as after Submit then WaitTx.
    tx_id = next(bytes.fromhex(w) for w in details.split() if len(w) == 64)
    assert ledger.rt.mempool.get(tx_id) is not None
    wait = await _code_of(ledger.stub.WaitTx(pb.WaitTxRequest(tx_id=tx_id, timeout_ms=200), timeout=10))
    assert wait[0] == code and wait[2].startswith("NOT_COMMITTED: ")
    assert not ledger.rt.hub._tx_waiters, "a timed-out waiter is dropped"


async def test_old_txs_are_answered_from_the_store_once_the_index_drops_them(ledger):
    ledger.rt.recent = RecentTxs(max_txs=1)
    first = await ledger.stub.SubmitAndWait(pb.SubmitAndWaitRequest(envelope=_pledge(ledger, CN)), timeout=30)
    assert ledger.rt.recent.get(first.receipt.tx_id) is not None
    second = await ledger.stub.SubmitAndWait(pb.SubmitAndWaitRequest(envelope=_pledge(ledger, CN2)), timeout=30)
    assert second.height > first.height
    assert ledger.rt.recent.get(first.receipt.tx_id) is None and ledger.rt.recent.get(second.receipt.tx_id) is not None
    for got in (first, second):
        tx_id = got.receipt.tx_id
        assert await ledger.stub.WaitTx(pb.WaitTxRequest(tx_id=tx_id, timeout_ms=1000), timeout=10) == got
        assert await ledger.stub.GetTx(pb.GetTxRequest(tx_id=tx_id), timeout=10) == got
        assert got == _store_answer(ledger, tx_id)
        assert ledger.rt.committed_height(tx_id) == got.height
    unknown = await _code_of(ledger.stub.GetTx(pb.GetTxRequest(tx_id=bytes(32)), timeout=10))
    assert unknown[:2] == (grpc.StatusCode.NOT_FOUND, "NOT_FOUND")


def _items(*items: pb.SubmitItem) -> pb.SubmitStreamRequest:
    return pb.SubmitStreamRequest(items=list(items))


async def _stream_results(ledger, *requests: pb.SubmitStreamRequest) -> dict[int, pb.SubmitResult]:
    results = {}
    async for msg in ledger.stub.SubmitStream(iter(requests), timeout=30):
        assert 0 < len(msg.results) <= 256
        for r in msg.results:
            assert r.ref not in results
            results[r.ref] = r
    return results


async def test_submit_stream_answers_each_envelope_by_ref(ledger):
    p = ledger.people
    good = [_pledge(ledger, CN), _pledge(ledger, CN2)]
    refused_in_block = ledger.envelope(B.application_decide(9999, "register"), p.registrar)
    results = await _stream_results(
        ledger,
        _items(pb.SubmitItem(envelope=good[0], ref=1, timeout_ms=20_000), pb.SubmitItem(envelope=b"\x01garbage", ref=2), pb.SubmitItem(envelope=good[0], ref=3)),
        _items(pb.SubmitItem(envelope=good[1], ref=4, timeout_ms=20_000)),
        _items(),
        _items(pb.SubmitItem(envelope=refused_in_block, ref=5, timeout_ms=20_000)),
    )
    assert sorted(results) == [1, 2, 3, 4, 5]
    assert results[2].code == "MALFORMED" and not results[2].HasField("tx") and results[2].tx_id == b""
    assert results[3].code == "DUPLICATE_TX" and results[3].tx_id == results[1].tx_id
    for ref in (1, 4):
        r = results[ref]
        assert not r.code and r.tx.receipt.tx_id == r.tx_id and r.tx.envelope == good[ref // 4]
        assert r.tx == _store_answer(ledger, r.tx_id)
    assert results[1].tx.receipt.status == "applied"
    assert results[4].tx.receipt.status == "refused"       # the co-owner did not sign
    assert results[5].tx.receipt.code == "APPLICATION_NOT_FOUND"
    assert not ledger.rt.hub._tx_waiters


async def test_submit_stream_splits_many_results_into_bounded_messages(ledger, monkeypatch):
    from node import ledger_service

    monkeypatch.setattr(ledger_service, "STREAM_RESULTS_MAX", 2)
    # Five refusals known at once: they leave in messages of at most two, in order.
    sizes, refs = [], []
    async for msg in ledger.stub.SubmitStream(iter([_items(*(pb.SubmitItem(envelope=b"\x01bad", ref=i) for i in range(1, 6)))]), timeout=30):
        sizes.append(len(msg.results))
        refs += [r.ref for r in msg.results]
    assert refs == [1, 2, 3, 4, 5] and max(sizes) <= 2


async def test_submit_stream_times_out_per_envelope_and_cleans_up(ledger):
    await ledger.rt.engine.stop()
    env = _pledge(ledger)
    results = await _stream_results(ledger, _items(pb.SubmitItem(envelope=env, ref=7, timeout_ms=200)))
    assert list(results) == [7] and results[7].code == "NOT_COMMITTED" and results[7].tx_id and results[7].message
    assert not ledger.rt.hub._tx_waiters


async def _stream_with_one_tx_admitted(ledger):
    """A SubmitStream holding one pledge the node admitted and will not commit (its engine
    is stopped)."""
    await ledger.rt.engine.stop()
    call = ledger.stub.SubmitStream(timeout=30)
    await call.write(_items(pb.SubmitItem(envelope=_pledge(ledger), ref=1, timeout_ms=30_000)))
    # The node has admitted it once it is in the mempool.
    for _ in range(200):
        if len(ledger.rt.mempool):
            break
        await asyncio.sleep(0.01)
    assert len(ledger.rt.mempool) == 1 and ledger.rt.hub._tx_waiters
    return call


async def test_a_cancelled_stream_leaves_no_waiters(ledger):
    call = await _stream_with_one_tx_admitted(ledger)
    call.cancel()  # the client goes away
    assert await call.code() == grpc.StatusCode.CANCELLED
    for _ in range(200):
        if not ledger.rt.hub._tx_waiters:
            break
        await asyncio.sleep(0.01)
    assert not ledger.rt.hub._tx_waiters


async def test_a_stream_whose_reading_is_cancelled_ends_quietly(ledger):
    """When reading the request stream is cancelled, the call ends without raising
    CancelledError out of the handler, which gRPC would log as an unhandled servicer
    exception."""
    from node.ledger_service import LedgerServicer

    async def requests():
        yield _items(pb.SubmitItem(envelope=b"not an envelope", ref=3))
        raise asyncio.CancelledError

    answers = [msg async for msg in LedgerServicer(ledger.rt).SubmitStream(requests(), None)]
    assert [r.ref for msg in answers for r in msg.results] == [3] and answers[0].results[0].code


async def test_a_node_stopping_ends_its_open_streams_with_unavailable(ledger):
    """Stopping ends every open SubmitStream itself, with UNAVAILABLE and a message saying
    what became of the txs in flight, before the gRPC server stops. Left to the server, a
    stream still open when the process's event loop closes has its task cancelled there,
    which gRPC logs as an unhandled servicer exception (one ERROR per stream per stop)."""
    call = await _stream_with_one_tx_admitted(ledger)
    ledger.rt._ledger.end_streams()
    assert await asyncio.wait_for(call.code(), 5) == grpc.StatusCode.UNAVAILABLE
    assert (await call.details()).startswith("NODE_STOPPING")
    # The typed error's code rides in the trailing metadata, as for every other refusal.
    assert dict(await call.trailing_metadata() or ()).get("tamga-code") == "NODE_STOPPING"
    assert not ledger.rt.hub._tx_waiters and not ledger.rt._ledger._streams
    # A stream opened after that is ended the same way.
    late = ledger.stub.SubmitStream(timeout=30)
    await late.write(_items(pb.SubmitItem(envelope=_pledge(ledger, CN2), ref=2, timeout_ms=30_000)))
    assert await asyncio.wait_for(late.code(), 5) == grpc.StatusCode.UNAVAILABLE


def test_recent_index_drops_whole_old_blocks_and_keeps_the_newest():
    r = RecentTxs(max_txs=3)
    r.add_block(1, [b"a", b"b"], [b"A", b"B"], ["ra", "rb"])
    assert r.get(b"b") == (1, 1, b"B", "rb")
    r.add_block(2, [b"c"], [b"C"], ["rc"])
    assert len(r) == 3 and r.get(b"a") is not None
    r.add_block(3, [b"d", b"e", b"f", b"g"], [b"D", b"E", b"F", b"G"], ["rd", "re", "rf", "rg"])
    # Over the bound: blocks 1 and 2 go, block 3 stays whole although it alone exceeds it.
    assert r.get(b"a") is None and r.get(b"c") is None
    assert r.get(b"g") == (3, 3, b"G", "rg") and len(r) == 4
    with pytest.raises(AssertionError):
        r.add_block(4, [b"h"], [b"H"], [])


@pytest.mark.parametrize("mode", GRPC_MODES)
async def test_the_load_generator_records_each_grpc_mode_alike(ledger, mode):
    addr = {"solo": ledger.config.ledger_listen}
    driver = GrpcDriver(addr, mode=mode, wait_s=20)
    try:
        env = _pledge(ledger)
        ok = await driver.submit("solo", env)
        assert (ok.outcome, ok.height) == (APPLIED, ledger.rt.chain.tx_location(ok.tx_id)[0])
        assert ok.code == _store_answer(ledger, ok.tx_id).receipt.code and ok.event("application.filed") is not None
        dup = await driver.submit("solo", env)
        assert (dup.outcome, dup.code) == (ERROR, "ALREADY_EXISTS DUPLICATE_TX")
        bad = await driver.submit("solo", b"\x01garbage")
        assert (bad.outcome, bad.code) == (ERROR, "INVALID_ARGUMENT MALFORMED")
    finally:
        await driver.close()
    await ledger.rt.engine.stop()
    slow = GrpcDriver(addr, mode=mode, wait_s=0.3)
    try:
        late = await slow.submit("solo", _pledge(ledger, CN2))
        assert (late.outcome, late.code) == (TIMEOUT, "NOT_COMMITTED_WITHIN_WAIT") and ledger.rt.mempool.get(late.tx_id) is not None
    finally:
        await slow.close()


async def test_a_stream_to_a_node_that_goes_away_turns_into_errors(ledger):
    await ledger.rt.engine.stop()
    driver = GrpcDriver({"solo": ledger.config.ledger_listen}, mode="stream", wait_s=30)
    try:
        pending = asyncio.ensure_future(driver.submit("solo", _pledge(ledger)))
        for _ in range(200):
            if len(ledger.rt.mempool):
                break
            await asyncio.sleep(0.01)
        await ledger.rt._grpc.stop(grace=0)
        res = await asyncio.wait_for(pending, 20)
        assert res.outcome == ERROR and res.code.startswith(("STREAM", "TRANSPORT"))
    finally:
        await driver.close()
