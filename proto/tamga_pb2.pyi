from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class VoteType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    VOTE_TYPE_UNSPECIFIED: _ClassVar[VoteType]
    PREVOTE: _ClassVar[VoteType]
    PRECOMMIT: _ClassVar[VoteType]
VOTE_TYPE_UNSPECIFIED: VoteType
PREVOTE: VoteType
PRECOMMIT: VoteType

class TxBody(_message.Message):
    __slots__ = ("chain_id", "kind", "payload", "nonce", "memo")
    CHAIN_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    NONCE_FIELD_NUMBER: _ClassVar[int]
    MEMO_FIELD_NUMBER: _ClassVar[int]
    chain_id: str
    kind: str
    payload: bytes
    nonce: int
    memo: str
    def __init__(self, chain_id: _Optional[str] = ..., kind: _Optional[str] = ..., payload: _Optional[bytes] = ..., nonce: _Optional[int] = ..., memo: _Optional[str] = ...) -> None: ...

class Signature(_message.Message):
    __slots__ = ("certificate", "signature")
    CERTIFICATE_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    certificate: bytes
    signature: bytes
    def __init__(self, certificate: _Optional[bytes] = ..., signature: _Optional[bytes] = ...) -> None: ...

class Envelope(_message.Message):
    __slots__ = ("body", "signatures")
    BODY_FIELD_NUMBER: _ClassVar[int]
    SIGNATURES_FIELD_NUMBER: _ClassVar[int]
    body: bytes
    signatures: _containers.RepeatedCompositeFieldContainer[Signature]
    def __init__(self, body: _Optional[bytes] = ..., signatures: _Optional[_Iterable[_Union[Signature, _Mapping]]] = ...) -> None: ...

class TxBatch(_message.Message):
    __slots__ = ("envelopes",)
    ENVELOPES_FIELD_NUMBER: _ClassVar[int]
    envelopes: _containers.RepeatedScalarFieldContainer[bytes]
    def __init__(self, envelopes: _Optional[_Iterable[bytes]] = ...) -> None: ...

class BlockHeader(_message.Message):
    __slots__ = ("chain_id", "height", "time_ms", "prev_hash", "tx_root", "state_root", "validator_set_hash", "proposer", "last_commit_hash", "results_root")
    CHAIN_ID_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    TIME_MS_FIELD_NUMBER: _ClassVar[int]
    PREV_HASH_FIELD_NUMBER: _ClassVar[int]
    TX_ROOT_FIELD_NUMBER: _ClassVar[int]
    STATE_ROOT_FIELD_NUMBER: _ClassVar[int]
    VALIDATOR_SET_HASH_FIELD_NUMBER: _ClassVar[int]
    PROPOSER_FIELD_NUMBER: _ClassVar[int]
    LAST_COMMIT_HASH_FIELD_NUMBER: _ClassVar[int]
    RESULTS_ROOT_FIELD_NUMBER: _ClassVar[int]
    chain_id: str
    height: int
    time_ms: int
    prev_hash: bytes
    tx_root: bytes
    state_root: bytes
    validator_set_hash: bytes
    proposer: bytes
    last_commit_hash: bytes
    results_root: bytes
    def __init__(self, chain_id: _Optional[str] = ..., height: _Optional[int] = ..., time_ms: _Optional[int] = ..., prev_hash: _Optional[bytes] = ..., tx_root: _Optional[bytes] = ..., state_root: _Optional[bytes] = ..., validator_set_hash: _Optional[bytes] = ..., proposer: _Optional[bytes] = ..., last_commit_hash: _Optional[bytes] = ..., results_root: _Optional[bytes] = ...) -> None: ...

class Block(_message.Message):
    __slots__ = ("header", "txs", "last_commit")
    HEADER_FIELD_NUMBER: _ClassVar[int]
    TXS_FIELD_NUMBER: _ClassVar[int]
    LAST_COMMIT_FIELD_NUMBER: _ClassVar[int]
    header: bytes
    txs: _containers.RepeatedScalarFieldContainer[bytes]
    last_commit: bytes
    def __init__(self, header: _Optional[bytes] = ..., txs: _Optional[_Iterable[bytes]] = ..., last_commit: _Optional[bytes] = ...) -> None: ...

class Vote(_message.Message):
    __slots__ = ("type", "height", "round", "block_hash", "timestamp_ms", "validator_index", "signature")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    ROUND_FIELD_NUMBER: _ClassVar[int]
    BLOCK_HASH_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_MS_FIELD_NUMBER: _ClassVar[int]
    VALIDATOR_INDEX_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    type: VoteType
    height: int
    round: int
    block_hash: bytes
    timestamp_ms: int
    validator_index: int
    signature: bytes
    def __init__(self, type: _Optional[_Union[VoteType, str]] = ..., height: _Optional[int] = ..., round: _Optional[int] = ..., block_hash: _Optional[bytes] = ..., timestamp_ms: _Optional[int] = ..., validator_index: _Optional[int] = ..., signature: _Optional[bytes] = ...) -> None: ...

class CommitSig(_message.Message):
    __slots__ = ("validator_index", "timestamp_ms", "signature")
    VALIDATOR_INDEX_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_MS_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    validator_index: int
    timestamp_ms: int
    signature: bytes
    def __init__(self, validator_index: _Optional[int] = ..., timestamp_ms: _Optional[int] = ..., signature: _Optional[bytes] = ...) -> None: ...

class CommitCertificate(_message.Message):
    __slots__ = ("height", "round", "block_hash", "signatures")
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    ROUND_FIELD_NUMBER: _ClassVar[int]
    BLOCK_HASH_FIELD_NUMBER: _ClassVar[int]
    SIGNATURES_FIELD_NUMBER: _ClassVar[int]
    height: int
    round: int
    block_hash: bytes
    signatures: _containers.RepeatedCompositeFieldContainer[CommitSig]
    def __init__(self, height: _Optional[int] = ..., round: _Optional[int] = ..., block_hash: _Optional[bytes] = ..., signatures: _Optional[_Iterable[_Union[CommitSig, _Mapping]]] = ...) -> None: ...

class Proposal(_message.Message):
    __slots__ = ("height", "round", "pol_round", "block", "proposer_index", "signature")
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    ROUND_FIELD_NUMBER: _ClassVar[int]
    POL_ROUND_FIELD_NUMBER: _ClassVar[int]
    BLOCK_FIELD_NUMBER: _ClassVar[int]
    PROPOSER_INDEX_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    height: int
    round: int
    pol_round: int
    block: bytes
    proposer_index: int
    signature: bytes
    def __init__(self, height: _Optional[int] = ..., round: _Optional[int] = ..., pol_round: _Optional[int] = ..., block: _Optional[bytes] = ..., proposer_index: _Optional[int] = ..., signature: _Optional[bytes] = ...) -> None: ...

class Evidence(_message.Message):
    __slots__ = ("first", "second")
    FIRST_FIELD_NUMBER: _ClassVar[int]
    SECOND_FIELD_NUMBER: _ClassVar[int]
    first: Vote
    second: Vote
    def __init__(self, first: _Optional[_Union[Vote, _Mapping]] = ..., second: _Optional[_Union[Vote, _Mapping]] = ...) -> None: ...

class PeerMessage(_message.Message):
    __slots__ = ("proposal", "vote", "txs", "status")
    PROPOSAL_FIELD_NUMBER: _ClassVar[int]
    VOTE_FIELD_NUMBER: _ClassVar[int]
    TXS_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    proposal: Proposal
    vote: Vote
    txs: TxBatch
    status: PeerStatus
    def __init__(self, proposal: _Optional[_Union[Proposal, _Mapping]] = ..., vote: _Optional[_Union[Vote, _Mapping]] = ..., txs: _Optional[_Union[TxBatch, _Mapping]] = ..., status: _Optional[_Union[PeerStatus, _Mapping]] = ...) -> None: ...

class PeerStatus(_message.Message):
    __slots__ = ("height", "round", "head_hash")
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    ROUND_FIELD_NUMBER: _ClassVar[int]
    HEAD_HASH_FIELD_NUMBER: _ClassVar[int]
    height: int
    round: int
    head_hash: bytes
    def __init__(self, height: _Optional[int] = ..., round: _Optional[int] = ..., head_hash: _Optional[bytes] = ...) -> None: ...

class Event(_message.Message):
    __slots__ = ("kind", "data", "recipients")
    KIND_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    RECIPIENTS_FIELD_NUMBER: _ClassVar[int]
    kind: str
    data: bytes
    recipients: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, kind: _Optional[str] = ..., data: _Optional[bytes] = ..., recipients: _Optional[_Iterable[str]] = ...) -> None: ...

class Receipt(_message.Message):
    __slots__ = ("tx_id", "status", "code", "message", "article", "events")
    TX_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    ARTICLE_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    tx_id: bytes
    status: str
    code: str
    message: str
    article: str
    events: _containers.RepeatedCompositeFieldContainer[Event]
    def __init__(self, tx_id: _Optional[bytes] = ..., status: _Optional[str] = ..., code: _Optional[str] = ..., message: _Optional[str] = ..., article: _Optional[str] = ..., events: _Optional[_Iterable[_Union[Event, _Mapping]]] = ...) -> None: ...

class SubmitResponse(_message.Message):
    __slots__ = ("tx_id", "code", "message")
    TX_ID_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    tx_id: bytes
    code: str
    message: str
    def __init__(self, tx_id: _Optional[bytes] = ..., code: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

class GetBlockRequest(_message.Message):
    __slots__ = ("height", "hash")
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    HASH_FIELD_NUMBER: _ClassVar[int]
    height: int
    hash: bytes
    def __init__(self, height: _Optional[int] = ..., hash: _Optional[bytes] = ...) -> None: ...

class GetBlockResponse(_message.Message):
    __slots__ = ("block", "commit", "receipts")
    BLOCK_FIELD_NUMBER: _ClassVar[int]
    COMMIT_FIELD_NUMBER: _ClassVar[int]
    RECEIPTS_FIELD_NUMBER: _ClassVar[int]
    block: bytes
    commit: bytes
    receipts: bytes
    def __init__(self, block: _Optional[bytes] = ..., commit: _Optional[bytes] = ..., receipts: _Optional[bytes] = ...) -> None: ...

class ReceiptList(_message.Message):
    __slots__ = ("receipts", "block_events")
    RECEIPTS_FIELD_NUMBER: _ClassVar[int]
    BLOCK_EVENTS_FIELD_NUMBER: _ClassVar[int]
    receipts: _containers.RepeatedCompositeFieldContainer[Receipt]
    block_events: _containers.RepeatedCompositeFieldContainer[Event]
    def __init__(self, receipts: _Optional[_Iterable[_Union[Receipt, _Mapping]]] = ..., block_events: _Optional[_Iterable[_Union[Event, _Mapping]]] = ...) -> None: ...

class GetTxRequest(_message.Message):
    __slots__ = ("tx_id",)
    TX_ID_FIELD_NUMBER: _ClassVar[int]
    tx_id: bytes
    def __init__(self, tx_id: _Optional[bytes] = ...) -> None: ...

class GetTxResponse(_message.Message):
    __slots__ = ("height", "index", "envelope", "receipt")
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    INDEX_FIELD_NUMBER: _ClassVar[int]
    ENVELOPE_FIELD_NUMBER: _ClassVar[int]
    RECEIPT_FIELD_NUMBER: _ClassVar[int]
    height: int
    index: int
    envelope: bytes
    receipt: Receipt
    def __init__(self, height: _Optional[int] = ..., index: _Optional[int] = ..., envelope: _Optional[bytes] = ..., receipt: _Optional[_Union[Receipt, _Mapping]] = ...) -> None: ...

class StatusRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class NodeStatus(_message.Message):
    __slots__ = ("chain_id", "height", "head_hash", "state_root", "round", "mempool_size", "peers", "node_name")
    CHAIN_ID_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    HEAD_HASH_FIELD_NUMBER: _ClassVar[int]
    STATE_ROOT_FIELD_NUMBER: _ClassVar[int]
    ROUND_FIELD_NUMBER: _ClassVar[int]
    MEMPOOL_SIZE_FIELD_NUMBER: _ClassVar[int]
    PEERS_FIELD_NUMBER: _ClassVar[int]
    NODE_NAME_FIELD_NUMBER: _ClassVar[int]
    chain_id: str
    height: int
    head_hash: bytes
    state_root: bytes
    round: int
    mempool_size: int
    peers: _containers.RepeatedScalarFieldContainer[str]
    node_name: str
    def __init__(self, chain_id: _Optional[str] = ..., height: _Optional[int] = ..., head_hash: _Optional[bytes] = ..., state_root: _Optional[bytes] = ..., round: _Optional[int] = ..., mempool_size: _Optional[int] = ..., peers: _Optional[_Iterable[str]] = ..., node_name: _Optional[str] = ...) -> None: ...

class WaitTxRequest(_message.Message):
    __slots__ = ("tx_id", "timeout_ms")
    TX_ID_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_MS_FIELD_NUMBER: _ClassVar[int]
    tx_id: bytes
    timeout_ms: int
    def __init__(self, tx_id: _Optional[bytes] = ..., timeout_ms: _Optional[int] = ...) -> None: ...

class SubscribeRequest(_message.Message):
    __slots__ = ("from_height", "recipients", "timestamp_ms", "certificate", "signature")
    FROM_HEIGHT_FIELD_NUMBER: _ClassVar[int]
    RECIPIENTS_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_MS_FIELD_NUMBER: _ClassVar[int]
    CERTIFICATE_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    from_height: int
    recipients: _containers.RepeatedScalarFieldContainer[str]
    timestamp_ms: int
    certificate: bytes
    signature: bytes
    def __init__(self, from_height: _Optional[int] = ..., recipients: _Optional[_Iterable[str]] = ..., timestamp_ms: _Optional[int] = ..., certificate: _Optional[bytes] = ..., signature: _Optional[bytes] = ...) -> None: ...

class Notification(_message.Message):
    __slots__ = ("height", "tx_id", "event")
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    TX_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    height: int
    tx_id: bytes
    event: Event
    def __init__(self, height: _Optional[int] = ..., tx_id: _Optional[bytes] = ..., event: _Optional[_Union[Event, _Mapping]] = ...) -> None: ...

class SubmitAndWaitRequest(_message.Message):
    __slots__ = ("envelope", "timeout_ms")
    ENVELOPE_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_MS_FIELD_NUMBER: _ClassVar[int]
    envelope: bytes
    timeout_ms: int
    def __init__(self, envelope: _Optional[bytes] = ..., timeout_ms: _Optional[int] = ...) -> None: ...

class SubmitItem(_message.Message):
    __slots__ = ("envelope", "timeout_ms", "ref")
    ENVELOPE_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_MS_FIELD_NUMBER: _ClassVar[int]
    REF_FIELD_NUMBER: _ClassVar[int]
    envelope: bytes
    timeout_ms: int
    ref: int
    def __init__(self, envelope: _Optional[bytes] = ..., timeout_ms: _Optional[int] = ..., ref: _Optional[int] = ...) -> None: ...

class SubmitStreamRequest(_message.Message):
    __slots__ = ("items",)
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[SubmitItem]
    def __init__(self, items: _Optional[_Iterable[_Union[SubmitItem, _Mapping]]] = ...) -> None: ...

class SubmitResult(_message.Message):
    __slots__ = ("ref", "tx_id", "tx", "code", "message")
    REF_FIELD_NUMBER: _ClassVar[int]
    TX_ID_FIELD_NUMBER: _ClassVar[int]
    TX_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    ref: int
    tx_id: bytes
    tx: GetTxResponse
    code: str
    message: str
    def __init__(self, ref: _Optional[int] = ..., tx_id: _Optional[bytes] = ..., tx: _Optional[_Union[GetTxResponse, _Mapping]] = ..., code: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

class SubmitStreamResponse(_message.Message):
    __slots__ = ("results",)
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[SubmitResult]
    def __init__(self, results: _Optional[_Iterable[_Union[SubmitResult, _Mapping]]] = ...) -> None: ...

class Ack(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class SyncRequest(_message.Message):
    __slots__ = ("from_height", "max_blocks")
    FROM_HEIGHT_FIELD_NUMBER: _ClassVar[int]
    MAX_BLOCKS_FIELD_NUMBER: _ClassVar[int]
    from_height: int
    max_blocks: int
    def __init__(self, from_height: _Optional[int] = ..., max_blocks: _Optional[int] = ...) -> None: ...

class SyncBlock(_message.Message):
    __slots__ = ("block", "commit")
    BLOCK_FIELD_NUMBER: _ClassVar[int]
    COMMIT_FIELD_NUMBER: _ClassVar[int]
    block: bytes
    commit: bytes
    def __init__(self, block: _Optional[bytes] = ..., commit: _Optional[bytes] = ...) -> None: ...
