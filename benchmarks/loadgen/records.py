"""What happened to every transaction and request of a phase, and the figures drawn from it.

Times are `time.monotonic()` seconds of the generator process. A tx record holds:
- t_submit: just before the submission left the generator;
- t_commit: when the generator learned the tx was committed (the HTTP submission with
  `wait_ms` answered 200, or gRPC WaitTx returned);
- t_notified: when the notification of its event reached the subscriber that cares (the
  bank's event stream for the bank's requests, the Ministry's for the others).
Outcomes: applied (committed, the contract applied it), refused (committed with a refusal
receipt), error (not accepted: a typed error from the node, or the transport failed),
timeout (accepted but not seen committed within the wait). Nothing is dropped: every
submission the generator made has a record.
"""

from __future__ import annotations

import collections
import dataclasses
import math

from benchmarks.common import latency_summary

COMMITTED = ("applied", "refused")


@dataclasses.dataclass
class TxRecord:
    label: str
    flow: str
    node: str
    t_submit: float
    t_commit: float | None = None
    t_notified: float | None = None
    notify: str = ""
    signatures: int = 1
    outcome: str = ""
    code: str = ""
    height: int = 0
    tx_id: bytes = b""

    @property
    def commit_ms(self) -> float | None:
        return None if self.t_commit is None else (self.t_commit - self.t_submit) * 1000

    @property
    def notify_ms(self) -> float | None:
        return None if self.t_notified is None else (self.t_notified - self.t_submit) * 1000


@dataclasses.dataclass
class RequestRecord:
    kind: str
    t_scheduled: float
    t_start: float
    t_end: float | None = None
    t_notified: float | None = None
    outcome: str = ""            # outcome of its last step
    code: str = ""
    steps: int = 0

    @property
    def ms(self) -> float | None:
        return None if self.t_end is None else (self.t_end - self.t_start) * 1000

    @property
    def notify_ms(self) -> float | None:
        return None if self.t_notified is None else (self.t_notified - self.t_start) * 1000


@dataclasses.dataclass
class CheckRecord:
    t_start: float
    t_end: float
    ok: bool
    code: str = ""

    @property
    def ms(self) -> float:
        return (self.t_end - self.t_start) * 1000


class Recorder:
    def __init__(self) -> None:
        self.txs: list[TxRecord] = []
        self.requests: list[RequestRecord] = []
        self.checks: list[CheckRecord] = []
        self.start_lag_ms: list[float] = []     # open loop: how late requests started (generator overload)

    # --- counting ------------------------------------------------------------------------
    def outcomes(self) -> dict[str, int]:
        c = collections.Counter(t.outcome or "unfinished" for t in self.txs)
        return {k: c.get(k, 0) for k in ("applied", "refused", "error", "timeout", "unfinished")}

    def codes(self, outcome: str) -> dict[str, int]:
        return dict(collections.Counter(t.code for t in self.txs if t.outcome == outcome).most_common())

    def committed(self) -> list[TxRecord]:
        return [t for t in self.txs if t.outcome in COMMITTED]

    def notifications_missing(self) -> int:
        """Applied txs whose notification never arrived (refused txs emit no events)."""
        return sum(1 for t in self.txs if t.outcome == "applied" and t.notify and t.t_notified is None)

    # --- figures ---------------------------------------------------------------------------
    def commit_latency(self, window: tuple[float, float] | None = None, label: str | None = None) -> dict:
        return latency_summary([t.commit_ms for t in self._in(window, label) if t.outcome in COMMITTED])

    def notify_latency(self, window: tuple[float, float] | None = None, label: str | None = None) -> dict:
        return latency_summary([t.notify_ms for t in self._in(window, label) if t.outcome == "applied" and t.notify_ms is not None])

    def _in(self, window, label):
        for t in self.txs:
            if label is not None and t.label != label:
                continue
            if window is not None and not (window[0] <= t.t_submit < window[1]):
                continue
            yield t

    def committed_rate(self, window: tuple[float, float]) -> float:
        """Committed txs (applied + refused) whose commit fell in the window, per second."""
        n = sum(1 for t in self.txs if t.outcome in COMMITTED and window[0] <= t.t_commit < window[1])
        return n / max(1e-9, window[1] - window[0])

    def timeline(self, t0: float, bucket_s: float = 1.0) -> list[tuple[float, int]]:
        """(seconds since t0, txs committed in that bucket) for the throughput plot."""
        c = collections.Counter(math.floor((t.t_commit - t0) / bucket_s) for t in self.txs if t.outcome in COMMITTED)
        if not c:
            return []
        return [(k * bucket_s, c.get(k, 0)) for k in range(min(c), max(c) + 1)]

    def request_summary(self) -> dict:
        out = {}
        for kind in sorted({r.kind for r in self.requests}):
            rs = [r for r in self.requests if r.kind == kind]
            done = [r for r in rs if r.outcome in ("applied",)]
            out[kind] = {
                "requests": len(rs),
                "completed": len(done),
                "not_completed": collections.Counter(f"{r.outcome or 'unfinished'} {r.code}".strip() for r in rs if r.outcome != "applied"),
                "latency": latency_summary([r.ms for r in done if r.ms is not None]),
                "to_notification": latency_summary([r.notify_ms for r in done if r.notify_ms is not None]),
            }
        return out

    def by_label(self) -> dict:
        out = {}
        for label in sorted({t.label for t in self.txs}):
            out[label] = {
                "txs": sum(1 for t in self.txs if t.label == label),
                "outcomes": {k: v for k, v in collections.Counter(t.outcome for t in self.txs if t.label == label).items()},
                "commit": self.commit_latency(label=label),
                "notification": self.notify_latency(label=label),
            }
        return out

    def check_latency(self) -> dict:
        return {**latency_summary([c.ms for c in self.checks if c.ok]), "errors": sum(1 for c in self.checks if not c.ok),
                "error_codes": dict(collections.Counter(c.code for c in self.checks if not c.ok))}
