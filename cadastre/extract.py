"""Verifiable extracts: the electronic registration notice (Art 34.1-1) certified by the
consortium's signatures instead of one body's, checkable offline with no node.

An extract of object `cn` at height h is one canonical JSON document (sorted keys, no
spaces, UTF-8, then one newline) holding:
- "content": the registration sheet (kind "sheet") or the certificate of encumbrances
  (kind "encumbrances") exactly as contracts/queries.py derives it from the state;
- "records": a state-tree proof (node/state_tree.py) of every state record that view read,
  present or absent, against the state root of block h;
- "block": the header of block h and its commit certificate (2f+1 precommits);
- "validators": the validator set (names, keys, powers, organisations) and
  "validator_certificates": their TLS certificates, issued by the consortium CA, which carry
  each validator's Ed25519 key in an extension (node/pki.py): this binds the keys that
  signed the commit to the CA the reader trusts;
- "issued": which validator's node issued it, when; "signature": that node's Ed25519
  signature (domain tag "extract") over the document without the signature.

`verify(data, ca_pem)` checks, in order: the bytes are the canonical form of the document
(so no byte can change without changing what it says); the fields and their types; the
validator set against header.validator_set_hash; the validator certificates against the
CA (valid at the block's time, role validator, key as in the set); the commit certificate
(node/commit.verify_commit) for the header's hash, and that CA-certified validators alone
hold a quorum of the power that signed; the issuing node's signature; every proof against
header.state_root; and that running the same view on only the proven records reproduces
"content" exactly. Any altered byte fails one of these.

May import: node (commit, genesis, hashing, pki, signing, state_tree, errors), cadastre
(canon, source), proto.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any, Callable

from google.protobuf.message import DecodeError

from cadastre import canon, source
from node import signing
from node.commit import decode_commit, quorum_power, verify_commit
from node.errors import InvalidBlock, MalformedInput, NotFound, TamgaError
from node.genesis import Validator, validator_set_hash
from node.hashing import hasher
from node.pki import CertificateVerifier, der_from_pem, verifier_for
from node.state_tree import StateProof, verify_proof
from proto import tamga_pb2 as pb

EXTRACT_TYPE = "tamga.extract/1"
KINDS = ("sheet", "encumbrances")
EXTRACT_BYTES_MAX = 32 * 1024 * 1024
RECORDS_MAX = 100_000

_TOP_FIELDS = {
    "type": str, "kind": str, "chain_id": str, "hash_algorithm": str, "cadastral_number": str, "height": int,
    "block": dict, "validators": list, "validator_certificates": list, "records": list, "content": dict,
    "issued": dict, "signature": str,
}


class ExtractInvalid(TamgaError):
    """An extract that fails verification; the message says which check failed."""

    code = "EXTRACT_INVALID"


class ExtractsUnavailable(TamgaError):
    code = "EXTRACTS_UNAVAILABLE"
    http_status = 503


@dataclasses.dataclass(frozen=True)
class Verified:
    kind: str
    cadastral_number: str
    chain_id: str
    height: int
    time_ms: int
    block_hash: str
    state_root: str
    signed_by: tuple[str, ...]
    certified_power: int
    quorum: int
    issued_by: str
    records: int
    content: dict

    def to_dict(self) -> dict:
        return {k: (list(v) if isinstance(v, tuple) else v) for k, v in dataclasses.asdict(self).items()}


# --- building (at the node) -------------------------------------------------------------------
def signing_bytes(doc: dict) -> bytes:
    """What the issuing node signs: the canonical document without its signature."""
    return canon.dumps({k: v for k, v in doc.items() if k != "signature"}).encode()


def encode(doc: dict) -> bytes:
    """The extract's file bytes."""
    return canon.dumps(doc).encode() + b"\n"


def certificate_key(certificates: CertificateVerifier, pem: str) -> bytes | None:
    """The validator key a node TLS certificate issued by the CA carries, else None."""
    try:
        return certificates.credential(der_from_pem(pem.encode()), tls=True).public_key
    except Exception:  # noqa: BLE001 - any certificate the CA did not issue is simply left out
        return None


def build(chain, *, cn: str, kind: str, height: int | None, signer: signing.Signer, issuer: str, validator_certificates: list[str], now_ms: int) -> dict:
    """The extract of `cn` at `height` (default: the head). NotFound when the object did not
    exist at that height or no block is committed yet."""
    if kind not in KINDS:
        raise MalformedInput(f"extract kind must be one of {', '.join(KINDS)}")
    h = chain.head.height if height is None else height
    if h < 1 or h > chain.head.height:
        raise NotFound(f"no committed block at height {h}; extracts are certified by a block's commit (the head is {chain.head.height})")
    block, header = chain.block(h)
    commit = chain.commit_bytes(h)
    root = header.state_root
    recording = source.RecordingState(chain.state(root))
    content = source.VIEWS[kind](recording, cn)
    if content is None:
        raise NotFound(f"no object with cadastral number {cn} was registered at height {h}")
    index = next((i for i, v in enumerate(chain.validators) if v.public_key == signer.public_key), None)
    if index is None:
        raise ExtractsUnavailable("this node is not a validator, so it cannot certify extracts; ask a validator's node")
    keys = {v.public_key for v in chain.validators}
    ca = verifier_for(chain.genesis.ca_certificate_pem.encode())
    certs = sorted({pem for pem in validator_certificates if certificate_key(ca, pem) in keys})
    doc = {
        "type": EXTRACT_TYPE,
        "kind": kind,
        "chain_id": chain.chain_id,
        "hash_algorithm": chain.genesis.hash_algorithm,
        "cadastral_number": cn,
        "height": h,
        "block": {"header": block.header.hex(), "commit": commit.hex()},
        "validators": [v.to_dict() for v in chain.validators],
        "validator_certificates": certs,
        "records": [chain.tree.prove(root, k).to_dict() for k in recording.keys],
        "content": canon.jsonable(content),
        "issued": {"node": issuer, "validator_index": index, "time_ms": now_ms},
    }
    doc = canon.loads(canon.dumps(doc))
    doc["signature"] = signer.sign("extract", chain.chain_id, signing_bytes(doc)).hex()
    return doc


# --- verifying (offline) ----------------------------------------------------------------------
def _fail(what: str) -> None:
    raise ExtractInvalid(what)


def _hex(value: Any, what: str, length: int | None = None) -> bytes:
    if not isinstance(value, str):
        _fail(f"{what} must be a hex string")
    try:
        b = bytes.fromhex(value)
    except ValueError:
        _fail(f"{what} is not hex")
    if b.hex() != value:
        _fail(f"{what} is not lowercase hex without spaces")
    if length is not None and len(b) != length:
        _fail(f"{what} must be {length} bytes")
    return b


def _fields(d: Any, spec: dict[str, Any], what: str) -> dict:
    """`d` when it is an object with exactly the fields of `spec`, each of its type(s)."""
    if not isinstance(d, dict):
        _fail(f"{what} must be an object")
    if set(d) != set(spec):
        _fail(f"{what} must have exactly the fields {', '.join(sorted(spec))}")
    for k, t in spec.items():
        v = d[k]
        types = t if isinstance(t, tuple) else (t,)
        if not isinstance(v, types) or (int in types and isinstance(v, bool)):
            _fail(f"{what}.{k} must be {' or '.join(x.__name__ for x in types)}")
    return d


def _no_float(text: str):
    raise ValueError(f"numbers in an extract are integers, not {text}")


def parse(data: bytes) -> dict:
    """The document in `data`, if `data` is exactly its canonical encoding."""
    if len(data) > EXTRACT_BYTES_MAX:
        _fail(f"the extract is larger than {EXTRACT_BYTES_MAX} bytes")
    try:
        text = data.decode("utf-8")
        doc = json.loads(text, parse_float=_no_float, parse_constant=_no_float)
    except (UnicodeDecodeError, ValueError) as exc:
        _fail(f"the extract is not UTF-8 JSON: {exc}")
    if not isinstance(doc, dict):
        _fail("the extract must be a JSON object")
    try:
        canonical = encode(doc)
    except (AssertionError, TypeError, ValueError):
        _fail("the extract holds values JSON canonical form does not allow (floats?)")
    if canonical != data:
        _fail("the extract's bytes are not its canonical form: it was edited after it was issued")
    return doc


def verify(data: bytes, ca_pem: bytes, *, view: Callable[[str, Any, str], Any] | None = None) -> Verified:
    """Check an extract completely (see the module docstring); ExtractInvalid says what failed."""
    doc = parse(data)
    _fields(doc, _TOP_FIELDS, "extract")
    if doc["type"] != EXTRACT_TYPE:
        _fail(f"not a {EXTRACT_TYPE} document")
    if doc["kind"] not in KINDS:
        _fail(f"unknown extract kind {doc['kind']!r}")
    try:
        hash_fn = hasher(doc["hash_algorithm"])
    except ValueError as exc:
        _fail(str(exc))
    chain_id = doc["chain_id"]
    height = doc["height"]

    # The block: header bytes hash to the block hash the commit certificate signs.
    blk = _fields(doc["block"], {"header": str, "commit": str}, "block")
    header_bytes = _hex(blk["header"], "block.header")
    commit_bytes = _hex(blk["commit"], "block.commit")
    try:
        header = pb.BlockHeader.FromString(header_bytes)
    except DecodeError:
        _fail("block.header does not decode")
    if header.SerializeToString() != header_bytes:
        _fail("block.header is not in its canonical encoding")
    if header.chain_id != chain_id or header.height != height:
        _fail(f"the header is for chain {header.chain_id!r} height {header.height}, not {chain_id!r} height {height}")
    block_hash = hash_fn(header_bytes)

    # The validator set the header commits to.
    if not doc["validators"]:
        _fail("the extract names no validators")
    validators = []
    for i, v in enumerate(doc["validators"]):
        _fields(v, {"name": str, "public_key": str, "power": int, "organisation": str}, f"validators[{i}]")
        validators.append(Validator(v["name"], _hex(v["public_key"], f"validators[{i}].public_key", 32), v["power"], v["organisation"]))
        if v["power"] < 1:
            _fail(f"validators[{i}].power must be positive")
    if validator_set_hash(validators, hash_fn) != header.validator_set_hash:
        _fail("the validator set does not match the header's validator_set_hash")

    # Which validator keys the CA vouches for (their TLS certificates carry the key).
    certificates = CertificateVerifier(ca_pem)
    certified: set[bytes] = set()
    for i, pem in enumerate(doc["validator_certificates"]):
        if not isinstance(pem, str):
            _fail(f"validator_certificates[{i}] must be a PEM string")
        try:
            cred = certificates.credential(der_from_pem(pem.encode()), tls=True)
            cred.check_valid_at(header.time_ms)
        except Exception as exc:  # noqa: BLE001 - a verifier answers INVALID, never crashes
            # Besides typed errors and ValueError, node/pki.py lets cryptography's
            # UnsupportedAlgorithm through for a certificate naming an unknown algorithm.
            _fail(f"validator_certificates[{i}] is not a validator certificate of this CA valid at the block's time: {exc}")
        if not cred.has_role("validator"):
            _fail(f"validator_certificates[{i}] ({cred.name}) does not carry the validator role")
        if cred.public_key not in {v.public_key for v in validators}:
            _fail(f"validator_certificates[{i}] ({cred.name}) names a key outside the validator set")
        certified.add(cred.public_key)
    if doc["validator_certificates"] != sorted(set(doc["validator_certificates"])):
        _fail("validator_certificates must be sorted and distinct")

    # The commit certificate: 2f+1 precommits for this block, and enough of them certified.
    try:
        commit = decode_commit(commit_bytes)
        if commit.SerializeToString() != commit_bytes:
            _fail("block.commit is not in its canonical encoding")
        verify_commit(chain_id, validators, height, block_hash, commit)
    except InvalidBlock as exc:
        _fail(f"the commit certificate does not certify this block: {exc.message}")
    signers = [validators[s.validator_index] for s in commit.signatures]
    certified_power = sum(v.power for v in signers if v.public_key in certified)
    quorum = quorum_power(validators)
    if certified_power < quorum:
        _fail(
            f"validators certified by this CA signed with power {certified_power}; a commit needs {quorum}: "
            "the extract lacks their TLS certificates, or they are not this CA's"
        )

    # The issuing node's signature over the whole document.
    issued = _fields(doc["issued"], {"node": str, "validator_index": int, "time_ms": int}, "issued")
    if not 0 <= issued["validator_index"] < len(validators):
        _fail("issued.validator_index names no validator")
    issuer = validators[issued["validator_index"]]
    if issuer.public_key not in certified:
        _fail(f"the issuing node {issuer.name} has no certificate of this CA in the extract")
    sig = _hex(doc["signature"], "signature", 64)
    if not signing.verify(issuer.public_key, sig, "extract", chain_id, signing_bytes(doc)):
        _fail(f"the signature of the issuing node {issuer.name} does not verify")

    # Every record against the state root, then the view over the proven records only.
    if len(doc["records"]) > RECORDS_MAX:
        _fail(f"more than {RECORDS_MAX} records")
    values: dict[bytes, bytes | None] = {}
    for i, r in enumerate(doc["records"]):
        _fields(r, {"key": str, "value": (str, type(None)), "levels": list, "leaf": (dict, type(None))}, f"records[{i}]")
        for f in ("key", "value"):
            if r[f] is not None:
                _hex(r[f], f"records[{i}].{f}")
        try:
            proof = StateProof.from_dict(r)
        except MalformedInput as exc:
            _fail(f"records[{i}]: {exc.message}")
        if proof.to_dict() != r:
            _fail(f"records[{i}] is not in its canonical form")
        if proof.key in values:
            _fail(f"records[{i}] proves key {proof.key!r} twice")
        if not verify_proof(header.state_root, proof, hash_fn):
            _fail(f"records[{i}] (key {proof.key!r}) does not verify against the block's state root")
        values[proof.key] = proof.value
    proven = source.ProvenState(values)
    try:
        derived = (view or _default_view)(doc["kind"], proven, doc["cadastral_number"])
    except source.UnprovenRead as exc:
        _fail(f"the content needs records the extract does not prove: {exc.message}")
    except (TamgaError, AssertionError, KeyError, TypeError, ValueError) as exc:
        _fail(f"the proven records do not make up a {doc['kind']}: {exc}")
    if derived is None or canon.jsonable(derived) != doc["content"]:
        _fail("the content shown is not what the proven records say")
    if proven.read != set(values):
        _fail("the extract proves records its content does not rest on")
    return Verified(
        kind=doc["kind"],
        cadastral_number=doc["cadastral_number"],
        chain_id=chain_id,
        height=height,
        time_ms=header.time_ms,
        block_hash=block_hash.hex(),
        state_root=header.state_root.hex(),
        signed_by=tuple(v.name for v in signers),
        certified_power=certified_power,
        quorum=quorum,
        issued_by=issued["node"],
        records=len(values),
        content=doc["content"],
    )


def _default_view(kind: str, state, cn: str):
    return source.VIEWS[kind](state, cn)
