"""The chain: executes, builds, validates and commits blocks on one node's store.

Consensus (or the single-node sealer) decides *which* block comes next; this module knows
what a valid block is and how it is stored:

- `build_block` (proposer): order the given txs, execute them, fill in the header.
- `validate_block` (every validator): check the header against the head, the last commit
  and the tx root, re-execute, compare the state and results roots.
- `commit`: the block, its commit certificate, receipts, tx index, the new state-tree nodes
  and the head pointer in ONE synced LevelDB batch (design decision 7).

Execution is deterministic: block time comes from the previous commit's votes, and each tx
runs in its own overlay that is dropped when the contract refuses it.
May import: node.*, proto.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
from typing import Callable, Iterable, Sequence

from google.protobuf.message import DecodeError

from node import codec, merkle, schema
from node.commit import bft_time, decode_commit, verify_commit
from node.errors import CertificateRevoked, InvalidBlock, MalformedInput, NotFound, Refusal, StoreCorrupted, TamgaError
from node.genesis import Genesis
from node.interfaces import BlockContext, Event, Executor, KeyValueStore, VerifiedTx
from node.logs import fields
from node.state import Overlay, ReadOnlyState
from node.state_tree import EMPTY_ROOT, StateTree
from node.txid_filter import TxIdFilter
from proto import tamga_pb2 as pb

log = logging.getLogger("tamga.chain")

ZERO_HASH = bytes(32)
# Decoded, hash-checked state-tree nodes kept in memory (a few hundred MB at most): every
# write makes a new path of nodes, so a small cache soon evicts the leaves of records that
# are read again later, and each miss is a LevelDB read plus a hash check.
STATE_CACHE_NODES = 400_000
# Values of the head state by key (a "flat" read cache in front of the tree, like geth's
# snapshot layer): execution reads ~7 records per tx, and a tree read walks ~5 nodes. Filled
# from tree reads at the head root and from each committed block's writes, so every entry is
# the head's value; dropped wholesale when the head moves in any other way.
HEAD_VALUES_MAX = 200_000
# Header, last commit (a few hundred bytes per validator) and protobuf framing of the txs.
BLOCK_OVERHEAD_BYTES_MAX = 256 * 1024


@dataclasses.dataclass(frozen=True)
class Head:
    """The last committed block (height 0 is genesis: no block, the initial state)."""

    height: int
    block_hash: bytes
    time_ms: int
    state_root: bytes

    def encode(self) -> bytes:
        return codec.encode({"height": self.height, "hash": self.block_hash, "time_ms": self.time_ms, "state_root": self.state_root})

    @classmethod
    def decode(cls, data: bytes) -> "Head":
        d = codec.decode(data)
        return cls(d["height"], d["hash"], d["time_ms"], d["state_root"])


@dataclasses.dataclass
class Execution:
    """What executing a block's txs on the head state produced (nothing is written yet)."""

    state_root: bytes
    results_root: bytes
    receipts: list[pb.Receipt]
    block_events: list[pb.Event]
    receipt_list: bytes
    new_nodes: dict[bytes, bytes]
    writes: dict[bytes, bytes | None]
    wrote_revocation: bool = False  # some write revoked a certificate (Chain.revocation_epoch)


@dataclasses.dataclass
class PreparedBlock:
    """A block that has been built or validated against the current head, ready to commit."""

    height: int
    block_hash: bytes
    block_bytes: bytes
    header: pb.BlockHeader
    txs: list[VerifiedTx]
    execution: Execution


def _event_fields(ev: Event) -> dict:
    """A contract's event as the fields of its pb.Event (receipts' and the block's own)."""
    return {"kind": ev.kind, "data": codec.encode_trusted(dict(ev.data)), "recipients": ev.recipients}


def _writes_revocation(writes) -> bool:
    return any(k.startswith(schema.STATE_REVOKED_PREFIX) for k in writes)


def receipt_list_bytes(receipt_bytes: Sequence[bytes], block_events_bytes: bytes) -> bytes:
    """ReceiptList(receipts, block_events) serialized, from receipts serialized already (for
    the results root): protobuf writes a message as its fields in number order, and each
    receipt as field 1 (tag 0x0a), its length as a varint, then its bytes; the block events
    are field 2, which is what `block_events_bytes` (a ReceiptList of those alone) holds.
    Serializing every receipt a second time cost ~1 % of a node's CPU at saturation."""
    out = bytearray()
    for rb in receipt_bytes:
        out.append(0x0A)
        n = len(rb)
        while n > 0x7F:
            out.append(n & 0x7F | 0x80)
            n >>= 7
        out.append(n)
        out += rb
    out += block_events_bytes
    return bytes(out)


def results_root(receipts: Sequence[bytes], block_events_bytes: bytes, hash_fn) -> bytes:
    return merkle.root(list(receipts) + [block_events_bytes], hash_fn)


class Chain:
    """One node's copy of the ledger. Not thread-safe: one task drives it."""

    def __init__(self, kv: KeyValueStore, genesis: Genesis, executor: Executor):
        if genesis.app != executor.name:
            raise MalformedInput(f"genesis names application {genesis.app!r}; this node runs {executor.name!r}")
        self.kv = kv
        self.genesis = genesis
        self.executor = executor
        self.hash = genesis.hash_fn
        self.chain_id = genesis.chain_id
        self.validators = genesis.validators
        self.tree = StateTree(kv, self.hash, cache_size=STATE_CACHE_NODES)
        self._prepared: dict[bytes, PreparedBlock] = {}
        self._head_values: dict[bytes, bytes | None] = {}
        # Counts committed blocks that wrote a revocation: what a cache of is_revoked answers
        # is valid for (the mempool asks for every signer of every tx it admits).
        self.revocation_epoch = 0
        stored = kv.get(schema.META_GENESIS)
        if stored is None:
            self._init_chain()
        elif stored != genesis.to_json():
            raise StoreCorrupted("the store was created for another genesis document; use the right --data-dir or genesis")
        elif (found := kv.get(schema.META_FORMAT) or b"1") != schema.STORE_FORMAT:
            raise StoreCorrupted(
                f"the store is in format {found.decode(errors='replace')}, written by another version of Tamga; this one reads format "
                f"{schema.STORE_FORMAT.decode()}. Set it aside and fetch the chain again from the peers (blocks travel the same in every "
                "format): `tamga node resync --config FILE`, one node at a time; a local test consortium can instead be created afresh"
            )
        head = kv.get(schema.META_HEAD)
        if head is None:
            raise StoreCorrupted("the store has a genesis but no head record")
        self.head = Head.decode(head)
        dropped = kv.drop_history_above(self.head.height)
        if dropped:
            log.warning("dropped records above the head, written before a crash", extra=fields(height=self.head.height, records=dropped))
        self._tx_ids = TxIdFilter()
        for key, _ in kv.iterate(schema.TX_PREFIX):
            self._tx_ids.add(key[len(schema.TX_PREFIX):])

    # --- genesis ---------------------------------------------------------------------
    def genesis_state(self) -> tuple[bytes, dict[bytes, bytes]]:
        """The state root after init_chain, and the tree nodes it creates."""
        overlay = Overlay(ReadOnlyState(lambda key: None))
        ctx = BlockContext(self.chain_id, 0, self.genesis.genesis_time_ms, b"")
        self.executor.init_chain(self.genesis.app_state, overlay, ctx)
        return self.tree.update(EMPTY_ROOT, overlay.writes, height=0)

    def _init_chain(self) -> None:
        root, nodes = self.genesis_state()
        # Height 0's "block hash" is the genesis hash, so block 1's prev_hash commits to the
        # whole genesis document: a changed byte in it is caught by the auditor.
        head = Head(0, self.genesis.hash, self.genesis.genesis_time_ms, root)
        puts = dict(nodes)
        puts[schema.META_GENESIS] = self.genesis.to_json()
        puts[schema.META_FORMAT] = schema.STORE_FORMAT
        puts[schema.META_HEAD] = head.encode()
        self.kv.write(puts, sync=True)
        self.tree.remember(nodes)

    # --- reading ---------------------------------------------------------------------
    def state(self, root: bytes | None = None) -> ReadOnlyState:
        """The state at `root` (default: the head's)."""
        r = self.head.state_root if root is None else root
        return ReadOnlyState(lambda key: self._read(r, key))

    def _read(self, root: bytes, key: bytes) -> bytes | None:
        if root != self.head.state_root:  # an older state (or the head moved since)
            return self.tree.get(root, key)
        values = self._head_values
        if key in values:
            return values[key]
        value = self.tree.get(root, key)
        if len(values) >= HEAD_VALUES_MAX:
            # Oldest first (dicts keep insertion order): cheap, and good enough for a cache
            # whose hot part (the objects and people being dealt with) is refilled on use.
            for old in list(itertools.islice(values, HEAD_VALUES_MAX // 8)):
                del values[old]
        values[key] = value
        return value

    def block_bytes(self, height: int) -> bytes:
        data = self.kv.get(schema.block(height))
        if data is None:
            raise NotFound(f"no block at height {height}; the head is {self.head.height}")
        return data

    def block(self, height: int) -> tuple[pb.Block, pb.BlockHeader]:
        block = pb.Block.FromString(self.block_bytes(height))
        return block, pb.BlockHeader.FromString(block.header)

    def height_of(self, block_hash: bytes) -> int:
        data = self.kv.get(schema.height_of_hash(block_hash))
        if data is None:
            raise NotFound(f"no block with hash {block_hash.hex()}")
        return schema.read_u64(data)

    def commit_bytes(self, height: int) -> bytes:
        data = self.kv.get(schema.commit(height))
        if data is None:
            raise NotFound(f"no commit certificate at height {height}")
        return data

    def receipts(self, height: int) -> pb.ReceiptList:
        data = self.kv.get(schema.receipts(height))
        if data is None:
            raise NotFound(f"no receipts at height {height}")
        return pb.ReceiptList.FromString(data)

    def tx_location(self, tx_id: bytes) -> tuple[int, int] | None:
        if not self._tx_ids.may_contain(tx_id):
            return None  # nearly every lookup is of a new tx: spare LevelDB the miss
        data = self.kv.get(schema.tx(tx_id))
        return None if data is None else schema.read_tx_location(data)

    def tx(self, tx_id: bytes) -> tuple[int, int, bytes, pb.Receipt]:
        loc = self.tx_location(tx_id)
        if loc is None:
            raise NotFound(f"no committed transaction {tx_id.hex()}")
        height, index = loc
        block, _ = self.block(height)
        return height, index, block.txs[index], self.receipts(height).receipts[index]

    def is_revoked(self, fingerprint: bytes) -> bool:
        return self.state().get(schema.state_revoked(fingerprint)) is not None

    # --- building and validating -----------------------------------------------------
    def next_time(self, last_commit: pb.CommitCertificate | None) -> int:
        """Block time of the next block: BFT time of the previous commit, genesis time at 1."""
        if self.head.height == 0:
            return self.genesis.genesis_time_ms
        assert last_commit is not None
        return bft_time(last_commit, self.validators)

    def tx_bytes_budget(self) -> int:
        """How many bytes of envelopes a proposer may put in a block: the block limit less
        room for the header and the last commit, so its own block is never too large."""
        return int(self.genesis.consensus["block_bytes_max"]) - BLOCK_OVERHEAD_BYTES_MAX

    def _context(self, height: int, time_ms: int, proposer: bytes) -> BlockContext:
        return BlockContext(self.chain_id, height, time_ms, proposer)

    def execute(self, ctx: BlockContext, txs: Sequence[VerifiedTx]) -> Execution:
        """Run the block's txs on the head state. Writes nothing."""
        block_state = Overlay(self.state())
        block_events = [pb.Event(**_event_fields(e)) for e in self.executor.begin_block(ctx, block_state)]
        receipts: list[pb.Receipt] = []
        # Whether a certificate is revoked, as of this point of the block: looked up in the
        # tree once per certificate, forgotten whenever a tx writes a revocation.
        revoked: dict[bytes, bool] = {}
        wrote_revocation = _writes_revocation(block_state.writes)  # begin_block's writes
        for tx in txs:
            tx_state = block_state.child()
            receipt = pb.Receipt(tx_id=tx.tx_id)
            try:
                for signer in tx.signers:
                    signer.check_valid_at(ctx.time_ms)
                    fp = signer.fingerprint
                    if fp not in revoked:
                        revoked[fp] = tx_state.get(schema.state_revoked(fp)) is not None
                    if revoked[fp]:
                        raise CertificateRevoked(f"certificate of {signer.name} (serial {signer.serial}) was revoked before this block")
                # A proposer may include a tx no mempool admitted (validate_block verifies
                # only its envelope): its stateless checks, roles included, run here too.
                if not tx.admitted:
                    self.executor.check_tx(tx)
                outcome = self.executor.deliver_tx(ctx, tx, tx_state)
            except Refusal as refusal:
                receipt.status, receipt.code, receipt.message, receipt.article = "refused", refusal.code, refusal.message, refusal.article
            except StoreCorrupted:
                raise  # this node's own store is damaged: never turn that into a tx's outcome
            except TamgaError as err:
                receipt.status, receipt.code, receipt.message = "refused", err.code, err.message
            else:
                if _writes_revocation(tx_state.writes):
                    revoked.clear()
                    wrote_revocation = True
                tx_state.merge_into_parent()
                receipt.status, receipt.code, receipt.message, receipt.article = "applied", outcome.code, outcome.message, outcome.article
                add_event = receipt.events.add  # built in place: extend() would copy each message
                for e in outcome.events:
                    add_event(**_event_fields(e))
            receipts.append(receipt)
        state_root, new_nodes = self.tree.update(self.head.state_root, block_state.writes, height=ctx.height)
        receipt_bytes = [r.SerializeToString() for r in receipts]
        block_events_bytes = pb.ReceiptList(block_events=block_events).SerializeToString()
        receipt_list = receipt_list_bytes(receipt_bytes, block_events_bytes)
        return Execution(
            state_root=state_root,
            results_root=results_root(receipt_bytes, block_events_bytes, self.hash),
            receipts=receipts,
            block_events=block_events,
            receipt_list=receipt_list,
            new_nodes=new_nodes,
            writes=block_state.writes,
            wrote_revocation=wrote_revocation,
        )

    def _check_new_txs(self, txs: Sequence[VerifiedTx]) -> None:
        seen: set[bytes] = set()
        for tx in txs:
            if tx.tx_id in seen or self.tx_location(tx.tx_id) is not None:
                raise InvalidBlock(f"transaction {tx.tx_id.hex()} is already on the chain or twice in the block")
            seen.add(tx.tx_id)

    def build_block(self, txs: Sequence[VerifiedTx], proposer: bytes, last_commit: bytes = b"") -> PreparedBlock:
        """The proposer's block over `txs` (in this order) on top of the head."""
        height = self.head.height + 1
        commit = decode_commit(last_commit) if last_commit else None
        assert (commit is None) == (height == 1), "every block but the first carries the last commit"
        time_ms = self.next_time(commit)
        self._check_new_txs(txs)
        ctx = self._context(height, time_ms, proposer)
        execution = self.execute(ctx, txs)
        header = pb.BlockHeader(
            chain_id=self.chain_id,
            height=height,
            time_ms=time_ms,
            prev_hash=self.head.block_hash,
            tx_root=merkle.root([tx.envelope for tx in txs], self.hash),
            state_root=execution.state_root,
            validator_set_hash=self.genesis.validator_set_hash,
            proposer=proposer,
            last_commit_hash=self.hash(last_commit) if last_commit else ZERO_HASH,
            results_root=execution.results_root,
        )
        header_bytes = header.SerializeToString()
        block_bytes = pb.Block(header=header_bytes, txs=[tx.envelope for tx in txs], last_commit=last_commit).SerializeToString()
        prepared = PreparedBlock(height, self.hash(header_bytes), block_bytes, header, list(txs), execution)
        self._prepared[prepared.block_hash] = prepared
        return prepared

    def validate_block(self, block_bytes: bytes, verify_tx: Callable[[bytes], VerifiedTx]) -> PreparedBlock:
        """Check a proposed block against the head and re-execute it; InvalidBlock if wrong.

        `verify_tx` turns envelope bytes into a VerifiedTx (the runtime serves it from the
        txs it already verified, so each signature is checked once per node)."""
        try:
            block = pb.Block.FromString(block_bytes)
            header = pb.BlockHeader.FromString(block.header)
        except DecodeError as exc:
            raise InvalidBlock(f"block does not decode: {exc}") from None
        block_hash = self.hash(block.header)
        cached = self._prepared.get(block_hash)
        if cached is not None and cached.block_bytes == block_bytes:
            return cached
        self.check_header_links(header, block.last_commit)
        if header.validator_set_hash != self.genesis.validator_set_hash:
            raise InvalidBlock("block names another validator set")
        if header.proposer not in {v.public_key for v in self.validators}:
            raise InvalidBlock("block proposer is not a validator")
        if len(block_bytes) > int(self.genesis.consensus["block_bytes_max"]):
            raise InvalidBlock(f"block is {len(block_bytes)} bytes; the limit is {self.genesis.consensus['block_bytes_max']}")
        if len(block.txs) > int(self.genesis.consensus["block_txs_max"]):
            raise InvalidBlock(f"block has {len(block.txs)} txs; the limit is {self.genesis.consensus['block_txs_max']}")
        if header.tx_root != merkle.root(list(block.txs), self.hash):
            raise InvalidBlock("tx root does not match the block's transactions")
        try:
            txs = [verify_tx(env) for env in block.txs]
        except TamgaError as err:
            raise InvalidBlock(f"block carries an invalid transaction: {err}") from None
        self._check_new_txs(txs)
        execution = self.execute(self._context(header.height, header.time_ms, header.proposer), txs)
        if execution.state_root != header.state_root:
            raise InvalidBlock(f"state root mismatch at height {header.height}: re-execution gives {execution.state_root.hex()}")
        if execution.results_root != header.results_root:
            raise InvalidBlock(f"results root mismatch at height {header.height}")
        prepared = PreparedBlock(header.height, block_hash, block_bytes, header, txs, execution)
        self._prepared[block_hash] = prepared
        return prepared

    def check_header_links(self, header: pb.BlockHeader, last_commit: bytes) -> None:
        """The header continues the head: chain id, height, previous hash, last commit, time."""
        height = self.head.height + 1
        if header.chain_id != self.chain_id:
            raise InvalidBlock(f"block is for chain {header.chain_id!r}")
        if header.height != height:
            raise InvalidBlock(f"block height {header.height}, expected {height}")
        if header.prev_hash != self.head.block_hash:
            raise InvalidBlock(f"block at height {height} does not link to the head {self.head.block_hash.hex()}")
        if height == 1:
            if last_commit or header.last_commit_hash != ZERO_HASH:
                raise InvalidBlock("the first block carries no last commit")
            expected_time = self.genesis.genesis_time_ms
        else:
            commit = decode_commit(last_commit)
            verify_commit(self.chain_id, self.validators, height - 1, self.head.block_hash, commit)
            if header.last_commit_hash != self.hash(last_commit):
                raise InvalidBlock("last commit hash does not match the carried commit")
            expected_time = bft_time(commit, self.validators)
        if header.time_ms != expected_time:
            raise InvalidBlock(f"block time {header.time_ms} is not the BFT time {expected_time} of the last commit")
        if height > 1 and header.time_ms <= self.head.time_ms:
            raise InvalidBlock("block time does not increase")

    # --- committing ------------------------------------------------------------------
    def commit(self, prepared: PreparedBlock, commit: bytes) -> None:
        """Store a decided block with its commit certificate, in one synced atomic batch."""
        assert prepared.height == self.head.height + 1, "commit out of order"
        assert prepared.header.prev_hash == self.head.block_hash, "prepared on another head"
        verify_commit(self.chain_id, self.validators, prepared.height, prepared.block_hash, decode_commit(commit))
        for tx in prepared.txs:  # before the write: a reader must never see the tx but miss its id
            self._tx_ids.add(tx.tx_id)
        self.kv.write(self.commit_records(prepared, commit), sync=True)
        self.head = Head(prepared.height, prepared.block_hash, prepared.header.time_ms, prepared.execution.state_root)
        self.tree.remember(prepared.execution.new_nodes, root=prepared.execution.state_root)
        self._head_values.update(prepared.execution.writes)
        if prepared.execution.wrote_revocation:  # found while executing: no second pass over the writes
            self.revocation_epoch += 1
        self._prepared.clear()

    def commit_records(self, prepared: PreparedBlock, commit: bytes) -> dict[bytes, bytes]:
        """Every record committing `prepared` writes (the auditor recomputes the same)."""
        h = prepared.height
        puts = dict(prepared.execution.new_nodes)
        puts[schema.block(h)] = prepared.block_bytes
        puts[schema.height_of_hash(prepared.block_hash)] = schema.u64(h)
        puts[schema.commit(h)] = commit
        puts[schema.receipts(h)] = prepared.execution.receipt_list
        for i, tx in enumerate(prepared.txs):
            puts[schema.tx(tx.tx_id)] = schema.tx_location(h, i)
        puts[schema.META_HEAD] = Head(h, prepared.block_hash, prepared.header.time_ms, prepared.execution.state_root).encode()
        return puts

    def committed_tx_ids(self, tx_ids: Iterable[bytes]) -> set[bytes]:
        return {t for t in tx_ids if self.tx_location(t) is not None}
