"""The properties every simulation run must keep (test code).

Checked independently of consensus/ (its own certificate check, straight on node.signing),
so that a bug in the core's own checks cannot hide itself:
  - agreement: no two nodes ever commit different blocks at one height, whether decided by
    consensus or fetched by block sync, before or after a restart;
  - every committed block carries a certificate for it: its height and hash, valid
    precommit signatures from distinct validators with more than 2/3 of the power;
  - block time strictly increases along the chain (BFT time);
  - no honest validator sends two different votes for one (height, round, type), nor two
    different proposals for one (height, round), across restarts;
  - evidence only ever names the Byzantine validator;
  - liveness: after the network heals, every honest node commits new blocks within a bound.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from consensus.messages import PRECOMMIT, CommitCertificate, Evidence, Proposal, Vote
from consensus.validators import ValidatorSet
from node import signing

if TYPE_CHECKING:
    from tests.simulation.node import SimNode


class Checker:
    def __init__(self, chain_id: str, validators: ValidatorSet, byzantine: int | None):
        self.chain_id = chain_id
        self.validators = validators          # the real set, even when a planted bug uses another
        self.byzantine = byzantine
        self.violations: list[str] = []
        self.committed: dict[int, tuple[bytes, str]] = {}       # height -> (hash, first node)
        self.votes: dict[tuple[int, int, int, int], bytes] = {}  # (validator, height, round, type) -> hash
        self.proposals: dict[tuple[int, int, int], bytes] = {}   # (validator, height, round) -> signature
        self._cert_cache: dict[bytes, str | None] = {}
        self.commits = 0
        self.synced_commits = 0
        self.evidence = 0

    def fail(self, message: str) -> None:
        if len(self.violations) < 50:
            self.violations.append(message)

    # --- commits ----------------------------------------------------------------------
    def on_commit(
        self, node: "SimNode", height: int, block: bytes, block_hash: bytes, cert: CommitCertificate, time_ms: int, how: str
    ) -> None:
        self.commits += 1
        self.synced_commits += how == "sync"
        first = self.committed.setdefault(height, (block_hash, node.name))
        if first[0] != block_hash:
            self.fail(
                f"AGREEMENT: {node.name} committed {block_hash.hex()[:12]} at height {height} ({how}); "
                f"{first[1]} committed {first[0].hex()[:12]}"
            )
        if cert.height != height or cert.block_hash != block_hash:
            self.fail(f"CERTIFICATE: {node.name}'s certificate at {height} is for another height or block")
        problem = self.certificate_problem(cert)
        if problem:
            self.fail(f"CERTIFICATE: {node.name} at height {height} ({how}): {problem}")
        if node.disk.log and time_ms <= node.disk.log[-1].time_ms:
            self.fail(f"TIME: {node.name} block {height} has time {time_ms} <= {node.disk.log[-1].time_ms} of block {height - 1}")

    def on_recommit(self, node: "SimNode", height: int, block_hash: bytes) -> None:
        if node.hash_at(height) != block_hash:
            self.fail(f"AGREEMENT: {node.name} decided another block at its committed height {height}")

    def certificate_problem(self, cert: CommitCertificate) -> str | None:
        key = cert.encode()
        if key not in self._cert_cache:
            self._cert_cache[key] = self._certificate_problem(cert)
        return self._cert_cache[key]

    def _certificate_problem(self, cert: CommitCertificate) -> str | None:
        seen: list[int] = []
        power = 0
        for s in cert.signatures:
            if not 0 <= s.validator_index < len(self.validators) or s.validator_index in seen:
                return f"validator #{s.validator_index} unknown or repeated"
            seen.append(s.validator_index)
            payload = signing.vote_sign_bytes(PRECOMMIT, cert.height, cert.round, cert.block_hash, s.timestamp_ms)
            key = self.validators[s.validator_index].public_key
            if not signing.verify(key, s.signature, "vote", self.chain_id, payload):
                return f"bad signature of validator #{s.validator_index}"
            power += self.validators[s.validator_index].power
        if power * 3 <= self.validators.total_power * 2:
            return f"{len(seen)} precommits with power {power} of {self.validators.total_power}: not more than 2/3"
        return None

    # --- what honest validators sign --------------------------------------------------
    def on_sent(self, node: "SimNode", message: object) -> None:
        if not node.honest:
            return
        if isinstance(message, Vote) and message.validator_index == node.index:
            key = (node.index, message.height, message.round, message.type)
            first = self.votes.setdefault(key, message.block_hash)
            if first != message.block_hash:
                self.fail(f"DOUBLE SIGN: honest {node.name} sent two different votes for height/round/type {key[1:]}")
        elif isinstance(message, Proposal) and message.proposer_index == node.index:
            pkey = (node.index, message.height, message.round)
            first_sig = self.proposals.setdefault(pkey, message.signature)
            if first_sig != message.signature:
                self.fail(f"DOUBLE PROPOSAL: honest {node.name} sent two different proposals for {pkey[1:]}")

    def on_evidence(self, node: "SimNode", evidence: Evidence) -> None:
        self.evidence += 1
        culprit = evidence.first.validator_index
        if culprit != self.byzantine:
            self.fail(f"EVIDENCE: {node.name} holds evidence against honest validator #{culprit}")
        for v in (evidence.first, evidence.second):
            key = self.validators[v.validator_index].public_key
            if not signing.verify(key, v.signature, "vote", self.chain_id, v.sign_bytes()):
                self.fail(f"EVIDENCE: {node.name} holds evidence with a bad signature")
