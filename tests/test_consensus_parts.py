"""The consensus core's parts: messages and their wire form, the validator set, vote sets,
BFT time, commit certificates, the persisted sign state and the timers."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from consensus.bft_time import bft_time
from consensus.commit import certificate_from_votes, verify_commit
from consensus.messages import (
    NIL,
    PRECOMMIT,
    PREVOTE,
    CommitCertificate,
    CommitSig,
    Evidence,
    Proposal,
    Status,
    Vote,
    from_peer_message,
    to_peer_message,
)
from consensus.sign_state import Guard, ProposalStamp, SignState
from consensus.timeouts import Timeout, TimeoutConfig, Timers
from consensus.validators import Validator, ValidatorSet
from consensus.vote_set import Added, VoteSet
from node import codec
from node.errors import InvalidBlock, MalformedInput, StoreCorrupted
from node.hashing import sha256
from proto import tamga_pb2 as pb
from tests.simulation.scripted import CHAIN_ID, signer_of

H = sha256(b"block")
H2 = sha256(b"other block")


def validators(n: int = 4, powers: list[int] | None = None) -> ValidatorSet:
    powers = powers or [1] * n
    return ValidatorSet(Validator(signer_of(i).public_key, p) for i, p in enumerate(powers))


def signed_vote(i: int, vote_type: int = PRECOMMIT, height: int = 1, round_: int = 0, block_hash: bytes = H, ts: int = 1000) -> Vote:
    v = Vote(vote_type, height, round_, block_hash, ts, i)
    return dataclasses.replace(v, signature=signer_of(i).sign("vote", CHAIN_ID, v.sign_bytes()))


# --- messages ---------------------------------------------------------------------------
def test_messages_round_trip_through_protobuf():
    vote = signed_vote(2, PREVOTE, 7, 3, NIL)
    proposal = Proposal(7, 3, 1, b"block bytes", 2, bytes(64))
    status = Status(6, 3, H)
    for m in (vote, proposal, status):
        wire = to_peer_message(m).SerializeToString()
        assert from_peer_message(pb.PeerMessage.FromString(wire)) == m
    assert from_peer_message(pb.PeerMessage(txs=pb.TxBatch(envelopes=[b"x"]))) is None
    cert = certificate_from_votes(1, 0, H, [signed_vote(i) for i in (2, 0, 1)])
    assert [s.validator_index for s in cert.signatures] == [0, 1, 2]
    assert CommitCertificate.decode(cert.encode()) == cert
    assert cert.votes() == tuple(signed_vote(i) for i in (0, 1, 2))
    ev = Evidence(signed_vote(1), signed_vote(1, block_hash=H2))
    assert Evidence.from_proto(pb.Evidence.FromString(ev.to_proto().SerializeToString())) == ev


@pytest.mark.parametrize(
    "bad",
    [
        pb.PeerMessage(vote=pb.Vote(type=0, height=1, block_hash=H, signature=bytes(64))),
        pb.PeerMessage(vote=pb.Vote(type=1, height=0, block_hash=H, signature=bytes(64))),
        pb.PeerMessage(vote=pb.Vote(type=1, height=1, block_hash=b"short", signature=bytes(64))),
        pb.PeerMessage(vote=pb.Vote(type=2, height=1, block_hash=H, signature=b"")),
        pb.PeerMessage(proposal=pb.Proposal(height=1, round=1, pol_round=1, block=b"b", signature=bytes(64))),
        pb.PeerMessage(proposal=pb.Proposal(height=1, round=0, pol_round=-2, block=b"b", signature=bytes(64))),
        pb.PeerMessage(proposal=pb.Proposal(height=1, round=0, pol_round=-1, block=b"", signature=bytes(64))),
        pb.PeerMessage(status=pb.PeerStatus(height=1, head_hash=b"xx")),
    ],
)
def test_malformed_wire_messages_are_refused_with_a_typed_error(bad):
    with pytest.raises(MalformedInput):
        from_peer_message(bad)


def test_malformed_certificates_and_evidence_are_refused():
    with pytest.raises(MalformedInput):
        CommitCertificate.decode(b"\xff\xff garbage")
    with pytest.raises(MalformedInput):
        CommitCertificate.from_proto(pb.CommitCertificate(height=1, block_hash=b""))
    same = signed_vote(1)
    with pytest.raises(MalformedInput):
        Evidence.from_proto(pb.Evidence(first=same.to_proto(), second=same.to_proto()))
    with pytest.raises(MalformedInput):
        Evidence.from_proto(pb.Evidence(first=signed_vote(1).to_proto(), second=signed_vote(2, block_hash=H2).to_proto()))


# --- the validator set --------------------------------------------------------------------
@pytest.mark.parametrize("n,quorum,f_plus_1", [(1, 1, 1), (4, 3, 2), (7, 5, 3), (10, 7, 4)])
def test_quorum_is_more_than_two_thirds(n, quorum, f_plus_1):
    vs = validators(n)
    assert (vs.quorum_power, vs.one_third_power) == (quorum, f_plus_1)


def test_quorum_with_unequal_power():
    vs = validators(powers=[5, 1, 1, 1])  # total 8: more than 16/3 is 6; more than 8/3 is 3
    assert (vs.total_power, vs.quorum_power, vs.one_third_power) == (8, 6, 3)
    assert not vs.has_quorum(5) and vs.has_quorum(6)


def test_proposer_rotates_round_robin_by_height_plus_round():
    vs = validators(4)
    assert [vs.proposer(1, r) for r in range(5)] == [1, 2, 3, 0, 1]
    assert [vs.proposer(h, 0) for h in range(1, 6)] == [1, 2, 3, 0, 1]


def test_validator_set_hash_is_sha256_of_canonical_key_power_pairs():
    vs = validators(powers=[1, 2, 3, 4])
    expected = sha256(codec.encode([[signer_of(i).public_key, p] for i, p in enumerate([1, 2, 3, 4])]))
    assert vs.hash() == expected
    assert ValidatorSet.of(vs.validators) == vs and vs.index_of(signer_of(2).public_key) == 2
    assert vs.index_of(signer_of(9).public_key) is None


@pytest.mark.parametrize(
    "members",
    [
        [],
        [Validator(b"short", 1)],
        [Validator(signer_of(0).public_key, 0)],
        [Validator(signer_of(0).public_key, True)],
        [Validator(signer_of(0).public_key, 1), Validator(signer_of(0).public_key, 1)],
    ],
)
def test_bad_validator_sets_are_refused(members):
    with pytest.raises(MalformedInput):
        ValidatorSet(members)


# --- vote sets ----------------------------------------------------------------------------
def test_vote_set_tallies_and_quorums():
    vs = VoteSet(validators(4))
    assert vs.add(signed_vote(0)) is Added.NEW
    assert vs.add(signed_vote(0)) is Added.DUPLICATE
    assert vs.add(signed_vote(1, block_hash=NIL)) is Added.NEW
    assert not vs.has_quorum_any()
    assert vs.add(signed_vote(2)) is Added.NEW
    assert vs.has_quorum_any() and vs.quorum_hash is None and vs.power_for(H) == 2
    assert vs.add(signed_vote(3)) is Added.NEW
    assert vs.quorum_hash == H and vs.has_quorum_for(H) and not vs.has_quorum_for(NIL)
    assert [v.validator_index for v in vs.votes_for(H)] == [0, 2, 3]


def test_a_conflicting_vote_counts_once_overall_and_only_for_its_own_block():
    vs = VoteSet(validators(4))
    vs.add(signed_vote(3, block_hash=NIL))
    second = signed_vote(3, block_hash=H)
    assert vs.add(second) is Added.CONFLICT
    vs.add_conflicting(second)
    assert vs.get(3).block_hash == NIL
    assert vs.total_power == 1
    assert (vs.power_for(NIL), vs.power_for(H)) == (1, 1)
    vs.add(signed_vote(0))
    vs.add(signed_vote(1))
    assert vs.has_quorum_for(H) and vs.quorum_hash == H


# --- BFT time -----------------------------------------------------------------------------
def sigs(*pairs: tuple[int, int]) -> list[CommitSig]:
    return [CommitSig(i, ts, b"") for i, ts in pairs]


def test_bft_time_is_the_power_weighted_median():
    assert bft_time(sigs((0, 100), (1, 300), (2, 200)), validators(4)) == 200
    # An even split takes the upper median (strictly more than half the signed power).
    assert bft_time(sigs((0, 100), (1, 300), (2, 200), (3, 400)), validators(4)) == 300
    assert bft_time(sigs((3, 0), (1, 100), (2, 101)), validators(4)) == 100
    # Validator 0 holds 5 of the 7 signed power: its timestamp is the median.
    assert bft_time(sigs((0, 900), (1, 100), (2, 200)), validators(powers=[5, 1, 1, 1])) == 900
    # Proto CommitSigs work too (the block builder has those).
    proto_sigs = [pb.CommitSig(validator_index=i, timestamp_ms=t) for i, t in ((0, 5), (1, 6), (2, 7))]
    assert bft_time(proto_sigs, validators(4)) == 6


def test_a_faulty_minority_cannot_move_bft_time_outside_the_honest_timestamps():
    vs = validators(7)  # f = 2
    honest = [(0, 1000), (1, 1010), (2, 1020)]
    for lie in (0, 10**12):
        t = bft_time(sigs(*honest, (5, lie), (6, lie)), vs)
        assert 1000 <= t <= 1020


@settings(max_examples=300, deadline=None)
@given(
    n=st.sampled_from([4, 7, 10]),
    block_time=st.integers(0, 10**13),
    data=st.data(),
)
def test_bft_time_is_later_than_the_block_the_commit_is_for(n, block_time, data):
    """With every honest precommit for B at time(B)+1 or later (the core's vote rule) and
    at most f faulty signers with any timestamps, the next block's time is later than B's."""
    vs = validators(n)
    f = (n - 1) // 3
    signers = data.draw(st.lists(st.sampled_from(range(n)), min_size=2 * f + 1, max_size=n, unique=True))
    faulty = set(data.draw(st.lists(st.sampled_from(signers), max_size=f, unique=True)))
    pairs = []
    for i in signers:
        if i in faulty:
            pairs.append((i, data.draw(st.integers(-(2**62), 2**62))))
        else:
            pairs.append((i, block_time + 1 + data.draw(st.integers(0, 10**6))))
    assert bft_time(sigs(*pairs), vs) > block_time


# --- commit certificates ------------------------------------------------------------------
def test_verify_commit_accepts_a_quorum_and_refuses_everything_else():
    vs = validators(4)
    good = certificate_from_votes(1, 0, H, [signed_vote(i) for i in range(3)])
    verify_commit(good, vs, CHAIN_ID, height=1, block_hash=H)
    too_few = certificate_from_votes(1, 0, H, [signed_vote(i) for i in range(2)])
    forged = dataclasses.replace(good, signatures=good.signatures[:2] + (CommitSig(2, 1000, bytes(64)),))
    repeated = dataclasses.replace(good, signatures=good.signatures[:2] + (good.signatures[1],))
    stranger = dataclasses.replace(good, signatures=good.signatures + (CommitSig(9, 1000, bytes(64)),))
    other_chain = certificate_from_votes(1, 0, H, [signed_vote(i) for i in range(3)])
    for cert, kwargs in [
        (too_few, {}),
        (forged, {}),
        (repeated, {}),
        (stranger, {}),
        (good, {"height": 2}),
        (good, {"block_hash": H2}),
        (dataclasses.replace(good, round=1), {}),
    ]:
        with pytest.raises(InvalidBlock):
            verify_commit(cert, vs, CHAIN_ID, **kwargs)
    with pytest.raises(InvalidBlock):
        verify_commit(other_chain, vs, "another-chain")


# --- the sign state -----------------------------------------------------------------------
def test_the_guard_signs_forward_repeats_itself_and_refuses_contradictions():
    last = signed_vote(0, PREVOTE, 5, 2, H)
    state = SignState(vote=last)
    assert state.check_vote(PREVOTE, 5, 2, H) == (Guard.RESEND, last)
    assert state.check_vote(PREVOTE, 5, 2, NIL)[0] is Guard.REFUSE
    assert state.check_vote(PREVOTE, 5, 1, H)[0] is Guard.REFUSE
    assert state.check_vote(PRECOMMIT, 4, 9, H)[0] is Guard.REFUSE
    assert state.check_vote(PRECOMMIT, 5, 2, NIL)[0] is Guard.SIGN
    assert state.check_vote(PREVOTE, 5, 3, H2)[0] is Guard.SIGN
    assert state.check_vote(PREVOTE, 6, 0, H2)[0] is Guard.SIGN
    stamp = ProposalStamp(5, 2, -1, H, bytes(64))
    state = SignState(proposal=stamp)
    assert state.check_proposal(5, 2, -1, H) == (Guard.RESEND, bytes(64))
    assert state.check_proposal(5, 2, -1, H2)[0] is Guard.REFUSE
    assert state.check_proposal(5, 1, -1, H)[0] is Guard.REFUSE
    assert state.check_proposal(5, 3, 2, H2)[0] is Guard.SIGN


def test_sign_state_saves_and_loads():
    state = SignState(
        vote=signed_vote(0, PRECOMMIT, 5, 2, H),
        proposal=ProposalStamp(5, 2, 1, H, bytes(64)),
        height=5,
        locked_round=2,
        locked_hash=H,
        valid_round=2,
        valid_hash=H,
        blocks=((H, b"the block"),),
    )
    assert SignState.decode(state.encode()) == state
    assert SignState.decode(SignState().encode()) == SignState()
    assert state.block(H) == b"the block" and state.block(H2) is None


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x93garbage",
        codec.encode({"version": 99}),
        codec.encode({"version": 1, "vote": None, "proposal": None, "height": 1, "locked": [3, b""], "valid": [-1, b""], "blocks": []}),
        codec.encode({"version": 1, "vote": [9, 1, 0, b"", 0, 0, b""], "proposal": None, "height": 1, "locked": [-1, b""], "valid": [-1, b""], "blocks": []}),
    ],
)
def test_an_unreadable_sign_state_is_store_corruption(data):
    with pytest.raises(StoreCorrupted):
        SignState.decode(data)


# --- timers -------------------------------------------------------------------------------
def test_timeouts_grow_linearly_with_the_round():
    t = TimeoutConfig(timeout_propose_ms=3000, timeout_propose_delta_ms=500, timeout_prevote_ms=1000, timeout_prevote_delta_ms=200)
    assert [t.duration_ms(Timeout.PROPOSE, r) for r in (0, 1, 4)] == [3000, 3500, 5000]
    assert t.duration_ms(Timeout.PREVOTE, 3) == 1600


def test_timers_fire_in_deadline_order_then_scheduling_order():
    timers = Timers()
    timers.schedule(200, Timeout.PRECOMMIT, 1, 0)
    timers.schedule(100, Timeout.PROPOSE, 1, 1)
    timers.schedule(100, Timeout.PREVOTE, 1, 1)
    timers.schedule(50, Timeout.PROPOSE, 0, 0)
    timers.drop_below(1)
    assert timers.next_deadline_ms() == 100
    assert timers.pop_due(99) is None
    assert [timers.pop_due(150), timers.pop_due(150), timers.pop_due(150)] == [
        (Timeout.PROPOSE, 1, 1),
        (Timeout.PREVOTE, 1, 1),
        None,
    ]
    assert timers.pop_due(10**6) == (Timeout.PRECOMMIT, 1, 0) and len(timers) == 0
