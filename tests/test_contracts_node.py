"""The registration contracts inside a real one-validator node: real certificates, Ed25519
signatures, envelopes, the mempool, the state tree, on LevelDB and in memory. Checks the
contracts plug into node.chain as the node expects (genesis app "tamga-registry/1")."""

from __future__ import annotations

import datetime

import pytest

from contracts import RegistryExecutor, builders as B, queries
from node import identity, pki, signing
from node.errors import CertificateRevoked, WrongRole
from tests.contracts_support import land
from tests.ledger_support import SoloNode, solo_genesis

CN = "21-320-030-406"


def test_pledge_flow_and_lost_key_in_a_real_node(kv, test_pki):
    owner_iin = identity.make_iin(datetime.date(1985, 4, 12), "F", 77)
    owner = test_pki.party("Aigerim", ("citizen",), iin=owner_iin)
    bank_bin = identity.make_bin(datetime.date(1993, 1, 1), 12)
    bank = test_pki.party("Halyk officer", ("bank",), iin=identity.make_iin(datetime.date(1979, 1, 1), "M", 5),
                          bin=bank_bin, organisation="Halyk Bank")
    registrar = test_pki.party("Registrar", ("registrar",), iin=identity.make_iin(datetime.date(1990, 2, 2), "F", 9),
                               bin=identity.make_bin(datetime.date(2016, 1, 1), 1), organisation="Government for Citizens")
    officer = test_pki.party("Identity officer", ("identity_officer",), iin=identity.make_iin(datetime.date(1991, 3, 3), "M", 10),
                             bin=identity.make_bin(datetime.date(2016, 1, 1), 1))
    # Genesis is JSON: the register carries no bytes (documents' hashes are optional there).
    genesis = solo_genesis(test_pki, signing.Signer(bytes(range(32))), app="tamga-registry/1",
                           app_state={"register": [land(CN, B.holder(owner_iin))]})
    node = SoloNode(kv, test_pki, genesis=genesis, executor=RegistryExecutor())
    assert queries.read_object(node.chain.state(), CN)["rights"][0]["holders"][0]["id"] == owner_iin

    with pytest.raises(WrongRole):            # the mempool runs check_tx: a citizen cannot decide
        node.submit(*B.application_decide(1, "register"), owner)
    node.submit(*B.pledge_file(CN, bank_bin, 10_000_000_00,
                               "2036-01-01", "loan 1", [B.doc("title.pdf", b"title")]), bank, owner)
    node.sealer.seal()
    receipt = node.chain.receipts(1).receipts[0]
    assert (receipt.status, receipt.code) == ("applied", "FILED")
    number = queries.read_object(node.chain.state(), CN)["pending_applications"][0]
    node.submit(*B.application_decide(number, "register"), registrar)
    node.sealer.seal()
    receipt = node.chain.receipts(2).receipts[0]
    assert (receipt.status, receipt.code) == ("applied", "REGISTERED")
    assert {e.kind for e in receipt.events} == {"application.registered"}
    assert "MOJ" in receipt.events[0].recipients
    cert = queries.encumbrance_certificate(node.chain.state(), CN)
    assert cert["encumbered"] and cert["pledges"][0]["amount_tiyn"] == 10_000_000_00

    # Lost key: the officer revokes the old certificate; the node then refuses its signatures.
    old_fp = pki.fingerprint(owner.cert)
    new_owner = test_pki.party("Aigerim", ("citizen",), iin=owner_iin)
    node.submit(*B.identity_replace_key(owner_iin, old_fp, pki.fingerprint(new_owner.cert), "in_person", B.doc("id", b"id")), officer)
    node.sealer.seal()
    assert node.chain.is_revoked(old_fp)
    with pytest.raises(CertificateRevoked):
        node.submit(*B.stop_request(CN, "loss_risk", "lost my key"), owner)
    node.submit(*B.stop_request(CN, "loss_risk", "lost my key"), new_owner)
    node.sealer.seal()
    assert queries.encumbrance_certificate(node.chain.state(), CN)["temporary_stop"]["ground"] == "loss_risk"
