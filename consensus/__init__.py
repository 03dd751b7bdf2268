"""Tendermint's BFT consensus algorithm as a pure state machine.

Inputs are messages and timer ticks; outputs are messages to send, state to persist and
decisions (design decision 5, after etcd raft's Step/Ready). The runtime that drives it
over gRPC is node/runner.py; the deterministic simulation is in tests/.

May import: node.errors, node.hashing, node.signing, node.codec, node.interfaces,
proto.tamga_pb2 (messages.py only) and the standard library's pure modules. Never the
clock, randomness, files, sockets or threads.

Modules
  state_machine  ConsensusCore: Algorithm 1 of Buchman, Kwon, Milosevic (2018), gossip
  height_state   what is known about the height being decided (votes, proposals, blocks)
  vote_set       the votes of one (height, round, type) with O(1) quorum tallies
  validators     ValidatorSet: powers, quorum (> 2/3), f+1 (> 1/3), proposer, set hash
  messages       Vote, Proposal, Status, CommitCertificate, Evidence <-> proto.tamga_pb2
  sign_state     SignState: what was last signed, and the lock; Save/Load; the guard
  ready          Ready, Outbound, Decision, PeerAhead
  block_source   BlockSource: what the core asks the application (propose/inspect/validate)
  commit         certificate_from_votes, verify_commit (for block sync and validation)
  bft_time       bft_time(commit_sigs, validators): block h+1's time from h's commit
  timeouts       TimeoutConfig (timeout_x_ms + round * timeout_x_delta_ms), Timers

Driving it (one task; no locks needed):
    core = ConsensusCore(chain_id=..., signer=Signer(seed), block_source=app,
                         height=last_height + 1, validators=ValidatorSet.of(genesis_validators),
                         prev_block_time_ms=time_of(last_block), last_commit=cert_of(last_block),
                         now_ms=wall_clock_ms(), sign_state=SignState.decode(stored) or None)
    loop:
        core.tick(wall_clock_ms())              # every few ms, or at core.next_deadline_ms()
        core.step(Vote/Proposal/Status, peer=i) # messages.from_peer_message(pb), i = sender's index
        ready = core.ready()
        1. if ready.sign_state: store ready.sign_state.encode() under one key, synced
        2. send ready.messages (to=None: every peer)   messages.to_peer_message(m)
        3. if ready.decision: store block + decision.certificate.encode() (synced), apply
        4.   core.advance_height(h + 1, validators, time of block h, decision.certificate)
        ready.evidence -> evidence pool; ready.peers_ahead -> block sync from that peer, then
        advance_height(...) past the synced blocks.
Persisting the sign state before sending is what makes "never two different votes for one
height, round and type, even across a crash" hold; losing it (a restored backup) can make
the validator equivocate.
"""
