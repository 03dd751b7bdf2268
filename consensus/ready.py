"""What the core hands the runtime after inputs: the Ready batch (pure data).

Apply a Ready in this order (as etcd raft's Ready, CometBFT's finalizeCommit):
  1. persist `sign_state` durably (sync) when it is not None;
  2. send `messages` (to=None: every peer; to=i: the peer of validator i);
  3. when `decision` is set: store the block and its certificate (sync), apply it;
  4. then call core.advance_height(decision.height + 1, ...).
`evidence` goes to the node's evidence pool; `peers_ahead` are hints to start block sync.

May import: consensus.messages, consensus.sign_state.
"""

from __future__ import annotations

import dataclasses

from consensus.messages import CommitCertificate, Evidence, Message
from consensus.sign_state import SignState


@dataclasses.dataclass(frozen=True, slots=True)
class Outbound:
    to: int | None           # validator index of the peer, or None to broadcast
    message: Message


@dataclasses.dataclass(frozen=True, slots=True)
class Decision:
    height: int
    round: int
    block: bytes
    block_hash: bytes
    certificate: CommitCertificate


@dataclasses.dataclass(frozen=True, slots=True)
class PeerAhead:
    """Peer `peer` has committed at least `height`, which this node has not: if the gap is
    more than one block, consensus alone will not catch up (peers answer laggards only with
    their latest commit), so the runtime should block-sync from that peer. Unverified hint."""

    peer: int
    height: int


@dataclasses.dataclass(frozen=True, slots=True)
class Ready:
    sign_state: SignState | None = None
    messages: tuple[Outbound, ...] = ()
    decision: Decision | None = None
    evidence: tuple[Evidence, ...] = ()
    peers_ahead: tuple[PeerAhead, ...] = ()

    def is_empty(self) -> bool:
        return not (self.sign_state is not None or self.messages or self.decision or self.evidence or self.peers_ahead)
