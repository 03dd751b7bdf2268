"""Scripted scenarios for the consensus core: the test decides who hears what, and when.

Each test drives real cores (real Ed25519, the simulation's trivial block source) through
tests/simulation/scripted.Cluster, in the spirit of etcd raft's interaction tests.
"""

from __future__ import annotations

import dataclasses

from consensus.commit import verify_commit
from consensus.messages import NIL, PRECOMMIT, PREVOTE, Proposal, Status, Vote
from consensus.ready import PeerAhead
from consensus.sign_state import SignState
from consensus.state_machine import ConsensusCore
from node import signing
from tests.simulation.app import read_block
from tests.simulation.bugs import IgnoreLockCore
from tests.simulation.scripted import CHAIN_ID, TIMEOUTS, Cluster, Envelope, is_proposal, is_vote, signer_of


def test_happy_path_commits_in_round_0_and_rotates_the_proposer():
    c = Cluster(4)
    assert [c.core(i).validators.proposer(1, 0) for i in range(4)] == [1, 1, 1, 1]  # (height + round) mod n
    c.deliver()
    hashes = set()
    for i in range(4):
        (d,) = c.decisions[i]
        assert (d.height, d.round) == (1, 0)
        assert c.sources[i].inspect(d.block).hash == d.block_hash
        verify_commit(d.certificate, c.validators, CHAIN_ID, height=1, block_hash=d.block_hash)
        assert len({s.validator_index for s in d.certificate.signatures}) >= 3
        hashes.add(d.block_hash)
    assert len(hashes) == 1
    assert read_block(c.decisions[0][0].block)["proposer"] == "v1"

    for i in range(4):
        c.advance_height(i)
    c.deliver()
    for i in range(4):
        assert [(d.height, d.round) for d in c.decisions[i]] == [(1, 0), (2, 0)]
        assert read_block(c.decisions[i][1].block)["proposer"] == "v2"  # height 2, round 0
        assert c.sources[i].validate(2, c.decisions[i][1].block)


def test_proposer_crash_leads_to_a_commit_in_round_1():
    c = Cluster(4)
    c.crash(1)  # the proposer of (1, 0)
    c.drop(lambda e: e.src != 1)
    c.advance_time(TIMEOUTS.timeout_propose_ms)  # no proposal: prevote nil
    c.deliver()
    for i in (0, 2, 3):
        assert c.vote_of(i, PREVOTE, 0) == NIL and c.vote_of(i, PRECOMMIT, 0) == NIL
        assert c.core(i).round == 0
    c.advance_time(TIMEOUTS.timeout_precommit_ms)  # 2f+1 precommits for anything: next round
    assert c.core(0).round == 1
    c.deliver()
    for i in (0, 2, 3):
        (d,) = c.decisions[i]
        assert (d.height, d.round) == (1, 1)
        assert read_block(d.block)["proposer"] == "v2"  # round 1's proposer


def _lock_node_0_on_round_0(c: Cluster) -> bytes:
    """Round 0: node 0 sees 2f+1 prevotes for the proposal X and locks on it; nodes 1-3
    never see that quorum (node 3 misses the proposal) and precommit nil. Returns X."""
    x = c.block_hash(c.proposal(0))
    c.deliver(lambda e: is_proposal(e) and e.dst != 3)
    c.advance_time(TIMEOUTS.timeout_propose_ms)  # node 3 prevotes nil
    c.deliver(lambda e: is_vote(PREVOTE, 0)(e) and (e.dst == 0 or e.src != 0))
    assert c.vote_of(0, PRECOMMIT, 0) == x
    assert c.core(0).sign_state.locked_hash == x and c.core(0).sign_state.locked_round == 0
    c.advance_time(TIMEOUTS.timeout_prevote_ms)  # nodes 1-3 saw 2 for X + 1 nil: precommit nil
    for i in (1, 2, 3):
        assert c.vote_of(i, PRECOMMIT, 0) == NIL
    c.deliver(is_vote(PRECOMMIT, 0))
    c.advance_time(TIMEOUTS.timeout_precommit_ms)
    assert all(c.core(i).round == 1 for i in range(4))
    assert all(not c.decisions[i] for i in range(4))
    return x


def test_a_lock_prevents_prevoting_another_block_until_a_newer_proof_of_lock():
    c = Cluster(4)
    x = _lock_node_0_on_round_0(c)
    y = c.block_hash(c.proposal(1))  # validator 2 never saw a POL for X: a fresh block
    assert y != x and c.proposal(1).pol_round == -1
    c.deliver(is_proposal)
    assert c.vote_of(0, PREVOTE, 1) == NIL  # locked on X (Algorithm 1 line 23)
    assert [c.vote_of(i, PREVOTE, 1) for i in (1, 2, 3)] == [y, y, y]
    # 2f+1 prevotes for Y in round 1 > locked round 0: node 0 re-locks on Y (line 36).
    c.deliver()
    assert c.vote_of(0, PRECOMMIT, 1) == y
    assert c.core(0).sign_state.locked_hash == y
    assert {c.decisions[i][0].block_hash for i in range(4)} == {y}


def test_the_planted_lock_bug_is_visible_in_the_same_script():
    """The negative control's bug, in the scenario above: it prevotes Y while locked on X."""
    c = Cluster(4, core_class=IgnoreLockCore)
    _lock_node_0_on_round_0(c)
    y = c.block_hash(c.proposal(1))
    c.deliver(is_proposal)
    assert c.vote_of(0, PREVOTE, 1) == y


def test_a_proof_of_lock_completed_by_an_equivocators_other_vote_is_accepted():
    """Regression (found by the simulator as a deadlock): validator 3 showed node 0 a nil
    prevote in round 0 and the others a prevote for X. The round-1 proposer re-proposes X
    with its proof-of-lock from round 0, which includes 3's vote for X. Node 0 must count
    it (Algorithm 1 counts distinct signers per value) and prevote X (line 28)."""
    c = Cluster(4)
    c.crash(3)
    proposal_x = c.proposal(0)
    x = c.block_hash(proposal_x)
    c.drop()
    c.advance_time(TIMEOUTS.timeout_propose_ms)  # node 0 never got the proposal: prevote nil
    c.drop()
    c.step(0, c.sign_vote(3, PREVOTE, 0, NIL), 3)                 # 3's face towards node 0
    c.step(0, c.sign_vote(1, PREVOTE, 0, x), 1)
    c.step(0, c.sign_vote(2, PREVOTE, 0, x), 2)
    assert not c.core(0).decided and c.vote_of(0, PRECOMMIT, 0) is None
    c.advance_time(TIMEOUTS.timeout_prevote_ms)                   # precommit nil
    for i in (1, 2):
        c.step(0, c.sign_vote(i, PRECOMMIT, 0, x), i)
    c.advance_time(TIMEOUTS.timeout_precommit_ms)                 # round 1
    assert c.core(0).round == 1
    c.drop()
    # Validator 2 (proposer of round 1) re-proposes X with pol_round 0 and its POL.
    signed = signer_of(2).sign("proposal", CHAIN_ID, signing.proposal_sign_bytes(1, 1, 0, x))
    reproposal = Proposal(1, 1, 0, proposal_x.block, 2, signed)
    evidence_before = len(c.evidence[0])
    c.step(0, c.sign_vote(3, PREVOTE, 0, x), 2)                   # 3's other face, relayed
    assert len(c.evidence[0]) == evidence_before + 1
    c.step(0, reproposal, 2)
    assert c.vote_of(0, PREVOTE, 1) == x


def test_every_vote_sent_is_covered_by_a_sign_state_persisted_in_the_same_or_an_earlier_ready():
    c = Cluster(4)
    c.deliver()
    for i in range(4):
        persisted = None
        for ready in c.readies[i]:
            if ready.sign_state is not None:
                persisted = ready.sign_state.vote
            for out in ready.messages:
                m = out.message
                if isinstance(m, Vote) and m.validator_index == i:
                    assert persisted is not None
                    assert (m.height, m.round, m.type) <= (persisted.height, persisted.round, persisted.type)


def test_a_restarted_core_resends_its_vote_identically_and_never_contradicts_it():
    c = Cluster(4)
    x = c.block_hash(c.proposal(0))
    c.deliver(is_proposal)
    (prevote,) = c.sent_votes(0, PREVOTE, 0)
    assert prevote.block_hash == x
    assert SignState.decode(c.persisted[0]).vote == prevote

    c.crash(0)
    core = c.start(0)  # from the persisted sign state
    assert (core.height, core.round, core.step_name) == (1, 0, "prevote")
    resent = [o.message for o in c.readies[0][-1].messages if isinstance(o.message, Vote)]
    assert resent == [prevote]  # same timestamp, same signature

    # The proposal again, and the propose timeout: nothing new is signed for round 0.
    c.step(0, c.proposal(0), 1)
    c.advance_time(TIMEOUTS.timeout_propose_ms)
    assert {v.signature for v in c.sent_votes(0, PREVOTE, 0)} == {prevote.signature}
    # 2f+1 prevotes for nil now (a lie by 3 faces): it may precommit nil, never prevote again.
    for i in (2, 3):
        c.step(0, c.sign_vote(i, PREVOTE, 0, NIL), i)
    c.step(0, c.sign_vote(1, PREVOTE, 0, NIL), 1)
    assert {v.signature for v in c.sent_votes(0, PREVOTE, 0)} == {prevote.signature}


def test_a_restarted_core_keeps_its_lock():
    c = Cluster(4)
    x = _lock_node_0_on_round_0(c)
    saved = SignState.decode(c.persisted[0])
    assert (saved.locked_round, saved.locked_hash) == (0, x) and saved.block(x) is not None
    proposal_y = c.proposal(1)
    y = c.block_hash(proposal_y)
    c.crash(0)
    core = c.start(0)
    assert core.sign_state.locked_hash == x and (core.round, core.step_name) == (0, "precommit")
    # Round 1's proposal and a prevote from another validator: f+1 validators are in
    # round 1, so the restarted node skips there (line 55) and meets Y while locked on X.
    c.step(0, proposal_y, 2)
    c.step(0, c.sign_vote(1, PREVOTE, 1, y), 1)
    assert core.round == 1
    assert c.vote_of(0, PREVOTE, 1) == NIL


def test_a_restarted_core_keeps_the_proof_of_its_lock_and_can_show_it():
    """Seed 1254352192: two validators locked on X in round 1, then crashes lost every copy of
    round 1's prevotes; their re-proposals of X (pol_round 1) convinced nobody and nothing
    else could reach 2f+1. The sign state now carries the 2f+1 prevotes with the lock."""
    c = Cluster(4)
    x = _lock_node_0_on_round_0(c)
    saved = SignState.decode(c.persisted[0])
    assert {(v.round, v.type, v.block_hash) for v in saved.pol} == {(0, PREVOTE, x)}
    assert len({v.validator_index for v in saved.pol}) >= 3
    assert all(signing.verify(signer_of(v.validator_index).public_key, v.signature, "vote", CHAIN_ID, v.sign_bytes()) for v in saved.pol)
    c.crash(0)
    core = c.start(0)  # from the sign state alone: every vote it had received is gone
    held = core._h.vote_set(0, PREVOTE)  # noqa: SLF001 - the proof is what gossip sends with a re-proposal
    assert held.has_quorum_for(x)
    assert SignState.decode(SignState.encode(saved)) == saved


def test_a_sign_state_written_before_proofs_of_lock_were_kept_still_reads():
    c = Cluster(4)
    x = _lock_node_0_on_round_0(c)
    from node import codec

    d = codec.decode(c.persisted[0])  # rewritten in the version-1 layout: no "pol"
    d.pop("pol")
    d["version"] = 1
    old = SignState.decode(codec.encode(d))
    assert old.locked_hash == x and old.pol == ()


def test_a_sign_state_ahead_of_the_chain_refuses_to_sign_below_it():
    """A validator restored with an old copy of its chain must not sign again where its
    sign state says it signed later: it follows the others without voting."""
    c = Cluster(4)
    later = c.sign_vote(0, PRECOMMIT, 0, NIL, height=5)
    c.crash(0)
    c.drop(lambda e: e.src != 0)
    core = c.start(0, sign_state=SignState(vote=later))
    c.step(0, c.proposal(0), 1)
    c.deliver()
    assert c.sent_votes(0, PREVOTE, 0) == [] and c.sent_votes(0, PRECOMMIT, 0) == []
    assert core.stats["sign_refused_vote"] >= 1
    assert [d.height for d in c.decisions[0]] == [1]
    assert core.sign_state.vote == later


def test_equivocation_is_kept_as_evidence_and_counted_once():
    c = Cluster(4)
    x = c.block_hash(c.proposal(0))
    c.step(0, c.proposal(0), 1)
    first = c.sign_vote(3, PREVOTE, 0, x)
    second = c.sign_vote(3, PREVOTE, 0, NIL)
    assert c.step(0, first, 3).evidence == ()
    ready = c.step(0, second, 3)
    (ev,) = ready.evidence
    assert (ev.first, ev.second) == (first, second)
    assert type(ev).from_proto(ev.to_proto()) == ev
    votes = c.core(0)._h.votes[(0, PREVOTE)]
    assert votes.get(3) == first                     # the first vote stays the counted one
    assert votes.total_power == 2                    # validators 0 and 3, each once
    # Seen again: no second evidence.
    assert c.step(0, second, 3).evidence == ()
    assert c.core(0).stats["equivocations"] == 1


def _assert_dropped(c: Cluster, message, counter: str, peer: int | None = 3) -> None:
    core = c.core(0)
    before_votes = {k: dict(v.votes) for k, v in core._h.votes.items()}
    before = core.stats.get(counter, 0)
    ready = c.step(0, message, peer)
    assert core.stats.get(counter, 0) == before + 1, counter
    assert ready.messages == () and ready.evidence == () and ready.decision is None
    assert {k: dict(v.votes) for k, v in core._h.votes.items()} == before_votes


def test_invalid_messages_are_dropped_and_counted():
    c = Cluster(4)
    x = c.block_hash(c.proposal(0))
    good = c.sign_vote(3, PREVOTE, 0, x)
    _assert_dropped(c, dataclasses.replace(good, signature=bytes(64)), "dropped_bad_signature")
    _assert_dropped(c, dataclasses.replace(good, timestamp_ms=good.timestamp_ms + 1), "dropped_bad_signature")
    other_chain = dataclasses.replace(good, signature=signer_of(3).sign("vote", "another-chain", good.sign_bytes()))
    _assert_dropped(c, other_chain, "dropped_bad_signature")
    outsider = Vote(PREVOTE, 1, 0, x, c.now_ms, 7)
    outsider = dataclasses.replace(outsider, signature=signer_of(7).sign("vote", CHAIN_ID, outsider.sign_bytes()))
    _assert_dropped(c, outsider, "dropped_non_validator")
    _assert_dropped(c, dataclasses.replace(good, type=7), "dropped_malformed")
    _assert_dropped(c, dataclasses.replace(good, block_hash=b"short"), "dropped_malformed")
    _assert_dropped(c, dataclasses.replace(good, height=0), "dropped_malformed")
    wrong_proposer = dataclasses.replace(c.proposal(0), proposer_index=2)
    _assert_dropped(c, wrong_proposer, "dropped_wrong_proposer")
    forged = dataclasses.replace(c.proposal(0), signature=bytes(64))
    _assert_dropped(c, forged, "dropped_bad_signature")
    _assert_dropped(c, dataclasses.replace(c.proposal(0), block=b"\xc1not a block"), "dropped_malformed")
    _assert_dropped(c, Status(0, 0, b""), "dropped_non_validator", peer=None)
    # The good vote still counts afterwards.
    c.step(0, good, 3)
    assert c.core(0)._h.votes[(0, PREVOTE)].get(3) == good


def test_old_height_messages_are_dropped():
    c = Cluster(4)
    c.deliver()
    old = c.sent_votes(3, PREVOTE, 0)[0]
    c.advance_height(0)
    _assert_dropped(c, old, "dropped_old_height")


def test_a_laggard_is_sent_the_last_commit_and_decides_the_same_block():
    c = Cluster(4)
    c.deliver(lambda e: e.dst != 3, drop_rest=True)
    assert not c.decisions[3] and all(c.decisions[i] for i in range(3))
    c.advance_height(0)
    ready = c.step(0, Status(0, 0, b""), 3)  # node 3's status: still deciding height 1
    to_3 = [o for o in ready.messages if o.to == 3]
    assert any(isinstance(o.message, Proposal) for o in to_3)
    assert sum(isinstance(o.message, Vote) and o.message.type == PRECOMMIT for o in to_3) >= 3
    c.outbox = [Envelope(0, 3, o.message) for o in to_3]
    c.deliver()
    assert c.decisions[3][0].block_hash == c.decisions[0][0].block_hash


def test_a_peer_far_ahead_is_reported_for_block_sync():
    c = Cluster(4)
    ahead = c.sign_vote(2, PREVOTE, 0, NIL, height=6)
    ready = c.step(0, ahead, 2)
    assert ready.peers_ahead == (PeerAhead(2, 5),)
    assert c.step(0, Status(9, 0, bytes(32)), 1).peers_ahead == (PeerAhead(1, 9),)
    forged = dataclasses.replace(c.sign_vote(2, PREVOTE, 0, NIL, height=20), signature=bytes(64))
    assert c.step(0, forged, 2).peers_ahead == ()


def test_messages_for_the_next_height_wait_for_it():
    c = Cluster(4)
    c.deliver(lambda e: e.dst != 0, drop_rest=True)  # node 0 hears nothing of height 1
    for i in (1, 2, 3):
        c.advance_height(i)
    # Height 2 starts among the others; node 0 gets its proposal and prevotes early.
    c.deliver(lambda e: e.dst != 0 and (is_proposal(e) or is_vote(PREVOTE)(e)))
    c.deliver(lambda e: e.dst == 0 and e.message.height == 2 and not is_vote(PRECOMMIT)(e))
    assert c.core(0).height == 1 and c.core(0).stats["buffered_next_height"] >= 4
    # Height 1 comes to node 0 by the catch-up path; then the buffered height 2 counts.
    ready = c.step(1, Status(0, 0, b""), 0)
    c.outbox += [Envelope(1, 0, o.message) for o in ready.messages if o.to == 0]
    c.deliver(lambda e: e.dst == 0 and e.message.height == 1)
    c.advance_height(0)
    assert c.vote_of(0, PREVOTE, 0, height=2) is not None
    c.deliver()
    assert [d.height for d in c.decisions[0]] == [1, 2]
    assert c.decisions[0][1].block_hash == c.decisions[1][1].block_hash


def test_a_peer_lingering_in_an_earlier_round_is_sent_that_round_s_votes():
    timeouts = dataclasses.replace(TIMEOUTS, gossip_interval_ms=500)
    c = Cluster(4, timeouts=timeouts)
    c.drop()  # the proposal of round 0 is lost
    c.advance_time(TIMEOUTS.timeout_propose_ms)  # nil prevotes
    c.deliver(lambda e: e.dst != 2, drop_rest=True)  # node 2 hears none of round 0
    c.advance_time(TIMEOUTS.timeout_precommit_ms)
    assert c.core(0).round == 1 and c.core(2).round == 0
    c.drop()
    relays_before = c.core(0).stats.get("relays", 0)
    c.step(0, Status(0, 0, b""), 2)
    c.advance_time(500)      # a gossip: node 2 seen in round 0
    c.step(0, Status(0, 0, b""), 2)
    c.advance_time(500)      # the next gossip: still there, so relay round 0
    relayed = {(o.message.validator_index, o.message.type) for o in c.readies[0][-1].messages if o.to == 2 and isinstance(o.message, Vote)}
    assert relayed == {(i, t) for i in (0, 1, 3) for t in (PREVOTE, PRECOMMIT)}
    assert c.core(0).stats["relays"] > relays_before
    c.outbox = [Envelope(0, 2, o.message) for o in c.readies[0][-1].messages if o.to == 2]
    c.deliver(lambda e: e.dst == 2)
    c.advance_time(TIMEOUTS.timeout_prevote_ms + TIMEOUTS.timeout_precommit_ms)
    assert c.core(2).round == 1


def test_an_observer_decides_but_never_signs():
    c = Cluster(4)
    watcher = ConsensusCore(
        chain_id=CHAIN_ID,
        signer=None,
        block_source=c._source(0),
        height=1,
        validators=c.validators,
        prev_block_time_ms=c.now_ms,
        last_commit=None,
        now_ms=c.now_ms,
        config=TIMEOUTS,
    )
    c.deliver()
    for ready in c.readies[1]:
        for out in ready.messages:
            watcher.step(out.message, peer=1)
    for i in (0, 2, 3):
        for v in c.sent_votes(i, PRECOMMIT, 0):
            watcher.step(v, peer=i)
    ready = watcher.ready()
    assert ready.decision is not None and ready.decision.block_hash == c.decisions[0][0].block_hash
    assert not any(isinstance(o.message, (Vote, Proposal)) for o in ready.messages)
    assert ready.sign_state is None and watcher.validator_index is None


