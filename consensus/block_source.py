"""What the consensus core needs from the application: building and checking blocks (pure
interface).

Values are opaque to the core: it never parses a block. The node's block builder/validator
(which executes transactions) implements this; the simulator has a trivial one. Every method
must be deterministic and synchronous: the core calls it inside step()/tick().

May import: nothing of Tamga beyond consensus.messages (for types).
"""

from __future__ import annotations

import dataclasses
from typing import Protocol

from consensus.messages import CommitCertificate


@dataclasses.dataclass(frozen=True, slots=True)
class BlockMeta:
    """What the core reads off a block through the application: its hash (what votes and
    proposals sign) and its header time (BFT time, so that votes can be later than it)."""

    hash: bytes
    time_ms: int


class BlockSource(Protocol):
    def propose(self, height: int, round_: int, last_commit: CommitCertificate | None) -> bytes:
        """A new block for `height` (this node is the proposer of `round_`), built on the
        previous block whose commit is `last_commit` (None at height 1). Its time must be
        bft_time(last_commit) (the genesis time at height 1)."""
        ...

    def inspect(self, block: bytes) -> BlockMeta | None:
        """Cheap: the block's hash and header time, or None when the bytes are not a block.
        Called for every proposal received, before its signature is checked."""
        ...

    def validate(self, height: int, block: bytes) -> bool:
        """Full check of a block for `height` (may execute its transactions). Called at
        most once per distinct block per height, only when a vote depends on it."""
        ...
