"""One simulation run: nodes, network, faults and checks, from one seed (test code)."""

from __future__ import annotations

import dataclasses
import random
import time
from typing import Callable

from consensus.commit import verify_commit
from consensus.messages import PRECOMMIT, CommitCertificate, Message, Proposal, Status, Vote
from consensus.state_machine import ConsensusCore
from consensus.timeouts import TimeoutConfig
from consensus.validators import Validator, ValidatorSet
from node.errors import InvalidBlock
from node.hashing import sha256
from node.signing import Signer
from tests.simulation.bugs import IgnoreLockCore, QuorumOf2fSet
from tests.simulation.checker import Checker
from tests.simulation.network import Clock, LinkFaults, Network, Partition
from tests.simulation.node import Committed, SimNode
from tests.simulation.scenario import Scenario, make_scenario

CHAIN_ID = "tamga-sim"
EPOCH_MS = 1_700_000_000_000          # virtual time 0 on the nodes' wall clocks
TIMEOUTS = TimeoutConfig(
    timeout_propose_ms=1000,
    timeout_propose_delta_ms=200,
    timeout_prevote_ms=500,
    timeout_prevote_delta_ms=200,
    timeout_precommit_ms=500,
    timeout_precommit_delta_ms=200,
    gossip_interval_ms=500,
    catchup_interval_ms=500,
)
COMMIT_DELAY_MS = 500                 # pause between commit and advance (timeout_commit)
HEALED_DELAY_MAX_MS = 50              # message delay after the network heals
LIVENESS_BLOCKS = 2                   # blocks every honest node must commit after healing...
LIVENESS_BOUND_MS = 30_000            # ...within this much virtual time


@dataclasses.dataclass
class Result:
    scenario: Scenario
    bug: str | None
    violations: list[str]
    heights: dict[str, int]
    end_ms: int
    healed_live_ms: int | None        # virtual ms from healing until every honest node had its new blocks
    stats: dict[str, int]
    wall_s: float

    @property
    def ok(self) -> bool:
        return not self.violations

    def summary(self) -> str:
        s = self.stats
        lines = [
            f"{self.scenario.describe()}" + (f"; PLANTED BUG {self.bug}" if self.bug else ""),
            f"  heights {min(self.heights.values())}..{max(self.heights.values())}; virtual {self.end_ms} ms; "
            f"live {self.healed_live_ms} ms after healing; max decision round {s.get('max_round', 0)}; wall {self.wall_s:.2f} s",
            f"  messages sent {s['sent']} dropped {s['dropped']} duplicated {s['duplicated']}; crashes {s['crashes']}; "
            f"block syncs {s['syncs']} ({s['synced_commits']} blocks); evidence {s['evidence']}; "
            f"equivocations seen {s.get('equivocations', 0)}; restarts resumed {s.get('resumed', 0)}, "
            f"identical re-sends {s.get('sign_resent_vote', 0) + s.get('sign_resent_proposal', 0)}, "
            f"refusals {s.get('sign_refused_vote', 0) + s.get('sign_refused_proposal', 0)}; "
            f"catch-ups {s.get('catchups_sent', 0)}; relays {s.get('relays', 0)}"
            + (f"; planted bug changed {s.get('planted_lock_ignored', 0)} votes" if self.bug == "lock" else ""),
        ]
        lines += [f"  VIOLATION {v}" for v in self.violations]
        if self.violations:
            lines.append(f"  replay: python -m tests.simulation.run --seed {self.scenario.seed}" + (f" --bug {self.bug}" if self.bug else ""))
        return "\n".join(lines)


class Simulation:
    def __init__(self, scenario: Scenario, bug: str | None = None, trace: Callable[[str], None] | None = None):
        self.scenario = scenario
        self.bug = bug
        self.trace = trace
        self.chain_id = CHAIN_ID
        self.genesis_time_ms = EPOCH_MS
        self.timeouts = TIMEOUTS
        self.commit_delay_ms = COMMIT_DELAY_MS
        self.clock = Clock()
        self.network = Network(
            self.clock,
            random.Random(scenario.seed ^ 0x5EED5EED),
            LinkFaults(
                drop=scenario.drop,
                extra_drop=scenario.precommit_drop,
                duplicate=scenario.duplicate,
                delay_min_ms=1,
                delay_max_ms=scenario.delay_max_ms,
                long_delay=scenario.long_delay,
            ),
            lossy=lambda m: isinstance(m, Vote) and m.type == PRECOMMIT,
            cut=self._round_cut,
        )
        self._round_groups: dict[tuple[int, int], dict[str, int]] = {}
        self.network.partitions = [
            Partition(p.start_ms, p.end_ms, frozenset(p.side_a), frozenset(p.side_b), p.symmetric) for p in scenario.partitions
        ]
        signers = [Signer(sha256(f"tamga-sim-validator-{i}".encode())) for i in range(scenario.n)]
        members = [Validator(s.public_key, 1) for s in signers]
        self.validators = ValidatorSet(members)
        self.node_validators = QuorumOf2fSet(members) if bug == "quorum" else self.validators
        self.core_class: type[ConsensusCore] = IgnoreLockCore if bug == "lock" else ConsensusCore
        self.checker = Checker(CHAIN_ID, self.validators, scenario.byzantine)
        self.skew = dict(scenario.clock_skew_ms)
        self.nodes: dict[str, SimNode] = {}
        for name in scenario.names():
            index = int(name[1:].rstrip("ab"))
            self.nodes[name] = SimNode(self, name, index, signers[index], honest=index != scenario.byzantine)
        self.honest = [self.nodes[name] for name in scenario.honest_names()]
        self.by_index = {node.index: node for node in self.honest}
        self.twin_of: dict[str, str] = {}
        self.healed_at: int | None = None
        self.live_target = 0
        self.live_at: int | None = None
        self.totals: dict[str, int] = {}
        self._cert_ok: dict[bytes, bool] = {}

    # --- wiring -------------------------------------------------------------------------
    def now_for(self, node: SimNode) -> int:
        """The node's wall clock: virtual time plus its skew."""
        return EPOCH_MS + self.clock.now_ms + self.skew[node.name]

    def note(self, text: str) -> None:
        if self.trace is not None:
            self.trace(f"[{self.clock.now_ms:>6} ms] {text}")

    def route(self, src: SimNode, index: int) -> SimNode | None:
        """Which physical node gets src's message for validator `index` (twins see only
        their half of the network and never each other)."""
        byz = self.scenario.byzantine
        if index != byz:
            dst = self.by_index[index]
            if src.index == byz and self.twin_of.get(dst.name) != src.name:
                return None
            return dst
        if src.index == byz:
            return None
        return self.nodes[self.twin_of[src.name]]

    def send(self, src: SimNode, to: int | None, message: Message) -> None:
        self.checker.on_sent(src, message)
        for index in range(self.scenario.n) if to is None else (to,):
            if index == src.index:
                continue
            dst = self.route(src, index)
            if dst is not None:
                self.network.transmit(src.name, dst.name, dst.receive, message, src.index)

    def send_sync_request(self, src: SimNode, peer: int, from_height: int) -> None:
        dst = self.route(src, peer) if peer != src.index else None
        if dst is not None:
            self.network.transmit(src.name, dst.name, self._serve_sync, dst, src, from_height)

    def _serve_sync(self, server: SimNode, client: SimNode, from_height: int) -> None:
        if server.up:
            entries: list[Committed] = server.serve_sync(from_height)
            if entries:
                self.network.transmit(server.name, client.name, client.on_sync_answer, entries)

    def _round_cut(self, src: str, dst: str, message: object) -> bool:
        """Twins-style per-round partitions: before healing, the votes, proposals and status
        of each (height, round) flow only inside that round's groups, drawn from the seed."""
        if not self.scenario.round_partitions or self.healed_at is not None:
            return False
        if isinstance(message, (Vote, Proposal)):
            key = (message.height, message.round)
        elif isinstance(message, Status):
            key = (message.height + 1, message.round)
        else:
            return False
        groups = self._round_groups.get(key)
        if groups is None:
            rng = random.Random(f"{self.scenario.seed}:{key[0]}:{key[1]}")
            names = sorted(self.nodes)
            groups = self._round_groups[key] = {name: rng.randrange(2) for name in names}
            if rng.random() < 0.3:  # sometimes a round without partition
                groups.update((name, 0) for name in names)
        return groups[src] != groups[dst]

    def node_cert_ok(self, cert: CommitCertificate) -> bool:
        """The nodes' own certificate check (with the planted quorum bug, the buggy one)."""
        key = cert.encode()
        ok = self._cert_ok.get(key)
        if ok is None:
            try:
                verify_commit(cert, self.node_validators, self.chain_id)
                ok = True
            except InvalidBlock:
                ok = False
            self._cert_ok[key] = ok
        return ok

    def absorb_stats(self, stats: dict[str, int]) -> None:
        for k, v in stats.items():
            self.totals[k] = self.totals.get(k, 0) + v

    # --- scheduled faults ---------------------------------------------------------------
    def _crash(self, name: str, point: str) -> None:
        node = self.nodes[name]
        if not node.up:
            return
        if point == "idle":
            self.note(f"{name} crashes")
            node.crash()
        else:
            node.crash_point = point

    def _restart(self, name: str) -> None:
        node = self.nodes[name]
        node.crash_point = None
        if not node.up:
            self.note(f"{name} restarts at height {node.committed_height + 1}")
            node.start()

    def _split_twins(self, side_a: tuple[str, ...]) -> None:
        byz = self.scenario.byzantine
        for node in self.honest:
            self.twin_of[node.name] = f"v{byz}a" if node.name in side_a else f"v{byz}b"
        self.note(f"twins split: v{byz}a sees {', '.join(side_a)}")

    def _heal(self) -> None:
        self.network.faults = LinkFaults(delay_min_ms=1, delay_max_ms=min(HEALED_DELAY_MAX_MS, self.scenario.delay_max_ms))
        self.network.partitions = []
        for node in self.honest:
            self._restart(node.name)
        self.healed_at = self.clock.now_ms
        self.live_target = max(n.committed_height for n in self.honest) + LIVENESS_BLOCKS
        self.note(f"network healed; every honest node must reach height {self.live_target}")

    def _live_enough(self) -> bool:
        if self.healed_at is None:
            return False
        if all(n.committed_height >= self.live_target for n in self.honest):
            self.live_at = self.clock.now_ms
            return True
        return False

    # --- the run ------------------------------------------------------------------------
    def run(self) -> Result:
        started = time.perf_counter()
        sc = self.scenario
        for at, side in sc.twin_splits:
            self.clock.at(at, self._split_twins, side)
        if sc.twin_splits and sc.twin_splits[0][0] == 0:
            self._split_twins(sc.twin_splits[0][1])
        for c in sc.crashes:
            self.clock.at(c.at_ms, self._crash, c.node, c.point)
            self.clock.at(c.restart_ms, self._restart, c.node)
        self.clock.at(sc.heal_ms, self._heal)
        for node in self.nodes.values():
            node.start()
        self.clock.run_until(sc.heal_ms + LIVENESS_BOUND_MS, stop=self._live_enough)
        if self.live_at is None:
            for node in self.honest:
                if node.committed_height < self.live_target:
                    self.checker.fail(
                        f"LIVENESS: {node.name} is at height {node.committed_height} {LIVENESS_BOUND_MS} ms after healing; "
                        f"every honest node should have reached {self.live_target}"
                    )
        for node in self.nodes.values():
            if node.core is not None:
                self.absorb_stats(node.core.stats)
        stats = dict(self.totals)
        stats.update(
            sent=self.network.sent,
            dropped=self.network.dropped,
            duplicated=self.network.duplicated,
            crashes=sum(n.crashes for n in self.nodes.values()),
            syncs=sum(n.syncs for n in self.nodes.values()),
            synced_commits=self.checker.synced_commits,
            evidence=self.checker.evidence,
            commits=self.checker.commits,
            max_round=max((e.certificate.round for n in self.nodes.values() for e in n.disk.log), default=0),
        )
        return Result(
            scenario=sc,
            bug=self.bug,
            violations=list(self.checker.violations),
            heights={name: n.committed_height for name, n in self.nodes.items()},
            end_ms=self.clock.now_ms,
            healed_live_ms=None if self.live_at is None or self.healed_at is None else self.live_at - self.healed_at,
            stats=stats,
            wall_s=time.perf_counter() - started,
        )


def run_seed(seed: int, bug: str | None = None, trace: Callable[[str], None] | None = None) -> Result:
    return Simulation(make_scenario(seed), bug=bug, trace=trace).run()
