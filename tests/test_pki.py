"""The consortium PKI: certificates bind identity, role and key; foreign, expired, revoked
and wrong-role certificates are refused."""

from __future__ import annotations

import datetime

import pytest

from node import identity, pki, signing
from node.errors import CertificateExpired, CertificateRevoked, UntrustedCertificate, WrongRole
from tests.ledger_support import GENESIS_TIME, GENESIS_TIME_MS, TestPKI


def test_eds_certificate_binds_iin_bin_roles_and_key(test_pki: TestPKI):
    bank_bin = identity.make_bin(datetime.date(1994, 3, 1), 42)
    employee_iin = identity.make_iin(datetime.date(1985, 6, 2), "F", 7)
    party = test_pki.party("Aigerim Bekova", roles=("bank",), iin=employee_iin, bin=bank_bin, organisation="Halyk Bank")
    cred = test_pki.verifier.check(party.cert, GENESIS_TIME_MS)
    assert cred.iin == employee_iin and cred.bin == bank_bin
    assert cred.subject_id == bank_bin  # the organisation is the party
    assert cred.roles == ("bank",)
    assert cred.public_key == party.signer.public_key
    assert cred.fingerprint == pki.fingerprint(party.cert)
    cred.require_role("bank", "registrar")
    with pytest.raises(WrongRole, match="needs registrar"):
        cred.require_role("registrar")


def test_certificate_from_another_ca_is_refused(test_pki: TestPKI):
    other = TestPKI()
    foreign = other.party("Mallory")
    with pytest.raises(UntrustedCertificate):
        test_pki.verifier.credential(foreign.cert)


def test_forged_certificate_with_same_issuer_name_is_refused(test_pki: TestPKI):
    # a CA with the very same subject name but another key
    impostor = pki.CertificateAuthority.create("Tamga Test Root CA", GENESIS_TIME)
    signer = signing.Signer.generate()
    cert = impostor.issue_eds(signer.public_key, name="Eve", roles=["registrar"], iin=identity.make_iin(datetime.date(1990, 1, 1), "F", 1), not_before=GENESIS_TIME, not_after=GENESIS_TIME + datetime.timedelta(days=10))
    with pytest.raises(UntrustedCertificate, match="does not verify"):
        test_pki.verifier.credential(cert)


def test_expired_and_not_yet_valid_certificates_are_refused(test_pki: TestPKI):
    party = test_pki.party("Short-lived", days=2, not_before=GENESIS_TIME)
    day = 24 * 3600 * 1000
    test_pki.verifier.check(party.cert, GENESIS_TIME_MS + day)
    with pytest.raises(CertificateExpired, match="expired"):
        test_pki.verifier.check(party.cert, GENESIS_TIME_MS + 3 * day)
    with pytest.raises(CertificateExpired, match="not yet valid"):
        test_pki.verifier.check(party.cert, GENESIS_TIME_MS - day)


def test_revoked_certificate_is_refused(test_pki: TestPKI):
    party = test_pki.party("Lost key")
    revoked = {pki.fingerprint(party.cert)}
    with pytest.raises(CertificateRevoked):
        test_pki.verifier.check(party.cert, GENESIS_TIME_MS, revoked.__contains__)


def test_garbage_is_not_a_certificate(test_pki: TestPKI):
    with pytest.raises(UntrustedCertificate, match="DER"):
        test_pki.verifier.credential(b"\x30\x03garbage")


def test_tls_certificate_names_validator_key_and_is_not_an_eds_certificate(test_pki: TestPKI):
    key = pki.new_tls_key()
    validator = signing.Signer.generate()
    pem = test_pki.ca.issue_tls(key, name="node-moj", validator_key=validator.public_key, hosts=["localhost"], not_before=GENESIS_TIME, not_after=GENESIS_TIME + datetime.timedelta(days=365))
    der = pki.der_from_pem(pem)
    cred = test_pki.verifier.credential(der, tls=True)
    assert cred.public_key == validator.public_key
    assert cred.roles == ("validator",)
    with pytest.raises(UntrustedCertificate, match="not a eds"):
        test_pki.verifier.credential(der)


def test_a_certificate_is_parsed_and_checked_once_while_it_stays_cached():
    """certificates_checked counts distinct certificates checked against the CA: a second use
    of the same certificate is answered from the cache (node/pki.py, CERT_CACHE_SIZE)."""
    fresh = TestPKI()  # a CA of its own, so no other test has warmed this verifier
    a, b = fresh.party("Aigerim"), fresh.party("Berik")
    before = fresh.verifier.certificates_checked()
    fresh.verifier.credential(a.cert)
    fresh.verifier.credential(a.cert)
    assert fresh.verifier.certificates_checked() == before + 1
    fresh.verifier.credential(b.cert)
    assert fresh.verifier.certificates_checked() == before + 2
