"""The interfaces between the node, the contracts and the consensus core (pure).

Gathered in one place (after py-evm's `eth/abc.py`) so that `contracts/` and `consensus/`
depend on these small types only, never on storage or the network.

May import: node.errors only. Nothing here reads the clock, randomness, files or the network.
"""

from __future__ import annotations

import abc
import dataclasses
from typing import Any, Iterator, Mapping, Protocol

from node.errors import CertificateExpired, WrongRole


@dataclasses.dataclass(frozen=True)
class Credential:
    """What a verified certificate says about its holder (see node/pki.py)."""

    fingerprint: bytes
    serial: int
    name: str
    iin: str | None
    bin: str | None
    organisation: str | None
    roles: tuple[str, ...]
    public_key: bytes            # raw Ed25519 key (EDS certs) or validator key (TLS certs)
    not_before_ms: int
    not_after_ms: int

    @property
    def subject_id(self) -> str:
        """The person the signature binds: the BIN for an organisation's signatory, else the IIN."""
        return self.bin or self.iin or self.name

    def has_role(self, *roles: str) -> bool:
        return any(r in self.roles for r in roles)

    def require_role(self, *roles: str) -> None:
        if not self.has_role(*roles):
            raise WrongRole(
                f"certificate of {self.name} has role(s) {', '.join(self.roles) or 'none'}; this needs {' or '.join(roles)}"
            )

    def check_valid_at(self, time_ms: int) -> None:
        if time_ms < self.not_before_ms:
            raise CertificateExpired(f"certificate of {self.name} (serial {self.serial}) is not yet valid")
        if time_ms > self.not_after_ms:
            raise CertificateExpired(f"certificate of {self.name} (serial {self.serial}) has expired; renew it")

    def to_dict(self) -> dict:
        return {
            "fingerprint": self.fingerprint.hex(),
            "serial": self.serial,
            "name": self.name,
            "iin": self.iin,
            "bin": self.bin,
            "organisation": self.organisation,
            "roles": list(self.roles),
            "public_key": self.public_key.hex(),
            "not_before_ms": self.not_before_ms,
            "not_after_ms": self.not_after_ms,
        }


@dataclasses.dataclass(frozen=True)
class VerifiedTx:
    """A transaction whose envelope decoded, whose signatures verified against CA-issued
    certificates, and whose payload is canonical msgpack. Built once per node
    (node/envelope.py) and handed to the executor."""

    tx_id: bytes
    kind: str
    payload: Any
    nonce: int
    memo: str
    signers: tuple[Credential, ...]
    body: bytes
    envelope: bytes
    # Set by the mempool once the executor's stateless checks passed on this node; those
    # checks are deterministic, so block execution need not repeat them for such a tx.
    admitted: bool = False

    def as_admitted(self) -> "VerifiedTx":
        """This tx marked as admitted (dataclasses.replace, at a third of its cost: the
        mempool does this for every tx it takes)."""
        return VerifiedTx(self.tx_id, self.kind, self.payload, self.nonce, self.memo, self.signers, self.body, self.envelope, True)

    def signed_by(self, subject_id: str) -> bool:
        return any(s.subject_id == subject_id or s.iin == subject_id or s.bin == subject_id for s in self.signers)

    def signers_with_role(self, *roles: str) -> list[Credential]:
        return [s for s in self.signers if s.has_role(*roles)]


@dataclasses.dataclass(frozen=True)
class BlockContext:
    """What a contract may know about the block it runs in. Time comes from the header
    (BFT time), never from a clock."""

    chain_id: str
    height: int
    time_ms: int
    proposer: bytes


@dataclasses.dataclass(frozen=True)
class Event:
    """Something interested parties are notified of. `data` holds only canonical-msgpack
    types (dict, list, str, bytes, int, bool, None)."""

    kind: str
    data: Mapping[str, Any]
    recipients: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class Outcome:
    """What an applied transaction did: a code such as REGISTERED, FILED or SUSPENDED, the
    words for the registrar and the applicant, the article it rests on, and the events."""

    code: str
    message: str = ""
    article: str = ""
    events: tuple[Event, ...] = ()


class StateView(Protocol):
    """Key-value access to the ledger state for one transaction or block.

    Keys and values are bytes. There is deliberately no iteration: contracts keep their own
    index records, so execution cost never depends on the size of the state."""

    def get(self, key: bytes) -> bytes | None: ...

    def set(self, key: bytes, value: bytes) -> None: ...

    def delete(self, key: bytes) -> None: ...


class Executor(abc.ABC):
    """The application that runs on every node. `contracts/` supplies the real one.

    Every method is a deterministic function of its arguments and the state it reads.
    """

    #: Named in genesis; a node refuses a genesis naming another application.
    name: str = "abstract"

    @abc.abstractmethod
    def init_chain(self, app_state: Mapping[str, Any], state: StateView, ctx: BlockContext) -> None:
        """Write the initial state described by genesis's `app_state`."""

    @abc.abstractmethod
    def check_tx(self, tx: VerifiedTx) -> None:
        """Stateless checks before a tx enters the mempool: known kind, well-formed payload,
        required roles among the signers. Raise a TamgaError subclass to reject."""

    def begin_block(self, ctx: BlockContext, state: StateView) -> list[Event]:
        """Work that falls due at the block's time (deadlines, lapses). Default: none."""
        return []

    @abc.abstractmethod
    def deliver_tx(self, ctx: BlockContext, tx: VerifiedTx, state: StateView) -> Outcome:
        """Apply `tx`. Raise node.errors.Refusal to refuse it: its writes are then
        discarded and the refusal is recorded in the block's receipts."""


class KeyValueStore(abc.ABC):
    """An ordered byte-key store with atomic batches (LevelDB, or the in-memory twin)."""

    @abc.abstractmethod
    def get(self, key: bytes) -> bytes | None: ...

    @abc.abstractmethod
    def iterate(self, prefix: bytes = b"", *, start: bytes | None = None, reverse: bool = False) -> Iterator[tuple[bytes, bytes]]:
        """Pairs whose key starts with `prefix`, in key order (from `start` when given)."""

    @abc.abstractmethod
    def write(self, puts: Mapping[bytes, bytes], deletes: tuple[bytes, ...] | list[bytes] = (), *, sync: bool = True) -> None:
        """Apply all puts and deletes atomically; with sync, durable on return."""

    def close(self) -> None:
        pass

    # True for a store that writes a commit's history before its index (node/split_store.py):
    # a crash between the two leaves one height of history above the head.
    may_hold_next_height = False

    def drop_history_above(self, height: int) -> int:
        """Delete records of heights above `height` that a crash left half-written; the
        number deleted. A store that writes each batch atomically has none."""
        return 0

    def compaction_stats(self) -> dict[int, dict[str, float]]:
        """Per level of an LSM store: files, size_mb, seconds, read_mb, written_mb of its
        compactions since the store was opened. Empty for a store that does not compact."""
        return {}
