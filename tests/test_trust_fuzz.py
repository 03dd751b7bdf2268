"""Trust suite (issue 7), hostile input: fuzzing the decoding of envelopes, payloads, wire
messages, blocks and commit certificates.

The property (tests/fuzz/targets.py): only a typed error from node/errors.py or a clean
result comes out, never another exception, and nothing is stored — head and store
unchanged, mempool unchanged unless the input was a valid new tx.

- hypothesis: arbitrary bytes and structured mutations of valid inputs for every target;
- atheris (libFuzzer): a bounded run of tests/fuzz/fuzz_envelope.py, the harness that is
  run by hand for long campaigns;
- regressions: every crashing input found is pinned here, as a file in
  tests/fuzz/regressions/ (<target>--<what>.bin) or as a code-built case.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from node import codec, signing
from node.envelope import EnvelopeVerifier, build_envelope
from node.errors import InvalidBlock, MalformedInput, TamgaError, UntrustedCertificate
from node.kv import MemoryStore
from proto import tamga_pb2 as pb
from tests.fuzz import targets as T
from tests.ledger_support import CHAIN_ID, SoloNode, TestPKI

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REGRESSIONS = os.path.join(ROOT, "tests", "fuzz", "regressions")
HARNESS = os.path.join(ROOT, "tests", "fuzz", "fuzz_envelope.py")
ATHERIS_RUNS = 15_000          # about 6 s here; long campaigns are run by hand
ATHERIS_TIMEOUT_S = 300        # a bound on the subprocess, not an expectation of speed

FUZZ = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture])


# cryptography warns about fuzzed certificates with a non-positive serial number
pytestmark = pytest.mark.filterwarnings("ignore::cryptography.utils.CryptographyDeprecationWarning")


@pytest.fixture(scope="module")
def world() -> T.World:
    return T.World()


def test_world_is_what_the_mutators_start_from(world: T.World):
    """The valid inputs the mutators start from are valid: the targets accept them."""
    assert world.chain.head.height == 2 and world.pending.tx_id in {t.tx_id for t in world.node.mempool.pending()}
    for env in world.envelopes:
        assert world.node.mempool.verifier.verify(env).tx_id
    assert T.check_envelope(world, world.envelopes[0]) == "verified/DUPLICATE_TX"
    assert T.check_block(world, world.next_block) == "valid"
    assert T.check_commit(world, world.commit) == "valid"
    assert T.check_codec(world, codec.encode({"a": [1, b"x", None]})) == "decoded"
    assert T.check_proto(world, world.next_block).startswith("decoded-")
    assert T.check_peer(world, world.peer_vote) == "vote"
    assert T.check_peer(world, world.peer_proposal) == "proposal/valid"
    assert T.check_peer(world, world.peer_status) == "status"
    assert T.check_peer(world, world.peer_txs) == "txs"


# --- hypothesis: arbitrary bytes ----------------------------------------------------------
@settings(FUZZ, max_examples=1000)
@given(data=st.binary(max_size=2048))
def test_arbitrary_bytes_as_envelope(world: T.World, data: bytes):
    T.check_envelope(world, data)


@settings(FUZZ, max_examples=1000)
@given(data=st.binary(max_size=512))
def test_arbitrary_bytes_as_canonical_msgpack(world: T.World, data: bytes):
    T.check_codec(world, data)


@settings(FUZZ, max_examples=1000)
@given(data=st.binary(max_size=1024))
def test_arbitrary_bytes_as_wire_messages(world: T.World, data: bytes):
    T.check_proto(world, data)


@settings(FUZZ, max_examples=600)
@given(data=st.binary(max_size=2048))
def test_arbitrary_bytes_as_block(world: T.World, data: bytes):
    T.check_block(world, data)


@settings(FUZZ, max_examples=800)
@given(data=st.binary(max_size=1024))
def test_arbitrary_bytes_as_commit_certificate(world: T.World, data: bytes):
    T.check_commit(world, data)


@settings(FUZZ, max_examples=800)
@given(data=st.binary(max_size=1024))
def test_arbitrary_bytes_as_peer_message(world: T.World, data: bytes):
    T.check_peer(world, data)


# --- hypothesis: structured mutations of valid inputs -------------------------------------
@settings(FUZZ, max_examples=1500)
@given(data=st.data())
def test_mutated_envelopes(world: T.World, data):
    """Flipped and truncated bytes, duplicated signatures, swapped and damaged certificates,
    huge counts, wrong chain id, non-canonical and deeply nested payloads, properly signed
    hostile bodies."""
    T.check_envelope(world, T.mutate_envelope(world, T.DrawChoices(data)))


@settings(FUZZ, max_examples=1000)
@given(data=st.data())
def test_non_canonical_and_nested_payloads(world: T.World, data):
    T.check_codec(world, T.payload_bytes(T.DrawChoices(data)))


@settings(FUZZ, max_examples=1000)
@given(data=st.data())
def test_mutated_blocks(world: T.World, data):
    """Damaged bytes, changed header fields, a Byzantine proposer's tx list (tx root
    recomputed), a changed last commit (its hash recomputed), too many txs."""
    T.check_block(world, T.mutate_block(world, T.DrawChoices(data)))


@settings(FUZZ, max_examples=1000)
@given(data=st.data())
def test_mutated_commit_certificates(world: T.World, data):
    T.check_commit(world, T.mutate_commit(world, T.DrawChoices(data)))


@settings(FUZZ, max_examples=800)
@given(data=st.data())
def test_mutated_peer_messages(world: T.World, data):
    """Votes, proposals, statuses and tx batches with out-of-range fields (negative vote
    types, pol_round, huge indexes), damaged hashes and signatures, hostile envelopes."""
    T.check_peer(world, T.mutate_peer_message(world, T.DrawChoices(data)))


def test_seeded_random_mutations_of_every_target(world: T.World):
    """A fixed sweep over every mutator (reproducible from its seeds) on top of the
    hypothesis runs, so each run covers every kind of mutation."""
    outcomes: dict[str, set[str]] = {}
    for seed in range(4_000):
        name = tuple(T.MUTATORS)[seed % len(T.MUTATORS)]
        try:
            outcome = T.TARGETS[name](world, T.MUTATORS[name](world, T.RandomChoices(seed)))
        except Exception as exc:
            raise AssertionError(f"seed {seed} ({name}) crashed: {exc!r}") from exc
        outcomes.setdefault(name, set()).add(outcome)
    # the sweep reaches both sides of the targets, so the property was not vacuous
    assert "INVALID_BLOCK" in outcomes["block"]
    assert {"MALFORMED", "vote", "status"} <= outcomes["peer"]
    assert {"valid", "INVALID_BLOCK"} <= outcomes["commit"]
    assert {"decoded", "MALFORMED"} <= outcomes["codec"]
    assert {"BAD_SIGNATURE/BAD_SIGNATURE", "UNTRUSTED_CERTIFICATE/UNTRUSTED_CERTIFICATE", "WRONG_CHAIN/WRONG_CHAIN", "TOO_LARGE/TOO_LARGE", "MALFORMED/MALFORMED"} <= outcomes["envelope"]


# --- specific hostile inputs --------------------------------------------------------------
@pytest.mark.parametrize("depth", [33, 127, 128, 1_000, 100_000])
def test_deeply_nested_payload_is_malformed(depth: int):
    with pytest.raises(MalformedInput):
        codec.decode(b"\x91" * depth + b"\xc0")
    with pytest.raises(MalformedInput):
        codec.decode(b"\x81\xa1a" * depth + b"\xc0")


@pytest.mark.parametrize(
    "payload",
    [
        b"\x82\xa1b\x01\xa1a\x02",              # keys out of order
        b"\x81\xa1a\xcf" + bytes(7) + b"\x05",  # uint64 for 5
        b"\x81\xa1a\xcb" + bytes(8),            # a float
        b"\x82\xa1a\x01\xa1a\x02",              # a duplicate key
        b"\x81\xc4\x01a\x01",                   # a bytes key
        b"\x81\xa1t\xd6\xff" + bytes(4),        # a timestamp extension
        b"\xdd\xff\xff\xff\xff",                # an array claiming 2**32-1 items
        codec.encode({"a": 1}) + b"\x00",       # trailing bytes
    ],
)
def test_signed_envelope_with_non_canonical_payload_is_refused(world: T.World, payload: bytes):
    body = pb.TxBody(chain_id=CHAIN_ID, kind="note.put", payload=payload, nonce=1).SerializeToString()
    env = world.signed(body, [world.alice])
    with pytest.raises(MalformedInput):
        world.node.mempool.verifier.verify(env)
    assert T.check_envelope(world, env) == "MALFORMED/MALFORMED"


# --- regressions --------------------------------------------------------------------------
REGRESSION_FILES = sorted(f for f in os.listdir(REGRESSIONS) if f.endswith(".bin"))


def test_regression_files_are_named_for_a_target():
    assert REGRESSION_FILES, "tests/fuzz/regressions/ holds the pinned crashing inputs"
    for name in REGRESSION_FILES:
        assert name.split("--")[0] in T.TARGETS, f"{name}: name it <target>--<what>.bin"


@pytest.mark.parametrize("name", REGRESSION_FILES)
def test_regression_input(world: T.World, name: str):
    with open(os.path.join(REGRESSIONS, name), "rb") as f:
        data = f.read()
    T.TARGETS[name.split("--")[0]](world, data)


@pytest.mark.parametrize("name", [f for f in REGRESSION_FILES if f.startswith("envelope--certificate-")])
def test_damaged_certificate_is_untrusted_not_a_crash(world: T.World, name: str):
    """Found by fuzzing: certificates that load but fail when their issuer or signature
    algorithm is read (node/pki.py parsed them lazily outside its try)."""
    with open(os.path.join(REGRESSIONS, name), "rb") as f:
        data = f.read()
    with pytest.raises(UntrustedCertificate):
        world.node.mempool.verifier.verify(data)


@pytest.mark.parametrize(
    "kind, payload, signer_roles, code",
    [
        ("bogus.kind", {"key": "k"}, ("citizen",), "UNKNOWN_KIND"),               # was AssertionError
        ("note.put", {"value": b"v"}, ("citizen",), "INVALID_PAYLOAD"),           # was KeyError 'key'
        ("note.delete", {"key": 5}, ("citizen",), "INVALID_PAYLOAD"),             # was AttributeError
        ("pki.revoke", {}, ("identity_officer",), "INVALID_PAYLOAD"),             # was KeyError 'fingerprint'
        ("pki.revoke", {"fingerprint": bytes(32)}, ("citizen",), "WRONG_ROLE"),   # was applied
    ],
)
def test_byzantine_proposer_cannot_smuggle_an_unchecked_tx(kind, payload, signer_roles, code):
    """Found by fuzzing Chain.validate_block: a proposer may include a validly signed tx no
    mempool admitted; validate_block verified only its envelope and execution ran the
    contract on it without its stateless checks — crashing every validator (unknown kind,
    malformed payload) or skipping the role check (a citizen revoking a certificate).
    Now the checks run in execution and such a tx gets a refused receipt."""
    pki = TestPKI()
    proposer_node = SoloNode(MemoryStore(), pki)
    validator_node = SoloNode(MemoryStore(), pki, genesis=proposer_node.genesis)
    signer = pki.party("Signer", roles=signer_roles)
    env = build_envelope(CHAIN_ID, kind, payload, [signer.pair], 1)
    unchecked = EnvelopeVerifier(CHAIN_ID, pki.verifier).verify(env)
    with pytest.raises(TamgaError):
        validator_node.mempool.add(env)  # an honest mempool would not admit it
    block = proposer_node.chain.build_block([unchecked], proposer_node.validator.public_key).block_bytes
    head = validator_node.chain.head
    prepared = validator_node.chain.validate_block(block, validator_node.mempool.verify_for_block)
    assert [(r.status, r.code) for r in prepared.execution.receipts] == [("refused", code)]
    assert prepared.execution.state_root == head.state_root  # the tx wrote nothing
    assert validator_node.chain.head == head
    # Committed, the refusal is what the chain records.
    ts = prepared.header.time_ms + 1
    commit = pb.CommitCertificate(height=1, round=0, block_hash=prepared.block_hash)
    commit.signatures.add(validator_index=0, timestamp_ms=ts, signature=validator_node.validator.sign("vote", CHAIN_ID, signing.vote_sign_bytes(pb.PRECOMMIT, 1, 0, prepared.block_hash, ts)))
    validator_node.chain.commit(prepared, commit.SerializeToString())
    assert validator_node.chain.receipts(1).receipts[0].code == code
    assert not validator_node.chain.is_revoked(bytes(32))


def test_mutated_block_with_an_unchecked_tx_is_invalid_not_a_crash(world: T.World):
    """The fuzzer's form of the case above: the honest block 3 plus a validly signed tx of
    an unknown kind, tx root recomputed, state and results roots left as they were."""
    block = pb.Block.FromString(world.next_block)
    header = pb.BlockHeader.FromString(block.header)
    block.txs.append(world.signed(pb.TxBody(chain_id=CHAIN_ID, kind="bogus.kind", payload=codec.encode({}), nonce=9).SerializeToString(), [world.alice]))
    data = T.rebuild_block(block, header, recompute_tx_root=True, hash_fn=world.chain.hash)
    with pytest.raises(InvalidBlock, match="results root mismatch"):
        world.chain.validate_block(data, world.node.mempool.verify_for_block)
    assert T.check_block(world, data) == "INVALID_BLOCK"


# --- atheris ------------------------------------------------------------------------------
def test_atheris_harness_bounded_run(tmp_path):
    """A short libFuzzer run of the harness: it must finish its runs without a crash."""
    import atheris  # noqa: F401  (a test dependency: the test fails, not skips, without it)

    corpus = tmp_path / "corpus"
    subprocess.run([sys.executable, HARNESS, "--write-seeds", str(corpus)], check=True, cwd=ROOT, timeout=ATHERIS_TIMEOUT_S)
    assert len(os.listdir(corpus)) == 6
    proc = subprocess.run(
        [sys.executable, HARNESS, f"-atheris_runs={ATHERIS_RUNS}", f"-artifact_prefix={tmp_path}/", "-max_len=4096", str(corpus)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=ATHERIS_TIMEOUT_S,
    )
    output = proc.stdout + proc.stderr
    crashes = [f for f in os.listdir(tmp_path) if f.startswith(("crash-", "leak-", "timeout-", "oom-"))]
    assert proc.returncode == 0 and not crashes, f"atheris found {crashes}; turn each into a regression with --explain:\n{output[-4000:]}"
    assert f"tamga-fuzz: {ATHERIS_RUNS} inputs, 0 crashes" in output
    counted = {m.group(1) for m in re.finditer(r"tamga-fuzz:\s+([a-z]+)\s+\S+\s+\d+", output)}
    assert counted == set(T.TARGETS), f"every target ran: {counted}"
