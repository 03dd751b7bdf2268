"""Verifiable extracts: built at a node from the chain, checked offline against the CA with
no node. Any altered byte fails; so do another CA, missing validator certificates, a forger
outside the validator set, a node re-signing altered content, and proofs from another block."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cadastre import canon, extract
from cli.extract_cmd import extract as extract_cli
from contracts import builders as B
from contracts import queries
from node import signing
from node.kv import open_node_store
from tests.cadastre_support import CN, CN2, People, application_of, pledge, seal, solo_registry, tls_certificate
from tests.ledger_support import TestPKI

VALIDATOR = signing.Signer(bytes(range(32)))


class Registry:
    def __init__(self, path, test_pki):
        self.pki = test_pki
        self.people = p = People(test_pki)
        self.kv = open_node_store(path)
        self.node = solo_registry(self.kv, test_pki, p, validator=VALIDATOR)
        self.cert = tls_certificate(test_pki, VALIDATOR)
        _, r = seal(self.node, pledge(p), p.bank, p.owner)
        seal(self.node, B.application_decide(application_of(r), "register"), p.registrar)
        seal(self.node, B.claim_register(CN, p.stranger.iin, "lawsuit", "case 2-1/2026", [B.doc("c.pdf", b"c")]), p.stranger)

    def build(self, cn=CN, kind="sheet", height=None, certs=None, signer=VALIDATOR) -> dict:
        return extract.build(self.node.chain, cn=cn, kind=kind, height=height, signer=signer, issuer="solo",
                             validator_certificates=[self.cert] if certs is None else certs, now_ms=1_800_000_000_000)


@pytest.fixture(scope="module")
def reg(tmp_path_factory):
    r = Registry(tmp_path_factory.mktemp("extract") / "db", TestPKI())
    yield r
    r.kv.close()


@pytest.fixture(scope="module")
def good(reg) -> bytes:
    return extract.encode(reg.build())


def test_a_fresh_extract_verifies_and_shows_the_sheet(reg, good):
    v = extract.verify(good, reg.pki.ca.cert_pem)
    chain = reg.node.chain
    assert v.height == chain.head.height and v.cadastral_number == CN and v.kind == "sheet"
    assert v.block_hash == chain.head.block_hash.hex() and v.state_root == chain.head.state_root.hex()
    assert v.signed_by == ("solo",) and v.certified_power == v.quorum == 1
    assert v.content == canon.jsonable(queries.read_object(chain.state(), CN))
    assert v.content["encumbrances"]["pledges"][0]["pledgee"] == reg.people.bank_bin
    assert v.records >= 1 + len(v.content["history"])


def test_extract_of_encumbrances_and_of_an_older_height(reg):
    v = extract.verify(extract.encode(reg.build(kind="encumbrances")), reg.pki.ca.cert_pem)
    assert v.kind == "encumbrances" and v.content["encumbered"] is True
    old = extract.verify(extract.encode(reg.build(height=1)), reg.pki.ca.cert_pem)
    assert old.height == 1 and old.content["encumbrances"]["pledges"] == [] and old.content["pending_applications"]
    other = extract.verify(extract.encode(reg.build(cn=CN2)), reg.pki.ca.cert_pem)
    assert [h["id"] for h in other.content["rights"][0]["holders"]] == sorted([reg.people.owner.iin, reg.people.co_owner.iin])


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_any_altered_byte_fails_verification(reg, good, data):
    pos = data.draw(st.integers(0, len(good) - 1), label="position")
    new = data.draw(st.integers(0, 255).filter(lambda b: b != good[pos]), label="byte")
    bad = good[:pos] + bytes([new]) + good[pos + 1:]
    with pytest.raises(extract.ExtractInvalid):
        extract.verify(bad, reg.pki.ca.cert_pem)


def test_altered_bytes_across_the_whole_file_fail(reg, good):
    """A sweep over the file (every 37th byte, each field is hit), besides the random property."""
    for pos in range(0, len(good), 37):
        for new in (good[pos] ^ 0x01, ord("0") if good[pos] != ord("0") else ord("1")):
            bad = good[:pos] + bytes([new]) + good[pos + 1:]
            with pytest.raises(extract.ExtractInvalid):
                extract.verify(bad, reg.pki.ca.cert_pem)


def _resigned(reg, doc: dict, signer=VALIDATOR) -> bytes:
    doc = json.loads(json.dumps(doc))
    doc.pop("signature", None)
    doc["signature"] = signer.sign("extract", doc["chain_id"], extract.signing_bytes(doc)).hex()
    return extract.encode(doc)


def _reason(data: bytes, ca: bytes) -> str:
    with pytest.raises(extract.ExtractInvalid) as info:
        extract.verify(data, ca)
    return info.value.message


def test_a_node_resigning_altered_content_is_caught(reg):
    """Even the issuing validator cannot change what the sheet says: the proofs decide."""
    doc = reg.build()
    doc["content"]["rights"][0]["holders"][0]["id"] = reg.people.stranger.iin
    assert "not what the proven records say" in _reason(_resigned(reg, doc), reg.pki.ca.cert_pem)
    doc = reg.build()
    doc["records"][0]["value"] = doc["records"][0]["value"][:-2] + ("00" if doc["records"][0]["value"][-2:] != "00" else "01")
    assert "does not verify against the block's state root" in _reason(_resigned(reg, doc), reg.pki.ca.cert_pem)
    doc = reg.build()
    doc["records"] = doc["records"][:-1]
    assert "does not prove" in _reason(_resigned(reg, doc), reg.pki.ca.cert_pem)


def test_proofs_from_another_block_fail(reg):
    doc = reg.build()
    doc["records"] = reg.build(height=1)["records"]
    assert "state root" in _reason(_resigned(reg, doc), reg.pki.ca.cert_pem)


def test_another_ca_or_missing_certificates_fail(reg, good):
    assert "certif" in _reason(good, TestPKI().ca.cert_pem)
    no_certs = extract.encode(reg.build(certs=[]))
    assert "certified by this CA signed with power 0" in _reason(no_certs, reg.pki.ca.cert_pem)
    stranger_key = tls_certificate(reg.pki, signing.Signer.generate(), name="rogue")
    assert "certified by this CA signed with power 0" in _reason(extract.encode(reg.build(certs=[stranger_key])), reg.pki.ca.cert_pem)


def test_a_forger_outside_the_validator_set_fails(reg, tmp_path):
    """A forger runs their own chain (own validator key, the real CA named in genesis) and
    issues an extract: the CA never certified their key."""
    forger = signing.Signer.generate()
    kv = open_node_store(tmp_path / "forged")
    node = solo_registry(kv, reg.pki, reg.people, validator=forger)
    seal(node, pledge(reg.people), reg.people.bank, reg.people.owner)
    doc = extract.build(node.chain, cn=CN, kind="sheet", height=None, signer=forger, issuer="forger", validator_certificates=[reg.cert], now_ms=1)
    assert "power 0" in _reason(extract.encode(doc), reg.pki.ca.cert_pem)
    kv.close()


def test_reformatted_json_fails(reg, good):
    doc = json.loads(good)
    pretty = json.dumps(doc, indent=2, sort_keys=True).encode()
    assert "canonical" in _reason(pretty, reg.pki.ca.cert_pem)
    assert "canonical" in _reason(good.rstrip(b"\n"), reg.pki.ca.cert_pem)


def test_cli_verify_exit_codes(reg, good, tmp_path):
    f = tmp_path / "extract.json"
    f.write_bytes(good)
    ca = tmp_path / "ca.pem"
    ca.write_bytes(reg.pki.ca.cert_pem)
    runner = CliRunner()
    ok = runner.invoke(extract_cli, ["verify", str(f), "--ca", str(ca)])
    assert ok.exit_code == 0 and ok.output.startswith("VALID") and CN in ok.output
    as_json = runner.invoke(extract_cli, ["verify", str(f), "--ca", str(ca), "--json"])
    assert as_json.exit_code == 0 and json.loads(as_json.output)["valid"] is True
    f.write_bytes(good.replace(b'"solo"', b'"sole"', 1))
    bad = runner.invoke(extract_cli, ["verify", str(f), "--ca", str(ca)])
    assert bad.exit_code == 1 and bad.output.startswith("INVALID")
    missing = runner.invoke(extract_cli, ["verify", str(tmp_path / "nope.json"), "--ca", str(ca)])
    assert missing.exit_code == 2
    f.write_bytes(good)
    out = tmp_path / "page.html"
    rendered = runner.invoke(extract_cli, ["render", str(f), "--out", str(out)])
    assert rendered.exit_code == 0
    page = out.read_text()
    assert CN in page and "Section 3. Encumbrances" in page and 'id="tamga-extract"' in page


def test_a_consortium_commit_needs_a_certified_quorum(tmp_path, test_pki):
    """Four validators, three of whom sign the commit (the quorum is three): the CA must
    vouch for signers holding a quorum of power; the issuing node need not have signed."""
    from contracts import RegistryExecutor
    from node.chain import Chain
    from node.envelope import EnvelopeVerifier, build_envelope
    from node.genesis import Genesis, Validator
    from proto import tamga_pb2 as pb
    from tests.cadastre_support import register
    from tests.ledger_support import CHAIN_ID, GENESIS_TIME_MS

    people = People(test_pki)
    vals = [signing.Signer(bytes([i + 1]) * 32) for i in range(4)]
    genesis = Genesis(CHAIN_ID, GENESIS_TIME_MS, test_pki.ca.cert_pem.decode(), tuple(Validator(f"v{i}", s.public_key, 1, f"Operator {i}") for i, s in enumerate(vals)),
                      app="tamga-registry/1", app_state={"register": register(people)})
    kv = open_node_store(tmp_path / "db")
    chain = Chain(kv, genesis, RegistryExecutor())
    kind, payload = pledge(people)
    tx = EnvelopeVerifier(CHAIN_ID, test_pki.verifier).verify(build_envelope(CHAIN_ID, kind, payload, [people.bank.pair, people.owner.pair], 1))
    prepared = chain.build_block([tx], vals[0].public_key)
    commit = pb.CommitCertificate(height=1, round=0, block_hash=prepared.block_hash)
    for i in (0, 1, 2):
        ts = GENESIS_TIME_MS + 1000 + i
        msg = signing.vote_sign_bytes(pb.PRECOMMIT, 1, 0, prepared.block_hash, ts)
        commit.signatures.add(validator_index=i, timestamp_ms=ts, signature=vals[i].sign("vote", CHAIN_ID, msg))
    chain.commit(prepared, commit.SerializeToString())
    certs = [tls_certificate(test_pki, v, name=f"v{i}") for i, v in enumerate(vals)]
    ca = test_pki.ca.cert_pem

    def doc(cert_idx, issuer=0) -> bytes:
        return extract.encode(extract.build(chain, cn=CN, kind="encumbrances", height=1, signer=vals[issuer], issuer=f"v{issuer}",
                                            validator_certificates=[certs[i] for i in cert_idx], now_ms=1))

    v = extract.verify(doc([0, 1, 2]), ca)
    assert v.signed_by == ("v0", "v1", "v2") and v.certified_power == 3 == v.quorum
    assert extract.verify(doc([0, 1, 2, 3], issuer=3), ca).issued_by == "v3"
    assert "power 2; a commit needs 3" in _reason(doc([0, 1]), ca)
    assert "power 2; a commit needs 3" in _reason(doc([0, 1, 3]), ca)
    assert "no certificate of this CA" in _reason(doc([0, 1, 2], issuer=3), ca)
    kv.close()


def test_only_a_validators_node_issues_extracts(reg):
    with pytest.raises(extract.ExtractsUnavailable):
        reg.build(signer=signing.Signer.generate())
