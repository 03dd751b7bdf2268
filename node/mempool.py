"""Pending transactions: verified once, de-duplicated, handed to the proposer in order.

An envelope is admitted after node/envelope.py verified it, its signers' certificates are
valid now and not revoked at the head, the executor's stateless checks pass, and its tx id
is neither pending nor committed (replay protection). Admitted txs are kept by the hash of
their envelope bytes so that a proposal carrying them is not verified a second time.
May import: node.*.
"""

from __future__ import annotations

import collections
import time
from typing import Callable

from node.chain import Chain
from node.envelope import EnvelopeVerifier
from node.errors import CertificateRevoked, DuplicateTx, MempoolFull
from node.hashing import sha256
from node.interfaces import Executor, VerifiedTx

MEMPOOL_TXS_MAX = 200_000
REVOKED_KEPT = 100_000     # signers whose revocation status is remembered (a few MB)


class Mempool:
    def __init__(
        self,
        chain: Chain,
        verifier: EnvelopeVerifier,
        executor: Executor,
        *,
        txs_max: int = MEMPOOL_TXS_MAX,
        now_ms: Callable[[], int] = lambda: int(time.time() * 1000),
    ):
        self.chain = chain
        self.verifier = verifier
        self.executor = executor
        self.txs_max = txs_max
        self.now_ms = now_ms
        self._pending: "collections.OrderedDict[bytes, VerifiedTx]" = collections.OrderedDict()  # tx id -> tx
        self._by_envelope: dict[bytes, VerifiedTx] = {}
        self._envelope_hash: dict[bytes, bytes] = {}  # tx id -> key in _by_envelope (not hashed twice)
        self._revoked_at = -1
        self._revoked: dict[bytes, bool] = {}

    def __len__(self) -> int:
        return len(self._pending)

    def add(self, envelope: bytes) -> VerifiedTx:
        """Admit one envelope or raise the typed error that explains why not."""
        if len(self._pending) >= self.txs_max:
            raise MempoolFull(f"the node holds {self.txs_max} pending transactions; retry shortly")
        envelope_hash = sha256(envelope)
        known = self._by_envelope.get(envelope_hash)
        if known is not None:
            raise DuplicateTx(f"transaction {known.tx_id.hex()} is already pending")
        tx = self.verifier.verify(envelope)
        if tx.tx_id in self._pending:
            raise DuplicateTx(f"transaction {tx.tx_id.hex()} is already pending")
        if self.chain.tx_location(tx.tx_id) is not None:
            raise DuplicateTx(f"transaction {tx.tx_id.hex()} is already committed; a tx id is accepted once")
        now = self.now_ms()
        for signer in tx.signers:
            signer.check_valid_at(now)
            if self._is_revoked(signer.fingerprint):
                raise CertificateRevoked(f"certificate of {signer.name} (serial {signer.serial}) has been revoked")
        self.executor.check_tx(tx)
        tx = tx.as_admitted()
        self._pending[tx.tx_id] = tx
        self._by_envelope[envelope_hash] = tx
        self._envelope_hash[tx.tx_id] = envelope_hash
        return tx

    def get(self, tx_id: bytes) -> VerifiedTx | None:
        """The pending tx with this id, if any."""
        return self._pending.get(tx_id)

    def _is_revoked(self, fingerprint: bytes) -> bool:
        """Revocation at the head, remembered until a committed block writes a revocation (a
        state-tree read per signer per tx otherwise; block execution checks again at its
        own point)."""
        epoch = self.chain.revocation_epoch
        if epoch != self._revoked_at or len(self._revoked) >= REVOKED_KEPT:
            self._revoked_at, self._revoked = epoch, {}
        known = self._revoked.get(fingerprint)
        if known is None:
            known = self._revoked[fingerprint] = self.chain.is_revoked(fingerprint)
        return known

    def lookup(self, envelope: bytes) -> VerifiedTx | None:
        """The verified tx for these envelope bytes, if this node admitted it."""
        return self._by_envelope.get(sha256(envelope))

    def verify_for_block(self, envelope: bytes) -> VerifiedTx:
        """For validating a proposal: what we already verified, else verify now."""
        return self.lookup(envelope) or self.verifier.verify(envelope)

    def reap(self, txs_max: int, bytes_max: int) -> list[VerifiedTx]:
        """The oldest pending txs, up to the limits, in arrival order (left pending)."""
        out: list[VerifiedTx] = []
        size = 0
        for tx in self._pending.values():
            if len(out) >= txs_max or size + len(tx.envelope) > bytes_max:
                break
            out.append(tx)
            size += len(tx.envelope)
        return out

    def remove_committed(self, txs: list[VerifiedTx]) -> None:
        pending_pop, hash_pop, by_envelope_pop = self._pending.pop, self._envelope_hash.pop, self._by_envelope.pop
        for tx in txs:
            if pending_pop(tx.tx_id, None) is not None:
                by_envelope_pop(hash_pop(tx.tx_id), None)

    def pending(self) -> list[VerifiedTx]:
        return list(self._pending.values())
