"""Round timeouts and the deadline queue, in virtual milliseconds (pure).

Timeouts grow linearly with the round (Algorithm 1 assumes they eventually exceed the
unknown message delay after GST): timeout_x(round) = timeout_x_ms + round * timeout_x_delta_ms.
The core never reads a clock: tick(now_ms) tells it the time and it fires what is due.

May import: the standard library's heapq and dataclasses only.
"""

from __future__ import annotations

import dataclasses
import enum
import heapq


class Timeout(enum.IntEnum):
    PROPOSE = 0
    PREVOTE = 1
    PRECOMMIT = 2


@dataclasses.dataclass(frozen=True, slots=True)
class TimeoutConfig:
    timeout_propose_ms: int = 3000
    timeout_propose_delta_ms: int = 500
    timeout_prevote_ms: int = 1000
    timeout_prevote_delta_ms: int = 500
    timeout_precommit_ms: int = 1000
    timeout_precommit_delta_ms: int = 500
    # Re-broadcast own votes, the round's proposal and a status this often, so that lost
    # messages are eventually replaced (Tendermint relies on gossip for liveness).
    gossip_interval_ms: int = 1000
    # Answer one lagging peer with the last commit at most this often.
    catchup_interval_ms: int = 1000

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            assert isinstance(value, int) and value >= 0, f"{field.name} must be a non-negative integer"
        assert self.gossip_interval_ms > 0

    def duration_ms(self, kind: Timeout, round_: int) -> int:
        if kind is Timeout.PROPOSE:
            return self.timeout_propose_ms + round_ * self.timeout_propose_delta_ms
        if kind is Timeout.PREVOTE:
            return self.timeout_prevote_ms + round_ * self.timeout_prevote_delta_ms
        return self.timeout_precommit_ms + round_ * self.timeout_precommit_delta_ms


class Timers:
    """Scheduled timeouts ordered by (deadline, order of scheduling): deterministic."""

    __slots__ = ("_heap", "_seq")

    def __init__(self) -> None:
        self._heap: list[tuple[int, int, Timeout, int, int]] = []
        self._seq = 0

    def schedule(self, deadline_ms: int, kind: Timeout, height: int, round_: int) -> None:
        self._seq += 1
        heapq.heappush(self._heap, (deadline_ms, self._seq, kind, height, round_))

    def pop_due(self, now_ms: int) -> tuple[Timeout, int, int] | None:
        """The earliest timeout due at `now_ms`, or None."""
        if self._heap and self._heap[0][0] <= now_ms:
            _, _, kind, height, round_ = heapq.heappop(self._heap)
            return kind, height, round_
        return None

    def drop_below(self, height: int) -> None:
        """Forget timeouts of heights already left behind."""
        self._heap = [t for t in self._heap if t[3] >= height]
        heapq.heapify(self._heap)

    def next_deadline_ms(self) -> int | None:
        return self._heap[0][0] if self._heap else None

    def __len__(self) -> int:
        return len(self._heap)
